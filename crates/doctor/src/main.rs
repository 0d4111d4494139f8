//! The `doctor` binary (`just doctor`): prints one line per check and
//! exits 0 when nothing is wrong (or with `--help`), 1 when something is, 2 on a usage error
//! or a configuration that cannot be read at all. See [`doctor::run`].

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "-h" || arg == "--help") {
        println!("{}", doctor::args::USAGE);
        return ExitCode::SUCCESS;
    }
    let args = match doctor::args::parse(&args, std::env::var("DOCTOR_PASSWORD").ok()) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let report = match service_kit::load_config() {
        Ok(source) => doctor::run(&source, &args).await,
        Err(error) => Err(error),
    };
    match report {
        Ok(report) => {
            for check in &report.checks {
                println!("{check}");
            }
            println!("{}", report.summary());
            ExitCode::from(report.exit_code())
        }
        Err(error) => {
            eprintln!("✗ {error:#}");
            ExitCode::from(2)
        }
    }
}
