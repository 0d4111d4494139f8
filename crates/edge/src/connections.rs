//! The public listener's connections: HTTP/1 and HTTP/2 through hyper-util's
//! auto builder with a timer, each connection bounded in time, and a cap on
//! how many are open. Nothing a client does (or does not do) keeps a
//! connection, or a slot, forever:
//!
//! - a new connection must start a request within `EDGE_HEADER_READ_TIMEOUT_MS`
//!   (one that sends nothing, part of a head or part of the HTTP/2 preface is
//!   closed); every later HTTP/1 head has the same limit (hyper's timer);
//! - a connection with no request in flight for `EDGE_IDLE_TIMEOUT_MS` is
//!   closed (gracefully: HTTP/2 gets a GOAWAY);
//! - HTTP/2 clients are pinged every `EDGE_HTTP2_KEEPALIVE_INTERVAL_MS` and
//!   dropped when a ping goes unanswered for `EDGE_HTTP2_KEEPALIVE_TIMEOUT_MS`;
//!   at most `EDGE_HTTP2_MAX_CONCURRENT_STREAMS` requests at once each;
//! - at most `EDGE_MAX_CONNECTIONS` are open: beyond, a new connection is
//!   answered `503` (problem+json) and closed at once, never queued;
//! - on shutdown, accepting stops, idle connections close, and requests in
//!   flight finish (each bounded by `EDGE_REQUEST_TIMEOUT_MS`).

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use auth_core::Problem;
use axum::Router;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::settings::Connections;

/// The pause after a failed `accept` (e.g. out of file descriptors), so the
/// loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `router` on `listener` until `shutdown` resolves, then waits for
/// every connection to finish.
pub async fn serve(
    router: Router,
    limits: &Connections,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let builder = Arc::new(builder(limits));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            refuse(&stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            builder: Arc::clone(&builder),
            router: router.clone(),
            limits: limits.clone(),
            stopping: stopping.clone(),
        };
        tokio::spawn(async move {
            connection.run(stream).await;
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // Each connection holds its slot until it is done.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}

/// HTTP/1 and HTTP/2, with the timer every timeout needs.
fn builder(limits: &Connections) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.http2_keepalive_interval)
        .keep_alive_timeout(limits.http2_keepalive_timeout)
        .max_concurrent_streams(limits.http2_max_concurrent_streams);
    builder
}

/// Over the cap: a `503` written without waiting (the socket's buffer is
/// empty), then the connection is closed.
fn refuse(stream: &TcpStream) {
    tracing::debug!("connection refused: EDGE_MAX_CONNECTIONS reached");
    let problem = Problem::new(503, "too many open connections, try again");
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{}",
        problem.body.len(),
        problem.body
    );
    let _ = stream.try_write(answer.as_bytes());
}

/// One accepted connection and what it needs.
struct Connection {
    builder: Arc<Builder<TokioExecutor>>,
    router: Router,
    limits: Connections,
    stopping: watch::Receiver<bool>,
}

impl Connection {
    async fn run(mut self, stream: TcpStream) {
        let activity = Arc::new(Activity::new());
        let service = {
            let activity = Arc::clone(&activity);
            let router = self.router;
            hyper::service::service_fn(move |request: Request<Incoming>| {
                let busy = activity.begin();
                let router = router.clone();
                async move {
                    let response = router.oneshot(request).await;
                    drop(busy);
                    response
                }
            })
        };
        let connection = self.builder.serve_connection(TokioIo::new(stream), service);
        tokio::pin!(connection);
        let idle = activity.idle(self.limits.header_read_timeout, self.limits.idle_timeout);
        tokio::pin!(idle);
        let mut closing = false;
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended");
                    }
                    return;
                }
                served = &mut idle, if !closing => {
                    if !served {
                        // No request ever started: nothing to finish.
                        tracing::debug!("no request head in time: connection closed");
                        return;
                    }
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
                _ = self.stopping.wait_for(|stop| *stop), if !closing => {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// What a connection is doing, for the idle timeout.
struct Activity {
    in_flight: AtomicUsize,
    /// Whether any request has started.
    served: AtomicBool,
    /// When the connection opened or its last request finished.
    last: Mutex<Instant>,
    /// Signalled when a request finishes.
    changed: Notify,
}

/// A request in flight; dropped when its response is ready.
struct Busy(Arc<Activity>);

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            served: AtomicBool::new(false),
            last: Mutex::new(Instant::now()),
            changed: Notify::new(),
        }
    }

    fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.served.store(true, Ordering::SeqCst);
        Busy(Arc::clone(self))
    }

    fn last(&self) -> Instant {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Resolves once the connection has had no request in flight for its
    /// limit (`first` until a request has started, then `idle`), with
    /// whether any request had started.
    async fn idle(&self, first: Duration, idle: Duration) -> bool {
        loop {
            // Registered before the state is read, so no change is missed.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let served = self.served.load(Ordering::SeqCst);
            let limit = if served { idle } else { first };
            if self.in_flight.load(Ordering::SeqCst) > 0 {
                changed.await;
                continue;
            }
            let deadline = self.last() + limit;
            if Instant::now() >= deadline {
                return served;
            }
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => {}
                () = changed => {}
            }
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        *self.0.last.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.changed.notify_waiters();
    }
}
