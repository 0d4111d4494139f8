//! A raw TCP connection to the edge, for what an HTTP client library will
//! not send: nothing at all, half a request head, a body that stops.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a connection may stay open when the test expects the edge to
/// close it (only reached when it does not: a hang fails the test).
const HANG: Duration = Duration::from_secs(20);

pub struct Raw {
    stream: TcpStream,
}

impl Raw {
    /// Connects to the edge at `base` (`http://host:port`).
    pub async fn connect(base: &str) -> Self {
        let addr = base.trim_start_matches("http://");
        let stream = TcpStream::connect(addr).await.expect("connect to the edge");
        Self { stream }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("send");
    }

    /// Everything the edge sends until it closes the connection (a reset
    /// counts as closed), as text; panics if it is still open after [`HANG`].
    pub async fn until_closed(&mut self) -> String {
        String::from_utf8_lossy(&self.until_closed_bytes().await).into_owned()
    }

    /// [`Raw::until_closed`], as bytes.
    pub async fn until_closed_bytes(&mut self) -> Vec<u8> {
        let mut received = Vec::new();
        let read = async {
            let mut buffer = [0u8; 4096];
            loop {
                match self.stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => received.extend_from_slice(&buffer[..n]),
                }
            }
        };
        if tokio::time::timeout(HANG, read).await.is_err() {
            panic!(
                "the edge kept the connection open for {} s; received: {:?}",
                HANG.as_secs(),
                String::from_utf8_lossy(&received)
            );
        }
        received
    }

    /// Reads until `marker` has arrived; everything read.
    pub async fn until(&mut self, marker: &str) -> String {
        let mut received = Vec::new();
        let read = async {
            let mut buffer = [0u8; 4096];
            while !String::from_utf8_lossy(&received).contains(marker) {
                match self.stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => received.extend_from_slice(&buffer[..n]),
                }
            }
        };
        let _ = tokio::time::timeout(HANG, read).await;
        let text = String::from_utf8_lossy(&received).into_owned();
        assert!(text.contains(marker), "no {marker:?} in {text:?}");
        text
    }
}
