//! The `auth-verify` binary: see [`service_kit::main`].

fn main() -> std::process::ExitCode {
    service_kit::main::<auth_verify::Config>()
}
