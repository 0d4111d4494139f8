//! Ended sessions: tokens whose `sid` names a session that was signed out or
//! revoked are refused, by every replica, within about a poll interval.
//!
//! The web app (which owns Better Auth's session table) records every ended
//! session and serves them at `GET /api/internal/revocations`, behind the
//! shared `AUTH_REVOCATION_SECRET`. [`RevokedSessions`] polls that feed in
//! the background (every `AUTH_REVOCATION_POLL_MS`, 1 s by default) and keeps
//! the set in memory: the check on a request is one hash lookup, no network.
//!
//! - Each poll asks for the changes since the last answer's cursor; every
//!   `AUTH_REVOCATION_RESYNC_SECS` the whole set is fetched and replaces the
//!   one held (covering anything an incremental read could have missed).
//! - A failed poll changes nothing: the next one asks from the same cursor,
//!   so an outage loses no revocation.
//! - An entry is dropped once no token carrying its `sid` can still be
//!   valid (the feed says when: the session's end plus the token lifetime
//!   plus the leeway).
//! - Fail closed: until the first successful sync, and whenever the last one
//!   is older than `AUTH_REVOCATION_MAX_STALE_SECS`, tokens carrying a `sid`
//!   are refused as "try again" (503, never a verdict on the token) and the
//!   replica is not ready. Tokens without `sid` are not affected.

mod feed;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use tokio::sync::watch;

use crate::{SettingsError, TokenError};

use feed::Feed;

/// How the revocation feed is polled.
#[derive(Debug, Clone)]
pub struct RevocationOptions {
    /// `AUTH_REVOCATION_URL`, or `${BETTER_AUTH_URL}/api/internal/revocations`.
    pub url: String,
    /// `AUTH_REVOCATION_SECRET`, sent as `Authorization: Bearer …`.
    pub secret: SecretString,
    /// `AUTH_REVOCATION_POLL_MS`: the time between two polls.
    pub poll_interval: Duration,
    /// `AUTH_REVOCATION_RESYNC_SECS`: how often the whole set is fetched.
    pub resync_interval: Duration,
    /// `AUTH_REVOCATION_MAX_STALE_SECS`: the oldest sync tokens with `sid`
    /// are still judged against.
    pub max_stale: Duration,
    /// The longest one poll may take, body included.
    pub fetch_timeout: Duration,
    /// The largest answer accepted.
    pub max_response_bytes: usize,
}

impl RevocationOptions {
    /// Defaults: poll every 1 s, full resync every 60 s, stale after 30 s,
    /// 5 s timeout, 32 MiB.
    pub fn new(url: impl Into<String>, secret: SecretString) -> Self {
        Self {
            url: url.into(),
            secret,
            poll_interval: Duration::from_secs(1),
            resync_interval: Duration::from_secs(60),
            max_stale: Duration::from_secs(30),
            fetch_timeout: Duration::from_secs(5),
            max_response_bytes: 32 * 1024 * 1024,
        }
    }
}

/// The revoked session ids, kept in step with the web app's feed. Cheap to
/// clone; the background task stops once every clone is dropped.
#[derive(Clone)]
pub struct RevokedSessions {
    inner: Arc<Inner>,
}

struct Inner {
    feed: Feed,
    options: RevocationOptions,
    /// Session id → the Unix time after which it may be forgotten.
    revoked: RwLock<HashMap<String, i64>>,
    /// When the last successful poll ended, in ms since `started` plus one
    /// (0: never): read on every request, so an atomic, not the mutex.
    synced_at: AtomicU64,
    started: Instant,
    status: Mutex<Status>,
    ready: watch::Sender<bool>,
}

#[derive(Default)]
struct Status {
    last_success: Option<Instant>,
    last_error: Option<String>,
    polls: u64,
}

impl RevokedSessions {
    /// Starts polling in the background (needs a Tokio runtime).
    pub fn start(options: RevocationOptions) -> Result<Self, SettingsError> {
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| SettingsError::NoRuntime)?;
        let inner = Arc::new(Inner {
            feed: Feed::new(&options)?,
            options,
            revoked: RwLock::new(HashMap::new()),
            synced_at: AtomicU64::new(0),
            started: Instant::now(),
            status: Mutex::new(Status::default()),
            ready: watch::Sender::new(false),
        });
        runtime.spawn(keep_in_step(Arc::downgrade(&inner)));
        Ok(Self { inner })
    }

    /// A set that never syncs, holding these ids: for benchmarks and tests
    /// of the check alone.
    pub fn fixed(ids: impl IntoIterator<Item = String>) -> Self {
        let mut options = RevocationOptions::new("http://unused.invalid", SecretString::from(""));
        options.max_stale = Duration::MAX;
        let inner = Arc::new(Inner {
            feed: Feed::unused(),
            options,
            revoked: RwLock::new(ids.into_iter().map(|id| (id, i64::MAX)).collect()),
            synced_at: AtomicU64::new(1),
            started: Instant::now(),
            status: Mutex::new(Status {
                last_success: Some(Instant::now()),
                ..Status::default()
            }),
            ready: watch::Sender::new(true),
        });
        Self { inner }
    }

    /// `Ok` unless the session `sid` has ended; `RevocationsUnavailable`
    /// while the set is not known to be current.
    pub fn check(&self, sid: &str) -> Result<(), TokenError> {
        if !self.inner.current() {
            return Err(TokenError::RevocationsUnavailable);
        }
        let revoked = self
            .inner
            .revoked
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        match revoked.contains_key(sid) {
            true => Err(TokenError::SessionEnded),
            false => Ok(()),
        }
    }

    /// `Ok` once synced and not stale; otherwise what is wrong.
    pub fn readiness(&self) -> Result<(), String> {
        if self.inner.current() {
            return Ok(());
        }
        let status = self.inner.status();
        let mut detail = match status.last_success {
            None => format!(
                "ended sessions not loaded yet from {}",
                self.inner.options.url
            ),
            Some(at) => format!(
                "ended sessions last loaded {} s ago from {}",
                at.elapsed().as_secs(),
                self.inner.options.url
            ),
        };
        if let Some(error) = &status.last_error {
            detail.push_str(&format!(" (last poll: {error})"));
        }
        Err(detail)
    }

    /// A failing poll while still current.
    pub fn warning(&self) -> Option<String> {
        let status = self.inner.status();
        let error = status.last_error.as_ref()?;
        let at = status.last_success?;
        Some(format!(
            "the last poll of ended sessions failed ({error}); using the list loaded {} ms ago",
            at.elapsed().as_millis()
        ))
    }

    /// Readiness as it changes.
    pub fn watch_ready(&self) -> watch::Receiver<bool> {
        self.inner.ready.subscribe()
    }

    /// Polls attempted so far.
    pub fn poll_count(&self) -> u64 {
        self.inner.status().polls
    }

    /// How many ended sessions are held.
    pub fn len(&self) -> usize {
        self.inner
            .revoked
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no ended session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Inner {
    fn status(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Synced, and not longer ago than `max_stale`.
    fn current(&self) -> bool {
        match self.synced_at.load(Ordering::Acquire) {
            0 => false,
            at => {
                let age = self
                    .started
                    .elapsed()
                    .as_millis()
                    .saturating_sub(u128::from(at - 1));
                age <= self.options.max_stale.as_millis()
            }
        }
    }

    /// One poll: from `cursor`, or the whole set when `None`. Returns the
    /// next cursor, or `None` when the poll failed.
    async fn poll(&self, cursor: Option<u64>) -> Option<u64> {
        let result = self.feed.fetch(cursor).await;
        let next = match result {
            Ok(answer) => {
                let now = unix_now();
                let mut revoked = self.revoked.write().unwrap_or_else(PoisonError::into_inner);
                if answer.full {
                    revoked.clear();
                }
                for entry in answer.revoked {
                    if entry.exp >= now {
                        revoked.insert(entry.sid, entry.exp);
                    }
                }
                revoked.retain(|_, exp| *exp >= now);
                let held = revoked.len();
                drop(revoked);
                let mut status = self.status();
                if status.last_success.is_none() || status.last_error.is_some() {
                    tracing::info!(url = %self.options.url, ended_sessions = held, "ended sessions loaded");
                }
                status.last_success = Some(Instant::now());
                status.last_error = None;
                let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
                self.synced_at.store(now + 1, Ordering::Release);
                Some(answer.cursor)
            }
            Err(error) => {
                let mut status = self.status();
                if status.last_error.as_deref() != Some(error.as_str()) {
                    tracing::warn!(url = %self.options.url, %error, "polling ended sessions failed");
                }
                status.last_error = Some(error);
                None
            }
        };
        self.status().polls += 1;
        let ready = self.current();
        self.ready
            .send_if_modified(|was| std::mem::replace(was, ready) != ready);
        next
    }
}

/// Polls until every [`RevokedSessions`] handle is gone.
async fn keep_in_step(inner: Weak<Inner>) {
    let mut cursor: Option<u64> = None;
    let mut last_full: Option<Instant> = None;
    loop {
        let delay = {
            let Some(inner) = inner.upgrade() else { return };
            let full = last_full.is_none_or(|at| at.elapsed() >= inner.options.resync_interval);
            let started = Instant::now();
            if let Some(next) = inner.poll(if full { None } else { cursor }).await {
                cursor = Some(next);
                if full {
                    last_full = Some(started);
                }
            }
            inner.options.poll_interval
        };
        tokio::time::sleep(delay).await;
    }
}

fn unix_now() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(i64::MAX)
}
