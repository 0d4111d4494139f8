//! Prints the edge's OpenAPI document: `just openapi` writes it to
//! `crates/edge/openapi.json` (a test keeps the two equal).

fn main() {
    match edge::openapi::document().to_pretty_json() {
        Ok(json) => println!("{json}"),
        Err(error) => {
            eprintln!("openapi: {error}");
            std::process::exit(1);
        }
    }
}
