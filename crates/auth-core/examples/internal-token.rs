//! Prints an internal credential for `USER_ID`, minted exactly as the edge
//! mints one per call (issuer `todo-edge`, audience `tasks`, 60 s), for
//! calling tasks by hand with grpcurl: `just internal-token <user_id>`
//! (reads `INTERNAL_AUTH_SECRET` from the environment, as the services do).

use auth_core::{InternalSigner, UserId};
use secrecy::SecretString;

fn main() {
    let Some(user_id) = std::env::args().nth(1) else {
        eprintln!("usage: internal-token <user_id>");
        std::process::exit(2);
    };
    let user_id = match UserId::parse(user_id) {
        Ok(user_id) => user_id,
        Err(error) => {
            eprintln!("internal-token: {error}");
            std::process::exit(2);
        }
    };
    let secret = std::env::var("INTERNAL_AUTH_SECRET")
        .ok()
        .map(SecretString::from);
    let signer = match InternalSigner::new(secret.as_ref()) {
        Ok(signer) => signer,
        Err(error) => {
            eprintln!("internal-token: {error}");
            std::process::exit(2);
        }
    };
    match signer.mint(&user_id) {
        Ok(token) => println!("{token}"),
        Err(error) => {
            eprintln!("internal-token: {error}");
            std::process::exit(1);
        }
    }
}
