//! The black-box harness: tasks (on SQLite or a fresh PostgreSQL database),
//! optionally auth-verify, and the edge, each started in-process on port 0,
//! and a client that talks to the edge over real HTTP.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use auth_core::AuthSettings;
use edge::{AppState, Settings};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tasks::testing::{TEST_INTERNAL_SECRET, TestDatabase, TestServer, test_database_url};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub const SECRET: &str = "edge-test-better-auth-secret-0123456789";
pub const WEB_URL: &str = "http://localhost:3000";

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone, Copy)]
pub enum Verify {
    /// auth-core inside the edge.
    Local,
    /// The edge calls auth-verify.
    Remote,
}

pub struct Stack {
    pub base: String,
    pub http: reqwest::Client,
    pub tasks: Option<TestServer>,
    db: Option<TestDatabase>,
    stops: Vec<oneshot::Sender<()>>,
}

/// Starts a stack, or None when the backend is PostgreSQL and
/// `TEST_DATABASE_URL` is unset (the test then passes vacuously and says so).
pub async fn start(backend: Backend, verify: Verify) -> Option<Stack> {
    start_with(backend, verify, |_| {}).await
}

pub async fn start_with(
    backend: Backend,
    verify: Verify,
    tweak: impl FnOnce(&mut Settings),
) -> Option<Stack> {
    let db = match backend {
        Backend::Sqlite => TestDatabase::sqlite().await.expect("sqlite"),
        Backend::Postgres => {
            let Some(url) = test_database_url() else {
                eprintln!("TEST_DATABASE_URL is unset: skipping the PostgreSQL variant");
                return None;
            };
            TestDatabase::postgres(&url).await.expect("postgres")
        }
    };
    let tasks = tasks::testing::spawn(db.conn().clone(), TEST_INTERNAL_SECRET)
        .await
        .expect("tasks");
    let mut settings = Settings::new(&tasks.url(), TEST_INTERNAL_SECRET);
    let mut stops = Vec::new();
    if let Verify::Remote = verify {
        let (addr, stop) = spawn_auth_verify(&auth_settings()).await;
        settings.auth_verify_url = Some(format!("http://{addr}"));
        stops.push(stop);
    }
    tweak(&mut settings);
    let (addr, stop) = spawn_edge(&auth_settings(), settings).await;
    stops.push(stop);
    Some(Stack {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        tasks: Some(tasks),
        db: Some(db),
        stops,
    })
}

pub fn auth_settings() -> AuthSettings {
    AuthSettings::hs256(SECRET, WEB_URL)
}

/// auth-verify with these token settings, on port 0.
pub async fn spawn_auth_verify(auth: &AuthSettings) -> (SocketAddr, oneshot::Sender<()>) {
    let verifier = auth.verifier().expect("verifier");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(auth_verify::serve(verifier, listener, async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// The edge with these token and edge settings, on port 0.
pub async fn spawn_edge(
    auth: &AuthSettings,
    settings: Settings,
) -> (SocketAddr, oneshot::Sender<()>) {
    let state = AppState::new(auth, settings).expect("edge state");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(edge::serve(state, listener, async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

impl Stack {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Stops the tasks service (and waits until it has stopped).
    pub async fn stop_tasks(&mut self) {
        if let Some(tasks) = self.tasks.take() {
            tasks.shutdown().await.expect("tasks shutdown");
        }
    }

    pub async fn finish(mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
        self.stop_tasks().await;
        if let Some(db) = self.db.take() {
            db.cleanup().await.expect("cleanup");
        }
    }

    /// A user as the web app would sign them in.
    pub fn user(&self, id: &str) -> User {
        User {
            id: id.to_owned(),
            token: token_for(id),
            base: self.base.clone(),
            http: self.http.clone(),
        }
    }
}

/// A signed-in user of the edge at `base`, for tests that start their own
/// topology.
pub fn user_at(base: &str, id: &str) -> User {
    User {
        id: id.to_owned(),
        token: token_for(id),
        base: base.to_owned(),
        http: reqwest::Client::new(),
    }
}

/// An HS256 token shaped like the web app's, for `sub`.
pub fn token_for(sub: &str) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    sign(json!({
        "sub": sub, "iss": WEB_URL, "aud": WEB_URL,
        "iat": now, "exp": now + 900, "email": format!("{sub}@example.com"),
    }))
}

/// Signs any claims with the shared secret.
pub fn sign(claims: Value) -> String {
    sign_with(SECRET, claims)
}

pub fn sign_with(secret: &str, claims: Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

/// One signed-in user of the API.
#[derive(Clone)]
pub struct User {
    pub id: String,
    pub token: String,
    base: String,
    http: reqwest::Client,
}

impl User {
    pub fn tasks_url(&self) -> String {
        format!("{}/api/{}/tasks", self.base, self.id)
    }

    pub fn task_url(&self, id: i64) -> String {
        format!("{}/api/{}/tasks/{id}", self.base, self.id)
    }

    pub fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(15))
    }

    pub async fn create(&self, title: &str) -> Value {
        let response = self
            .request(reqwest::Method::POST, &self.tasks_url())
            .json(&json!({ "title": title }))
            .send()
            .await
            .expect("create");
        assert_eq!(response.status(), 201, "create {title}");
        response.json().await.expect("json")
    }

    pub async fn list(&self, query: &str) -> Vec<Value> {
        let response = self
            .request(
                reqwest::Method::GET,
                &format!("{}{query}", self.tasks_url()),
            )
            .send()
            .await
            .expect("list");
        assert_eq!(response.status(), 200);
        response.json().await.expect("json")
    }
}

/// Runs one scenario against SQLite and PostgreSQL, with in-process and
/// remote verification.
#[macro_export]
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $name() {
                super::$name($crate::common::Backend::Sqlite, $crate::common::Verify::Local).await
            } )*
        }
        mod postgres {
            $( #[tokio::test] async fn $name() {
                super::$name($crate::common::Backend::Postgres, $crate::common::Verify::Local).await
            } )*
        }
        mod remote_verify {
            $( #[tokio::test] async fn $name() {
                super::$name($crate::common::Backend::Sqlite, $crate::common::Verify::Remote).await
            } )*
        }
    };
}
