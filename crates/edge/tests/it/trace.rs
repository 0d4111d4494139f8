//! One request is one trace, from the edge to the SQL: the edge's request
//! span, its token verification (and, in remote mode, auth-verify's call
//! span, across that hop), the handler and its call to tasks, then (across
//! the gRPC hop, through `traceparent`) tasks' call span, its service
//! method, the repository function and the SQL statement, all in one trace,
//! each the child of the one before, with the caller's `user_id` recorded
//! and the task's text and the token in no attribute of any span.

use std::sync::{Arc, Mutex};

use auth_core::testing::eventually;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use serde_json::json;
use tasks::testing::Backend;
use tracing::subscriber::DefaultGuard;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;

use crate::common::{Stack, Target, Verify};

const TITLE: &str = "a title that must not be traced";
const DESCRIPTION: &str = "a description that must not be traced";

/// Keeps every finished span.
#[derive(Debug, Clone, Default)]
struct Collected(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Collected {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        self.0.lock().expect("spans").extend(batch);
        async { Ok(()) }
    }
}

impl Collected {
    /// Collects the spans of every service started on this thread from now
    /// on, until the guard is dropped, at the services' default level
    /// (`RUST_LOG=info`; sea-orm's `trace` spans would sit between the
    /// repository and the statement).
    fn install(&self) -> DefaultGuard {
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(self.clone())
            .build();
        let subscriber = tracing_subscriber::registry()
            .with(LevelFilter::INFO)
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::set_default(subscriber)
    }

    fn all(&self) -> Vec<SpanData> {
        self.0.lock().expect("spans").clone()
    }

    /// The edge's span for the one `POST` the test sends.
    fn post_request(&self) -> Option<SpanData> {
        self.all().into_iter().find(|span| {
            span.name == "request" && attribute(span, "method").as_deref() == Some("POST")
        })
    }

    /// The span whose parent is `parent`, in its trace, that `wanted` picks.
    fn child_where(
        &self,
        parent: &SpanData,
        wanted: impl Fn(&SpanData) -> bool,
    ) -> Option<SpanData> {
        self.all().into_iter().find(|span| {
            span.parent_span_id == parent.span_context.span_id()
                && span.span_context.trace_id() == parent.span_context.trace_id()
                && wanted(span)
        })
    }

    /// The span called `name` whose parent is `parent`, in its trace.
    fn child(&self, parent: &SpanData, name: &str) -> SpanData {
        self.child_where(parent, |span| span.name == name)
            .unwrap_or_else(|| panic!("no {name:?} span under {:?}", parent.name))
    }
}

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

/// Asserts that `span` has attribute `key` equal to `value`.
fn assert_attribute(span: &SpanData, key: &str, value: &str) {
    assert_eq!(
        attribute(span, key).as_deref(),
        Some(value),
        "{}: {key} in {:?}",
        span.name,
        span.attributes
    );
}

/// One traced `POST /api/{user}/tasks` through a stack of `backend` and
/// `verify`: the spans, the stack, the user and the token the client sent.
struct Traced {
    spans: Collected,
    stack: Stack,
    user_id: String,
    token: String,
    _collecting: DefaultGuard,
}

async fn one_traced_request(backend: Backend, verify: Verify) -> Traced {
    let spans = Collected::default();
    let collecting = spans.install();
    let stack = Stack::start(Target::InProcess(backend, verify)).await;
    let user_id = stack.user_id("alice");
    let token = stack.sign(&stack.claims(&user_id));
    let alice = stack.client(&user_id, &token);
    alice
        .post(alice.tasks())
        .json(json!({ "title": TITLE, "description": DESCRIPTION }))
        .expect(201)
        .await;
    // The edge's request span ends once the response is written.
    eventually("the edge's request span ends", || async {
        spans.post_request()
    })
    .await;
    Traced {
        spans,
        stack,
        user_id,
        token,
        _collecting: collecting,
    }
}

impl Traced {
    /// From the edge's request span down to the SQL statement, each span the
    /// child of the one before: request → handler → tasks call, then in
    /// tasks gRPC call → service method → repository → statement. Returns
    /// the chain, the statement's span last.
    fn request_to_sql(&self) -> Vec<SpanData> {
        let request = self.spans.post_request().expect("the request span");
        assert!(target(&request).starts_with("edge"), "{request:?}");
        let mut chain = vec![request];
        for name in ["create task", "tasks call", "grpc", "create_task", "create"] {
            let parent = chain.last().expect("a parent");
            chain.push(self.spans.child(parent, name));
        }
        let repository = chain.last().expect("the repository span");
        let statement = self
            .spans
            .child_where(repository, |span| span.name.starts_with("sea_orm."))
            .unwrap_or_else(|| panic!("no SQL statement span under {:?}", repository.name));
        chain.push(statement);

        // Spans from both services, in one trace.
        let trace_id = chain[0].span_context.trace_id();
        for span in &chain {
            assert_eq!(span.span_context.trace_id(), trace_id, "{}", span.name);
        }
        assert!(target(&chain[1]).starts_with("edge::"), "{:?}", chain[1]);
        assert_attribute(&chain[3], "method", "/todo.tasks.v1.Tasks/CreateTask");
        for span in &chain[4..6] {
            assert!(target(span).starts_with("tasks::"), "{span:?}");
        }
        // The handler, the calls and the repository record the user.
        for span in &chain[1..6] {
            assert_attribute(span, "user_id", &self.user_id);
        }
        chain
    }

    /// The edge's `verify token` span, a child of the request span.
    fn verification(&self, mode: &str) -> SpanData {
        let request = self.spans.post_request().expect("the request span");
        let verify = self.spans.child(&request, "verify token");
        assert_attribute(&verify, "mode", mode);
        assert_attribute(&verify, "outcome", "ok");
        assert_attribute(&verify, "user_id", &self.user_id);
        verify
    }

    /// No attribute of any span or span event (nor any span or event name,
    /// nor a span's status) holds the token, its signature, or the task's
    /// text.
    fn assert_nothing_secret(&self) {
        let signature = self.token.rsplit('.').next().expect("a signature");
        let secrets = [
            ("the token", self.token.as_str()),
            ("its signature", signature),
            ("the title", TITLE),
            ("the description", DESCRIPTION),
        ];
        let spans = self.spans.all();
        assert!(!spans.is_empty());
        for span in &spans {
            let mut texts = vec![
                ("span name".to_owned(), span.name.to_string()),
                ("status".to_owned(), format!("{:?}", span.status)),
            ];
            let attributes = span
                .attributes
                .iter()
                .map(|kv| (kv.key.to_string(), kv.value.to_string()));
            texts.extend(attributes);
            for event in span.events.iter() {
                texts.push(("event name".to_owned(), event.name.to_string()));
                let attributes = event
                    .attributes
                    .iter()
                    .map(|kv| (kv.key.to_string(), kv.value.to_string()));
                texts.extend(attributes);
            }
            for (key, text) in &texts {
                for (what, secret) in secrets {
                    assert!(
                        !text.contains(secret),
                        "span {:?}, {key}: holds {what}",
                        span.name
                    );
                }
            }
        }
    }
}

fn target(span: &SpanData) -> String {
    attribute(span, "target").unwrap_or_default()
}

// One thread: the edge, tasks, auth-verify and the client all run on it,
// so this thread's default subscriber sees every span of every service.
#[tokio::test(flavor = "current_thread")]
async fn a_request_is_one_trace_from_the_edge_to_the_sql_statement() {
    let traced = one_traced_request(Backend::Sqlite, Verify::Local).await;
    traced.verification("local");
    let chain = traced.request_to_sql();

    let statement = chain.last().expect("the statement");
    assert_attribute(statement, "db.system", "sqlite");
    assert_attribute(statement, "db.operation", "INSERT");
    let sql = attribute(statement, "db.statement").expect("db.statement");
    assert!(sql.starts_with(r#"INSERT INTO "tasks""#), "{sql}");
    // The text with placeholders; the values are never recorded.
    assert!(sql.contains('?'), "{sql}");
    traced.assert_nothing_secret();
    traced.stack.finish().await;
}

#[tokio::test(flavor = "current_thread")]
async fn in_remote_mode_auth_verify_joins_the_trace() {
    let traced = one_traced_request(Backend::Postgres, Verify::Remote).await;
    let verify = traced.verification("remote");
    // auth-verify's call span, across the hop, under the edge's.
    let call = traced.spans.child(&verify, "grpc");
    assert_attribute(&call, "method", "/todo.auth.v1.AuthVerify/Verify");
    assert_attribute(&call, "user_id", &traced.user_id);

    let chain = traced.request_to_sql();
    let statement = chain.last().expect("the statement");
    assert_attribute(statement, "db.system", "postgresql");
    let sql = attribute(statement, "db.statement").expect("db.statement");
    assert!(sql.contains("$1"), "{sql}");
    traced.assert_nothing_secret();
    traced.stack.finish().await;
}
