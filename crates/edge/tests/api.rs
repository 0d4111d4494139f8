//! The whole HTTP API, walked by two users against a real edge and tasks,
//! on SQLite and PostgreSQL, with local and remote token verification.

mod common;

use common::{Backend, Verify, start};
use reqwest::Method;
use serde_json::{Value, json};

scenarios!(
    all_six_operations,
    users_never_see_each_others_tasks,
    a_path_naming_another_user_is_forbidden,
    bodies_are_validated,
    inbound_identity_headers_are_ignored,
);

async fn all_six_operations(backend: Backend, verify: Verify) {
    let Some(stack) = start(backend, verify).await else {
        return;
    };
    let alice = stack.user("alice-id");

    // create: 201 with the task and a Location header
    let response = alice
        .request(Method::POST, &alice.tasks_url())
        .json(&json!({ "title": "  Buy milk  ", "description": "two litres" }))
        .send()
        .await
        .expect("create");
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let milk: Value = response.json().await.expect("json");
    assert_eq!(milk["title"], "Buy milk", "title is trimmed");
    assert_eq!(milk["description"], "two litres");
    assert_eq!(milk["completed"], false);
    assert_eq!(milk["user_id"], "alice-id");
    let id = milk["id"].as_i64().expect("id");
    assert_eq!(location, format!("/api/alice-id/tasks/{id}"));
    for stamp in ["created_at", "updated_at"] {
        let text = milk[stamp].as_str().expect("timestamp");
        assert!(
            text.contains('T') && (text.ends_with('Z') || text.contains('+')),
            "{text}"
        );
    }
    let bread = alice.create("Bake bread").await;
    let post = alice.create("Post letter").await;

    // list: creation order
    let titles = |tasks: &[Value]| -> Vec<String> {
        tasks
            .iter()
            .map(|t| t["title"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        titles(&alice.list("").await),
        ["Buy milk", "Bake bread", "Post letter"]
    );

    // get
    let response = alice
        .request(Method::GET, &alice.task_url(id))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.expect("json"), milk);

    // update: replaces title and description, sets completed
    let response = alice
        .request(Method::PUT, &alice.task_url(id))
        .json(&json!({ "title": "Buy oat milk", "completed": true }))
        .send()
        .await
        .expect("put");
    assert_eq!(response.status(), 200);
    let updated: Value = response.json().await.expect("json");
    assert_eq!(updated["title"], "Buy oat milk");
    assert_eq!(
        updated["description"],
        Value::Null,
        "an omitted description is cleared"
    );
    assert_eq!(updated["completed"], true);
    assert_eq!(updated["created_at"], milk["created_at"]);

    // toggle
    let bread_id = bread["id"].as_i64().expect("id");
    let toggle = format!("{}/complete", alice.task_url(bread_id));
    let response = alice
        .request(Method::PATCH, &toggle)
        .send()
        .await
        .expect("patch");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.expect("json")["completed"],
        true
    );

    // filters and paging
    assert_eq!(
        titles(&alice.list("?status=completed").await),
        ["Buy oat milk", "Bake bread"]
    );
    assert_eq!(
        titles(&alice.list("?status=pending").await),
        ["Post letter"]
    );
    assert_eq!(
        titles(&alice.list("?status=all&limit=2").await),
        ["Buy oat milk", "Bake bread"]
    );
    assert_eq!(
        titles(&alice.list("?limit=2&offset=2").await),
        ["Post letter"]
    );

    // toggle back
    let response = alice
        .request(Method::PATCH, &toggle)
        .send()
        .await
        .expect("patch");
    assert_eq!(
        response.json::<Value>().await.expect("json")["completed"],
        false
    );

    // delete: 204, then gone
    let post_id = post["id"].as_i64().expect("id");
    let response = alice
        .request(Method::DELETE, &alice.task_url(post_id))
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.expect("body").is_empty());
    let response = alice
        .request(Method::GET, &alice.task_url(post_id))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 404);
    assert_problem(response, 404).await;
    let response = alice
        .request(Method::DELETE, &alice.task_url(post_id))
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status(), 404);
    assert_eq!(
        titles(&alice.list("").await),
        ["Buy oat milk", "Bake bread"]
    );

    stack.finish().await;
}

async fn users_never_see_each_others_tasks(backend: Backend, verify: Verify) {
    let Some(stack) = start(backend, verify).await else {
        return;
    };
    let alice = stack.user("alice-id");
    let bob = stack.user("bob-id");
    let task = alice.create("Alice's secret").await;
    let id = task["id"].as_i64().expect("id");

    assert!(
        bob.list("").await.is_empty(),
        "bob lists none of alice's tasks"
    );
    // Bob, on his own path, naming alice's task id: 404 for every operation.
    let item = bob.task_url(id);
    let complete = format!("{item}/complete");
    let attempts = [
        bob.request(Method::GET, &item),
        bob.request(Method::PUT, &item)
            .json(&json!({ "title": "pwned", "completed": true })),
        bob.request(Method::PATCH, &complete),
        bob.request(Method::DELETE, &item),
    ];
    for attempt in attempts {
        let response = attempt.send().await.expect("send");
        assert_problem(response, 404).await;
    }
    // Alice's task is untouched.
    let after = alice.list("").await;
    assert_eq!(after, vec![task]);
    stack.finish().await;
}

async fn a_path_naming_another_user_is_forbidden(backend: Backend, verify: Verify) {
    let Some(stack) = start(backend, verify).await else {
        return;
    };
    let alice = stack.user("alice-id");
    let bob = stack.user("bob-id");
    let task = alice.create("Alice's").await;
    let id = task["id"].as_i64().expect("id");

    let item = alice.task_url(id);
    let complete = format!("{item}/complete");
    let attempts = [
        bob.request(Method::GET, &alice.tasks_url()),
        bob.request(Method::POST, &alice.tasks_url())
            .json(&json!({ "title": "planted" })),
        bob.request(Method::GET, &item),
        bob.request(Method::PUT, &item)
            .json(&json!({ "title": "pwned" })),
        bob.request(Method::PATCH, &complete),
        bob.request(Method::DELETE, &item),
    ];
    for attempt in attempts {
        let response = attempt.send().await.expect("send");
        assert_problem(response, 403).await;
    }
    assert_eq!(alice.list("").await, vec![task], "nothing was forwarded");
    stack.finish().await;
}

async fn bodies_are_validated(backend: Backend, verify: Verify) {
    let Some(stack) = start(backend, verify).await else {
        return;
    };
    let alice = stack.user("alice-id");
    let url = alice.tasks_url();
    let post = |body: Value| alice.request(Method::POST, &url).json(&body);

    for body in [
        json!({ "title": "" }),
        json!({ "title": "   " }),
        json!({ "title": "x".repeat(201) }),
        json!({ "title": "ok", "description": "d".repeat(1001) }),
        json!({ "description": "no title" }),
        json!({ "title": 42 }),
    ] {
        let response = post(body.clone()).send().await.expect("send");
        assert_eq!(response.status(), 422, "{body}");
        assert_problem(response, 422).await;
    }
    // The limits themselves are accepted (characters, not bytes).
    let response = post(json!({ "title": "é".repeat(200), "description": "d".repeat(1000) }))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 201);

    let raw = |content_type: &str, body: Vec<u8>| {
        alice
            .request(Method::POST, &url)
            .header("content-type", content_type)
            .body(body)
    };
    let response = raw("application/json", b"{\"title\": ".to_vec())
        .send()
        .await
        .expect("send");
    assert_problem(response, 400).await;
    let response = raw("text/plain", b"{\"title\": \"x\"}".to_vec())
        .send()
        .await
        .expect("send");
    assert_problem(response, 415).await;
    let big = format!(
        "{{\"title\": \"x\", \"description\": \"{}\"}}",
        "d".repeat(70 * 1024)
    );
    let response = raw("application/json", big.into_bytes())
        .send()
        .await
        .expect("send");
    assert_problem(response, 413).await;

    // Updates are validated the same way, and a refused update changes nothing.
    let task = alice.create("keep me").await;
    let id = task["id"].as_i64().expect("id");
    let response = alice
        .request(Method::PUT, &alice.task_url(id))
        .json(&json!({ "title": "" }))
        .send()
        .await
        .expect("send");
    assert_problem(response, 422).await;
    let response = alice
        .request(Method::GET, &alice.task_url(id))
        .send()
        .await
        .expect("get");
    assert_eq!(response.json::<Value>().await.expect("json"), task);

    // Bad query strings and ids.
    let response = alice
        .request(Method::GET, &format!("{url}?status=done"))
        .send()
        .await
        .expect("send");
    assert_problem(response, 400).await;
    let response = alice
        .request(Method::GET, &format!("{url}?limit=many"))
        .send()
        .await
        .expect("send");
    assert_problem(response, 400).await;
    let response = alice
        .request(Method::GET, &format!("{url}?limit=100000"))
        .send()
        .await
        .expect("send");
    assert_problem(response, 422).await;
    let response = alice
        .request(Method::GET, &format!("{url}/not-a-number"))
        .send()
        .await
        .expect("send");
    assert_problem(response, 404).await;
    stack.finish().await;
}

async fn inbound_identity_headers_are_ignored(backend: Backend, verify: Verify) {
    let Some(stack) = start(backend, verify).await else {
        return;
    };
    let alice = stack.user("alice-id");
    let bob = stack.user("bob-id");
    alice.create("Alice's").await;
    let response = bob
        .request(Method::GET, &bob.tasks_url())
        .header("x-user-id", "alice-id")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Vec<Value>>().await.expect("json"),
        Vec::<Value>::new()
    );
    stack.finish().await;
}

/// Asserts an RFC 9457 problem with this status and a `detail`.
pub async fn assert_problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "problem content type"
    );
    let body: Value = response.json().await.expect("problem json");
    assert_eq!(body["status"], status);
    assert_eq!(body["type"], "about:blank");
    assert!(body["title"].is_string());
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    body
}
