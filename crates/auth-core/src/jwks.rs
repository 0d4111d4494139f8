//! The JWKS key source: Better Auth's public keys, fetched from
//! `${BETTER_AUTH_URL}/api/auth/jwks` (or `AUTH_JWKS_URL`) and cached.
//!
//! - A background task loads the set at start-up (retrying after 0.25 s,
//!   0.5 s, 1 s… up to the cooldown until it succeeds) and then refreshes it
//!   every refresh interval.
//! - A token naming an unknown `kid` triggers a refetch: concurrent misses
//!   share one fetch (single-flight), and such fetches happen at most once
//!   per cooldown, so a flood of made-up `kid`s costs at most one fetch per
//!   cooldown.
//! - A failed fetch (unreachable, slow, not 200, too large, not a JWKS)
//!   keeps the last good set. A successful fetch replaces it: a key no longer
//!   published is no longer trusted.
//! - Responses are bounded in size and time; redirects are not followed.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::http_fetch;
use crate::jwk::{KeySet, Lookup};
use crate::jwt::{PinnedKey, TokenHeader};
use crate::{SettingsError, TokenError};

/// The first retry delay while no key set is loaded.
const FIRST_RETRY: Duration = Duration::from_millis(250);

/// The longest one JWKS fetch may take, body included; a token naming an
/// unknown key may wait this long for the refetch (callers that verify
/// through another service give it at least this long, see the edge).
pub const JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// How the JWKS is fetched and kept fresh.
#[derive(Debug, Clone)]
pub struct JwksOptions {
    /// Where the JWKS is (`AUTH_JWKS_URL`, or `${BETTER_AUTH_URL}/api/auth/jwks`).
    pub url: String,
    /// How often the set is refetched in the background (`AUTH_JWKS_REFRESH_SECS`).
    pub refresh_interval: Duration,
    /// The least time between two refetches caused by unknown `kid`s
    /// (`AUTH_JWKS_REFETCH_COOLDOWN_SECS`).
    pub refetch_cooldown: Duration,
    /// The longest one fetch may take, body included.
    pub fetch_timeout: Duration,
    /// The largest response body accepted.
    pub max_response_bytes: usize,
}

impl JwksOptions {
    /// Defaults: refresh every 300 s, cooldown 30 s, 5 s timeout, 256 KiB.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            refresh_interval: Duration::from_secs(300),
            refetch_cooldown: Duration::from_secs(30),
            fetch_timeout: JWKS_FETCH_TIMEOUT,
            max_response_bytes: 256 * 1024,
        }
    }

    /// Whether [`Jwks::start`] can use these options: an http(s) URL with a
    /// host, and non-zero intervals (the settings ask for whole seconds).
    pub fn check(&self) -> Result<(), SettingsError> {
        let url = reqwest::Url::parse(&self.url)
            .map_err(|error| SettingsError::InvalidJwksUrl(self.url.clone(), error.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(SettingsError::InvalidJwksUrl(
                self.url.clone(),
                "it must be an http:// or https:// URL".to_owned(),
            ));
        }
        if self.refetch_cooldown.is_zero() || self.refresh_interval.is_zero() {
            return Err(SettingsError::JwksIntervalZero);
        }
        Ok(())
    }
}

/// A cached, self-refreshing JWKS. Cheap to clone; the background task stops
/// once every clone is dropped.
#[derive(Clone)]
pub struct Jwks {
    inner: Arc<Inner>,
}

struct Inner {
    options: JwksOptions,
    client: reqwest::Client,
    /// The last good set, `None` until one has been fetched.
    current: RwLock<Option<Arc<KeySet>>>,
    /// Bumped after every fetch attempt, successful or not.
    generation: AtomicU64,
    /// Bumped after `current` is replaced (cached verifications made under
    /// an older value are no longer used).
    key_sets: AtomicU64,
    /// Held during a fetch: one fetch at a time (single-flight).
    gate: tokio::sync::Mutex<Gate>,
    status: Mutex<Status>,
    fetches: AtomicU64,
    ready: watch::Sender<bool>,
}

#[derive(Default)]
struct Gate {
    last_on_demand: Option<Instant>,
}

#[derive(Default)]
struct Status {
    last_error: Option<String>,
    last_success: Option<Instant>,
    /// Unsupported keys already logged, so each is reported once.
    reported: HashSet<String>,
    summary: Vec<String>,
}

impl Jwks {
    /// Checks the options, and starts the background task that loads and
    /// refreshes the set. Needs a Tokio runtime.
    pub fn start(options: JwksOptions) -> Result<Self, SettingsError> {
        options.check()?;
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| SettingsError::NoRuntime)?;
        let client = http_fetch::client(options.fetch_timeout)?;
        let inner = Arc::new(Inner {
            options,
            client,
            current: RwLock::new(None),
            generation: AtomicU64::new(0),
            key_sets: AtomicU64::new(0),
            gate: tokio::sync::Mutex::new(Gate::default()),
            status: Mutex::new(Status::default()),
            fetches: AtomicU64::new(0),
            ready: watch::Sender::new(false),
        });
        crate::metrics::jwks_started();
        runtime.spawn(keep_fresh(Arc::downgrade(&inner)));
        Ok(Self { inner })
    }

    /// The key for a token with this (already inspected) header, refetching
    /// the set once if the token names a key we do not know (that refetch
    /// completes even if the caller stops waiting).
    pub async fn resolve(&self, header: &TokenHeader) -> Result<Arc<PinnedKey>, TokenError> {
        let inner = &self.inner;
        let seen = inner.generation.load(Ordering::Acquire);
        if let Some(found) = inner.lookup(header) {
            return found;
        }
        // The refetch runs as its own task: a caller that goes away (a client
        // hanging up, a gRPC deadline) does not cancel it half-way, which
        // would leave the cooldown started and the new keys unfetched.
        let refetch = Arc::clone(inner);
        let _ = tokio::spawn(async move { refetch.refetch_after_miss(seen).await }).await;
        match inner.lookup(header) {
            Some(found) => found,
            None if inner.snapshot().is_some() => Err(TokenError::UnknownKey),
            None => Err(TokenError::KeysUnavailable),
        }
    }

    /// Why a token whose header names an algorithm we refuse cannot be
    /// verified, when the set publishes a key of that algorithm.
    pub fn unsupported_algorithm(&self, alg: &str) -> Option<String> {
        self.inner.snapshot()?.unsupported_algorithm(alg)
    }

    /// `Ok` once a set with at least one usable key is loaded; otherwise
    /// what is wrong (last fetch error, unsupported keys).
    pub fn readiness(&self) -> Result<(), String> {
        let inner = &self.inner;
        let set = inner.snapshot();
        let status = inner.status();
        let mut detail = match &set {
            Some(set) if set.usable() > 0 => return Ok(()),
            Some(_) => format!("the JWKS at {} has no usable key", inner.options.url),
            None => format!("JWKS keys not loaded yet from {}", inner.options.url),
        };
        if let Some(error) = &status.last_error {
            detail.push_str(&format!(" (last fetch: {error})"));
        }
        for key in set.iter().flat_map(|set| set.unsupported()) {
            detail.push_str("; ");
            detail.push_str(&key.describe());
        }
        Err(detail)
    }

    /// Things an operator should know even while ready: published keys that
    /// are not used, and a failing refresh (the last good set stays in use).
    pub fn warnings(&self) -> Vec<String> {
        let inner = &self.inner;
        let Some(set) = inner.snapshot() else {
            return Vec::new();
        };
        let mut warnings: Vec<String> = set.unsupported().iter().map(|k| k.describe()).collect();
        let status = inner.status();
        if let (Some(error), Some(success)) = (&status.last_error, status.last_success) {
            warnings.push(format!(
                "the last JWKS refresh failed ({error}); using the keys fetched {} s ago",
                success.elapsed().as_secs()
            ));
        }
        warnings
    }

    /// The state behind readiness, for the admin listener (never the public
    /// port): URL, usable key ids, unused keys, the last fetch error, the
    /// age of the set and the number of fetches.
    pub fn details(&self) -> serde_json::Value {
        let inner = &self.inner;
        let set = inner.snapshot();
        let status = inner.status();
        serde_json::json!({
            "url": inner.options.url,
            "keys": set.as_ref().map(|set| set.summary()).unwrap_or_default(),
            "unused_keys": set.iter().flat_map(|set| set.unsupported()).map(|k| k.describe()).collect::<Vec<_>>(),
            "last_fetch_error": status.last_error,
            "seconds_since_last_success": status.last_success.map(|at| at.elapsed().as_secs()),
            "fetches": self.fetch_count(),
        })
    }

    /// Sets the key set's age gauge ([`crate::metrics::JWKS_SINCE_SUCCESS`]).
    pub fn sample_metrics(&self) {
        if let Some(at) = self.inner.status().last_success {
            crate::metrics::jwks_age(at.elapsed());
        }
    }

    /// Readiness as it changes: `true` once a usable set is loaded.
    pub fn watch_ready(&self) -> watch::Receiver<bool> {
        self.inner.ready.subscribe()
    }

    /// How many fetches have been attempted since start-up.
    pub fn fetch_count(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// Changes each time a fetched key set replaces the one in use.
    pub fn key_set_generation(&self) -> u64 {
        self.inner.key_sets.load(Ordering::Acquire)
    }

    /// The JWKS URL in use.
    pub fn url(&self) -> &str {
        &self.inner.options.url
    }
}

impl Inner {
    fn snapshot(&self) -> Option<Arc<KeySet>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn status(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The answer for this header from the current set, or `None` when the
    /// set has nothing for it (or no set is loaded).
    fn lookup(&self, header: &TokenHeader) -> Option<Result<Arc<PinnedKey>, TokenError>> {
        match self.snapshot()?.lookup(header) {
            Lookup::Found(key) => Some(Ok(key)),
            Lookup::Unsupported(reason) => Some(Err(TokenError::UnsupportedKey(reason))),
            Lookup::Ambiguous => Some(Err(TokenError::AmbiguousKey)),
            Lookup::Missing => None,
        }
    }

    /// Refetches after a token named an unknown key, unless a fetch finished
    /// since the caller looked (it then retries against that), or one was
    /// caused by a miss less than a cooldown ago.
    async fn refetch_after_miss(&self, seen: u64) {
        let mut gate = self.gate.lock().await;
        if self.generation.load(Ordering::Acquire) != seen {
            return;
        }
        let cooldown = self.options.refetch_cooldown;
        if gate
            .last_on_demand
            .is_some_and(|at| at.elapsed() < cooldown)
        {
            return;
        }
        gate.last_on_demand = Some(Instant::now());
        tracing::info!(url = %self.options.url, "a token names an unknown key: refetching the JWKS");
        self.fetch_and_store().await;
    }

    /// The periodic fetch; `true` if the set is now fresh and usable.
    async fn refresh(&self) -> bool {
        let seen = self.generation.load(Ordering::Acquire);
        let _gate = self.gate.lock().await;
        if self.generation.load(Ordering::Acquire) == seen {
            self.fetch_and_store().await;
        }
        self.status().last_error.is_none() && *self.ready.borrow()
    }

    async fn fetch_and_store(&self) {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let result = self.fetch().await.and_then(|body| KeySet::parse(&body));
        match result {
            Ok(set) => {
                crate::metrics::jwks_fetch(Some(set.usable()));
                self.store(set);
            }
            Err(error) => {
                crate::metrics::jwks_fetch(None);
                let had_keys = self.snapshot().is_some();
                tracing::warn!(
                    url = %self.options.url,
                    %error,
                    "JWKS fetch failed; {}",
                    if had_keys { "keeping the last good key set" } else { "no keys loaded yet" }
                );
                self.status().last_error = Some(error);
            }
        }
        self.generation.fetch_add(1, Ordering::Release);
        let ready = self.snapshot().is_some_and(|set| set.usable() > 0);
        self.ready
            .send_if_modified(|was| std::mem::replace(was, ready) != ready);
    }

    fn store(&self, set: KeySet) {
        {
            let mut status = self.status();
            for key in set.unsupported() {
                if status.reported.insert(key.describe()) {
                    tracing::warn!(url = %self.options.url, "{}", key.describe());
                }
            }
            let summary = set.summary();
            if summary != status.summary {
                tracing::info!(url = %self.options.url, keys = ?summary, "JWKS loaded");
                status.summary = summary;
            }
            if set.usable() == 0 {
                tracing::warn!(url = %self.options.url, "the JWKS has no usable key");
            }
            status.last_error = None;
            status.last_success = Some(Instant::now());
        }
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(set));
        self.key_sets.fetch_add(1, Ordering::Release);
    }

    /// One bounded GET of the JWKS.
    async fn fetch(&self) -> Result<Vec<u8>, String> {
        let timeout = self.options.fetch_timeout;
        let response = self
            .client
            .get(&self.options.url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|error| http_fetch::describe(error, timeout))?;
        http_fetch::body(response, self.options.max_response_bytes, timeout).await
    }
}

/// Loads the set, then keeps it fresh, until every [`Jwks`] handle is gone.
async fn keep_fresh(inner: Weak<Inner>) {
    let mut retry = FIRST_RETRY;
    loop {
        let delay = {
            let Some(inner) = inner.upgrade() else { return };
            let cap = inner
                .options
                .refetch_cooldown
                .min(inner.options.refresh_interval);
            if inner.refresh().await {
                retry = FIRST_RETRY;
                inner.options.refresh_interval
            } else {
                let delay = retry.min(cap);
                retry = (retry * 2).min(cap);
                delay
            }
        };
        tokio::time::sleep(delay).await;
    }
}
