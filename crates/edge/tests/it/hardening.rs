//! What a stranger can send that the happy paths never do (issue 9): every
//! answer is a problem+json 4xx, never a 5xx, and one task has one URL.

use auth_core::UserId;
use tasks::repo::{MAX_DESCRIPTION_CHARS, MAX_LIMIT, MAX_TITLE_CHARS, NewTask};

use crate::common::Stack;
use crate::{scenario_tests, scenarios_in_process_and_external};

scenarios_in_process_and_external!(
    a_wrong_method_is_405_with_allow_and_a_problem,
    only_canonical_decimal_task_ids_address_a_task,
);

// Verifying in-process and through auth-verify alike.
scenario_tests!(local, Sqlite, Local;
    an_oversized_token_is_401,
    a_subject_outside_visible_ascii_is_401,
);
scenario_tests!(remote, Sqlite, Remote;
    an_oversized_token_is_401,
    a_subject_outside_visible_ascii_is_401,
);

/// Over 8 KiB: refused before any decoding, also in remote mode, where it
/// used to reach auth-verify's message limit and come back as a 500.
async fn an_oversized_token_is_401(stack: &Stack) {
    for size in [8 * 1024 + 1, 17 * 1024, 64 * 1024] {
        let token = format!("{}.e30.sig", "e".repeat(size));
        let client = stack.client("alice", &token);
        let reply = client.get(client.tasks()).reply(401).await;
        let challenge = reply.header("www-authenticate");
        assert!(
            challenge.contains("larger than 8 KiB"),
            "{size}: {challenge}"
        );
    }
}

/// Subjects that cannot travel as gRPC metadata are refused at verification
/// with the reason (they used to verify, then fail at tasks with a 500).
async fn a_subject_outside_visible_ascii_is_401(stack: &Stack) {
    for sub in ["über", "用户", "café-😀", "two words"] {
        let token = stack.sign(&stack.claims(sub));
        let client = stack.client(sub, &token);
        let reply = client.get(client.tasks()).reply(401).await;
        let challenge = reply.header("www-authenticate");
        assert!(challenge.contains("visible ASCII"), "{sub}: {challenge}");
        client
            .post(client.tasks())
            .json(serde_json::json!({ "title": "never stored" }))
            .expect(401)
            .await;
    }
}

async fn a_wrong_method_is_405_with_allow_and_a_problem(stack: &Stack) {
    let alice = stack.user("alice");
    let reply = alice.patch(alice.tasks()).reply(405).await;
    let allow = reply.header("allow");
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert!(
        reply.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("not allowed")),
        "{}",
        reply.body
    );
    let reply = stack.anonymous().delete("/healthz").reply(405).await;
    assert!(reply.header("allow").contains("GET"));
}

async fn only_canonical_decimal_task_ids_address_a_task(stack: &Stack) {
    let alice = stack.user("alice");
    let id = alice.create("one URL").await["id"].as_i64().expect("an id");
    alice.get(alice.task(id)).expect(200).await;
    let base = alice.tasks();
    for spelling in [
        format!("+{id}"),
        format!("0{id}"),
        format!("%20{id}"),
        format!("{id}%20"),
        format!("%2B{id}"),
        format!("00{id}"),
    ] {
        let path = format!("{base}/{spelling}");
        alice.get(&path).expect(404).await;
        alice.delete(&path).expect(404).await;
        alice.patch(format!("{path}/complete")).expect(404).await;
    }
    // Nothing above touched the task.
    let task = alice.get(alice.task(id)).expect(200).await;
    assert_eq!(task["completed"], false);
}

/// The largest reply there is: a full page of tasks with the longest title
/// and description, all of 4-byte characters (about 5 MB of protobuf, over
/// tonic's default 4 MiB limit).
#[tokio::test]
async fn a_full_page_of_the_largest_tasks_is_listed() {
    let stack = Stack::builder().start().await;
    let alice = stack.user("alice");
    let user = UserId::parse(alice.id.clone()).expect("a user id");
    let title = "😀".repeat(MAX_TITLE_CHARS);
    let description = "😀".repeat(MAX_DESCRIPTION_CHARS);
    for _ in 0..MAX_LIMIT {
        let new = NewTask::parse(&title, Some(description.clone())).expect("valid");
        tasks::repo::create(&user, stack.database().conn(), new)
            .await
            .expect("stored");
    }
    let listed = alice.list(&format!("?limit={MAX_LIMIT}")).await;
    assert_eq!(listed.len(), MAX_LIMIT as usize);
    assert_eq!(listed[listed.len() - 1]["title"], title.as_str());
    assert_eq!(listed[0]["description"], description.as_str());
    stack.finish().await;
}
