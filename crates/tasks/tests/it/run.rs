//! Start-up as the binary does it: `run` on the embedded SQLite file keeps
//! tasks across restarts, and a missing or short internal secret stops the
//! service before it serves anything.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use auth_core::testing::eventually;
use proto::tasks::tasks_client::TasksClient;
use proto::tasks::{CreateTaskRequest, ListTasksRequest};
use tasks::Settings;
use tasks::testing::TEST_INTERNAL_SECRET;
use tonic::transport::Channel;

use crate::common::{ALICE, as_user};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tasks-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Runs the service once through `tasks::run`, with `settings`, around `body`.
async fn with_service<F, Fut>(settings: Settings, body: F)
where
    F: FnOnce(TasksClient<Channel>) -> Fut,
    Fut: Future<Output = ()>,
{
    let server = tasks::testing::start(settings).await.expect("start");
    // The port is bound at once; the service accepts once it has migrated.
    let client = eventually("the service accepts connections", || async {
        TasksClient::connect(server.url()).await.ok()
    })
    .await;
    body(client).await;
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn run_on_the_sqlite_file_keeps_tasks_across_restarts() {
    let dir = temp_dir("run");
    let mut settings = Settings::new(None, TEST_INTERNAL_SECRET);
    settings.tasks_sqlite_path = dir.join("nested/tasks.db");

    with_service(settings.clone(), |mut client| async move {
        let request = CreateTaskRequest {
            title: "Survive a restart".to_owned(),
            description: None,
        };
        client
            .create_task(as_user(request, ALICE))
            .await
            .expect("create");
    })
    .await;
    assert!(
        dir.join("nested/tasks.db").is_file(),
        "the parent directory was created"
    );

    with_service(settings, |mut client| async move {
        let listed = client
            .list_tasks(as_user(ListTasksRequest::default(), ALICE))
            .await
            .expect("list")
            .into_inner();
        let titles: Vec<_> = listed.tasks.into_iter().map(|t| t.title).collect();
        assert_eq!(titles, ["Survive a restart"]);
    })
    .await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn run_refuses_a_short_internal_secret() {
    let err = Settings::new(None, "too-short")
        .validate()
        .err()
        .expect("refused");
    assert!(err.to_string().contains("INTERNAL_AUTH_SECRET"), "{err}");
}

/// The binary's exit status and stderr, with `INTERNAL_AUTH_SECRET` set to
/// `secret` (or unset); killed if still running after a few seconds (it
/// should refuse at once).
fn run_binary(secret: Option<&str>) -> (bool, String) {
    let dir = temp_dir("bin");
    let mut command = Command::new(env!("CARGO_BIN_EXE_tasks"));
    command
        .env_remove("INTERNAL_AUTH_SECRET")
        .env_remove("DATABASE_URL")
        .env_remove("CONFIG_FILE")
        .env("TASKS_LISTEN_ADDR", "127.0.0.1:0")
        .env("TASKS_SQLITE_PATH", dir.join("tasks.db"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(secret) = secret {
        command.env("INTERNAL_AUTH_SECRET", secret);
    }
    let mut child = command.spawn().expect("spawn the tasks binary");
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    let _ = std::fs::remove_dir_all(dir);
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_binary_refuses_a_missing_or_short_secret_in_one_line() {
    for (secret, expected) in [
        (None, "INTERNAL_AUTH_SECRET is not set"),
        (Some("s3cr3t"), "only 6 bytes"),
    ] {
        let (success, stderr) = run_binary(secret);
        assert!(!success, "exit status must be non-zero");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        if let Some(secret) = secret {
            assert!(!stderr.contains(secret), "the secret is not echoed");
        }
    }
}

/// One plain HTTP/1.0 GET on `addr`: the status line's code and the body.
async fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}

/// The binary with `TASKS_ADMIN_LISTEN_ADDR` serves `/metrics` (the pool
/// gauges, sampled at the scrape) and the detailed `/readyz` there, apart
/// from its gRPC port.
#[tokio::test]
async fn the_binary_serves_metrics_and_readiness_on_its_admin_address() {
    let dir = temp_dir("admin");
    // A free port: bound to port 0, then released for the binary.
    let admin = auth_core::testing::unused_addr().to_string();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tasks"))
        .env_remove("DATABASE_URL")
        .env_remove("CONFIG_FILE")
        .env("INTERNAL_AUTH_SECRET", TEST_INTERNAL_SECRET)
        .env("TASKS_LISTEN_ADDR", "127.0.0.1:0")
        .env("TASKS_ADMIN_LISTEN_ADDR", &admin)
        .env("TASKS_SQLITE_PATH", dir.join("tasks.db"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the tasks binary");
    let (status, body) =
        eventually("the admin listener answers", || http_get(&admin, "/readyz")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""database":"answers""#), "{body}");
    let (status, metrics) = http_get(&admin, "/metrics").await.expect("GET /metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("# HELP tasks_db_pool_connections"),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"tasks_db_pool_max_connections 1"#),
        "{metrics}"
    );
    let _ = child.kill().await;
    let _ = std::fs::remove_dir_all(dir);
}
