//! A gRPC channel balanced over every address the upstream URLs resolve to.
//!
//! A background task resolves each URL's host again every `resolve_interval`
//! (or at once when a call asks for it after a failure), checks every address
//! with the standard gRPC health protocol (service `""`), and inserts or
//! removes the balanced channel's endpoints by address:
//!
//! - a new address (a replica that came up) is used once it answers SERVING;
//! - an address that stops answering, or no longer resolves, is dropped while
//!   at least one other answers;
//! - when none answers, every known address stays in, so calls fail at once
//!   with a connect error (503) instead of waiting for a ready endpoint; a
//!   host that has never resolved is kept in by its URL for the same reason.
//!
//! The first round only resolves (no health check), so start-up needs no
//! round trip; later rounds gate on health.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tonic::transport::channel::Change;
use tonic::transport::{Channel, Endpoint, Uri};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// Changes waiting for the balancer (it reads them when a call arrives).
const CHANGE_CAPACITY: usize = 1024;
/// The least time between the starts of two rounds, however many failed
/// calls ask for one.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// What resolving `host:port` may return.
pub type ResolveFuture = Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>>;
/// Resolves `host:port` to socket addresses: the system resolver
/// ([`dns`]), or a fake in tests.
pub type Resolver = Arc<dyn Fn(String) -> ResolveFuture + Send + Sync>;

/// The system resolver (`tokio::net::lookup_host`).
pub fn dns() -> Resolver {
    Arc::new(|authority: String| {
        Box::pin(async move { Ok(tokio::net::lookup_host(authority).await?.collect()) })
    })
}

/// How a [`Pool`] connects and how often it looks again.
#[derive(Debug, Clone)]
pub struct Options {
    /// For logs: which upstream this is.
    pub name: &'static str,
    /// The longest wait for a TCP connection, a resolution or a health check.
    pub connect_timeout: Duration,
    /// How often hosts are resolved again and addresses health-checked.
    pub resolve_interval: Duration,
}

/// One URL of the list.
#[derive(Debug, Clone)]
struct Target {
    url: String,
    scheme: String,
    /// `host:port`, as the resolver takes it.
    authority: String,
    origin: Uri,
}

/// An endpoint of the balanced channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Key {
    /// A resolved address.
    Addr(SocketAddr),
    /// The URL of target `n`, whose host has never resolved: connecting to it
    /// fails fast (and succeeds once the name appears).
    Unresolved(usize),
}

/// Progress of the background task, for callers that wait on it.
#[derive(Debug, Clone, Copy, Default)]
struct Rounds {
    started: u64,
    completed: u64,
    endpoints: usize,
}

/// The balanced channel and a handle on the task that keeps it current.
/// Cheap to clone; the task ends when the last clone of the channel is
/// dropped.
#[derive(Clone)]
pub struct Pool {
    channel: Channel,
    rounds: watch::Receiver<Rounds>,
    refresh: Arc<Notify>,
}

impl Pool {
    /// A pool over `urls`, resolved by the system resolver. Needs a Tokio
    /// runtime.
    pub fn new(urls: &Urls, options: Options) -> Self {
        Self::with_resolver(urls, options, dns())
    }

    /// Like [`Pool::new`], with another resolver.
    pub fn with_resolver(urls: &Urls, options: Options, resolver: Resolver) -> Self {
        let targets = urls.0.clone();
        let (channel, changes) = Channel::balance_channel::<Key>(CHANGE_CAPACITY);
        let (rounds_tx, rounds) = watch::channel(Rounds::default());
        let refresh = Arc::new(Notify::new());
        let keeper = Keeper {
            targets,
            options,
            resolver,
            changes,
            rounds: rounds_tx,
            refresh: refresh.clone(),
        };
        tokio::spawn(keeper.run());
        Self {
            channel,
            rounds,
            refresh,
        }
    }

    /// The balanced channel.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// How many endpoints the channel balances over, once the first round
    /// is done; None when `deadline` passes first.
    pub async fn endpoints(&self, deadline: Instant) -> Option<usize> {
        // Every call asks: once the first round is done, answer without a
        // receiver of its own or a timer.
        let done = *self.rounds.borrow();
        if done.completed >= 1 {
            return Some(done.endpoints);
        }
        let mut rounds = self.rounds.clone();
        let done = tokio::time::timeout_at(deadline, rounds.wait_for(|r| r.completed >= 1)).await;
        match done {
            Ok(Ok(rounds)) => Some(rounds.endpoints),
            _ => None,
        }
    }

    /// After a failed call: asks for a round now and waits (until
    /// `deadline`) for one that started after this call, so an address that
    /// just stopped answering is out of the channel when this returns.
    pub async fn refresh(&self, deadline: Instant) {
        let wanted = self.rounds.borrow().started + 1;
        self.refresh.notify_one();
        let mut rounds = self.rounds.clone();
        let _ = tokio::time::timeout_at(deadline, rounds.wait_for(|r| r.completed >= wanted)).await;
    }
}

/// The upstream URLs, parsed: one URL, or several separated by commas.
#[derive(Debug, Clone)]
pub struct Urls(Vec<Target>);

impl Urls {
    /// Parses a comma-separated list of `http(s)://host[:port]` URLs.
    pub fn parse(urls: &str) -> anyhow::Result<Self> {
        parse(urls).map(Self)
    }
}

fn parse(urls: &str) -> anyhow::Result<Vec<Target>> {
    let targets = urls
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(|url| {
            let origin: Uri = url
                .parse()
                .with_context(|| format!("invalid upstream URL {url:?}"))?;
            let scheme = origin
                .scheme_str()
                .with_context(|| format!("upstream URL {url:?} has no scheme (http://…)"))?
                .to_owned();
            let host = origin
                .host()
                .with_context(|| format!("upstream URL {url:?} has no host"))?;
            let port = origin
                .port_u16()
                .unwrap_or(if scheme == "https" { 443 } else { 80 });
            // Checks the URL the way the connector will.
            Endpoint::from_shared(url.to_owned())
                .with_context(|| format!("invalid upstream URL {url:?}"))?;
            Ok(Target {
                url: url.to_owned(),
                authority: format!("{host}:{port}"),
                scheme,
                origin,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if targets.is_empty() {
        anyhow::bail!("no upstream URL given");
    }
    Ok(targets)
}

/// The background task.
struct Keeper {
    targets: Vec<Target>,
    options: Options,
    resolver: Resolver,
    changes: mpsc::Sender<Change<Key, Endpoint>>,
    rounds: watch::Sender<Rounds>,
    refresh: Arc<Notify>,
}

impl Keeper {
    async fn run(self) {
        // The last addresses each target resolved to (kept when a lookup fails).
        let mut resolved: Vec<Vec<SocketAddr>> = vec![Vec::new(); self.targets.len()];
        let mut probes: BTreeMap<SocketAddr, HealthClient<Channel>> = BTreeMap::new();
        let mut current: BTreeSet<Key> = BTreeSet::new();
        let mut first = true;
        let mut last_start: Option<Instant> = None;
        loop {
            if let Some(last_start) = last_start {
                tokio::time::sleep_until(last_start + MIN_INTERVAL).await;
            }
            last_start = Some(Instant::now());
            self.rounds.send_modify(|r| r.started += 1);
            self.resolve(&mut resolved).await;
            let candidates = self.candidates(&resolved);
            let desired: BTreeSet<Key> = if first {
                candidates.keys().copied().collect()
            } else {
                let healthy = self.probe(&mut probes, &candidates).await;
                if healthy.is_empty() {
                    candidates.keys().copied().collect()
                } else {
                    healthy
                }
            };
            if desired != current {
                if self.apply(&current, &desired, &candidates).await.is_err() {
                    return; // the channel is gone
                }
                tracing::info!(
                    upstream = self.options.name,
                    endpoints = %Shown(&desired, &self.targets),
                    "upstream endpoints changed"
                );
                current = desired;
            }
            self.rounds.send_modify(|r| {
                r.completed = r.started;
                r.endpoints = current.len();
            });
            first = false;
            tokio::select! {
                () = tokio::time::sleep(self.options.resolve_interval) => {}
                () = self.refresh.notified() => {}
                () = self.changes.closed() => return,
            }
        }
    }

    /// Resolves every target; a failed or empty lookup keeps the last answer.
    async fn resolve(&self, resolved: &mut [Vec<SocketAddr>]) {
        for (target, last) in self.targets.iter().zip(resolved.iter_mut()) {
            let lookup = (self.resolver)(target.authority.clone());
            match tokio::time::timeout(self.options.connect_timeout, lookup).await {
                Ok(Ok(mut addrs)) if !addrs.is_empty() => {
                    addrs.sort_unstable();
                    addrs.dedup();
                    *last = addrs;
                }
                Ok(Ok(_)) => tracing::warn!(
                    upstream = self.options.name,
                    url = %target.url,
                    "the host resolved to no address; keeping the previous ones"
                ),
                Ok(Err(error)) => tracing::warn!(
                    upstream = self.options.name,
                    url = %target.url,
                    %error,
                    "could not resolve the host; keeping the previous addresses"
                ),
                Err(_) => tracing::warn!(
                    upstream = self.options.name,
                    url = %target.url,
                    "resolving the host timed out; keeping the previous addresses"
                ),
            }
        }
    }

    /// Every resolved address, and the URL of each target never resolved,
    /// with the index of the target it came from.
    fn candidates(&self, resolved: &[Vec<SocketAddr>]) -> BTreeMap<Key, usize> {
        let mut candidates = BTreeMap::new();
        for (index, addrs) in resolved.iter().enumerate() {
            if addrs.is_empty() {
                candidates.insert(Key::Unresolved(index), index);
            }
            for addr in addrs {
                candidates.entry(Key::Addr(*addr)).or_insert(index);
            }
        }
        candidates
    }

    /// The candidates whose address answers its health check as SERVING.
    async fn probe(
        &self,
        probes: &mut BTreeMap<SocketAddr, HealthClient<Channel>>,
        candidates: &BTreeMap<Key, usize>,
    ) -> BTreeSet<Key> {
        let addrs: BTreeMap<SocketAddr, usize> = candidates
            .iter()
            .filter_map(|(key, index)| match key {
                Key::Addr(addr) => Some((*addr, *index)),
                Key::Unresolved(_) => None,
            })
            .collect();
        probes.retain(|addr, _| addrs.contains_key(addr));
        let mut checks = JoinSet::new();
        for (addr, index) in addrs {
            let client = match probes.get(&addr) {
                Some(client) => client.clone(),
                None => match self.endpoint_for(addr, &self.targets[index]) {
                    Some(endpoint) => {
                        let client = HealthClient::new(endpoint.connect_lazy());
                        probes.insert(addr, client.clone());
                        client
                    }
                    None => continue,
                },
            };
            let timeout = self.options.connect_timeout;
            checks.spawn(async move { (addr, serving(client, timeout).await) });
        }
        let mut healthy = BTreeSet::new();
        while let Some(joined) = checks.join_next().await {
            if let Ok((addr, true)) = joined {
                healthy.insert(Key::Addr(addr));
            }
        }
        healthy
    }

    /// Sends the difference between `current` and `desired` to the balancer;
    /// Err when the balancer is gone.
    async fn apply(
        &self,
        current: &BTreeSet<Key>,
        desired: &BTreeSet<Key>,
        candidates: &BTreeMap<Key, usize>,
    ) -> Result<(), ()> {
        for key in current.difference(desired) {
            self.changes
                .send(Change::Remove(*key))
                .await
                .map_err(|_| ())?;
        }
        for key in desired.difference(current) {
            let Some(target) = candidates.get(key).map(|index| &self.targets[*index]) else {
                continue;
            };
            let endpoint = match key {
                Key::Addr(addr) => self.endpoint_for(*addr, target),
                Key::Unresolved(_) => self.configure(Endpoint::from_shared(target.url.clone())),
            };
            if let Some(endpoint) = endpoint {
                self.changes
                    .send(Change::Insert(*key, endpoint))
                    .await
                    .map_err(|_| ())?;
            }
        }
        Ok(())
    }

    /// The endpoint for one resolved address of `target`.
    fn endpoint_for(&self, addr: SocketAddr, target: &Target) -> Option<Endpoint> {
        let endpoint = Endpoint::from_shared(format!("{}://{addr}", target.scheme))
            .map(|endpoint| endpoint.origin(target.origin.clone()));
        self.configure(endpoint)
    }

    fn configure(&self, endpoint: Result<Endpoint, tonic::transport::Error>) -> Option<Endpoint> {
        match endpoint {
            Ok(endpoint) => Some(
                endpoint
                    .connect_timeout(self.options.connect_timeout)
                    .tcp_nodelay(true)
                    .http2_keep_alive_interval(Duration::from_secs(30))
                    .keep_alive_while_idle(true),
            ),
            Err(error) => {
                tracing::warn!(upstream = self.options.name, %error, "unusable endpoint");
                None
            }
        }
    }
}

/// Whether the server behind `client` answers SERVING within `timeout`.
async fn serving(mut client: HealthClient<Channel>, timeout: Duration) -> bool {
    let check = client.check(HealthCheckRequest {
        service: String::new(),
    });
    matches!(
        tokio::time::timeout(timeout, check).await,
        Ok(Ok(reply)) if reply.get_ref().status() == ServingStatus::Serving
    )
}

/// The endpoint set, for logs.
struct Shown<'a>(&'a BTreeSet<Key>, &'a [Target]);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for key in self.0 {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            match key {
                Key::Addr(addr) => write!(f, "{addr}")?,
                Key::Unresolved(index) => write!(f, "{} (unresolved)", self.1[*index].url)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
