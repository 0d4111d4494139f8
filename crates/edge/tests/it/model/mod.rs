//! Model-based isolation: random sequences of operations by several users
//! (create, list, get, update, toggle, delete; other users' task ids and
//! paths; bad tokens), a few at a time concurrently, through the real edge,
//! tasks and PostgreSQL. Every answer is checked against an in-memory model
//! of what each user should see, and after every step each user's whole
//! list is too.
//!
//! `MODEL_OPS` operations (default 3000; `just model` runs 100 000),
//! `MODEL_SEED` to replay a run (the seed is printed first, and is part of
//! every failure message).

mod ops;
mod state;

use serde_json::json;
use tasks::testing::Backend;

use crate::common::{Stack, sign_with};
use ops::{Caller, Change, Op, assert_list};
use state::{Model, Rng};

const USERS: [&str; 3] = ["alice", "bob", "carol"];
/// The edge's upstream timeout in the model (the default is 2 s); the test
/// client gives up after 15 s.
const STARVED_UPSTREAM_MS: u64 = 10_000;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|value| {
            value
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("{name} is not a number: {value}"))
        })
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_every_user_sees_exactly_their_own_tasks() {
    let seed = setting("MODEL_SEED", jsonwebtoken::get_current_timestamp());
    let total = setting("MODEL_OPS", 3000);
    eprintln!("model: seed {seed}, {total} operations (MODEL_SEED={seed} replays this run)");
    // Long upstream budgets: the model checks who sees what, not timing,
    // and a long run on a starved machine must not end in a 504 because a
    // task was not scheduled within the default 2 s.
    let stack = Stack::builder()
        .backend(Backend::Postgres)
        .edge(|settings| {
            settings.edge_upstream_timeout_ms = STARVED_UPSTREAM_MS;
            settings.edge_request_timeout_ms = STARVED_UPSTREAM_MS + 2_000;
        })
        .start()
        .await;
    let mut rng = Rng::new(seed);
    let users: Vec<String> = USERS.iter().map(|name| stack.user_id(name)).collect();
    let mut callers = sign_in(&stack);
    let mut signed_at = std::time::Instant::now();
    let bad = bad_tokens(&stack, &users[0]);
    let mut model = Model::new(USERS.len());

    let mut done = 0;
    let mut step = 0;
    while done < total {
        step += 1;
        // Tokens live 15 minutes; a long run signs its users in again.
        if signed_at.elapsed() > std::time::Duration::from_secs(600) {
            callers = sign_in(&stack);
            signed_at = std::time::Instant::now();
        }
        // One to four operations at once, never two on the same user's own
        // tasks (their order would be up to the scheduler).
        let mut batch: Vec<Op> = Vec::new();
        for _ in 0..1 + rng.below(4) {
            let caller = rng.pick(&callers);
            let op = Op::random(&mut rng, &model, caller, &users, &bad);
            let busy = batch
                .iter()
                .any(|o| o.touches_own() && o.caller.user == caller.user);
            if !(op.touches_own() && busy) {
                batch.push(op);
            }
        }
        let before = done;
        done += batch.len() as u64;
        if done / 10_000 > before / 10_000 {
            eprintln!("model: {done} operations, 0 divergences so far");
        }
        let at = |i: usize| format!("seed {seed}, step {step}, op {i}");
        let running: Vec<_> = batch
            .into_iter()
            .enumerate()
            .map(|(i, op)| tokio::spawn(op.run(at(i))))
            .collect();
        for handle in running {
            let (change, created) = handle
                .await
                .unwrap_or_else(|error| panic!("seed {seed}, step {step}: {error}"));
            apply(
                &mut model,
                change,
                created,
                &format!("seed {seed}, step {step}"),
            );
        }
        for caller in &callers {
            let everything = caller
                .client
                .get(format!("{}?limit=1000", caller.client.tasks()));
            let seen = everything
                .context(format!("seed {seed}, step {step}, check"))
                .expect(200)
                .await;
            let expected: Vec<_> = model.tasks[caller.user]
                .iter()
                .map(|(id, t)| (*id, t.clone()))
                .collect();
            assert_list(
                &seen,
                &expected,
                &users[caller.user],
                &format!("seed {seed}, step {step}, check"),
            );
        }
    }
    let left: usize = model.tasks.iter().map(|tasks| tasks.len()).sum();
    eprintln!("model: {done} operations in {step} steps, 0 divergences ({left} tasks left)");
    stack.finish().await;
}

/// Every user with a fresh token.
fn sign_in(stack: &Stack) -> Vec<Caller> {
    USERS
        .iter()
        .enumerate()
        .map(|(user, name)| Caller {
            user,
            client: stack.user(name),
        })
        .collect()
}

fn apply(model: &mut Model, change: Change, created: Option<i64>, at: &str) {
    match change {
        Change::None => {}
        Change::Create(user, task) => {
            let id = created.unwrap_or_else(|| panic!("{at}: a create without an id"));
            assert!(
                model.owner(id).is_none() && !model.deleted.contains(&id),
                "{at}: id {id} reused"
            );
            model.tasks[user].insert(id, task);
        }
        Change::Set(user, id, task) => {
            model.tasks[user].insert(id, task);
        }
        Change::Delete(user, id) => {
            model.tasks[user].remove(&id);
            model.deleted.push(id);
        }
    }
}

/// Tokens that must get 401 for `user`: expired, signed with another
/// secret, for another issuer, not a JWT, and none at all (`""`).
fn bad_tokens(stack: &Stack, user: &str) -> Vec<String> {
    let mut expired = stack.claims(user);
    expired["exp"] = json!(1_000_000_000);
    expired["iat"] = json!(999_999_000);
    let mut issuer = stack.claims(user);
    issuer["iss"] = json!("https://evil.example");
    vec![
        stack.sign(&expired),
        sign_with(
            "another-secret-another-secret-another-secret",
            &stack.claims(user),
        ),
        stack.sign(&issuer),
        "not-a-jwt".to_owned(),
        String::new(),
    ]
}
