//! Through a real Envoy: `deploy/envoy/envoy.yaml` as shipped (only its
//! addresses swapped for the test's) in front of an upstream that echoes the
//! request it got, with auth-verify as the external authorizer. Checks what
//! a client gets back and what the upstream sees.
//!
//! Needs an Envoy binary (`ENVOY_BIN`, or `envoy` on PATH), so it is ignored
//! by a plain `cargo nextest run`; `just test-envoy` installs Envoy when
//! missing and runs it (`just test` and CI do).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use auth_core::AuthSettings;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::common;

const SECRET: &str = "envoy-e2e-test-secret-0123456789abcdef";
const URL: &str = "http://localhost:3000";

fn token(sub: &str, secret: &str) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = json!({"sub": sub, "iss": URL, "aud": URL, "iat": now, "exp": now + 900});
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

/// An HTTP/1.1 upstream that answers 200 with the request head it received.
async fn echo_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    head.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.write_all(&head).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    addr
}

/// The values of header `name` in an echoed request head.
fn echoed(head: &str, name: &str) -> Vec<String> {
    head.lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .filter(|(key, _)| key.trim().eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim().to_owned())
        .collect()
}

fn envoy_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("ENVOY_BIN") {
        return PathBuf::from(path);
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("envoy"))
        .find(|path| path.is_file())
        .expect(
            "no Envoy binary: set ENVOY_BIN or put envoy on PATH (`just test-envoy` installs one)",
        )
}

/// The shipped example with this test's addresses; each replaced line must
/// be there exactly once, so a change to the example fails loudly here.
fn example_config(auth_verify: SocketAddr, upstream: SocketAddr) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/envoy/envoy.yaml");
    let mut config = std::fs::read_to_string(&path).expect("deploy/envoy/envoy.yaml");
    for (from, to) in [
        (
            "{ address: 0.0.0.0, port_value: 10000 }".to_owned(),
            "{ address: 127.0.0.1, port_value: 0 }".to_owned(),
        ),
        (
            "{ address: 127.0.0.1, port_value: 9901 }".to_owned(),
            "{ address: 127.0.0.1, port_value: 0 }".to_owned(),
        ),
        (
            "{ address: auth-verify, port_value: 50051 }".to_owned(),
            format!(
                "{{ address: 127.0.0.1, port_value: {} }}",
                auth_verify.port()
            ),
        ),
        (
            "{ address: app, port_value: 8080 }".to_owned(),
            format!("{{ address: 127.0.0.1, port_value: {} }}", upstream.port()),
        ),
    ] {
        assert_eq!(config.matches(&from).count(), 1, "{from} in envoy.yaml");
        config = config.replace(&from, &to);
    }
    config
}

/// A running Envoy, killed when dropped; its log is printed on failure.
struct Envoy {
    child: Child,
    dir: PathBuf,
    listener: SocketAddr,
}

impl Envoy {
    async fn start(config: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "auth-verify-envoy-{}-{}",
            std::process::id(),
            jsonwebtoken::get_current_timestamp()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("envoy.yaml"), config).expect("write config");
        let log = std::fs::File::create(dir.join("envoy.log")).expect("log file");
        let child = Command::new(envoy_binary())
            .arg("--config-path")
            .arg(dir.join("envoy.yaml"))
            .arg("--admin-address-path")
            .arg(dir.join("admin"))
            .args([
                "--disable-hot-restart",
                "--concurrency",
                "1",
                "--log-level",
                "warn",
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start envoy");
        let mut envoy = Self {
            child,
            dir,
            listener: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        envoy.listener = envoy.wait_ready().await;
        envoy
    }

    /// Waits for the admin endpoint to say LIVE; the public listener's address.
    async fn wait_ready(&mut self) -> SocketAddr {
        let started = Instant::now();
        let http = reqwest::Client::new();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("envoy exited with {status}:\n{}", self.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "envoy not ready:\n{}",
                self.log()
            );
            if let Ok(admin) = std::fs::read_to_string(self.dir.join("admin")) {
                let admin = admin.trim();
                let ready = http.get(format!("http://{admin}/ready")).send().await;
                if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                    let listeners: Value = http
                        .get(format!("http://{admin}/listeners?format=json"))
                        .send()
                        .await
                        .expect("listeners")
                        .json()
                        .await
                        .expect("listeners JSON");
                    let address =
                        &listeners["listener_statuses"][0]["local_address"]["socket_address"];
                    let port = address["port_value"].as_u64().expect("listener port");
                    return SocketAddr::from(([127, 0, 0, 1], u16::try_from(port).expect("port")));
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.listener)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("envoy.log")).unwrap_or_default()
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("envoy log:\n{}", self.log());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The problem+json answer Envoy relayed: status, challenge, body.
async fn problem(response: reqwest::Response) -> (StatusCode, Option<String>, Value) {
    let status = response.status();
    let headers = response.headers();
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{status}"
    );
    let challenge = headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: Value = response.json().await.expect("problem+json body");
    assert_eq!(body["status"], status.as_u16());
    (status, challenge, body)
}

#[tokio::test]
#[ignore = "needs an Envoy binary (ENVOY_BIN or envoy on PATH): `just test-envoy`"]
async fn requests_through_envoy_are_judged_by_auth_verify() {
    let auth_verify = common::spawn(AuthSettings::hs256(SECRET, URL)).await;
    let upstream = echo_upstream().await;
    let envoy = Envoy::start(&example_config(auth_verify.addr(), upstream)).await;
    let http = reqwest::Client::new();
    let good = format!("Bearer {}", token("user-1", SECRET));

    // Allowed: the upstream gets our x-user-id and nothing a client claimed.
    let response = http
        .get(envoy.url("/api/user-1/tasks?status=all"))
        .header("authorization", &good)
        .header("x-user-id", "victim")
        .header("x-user-id", "victim-2")
        .header("x-forwarded-user", "victim")
        .header("x-internal-auth", "forged")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let head = response.text().await.expect("echo");
    assert!(
        head.starts_with("GET /api/user-1/tasks?status=all "),
        "{head}"
    );
    assert_eq!(echoed(&head, "x-user-id"), ["user-1"], "{head}");
    for name in ["x-forwarded-user", "x-internal-auth", "x-user-id-bin"] {
        assert!(
            echoed(&head, name).is_empty(),
            "{name} reached the upstream: {head}"
        );
    }
    assert_eq!(echoed(&head, "authorization"), [good.as_str()]);

    // Probes need no token (ext_authz is off for that route).
    let health = http
        .get(envoy.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);

    // No token, a forged one, an oversized one: the edge's 401s.
    let response = http
        .get(envoy.url("/api/user-1/tasks"))
        .send()
        .await
        .expect("request");
    let (status, challenge, body) = problem(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="todo""#));
    assert_eq!(body["detail"], "missing bearer token");

    let forged = format!(
        "Bearer {}",
        token("user-1", "another-secret-another-secret-012345")
    );
    let oversized = format!("Bearer {}", "a".repeat(20 * 1024));
    for (auth, reason) in [
        (forged.as_str(), "token signature is invalid"),
        (oversized.as_str(), "token is larger than 8 KiB"),
    ] {
        let response = http
            .get(envoy.url("/api/user-1/tasks"))
            .header("authorization", auth)
            .send()
            .await
            .expect("request");
        let (status, challenge, _) = problem(response).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{reason}");
        let challenge = challenge.expect("challenge");
        assert!(
            challenge.contains(r#"error="invalid_token""#),
            "{challenge}"
        );
        assert!(challenge.contains(reason), "{challenge}");
    }

    // Another user's path: 403, nothing forwarded.
    let response = http
        .get(envoy.url("/api/user-2/tasks"))
        .header("authorization", &good)
        .send()
        .await
        .expect("request");
    let (status, challenge, body) = problem(response).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(challenge, None);
    assert_eq!(body["title"], "Forbidden");

    // Malformed credentials: two Authorization headers, a token in the query.
    let two = http
        .get(envoy.url("/api/user-1/tasks"))
        .header("authorization", &good)
        .header("authorization", &good)
        .send()
        .await
        .expect("request");
    let query = http
        .get(envoy.url(&format!(
            "/api/user-1/tasks?access_token={}",
            token("user-1", SECRET)
        )))
        .send()
        .await
        .expect("request");
    for response in [two, query] {
        let (status, challenge, _) = problem(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            challenge.is_some_and(|c| c.contains(r#"error="invalid_request""#)),
            "invalid_request challenge"
        );
    }

    // auth-verify gone: Envoy fails closed (503), even with a good token.
    auth_verify.shutdown().await.expect("auth-verify stopped");
    let response = http
        .get(envoy.url("/api/user-1/tasks"))
        .header("authorization", &good)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = response.text().await.expect("body");
    assert!(!body.contains("GET /api/"), "reached the upstream: {body}");
}
