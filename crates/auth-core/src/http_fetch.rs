//! What the JWKS and the revocation feed share about fetching over HTTP: a
//! client bounded in time that follows no redirect, and a body read up to a
//! limit.

use std::time::Duration;

use crate::SettingsError;

/// A client with this timeout (connect and whole request), no redirects.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, SettingsError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("todo-auth-core/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| SettingsError::HttpClient(error.to_string()))
}

/// Why a fetch failed, in words for logs and readiness.
pub(crate) fn describe(error: reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        format!("no complete answer within {} ms", timeout.as_millis())
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        error.without_url().to_string()
    }
}

/// The body of a 2xx answer, at most `max` bytes; otherwise why not.
pub(crate) async fn body(
    mut response: reqwest::Response,
    max: usize,
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    let status = response.status();
    if !status.is_success() {
        return Err(format!("it answered HTTP {}", status.as_u16()));
    }
    let too_large = || format!("the answer is larger than {} KiB", max / 1024);
    if response
        .content_length()
        .is_some_and(|len| len > max as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| describe(error, timeout))?
    {
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
