//! Prints an HS256 token shaped exactly like the web app's, for trying the
//! API with curl: `just dev-token <user_id>` (reads `BETTER_AUTH_SECRET` and
//! `BETTER_AUTH_URL` from the environment, as the services do).

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

/// Same lifetime as the web app's tokens.
const LIFETIME_SECS: u64 = 15 * 60;

fn main() {
    let Some(user_id) = std::env::args().nth(1) else {
        eprintln!("usage: dev-token <user_id>");
        std::process::exit(2);
    };
    let secret = std::env::var("BETTER_AUTH_SECRET").unwrap_or_default();
    if secret.len() < auth_core::MIN_SECRET_BYTES {
        eprintln!(
            "dev-token: BETTER_AUTH_SECRET must be set to the services' secret (at least 32 bytes)"
        );
        std::process::exit(2);
    }
    let url = std::env::var("BETTER_AUTH_URL").unwrap_or_else(|_| "http://localhost:3000".into());
    let now = jsonwebtoken::get_current_timestamp();
    let claims = json!({
        "sub": user_id,
        "iss": url,
        "aud": url,
        "iat": now,
        "exp": now + LIFETIME_SECS,
        "email": format!("{user_id}@example.com"),
        "name": user_id,
    });
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("JWT".into());
    match jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    ) {
        Ok(token) => println!("{token}"),
        Err(error) => {
            eprintln!("dev-token: could not sign: {error}");
            std::process::exit(1);
        }
    }
}
