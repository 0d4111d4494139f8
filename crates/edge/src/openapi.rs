//! The API's OpenAPI 3.1 document, generated from the handlers'
//! `#[utoipa::path]` attributes and the types they take and return (the
//! route table in [`crate::routes`] builds the router and the document
//! together, so neither can list a route the other lacks). Served at
//! `GET /openapi.json`, with Swagger UI at `GET /docs/` (its assets compiled
//! into the binary: no CDN, works offline); committed as
//! `crates/edge/openapi.json` (`just openapi`), which a test keeps equal.

use auth_core::ProblemBody;
use axum::Router;
use axum::http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi};
use utoipa_swagger_ui::{Config, SwaggerUi};

/// Where the document is served.
pub const SPEC_PATH: &str = "/openapi.json";
/// Where Swagger UI is served.
pub const DOCS_PATH: &str = "/docs";

/// The name of the bearer security scheme the task operations require.
pub const BEARER: &str = "bearer";

/// Only our own origin, for the docs page: it loads nothing from elsewhere.
const DOCS_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
     script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "todo-auth-bridge edge",
        description = "The Todo API: every `/api/{user_id}` operation needs \
            `Authorization: Bearer <jwt>` (a Better Auth JWT) whose `sub` is `{user_id}`. \
            Errors are `application/problem+json` (RFC 9457).",
    ),
    modifiers(&BearerScheme),
    components(schemas(ProblemBody)),
    tags(
        (name = "tasks", description = "The caller's tasks"),
        (name = "health", description = "Liveness and readiness"),
    ),
)]
pub struct ApiDoc;

/// The `bearer` security scheme (HTTP bearer, JWT).
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut Document) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(
                "A Better Auth JWT (`/api/auth/token` of the web app; `just dev-token USER` in development)",
            ))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(BEARER, SecurityScheme::Http(scheme));
    }
}

/// The refusals every `/api/{user_id}` operation can answer with, before
/// the request reaches tasks.
#[derive(IntoResponses)]
#[allow(dead_code)] // a description for the document only
pub enum AuthErrors<'a> {
    /// Malformed credentials: two `Authorization` headers, a token in the
    /// query, an empty bearer; or a query that does not parse.
    #[response(status = 400, content_type = "application/problem+json",
        headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"todo\", error=\"invalid_request\", …` for malformed credentials")))]
    BadRequest(ProblemBody<'a>),
    /// No token, or a bad, expired, forged or wrong-issuer/audience token.
    #[response(status = 401, content_type = "application/problem+json",
        headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"todo\"`, with `error=\"invalid_token\"` and `error_description` for a refused token")))]
    Unauthorized(ProblemBody<'a>),
    /// A valid token whose `sub` is not the path's `{user_id}`.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(ProblemBody<'a>),
    /// The tasks service (or auth-verify) is down, or the signing keys are not
    /// loaded yet.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(ProblemBody<'a>),
    /// The tasks service (or auth-verify) did not answer in time.
    #[response(status = 504, content_type = "application/problem+json")]
    Timeout(ProblemBody<'a>),
}

/// A task that is not the caller's, or a non-numeric task id.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum NotFound<'a> {
    /// No such task among the caller's (another user's is not revealed).
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(ProblemBody<'a>),
}

/// What a JSON body can be refused for.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum BodyErrors<'a> {
    /// The body is larger than 64 KiB.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(ProblemBody<'a>),
    /// The body is not `application/json`.
    #[response(status = 415, content_type = "application/problem+json")]
    NotJson(ProblemBody<'a>),
    /// The body has the wrong shape or breaks a rule (title, description).
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(ProblemBody<'a>),
}

/// The document, as served and committed.
pub fn document() -> Document {
    crate::routes::api().1
}

/// `GET /openapi.json` and Swagger UI under `GET /docs/`, "Authorize"
/// taking a bearer token; public, outside `/api`.
pub fn routes<S: Clone + Send + Sync + 'static>(document: Document) -> Router<S> {
    let config = Config::new([SPEC_PATH])
        // Swagger UI would otherwise send the document to a public validator.
        .validator_url("none")
        .persist_authorization(false);
    let docs: Router<S> = SwaggerUi::new(DOCS_PATH)
        .config(config)
        .url(SPEC_PATH, document)
        .into();
    docs.layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_CSP),
    ))
}

/// The input limits as schemas, from the constants tasks enforces
/// (`proto::limits`), so the document cannot drift from the rules.
pub mod limits {
    use proto::limits::{
        DEFAULT_LIMIT, MAX_DESCRIPTION_CHARS, MAX_OFFSET, MAX_PAGE, MAX_TITLE_CHARS,
    };
    use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, SchemaType, Type};
    use utoipa::openapi::{KnownFormat, Object};

    pub fn title() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_TITLE_CHARS))
            .description(Some(format!(
                "Stored trimmed: 1 to {MAX_TITLE_CHARS} characters after trimming, no NUL"
            )))
            .build()
    }

    pub fn description() -> Object {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .max_length(Some(MAX_DESCRIPTION_CHARS))
            .description(Some(format!(
                "At most {MAX_DESCRIPTION_CHARS} characters, no NUL"
            )))
            .build()
    }

    pub fn limit() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .minimum(Some(0))
            .maximum(Some(MAX_PAGE))
            .description(Some(format!(
                "The page size: 1 to {MAX_PAGE}; 0 or absent means {DEFAULT_LIMIT}"
            )))
            .build()
    }

    pub fn offset() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(0))
            .maximum(Some(MAX_OFFSET as f64))
            .description(Some("How many tasks to skip (default 0)"))
            .build()
    }
}
