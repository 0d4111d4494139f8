//! Request ids: a request's `x-request-id` (the client's, or one made here)
//! is put on the request, for the request span, and on the response. One
//! layer for both, as tower-http's `SetRequestId` and `PropagateRequestId`
//! did, without their request and response extensions (nothing reads them).
//!
//! An id made here is a UUID (the form clients see) made of a random
//! per-process prefix and a counter, rather than 122 bits asked of the
//! operating system for every request. Unique within the process by
//! construction and, through the 58 random bits of the prefix, across
//! replicas; nobody should need them to be unpredictable (they are ids, not
//! secrets).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use tower::{Layer, Service};
use uuid::{Builder, Uuid};

static PREFIX: OnceLock<u64> = OnceLock::new();
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Gives every request and its response the request id header `name`.
#[derive(Clone)]
pub struct RequestIdLayer {
    name: HeaderName,
}

impl RequestIdLayer {
    pub fn new(name: HeaderName) -> Self {
        Self { name }
    }
}

impl<S> Layer<S> for RequestIdLayer {
    type Service = SetRequestId<S>;

    fn layer(&self, inner: S) -> SetRequestId<S> {
        SetRequestId {
            inner,
            name: self.name.clone(),
        }
    }
}

/// See [`RequestIdLayer`].
#[derive(Clone)]
pub struct SetRequestId<S> {
    inner: S,
    name: HeaderName,
}

impl<S> Service<Request> for SetRequestId<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = WithRequestId<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let id = match request.headers().get(&self.name) {
            Some(id) => id.clone(),
            None => {
                let id = make();
                request.headers_mut().insert(self.name.clone(), id.clone());
                id
            }
        };
        WithRequestId {
            answer: self.inner.call(request),
            name: Some(self.name.clone()),
            id: Some(id),
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner answer, with the request id header added unless it has one.
    pub struct WithRequestId<F> {
        #[pin]
        answer: F,
        name: Option<HeaderName>,
        id: Option<HeaderValue>,
    }
}

impl<F> Future for WithRequestId<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(mut response) = ready!(this.answer.poll(cx));
        if let (Some(name), Some(id)) = (this.name.take(), this.id.take()) {
            response.headers_mut().entry(name).or_insert(id);
        }
        Poll::Ready(Ok(response))
    }
}

/// A new id, as a header value.
fn make() -> HeaderValue {
    let mut buffer = Uuid::encode_buffer();
    let text = next().hyphenated().encode_lower(&mut buffer);
    // A hyphenated UUID is always a valid header value.
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("-"))
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
        let id = make();
        let text = id.to_str().expect("ascii");
        assert_eq!(text.len(), 36);
        assert!(text.parse::<Uuid>().is_ok());
    }
}
