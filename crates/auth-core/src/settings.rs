//! The token settings the edge and auth-verify share, read by the `config`
//! crate from their environment variables (`BETTER_AUTH_URL` →
//! `better_auth_url`), with their defaults stated once ([`Default`]), and
//! checked once, by [`AuthSettings::validate`], into an [`AuthConfig`].

use std::ops::RangeInclusive;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::jwt::Rules;
use crate::jwt::sent::COOKIE_CACHE_AUDIENCE;
use crate::secret::checked_secret;
use crate::{
    Jwks, JwksOptions, KeySource, RevocationOptions, RevokedSessions, SettingsError, TokenVerifier,
};

/// `AUTH_LEEWAY_SECS`: at most a minute of clock skew.
const LEEWAY_SECS: RangeInclusive<u64> = 0..=60;
/// `AUTH_MAX_TOKEN_LIFETIME_SECS`: up to a day.
const MAX_LIFETIME_SECS: RangeInclusive<u64> = 1..=86_400;
/// `AUTH_JWKS_REFRESH_SECS`: at least once a day.
const JWKS_REFRESH_SECS: RangeInclusive<u64> = 1..=86_400;
/// `AUTH_JWKS_REFETCH_COOLDOWN_SECS`: up to an hour.
const JWKS_COOLDOWN_SECS: RangeInclusive<u64> = 1..=3_600;
/// `AUTH_REVOCATION_POLL_MS`: from 50 ms to a minute.
const REVOCATION_POLL_MS: RangeInclusive<u64> = 50..=60_000;
/// `AUTH_REVOCATION_RESYNC_SECS`: at least once an hour.
const REVOCATION_RESYNC_SECS: RangeInclusive<u64> = 1..=3_600;
/// `AUTH_REVOCATION_MAX_STALE_SECS`: up to an hour.
const REVOCATION_STALE_SECS: RangeInclusive<u64> = 1..=3_600;

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

/// Token settings as read; field names are the environment variables,
/// lower-cased. [`AuthSettings::validate`] checks them.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// `BETTER_AUTH_SECRET`: the HS256 secret shared with the web app.
    pub better_auth_secret: Option<SecretString>,
    /// `BETTER_AUTH_URL`: the web app's base URL; the default issuer and
    /// audience, and where the JWKS is.
    pub better_auth_url: String,
    /// `AUTH_JWT_ISSUER`: the exact `iss` accepted (Better Auth's
    /// `jwt.issuer`); unset or empty: `BETTER_AUTH_URL`.
    pub auth_jwt_issuer: Option<String>,
    /// `AUTH_JWT_AUDIENCE`: the accepted audiences, comma-separated (Better
    /// Auth's `jwt.audience`); a token's `aud` must contain one of them.
    /// Unset or empty: `BETTER_AUTH_URL`.
    pub auth_jwt_audience: Option<String>,
    /// `AUTH_JWT_MODE`.
    pub auth_jwt_mode: JwtMode,
    /// `AUTH_JWKS_URL`: overrides `${BETTER_AUTH_URL}/api/auth/jwks`.
    pub auth_jwks_url: Option<String>,
    /// `AUTH_JWKS_REFRESH_SECS`: how often the JWKS is refetched in the background.
    pub auth_jwks_refresh_secs: u64,
    /// `AUTH_JWKS_REFETCH_COOLDOWN_SECS`: the least time between two
    /// refetches caused by tokens naming an unknown `kid`.
    pub auth_jwks_refetch_cooldown_secs: u64,
    /// `AUTH_LEEWAY_SECS`: clock-skew allowance for `exp` and `nbf`.
    pub auth_leeway_secs: u64,
    /// `AUTH_MAX_TOKEN_LIFETIME_SECS`: the longest `exp - now` accepted.
    pub auth_max_token_lifetime_secs: u64,
    /// `AUTH_REVOCATION_SECRET`: shared with the web app's revocation feed;
    /// when set, tokens of ended sessions (their `sid`) are refused.
    pub auth_revocation_secret: Option<SecretString>,
    /// `AUTH_REVOCATION_URL`: overrides `${BETTER_AUTH_URL}/api/internal/revocations`.
    pub auth_revocation_url: Option<String>,
    /// `AUTH_REVOCATION_POLL_MS`: the time between two polls of the feed.
    pub auth_revocation_poll_ms: u64,
    /// `AUTH_REVOCATION_RESYNC_SECS`: how often the whole list is fetched.
    pub auth_revocation_resync_secs: u64,
    /// `AUTH_REVOCATION_MAX_STALE_SECS`: after this long without a successful
    /// poll, tokens with `sid` get 503 and the service is not ready.
    pub auth_revocation_max_stale_secs: u64,
    /// `AUTH_REQUIRE_SID`: refuse tokens without a `sid` claim.
    pub auth_require_sid: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            better_auth_secret: None,
            better_auth_url: "http://localhost:3000".to_owned(),
            auth_jwt_issuer: None,
            auth_jwt_audience: None,
            auth_jwt_mode: JwtMode::Hs256,
            auth_jwks_url: None,
            auth_jwks_refresh_secs: 300,
            auth_jwks_refetch_cooldown_secs: 30,
            auth_leeway_secs: 10,
            auth_max_token_lifetime_secs: 900,
            auth_revocation_secret: None,
            auth_revocation_url: None,
            auth_revocation_poll_ms: 1_000,
            auth_revocation_resync_secs: 60,
            auth_revocation_max_stale_secs: 30,
            auth_require_sid: false,
        }
    }
}

/// Validated token settings: what [`AuthSettings::validate`] returns, and
/// all a [`TokenVerifier`] is built from.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    better_auth_url: String,
    issuer: String,
    audiences: Vec<String>,
    keys: Keys,
    leeway_secs: u64,
    max_lifetime_secs: u64,
    revocations: Option<RevocationOptions>,
    require_sid: bool,
}

/// The checked key settings of each mode.
#[derive(Debug, Clone)]
enum Keys {
    Hs256(SecretString),
    Jwks(JwksOptions),
    Both(SecretString, JwksOptions),
}

impl AuthSettings {
    /// Settings for the HS256 mode with everything else at its default.
    pub fn hs256(secret: &str, url: &str) -> Self {
        Self {
            better_auth_secret: Some(SecretString::from(secret.to_owned())),
            better_auth_url: url.to_owned(),
            ..Self::default()
        }
    }

    /// Settings for the JWKS mode (no secret) with everything else at its
    /// default; the JWKS is at `${url}/api/auth/jwks`.
    pub fn jwks(url: &str) -> Self {
        Self {
            better_auth_url: url.to_owned(),
            auth_jwt_mode: JwtMode::Jwks,
            ..Self::default()
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

    /// `AUTH_JWT_ISSUER` when set, else `BETTER_AUTH_URL`, as given.
    pub fn issuer(&self) -> &str {
        match self.auth_jwt_issuer.as_deref() {
            Some(issuer) if !issuer.trim().is_empty() => issuer,
            _ => &self.better_auth_url,
        }
    }

    /// The accepted audiences: `AUTH_JWT_AUDIENCE` split at commas (each
    /// trimmed), else `BETTER_AUTH_URL`. Checked by [`AuthSettings::validate`].
    pub fn audiences(&self) -> Vec<&str> {
        match self.auth_jwt_audience.as_deref() {
            Some(list) if !list.trim().is_empty() => list.split(',').map(str::trim).collect(),
            _ => vec![self.better_auth_url.as_str()],
        }
    }

    /// The issuer and audiences the verifier will demand, or why they
    /// cannot be used: [`AuthSettings::validate`]'s own check (the doctor
    /// reports it too, so the two never disagree).
    pub fn checked_issuer_and_audiences(&self) -> Result<(String, Vec<String>), SettingsError> {
        let issuer = self.issuer();
        if issuer.chars().any(char::is_control) {
            return Err(SettingsError::InvalidClaimSetting(
                "AUTH_JWT_ISSUER",
                "it contains control characters",
            ));
        }
        let audiences = self.audiences();
        for audience in &audiences {
            if audience.is_empty() {
                return Err(SettingsError::InvalidClaimSetting(
                    "AUTH_JWT_AUDIENCE",
                    "it has an empty entry (a comma too many?)",
                ));
            }
            if audience.chars().any(char::is_control) {
                return Err(SettingsError::InvalidClaimSetting(
                    "AUTH_JWT_AUDIENCE",
                    "it contains control characters",
                ));
            }
            if *audience == COOKIE_CACHE_AUDIENCE {
                return Err(SettingsError::InvalidClaimSetting(
                    "AUTH_JWT_AUDIENCE",
                    "better-auth:session-cache is the audience of Better Auth's session cookie cache, never of an API token",
                ));
            }
        }
        Ok((
            issuer.to_owned(),
            audiences.into_iter().map(str::to_owned).collect(),
        ))
    }

    /// `AUTH_REVOCATION_URL` when set, else
    /// `${BETTER_AUTH_URL}/api/internal/revocations`.
    pub fn revocation_url(&self) -> String {
        match self.auth_revocation_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => url.to_owned(),
            _ => format!(
                "{}/api/internal/revocations",
                self.better_auth_url.trim().trim_end_matches('/')
            ),
        }
    }

    /// The checked feed options, or `None` when `AUTH_REVOCATION_SECRET` is unset.
    fn checked_revocations(&self) -> Result<Option<RevocationOptions>, SettingsError> {
        let Some(secret) = &self.auth_revocation_secret else {
            if self.auth_require_sid {
                return Err(SettingsError::SidWithoutRevocations);
            }
            return Ok(None);
        };
        let secret = checked_secret("AUTH_REVOCATION_SECRET", Some(secret))?.clone();
        let url = self.revocation_url();
        let parsed = reqwest::Url::parse(&url)
            .map_err(|error| SettingsError::InvalidRevocationUrl(url.clone(), error.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(SettingsError::InvalidRevocationUrl(
                url,
                "it must be an http:// or https:// URL".to_owned(),
            ));
        }
        let poll = self.auth_revocation_poll_ms;
        if !REVOCATION_POLL_MS.contains(&poll) {
            return Err(SettingsError::OutOfRangeMillis {
                name: "AUTH_REVOCATION_POLL_MS",
                value: poll,
                min: *REVOCATION_POLL_MS.start(),
                max: *REVOCATION_POLL_MS.end(),
            });
        }
        let resync = in_range(
            "AUTH_REVOCATION_RESYNC_SECS",
            self.auth_revocation_resync_secs,
            REVOCATION_RESYNC_SECS,
        )?;
        let stale = in_range(
            "AUTH_REVOCATION_MAX_STALE_SECS",
            self.auth_revocation_max_stale_secs,
            REVOCATION_STALE_SECS,
        )?;
        Ok(Some(RevocationOptions {
            poll_interval: Duration::from_millis(poll),
            resync_interval: Duration::from_secs(resync),
            max_stale: Duration::from_secs(stale),
            ..RevocationOptions::new(url, secret)
        }))
    }

    /// How the JWKS is fetched, from these settings.
    pub fn jwks_options(&self) -> JwksOptions {
        JwksOptions {
            refresh_interval: Duration::from_secs(self.auth_jwks_refresh_secs),
            refetch_cooldown: Duration::from_secs(self.auth_jwks_refetch_cooldown_secs),
            ..JwksOptions::new(self.jwks_url())
        }
    }

    /// Checks every setting the mode uses, or says the one thing to fix:
    /// the secret (set, ≥ 32 bytes) in `hs256` and `both` modes; the JWKS
    /// URL (http or https) and intervals in `jwks` and `both` modes; the
    /// URL, leeway and lifetime always.
    pub fn validate(&self) -> Result<AuthConfig, SettingsError> {
        if self.better_auth_url.trim().is_empty() {
            return Err(SettingsError::MissingUrl);
        }
        let leeway_secs = in_range("AUTH_LEEWAY_SECS", self.auth_leeway_secs, LEEWAY_SECS)?;
        let max_lifetime_secs = in_range(
            "AUTH_MAX_TOKEN_LIFETIME_SECS",
            self.auth_max_token_lifetime_secs,
            MAX_LIFETIME_SECS,
        )?;
        let (issuer, audiences) = self.checked_issuer_and_audiences()?;
        let secret =
            || checked_secret("BETTER_AUTH_SECRET", self.better_auth_secret.as_ref()).cloned();
        let keys = match self.auth_jwt_mode {
            JwtMode::Hs256 => Keys::Hs256(secret()?),
            JwtMode::Jwks => Keys::Jwks(self.checked_jwks_options()?),
            JwtMode::Both => Keys::Both(secret()?, self.checked_jwks_options()?),
        };
        Ok(AuthConfig {
            better_auth_url: self.better_auth_url.clone(),
            issuer,
            audiences,
            keys,
            leeway_secs,
            max_lifetime_secs,
            revocations: self.checked_revocations()?,
            require_sid: self.auth_require_sid,
        })
    }

    fn checked_jwks_options(&self) -> Result<JwksOptions, SettingsError> {
        in_range(
            "AUTH_JWKS_REFRESH_SECS",
            self.auth_jwks_refresh_secs,
            JWKS_REFRESH_SECS,
        )?;
        in_range(
            "AUTH_JWKS_REFETCH_COOLDOWN_SECS",
            self.auth_jwks_refetch_cooldown_secs,
            JWKS_COOLDOWN_SECS,
        )?;
        let options = self.jwks_options();
        options.check()?;
        Ok(options)
    }

    /// [`AuthSettings::validate`], then [`AuthConfig::verifier`].
    pub fn verifier(&self) -> Result<TokenVerifier, SettingsError> {
        self.validate()?.verifier()
    }
}

impl AuthConfig {
    /// `BETTER_AUTH_URL`: the web app's origin.
    pub fn better_auth_url(&self) -> &str {
        &self.better_auth_url
    }

    /// The exact `iss` accepted.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audiences accepted (a token's `aud` must contain one).
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// The verifier. In `jwks` and `both` modes this starts fetching the
    /// JWKS in the background, and with `AUTH_REVOCATION_SECRET` polling the
    /// ended sessions (either needs a Tokio runtime); the verifier is not
    /// ready ([`TokenVerifier::readiness`]) until both are loaded.
    pub fn verifier(&self) -> Result<TokenVerifier, SettingsError> {
        let keys = match &self.keys {
            Keys::Hs256(secret) => KeySource::hs256(secret.expose_secret().as_bytes()),
            Keys::Jwks(options) => KeySource::Jwks(Jwks::start(options.clone())?),
            Keys::Both(secret, options) => KeySource::both(
                secret.expose_secret().as_bytes(),
                Jwks::start(options.clone())?,
            ),
        };
        let audiences: Vec<&str> = self.audiences.iter().map(String::as_str).collect();
        let rules = Rules::new(
            &self.issuer,
            &audiences,
            self.leeway_secs,
            self.max_lifetime_secs,
        );
        let revoked = match &self.revocations {
            Some(options) => Some(RevokedSessions::start(options.clone())?),
            None => None,
        };
        Ok(TokenVerifier::new(keys, rules).with_revocations(revoked, self.require_sid))
    }

    /// The longest one verification may wait: in `jwks` and `both` modes a
    /// token naming an unknown `kid` waits for the JWKS refetch (its fetch
    /// timeout); in `hs256` mode nothing is waited for. The edge sizes its
    /// request timeout from this.
    pub fn longest_verification(&self) -> Duration {
        match &self.keys {
            Keys::Hs256(_) => Duration::ZERO,
            Keys::Jwks(options) | Keys::Both(_, options) => options.fetch_timeout,
        }
    }

    /// Whether ended sessions are checked (`AUTH_REVOCATION_SECRET` is set).
    pub fn checks_revocations(&self) -> bool {
        self.revocations.is_some()
    }
}

fn in_range(
    name: &'static str,
    value: u64,
    range: RangeInclusive<u64>,
) -> Result<u64, SettingsError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(SettingsError::OutOfRange {
            name,
            value,
            min: *range.start(),
            max: *range.end(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(settings: &AuthSettings) -> String {
        settings.validate().expect_err("refused").to_string()
    }

    #[test]
    fn each_number_is_refused_outside_its_range_naming_the_variable() {
        let mut leeway = AuthSettings::jwks("http://localhost:3000");
        leeway.auth_leeway_secs = 61;
        assert_eq!(
            refusal(&leeway),
            "AUTH_LEEWAY_SECS is 61: set it to a whole number from 0 to 60 (seconds)"
        );
        let mut lifetime = AuthSettings::jwks("http://localhost:3000");
        lifetime.auth_max_token_lifetime_secs = 0;
        assert!(refusal(&lifetime).starts_with("AUTH_MAX_TOKEN_LIFETIME_SECS is 0: "));
        let mut refresh = AuthSettings::jwks("http://localhost:3000");
        refresh.auth_jwks_refresh_secs = 0;
        assert!(refusal(&refresh).starts_with("AUTH_JWKS_REFRESH_SECS is 0: "));
        let mut cooldown = AuthSettings::jwks("http://localhost:3000");
        cooldown.auth_jwks_refetch_cooldown_secs = 3_601;
        assert!(refusal(&cooldown).contains("from 1 to 3600"));
    }

    #[test]
    fn the_jwks_settings_are_not_checked_in_hs256_mode() {
        let mut settings = AuthSettings::hs256(&"s".repeat(32), "http://localhost:3000");
        settings.auth_jwks_refresh_secs = 0;
        settings.auth_jwks_url = Some("file:///etc/passwd".to_owned());
        assert!(settings.validate().is_ok());
    }

    #[test]
    fn a_verification_waits_for_a_jwks_refetch_only_with_a_jwks() {
        let url = "http://localhost:3000";
        let hs256 = AuthSettings::hs256(&"s".repeat(32), url);
        let jwks = AuthSettings::jwks(url);
        let both = AuthSettings {
            auth_jwt_mode: JwtMode::Both,
            ..hs256.clone()
        };
        let longest = |settings: &AuthSettings| {
            let config = settings.validate().expect("valid");
            config.longest_verification()
        };
        assert_eq!(longest(&hs256), Duration::ZERO);
        assert_eq!(longest(&jwks), crate::JWKS_FETCH_TIMEOUT);
        assert_eq!(longest(&both), crate::JWKS_FETCH_TIMEOUT);
    }

    #[test]
    fn issuer_and_audiences_default_to_better_auth_url() {
        let config = AuthSettings::jwks("http://localhost:3000")
            .validate()
            .expect("defaults");
        assert_eq!(config.issuer(), "http://localhost:3000");
        assert_eq!(config.audiences(), ["http://localhost:3000"]);
        let mut blank = AuthSettings::jwks("http://localhost:3000");
        blank.auth_jwt_issuer = Some(" ".to_owned());
        blank.auth_jwt_audience = Some(String::new());
        let config = blank.validate().expect("blank is unset");
        assert_eq!(config.issuer(), "http://localhost:3000");
        assert_eq!(config.audiences(), ["http://localhost:3000"]);
    }

    #[test]
    fn issuer_is_taken_as_given_and_audiences_are_a_list() {
        let mut settings = AuthSettings::jwks("http://localhost:3000");
        settings.auth_jwt_issuer = Some("https://auth.example.com/".to_owned());
        settings.auth_jwt_audience = Some("https://api.example.com, todo-edge".to_owned());
        let config = settings.validate().expect("valid");
        assert_eq!(config.issuer(), "https://auth.example.com/");
        assert_eq!(config.audiences(), ["https://api.example.com", "todo-edge"]);
    }

    #[test]
    fn unusable_audiences_are_refused_naming_the_variable() {
        for (list, why) in [
            ("a,,b", "empty entry"),
            ("a,", "empty entry"),
            ("better-auth:session-cache", "cookie cache"),
            ("a\u{7}", "control"),
        ] {
            let mut settings = AuthSettings::jwks("http://localhost:3000");
            settings.auth_jwt_audience = Some(list.to_owned());
            let refused = refusal(&settings);
            assert!(refused.starts_with("AUTH_JWT_AUDIENCE "), "{refused}");
            assert!(refused.contains(why), "{list}: {refused}");
        }
        let mut issuer = AuthSettings::jwks("http://localhost:3000");
        issuer.auth_jwt_issuer = Some("http://a\n".to_owned());
        assert!(refusal(&issuer).starts_with("AUTH_JWT_ISSUER "));
    }

    #[test]
    fn revocations_need_a_long_secret_and_sid_required_needs_revocations() {
        let mut settings = AuthSettings::jwks("http://localhost:3000");
        assert!(!settings.validate().expect("off").checks_revocations());
        settings.auth_require_sid = true;
        assert!(refusal(&settings).starts_with("AUTH_REQUIRE_SID is on"));
        settings.auth_revocation_secret = Some(SecretString::from("short".to_owned()));
        assert!(refusal(&settings).starts_with("AUTH_REVOCATION_SECRET is only 5 bytes"));
        settings.auth_revocation_secret = Some(SecretString::from("r".repeat(32)));
        let config = settings.validate().expect("on");
        assert!(config.checks_revocations());
        assert_eq!(
            settings.revocation_url(),
            "http://localhost:3000/api/internal/revocations"
        );
        settings.auth_revocation_poll_ms = 10;
        assert!(refusal(&settings).starts_with("AUTH_REVOCATION_POLL_MS is 10: "));
        settings.auth_revocation_poll_ms = 1_000;
        settings.auth_revocation_url = Some("ftp://x/".to_owned());
        assert!(refusal(&settings).contains("AUTH_REVOCATION_URL"));
    }

    #[test]
    fn defaults_are_valid_in_jwks_mode() {
        let config = AuthSettings::jwks("http://localhost:3000")
            .validate()
            .expect("defaults");
        assert_eq!(config.better_auth_url(), "http://localhost:3000");
        assert!(matches!(config.keys, Keys::Jwks(_)));
    }
}
