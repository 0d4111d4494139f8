//! Waiting for something observable (a fetch count, a readiness state, a
//! call counter) instead of sleeping for a guessed time: poll until it
//! holds, within a bound generous enough for a busy shared machine.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How long [`eventually`] waits before it fails the test.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// How often [`eventually`] looks again.
const POLL: Duration = Duration::from_millis(20);

/// Calls `check` until it returns `Some`, and returns that; panics naming
/// `what` if that has not happened within [`PATIENCE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "waited {} s, still not: {what}",
            PATIENCE.as_secs()
        );
        tokio::time::sleep(POLL).await;
    }
}
