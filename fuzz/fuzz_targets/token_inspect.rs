//! `auth_core::jwt::inspect`, the first look at any bearer token: any
//! string; what it accepts has the size, shape and algorithm the rules ask.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(header) = auth_core::jwt::inspect(token) {
        assert!(token.len() <= auth_core::MAX_TOKEN_BYTES);
        assert_eq!(token.split('.').count(), 3);
        assert!(auth_core::jwt::ALLOWED_ALGORITHMS.contains(&header.alg));
    }
});
