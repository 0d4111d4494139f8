//! The `probe` binary: `probe grpc URL [SERVICE]` or `probe http URL`; exit
//! 0 when healthy, 1 when not, 2 on a usage error. See [`probe::run`].

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    ExitCode::from(probe::run(&args).await)
}
