//! Request ids for requests that come without one: a UUID (the form
//! clients see in `x-request-id`) made of a random per-process prefix and a
//! counter, rather than 122 bits asked of the operating system for every
//! request. Unique within the process by construction and, through the 58
//! random bits of the prefix, across replicas; nobody should need them to
//! be unpredictable (they are ids, not secrets).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderValue, Request};
use tower_http::request_id::{MakeRequestId, RequestId};
use uuid::{Builder, Uuid};

static PREFIX: OnceLock<u64> = OnceLock::new();
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Makes request ids for [`tower_http::request_id::SetRequestIdLayer`].
#[derive(Clone, Copy, Default)]
pub struct MakeCountedUuid;

impl MakeRequestId for MakeCountedUuid {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let mut buffer = Uuid::encode_buffer();
        let text = next().hyphenated().encode_lower(&mut buffer);
        HeaderValue::from_str(text).ok().map(RequestId::new)
    }
}

/// The next id: the prefix in the first eight bytes, the counter in the
/// last eight, with the version (4) and variant bits set as a random UUID's.
fn next() -> Uuid {
    let prefix = *PREFIX.get_or_init(|| Uuid::new_v4().as_u64_pair().0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut bytes = [0; 16];
    bytes[..8].copy_from_slice(&prefix.to_be_bytes());
    bytes[8..].copy_from_slice(&count.to_be_bytes());
    Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_version_4_uuids_and_never_repeat() {
        let ids: HashSet<Uuid> = (0..10_000).map(|_| next()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(100) {
            assert_eq!(id.get_version_num(), 4);
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
        }
    }

    #[test]
    fn the_header_is_a_hyphenated_uuid() {
        let id = MakeCountedUuid
            .make_request_id(&Request::new(()))
            .expect("an id");
        let text = id.header_value().to_str().expect("ascii");
        assert_eq!(text.len(), 36);
        assert!(text.parse::<Uuid>().is_ok());
    }
}
