//! The compose topology run natively: one edge (verifying through
//! auth-verify), three tasks replicas on one database (PostgreSQL when
//! `TEST_DATABASE_URL` is set, else a shared SQLite pool), and `TASKS_URL`
//! listing the three. Load spreads over every replica; stopping one loses no
//! acknowledged write and fails no read; a replica that comes back is used
//! again.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use auth_core::InternalVerifier;
use common::{User, auth_settings, spawn_auth_verify, spawn_edge, user_at};
use edge::Settings;
use proto::tasks::tasks_server::{SERVICE_NAME, TasksServer};
use reqwest::{Method, StatusCode};
use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use serde_json::{Value, json};
use tasks::testing::{TEST_INTERNAL_SECRET, TestDatabase, test_database_url};
use tasks::{InternalAuth, TasksService};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;

/// A tasks replica that counts the Tasks calls it receives.
struct Replica {
    addr: SocketAddr,
    calls: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Replica {
    /// The tasks service as `tasks::serve` assembles it (internal auth,
    /// health), with a counter in front, on `listener`.
    async fn start(db: DatabaseConnection, listener: TcpListener) -> Self {
        let addr = listener.local_addr().expect("addr");
        let calls = Arc::new(AtomicUsize::new(0));
        let secret = SecretString::from(TEST_INTERNAL_SECRET.to_owned());
        let mut auth = InternalAuth::new(InternalVerifier::new(Some(&secret)).expect("verifier"));
        let counter = calls.clone();
        let interceptor = move |request: tonic::Request<()>| {
            counter.fetch_add(1, Ordering::SeqCst);
            auth.call(request)
        };
        let service = InterceptedService::new(TasksServer::new(TasksService::new(db)), interceptor);
        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_service_status(SERVICE_NAME, ServingStatus::Serving)
            .await;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = tonic::transport::Server::builder()
                .add_service(health_service)
                .add_service(service)
                .serve_with_incoming_shutdown(TcpIncoming::from(listener), async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = served {
                eprintln!("replica {addr}: {error}");
            }
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

    /// Stops accepting, lets calls in flight finish, and waits for that.
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// One pool per replica on PostgreSQL (as separate processes would have),
/// the shared pool on SQLite.
async fn replica_pool(db: &TestDatabase) -> DatabaseConnection {
    if db.is_postgres() {
        tasks::connect(db.url(), 5).await.expect("replica pool")
    } else {
        db.conn().clone()
    }
}

async fn status_of(user: &User, method: Method, url: &str, body: Option<Value>) -> StatusCode {
    let mut request = user.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request
        .send()
        .await
        .map_or(StatusCode::BAD_GATEWAY, |r| r.status())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_spreads_over_three_replicas_and_survives_one_stopping() {
    let db = match test_database_url() {
        Some(url) => TestDatabase::postgres(&url).await.expect("postgres"),
        None => {
            eprintln!("TEST_DATABASE_URL is unset: three replicas on one SQLite pool");
            TestDatabase::sqlite().await.expect("sqlite")
        }
    };
    let mut replicas = Vec::new();
    for _ in 0..3 {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        replicas.push(Replica::start(replica_pool(&db).await, listener).await);
    }
    let (verify_addr, stop_verify) = spawn_auth_verify(&auth_settings()).await;
    let urls: Vec<String> = replicas
        .iter()
        .map(|r| format!("http://{}", r.addr))
        .collect();
    let mut settings = Settings::new(&urls.join(","), TEST_INTERNAL_SECRET);
    settings.auth_verify_url = Some(format!("http://{verify_addr}"));
    settings.tasks_resolve_interval_ms = 200;
    let (edge_addr, stop_edge) = spawn_edge(&auth_settings(), settings).await;
    let base = format!("http://{edge_addr}");
    let http = reqwest::Client::new();
    let ready = http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), StatusCode::OK);

    // 1. Load spreads: every replica gets a share of 60 calls.
    let alice = user_at(&base, "alice-id");
    for n in 0..30 {
        alice.create(&format!("warm-up {n}")).await;
        alice.list("").await;
    }
    let counts: Vec<usize> = replicas.iter().map(Replica::calls).collect();
    eprintln!("calls per replica after 60 requests: {counts:?}");
    assert!(counts.iter().sum::<usize>() >= 60, "{counts:?}");
    assert!(counts.iter().all(|&n| n >= 5), "uneven spread: {counts:?}");

    // 2. Writers and readers run while one replica stops.
    let running = Arc::new(AtomicBool::new(true));
    let acknowledged = Arc::new(std::sync::Mutex::new(BTreeMap::<i64, String>::new()));
    let failed_reads = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let refused_writes = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for writer in 0..2 {
        let (user, running, acked, refused) = (
            alice.clone(),
            running.clone(),
            acknowledged.clone(),
            refused_writes.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut n = 0;
            while running.load(Ordering::SeqCst) {
                n += 1;
                let title = format!("writer {writer} task {n}");
                let response = user
                    .request(Method::POST, &user.tasks_url())
                    .json(&json!({ "title": title }))
                    .send()
                    .await
                    .expect("send");
                match response.status() {
                    StatusCode::CREATED => {
                        let task: Value = response.json().await.expect("json");
                        let id = task["id"].as_i64().expect("id");
                        acked.lock().expect("lock").insert(id, title);
                    }
                    // A write may be refused while a replica goes away, but
                    // only as "unavailable, try again".
                    status => {
                        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{title}");
                        refused.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        }));
    }
    for _ in 0..2 {
        let (user, running, acked, failed) = (
            alice.clone(),
            running.clone(),
            acknowledged.clone(),
            failed_reads.clone(),
        );
        workers.push(tokio::spawn(async move {
            while running.load(Ordering::SeqCst) {
                let status = status_of(&user, Method::GET, &user.tasks_url(), None).await;
                if status != StatusCode::OK {
                    failed.lock().expect("lock").push(format!("list: {status}"));
                }
                let last = acked.lock().expect("lock").keys().next_back().copied();
                if let Some(id) = last {
                    let status = status_of(&user, Method::GET, &user.task_url(id), None).await;
                    if status != StatusCode::OK {
                        failed
                            .lock()
                            .expect("lock")
                            .push(format!("get {id}: {status}"));
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stopped = replicas.remove(1);
    let stopped_addr = stopped.addr;
    stopped.stop().await;
    let before: Vec<usize> = replicas.iter().map(Replica::calls).collect();
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    running.store(false, Ordering::SeqCst);
    for worker in workers {
        worker.await.expect("worker");
    }
    let after: Vec<usize> = replicas.iter().map(Replica::calls).collect();
    eprintln!(
        "after the stop: {before:?} -> {after:?}; {} writes refused",
        refused_writes.load(Ordering::SeqCst)
    );
    assert!(
        before.iter().zip(&after).all(|(b, a)| a > b),
        "both remaining replicas keep serving: {before:?} -> {after:?}"
    );
    let failed = failed_reads.lock().expect("lock").clone();
    assert!(failed.is_empty(), "reads failed: {failed:?}");

    // 3. No acknowledged write is lost: each one reads back, and the list
    // holds them all.
    let acked = acknowledged.lock().expect("lock").clone();
    assert!(
        acked.len() > 10,
        "the writers made progress: {}",
        acked.len()
    );
    let listed: Vec<Value> = alice.list("?limit=1000").await;
    let listed: BTreeMap<i64, String> = listed
        .iter()
        .map(|t| {
            (
                t["id"].as_i64().expect("id"),
                t["title"].as_str().expect("title").to_owned(),
            )
        })
        .collect();
    for (id, title) in &acked {
        assert_eq!(listed.get(id), Some(title), "task {id} lost");
        let response = alice
            .request(Method::GET, &alice.task_url(*id))
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), StatusCode::OK, "task {id}");
    }

    // 4. The stopped replica comes back on its address and is used again.
    let listener = TcpListener::bind(stopped_addr).await.expect("rebind");
    let back = Replica::start(replica_pool(&db).await, listener).await;
    let started = tokio::time::Instant::now();
    while back.calls() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the replica that came back got no calls"
        );
        alice.list("").await;
    }

    let _ = stop_edge.send(());
    let _ = stop_verify.send(());
    back.stop().await;
    for replica in replicas {
        replica.stop().await;
    }
    db.cleanup().await.expect("cleanup");
}
