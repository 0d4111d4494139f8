//! `just doctor`: checks a running setup end to end and prints one line per
//! check (`✓`, `!` warning, `✗` with the fix, `–` not checked), exiting
//! non-zero when anything is wrong. In order:
//!
//! 1. the configuration each service would load ([`config`]);
//! 2. Better Auth reachable, and the clocks ([`better_auth`], [`clock`]);
//! 3. the JWKS against the mode ([`jwks`]);
//! 4. the edge, tasks and auth-verify health ([`services`]);
//! 5. with a token (given, or by signing in): its claims ([`token`]), its
//!    signature as the backend verifies it ([`verify`]), and whether the
//!    edge accepts it for its own path.

pub mod args;
pub mod better_auth;
pub mod clock;
pub mod config;
mod http;
pub mod jwks;
pub mod report;
pub mod services;
pub mod token;
pub mod verify;

use service_kit::Source;

use crate::args::TokenFrom;
use crate::report::{Check, Report};

/// Runs every check against the setup `source` describes.
pub async fn run(source: &Source, args: &args::Args) -> anyhow::Result<Report> {
    let client = http::client()?;
    let mut report = Report::default();
    let (setup, checks) = config::check(source, args.edge.as_deref());
    report.extend(checks);

    let base = setup.better_auth_base();
    let (reachable, date) = better_auth::reachable(&client, &base).await;
    let better_auth_up = reachable.status == report::Status::Pass;
    report.push(reachable);
    report.push(match date {
        None if !better_auth_up => Check::skip("clock skew", "Better Auth did not answer"),
        date => clock::skew(
            date.as_deref(),
            chrono::Utc::now(),
            setup.auth.auth_leeway_secs,
        ),
    });

    let jwks_url = setup.auth.jwks_url();
    let fetched = better_auth::fetch_jwks(&client, &jwks_url).await;
    let (checks, keys) = jwks::check(setup.auth.auth_jwt_mode, &jwks_url, fetched);
    report.extend(checks);

    report.extend(services::edge(&client, &setup.edge_url, setup.edge_admin_url.as_deref()).await);
    report.extend(
        services::grpc(
            "tasks",
            &setup.tasks_urls,
            proto::tasks::tasks_server::SERVICE_NAME,
            "start tasks, and check TASKS_URL (the edge's setting)",
        )
        .await,
    );
    if setup.auth_verify_urls.is_empty() {
        report.push(Check::skip(
            "auth-verify",
            "not used by the edge (AUTH_VERIFY_URL unset: it verifies in-process)",
        ));
    } else {
        report.extend(
            services::grpc(
                "auth-verify",
                &setup.auth_verify_urls,
                proto::auth::auth_verify_server::SERVICE_NAME,
                "start auth-verify, and check AUTH_VERIFY_URL (the edge's setting)",
            )
            .await,
        );
    }

    let token = match &args.token {
        None => {
            report.push(Check::skip(
                "token",
                "none given (--token, or --email with --password, checks one end to end)",
            ));
            return Ok(report);
        }
        Some(TokenFrom::Given(token)) => token.clone(),
        Some(TokenFrom::Stdin) => {
            let mut token = String::new();
            std::io::stdin().read_line(&mut token)?;
            token.trim().to_owned()
        }
        Some(TokenFrom::SignIn { .. }) if !better_auth_up => {
            report.push(Check::skip("sign-in", "Better Auth is not reachable"));
            return Ok(report);
        }
        Some(TokenFrom::SignIn { email, password }) => {
            match better_auth::sign_in(&client, &base, email, password).await {
                Ok(token) => token,
                Err(check) => {
                    report.push(check);
                    return Ok(report);
                }
            }
        }
    };
    let decoded = match token::decode(&token) {
        Ok(decoded) => decoded,
        Err(check) => {
            report.push(check);
            return Ok(report);
        }
    };
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    report.extend(token::checks(&token, &decoded, &setup, keys.as_ref(), now));
    let hs256 = decoded
        .header
        .get("alg")
        .and_then(serde_json::Value::as_str)
        == Some("HS256");
    report.push(verify::verify(&setup.auth, &token, hs256).await);
    match decoded
        .payload
        .get("sub")
        .and_then(serde_json::Value::as_str)
    {
        Some(sub) if auth_core::UserId::parse(sub).is_ok() => {
            report.push(services::edge_accepts(&client, &setup.edge_url, sub, &token).await);
        }
        _ => report.push(Check::skip(
            "edge accepts the token",
            "not asked: the token has no usable sub",
        )),
    }
    Ok(report)
}
