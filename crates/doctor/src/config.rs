//! The configuration checks: each service's own loader (`Service::load`)
//! run on the same source the services read (defaults, `CONFIG_FILE`, the
//! environment), so a refusal here is exactly the one the service would
//! print at start-up. Plus what no single service can see: whether
//! `BETTER_AUTH_URL` is the bare origin the web app turns it into, and the
//! issuer and audiences tokens must carry. What was read is returned as a
//! [`Setup`] for the checks that follow.

use auth_core::{AuthSettings, JwtMode};
use service_kit::{Service, Source};

use crate::report::Check;

/// What the checks after the configuration need to know.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The token settings as read (defaults when they could not be read).
    pub auth: AuthSettings,
    /// The `iss` tokens must carry (`AUTH_JWT_ISSUER`, default `BETTER_AUTH_URL`).
    pub issuer: String,
    /// The accepted audiences (`AUTH_JWT_AUDIENCE`, comma-separated, default `BETTER_AUTH_URL`).
    pub audiences: Vec<String>,
    /// The edge's base URL (from `EDGE_LISTEN_ADDR` unless given).
    pub edge_url: String,
    /// The edge's admin listener (`EDGE_ADMIN_LISTEN_ADDR`), where `/readyz`
    /// says why it is not ready; `None` when it has none.
    pub edge_admin_url: Option<String>,
    /// `TASKS_URL`, split.
    pub tasks_urls: Vec<String>,
    /// `AUTH_VERIFY_URL`, split; empty when the edge verifies in-process.
    pub auth_verify_urls: Vec<String>,
}

impl Setup {
    /// `BETTER_AUTH_URL` without surrounding blanks or a trailing slash:
    /// where Better Auth's endpoints are reached.
    pub fn better_auth_base(&self) -> String {
        self.auth
            .better_auth_url
            .trim()
            .trim_end_matches('/')
            .to_owned()
    }
}

/// Runs every configuration check; `edge_url` overrides the edge's address.
pub fn check(source: &Source, edge_url: Option<&str>) -> (Setup, Vec<Check>) {
    let mut checks = Vec::new();
    let auth = match service_kit::settings::<AuthSettings>(source) {
        Ok(auth) => auth,
        Err(error) => {
            checks.push(Check::fail(
                "token settings",
                format!("{error:#}"),
                "fix the variable named",
            ));
            AuthSettings::default()
        }
    };
    let edge_settings = service_kit::settings::<edge::Settings>(source).unwrap_or_default();
    checks.push(service::<edge::Config>(source));
    checks.push(service::<tasks::Config>(source));
    checks.push(service::<auth_verify::Config>(source));
    checks.push(mode(auth.auth_jwt_mode));
    checks.push(better_auth_url(&auth.better_auth_url));
    let (issuer, audiences, check) = issuer_and_audiences(&auth);
    checks.push(check);
    let edge_url = edge_url.map_or_else(
        || {
            let listen = service_kit::listen_addr(source, edge::Config::LISTEN)
                .unwrap_or_else(|_| edge::Config::LISTEN.default.to_owned());
            local_url(&listen)
        },
        |url| url.trim_end_matches('/').to_owned(),
    );
    let setup = Setup {
        issuer,
        audiences,
        edge_url,
        edge_admin_url: service_kit::admin::admin_addr(source, edge::Config::ADMIN_LISTEN)
            .ok()
            .flatten()
            .map(|addr| local_url(&addr)),
        tasks_urls: split(&edge_settings.tasks_url),
        auth_verify_urls: split(edge_settings.auth_verify_url.as_deref().unwrap_or("")),
        auth,
    };
    (setup, checks)
}

/// Whether service `S` would start with this configuration.
fn service<S: Service>(source: &Source) -> Check {
    let name = format!("{} configuration", S::NAME);
    match S::load(source) {
        Ok(_) => Check::pass(name, "valid"),
        Err(error) => Check::fail(
            name,
            format!("{error:#}"),
            format!("the {} would refuse to start: fix it as it says", S::NAME),
        ),
    }
}

/// What the mode means for the web app, which must agree.
pub fn mode(mode: JwtMode) -> Check {
    let found = match mode {
        JwtMode::Hs256 => {
            "hs256: HS256 tokens signed with BETTER_AUTH_SECRET; the web app must run with AUTH_JWT_MODE=hs256 and the same secret"
        }
        JwtMode::Jwks => {
            "jwks: tokens signed with Better Auth's own keys, checked against its JWKS; the web app must run with AUTH_JWT_MODE=jwks"
        }
        JwtMode::Both => {
            "both: HS256 tokens against BETTER_AUTH_SECRET, others against the JWKS (the web app signs HS256 in this mode)"
        }
    };
    Check::pass("AUTH_JWT_MODE", found)
}

/// `BETTER_AUTH_URL` must be the bare origin: the web app turns it into
/// one (`new URL(…).origin`) and uses that as `iss` and `aud`, while the
/// backend compares exactly what it was given.
pub fn better_auth_url(value: &str) -> Check {
    let name = "BETTER_AUTH_URL";
    let url = match reqwest::Url::parse(value.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => url,
        _ => {
            return Check::fail(
                name,
                format!("{value:?} is not an http(s) URL"),
                "set it to the web app's origin as the browser sees it, e.g. http://localhost:3000",
            );
        }
    };
    let origin = url.origin().ascii_serialization();
    if url.path().starts_with("/api/auth") {
        return Check::fail(
            name,
            format!("{value:?} includes Better Auth's base path"),
            format!(
                "set it to the bare origin {origin:?}: Better Auth's tokens carry iss = aud = the base URL without /api/auth"
            ),
        );
    }
    if value != origin {
        return Check::fail(
            name,
            format!("{value:?} is not a bare origin (the web app uses {origin:?} as iss and aud)"),
            format!(
                "set BETTER_AUTH_URL={origin} for every service: the backend compares it exactly"
            ),
        );
    }
    Check::pass(name, format!("{value:?}"))
}

/// The issuer and audiences tokens must carry, and the line that states
/// them: auth-core's own reading and check of `AUTH_JWT_ISSUER` and
/// `AUTH_JWT_AUDIENCE`, so the doctor expects what the verifier demands.
/// When the verifier would refuse them, the values as read (for the token
/// checks that follow) and the verifier's reason.
pub fn issuer_and_audiences(auth: &AuthSettings) -> (String, Vec<String>, Check) {
    let name = "expected iss/aud";
    match auth.checked_issuer_and_audiences() {
        Ok((issuer, audiences)) => {
            let check = Check::pass(
                name,
                format!(
                    "iss {issuer:?}; aud one of {audiences:?} (AUTH_JWT_ISSUER, AUTH_JWT_AUDIENCE)"
                ),
            );
            (issuer, audiences, check)
        }
        Err(error) => (
            auth.issuer().to_owned(),
            auth.audiences().into_iter().map(str::to_owned).collect(),
            Check::fail(
                name,
                error.to_string(),
                "list the accepted audiences separated by commas (or unset AUTH_JWT_AUDIENCE to accept BETTER_AUTH_URL), and give AUTH_JWT_ISSUER as Better Auth's jwt.issuer",
            ),
        ),
    }
}

/// A comma-separated list, blanks dropped.
fn split(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `http://` plus a listen address, with an unspecified host (`0.0.0.0`,
/// `[::]`) replaced by the loopback address.
pub fn local_url(listen: &str) -> String {
    let addr = listen
        .strip_prefix("0.0.0.0:")
        .map(|port| format!("127.0.0.1:{port}"))
        .or_else(|| {
            listen
                .strip_prefix("[::]:")
                .map(|port| format!("[::1]:{port}"))
        })
        .unwrap_or_else(|| listen.to_owned());
    format!("http://{addr}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;

    const SECRET: &str = "doctor-config-test-secret-0123456789";

    fn checks(vars: &[(&str, &str)]) -> (Setup, Vec<Check>) {
        check(&service_kit::source_from(vars.iter().copied()), None)
    }

    fn failures(checks: &[Check]) -> Vec<String> {
        checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_complete_hs256_setup_passes_every_configuration_check() {
        let (setup, checks) = checks(&[
            ("BETTER_AUTH_SECRET", SECRET),
            ("INTERNAL_AUTH_SECRET", SECRET),
            ("BETTER_AUTH_URL", "http://localhost:3000"),
            ("EDGE_LISTEN_ADDR", "0.0.0.0:8081"),
            ("TASKS_URL", "http://a:1, http://b:2"),
        ]);
        assert_eq!(failures(&checks), Vec::<String>::new());
        assert_eq!(setup.edge_url, "http://127.0.0.1:8081");
        assert_eq!(setup.tasks_urls, ["http://a:1", "http://b:2"]);
        assert!(setup.auth_verify_urls.is_empty());
        assert_eq!(setup.issuer, "http://localhost:3000");
        assert_eq!(setup.audiences, ["http://localhost:3000"]);
    }

    #[test]
    fn a_short_secret_is_reported_with_the_services_own_words() {
        let (_, checks) = checks(&[
            ("BETTER_AUTH_SECRET", "short"),
            ("INTERNAL_AUTH_SECRET", SECRET),
        ]);
        let failed = failures(&checks);
        assert_eq!(failed.len(), 2, "{failed:?}"); // edge and auth-verify; tasks does not read it
        assert!(
            failed[0].starts_with("✗ edge configuration: "),
            "{failed:?}"
        );
        assert!(
            failed[0].contains("BETTER_AUTH_SECRET is only 5 bytes long"),
            "{failed:?}"
        );
        assert!(failed[1].starts_with("✗ auth-verify configuration: "));
    }

    #[test]
    fn a_missing_internal_secret_fails_the_edge_and_tasks() {
        let (_, checks) = checks(&[("BETTER_AUTH_SECRET", SECRET)]);
        let failed = failures(&checks);
        assert_eq!(failed.len(), 2, "{failed:?}");
        assert!(
            failed
                .iter()
                .all(|f| f.contains("INTERNAL_AUTH_SECRET is not set"))
        );
    }

    #[test]
    fn better_auth_url_must_be_the_bare_origin() {
        assert_eq!(better_auth_url("https://app.example").status, Status::Pass);
        assert_eq!(
            better_auth_url("http://localhost:3000").status,
            Status::Pass
        );
        let slash = better_auth_url("http://localhost:3000/").to_string();
        assert!(
            slash.contains("set BETTER_AUTH_URL=http://localhost:3000 "),
            "{slash}"
        );
        let base_path = better_auth_url("http://localhost:3000/api/auth").to_string();
        assert!(base_path.contains("without /api/auth"), "{base_path}");
        let default_port = better_auth_url("https://app.example:443").to_string();
        assert!(
            default_port.contains("\"https://app.example\""),
            "{default_port}"
        );
        assert_eq!(better_auth_url("localhost:3000").status, Status::Fail);
        assert_eq!(better_auth_url("").status, Status::Fail);
    }

    #[test]
    fn issuer_and_audiences_are_the_verifiers_own() {
        let url = "http://localhost:3000";
        let with = |issuer: Option<&str>, audience: Option<&str>| {
            let mut auth = AuthSettings::jwks(url);
            auth.auth_jwt_issuer = issuer.map(str::to_owned);
            auth.auth_jwt_audience = audience.map(str::to_owned);
            issuer_and_audiences(&auth)
        };
        let (issuer, audiences, check) = with(None, Some("  "));
        assert_eq!(
            (issuer.as_str(), audiences.as_slice()),
            (url, [url.to_owned()].as_slice())
        );
        assert_eq!(check.status, Status::Pass);
        let (issuer, audiences, check) = with(Some("https://id.example"), Some("api, http://x"));
        assert_eq!(issuer, "https://id.example");
        assert_eq!(audiences, ["api", "http://x"]);
        assert_eq!(check.status, Status::Pass);
        // What the verifier refuses, the doctor reports in the verifier's words.
        for (audience, why) in [
            (" , ", "empty entry"),
            ("api,", "empty entry"),
            ("better-auth:session-cache", "session cookie cache"),
        ] {
            let (_, _, check) = with(None, Some(audience));
            assert_eq!(check.status, Status::Fail, "{audience:?}");
            assert!(check.to_string().contains(why), "{audience:?}: {check}");
        }
        let (_, _, check) = with(Some("http://a\n"), None);
        assert!(check.to_string().contains("AUTH_JWT_ISSUER"), "{check}");
    }

    #[test]
    fn unspecified_listen_hosts_become_loopback() {
        assert_eq!(local_url("0.0.0.0:8080"), "http://127.0.0.1:8080");
        assert_eq!(local_url("[::]:8080"), "http://[::1]:8080");
        assert_eq!(local_url("127.0.0.1:9"), "http://127.0.0.1:9");
    }
}
