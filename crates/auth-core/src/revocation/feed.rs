//! One bounded GET of the web app's revocation feed, and its answer:
//! `{"cursor": <ms>, "full": bool, "revoked": [{"sid": "…", "exp": <unix s>}]}`.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::RevocationOptions;
use crate::SettingsError;

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
    timeout_ms: u128,
}

impl Feed {
    pub(super) fn new(options: &RevocationOptions) -> Result<Self, SettingsError> {
        let client = reqwest::Client::builder()
            .timeout(options.fetch_timeout)
            .connect_timeout(options.fetch_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("todo-auth-core/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| SettingsError::HttpClient(error.to_string()))?;
        Ok(Self {
            client,
            url: options.url.clone(),
            secret: options.secret.clone(),
            max_bytes: options.max_response_bytes,
            timeout_ms: options.fetch_timeout.as_millis(),
        })
    }

    /// A feed that is never fetched ([`super::RevokedSessions::fixed`]).
    pub(super) fn unused() -> Self {
        Self {
            client: reqwest::Client::new(),
            url: String::new(),
            secret: SecretString::from(""),
            max_bytes: 0,
            timeout_ms: 0,
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
        let mut response = request.send().await.map_err(|e| self.describe(e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("it answered HTTP {}", status.as_u16()));
        }
        let too_large = || format!("the answer is larger than {} bytes", self.max_bytes);
        if response
            .content_length()
            .is_some_and(|len| len > self.max_bytes as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.describe(e))? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|error| format!("not a revocation feed: {error}"))
    }

    fn describe(&self, error: reqwest::Error) -> String {
        if error.is_timeout() {
            format!("no complete answer within {} ms", self.timeout_ms)
        } else if error.is_connect() {
            "could not connect".to_owned()
        } else {
            error.without_url().to_string()
        }
    }
}
