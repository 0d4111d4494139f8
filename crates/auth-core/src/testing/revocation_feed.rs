//! A revocation feed on 127.0.0.1 playing the web app's
//! `GET /api/internal/revocations[?since=<cursor>]`: it checks the bearer
//! secret, answers the whole list or the changes since a cursor, counts its
//! polls (and its full answers), and can fail, stop and start again, or
//! hold a revocation that only full answers carry.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{Shutdown, TestServer, read_head};

#[derive(Default)]
struct State {
    /// (sid, exp, the cursor value at which it was recorded; 0: seen by
    /// no incremental read).
    revoked: Vec<(String, i64, u64)>,
    /// Advances by one per revocation; answers carry it as their cursor.
    clock: u64,
    /// Answer this status instead of the feed, when set.
    failing: Option<u16>,
}

/// The feed server.
pub struct RevocationFeedServer {
    addr: SocketAddr,
    secret: String,
    state: Arc<Mutex<State>>,
    polls: watch::Sender<u64>,
    full_answers: watch::Sender<u64>,
    server: Option<TestServer>,
}

impl RevocationFeedServer {
    /// Starts on a free port, accepting `Bearer <secret>`.
    pub async fn start(secret: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let mut server = Self {
            addr: listener.local_addr().expect("addr"),
            secret: secret.to_owned(),
            state: Arc::default(),
            polls: watch::Sender::new(0),
            full_answers: watch::Sender::new(0),
            server: None,
        };
        server.serve(listener);
        server
    }

    fn serve(&mut self, listener: TcpListener) {
        let counters = Counters {
            polls: self.polls.clone(),
            full_answers: self.full_answers.clone(),
        };
        let (state, secret) = (Arc::clone(&self.state), self.secret.clone());
        self.server = Some(
            TestServer::start_on(listener, |listener, shutdown| {
                accept(listener, state, counters, secret, shutdown)
            })
            .expect("start the feed server"),
        );
    }

    /// The feed's URL (what `AUTH_REVOCATION_URL` would be).
    pub fn url(&self) -> String {
        format!("http://{}/api/internal/revocations", self.addr)
    }

    /// Records that session `sid` ended; tokens carrying it may be
    /// forgotten after `exp` (Unix seconds).
    pub fn revoke(&self, sid: &str, exp: i64) {
        let mut state = self.state.lock().expect("state");
        state.clock += 1;
        let at = state.clock;
        state.revoked.push((sid.to_owned(), exp, at));
    }

    /// Records that session `sid` ended, but so that no incremental answer
    /// (`?since=`) carries it, only full ones: what a revocation missed by
    /// the incremental reads looks like (e.g. a row committed later than
    /// the feed's overlap allows for).
    pub fn revoke_unannounced(&self, sid: &str, exp: i64) {
        let mut state = self.state.lock().expect("state");
        state.revoked.push((sid.to_owned(), exp, 0));
    }

    /// Answers `status` to every poll from now on (`None`: the feed again).
    pub fn fail_with(&self, status: Option<u16>) {
        self.state.lock().expect("state").failing = status;
    }

    /// Polls answered so far (successful or not), as a watch.
    pub fn polls(&self) -> watch::Receiver<u64> {
        self.polls.subscribe()
    }

    /// Full answers (every revocation, no cursor asked) served so far.
    pub fn full_answers(&self) -> u64 {
        *self.full_answers.borrow()
    }

    /// Waits until `n` more polls than `seen` have been answered.
    pub async fn wait_polls(&self, seen: u64, n: u64) {
        let mut polls = self.polls();
        tokio::time::timeout(super::PATIENCE, polls.wait_for(|p| *p >= seen + n))
            .await
            .expect("polled in time")
            .expect("feed alive");
    }

    /// Stops listening: polls fail to connect until [`Self::restart`].
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("the feed server stops");
        }
    }

    /// Listens again on the same address, with the same revocations.
    pub async fn restart(&mut self) {
        let listener = TcpListener::bind(self.addr).await.expect("bind again");
        self.serve(listener);
    }
}

/// What the feed counts, as watches.
#[derive(Clone)]
struct Counters {
    polls: watch::Sender<u64>,
    full_answers: watch::Sender<u64>,
}

/// The feed's answer to `target` (path and query) for this state.
fn answer(state: &State, target: &str) -> Result<String, (u16, &'static str)> {
    let since = match target.split_once("?since=") {
        None => None,
        Some((_, since)) => Some(since.parse::<u64>().map_err(|_| (400, "bad cursor"))?),
    };
    let revoked: Vec<_> = state
        .revoked
        .iter()
        .filter(|(_, _, at)| since.is_none_or(|since| *at > since))
        .map(|(sid, exp, _)| json!({"sid": sid, "exp": exp}))
        .collect();
    Ok(json!({"cursor": state.clock, "full": since.is_none(), "revoked": revoked}).to_string())
}

async fn accept(
    listener: TcpListener,
    state: Arc<Mutex<State>>,
    counters: Counters,
    secret: String,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (mut stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let (state, counters, secret) = (Arc::clone(&state), counters.clone(), secret.clone());
        tokio::spawn(async move {
            let Some(request) = read_head(&mut stream).await else {
                return;
            };
            let target = request.split(' ').nth(1).unwrap_or("/").to_owned();
            let authorized = request
                .lines()
                .any(|l| l.eq_ignore_ascii_case(&format!("authorization: Bearer {secret}")));
            let (status, body) = {
                let state = state.lock().expect("state");
                match (state.failing, authorized) {
                    (Some(status), _) => (status, "{}".to_owned()),
                    (None, false) => (401, "{}".to_owned()),
                    (None, true) => match answer(&state, &target) {
                        Ok(body) => (200, body),
                        Err((status, why)) => (status, json!({"detail": why}).to_string()),
                    },
                }
            };
            // Counted before the answer leaves, so whoever acts on it sees the count.
            if status == 200 && !target.contains("?since=") {
                counters.full_answers.send_modify(|n| *n += 1);
            }
            let response = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
            counters.polls.send_modify(|p| *p += 1);
        });
    }
}
