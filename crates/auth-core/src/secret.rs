//! The one rule for shared secrets (`BETTER_AUTH_SECRET`,
//! `INTERNAL_AUTH_SECRET`): set, and at least [`MIN_SECRET_BYTES`] long.

use secrecy::{ExposeSecret, SecretString};

use crate::SettingsError;

/// The shortest secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// The secret named `name`, if it is set and long enough.
pub(crate) fn checked_secret<'a>(
    name: &'static str,
    secret: Option<&'a SecretString>,
) -> Result<&'a SecretString, SettingsError> {
    let secret = secret.ok_or(SettingsError::MissingSecret(name))?;
    let len = secret.expose_secret().len();
    if len == 0 {
        return Err(SettingsError::MissingSecret(name));
    }
    if len < MIN_SECRET_BYTES {
        return Err(SettingsError::ShortSecret { name, len });
    }
    Ok(secret)
}
