//! The extractors handlers use instead of axum's `Json`, `Path` and
//! `Query`: the same parsing, with every rejection turned into an
//! [`ApiError`], so a bad body, path or query gets the problem+json answer
//! whatever the handler. `Json` is also the success response.

use axum::extract::{FromRequest, FromRequestParts};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::ApiError;

/// A JSON body (400 unparsable, 413 too large, 415 not JSON, 422 wrong
/// shape), or a JSON response.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Path parameters (a path that names nothing we hold is 404).
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// Query parameters (400 when they do not parse).
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, header};
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body1 {
        #[allow(dead_code)]
        title: String,
    }

    fn request(uri: &str, content_type: &str, body: &'static str) -> Request<Body> {
        Request::builder()
            .uri(uri)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .expect("request")
    }

    async fn json(content_type: &str, body: &'static str) -> Result<Json<Body1>, ApiError> {
        Json::from_request(request("/", content_type, body), &()).await
    }

    #[tokio::test]
    async fn every_json_rejection_is_an_api_error() {
        assert!(json("application/json", r#"{"title": "x"}"#).await.is_ok());
        assert!(matches!(
            json("application/json", "{not json").await,
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            json("application/json", r#"{"title": 7}"#).await,
            Err(ApiError::Unprocessable(_))
        ));
        assert!(matches!(
            json("text/plain", r#"{"title": "x"}"#).await,
            Err(ApiError::UnsupportedMediaType)
        ));
    }

    #[tokio::test]
    async fn query_rejections_are_api_errors() {
        #[derive(Debug, Deserialize)]
        struct Paging {
            #[allow(dead_code)]
            limit: Option<u32>,
        }
        let (mut parts, _) = request("/?limit=lots", "text/plain", "").into_parts();
        let query = Query::<Paging>::from_request_parts(&mut parts, &()).await;
        assert!(matches!(query, Err(ApiError::BadRequest(_))));
    }
}
