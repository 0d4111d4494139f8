//! The `tasks` binary: see [`service_kit::main`]. It refuses to start
//! without a usable `INTERNAL_AUTH_SECRET`, binds `TASKS_LISTEN_ADDR`, then
//! migrates and serves until Ctrl-C or SIGTERM.

fn main() -> std::process::ExitCode {
    service_kit::main::<tasks::Config>()
}
