//! The `edge` binary: see [`service_kit::main`].

fn main() -> std::process::ExitCode {
    service_kit::main::<edge::Config>()
}
