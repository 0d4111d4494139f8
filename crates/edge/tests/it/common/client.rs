//! The test client: every call names the status it expects and returns the
//! parsed body, after checking that an error is a proper problem+json:
//! `alice.post(alice.tasks()).json(body).expect(201).await` is the task,
//! `bob.get(path).expect(403).await` the problem.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// Longest any one test request may take (a hang fails the test).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Someone calling the edge: a signed-in user (bearer token) or nobody.
#[derive(Clone)]
pub struct Client {
    /// The user id, for paths (empty for an anonymous client).
    pub id: String,
    token: Option<String>,
    base: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(base: &str, id: &str, token: Option<String>) -> Self {
        Self {
            id: id.to_owned(),
            token,
            base: base.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// The edge's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `/api/{id}/tasks`.
    pub fn tasks(&self) -> String {
        format!("/api/{}/tasks", self.id)
    }

    /// `/api/{id}/tasks/{task}`.
    pub fn task(&self, task: i64) -> String {
        format!("/api/{}/tasks/{task}", self.id)
    }

    /// A request to `path` (which may carry a query string), with this
    /// client's token if it has one.
    pub fn request(&self, method: Method, path: impl AsRef<str>) -> Call {
        let path = path.as_ref();
        let mut builder = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .timeout(REQUEST_TIMEOUT);
        if let Some(token) = &self.token {
            builder = builder.bearer_auth(token);
        }
        Call {
            builder,
            what: format!("{method} {path}"),
        }
    }

    pub fn get(&self, path: impl AsRef<str>) -> Call {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: impl AsRef<str>) -> Call {
        self.request(Method::POST, path)
    }

    pub fn put(&self, path: impl AsRef<str>) -> Call {
        self.request(Method::PUT, path)
    }

    pub fn patch(&self, path: impl AsRef<str>) -> Call {
        self.request(Method::PATCH, path)
    }

    pub fn delete(&self, path: impl AsRef<str>) -> Call {
        self.request(Method::DELETE, path)
    }

    /// Creates a task with this title: 201, the task.
    pub async fn create(&self, title: &str) -> Value {
        self.post(self.tasks())
            .json(json!({ "title": title }))
            .expect(201)
            .await
    }

    /// Lists the tasks with this query (`""`, `"?status=completed"`…): 200.
    pub async fn list(&self, query: &str) -> Vec<Value> {
        let listed = self
            .get(format!("{}{query}", self.tasks()))
            .expect(200)
            .await;
        serde_json::from_value(listed).expect("a JSON array")
    }
}

/// One request being built.
#[must_use = "a call does nothing until it is sent"]
pub struct Call {
    builder: reqwest::RequestBuilder,
    what: String,
}

impl Call {
    pub fn json(mut self, body: Value) -> Self {
        self.builder = self.builder.json(&body);
        self
    }

    /// A raw body with this content type.
    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.builder = self
            .builder
            .header("content-type", content_type)
            .body(body.into());
        self
    }

    pub fn header(mut self, name: &str, value: impl AsRef<str>) -> Self {
        self.builder = self.builder.header(name, value.as_ref());
        self
    }

    /// `Authorization: Bearer <token>` (replacing none: a client with a
    /// token of its own sends both).
    pub fn bearer(mut self, token: &str) -> Self {
        self.builder = self.builder.bearer_auth(token);
        self
    }

    /// Names this call in failure messages (`POST /api/… (ES256 key)`).
    pub fn context(mut self, note: impl std::fmt::Display) -> Self {
        self.what = format!("{} ({note})", self.what);
        self
    }

    /// Sends, for a test that looks at the raw response.
    pub async fn send(self) -> reqwest::Response {
        let what = self.what;
        self.builder
            .send()
            .await
            .unwrap_or_else(|error| panic!("{what}: {error}"))
    }

    /// Sends: the status, or `None` when no answer came (a test that
    /// counts failures instead of stopping at the first).
    pub async fn try_status(self) -> Option<reqwest::StatusCode> {
        self.builder.send().await.ok().map(|r| r.status())
    }

    /// Sends, checks the status (and that an error is a problem, a 204
    /// empty), and returns the headers and the parsed body (`null` if empty).
    pub async fn reply(self, status: u16) -> Reply {
        let what = self.what.clone();
        let response = self.send().await;
        let actual = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .unwrap_or_else(|error| panic!("{what}: reading the body: {error}"));
        let text = String::from_utf8_lossy(&bytes);
        assert_eq!(actual, status, "{what}: answered {actual}: {text}");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|error| panic!("{what}: body is not JSON ({error}): {text}"))
        };
        if status == 204 {
            assert!(bytes.is_empty(), "{what}: 204 with a body: {text}");
        }
        if status >= 400 {
            assert_problem(&what, status, &headers, &body);
        }
        Reply { headers, body }
    }

    /// [`Call::reply`], for the body only.
    pub async fn expect(self, status: u16) -> Value {
        self.reply(status).await.body
    }
}

/// A response whose status was checked.
pub struct Reply {
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// A header that must be present, as text.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
            .to_str()
            .expect("a visible-ASCII header")
    }
}

/// An RFC 9457 problem with this status: `application/problem+json`,
/// `type`, `title`, `status`, and a `detail` (FastAPI clients read it).
fn assert_problem(what: &str, status: u16, headers: &HeaderMap, body: &Value) {
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{what}: problem content type"
    );
    assert_eq!(body["status"], status, "{what}: {body}");
    assert_eq!(body["type"], "about:blank", "{what}: {body}");
    assert!(body["title"].is_string(), "{what}: {body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{what}: {body}"
    );
}
