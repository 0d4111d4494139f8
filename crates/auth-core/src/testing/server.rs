//! A server started in-process on `127.0.0.1:<port 0>` with a stop handle:
//! the one way every test starts a service (tasks, auth-verify, the edge, the
//! JWKS server), through the service's own `serve(listener, shutdown)`.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::init_test_log;

/// Resolves when [`TestServer::shutdown`] is called or the server is dropped:
/// the `shutdown` future a service's `serve` takes.
pub struct Shutdown(oneshot::Receiver<()>);

impl Future for Shutdown {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}

/// A running server. Dropping it asks the server to stop (without waiting).
pub struct TestServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    /// Binds `127.0.0.1:0` and runs `serve(listener, shutdown)` in a task.
    /// The port is bound before this returns, so the address is usable at
    /// once (connections wait until the server accepts them).
    pub async fn start<F, Fut, E>(serve: F) -> anyhow::Result<Self>
    where
        F: FnOnce(TcpListener, Shutdown) -> Fut,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<anyhow::Error>,
    {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("could not bind 127.0.0.1:0")?;
        Self::start_on(listener, serve)
    }

    /// Like [`TestServer::start`], on a listener the caller bound (e.g. the
    /// address of a server that stopped, to start it again there).
    pub fn start_on<F, Fut, E>(listener: TcpListener, serve: F) -> anyhow::Result<Self>
    where
        F: FnOnce(TcpListener, Shutdown) -> Fut,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<anyhow::Error>,
    {
        init_test_log();
        let addr = listener
            .local_addr()
            .context("the listener has no address")?;
        let (stop, stopped) = oneshot::channel();
        let served = serve(listener, Shutdown(stopped));
        let task = tokio::spawn(async move { served.await.map_err(Into::into) });
        Ok(Self {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Asks the server to stop (it stops accepting and lets calls in flight
    /// finish), waits for that, and returns what `serve` returned.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.context("the server task panicked")?,
            None => Ok(()),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An address on 127.0.0.1 that nothing listens on (bound to port 0, then
/// released): connections to it are refused.
pub fn unused_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener
        .local_addr()
        .expect("a bound listener has an address")
}

/// A request's head (up to the blank line, at most 16 KiB), as text; `None`
/// when the client went away first. For the tiny HTTP test servers.
pub async fn read_head(stream: &mut tokio::net::TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut request = Vec::new();
    let mut buffer = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
    Some(String::from_utf8_lossy(&request).into_owned())
}
