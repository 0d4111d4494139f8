//! A tiny JWKS endpoint on 127.0.0.1 playing Better Auth's
//! `/api/auth/jwks`: it counts its fetches, and can change its keys, fail,
//! stop and start again.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use super::{Shutdown, TestServer, jwks_document, read_head, unused_addr};

struct Reply {
    status: u16,
    body: String,
    /// How long each answer is held back (a slow JWKS endpoint).
    delay: Duration,
}

/// A JWKS endpoint answering every path, counting requests.
pub struct JwksServer {
    addr: SocketAddr,
    reply: Arc<Mutex<Reply>>,
    fetches: Arc<AtomicU64>,
    server: Option<TestServer>,
}

impl JwksServer {
    /// Starts on a free port, serving these keys.
    pub async fn start(keys: &[Value]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::serve(listener, 200, jwks_document(keys))
    }

    /// Starts on a free port answering `status` with `body` (e.g. a web app
    /// that is up but not serving keys yet), until [`JwksServer::set_keys`].
    pub async fn start_failing(status: u16, body: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::serve(listener, status, body.to_owned())
    }

    /// A free port for a server started later with [`JwksServer::start_at`]
    /// (until then, connections to it are refused).
    pub fn reserve() -> SocketAddr {
        unused_addr()
    }

    /// Starts on this address (from [`JwksServer::reserve`]).
    pub async fn start_at(addr: SocketAddr, keys: &[Value]) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind reserved port");
        Self::serve(listener, 200, jwks_document(keys))
    }

    fn serve(listener: TcpListener, status: u16, body: String) -> Self {
        let addr = listener.local_addr().expect("addr");
        let reply = Arc::new(Mutex::new(Reply {
            status,
            body,
            delay: Duration::ZERO,
        }));
        let fetches = Arc::new(AtomicU64::new(0));
        let (answer, count) = (Arc::clone(&reply), Arc::clone(&fetches));
        let server = TestServer::start_on(listener, |listener, shutdown| {
            accept(listener, answer, count, shutdown)
        })
        .expect("start the JWKS server");
        Self {
            addr,
            reply,
            fetches,
            server: Some(server),
        }
    }

    /// The base URL (what `BETTER_AUTH_URL` would be).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The JWKS URL, `${base}/api/auth/jwks`.
    pub fn jwks_url(&self) -> String {
        format!("{}/api/auth/jwks", self.base_url())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests received so far (counted when a request has arrived, before
    /// it is answered).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::SeqCst)
    }

    /// Publishes these keys from now on.
    pub fn set_keys(&self, keys: &[Value]) {
        self.set_reply(200, jwks_document(keys));
    }

    /// Answers with this status and body from now on.
    pub fn set_reply(&self, status: u16, body: String) {
        let mut reply = self.reply.lock().expect("reply");
        reply.status = status;
        reply.body = body;
    }

    /// Holds every answer back this long from now on (a slow endpoint).
    pub fn set_delay(&self, delay: Duration) {
        self.reply.lock().expect("reply").delay = delay;
    }

    /// Stops listening: connections are refused from now on.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("the JWKS server stops");
        }
    }
}

/// Answers each connection once, until `shutdown`; the listener is closed
/// when this returns.
async fn accept(
    listener: TcpListener,
    reply: Arc<Mutex<Reply>>,
    fetches: Arc<AtomicU64>,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (mut stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let reply = Arc::clone(&reply);
        let fetches = Arc::clone(&fetches);
        tokio::spawn(async move {
            let Some(_request) = read_head(&mut stream).await else {
                return;
            };
            fetches.fetch_add(1, Ordering::SeqCst);
            let delay = reply.lock().expect("reply").delay;
            tokio::time::sleep(delay).await;
            let response = {
                let reply = reply.lock().expect("reply");
                format!(
                    "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                    reply.status,
                    reply.body.len(),
                    reply.body
                )
            };
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}
