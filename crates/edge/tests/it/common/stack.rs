//! What the black-box tests run against: tasks (on SQLite or a fresh
//! PostgreSQL database), optionally auth-verify, and the edge, each started
//! in-process on port 0 through its real `serve`; or an edge that is
//! already running (`TEST_EDGE_URL`, see [`Stack::external`]).

use auth_core::AuthSettings;
use auth_core::testing::{TestServer, eventually};
use edge::{AppState, Config, Settings};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tasks::testing::{Backend, TEST_INTERNAL_SECRET, TestDatabase};

use super::client::Client;

/// The HS256 secret of in-process stacks.
pub const SECRET: &str = "edge-test-better-auth-secret-0123456789";
/// The web app's URL (`iss`, `aud`, CORS origin) of in-process stacks.
pub const WEB_URL: &str = "http://localhost:3000";

#[derive(Debug, Clone, Copy)]
pub enum Verify {
    /// auth-core inside the edge.
    Local,
    /// The edge calls auth-verify.
    Remote,
}

/// Where a black-box scenario runs.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    InProcess(Backend, Verify),
    /// The edge at `TEST_EDGE_URL`.
    External,
}

/// A running stack and what is needed to mint its tokens.
pub struct Stack {
    base: String,
    web_url: String,
    /// The HS256 secret tokens are signed with (`None` in JWKS mode).
    secret: Option<String>,
    /// Appended to every user id, so that runs against a persistent
    /// database never meet an earlier run's data.
    run: String,
    /// The admin listeners (`/metrics`, detailed `/readyz`) of the services
    /// started here.
    admin: Admins,
    // Fields drop in order: servers first, then the database.
    edge: Option<TestServer>,
    auth_verify: Option<TestServer>,
    tasks: Option<TestServer>,
    db: Option<TestDatabase>,
}

/// The admin listeners of an in-process stack, by service.
#[derive(Default)]
pub struct Admins {
    pub edge: Option<TestServer>,
    pub tasks: Option<TestServer>,
    pub auth_verify: Option<TestServer>,
}

/// Which services to start and how.
pub struct StackBuilder {
    backend: Backend,
    verify: Verify,
    auth: AuthSettings,
    tasks_url: Option<String>,
    tweak: Box<dyn FnOnce(&mut Settings)>,
}

impl StackBuilder {
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    pub fn verify(mut self, verify: Verify) -> Self {
        self.verify = verify;
        self
    }

    /// Token settings for the edge and auth-verify (default: HS256 with
    /// [`SECRET`] for [`WEB_URL`]).
    pub fn auth(mut self, auth: AuthSettings) -> Self {
        self.auth = auth;
        self
    }

    /// Starts no tasks service: the edge's `TASKS_URL` is `urls`.
    pub fn tasks_at(mut self, urls: &str) -> Self {
        self.tasks_url = Some(urls.to_owned());
        self
    }

    /// Changes the edge's settings before it starts.
    pub fn edge(mut self, tweak: impl FnOnce(&mut Settings) + 'static) -> Self {
        self.tweak = Box::new(tweak);
        self
    }

    pub async fn start(self) -> Stack {
        // As the binaries' `main` does: the metrics recorder before anything
        // is described or counted.
        service_kit::metrics::recorder();
        let (db, tasks, tasks_url) = match self.tasks_url {
            Some(urls) => (None, None, urls),
            None => {
                let db = TestDatabase::new(self.backend).await.expect("database");
                let tasks = tasks::testing::spawn(db.conn().clone(), TEST_INTERNAL_SECRET)
                    .await
                    .expect("tasks");
                let url = tasks.url();
                (Some(db), Some(tasks), url)
            }
        };
        let mut admin = Admins::default();
        if let Some(db) = &db {
            let db = db.conn().clone();
            let server =
                TestServer::start(|listener, shutdown| tasks::serve_admin(db, listener, shutdown));
            admin.tasks = Some(server.await.expect("tasks admin"));
        }
        let mut settings = Settings::new(&tasks_url, TEST_INTERNAL_SECRET);
        let auth_verify = match self.verify {
            Verify::Local => None,
            Verify::Remote => {
                let (server, server_admin) = spawn_auth_verify_with_admin(&self.auth).await;
                settings.auth_verify_url = Some(server.url());
                admin.auth_verify = Some(server_admin);
                Some(server)
            }
        };
        (self.tweak)(&mut settings);
        let (edge, edge_admin) = spawn_edge_with_admin(&self.auth, settings).await;
        admin.edge = Some(edge_admin);
        Stack {
            base: edge.url(),
            web_url: self.auth.better_auth_url.clone(),
            secret: self
                .auth
                .better_auth_secret
                .as_ref()
                .map(|secret| secret.expose_secret().to_owned()),
            run: run_id(),
            admin,
            edge: Some(edge),
            auth_verify,
            tasks,
            db,
        }
    }
}

/// auth-verify with these token settings and its admin listener, each on
/// port 0.
pub async fn spawn_auth_verify_with_admin(auth: &AuthSettings) -> (TestServer, TestServer) {
    let verifier = auth.verifier().expect("auth-verify settings");
    let for_admin = verifier.clone();
    let admin = TestServer::start(|listener, shutdown| {
        auth_verify::serve_admin(for_admin, listener, shutdown)
    })
    .await
    .expect("auth-verify admin");
    let ext_authz = auth_verify::ExtAuthzSettings::default().validate();
    let authorizer = auth_verify::Authorizer::new(verifier.clone(), ext_authz.expect("ext_authz"));
    let server = TestServer::start(|listener, shutdown| {
        auth_verify::serve(verifier, authorizer, listener, shutdown)
    })
    .await
    .expect("auth-verify");
    (server, admin)
}

/// The edge with these token and edge settings and its admin listener,
/// each on port 0.
pub async fn spawn_edge_with_admin(
    auth: &AuthSettings,
    settings: Settings,
) -> (TestServer, TestServer) {
    let config = Config::new(auth, settings).expect("edge settings");
    let state = AppState::new(&config).expect("edge state");
    let for_admin = state.clone();
    let admin =
        TestServer::start(|listener, shutdown| edge::serve_admin(for_admin, listener, shutdown))
            .await
            .expect("edge admin");
    let edge = TestServer::start(|listener, shutdown| edge::serve(state, listener, shutdown))
        .await
        .expect("edge");
    (edge, admin)
}

/// A fresh suffix for user ids.
fn run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// An environment variable the external mode needs.
fn required(name: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not set: the `external` tests run against an edge that is already \
                 running. Set TEST_EDGE_URL (e.g. http://127.0.0.1:8080), \
                 TEST_BETTER_AUTH_SECRET and TEST_BETTER_AUTH_URL as that stack has them, \
                 then run `just test-external` (see the README's Tests section)."
            )
        })
}

impl Stack {
    /// SQLite, in-process verification, HS256: change what differs.
    pub fn builder() -> StackBuilder {
        StackBuilder {
            backend: Backend::Sqlite,
            verify: Verify::Local,
            auth: AuthSettings::hs256(SECRET, WEB_URL),
            tasks_url: None,
            tweak: Box::new(|_| {}),
        }
    }

    pub async fn start(target: Target) -> Self {
        match target {
            Target::InProcess(backend, verify) => {
                Self::builder()
                    .backend(backend)
                    .verify(verify)
                    .start()
                    .await
            }
            Target::External => Self::external(),
        }
    }

    /// The edge at `TEST_EDGE_URL`, verifying HS256 tokens signed with
    /// `TEST_BETTER_AUTH_SECRET` for `TEST_BETTER_AUTH_URL`. Panics, saying
    /// what to set, when any is missing.
    pub fn external() -> Self {
        let base = required("TEST_EDGE_URL");
        Self {
            base: base.trim_end_matches('/').to_owned(),
            secret: Some(required("TEST_BETTER_AUTH_SECRET")),
            web_url: required("TEST_BETTER_AUTH_URL"),
            run: run_id(),
            admin: Admins::default(),
            edge: None,
            auth_verify: None,
            tasks: None,
            db: None,
        }
    }

    /// The edge's base URL, `http://host:port`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The tasks database (in-process stacks only), e.g. to fill it fast.
    pub fn database(&self) -> &TestDatabase {
        self.db
            .as_ref()
            .expect("an in-process stack with its own database")
    }

    /// The web app's URL: the tokens' `iss`/`aud`, the CORS origin.
    pub fn web_url(&self) -> &str {
        &self.web_url
    }

    /// `name` made unique to this run.
    pub fn user_id(&self, name: &str) -> String {
        format!("{name}-{}", self.run)
    }

    /// A user signed in as the web app would sign them in (HS256).
    pub fn user(&self, name: &str) -> Client {
        let id = self.user_id(name);
        let token = self.sign(&self.claims(&id));
        Client::new(&self.base, &id, Some(token))
    }

    /// A client for `id` that sends `token` (JWKS tests sign their own).
    pub fn client(&self, id: &str, token: &str) -> Client {
        Client::new(&self.base, id, Some(token.to_owned()))
    }

    /// A client without a token.
    pub fn anonymous(&self) -> Client {
        Client::new(&self.base, "", None)
    }

    /// The claims the web app puts in a token for `sub`, valid now.
    pub fn claims(&self, sub: &str) -> Value {
        let now = jsonwebtoken::get_current_timestamp();
        json!({
            "sub": sub, "iss": self.web_url, "aud": self.web_url,
            "iat": now, "exp": now + 900, "email": format!("{sub}@example.com"),
        })
    }

    /// Signs any claims with the stack's HS256 secret.
    pub fn sign(&self, claims: &Value) -> String {
        let secret = self
            .secret
            .as_deref()
            .expect("an HS256 stack (JWKS tests sign with a TestKey)");
        sign_with(secret, claims)
    }

    /// `GET /readyz`: status and body.
    pub async fn readyz(&self) -> (u16, Value) {
        let response = self.anonymous().get("/readyz").send().await;
        let status = response.status().as_u16();
        (status, response.json().await.expect("readyz JSON"))
    }

    /// The admin listeners of the services started here.
    pub fn admin(&self) -> &Admins {
        &self.admin
    }

    /// The edge's admin `GET /readyz` (the details behind the public one):
    /// status and body.
    pub async fn admin_readyz(&self) -> (u16, Value) {
        let admin = self.admin.edge.as_ref().expect("an in-process stack");
        let response = reqwest::get(format!("{}/readyz", admin.url()))
            .await
            .expect("admin readyz");
        let status = response.status().as_u16();
        (status, response.json().await.expect("admin readyz JSON"))
    }

    /// Waits until `/readyz` says ready; its body.
    pub async fn wait_ready(&self) -> Value {
        eventually("the edge is ready", || async {
            let (status, body) = self.readyz().await;
            (status == 200).then_some(body)
        })
        .await
    }

    /// Stops the tasks service, and waits until it has stopped.
    pub async fn stop_tasks(&mut self) {
        if let Some(tasks) = self.tasks.take() {
            tasks.shutdown().await.expect("tasks shutdown");
        }
    }

    /// Stops every service and drops the database.
    pub async fn finish(mut self) {
        let admins = [
            self.admin.edge.take(),
            self.admin.auth_verify.take(),
            self.admin.tasks.take(),
        ];
        for server in [self.edge.take(), self.auth_verify.take()]
            .into_iter()
            .chain(admins)
            .flatten()
        {
            server.shutdown().await.expect("clean shutdown");
        }
        self.stop_tasks().await;
        if let Some(db) = self.db.take() {
            db.cleanup().await.expect("cleanup");
        }
    }
}

/// Signs any claims with this HS256 secret.
pub fn sign_with(secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}
