//! The compose topology run natively: one edge (verifying through
//! auth-verify), three tasks replicas on one database, and `TASKS_URL`
//! listing the three. Load spreads over every replica; stopping one loses no
//! acknowledged write and fails no read; a replica that comes back is used
//! again. On PostgreSQL each replica has its own pool, as separate processes
//! would; on SQLite they share the test's pool.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use auth_core::testing::{eventually, test_log_layer};
use proto::tasks::tasks_server::SERVICE_NAME;
use reqwest::StatusCode;
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use tasks::testing::{Backend, TEST_INTERNAL_SECRET, TestDatabase};
use tokio::sync::oneshot;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

use crate::common::{Client, Stack, Verify};

mod load_spreads_over_three_replicas_and_survives_one_stopping {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::load_spreads_and_survives_one_stopping(tasks::testing::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::load_spreads_and_survives_one_stopping(tasks::testing::Backend::Postgres).await;
    }
}

/// Counts the Tasks calls a replica receives, from the `grpc` span its
/// trace hook opens for each call (health checks are not counted).
struct CountTasksCalls(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> Layer<S> for CountTasksCalls {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        if attrs.metadata().name() != "grpc" {
            return;
        }
        let mut method = MethodField(None);
        attrs.record(&mut method);
        let tasks_call = format!("/{SERVICE_NAME}/");
        if method.0.is_some_and(|path| path.starts_with(&tasks_call)) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// The `method` field of a span.
struct MethodField(Option<String>);

impl Visit for MethodField {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == "method" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

/// A tasks replica: the real `tasks::serve` (through
/// `tasks::testing::spawn_on`) on a runtime and thread of its own, so that
/// its spans, and only its spans, reach its call counter.
struct Replica {
    addr: SocketAddr,
    calls: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl Replica {
    /// Starts on `addr` (port 0 for a new one); serving when this returns.
    async fn start(db: &TestDatabase, addr: SocketAddr) -> Self {
        let listener = std::net::TcpListener::bind(addr).expect("bind");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("addr");
        // PostgreSQL: a pool of its own, opened on its own runtime.
        let own_pool = db.is_postgres().then(|| db.url().to_owned());
        let shared = db.conn().clone();
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = CountTasksCalls(Arc::clone(&calls));
        let (serving, is_serving) = oneshot::channel::<()>();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let subscriber = tracing_subscriber::registry()
                .with(counter)
                .with(test_log_layer());
            let _default = tracing::subscriber::set_default(subscriber);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let db: DatabaseConnection = match &own_pool {
                    Some(url) => tasks::connect(url, 5).await?,
                    None => shared,
                };
                let listener = tokio::net::TcpListener::from_std(listener)?;
                let server = tasks::testing::spawn_on(listener, db.clone(), TEST_INTERNAL_SECRET)?;
                let _ = serving.send(());
                let _ = stopped.await;
                server.shutdown().await?;
                if own_pool.is_some() {
                    db.close().await?;
                }
                Ok(())
            })
        });
        is_serving.await.expect("the replica started");
        Self {
            addr,
            calls,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Stops accepting, lets calls in flight finish, and waits for that.
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let joined = tokio::task::spawn_blocking(move || thread.join())
                .await
                .expect("join");
            joined
                .expect("the replica's thread panicked")
                .expect("the replica stopped cleanly");
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// What the writers and readers saw while a replica stopped.
#[derive(Default)]
struct Traffic {
    done: AtomicBool,
    /// Every task whose creation was answered 201: id → title.
    acknowledged: Mutex<BTreeMap<i64, String>>,
    failed_reads: Mutex<Vec<String>>,
    refused_writes: AtomicUsize,
}

impl Traffic {
    fn running(&self) -> bool {
        !self.done.load(Ordering::SeqCst)
    }

    fn acked(&self) -> usize {
        self.acknowledged.lock().expect("lock").len()
    }

    fn read_failed(&self, what: String) {
        self.failed_reads.lock().expect("lock").push(what);
    }
}

/// Creates tasks until told to stop; a write may be refused while a
/// replica goes away, but only as "unavailable, try again".
async fn write(user: Client, writer: usize, traffic: Arc<Traffic>) {
    let mut n = 0;
    while traffic.running() {
        n += 1;
        let title = format!("writer {writer} task {n}");
        let response = user
            .post(user.tasks())
            .json(json!({ "title": title }))
            .send()
            .await;
        match response.status() {
            StatusCode::CREATED => {
                let task: Value = response.json().await.expect("json");
                let id = task["id"].as_i64().expect("id");
                traffic.acknowledged.lock().expect("lock").insert(id, title);
            }
            status => {
                assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{title}");
                traffic.refused_writes.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// Lists the tasks and reads the latest acknowledged one until told to
/// stop, noting every read that does not answer 200.
async fn read(user: Client, traffic: Arc<Traffic>) {
    while traffic.running() {
        let status = user.get(user.tasks()).try_status().await;
        if status != Some(StatusCode::OK) {
            traffic.read_failed(format!("list: {status:?}"));
        }
        let last = traffic
            .acknowledged
            .lock()
            .expect("lock")
            .keys()
            .next_back()
            .copied();
        if let Some(id) = last {
            let status = user.get(user.task(id)).try_status().await;
            if status != Some(StatusCode::OK) {
                traffic.read_failed(format!("get {id}: {status:?}"));
            }
        }
    }
}

fn calls(replicas: &[Replica]) -> Vec<usize> {
    replicas.iter().map(Replica::calls).collect()
}

async fn load_spreads_and_survives_one_stopping(backend: Backend) {
    let db = TestDatabase::new(backend).await.expect("database");
    let unbound: SocketAddr = "127.0.0.1:0".parse().expect("address");
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(Replica::start(&db, unbound).await);
    }
    let urls: Vec<String> = replicas.iter().map(Replica::url).collect();
    let stack = Stack::builder()
        .verify(Verify::Remote)
        .tasks_at(&urls.join(","))
        .edge(|settings| settings.tasks_resolve_interval_ms = 200)
        .start()
        .await;
    assert_eq!(stack.readyz().await.0, 200);

    // 1. Load spreads: every replica gets a share of 60 calls.
    let alice = stack.user("alice");
    for n in 0..30 {
        alice.create(&format!("warm-up {n}")).await;
        alice.list("").await;
    }
    let counts = calls(&replicas);
    eprintln!("calls per replica after 60 requests: {counts:?}");
    assert!(counts.iter().sum::<usize>() >= 60, "{counts:?}");
    assert!(counts.iter().all(|&n| n >= 5), "uneven spread: {counts:?}");

    // 2. Writers and readers run while one replica stops.
    let traffic = Arc::new(Traffic::default());
    let mut workers = Vec::new();
    for writer in 0..2 {
        workers.push(tokio::spawn(write(alice.clone(), writer, traffic.clone())));
    }
    for _ in 0..2 {
        workers.push(tokio::spawn(read(alice.clone(), traffic.clone())));
    }
    eventually("the writers make progress", || async {
        (traffic.acked() >= 5).then_some(())
    })
    .await;
    let stopped = replicas.remove(1);
    let stopped_addr = stopped.addr;
    stopped.stop().await;
    let before = calls(&replicas);
    let acked_at_stop = traffic.acked();
    eventually(
        "both remaining replicas serve and writes go on after the stop",
        || async {
            let grown = calls(&replicas)
                .iter()
                .zip(&before)
                .all(|(now, then)| *now >= then + 20);
            (grown && traffic.acked() >= acked_at_stop + 10).then_some(())
        },
    )
    .await;
    traffic.done.store(true, Ordering::SeqCst);
    for worker in workers {
        worker.await.expect("worker");
    }
    let after = calls(&replicas);
    eprintln!(
        "after the stop: {before:?} -> {after:?}; {} writes refused",
        traffic.refused_writes.load(Ordering::SeqCst)
    );
    assert!(
        before.iter().zip(&after).all(|(b, a)| a > b),
        "both remaining replicas keep serving: {before:?} -> {after:?}"
    );
    let failed = traffic.failed_reads.lock().expect("lock").clone();
    assert!(failed.is_empty(), "reads failed: {failed:?}");

    // 3. No acknowledged write is lost: each one reads back, and the list
    // holds them all.
    let acked = traffic.acknowledged.lock().expect("lock").clone();
    assert!(
        acked.len() > 10,
        "the writers made progress: {}",
        acked.len()
    );
    let listed: BTreeMap<i64, String> = alice
        .list("?limit=1000")
        .await
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
        alice.get(alice.task(*id)).context(title).expect(200).await;
    }

    // 4. The stopped replica comes back on its address and is used again.
    let back = Replica::start(&db, stopped_addr).await;
    eventually("the replica that came back gets calls", || async {
        alice.list("").await;
        (back.calls() > 0).then_some(())
    })
    .await;

    stack.finish().await;
    back.stop().await;
    for replica in replicas {
        replica.stop().await;
    }
    db.cleanup().await.expect("cleanup");
}
