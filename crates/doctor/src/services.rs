//! The backend's services, as their own health checks see them: the edge's
//! `/healthz` and `/readyz` (whose admin twin says what is missing), the gRPC
//! health of tasks and auth-verify (with `probe`'s check, as the images'
//! health checks do), and whether the edge accepts a token for its own
//! user's path.

use std::time::Duration;

use reqwest::header::AUTHORIZATION;
use serde_json::Value;

use crate::report::Check;

/// The edge's `/healthz` and `/readyz` (with the details from its admin
/// listener's `/readyz`, at `admin`).
pub async fn edge(client: &reqwest::Client, edge: &str, admin: Option<&str>) -> Vec<Check> {
    let healthz = format!("{edge}/healthz");
    match client.get(&healthz).send().await {
        Ok(response) if response.status().is_success() => {}
        Ok(response) => {
            return vec![Check::fail(
                "edge",
                format!("{healthz} answers {}", response.status().as_u16()),
                "is this the edge? pass its address with --edge",
            )];
        }
        Err(error) => {
            return vec![Check::fail(
                "edge",
                format!("{healthz}: {}", crate::http::describe(&error)),
                "start the edge (just dev, or docker compose up), or pass its address with --edge (default: EDGE_LISTEN_ADDR)",
            )];
        }
    }
    let mut checks = vec![Check::pass("edge", format!("{healthz} answers"))];
    // The public /readyz says ready or not; why, and the warnings, are on
    // the admin listener's /readyz (EDGE_ADMIN_LISTEN_ADDR), when it has one.
    let readyz = format!("{edge}/readyz");
    let public = client.get(&readyz).send().await;
    let details = match admin {
        Some(admin) => match client.get(format!("{admin}/readyz")).send().await {
            Ok(response) => response.json::<Value>().await.ok(),
            Err(_) => None,
        },
        None => None,
    };
    let list = |name: &str| {
        details
            .as_ref()
            .and_then(|body| body["details"][name].as_array())
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    };
    let why = || match (admin, details.is_some()) {
        (Some(_), true) => list("problems"),
        (Some(admin), false) => format!("{admin}/readyz (EDGE_ADMIN_LISTEN_ADDR) does not answer"),
        (None, _) => {
            "set EDGE_ADMIN_LISTEN_ADDR to see why here, or read the edge's log".to_owned()
        }
    };
    checks.push(match public {
        Ok(response) if response.status().is_success() && list("warnings").is_empty() => {
            Check::pass("edge readiness", "ready")
        }
        Ok(response) if response.status().is_success() => Check::warn(
            "edge readiness",
            format!("ready, with warnings: {}", list("warnings")),
            "see the JWKS lines",
        ),
        Ok(response) => Check::fail(
            "edge readiness",
            format!("not ready ({}): {}", response.status().as_u16(), why()),
            "fix what it names: tasks or auth-verify unreachable, or (jwks mode) no keys from the JWKS",
        ),
        Err(error) => Check::fail(
            "edge readiness",
            format!("{readyz}: {}", crate::http::describe(&error)),
            "see the edge's logs",
        ),
    });
    checks
}

/// The gRPC health of `service` at each URL.
pub async fn grpc(name: &str, urls: &[String], service: &str, fix: &str) -> Vec<Check> {
    let mut checks = Vec::new();
    for url in urls {
        checks.push(
            match probe::grpc(url, service, Duration::from_secs(3)).await {
                Ok(()) => Check::pass(name, format!("{url} serves {service}")),
                Err(error) => Check::fail(name, error, fix),
            },
        );
    }
    checks
}

/// Whether the edge accepts `token` for its subject's own task list.
pub async fn edge_accepts(client: &reqwest::Client, edge: &str, sub: &str, token: &str) -> Check {
    let name = "edge accepts the token";
    // `sub` passed the user-id rules: visible ASCII only; `/` and the
    // like are escaped by the URL parser as a path segment.
    let Ok(mut url) = reqwest::Url::parse(&format!("{edge}/api/")) else {
        return Check::fail(
            name,
            format!("{edge:?} is not a URL"),
            "pass --edge http://host:port",
        );
    };
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend([sub, "tasks"]);
    }
    url.set_query(Some("limit=1"));
    let shown = format!("GET /api/{sub}/tasks");
    match client
        .get(url)
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .send()
        .await
    {
        Ok(response) if response.status().is_success() => Check::pass(
            name,
            format!("{shown} answers {}", response.status().as_u16()),
        ),
        Ok(response) => {
            let status = response.status().as_u16();
            let detail = response
                .json::<Value>()
                .await
                .ok()
                .and_then(|body| {
                    body.get("detail")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .unwrap_or_default();
            Check::fail(
                name,
                format!("{shown} answers {status}: {detail}"),
                "the lines above say which setting disagrees; if none does, the edge runs with other settings than these",
            )
        }
        Err(error) => Check::fail(
            name,
            format!("{shown}: {}", crate::http::describe(&error)),
            "start the edge, or pass its address with --edge",
        ),
    }
}
