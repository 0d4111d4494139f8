//! The whole HTTP API, walked by two users against a real edge and tasks,
//! on SQLite and PostgreSQL, with local and remote token verification (and
//! against a running stack: `external`).

use serde_json::{Value, json};

use crate::common::Stack;
use crate::scenarios;

scenarios!(
    all_six_operations,
    users_never_see_each_others_tasks,
    a_path_naming_another_user_is_forbidden,
    bodies_are_validated,
    an_identity_header_does_not_change_whose_tasks_these_are,
);

fn titles(tasks: &[Value]) -> Vec<String> {
    tasks
        .iter()
        .map(|t| t["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn id_of(task: &Value) -> i64 {
    task["id"].as_i64().expect("id")
}

async fn all_six_operations(stack: &Stack) {
    let alice = stack.user("alice");

    // create: 201 with the task and a Location header
    let created = alice
        .post(alice.tasks())
        .json(json!({ "title": "  Buy milk  ", "description": "two litres" }))
        .reply(201)
        .await;
    let milk = created.body.clone();
    assert_eq!(milk["title"], "Buy milk", "title is trimmed");
    assert_eq!(milk["description"], "two litres");
    assert_eq!(milk["completed"], false);
    assert_eq!(milk["user_id"], alice.id.as_str());
    let id = id_of(&milk);
    assert_eq!(created.header("location"), alice.task(id));
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
    assert_eq!(
        titles(&alice.list("").await),
        ["Buy milk", "Bake bread", "Post letter"]
    );

    // get
    assert_eq!(alice.get(alice.task(id)).expect(200).await, milk);

    // update: replaces title and description, sets completed
    let updated = alice
        .put(alice.task(id))
        .json(json!({ "title": "Buy oat milk", "completed": true }))
        .expect(200)
        .await;
    assert_eq!(updated["title"], "Buy oat milk");
    assert_eq!(
        updated["description"],
        Value::Null,
        "an omitted description is cleared"
    );
    assert_eq!(updated["completed"], true);
    assert_eq!(updated["created_at"], milk["created_at"]);

    // toggle
    let toggle = format!("{}/complete", alice.task(id_of(&bread)));
    assert_eq!(alice.patch(&toggle).expect(200).await["completed"], true);

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
    assert_eq!(alice.patch(&toggle).expect(200).await["completed"], false);

    // delete: 204 with an empty body, then gone
    let post = alice.task(id_of(&post));
    assert_eq!(alice.delete(&post).expect(204).await, Value::Null);
    alice.get(&post).expect(404).await;
    alice.delete(&post).expect(404).await;
    assert_eq!(
        titles(&alice.list("").await),
        ["Buy oat milk", "Bake bread"]
    );
}

async fn users_never_see_each_others_tasks(stack: &Stack) {
    let alice = stack.user("alice");
    let bob = stack.user("bob");
    let task = alice.create("Alice's secret").await;
    let id = id_of(&task);

    assert!(
        bob.list("").await.is_empty(),
        "bob lists none of alice's tasks"
    );
    // Bob, on his own path, naming alice's task id: 404 for every operation.
    let item = bob.task(id);
    let complete = format!("{item}/complete");
    let attempts = [
        bob.get(&item),
        bob.put(&item)
            .json(json!({ "title": "pwned", "completed": true })),
        bob.patch(&complete),
        bob.delete(&item),
    ];
    for attempt in attempts {
        attempt.expect(404).await;
    }
    // Alice's task is untouched.
    assert_eq!(alice.list("").await, vec![task]);
}

async fn a_path_naming_another_user_is_forbidden(stack: &Stack) {
    let alice = stack.user("alice");
    let bob = stack.user("bob");
    let task = alice.create("Alice's").await;

    let item = alice.task(id_of(&task));
    let complete = format!("{item}/complete");
    let attempts = [
        bob.get(alice.tasks()),
        bob.post(alice.tasks()).json(json!({ "title": "planted" })),
        bob.get(&item),
        bob.put(&item).json(json!({ "title": "pwned" })),
        bob.patch(&complete),
        bob.delete(&item),
    ];
    for attempt in attempts {
        attempt.expect(403).await;
    }
    assert_eq!(alice.list("").await, vec![task], "nothing was forwarded");
}

async fn bodies_are_validated(stack: &Stack) {
    let alice = stack.user("alice");
    let tasks = alice.tasks();

    for body in [
        json!({ "title": "" }),
        json!({ "title": "   " }),
        json!({ "title": "x".repeat(201) }),
        json!({ "title": "ok", "description": "d".repeat(1001) }),
        json!({ "description": "no title" }),
        json!({ "title": 42 }),
    ] {
        alice.post(&tasks).json(body).expect(422).await;
    }
    // The limits themselves are accepted (characters, not bytes).
    alice
        .post(&tasks)
        .json(json!({ "title": "é".repeat(200), "description": "d".repeat(1000) }))
        .expect(201)
        .await;

    alice
        .post(&tasks)
        .body("application/json", "{\"title\": ")
        .expect(400)
        .await;
    alice
        .post(&tasks)
        .body("text/plain", "{\"title\": \"x\"}")
        .expect(415)
        .await;
    let big = format!(
        "{{\"title\": \"x\", \"description\": \"{}\"}}",
        "d".repeat(70 * 1024)
    );
    alice
        .post(&tasks)
        .body("application/json", big)
        .expect(413)
        .await;

    // Updates are validated the same way, and a refused update changes nothing.
    let task = alice.create("keep me").await;
    let item = alice.task(id_of(&task));
    alice
        .put(&item)
        .json(json!({ "title": "" }))
        .expect(422)
        .await;
    assert_eq!(alice.get(&item).expect(200).await, task);

    // Bad query strings and ids.
    alice.get(format!("{tasks}?status=done")).expect(400).await;
    alice.get(format!("{tasks}?limit=many")).expect(400).await;
    alice.get(format!("{tasks}?limit=100000")).expect(422).await;
    alice.get(format!("{tasks}/not-a-number")).expect(404).await;
}

/// Black-box half of the header stripping (the router half, which fails
/// if the middleware is removed, is `router::inbound_identity_headers_are_ignored`).
async fn an_identity_header_does_not_change_whose_tasks_these_are(stack: &Stack) {
    let alice = stack.user("alice");
    let bob = stack.user("bob");
    alice.create("Alice's").await;
    let listed = bob
        .get(bob.tasks())
        .header("x-user-id", &alice.id)
        .expect(200)
        .await;
    assert_eq!(listed, json!([]));
}
