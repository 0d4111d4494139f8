//! `TEST_LOG=1`: the services' logs in the test output (captured per test,
//! shown for failing tests or with `--no-capture`), filtered by `RUST_LOG`
//! (default `info`). Without it tests log nothing.

use std::sync::Once;

use tracing::Subscriber;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt};

/// Whether `TEST_LOG` asks for logs (set, not empty, not `0`).
fn wanted() -> bool {
    std::env::var("TEST_LOG").is_ok_and(|value| !value.is_empty() && value != "0")
}

/// The log layer `TEST_LOG` asks for, writing to the test's output; `None`
/// when it is off. For a test that builds its own subscriber.
pub fn test_log_layer<S>() -> Option<impl Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    wanted().then(|| {
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        tracing_subscriber::fmt::layer()
            .with_test_writer()
            .with_filter(filter)
    })
}

/// Installs the `TEST_LOG` subscriber once per test process (every server
/// helper calls this; a test may too).
pub fn init_test_log() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if wanted() {
            // Another subscriber may already be global: then it stays.
            let _ = tracing_subscriber::registry()
                .with(test_log_layer())
                .try_init();
        }
    });
}
