//! One request is one trace, from the edge to the SQL: the edge's request
//! and handler spans, the tasks call, then (across the gRPC hop, through
//! `traceparent`) tasks' call span, its service method and the repository
//! function, all in one trace, each the child of the one before, with the
//! caller's `user_id` recorded and the task's text and the token nowhere.

use std::sync::{Arc, Mutex};

use auth_core::testing::eventually;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use serde_json::json;
use tasks::testing::Backend;
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
    fn named(&self, name: &str) -> Option<SpanData> {
        let spans = self.0.lock().expect("spans");
        spans.iter().find(|span| span.name == name).cloned()
    }

    /// The span called `name` whose parent is `parent`, in its trace.
    fn child(&self, parent: &SpanData, name: &str) -> Option<SpanData> {
        let spans = self.0.lock().expect("spans");
        spans
            .iter()
            .find(|span| {
                span.name == name
                    && span.parent_span_id == parent.span_context.span_id()
                    && span.span_context.trace_id() == parent.span_context.trace_id()
            })
            .cloned()
    }

    fn attribute(span: &SpanData, key: &str) -> Option<String> {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    }
}

// One thread: the edge, tasks and the client all run on it, so this
// thread's default subscriber sees every span of both services.
#[tokio::test(flavor = "current_thread")]
async fn a_request_is_one_trace_from_the_edge_handler_to_the_repository() {
    let spans = Collected::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _default = tracing::subscriber::set_default(subscriber);

    let stack = Stack::start(Target::InProcess(Backend::Sqlite, Verify::Local)).await;
    let alice = stack.user("alice");
    alice
        .post(alice.tasks())
        .json(json!({ "title": TITLE, "description": DESCRIPTION }))
        .expect(201)
        .await;

    // The edge's request span ends once the response is written.
    let request = eventually("the edge's request span ends", || async {
        spans.named("request")
    })
    .await;
    // Each span the child of the one before: the edge's handler and its
    // call to tasks, then, across the hop, tasks' gRPC call, its service
    // method and the repository function.
    let mut found = vec![request];
    for name in ["create task", "tasks call", "grpc", "create_task", "create"] {
        let parent = found.last().expect("a parent");
        let child = spans.child(parent, name).unwrap_or_else(|| {
            panic!("no {name:?} span under {:?}", parent.name);
        });
        found.push(child);
    }
    let user_id = stack.user_id("alice");
    for span in &found[1..] {
        assert_eq!(
            Collected::attribute(span, "user_id").as_deref(),
            Some(user_id.as_str()),
            "{} records the user",
            span.name
        );
    }
    let everything = format!("{:?}", spans.0.lock().expect("spans"));
    assert!(
        !everything.contains(TITLE),
        "a task's title is never traced"
    );
    assert!(!everything.contains(DESCRIPTION), "nor its description");
    let token = stack.sign(&stack.claims(&user_id));
    let signature = token.rsplit('.').next().expect("a signature");
    assert!(!everything.contains(signature), "nor a token");

    stack.finish().await;
}
