//! The black-box harness: the stack under test ([`Stack`]), the client that
//! talks to it over real HTTP ([`Client`]), and the macros that run one
//! scenario against each target.

pub mod client;
pub mod raw;
pub mod stack;

pub use client::Client;
pub use raw::Raw;
pub use stack::{SECRET, Stack, Target, Verify, WEB_URL, sign_with};

/// Runs each scenario (`async fn(&Stack)`) against SQLite and PostgreSQL
/// with in-process verification, against SQLite through auth-verify, and,
/// ignored unless asked for, against the edge at `TEST_EDGE_URL`
/// (`just test-external`).
#[macro_export]
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        $crate::scenario_tests!(sqlite, Sqlite, Local; $($name),*);
        $crate::scenario_tests!(postgres, Postgres, Local; $($name),*);
        $crate::scenario_tests!(remote_verify, Sqlite, Remote; $($name),*);
        $crate::external_tests!($($name),*);
    };
}

/// Runs each scenario once in-process (SQLite) and, ignored unless asked
/// for, against the edge at `TEST_EDGE_URL`.
#[macro_export]
macro_rules! scenarios_in_process_and_external {
    ($($name:ident),* $(,)?) => {
        $crate::scenario_tests!(in_process, Sqlite, Local; $($name),*);
        $crate::external_tests!($($name),*);
    };
}

/// `mod $module` with one `#[tokio::test]` per scenario, on an in-process
/// stack with this backend and verification.
#[macro_export]
macro_rules! scenario_tests {
    ($module:ident, $backend:ident, $verify:ident; $($name:ident),* $(,)?) => {
        mod $module {
            $(
                #[tokio::test]
                async fn $name() {
                    let target = $crate::common::Target::InProcess(
                        tasks::testing::Backend::$backend,
                        $crate::common::Verify::$verify,
                    );
                    let stack = $crate::common::Stack::start(target).await;
                    super::$name(&stack).await;
                    stack.finish().await;
                }
            )*
        }
    };
}

/// The `external` variants: ignored by default, so that a plain run never
/// reports them as passed; they fail, saying what to set, when run without
/// `TEST_EDGE_URL`.
#[macro_export]
macro_rules! external_tests {
    ($($name:ident),* $(,)?) => {
        mod external {
            $(
                #[tokio::test]
                #[ignore = "needs a running stack: TEST_EDGE_URL (just test-external)"]
                async fn $name() {
                    let stack = $crate::common::Stack::start($crate::common::Target::External).await;
                    super::$name(&stack).await;
                    stack.finish().await;
                }
            )*
        }
    };
}
