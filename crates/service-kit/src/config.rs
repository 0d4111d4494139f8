//! Reading configuration: built-in defaults (each settings type's `Default`),
//! then the optional TOML file named by `CONFIG_FILE` (same names, lower
//! case), then the environment, e.g. `BETTER_AUTH_SECRET` →
//! `better_auth_secret`. And the one shape of a refused number.

use std::ops::RangeInclusive;
use std::time::Duration;

use serde::de::DeserializeOwned;

/// The loaded configuration, before any settings type is read from it.
pub type Source = config::Config;

/// Reads `CONFIG_FILE` (when set) and the process environment.
pub fn load_config() -> anyhow::Result<Source> {
    let file = std::env::var_os("CONFIG_FILE").map(|path| path.to_string_lossy().into_owned());
    build(file, config::Environment::default())
}

/// A source made of these variables only (no file, not the process
/// environment): for tests of a service's configuration.
pub fn source_from<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> Source {
    let vars = vars
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    // Built from strings only: building cannot fail.
    build(None, config::Environment::default().source(Some(vars))).unwrap_or_default()
}

fn build(file: Option<String>, environment: config::Environment) -> anyhow::Result<Source> {
    let mut builder = config::Config::builder();
    if let Some(path) = file {
        builder = builder.add_source(config::File::with_name(&path).required(true));
    }
    builder
        .add_source(environment)
        .build()
        .map_err(|error| anyhow::anyhow!("could not read the configuration: {error}"))
}

/// One settings type out of the source; a value of the wrong type is
/// reported under its environment variable's name.
pub fn settings<T: DeserializeOwned>(source: &Source) -> anyhow::Result<T> {
    source
        .clone()
        .try_deserialize()
        .map_err(|error| match error {
            config::ConfigError::Type {
                key: Some(key),
                unexpected,
                expected,
                ..
            } => anyhow::anyhow!(
                "{} is {unexpected}: set it to {expected}",
                key.to_uppercase()
            ),
            config::ConfigError::At {
                error,
                key: Some(key),
                ..
            } => anyhow::anyhow!("{} is not valid: {error}", key.to_uppercase()),
            other => anyhow::anyhow!("invalid configuration: {other}"),
        })
}

/// A number setting outside the range the service accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} is {value}: set it to a whole number from {min} to {max}{unit}")]
pub struct OutOfRange {
    /// The environment variable.
    pub name: &'static str,
    pub value: u64,
    pub min: u64,
    pub max: u64,
    /// ` (milliseconds)`, ` (seconds)` or empty.
    pub unit: &'static str,
}

/// `value` when it lies in `range`; otherwise an error naming the variable
/// and the range.
pub fn in_range(
    name: &'static str,
    value: u64,
    range: RangeInclusive<u64>,
    unit: &'static str,
) -> Result<u64, OutOfRange> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(OutOfRange {
            name,
            value,
            min: *range.start(),
            max: *range.end(),
            unit,
        })
    }
}

/// A duration in milliseconds, checked like [`in_range`].
pub fn millis(
    name: &'static str,
    value: u64,
    range: RangeInclusive<u64>,
) -> Result<Duration, OutOfRange> {
    in_range(name, value, range, " (milliseconds)").map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Example {
        example_timeout_ms: u64,
    }

    #[test]
    fn variables_are_read_by_their_lower_case_names() {
        let source = source_from([("EXAMPLE_TIMEOUT_MS", "250")]);
        let example: Example = settings(&source).expect("valid");
        assert_eq!(example.example_timeout_ms, 250);
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_variable() {
        let source = source_from([("EXAMPLE_TIMEOUT_MS", "soon")]);
        let error = settings::<Example>(&source).expect_err("refused");
        let text = error.to_string();
        assert!(text.starts_with("EXAMPLE_TIMEOUT_MS is "), "{text}");
        assert!(text.contains("soon"), "{text}");
    }

    #[test]
    fn an_unknown_choice_names_its_variable() {
        #[derive(Debug, Deserialize)]
        #[serde(rename_all = "lowercase")]
        enum Mode {
            One,
        }
        #[derive(Debug, Deserialize)]
        struct Choice {
            #[allow(dead_code)]
            example_mode: Mode,
        }
        let source = source_from([("EXAMPLE_MODE", "two")]);
        let text = settings::<Choice>(&source)
            .expect_err("refused")
            .to_string();
        assert!(text.starts_with("EXAMPLE_MODE is not valid: "), "{text}");
    }

    #[test]
    fn out_of_range_names_the_variable_and_the_range() {
        assert_eq!(millis("X_MS", 5, 1..=10), Ok(Duration::from_millis(5)));
        let error = millis("X_MS", 0, 1..=10).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "X_MS is 0: set it to a whole number from 1 to 10 (milliseconds)"
        );
    }
}
