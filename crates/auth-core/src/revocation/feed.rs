//! One bounded GET of the web app's revocation feed, and its answer:
//! `{"cursor": <ms>, "full": bool, "revoked": [{"sid": "…", "exp": <unix s>}]}`.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::RevocationOptions;
use crate::{SettingsError, http_fetch};

/// One ended session, as the feed lists it.
#[derive(Debug, Deserialize)]
pub(super) struct Entry {
    pub sid: String,
    /// When (Unix seconds) no token carrying `sid` can still be valid.
    pub exp: i64,
}

/// One answer of the feed.
#[derive(Debug, Deserialize)]
pub(super) struct Answer {
    /// The web's position: sent back as `since` for the next changes.
    pub cursor: u64,
    /// Every revocation in force (the set is replaced), or additions only.
    pub full: bool,
    pub revoked: Vec<Entry>,
}

/// The HTTP side of polling the feed.
pub(super) struct Feed {
    client: reqwest::Client,
    url: String,
    secret: SecretString,
    max_bytes: usize,
    timeout: Duration,
}

impl Feed {
    pub(super) fn new(options: &RevocationOptions) -> Result<Self, SettingsError> {
        Ok(Self {
            client: http_fetch::client(options.fetch_timeout)?,
            url: options.url.clone(),
            secret: options.secret.clone(),
            max_bytes: options.max_response_bytes,
            timeout: options.fetch_timeout,
        })
    }

    /// A feed that is never fetched ([`super::RevokedSessions::fixed`]).
    pub(super) fn unused() -> Self {
        Self {
            client: reqwest::Client::new(),
            url: String::new(),
            secret: SecretString::from(""),
            max_bytes: 0,
            timeout: Duration::ZERO,
        }
    }

    /// The changes since `cursor`, or everything when `None`.
    pub(super) async fn fetch(&self, cursor: Option<u64>) -> Result<Answer, String> {
        let mut request = self
            .client
            .get(&self.url)
            .bearer_auth(self.secret.expose_secret())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(cursor) = cursor {
            request = request.query(&[("since", cursor)]);
        }
        let response = request
            .send()
            .await
            .map_err(|error| http_fetch::describe(error, self.timeout))?;
        let body = http_fetch::body(response, self.max_bytes, self.timeout).await?;
        serde_json::from_slice(&body).map_err(|error| format!("not a revocation feed: {error}"))
    }
}
