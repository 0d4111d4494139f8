//! The edge's settings: [`Settings`] as read (field names are the
//! environment variables, lower-cased; defaults stated once, in
//! [`Default`]), and [`Config`], the same checked once at start-up together
//! with auth-core's token settings.

use std::time::Duration;

use anyhow::Context;
use auth_core::{AuthConfig, AuthSettings, InternalSigner};
use axum::http::HeaderValue;
use secrecy::SecretString;
use serde::Deserialize;
use service_kit::{Listen, Service, Shutdown, Source, in_range, millis};
use tokio::net::TcpListener;

use crate::upstream::Urls;

/// `EDGE_UPSTREAM_TIMEOUT_MS` and `EDGE_CONNECT_TIMEOUT_MS`: up to 10 minutes.
const UPSTREAM_MS: std::ops::RangeInclusive<u64> = 1..=600_000;
/// `EDGE_REQUEST_TIMEOUT_MS`: up to an hour.
const REQUEST_MS: std::ops::RangeInclusive<u64> = 1..=3_600_000;
/// `TASKS_RESOLVE_INTERVAL_MS`: rounds start at most every 100 ms anyway.
const RESOLVE_MS: std::ops::RangeInclusive<u64> = 100..=3_600_000;
/// `EDGE_HEADER_READ_TIMEOUT_MS`: at most 30 s (DESIGN.md).
const HEADER_READ_MS: std::ops::RangeInclusive<u64> = 1..=30_000;
/// `EDGE_IDLE_TIMEOUT_MS` and the HTTP/2 keep-alive settings: up to an hour.
const CONNECTION_MS: std::ops::RangeInclusive<u64> = 1..=3_600_000;
/// `EDGE_MAX_CONNECTIONS`.
const MAX_CONNECTIONS: std::ops::RangeInclusive<u64> = 1..=1_000_000;
/// `EDGE_HTTP2_MAX_CONCURRENT_STREAMS`.
const MAX_STREAMS: std::ops::RangeInclusive<u64> = 1..=10_000;

/// The edge's own settings, as read; token settings are auth-core's
/// [`AuthSettings`], and `EDGE_LISTEN_ADDR` is read by [`service_kit`].
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `TASKS_URL`: one URL, or several separated by commas.
    pub tasks_url: String,
    /// `AUTH_VERIFY_URL`: when set, tokens are verified by auth-verify.
    pub auth_verify_url: Option<String>,
    /// `INTERNAL_AUTH_SECRET`: signs the credential tasks requires.
    pub internal_auth_secret: Option<SecretString>,
    /// `EDGE_UPSTREAM_TIMEOUT_MS`: the longest wait for tasks or auth-verify.
    pub edge_upstream_timeout_ms: u64,
    /// `EDGE_CONNECT_TIMEOUT_MS`: the longest wait for a connection upstream.
    pub edge_connect_timeout_ms: u64,
    /// `EDGE_REQUEST_TIMEOUT_MS`: the longest any HTTP request may take.
    pub edge_request_timeout_ms: u64,
    /// `TASKS_RESOLVE_INTERVAL_MS`: how often the host names in `TASKS_URL`
    /// are resolved again and every address health-checked.
    pub tasks_resolve_interval_ms: u64,
    /// `EDGE_HEADER_READ_TIMEOUT_MS`: the longest a new connection may take
    /// to send its first request head (also when it sends nothing), and an
    /// HTTP/1 request any of its heads.
    pub edge_header_read_timeout_ms: u64,
    /// `EDGE_IDLE_TIMEOUT_MS`: a connection with no request in flight for
    /// this long is closed (HTTP/2 with GOAWAY).
    pub edge_idle_timeout_ms: u64,
    /// `EDGE_MAX_CONNECTIONS`: connections open at once; beyond, a new one
    /// gets a `503` and is closed at once.
    pub edge_max_connections: u64,
    /// `EDGE_HTTP2_KEEPALIVE_INTERVAL_MS`: how often an HTTP/2 client is pinged.
    pub edge_http2_keepalive_interval_ms: u64,
    /// `EDGE_HTTP2_KEEPALIVE_TIMEOUT_MS`: an unanswered ping closes the connection.
    pub edge_http2_keepalive_timeout_ms: u64,
    /// `EDGE_HTTP2_MAX_CONCURRENT_STREAMS`: requests at once on one HTTP/2 connection.
    pub edge_http2_max_concurrent_streams: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            tasks_url: "http://127.0.0.1:50052".to_owned(),
            auth_verify_url: None,
            internal_auth_secret: None,
            edge_upstream_timeout_ms: 2_000,
            edge_connect_timeout_ms: 1_000,
            edge_request_timeout_ms: 10_000,
            tasks_resolve_interval_ms: 5_000,
            edge_header_read_timeout_ms: 10_000,
            edge_idle_timeout_ms: 60_000,
            edge_max_connections: 4_096,
            edge_http2_keepalive_interval_ms: 20_000,
            edge_http2_keepalive_timeout_ms: 20_000,
            edge_http2_max_concurrent_streams: 100,
        }
    }
}

impl Settings {
    /// Defaults, pointing at the given tasks URL, with the given internal secret.
    pub fn new(tasks_url: &str, internal_auth_secret: &str) -> Self {
        Self {
            tasks_url: tasks_url.to_owned(),
            internal_auth_secret: Some(SecretString::from(internal_auth_secret.to_owned())),
            ..Self::default()
        }
    }
}

/// How the public listener's connections are served and reaped
/// ([`crate::connections`]).
#[derive(Debug, Clone)]
pub struct Connections {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub http2_keepalive_interval: Duration,
    pub http2_keepalive_timeout: Duration,
    pub http2_max_concurrent_streams: u32,
}

/// The edge's validated configuration: every setting checked, every URL
/// parsed, the internal signer built.
#[derive(Clone)]
pub struct Config {
    pub(crate) auth: AuthConfig,
    pub(crate) tasks_urls: Urls,
    pub(crate) auth_verify_urls: Option<Urls>,
    pub(crate) signer: InternalSigner,
    pub(crate) upstream_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) resolve_interval: Duration,
    /// `BETTER_AUTH_URL`'s origin: the one CORS origin allowed.
    pub(crate) cors_origin: HeaderValue,
    /// How connections are served and reaped.
    pub(crate) connections: Connections,
}

impl Config {
    /// Checks the token and edge settings; the error names the variable to
    /// fix and, for numbers, the range allowed.
    pub fn new(auth: &AuthSettings, settings: Settings) -> anyhow::Result<Self> {
        let auth = auth.validate()?;
        let auth_verify_urls = match settings.auth_verify_url.as_deref().map(str::trim) {
            Some(urls) if !urls.is_empty() => Some(Urls::parse(urls).context("AUTH_VERIFY_URL")?),
            _ => None,
        };
        let config = Self {
            cors_origin: origin_of(auth.better_auth_url())?,
            auth,
            tasks_urls: Urls::parse(&settings.tasks_url).context("TASKS_URL")?,
            auth_verify_urls,
            signer: InternalSigner::new(settings.internal_auth_secret.as_ref())?,
            upstream_timeout: millis(
                "EDGE_UPSTREAM_TIMEOUT_MS",
                settings.edge_upstream_timeout_ms,
                UPSTREAM_MS,
            )?,
            connect_timeout: millis(
                "EDGE_CONNECT_TIMEOUT_MS",
                settings.edge_connect_timeout_ms,
                UPSTREAM_MS,
            )?,
            request_timeout: millis(
                "EDGE_REQUEST_TIMEOUT_MS",
                settings.edge_request_timeout_ms,
                REQUEST_MS,
            )?,
            resolve_interval: millis(
                "TASKS_RESOLVE_INTERVAL_MS",
                settings.tasks_resolve_interval_ms,
                RESOLVE_MS,
            )?,
            connections: Connections::new(&settings)?,
        };
        config.check_request_budget()?;
        Ok(config)
    }

    /// The longest an answered request may spend upstream: verifying its
    /// token (in remote mode the call to auth-verify, [`Self::verify_timeout`];
    /// in process a JWKS refetch for an unknown `kid`), then the call to
    /// tasks (`EDGE_UPSTREAM_TIMEOUT_MS`).
    fn upstream_budget(&self) -> (Duration, Duration) {
        let verify = match self.auth_verify_urls {
            Some(_) => self.verify_timeout(),
            None => self.auth.longest_verification(),
        };
        (verify, self.upstream_timeout)
    }

    /// `EDGE_REQUEST_TIMEOUT_MS` must leave room for the upstream budget:
    /// shorter, a slow but healthy upstream would get a `408` blaming the
    /// client instead of the `504` naming the upstream. Refused at start-up
    /// (like any out-of-range value), not clamped.
    fn check_request_budget(&self) -> anyhow::Result<()> {
        let (verify, tasks) = self.upstream_budget();
        let needed = verify + tasks;
        if self.request_timeout >= needed {
            return Ok(());
        }
        let ms = |d: Duration| d.as_millis();
        anyhow::bail!(
            "EDGE_REQUEST_TIMEOUT_MS is {}: a request may need {} ms upstream \
             (token verification {} ms + tasks, EDGE_UPSTREAM_TIMEOUT_MS, {} ms); \
             set EDGE_REQUEST_TIMEOUT_MS to at least {} or lower EDGE_UPSTREAM_TIMEOUT_MS",
            ms(self.request_timeout),
            ms(needed),
            ms(verify),
            ms(tasks),
            ms(needed),
        )
    }
}

impl Connections {
    fn new(settings: &Settings) -> anyhow::Result<Self> {
        let count = |name, value, range| -> anyhow::Result<usize> {
            let value = in_range(name, value, range, "")?;
            Ok(usize::try_from(value)?)
        };
        Ok(Self {
            header_read_timeout: millis(
                "EDGE_HEADER_READ_TIMEOUT_MS",
                settings.edge_header_read_timeout_ms,
                HEADER_READ_MS,
            )?,
            idle_timeout: millis(
                "EDGE_IDLE_TIMEOUT_MS",
                settings.edge_idle_timeout_ms,
                CONNECTION_MS,
            )?,
            max_connections: count(
                "EDGE_MAX_CONNECTIONS",
                settings.edge_max_connections,
                MAX_CONNECTIONS,
            )?,
            http2_keepalive_interval: millis(
                "EDGE_HTTP2_KEEPALIVE_INTERVAL_MS",
                settings.edge_http2_keepalive_interval_ms,
                CONNECTION_MS,
            )?,
            http2_keepalive_timeout: millis(
                "EDGE_HTTP2_KEEPALIVE_TIMEOUT_MS",
                settings.edge_http2_keepalive_timeout_ms,
                CONNECTION_MS,
            )?,
            http2_max_concurrent_streams: u32::try_from(in_range(
                "EDGE_HTTP2_MAX_CONCURRENT_STREAMS",
                settings.edge_http2_max_concurrent_streams,
                MAX_STREAMS,
                "",
            )?)?,
        })
    }
}

impl Config {
    /// How long a remote verification may take: `EDGE_UPSTREAM_TIMEOUT_MS`,
    /// but never less than auth-verify may spend refetching its JWKS for an
    /// unknown `kid` (plus a second), so that such a token is refused with
    /// 401 as in-process, not cut off with 504.
    pub(crate) fn verify_timeout(&self) -> Duration {
        self.upstream_timeout
            .max(auth_core::JWKS_FETCH_TIMEOUT + Duration::from_secs(1))
    }
}

impl Service for Config {
    const NAME: &'static str = "edge";
    const LISTEN: Listen = Listen {
        var: "EDGE_LISTEN_ADDR",
        default: "0.0.0.0:8080",
    };
    const ADMIN_LISTEN: &'static str = "EDGE_ADMIN_LISTEN_ADDR";

    fn load(source: &Source) -> anyhow::Result<Self> {
        let auth: AuthSettings = service_kit::settings(source)?;
        Self::new(&auth, service_kit::settings(source)?)
    }

    async fn run(
        self,
        listener: TcpListener,
        admin: Option<TcpListener>,
        shutdown: Shutdown,
    ) -> anyhow::Result<()> {
        let state = crate::AppState::new(&self)?;
        let _admin = service_kit::admin::spawn(state.clone(), admin);
        crate::serve(state, listener, shutdown).await
    }
}

/// `scheme://host[:port]` of a URL, as browsers send it in `Origin`.
fn origin_of(url: &str) -> anyhow::Result<HeaderValue> {
    let uri: axum::http::Uri = url
        .parse()
        .with_context(|| format!("BETTER_AUTH_URL {url:?} is not a URL"))?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        anyhow::bail!(
            "BETTER_AUTH_URL {url:?} must be an absolute URL such as http://localhost:3000"
        );
    };
    HeaderValue::from_str(&format!("{scheme}://{authority}"))
        .with_context(|| format!("BETTER_AUTH_URL {url:?} is not a valid origin"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "edge-settings-test-secret-0123456789";

    /// The edge's configuration from these environment variables, on top of
    /// a valid HS256 setup.
    fn load(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let mut all = vec![
            ("BETTER_AUTH_SECRET", SECRET),
            ("INTERNAL_AUTH_SECRET", SECRET),
        ];
        all.extend_from_slice(vars);
        Config::load(&service_kit::source_from(all))
    }

    fn refusal(vars: &[(&str, &str)]) -> String {
        format!("{:#}", load(vars).err().expect("refused"))
    }

    #[test]
    fn the_defaults_are_valid() {
        let config = load(&[]).expect("valid");
        assert_eq!(config.upstream_timeout, Duration::from_secs(2));
        assert_eq!(config.resolve_interval, Duration::from_secs(5));
        assert!(config.auth_verify_urls.is_none());
    }

    #[test]
    fn a_zero_upstream_timeout_is_refused_with_its_range() {
        assert_eq!(
            refusal(&[("EDGE_UPSTREAM_TIMEOUT_MS", "0")]),
            "EDGE_UPSTREAM_TIMEOUT_MS is 0: set it to a whole number from 1 to 600000 (milliseconds)"
        );
    }

    #[test]
    fn every_timeout_and_interval_is_checked() {
        for (name, value) in [
            ("EDGE_CONNECT_TIMEOUT_MS", "0"),
            ("EDGE_REQUEST_TIMEOUT_MS", "3600001"),
            ("TASKS_RESOLVE_INTERVAL_MS", "0"),
            ("TASKS_RESOLVE_INTERVAL_MS", "99"),
            ("EDGE_HEADER_READ_TIMEOUT_MS", "0"),
            ("EDGE_HEADER_READ_TIMEOUT_MS", "30001"),
            ("EDGE_IDLE_TIMEOUT_MS", "0"),
            ("EDGE_MAX_CONNECTIONS", "0"),
            ("EDGE_HTTP2_KEEPALIVE_INTERVAL_MS", "0"),
            ("EDGE_HTTP2_KEEPALIVE_TIMEOUT_MS", "0"),
            ("EDGE_HTTP2_MAX_CONCURRENT_STREAMS", "0"),
        ] {
            let text = refusal(&[(name, value)]);
            assert!(text.starts_with(&format!("{name} is {value}: ")), "{text}");
        }
    }

    #[test]
    fn a_request_timeout_shorter_than_the_upstream_budget_is_refused() {
        // HS256 in process: the call to tasks only.
        assert_eq!(
            refusal(&[
                ("EDGE_REQUEST_TIMEOUT_MS", "2999"),
                ("EDGE_UPSTREAM_TIMEOUT_MS", "3000")
            ]),
            "EDGE_REQUEST_TIMEOUT_MS is 2999: a request may need 3000 ms upstream \
             (token verification 0 ms + tasks, EDGE_UPSTREAM_TIMEOUT_MS, 3000 ms); \
             set EDGE_REQUEST_TIMEOUT_MS to at least 3000 or lower EDGE_UPSTREAM_TIMEOUT_MS"
        );
        load(&[
            ("EDGE_REQUEST_TIMEOUT_MS", "3000"),
            ("EDGE_UPSTREAM_TIMEOUT_MS", "3000"),
        ])
        .expect("exactly the budget is enough");
        // The default request timeout with a longer upstream timeout: refused.
        let text = refusal(&[("EDGE_UPSTREAM_TIMEOUT_MS", "10001")]);
        assert!(
            text.starts_with("EDGE_REQUEST_TIMEOUT_MS is 10000: "),
            "{text}"
        );
    }

    #[test]
    fn the_budget_counts_a_jwks_refetch_and_a_call_to_auth_verify() {
        // In process with a JWKS: the refetch (5 s) + tasks (2 s).
        let jwks = [
            ("AUTH_JWT_MODE", "jwks"),
            ("EDGE_REQUEST_TIMEOUT_MS", "6999"),
        ];
        let text = refusal(&jwks);
        assert!(text.contains("may need 7000 ms upstream"), "{text}");
        // Remote: auth-verify's budget (at least 6 s) + tasks (2 s).
        let remote = [
            ("AUTH_VERIFY_URL", "http://auth-verify:50051"),
            ("EDGE_REQUEST_TIMEOUT_MS", "7999"),
        ];
        let text = refusal(&remote);
        assert!(text.contains("may need 8000 ms upstream"), "{text}");
        // The defaults leave room in every mode.
        load(&[("AUTH_JWT_MODE", "jwks")]).expect("jwks defaults");
        load(&[("AUTH_VERIFY_URL", "http://auth-verify:50051")]).expect("remote defaults");
    }

    #[test]
    fn a_number_that_is_not_one_names_its_variable() {
        let text = refusal(&[("EDGE_UPSTREAM_TIMEOUT_MS", "2s")]);
        assert!(text.starts_with("EDGE_UPSTREAM_TIMEOUT_MS is "), "{text}");
    }

    #[test]
    fn secrets_and_urls_are_checked_at_load() {
        let text = refusal(&[("INTERNAL_AUTH_SECRET", "short")]);
        assert!(
            text.contains("INTERNAL_AUTH_SECRET is only 5 bytes"),
            "{text}"
        );
        let text = refusal(&[("TASKS_URL", "tasks:50052")]);
        assert!(text.starts_with("TASKS_URL: "), "{text}");
        let text = refusal(&[("AUTH_VERIFY_URL", "not a url")]);
        assert!(text.starts_with("AUTH_VERIFY_URL: "), "{text}");
        let text = refusal(&[("BETTER_AUTH_URL", "localhost")]);
        assert!(text.contains("BETTER_AUTH_URL"), "{text}");
        let text = refusal(&[("AUTH_LEEWAY_SECS", "61")]);
        assert!(text.starts_with("AUTH_LEEWAY_SECS is 61: "), "{text}");
    }
}
