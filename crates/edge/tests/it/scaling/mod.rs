//! The compose topology run natively: one edge (verifying through
//! auth-verify), three tasks replicas on one database, and `TASKS_URL`
//! listing the three. Load spreads over every replica; stopping one loses no
//! acknowledged write and fails no read; a replica that comes back is used
//! again. Each replica has a pool of its own, as a separate process would,
//! on PostgreSQL or on one SQLite file.

mod replica;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use auth_core::testing::eventually;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tasks::testing::{Backend, TestDatabase};

use crate::common::{Client, Stack, Verify};
use replica::Replica;

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
    replica::count_calls();
    let db = match backend {
        Backend::Sqlite => TestDatabase::sqlite_file().await,
        Backend::Postgres => TestDatabase::postgres().await,
    }
    .expect("database");
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
