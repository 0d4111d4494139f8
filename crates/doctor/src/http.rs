//! The doctor's HTTP client: short timeouts, no redirects (an answer that
//! redirects is reported as it is), and errors said in a few words.

use std::time::Duration;

/// How long one request may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);

pub fn client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|error| anyhow::anyhow!("could not set up the HTTP client: {error}"))
}

/// A request error in a few words: what failed, not reqwest's whole chain.
pub fn describe(error: &reqwest::Error) -> String {
    if error.is_connect() {
        "cannot connect (nothing listening there?)".to_owned()
    } else if error.is_timeout() {
        format!("no answer within {}s", TIMEOUT.as_secs())
    } else {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            text = format!("{text}: {cause}");
            source = cause.source();
        }
        text
    }
}
