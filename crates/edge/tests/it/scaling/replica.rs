//! A tasks replica as a separate process would be: the real `tasks::serve`
//! (through `tasks::testing::spawn_on`) with a database pool of its own, on
//! a runtime and a named thread of its own, so that the Tasks calls it
//! receives can be counted from the `grpc` span its trace hook opens for
//! each call (health checks are not counted).

use std::collections::HashMap;
use std::fmt::Debug;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use auth_core::testing::test_log_layer;
use proto::tasks::tasks_server::SERVICE_NAME;
use tasks::testing::{TEST_INTERNAL_SECRET, TestDatabase};
use tokio::sync::oneshot;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// Tasks calls per thread name.
type Calls = Mutex<HashMap<String, usize>>;

/// Installs the call counter (with the `TEST_LOG` layer) as this test
/// process's subscriber, once; call it before starting any service.
///
/// One subscriber for every thread: libraries' own threads (sqlx's SQLite
/// workers) close spans through the global one, so per-thread subscribers
/// would not do.
pub fn count_calls() -> &'static Calls {
    static CALLS: OnceLock<Arc<Calls>> = OnceLock::new();
    CALLS.get_or_init(|| {
        let calls = Arc::<Calls>::default();
        tracing_subscriber::registry()
            .with(CountTasksCalls(Arc::clone(&calls)))
            .with(test_log_layer())
            .try_init()
            .expect(
                "the call counter must be this process's subscriber: run the scaling \
                 tests with cargo nextest (a process per test), as `just test` does",
            );
        calls
    })
}

/// Counts the `grpc` spans of Tasks methods per thread name.
struct CountTasksCalls(Arc<Calls>);

impl<S: tracing::Subscriber> Layer<S> for CountTasksCalls {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        if attrs.metadata().name() != "grpc" {
            return;
        }
        let mut method = MethodField(None);
        attrs.record(&mut method);
        let tasks_call = format!("/{SERVICE_NAME}/");
        if !method.0.is_some_and(|path| path.starts_with(&tasks_call)) {
            return;
        }
        if let Some(thread) = std::thread::current().name() {
            *self
                .0
                .lock()
                .expect("lock")
                .entry(thread.to_owned())
                .or_default() += 1;
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

pub struct Replica {
    pub addr: SocketAddr,
    /// Its thread's name, unique in this process.
    thread_name: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl Replica {
    /// Starts on `addr` (port 0 for a new one); serving when this returns.
    pub async fn start(db: &TestDatabase, addr: SocketAddr) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let thread_name = format!("tasks-replica-{}", NEXT.fetch_add(1, Ordering::SeqCst));
        let listener = std::net::TcpListener::bind(addr).expect("bind");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("addr");
        let url = db.url().to_owned();
        let (serving, is_serving) = oneshot::channel::<()>();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(thread_name.clone())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async move {
                    let db = tasks::connect(&url, 5).await?;
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    let server =
                        tasks::testing::spawn_on(listener, db.clone(), TEST_INTERNAL_SECRET)?;
                    let _ = serving.send(());
                    let _ = stopped.await;
                    server.shutdown().await?;
                    db.close().await?;
                    Ok(())
                })
            })
            .expect("spawn the replica's thread");
        if is_serving.await.is_err() {
            let failed = tokio::task::spawn_blocking(move || thread.join()).await;
            panic!("the replica did not start: {failed:?}");
        }
        Self {
            addr,
            thread_name,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Tasks calls received so far.
    pub fn calls(&self) -> usize {
        let calls = count_calls().lock().expect("lock");
        calls.get(&self.thread_name).copied().unwrap_or(0)
    }

    /// Stops accepting, lets calls in flight finish, and waits for that.
    pub async fn stop(mut self) {
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
