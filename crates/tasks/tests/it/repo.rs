//! The repository against both backends: what a user relies on is stored,
//! listed, changed and removed, and never visible to anyone else.

use auth_core::UserId;
use sea_orm::DatabaseConnection;
use tasks::repo::{self, NewTask, Page, StatusFilter, Task, TaskError, TaskUpdate};

use crate::both_backends;
use crate::common::{ALICE, BOB};

fn user(id: &str) -> UserId {
    UserId::parse(id).expect("a user id")
}

fn parse_new(title: &str, description: Option<&str>) -> Result<NewTask, TaskError> {
    NewTask::parse(title, description.map(str::to_owned))
}

fn new(title: &str, description: Option<&str>) -> NewTask {
    parse_new(title, description).expect("valid input")
}

fn update(title: &str, description: Option<&str>, completed: Option<bool>) -> TaskUpdate {
    TaskUpdate::parse(title, description.map(str::to_owned), completed).expect("valid input")
}

fn page(limit: u32, offset: u64) -> Page {
    Page::parse(limit, offset).expect("a valid page")
}

async fn create(db: &DatabaseConnection, user_id: &str, title: &str) -> Task {
    repo::create(&user(user_id), db, new(title, None))
        .await
        .expect("create")
}

async fn titles(
    db: &DatabaseConnection,
    user_id: &str,
    filter: StatusFilter,
    limit: u32,
    offset: u64,
) -> Vec<String> {
    repo::list(&user(user_id), db, filter, page(limit, offset))
        .await
        .expect("list")
        .into_iter()
        .map(|task| task.title)
        .collect()
}

fn invalid_reason(result: Result<impl std::fmt::Debug, TaskError>) -> String {
    match result {
        Err(TaskError::Invalid(reason)) => reason,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn is_not_found<T: std::fmt::Debug>(result: Result<T, TaskError>) -> bool {
    matches!(result, Err(TaskError::NotFound))
}

async fn create_then_get_round_trips(db: DatabaseConnection) {
    let created = repo::create(&user(ALICE), &db, new("  Buy milk  ", Some("2 litres")))
        .await
        .expect("create");
    assert_eq!(created.user_id, ALICE);
    assert_eq!(created.title, "Buy milk", "title is stored trimmed");
    assert_eq!(created.description.as_deref(), Some("2 litres"));
    assert!(!created.completed);
    assert_eq!(created.created_at, created.updated_at);

    let fetched = repo::get(&user(ALICE), &db, created.id).await.expect("get");
    assert_eq!(fetched, created);

    let second = create(&db, ALICE, "Second").await;
    assert!(second.id > created.id, "ids grow in creation order");
}

async fn list_filters_and_pages_in_creation_order(db: DatabaseConnection) {
    for title in ["one", "two", "three", "four", "five"] {
        create(&db, ALICE, title).await;
    }
    let all = repo::list(&user(ALICE), &db, StatusFilter::All, page(0, 0))
        .await
        .expect("list");
    for title in ["two", "four"] {
        let task = all.iter().find(|t| t.title == title).expect("present");
        repo::toggle(&user(ALICE), &db, task.id)
            .await
            .expect("toggle");
    }

    assert_eq!(
        titles(&db, ALICE, StatusFilter::All, 0, 0).await,
        ["one", "two", "three", "four", "five"]
    );
    assert_eq!(
        titles(&db, ALICE, StatusFilter::Pending, 0, 0).await,
        ["one", "three", "five"]
    );
    assert_eq!(
        titles(&db, ALICE, StatusFilter::Completed, 0, 0).await,
        ["two", "four"]
    );
    assert_eq!(
        titles(&db, ALICE, StatusFilter::All, 2, 0).await,
        ["one", "two"]
    );
    assert_eq!(
        titles(&db, ALICE, StatusFilter::All, 2, 2).await,
        ["three", "four"]
    );
    assert_eq!(titles(&db, ALICE, StatusFilter::All, 2, 4).await, ["five"]);
    assert!(
        titles(&db, ALICE, StatusFilter::All, 2, 10)
            .await
            .is_empty()
    );
    assert_eq!(
        titles(&db, ALICE, StatusFilter::Pending, 1, 1).await,
        ["three"]
    );
    assert!(titles(&db, BOB, StatusFilter::All, 0, 0).await.is_empty());
}

async fn limit_zero_means_one_hundred(db: DatabaseConnection) {
    for i in 0..101 {
        create(&db, ALICE, &format!("task {i}")).await;
    }
    assert_eq!(titles(&db, ALICE, StatusFilter::All, 0, 0).await.len(), 100);
    assert_eq!(
        titles(&db, ALICE, StatusFilter::All, 1000, 0).await.len(),
        101
    );
    let reason = invalid_reason(Page::parse(1001, 0));
    assert!(reason.contains("limit"), "{reason}");
}

async fn update_replaces_title_and_description(db: DatabaseConnection) {
    let task = repo::create(&user(ALICE), &db, new("Draft", Some("notes")))
        .await
        .expect("create");
    repo::toggle(&user(ALICE), &db, task.id)
        .await
        .expect("toggle");

    let changes = update(" Final ", None, None);
    let updated = repo::update(&user(ALICE), &db, task.id, changes)
        .await
        .expect("update");
    assert_eq!(updated.title, "Final");
    assert_eq!(updated.description, None, "an absent description clears it");
    assert!(updated.completed, "absent completed leaves it as it was");
    assert_eq!(updated.created_at, task.created_at);
    assert!(updated.updated_at > task.updated_at);

    let changes = update("Final", Some("new notes"), Some(false));
    let again = repo::update(&user(ALICE), &db, task.id, changes)
        .await
        .expect("update");
    assert_eq!(again.description.as_deref(), Some("new notes"));
    assert!(!again.completed);
    assert!(again.updated_at > updated.updated_at);
    assert_eq!(
        repo::get(&user(ALICE), &db, task.id).await.expect("get"),
        again
    );
}

async fn toggle_flips_completion_each_time(db: DatabaseConnection) {
    let task = create(&db, ALICE, "Walk").await;
    let done = repo::toggle(&user(ALICE), &db, task.id)
        .await
        .expect("toggle");
    assert!(done.completed);
    assert!(done.updated_at > task.updated_at);
    let undone = repo::toggle(&user(ALICE), &db, task.id)
        .await
        .expect("toggle");
    assert!(!undone.completed);
    assert!(undone.updated_at > done.updated_at);
    assert_eq!(
        (undone.title, undone.created_at),
        (task.title, task.created_at)
    );
}

async fn delete_removes_the_task_once(db: DatabaseConnection) {
    let keep = create(&db, ALICE, "Keep").await;
    let gone = create(&db, ALICE, "Gone").await;
    repo::delete(&user(ALICE), &db, gone.id)
        .await
        .expect("delete");
    assert!(is_not_found(repo::get(&user(ALICE), &db, gone.id).await));
    assert!(is_not_found(repo::delete(&user(ALICE), &db, gone.id).await));
    assert_eq!(titles(&db, ALICE, StatusFilter::All, 0, 0).await, ["Keep"]);
    assert_eq!(
        repo::get(&user(ALICE), &db, keep.id).await.expect("get"),
        keep
    );

    let next = create(&db, ALICE, "Next").await;
    assert!(next.id > gone.id, "ids of deleted tasks are not reused");
}

async fn missing_tasks_are_not_found(db: DatabaseConnection) {
    let update = update("x", None, None);
    for id in [0, -1, 424_242] {
        assert!(is_not_found(repo::get(&user(ALICE), &db, id).await));
        assert!(is_not_found(
            repo::update(&user(ALICE), &db, id, update.clone()).await
        ));
        assert!(is_not_found(repo::toggle(&user(ALICE), &db, id).await));
        assert!(is_not_found(repo::delete(&user(ALICE), &db, id).await));
    }
}

async fn users_never_see_each_others_tasks(db: DatabaseConnection) {
    let alices = repo::create(&user(ALICE), &db, new("Alice's", Some("private")))
        .await
        .expect("create");
    let bobs = create(&db, BOB, "Bob's").await;

    let update = update("hijacked", None, Some(true));
    assert!(is_not_found(repo::get(&user(BOB), &db, alices.id).await));
    assert!(is_not_found(
        repo::update(&user(BOB), &db, alices.id, update).await
    ));
    assert!(is_not_found(repo::toggle(&user(BOB), &db, alices.id).await));
    assert!(is_not_found(repo::delete(&user(BOB), &db, alices.id).await));
    assert_eq!(titles(&db, BOB, StatusFilter::All, 0, 0).await, ["Bob's"]);

    assert_eq!(
        repo::get(&user(ALICE), &db, alices.id).await.expect("get"),
        alices,
        "unchanged"
    );
    assert_eq!(
        titles(&db, ALICE, StatusFilter::All, 0, 0).await,
        ["Alice's"]
    );
    assert!(is_not_found(repo::get(&user(ALICE), &db, bobs.id).await));
}

async fn invalid_input_is_refused_and_changes_nothing(db: DatabaseConnection) {
    for title in ["", "   ", "\n\t"] {
        let reason = invalid_reason(parse_new(title, None));
        assert!(reason.contains("title"), "{reason}");
    }
    let long = "x".repeat(201);
    assert!(invalid_reason(parse_new(&long, None)).contains("200"));
    let long = "d".repeat(1001);
    assert!(invalid_reason(parse_new("ok", Some(&long))).contains("1000"));
    assert!(
        titles(&db, ALICE, StatusFilter::All, 0, 0).await.is_empty(),
        "nothing stored"
    );

    let max_title = "ñ".repeat(200);
    let max_description = "é".repeat(1000);
    let task = repo::create(&user(ALICE), &db, new(&max_title, Some(&max_description)))
        .await
        .expect("limits are inclusive, in characters");
    assert_eq!(task.title, max_title);

    invalid_reason(TaskUpdate::parse(" ", None, Some(true)));
    assert_eq!(
        repo::get(&user(ALICE), &db, task.id).await.expect("get"),
        task,
        "unchanged"
    );
    assert!(UserId::parse("").is_err(), "no task without an owner");
}

both_backends!(
    create_then_get_round_trips,
    list_filters_and_pages_in_creation_order,
    limit_zero_means_one_hundred,
    update_replaces_title_and_description,
    toggle_flips_completion_each_time,
    delete_removes_the_task_once,
    missing_tasks_are_not_found,
    users_never_see_each_others_tasks,
    invalid_input_is_refused_and_changes_nothing,
);
