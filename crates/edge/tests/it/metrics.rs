//! Each service's `GET /metrics` on its admin listener, scraped before and
//! after some traffic and parsed by the Prometheus project's own parser
//! (Python `prometheus_client`, through `tests/metrics/parse.py`): the
//! counters moved exactly as the traffic says, every family has its help
//! text, and no label carries a user id.
//!
//! The services run in one process here, so their admin listeners render
//! one registry; each binary has its own (`tasks` is checked that way in
//! the tasks crate's `run` tests). nextest runs each test in its own
//! process, so the counts are this test's alone.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::{Command, Stdio};

use auth_core::AuthSettings;
use auth_core::testing::{JwksServer, TestKey, claims, eventually};
use serde_json::{Value, json};

use crate::common::{Stack, Verify};
use tasks::testing::Backend;

/// One scrape, parsed.
struct Scrape {
    families: Vec<Value>,
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
    text: String,
}

impl Scrape {
    /// `GET {admin}/metrics`, parsed by `prometheus_client`.
    async fn of(admin: &str) -> Self {
        let response = reqwest::get(format!("{admin}/metrics"))
            .await
            .expect("GET /metrics");
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().expect("ascii");
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        let text = response.text().await.expect("metrics text");
        let parsed = parse(&text);
        let samples = parsed["samples"]
            .as_array()
            .expect("samples")
            .iter()
            .map(|sample| {
                let labels = sample["labels"]
                    .as_object()
                    .expect("labels")
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().expect("label").to_owned()))
                    .collect();
                let value = sample["value"].as_f64().expect("value");
                (
                    sample["name"].as_str().expect("name").to_owned(),
                    labels,
                    value,
                )
            })
            .collect();
        let families = parsed["families"].as_array().expect("families").clone();
        Self {
            families,
            samples,
            text,
        }
    }

    /// The value of the sample `name` whose labels include `labels`, summed
    /// over the others (0 when there is none).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, value)| value)
            .sum()
    }

    fn has(&self, name: &str) -> bool {
        self.samples.iter().any(|(n, _, _)| n == name)
    }

    /// Every family with the given prefix has help text.
    fn all_described(&self, prefix: &str) {
        let ours: Vec<_> = self
            .families
            .iter()
            .filter(|f| f["name"].as_str().is_some_and(|n| n.starts_with(prefix)))
            .collect();
        assert!(!ours.is_empty(), "no {prefix}* metrics in\n{}", self.text);
        for family in ours {
            let help = family["help"].as_str().unwrap_or_default();
            assert!(help.len() > 10, "{} has no help text", family["name"]);
        }
    }
}

/// Runs `tests/metrics/parse.py` on `text`.
fn parse(text: &str) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/metrics/parse.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (the metrics tests parse with prometheus_client)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write the metrics");
    let output = child.wait_with_output().expect("parse.py");
    assert!(
        output.status.success(),
        "parse.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("parse.py prints JSON")
}

/// What the scrape before and after differ by.
fn delta(before: &Scrape, after: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    after.value(name, labels) - before.value(name, labels)
}

#[tokio::test]
async fn every_service_counts_the_traffic_it_served() {
    let stack = Stack::builder()
        .backend(Backend::Sqlite)
        .verify(Verify::Remote)
        .start()
        .await;
    stack.wait_ready().await;
    let admin = stack.admin();
    let urls = [
        admin.edge.as_ref().expect("edge admin").url(),
        admin.tasks.as_ref().expect("tasks admin").url(),
        admin.auth_verify.as_ref().expect("auth-verify admin").url(),
    ];
    let mut before = Vec::new();
    for url in &urls {
        before.push(Scrape::of(url).await);
    }

    let alice = stack.user("alice");
    alice.create("counted").await;
    assert_eq!(alice.list("").await.len(), 1);
    let mut expired = stack.claims(&stack.user_id("alice"));
    let now = jsonwebtoken::get_current_timestamp();
    expired["iat"] = json!(now - 7200);
    expired["exp"] = json!(now - 3600);
    let token = stack.sign(&expired);
    let late = stack.client(&stack.user_id("alice"), &token);
    late.get(late.tasks()).expect(401).await;
    stack.anonymous().get("/no/such/route").expect(404).await;

    let [edge, tasks, auth_verify] = [&urls[0], &urls[1], &urls[2]];
    let (edge_after, tasks_after, verify_after) = (
        Scrape::of(edge).await,
        Scrape::of(tasks).await,
        Scrape::of(auth_verify).await,
    );
    let route = "/api/{user_id}/tasks";

    // The edge: requests by route template, method and status.
    let http = "edge_http_requests_total";
    let b = &before[0];
    let e = &edge_after;
    assert_eq!(
        delta(
            b,
            e,
            http,
            &[("route", route), ("method", "GET"), ("status", "200")]
        ),
        1.0
    );
    assert_eq!(
        delta(
            b,
            e,
            http,
            &[("route", route), ("method", "POST"), ("status", "201")]
        ),
        1.0
    );
    assert_eq!(
        delta(
            b,
            e,
            http,
            &[("route", route), ("method", "GET"), ("status", "401")]
        ),
        1.0
    );
    assert_eq!(
        delta(b, e, http, &[("route", "unmatched"), ("status", "404")]),
        1.0
    );
    let latency = "edge_http_request_duration_seconds_count";
    assert_eq!(
        delta(b, e, latency, &[("route", route), ("method", "GET")]),
        2.0
    );
    assert!(e.has("edge_http_request_duration_seconds_bucket"));
    // Its upstream calls: two to tasks, three verifications by auth-verify.
    let calls = "edge_upstream_calls_total";
    let tasks_call = |op| [("upstream", "tasks"), ("operation", op), ("outcome", "ok")];
    assert_eq!(delta(b, e, calls, &tasks_call("ListTasks")), 1.0);
    assert_eq!(delta(b, e, calls, &tasks_call("CreateTask")), 1.0);
    let verify = |outcome| [("upstream", "auth-verify"), ("outcome", outcome)];
    assert_eq!(delta(b, e, calls, &verify("ok")), 2.0);
    assert_eq!(delta(b, e, calls, &verify("unauthenticated")), 1.0);
    e.all_described("edge_");

    // tasks: its RPCs by method and code, query latency, the pool.
    let (b, t) = (&before[1], &tasks_after);
    let rpc = "tasks_grpc_requests_total";
    let list = [("method", "todo.tasks.v1.Tasks/ListTasks"), ("code", "ok")];
    assert_eq!(delta(b, t, rpc, &list), 1.0);
    let create = [("method", "todo.tasks.v1.Tasks/CreateTask"), ("code", "ok")];
    assert_eq!(delta(b, t, rpc, &create), 1.0);
    let queries = "tasks_db_query_duration_seconds_count";
    assert_eq!(delta(b, t, queries, &[("operation", "list")]), 1.0);
    assert_eq!(
        t.value("tasks_db_pool_max_connections", &[]),
        1.0,
        "SQLite: one connection"
    );
    let pool = "tasks_db_pool_connections";
    let in_use = t.value(pool, &[("state", "in_use")]);
    let idle = t.value(pool, &[("state", "idle")]);
    assert_eq!(in_use + idle, 1.0, "in use {in_use} + idle {idle}");
    t.all_described("tasks_");

    // auth-verify: Verify calls by code, and auth-core's reasons.
    let (b, v) = (&before[2], &verify_after);
    let verify_rpc = "auth_verify_grpc_requests_total";
    let method = ("method", "todo.auth.v1.AuthVerify/Verify");
    assert_eq!(delta(b, v, verify_rpc, &[method, ("code", "ok")]), 2.0);
    assert_eq!(
        delta(b, v, verify_rpc, &[method, ("code", "unauthenticated")]),
        1.0
    );
    let verifications = "auth_token_verifications_total";
    let expired = [
        ("result", "invalid"),
        ("reason", "expired"),
        ("mode", "hs256"),
    ];
    assert_eq!(delta(b, v, verifications, &expired), 1.0);
    let ok = [("result", "ok"), ("reason", "ok"), ("mode", "hs256")];
    assert_eq!(delta(b, v, verifications, &ok), 2.0);
    v.all_described("auth_");

    // Bounded labels: route templates, never the raw path or the user.
    for scrape in [&edge_after, &tasks_after, &verify_after] {
        assert!(
            !scrape.text.contains(&stack.user_id("alice")),
            "a user id in a label"
        );
    }
    stack.finish().await;
}

#[tokio::test]
async fn jwks_health_and_unknown_kids_are_counted() {
    let key = TestKey::ed25519_a("metrics");
    let server = JwksServer::start(&[key.jwk()]).await;
    let web = server.base_url();
    let stack = Stack::builder()
        .auth(AuthSettings::jwks(&web))
        .verify(Verify::Local)
        .start()
        .await;
    stack.wait_ready().await;
    let admin = stack.admin().edge.as_ref().expect("edge admin").url();
    let before = Scrape::of(&admin).await;
    assert_eq!(
        before.value("auth_jwks_keys_loaded", &[]),
        1.0,
        "{}",
        before.text
    );
    assert!(before.value("auth_jwks_fetches_total", &[("result", "ok")]) >= 1.0);
    let age = before.value("auth_jwks_seconds_since_last_success", &[]);
    assert!((0.0..300.0).contains(&age), "age {age}");
    assert!(before.value("auth_jwks_last_success_timestamp_seconds", &[]) > 1.7e9);

    let other = TestKey::ed25519_b("not-published");
    let token = other.sign(&claims("alice", &web));
    let alice = stack.client("alice", &token);
    alice.get(alice.tasks()).expect(401).await;
    // The unknown kid made the edge refetch the set: wait for it to count.
    let after = eventually("the refetch counted", || async {
        let after = Scrape::of(&admin).await;
        (after.value("auth_jwks_fetches_total", &[]) > before.value("auth_jwks_fetches_total", &[]))
            .then_some(after)
    })
    .await;
    let unknown = [
        ("result", "invalid"),
        ("reason", "unknown_kid"),
        ("mode", "jwks"),
    ];
    assert_eq!(
        delta(&before, &after, "auth_token_verifications_total", &unknown),
        1.0
    );
    stack.finish().await;
}
