//! Talking to Better Auth: whether it answers (`GET /api/auth/ok`, whose
//! `Date` header also gives the clock check its time), its JWKS, and a token
//! for a user, by signing in with e-mail and password
//! (`POST /api/auth/sign-in/email`, then `GET /api/auth/token` with the
//! session cookie), as the browser does.

use reqwest::header::{COOKIE, DATE, ORIGIN, SET_COOKIE};
use serde_json::{Value, json};

use crate::jwks::Fetched;
use crate::report::Check;

/// Whether Better Auth answers at `base`, and the `Date` header it sent.
pub async fn reachable(client: &reqwest::Client, base: &str) -> (Check, Option<String>) {
    let name = "Better Auth";
    let url = format!("{base}/api/auth/ok");
    match client.get(&url).send().await {
        Ok(response) => {
            let date = response
                .headers()
                .get(DATE)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            let status = response.status();
            let check = if status.is_success() {
                Check::pass(name, format!("{url} answers {}", status.as_u16()))
            } else {
                Check::fail(
                    name,
                    format!("{url} answers {}", status.as_u16()),
                    "BETTER_AUTH_URL must be the web app's base URL (Better Auth serves /api/auth there); see the web app's logs",
                )
            };
            (check, date)
        }
        Err(error) => (
            Check::fail(
                name,
                format!("{url}: {}", crate::http::describe(&error)),
                "start the web app (just dev, or docker compose up), and check BETTER_AUTH_URL",
            ),
            None,
        ),
    }
}

/// The JWKS at `url`: status and body, or why there was no answer.
pub async fn fetch_jwks(client: &reqwest::Client, url: &str) -> Fetched {
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|error| crate::http::describe(&error))?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|error| crate::http::describe(&error))?;
    Ok((status, body.to_vec()))
}

/// Signs in as `email` and gets that user's JWT from `/api/auth/token`.
pub async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> Result<String, Check> {
    let name = "sign-in";
    let fail = |found: String, fix: &str| Check::fail(name, found, fix);
    let url = format!("{base}/api/auth/sign-in/email");
    let response = client
        .post(&url)
        // Better Auth refuses cross-site sign-ins: this one comes from its own origin.
        .header(ORIGIN, base)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .map_err(|error| {
            fail(
                format!("{url}: {}", crate::http::describe(&error)),
                "start the web app and check BETTER_AUTH_URL",
            )
        })?;
    let status = response.status();
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .collect::<Vec<_>>()
        .join("; ");
    if !status.is_success() || cookie.is_empty() {
        let message = response
            .json::<Value>()
            .await
            .ok()
            .and_then(|body| {
                body.get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        return Err(fail(
            format!("as {email}: {} {message}", status.as_u16()),
            "check the e-mail address and password (sign up in the web app first)",
        ));
    }
    let url = format!("{base}/api/auth/token");
    let response = client
        .get(&url)
        .header(COOKIE, cookie)
        .send()
        .await
        .map_err(|error| {
            fail(
                format!("{url}: {}", crate::http::describe(&error)),
                "see the web app's logs",
            )
        })?;
    let status = response.status();
    let token = response
        .json::<Value>()
        .await
        .ok()
        .and_then(|body| body.get("token").and_then(Value::as_str).map(str::to_owned));
    match token {
        Some(token) if status.is_success() => Ok(token),
        _ => Err(fail(
            format!("{url} answered {} without a token", status.as_u16()),
            "Better Auth's jwt plugin must be on; a 500 here often means BETTER_AUTH_SECRET changed after its keys were made (see the web app's logs)",
        )),
    }
}
