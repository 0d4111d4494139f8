//! The token settings the edge and auth-verify share, read by the `config`
//! crate from the public names in DESIGN.md, and checked once at start-up.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::jwt::Rules;
use crate::secret::checked_secret;
use crate::{Jwks, JwksOptions, KeySource, SettingsError, TokenVerifier};
/// The largest clock-skew leeway accepted, in seconds.
pub const MAX_LEEWAY_SECS: u64 = 60;

/// How tokens are verified (`AUTH_JWT_MODE`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JwtMode {
    /// HS256 with `BETTER_AUTH_SECRET` (the default).
    #[default]
    Hs256,
    /// Better Auth's asymmetric keys, from its JWKS endpoint.
    Jwks,
    /// HS256 tokens against the secret, asymmetric ones against the JWKS.
    Both,
}

/// Token settings; field names are the environment variables, lower-cased.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// `BETTER_AUTH_SECRET`: the HS256 secret shared with the web app.
    pub better_auth_secret: Option<SecretString>,
    /// `BETTER_AUTH_URL`: the web app's base URL, the expected `iss` and `aud`.
    #[serde(default = "default_url")]
    pub better_auth_url: String,
    /// `AUTH_JWT_MODE`.
    #[serde(default)]
    pub auth_jwt_mode: JwtMode,
    /// `AUTH_JWKS_URL`: overrides `${BETTER_AUTH_URL}/api/auth/jwks`.
    pub auth_jwks_url: Option<String>,
    /// `AUTH_JWKS_REFRESH_SECS`: how often the JWKS is refetched in the background.
    #[serde(default = "default_jwks_refresh")]
    pub auth_jwks_refresh_secs: u64,
    /// `AUTH_JWKS_REFETCH_COOLDOWN_SECS`: the least time between two
    /// refetches caused by tokens naming an unknown `kid`.
    #[serde(default = "default_jwks_cooldown")]
    pub auth_jwks_refetch_cooldown_secs: u64,
    /// `AUTH_LEEWAY_SECS`: clock-skew allowance for `exp` and `nbf` (≤ 60).
    #[serde(default = "default_leeway")]
    pub auth_leeway_secs: u64,
    /// `AUTH_MAX_TOKEN_LIFETIME_SECS`: the longest `exp - now` accepted.
    #[serde(default = "default_max_lifetime")]
    pub auth_max_token_lifetime_secs: u64,
}

fn default_url() -> String {
    "http://localhost:3000".to_owned()
}
fn default_leeway() -> u64 {
    10
}
fn default_max_lifetime() -> u64 {
    900
}
fn default_jwks_refresh() -> u64 {
    300
}
fn default_jwks_cooldown() -> u64 {
    30
}

impl AuthSettings {
    /// Settings for the HS256 mode with everything else at its default.
    pub fn hs256(secret: &str, url: &str) -> Self {
        Self {
            better_auth_secret: Some(SecretString::from(secret.to_owned())),
            better_auth_url: url.to_owned(),
            auth_jwt_mode: JwtMode::Hs256,
            auth_jwks_url: None,
            auth_jwks_refresh_secs: default_jwks_refresh(),
            auth_jwks_refetch_cooldown_secs: default_jwks_cooldown(),
            auth_leeway_secs: default_leeway(),
            auth_max_token_lifetime_secs: default_max_lifetime(),
        }
    }

    /// Settings for the JWKS mode (no secret) with everything else at its
    /// default; the JWKS is at `${url}/api/auth/jwks`.
    pub fn jwks(url: &str) -> Self {
        Self {
            better_auth_secret: None,
            auth_jwt_mode: JwtMode::Jwks,
            ..Self::hs256("", url)
        }
    }

    /// `AUTH_JWKS_URL` when set, else `${BETTER_AUTH_URL}/api/auth/jwks`.
    pub fn jwks_url(&self) -> String {
        match self.auth_jwks_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => url.to_owned(),
            _ => format!(
                "{}/api/auth/jwks",
                self.better_auth_url.trim().trim_end_matches('/')
            ),
        }
    }

    /// How the JWKS is fetched, from these settings.
    pub fn jwks_options(&self) -> JwksOptions {
        JwksOptions {
            refresh_interval: Duration::from_secs(self.auth_jwks_refresh_secs),
            refetch_cooldown: Duration::from_secs(self.auth_jwks_refetch_cooldown_secs),
            ..JwksOptions::new(self.jwks_url())
        }
    }

    /// The verifier these settings describe, or the one thing to fix. In
    /// `jwks` and `both` modes this starts fetching the JWKS in the
    /// background (it needs a Tokio runtime); the verifier is not ready
    /// ([`TokenVerifier::readiness`]) until keys are loaded.
    pub fn verifier(&self) -> Result<TokenVerifier, SettingsError> {
        if self.auth_leeway_secs > MAX_LEEWAY_SECS {
            return Err(SettingsError::LeewayTooLarge(self.auth_leeway_secs));
        }
        if self.better_auth_url.trim().is_empty() {
            return Err(SettingsError::MissingUrl);
        }
        let keys = match self.auth_jwt_mode {
            JwtMode::Hs256 => {
                let secret =
                    checked_secret("BETTER_AUTH_SECRET", self.better_auth_secret.as_ref())?;
                KeySource::hs256(secret.expose_secret().as_bytes())
            }
            JwtMode::Jwks => KeySource::Jwks(Jwks::start(self.jwks_options())?),
            JwtMode::Both => {
                let secret =
                    checked_secret("BETTER_AUTH_SECRET", self.better_auth_secret.as_ref())?;
                let jwks = Jwks::start(self.jwks_options())?;
                KeySource::both(secret.expose_secret().as_bytes(), jwks)
            }
        };
        let rules = Rules::new(
            &self.better_auth_url,
            &self.better_auth_url,
            self.auth_leeway_secs,
            self.auth_max_token_lifetime_secs,
        );
        Ok(TokenVerifier::new(keys, rules))
    }
}
