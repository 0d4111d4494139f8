//! The OpenAPI document and the docs page: the committed
//! `crates/edge/openapi.json` is the generated document (`just openapi`
//! regenerates it), the edge serves it without a token, and the docs page
//! and every asset it loads come from the edge itself (no CDN: it works
//! offline), under a CSP that allows nothing else.

use serde_json::Value;

use crate::common::Stack;

const COMMITTED: &str = include_str!("../../openapi.json");

#[test]
fn the_committed_document_is_the_generated_one() {
    let generated = edge::openapi::document()
        .to_pretty_json()
        .expect("the document serializes");
    assert!(
        COMMITTED.trim_end() == generated.trim_end(),
        "crates/edge/openapi.json is out of date: run `just openapi` and commit it"
    );
}

#[test]
fn the_document_describes_every_operation_with_its_errors_and_limits() {
    let doc: Value = serde_json::from_str(COMMITTED).expect("JSON");
    assert!(
        doc["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3.1")
    );
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["scheme"], "bearer", "{scheme}");
    let operations = [
        (
            "/api/{user_id}/tasks",
            "get",
            vec![200, 400, 401, 403, 422, 503, 504],
        ),
        (
            "/api/{user_id}/tasks",
            "post",
            vec![201, 400, 401, 403, 413, 415, 422, 503, 504],
        ),
        (
            "/api/{user_id}/tasks/{id}",
            "get",
            vec![200, 400, 401, 403, 404, 503, 504],
        ),
        (
            "/api/{user_id}/tasks/{id}",
            "put",
            vec![200, 400, 401, 403, 404, 413, 415, 422, 503, 504],
        ),
        (
            "/api/{user_id}/tasks/{id}",
            "delete",
            vec![204, 400, 401, 403, 404, 503, 504],
        ),
        (
            "/api/{user_id}/tasks/{id}/complete",
            "patch",
            vec![200, 400, 401, 403, 404, 503, 504],
        ),
    ];
    for (path, method, statuses) in operations {
        let operation = &doc["paths"][path][method];
        assert_eq!(
            operation["security"][0]["bearer"],
            Value::Array(vec![]),
            "{method} {path}"
        );
        let responses = operation["responses"].as_object().expect("responses");
        let mut documented: Vec<u16> = responses
            .keys()
            .map(|s| s.parse().expect("a status"))
            .collect();
        documented.sort_unstable();
        assert_eq!(documented, statuses, "{method} {path}");
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                let problem = &response["content"]["application/problem+json"]["schema"]["$ref"];
                assert_eq!(
                    problem, "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
        }
    }
    let schemas = &doc["components"]["schemas"];
    let title = &schemas["NewTask"]["properties"]["title"];
    assert_eq!(
        title["maxLength"],
        proto::limits::MAX_TITLE_CHARS,
        "{title}"
    );
    assert_eq!(title["minLength"], 1, "{title}");
    let description = &schemas["TaskUpdate"]["properties"]["description"];
    assert_eq!(
        description["maxLength"],
        proto::limits::MAX_DESCRIPTION_CHARS,
        "{description}"
    );
    let params = doc["paths"]["/api/{user_id}/tasks"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    let limit = params.iter().find(|p| p["name"] == "limit").expect("limit");
    assert_eq!(
        limit["schema"]["maximum"],
        proto::limits::MAX_PAGE,
        "{limit}"
    );
    for name in ["Problem", "Task", "NewTask", "TaskUpdate"] {
        assert!(schemas[name].is_object(), "schema {name}");
    }
}

#[tokio::test]
async fn the_document_and_the_docs_page_are_served_without_a_token_and_load_nothing_from_elsewhere()
{
    let stack = Stack::builder().start().await;
    let anonymous = stack.anonymous();
    let served = anonymous.get("/openapi.json").expect(200).await;
    let committed: Value = serde_json::from_str(COMMITTED).expect("JSON");
    assert_eq!(served, committed);

    let page = anonymous.get("/docs/").send().await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let html = page.text().await.expect("html");
    // Every asset the page names is ours and is served.
    let mut assets = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for piece in html.split(attribute).skip(1) {
            let target = piece.split('"').next().unwrap_or_default();
            assert!(
                !target.contains("://") && !target.starts_with("//"),
                "external asset {target}"
            );
            assets.push(target.trim_start_matches("./").to_owned());
        }
    }
    assert!(assets.iter().any(|a| a.ends_with(".js")), "{html}");
    for asset in &assets {
        let response = anonymous.get(format!("/docs/{asset}")).send().await;
        assert_eq!(response.status(), 200, "/docs/{asset}");
        if asset == "swagger-initializer.js" {
            let script = response.text().await.expect("script");
            assert!(script.contains("/openapi.json"), "{script}");
            assert!(
                script.contains("validatorUrl"),
                "no public validator: {script}"
            );
        }
    }
    stack.finish().await;
}
