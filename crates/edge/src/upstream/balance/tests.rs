//! The pool against real gRPC servers on port 0 and a resolver the test
//! controls: calls spread over every address, follow the addresses as they
//! come and go, and fail fast when nothing answers.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proto::auth::auth_verify_client::AuthVerifyClient;
use proto::auth::auth_verify_server::{AuthVerify, AuthVerifyServer};
use proto::auth::{VerifyRequest, VerifyResponse};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

use super::{Options, Pool, Resolver, Urls, parse};

/// Counts the calls it answers.
struct Counting(Arc<AtomicUsize>);

#[tonic::async_trait]
impl AuthVerify for Counting {
    async fn verify(&self, _: Request<VerifyRequest>) -> Result<Response<VerifyResponse>, Status> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(Response::new(VerifyResponse::default()))
    }
}

/// One replica: a counting service and gRPC health on a port of its own.
struct Replica {
    addr: SocketAddr,
    calls: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Replica {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let calls = Arc::new(AtomicUsize::new(0));
        let (stop, stopped) = oneshot::channel::<()>();
        let (_, health) = tonic_health::server::health_reporter();
        let service = AuthVerifyServer::new(Counting(calls.clone()));
        let task = tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(health)
                .add_service(service)
                .serve_with_incoming_shutdown(TcpIncoming::from(listener), async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            addr,
            calls,
            stop: Some(stop),
            task,
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// A resolver answering whatever the test last set.
fn fake_resolver() -> (Resolver, Arc<Mutex<Vec<SocketAddr>>>) {
    let addrs = Arc::new(Mutex::new(Vec::new()));
    let shared = addrs.clone();
    let resolver: Resolver = Arc::new(move |_authority: String| {
        let addrs = shared.lock().map(|a| a.clone()).unwrap_or_default();
        Box::pin(async move { Ok(addrs) })
    });
    (resolver, addrs)
}

fn parsed(urls: &str) -> Urls {
    Urls::parse(urls).expect("valid URLs")
}

fn options() -> Options {
    Options {
        name: "test",
        connect_timeout: Duration::from_millis(500),
        resolve_interval: Duration::from_millis(100),
    }
}

async fn call(pool: &Pool) -> Result<(), Status> {
    let mut client = AuthVerifyClient::new(pool.channel());
    let call = client.verify(VerifyRequest::default());
    match tokio::time::timeout(Duration::from_secs(5), call).await {
        Ok(reply) => reply.map(|_| ()),
        Err(_) => panic!("the call hung"),
    }
}

/// Calls until `done` holds (at most 10 s).
async fn call_until(pool: &Pool, done: impl Fn() -> bool) {
    let started = tokio::time::Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "condition not reached"
        );
        let _ = call(pool).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn urls_are_checked_once_at_start_up() {
    assert!(parse("").is_err());
    assert!(parse(" , ").is_err());
    assert!(parse("tasks:50052").is_err(), "no scheme");
    let targets = parse("http://tasks:50052, http://10.0.0.7:9000,http://[::1]:1").expect("ok");
    let authorities: Vec<&str> = targets.iter().map(|t| t.authority.as_str()).collect();
    assert_eq!(authorities, ["tasks:50052", "10.0.0.7:9000", "[::1]:1"]);
    assert_eq!(parse("http://tasks").expect("ok")[0].authority, "tasks:80");
}

#[tokio::test]
async fn calls_spread_over_every_listed_address() {
    let replicas = [
        Replica::start().await,
        Replica::start().await,
        Replica::start().await,
    ];
    let urls: Vec<String> = replicas
        .iter()
        .map(|r| format!("http://{}", r.addr))
        .collect();
    let pool = Pool::new(&parsed(&urls.join(",")), options());
    for _ in 0..60 {
        call(&pool).await.expect("call");
    }
    let counts: Vec<usize> = replicas.iter().map(Replica::calls).collect();
    assert_eq!(counts.iter().sum::<usize>(), 60);
    assert!(counts.iter().all(|&n| n >= 1), "{counts:?}");
    for replica in replicas {
        replica.stop().await;
    }
}

#[tokio::test]
async fn addresses_that_come_and_go_are_followed() {
    let (resolver, addrs) = fake_resolver();
    let a = Replica::start().await;
    let b = Replica::start().await;
    let c = Replica::start().await;
    *addrs.lock().expect("lock") = vec![a.addr];
    let pool = Pool::with_resolver(&parsed("http://tasks:50052"), options(), resolver);
    for _ in 0..10 {
        call(&pool).await.expect("call");
    }
    assert_eq!(a.calls(), 10);

    // Two replicas appear: they get calls once resolved and healthy.
    *addrs.lock().expect("lock") = vec![a.addr, b.addr, c.addr];
    call_until(&pool, || b.calls() > 0 && c.calls() > 0).await;

    // One disappears from the name: it gets no more calls.
    *addrs.lock().expect("lock") = vec![b.addr, c.addr];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    pool.refresh(deadline).await;
    let before = a.calls();
    for _ in 0..30 {
        call(&pool).await.expect("call");
    }
    assert_eq!(a.calls(), before, "a removed address still got calls");
    for replica in [a, b, c] {
        replica.stop().await;
    }
}

#[tokio::test]
async fn a_stopped_replica_is_dropped_and_nothing_hangs_when_all_are_gone() {
    let a = Replica::start().await;
    let b = Replica::start().await;
    let urls = format!("http://{},http://{}", a.addr, b.addr);
    let pool = Pool::new(&parsed(&urls), options());
    call_until(&pool, || a.calls() > 0 && b.calls() > 0).await;

    b.stop().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    pool.refresh(deadline).await;
    for _ in 0..20 {
        call(&pool).await.expect("the remaining replica answers");
    }

    // Nothing answers: calls fail at once (connect errors), they never wait.
    a.stop().await;
    pool.refresh(tokio::time::Instant::now() + Duration::from_secs(5))
        .await;
    for _ in 0..3 {
        let started = tokio::time::Instant::now();
        let status = call(&pool).await.expect_err("nothing listens");
        assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}

#[tokio::test]
async fn a_name_that_never_resolves_fails_fast() {
    let resolver: Resolver = Arc::new(|_authority: String| {
        Box::pin(async { Err(std::io::Error::other("no such host")) })
    });
    let pool = Pool::with_resolver(&parsed("http://tasks.invalid:50052"), options(), resolver);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    assert_eq!(
        pool.endpoints(deadline).await,
        Some(1),
        "kept in by its URL"
    );
    let status = call(&pool).await.expect_err("nothing resolves");
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
}
