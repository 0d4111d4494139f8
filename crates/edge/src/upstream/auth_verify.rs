//! The channel to auth-verify (`AUTH_VERIFY_URL`), for the edge's remote
//! verification mode.

use std::time::Duration;

use tonic::transport::Channel;

use super::{Options, Pool, Urls};

/// How often auth-verify's hosts are resolved again (tasks has its own
/// setting, `TASKS_RESOLVE_INTERVAL_MS`).
const RESOLVE_INTERVAL: Duration = Duration::from_secs(5);

/// A channel balanced over every address of one URL or of a list of URLs
/// (see [`super::balance`]).
pub fn channel(urls: &Urls, connect_timeout: Duration) -> Channel {
    let options = Options {
        name: "auth-verify",
        connect_timeout,
        resolve_interval: RESOLVE_INTERVAL,
    };
    Pool::new(urls, options).channel()
}
