//! One operation of the model run: what is sent, and what the model says
//! the answer must be; [`Op::run`] sends it and checks the answer.

use reqwest::Method;
use serde_json::{Value, json};

use super::state::{Model, Rng, Task};
use crate::common::Client;

/// Who sends the request, and with which token.
#[derive(Clone)]
pub struct Caller {
    pub user: usize,
    pub client: Client,
}

/// What the answer must be.
#[derive(Debug, Clone)]
pub enum Expect {
    /// 201 with this task (new id), owned by the caller.
    Created(Task),
    /// 200 with this task.
    Task(i64, Task),
    /// 200 with exactly these tasks, in this order.
    List(Vec<(i64, Task)>),
    /// This status (204, or an error with its problem+json).
    Status(u16),
}

/// A request and the answer the model expects.
pub struct Op {
    pub caller: Caller,
    pub method: Method,
    /// The path's user id.
    pub owner: String,
    /// After `/api/{owner}/tasks`.
    pub rest: String,
    pub body: Option<Value>,
    /// Sent instead of the caller's own token (`None`: the caller's).
    pub token: Option<String>,
    pub expect: Expect,
    /// What changes in the model when the answer is as expected.
    pub change: Change,
}

/// A change to the model.
#[derive(Debug, Clone)]
pub enum Change {
    None,
    /// A task was created for this user (its id comes from the answer).
    Create(usize, Task),
    Set(usize, i64, Task),
    Delete(usize, i64),
}

/// A valid title (1 to 200 characters after trimming) or, rarely, an invalid one.
fn title(rng: &mut Rng) -> (String, bool) {
    match rng.below(20) {
        0 => ("   \t ".to_owned(), false),
        1 => ("x".repeat(201), false),
        2 => (format!("  {}  ", "y".repeat(200)), true),
        _ => {
            let text = format!("t{}", rng.text(12));
            (text, true)
        }
    }
}

fn description(rng: &mut Rng) -> (Option<String>, bool) {
    match rng.below(12) {
        0..=3 => (None, true),
        4 => (Some(String::new()), true),
        5 => (Some("d".repeat(1001)), false),
        _ => (Some(rng.text(30)), true),
    }
}

/// A task id to aim at: mostly the caller's own, often another user's,
/// a deleted one, or one that never existed.
fn target(rng: &mut Rng, model: &Model, user: usize) -> i64 {
    let own: Vec<i64> = model.tasks[user].keys().copied().collect();
    let others: Vec<i64> = model
        .tasks
        .iter()
        .enumerate()
        .filter(|(u, _)| *u != user)
        .flat_map(|(_, tasks)| tasks.keys().copied())
        .collect();
    match rng.below(20) {
        0..=10 if !own.is_empty() => *rng.pick(&own),
        11..=15 if !others.is_empty() => *rng.pick(&others),
        16..=17 if !model.deleted.is_empty() => *rng.pick(&model.deleted),
        _ => *rng.pick(&[0, -1, 1, 999_999_999, i64::MAX]),
    }
}

impl Op {
    /// A random operation by `caller` on its own path (or, now and then,
    /// another user's path or a bad token), given the model as it is.
    pub fn random(
        rng: &mut Rng,
        model: &Model,
        caller: &Caller,
        users: &[String],
        bad: &[String],
    ) -> Self {
        let user = caller.user;
        let mut op = Self {
            caller: caller.clone(),
            method: Method::GET,
            owner: users[user].clone(),
            rest: String::new(),
            body: None,
            token: None,
            expect: Expect::Status(200),
            change: Change::None,
        };
        let id = target(rng, model, user);
        let own = model.tasks[user].get(&id).cloned();
        // Crowded users delete more than they create.
        let crowded = model.tasks[user].len() > 40;
        match rng.below(16) {
            0..=2 if !crowded => {
                let (title, title_ok) = title(rng);
                let (description, description_ok) = description(rng);
                op.method = Method::POST;
                op.body = Some(json!({ "title": title, "description": description }));
                if title_ok && description_ok {
                    let task = Task {
                        title: title.trim().to_owned(),
                        description,
                        completed: false,
                    };
                    op.expect = Expect::Created(task.clone());
                    op.change = Change::Create(user, task);
                } else {
                    op.expect = Expect::Status(422);
                }
            }
            3..=4 => {
                let (query, status) = *rng.pick(&[
                    ("", None),
                    ("?status=all", None),
                    ("?status=pending", Some(false)),
                    ("?status=completed", Some(true)),
                ]);
                let (limit, offset) = if rng.chance(30) {
                    (1 + rng.below(5), rng.below(8))
                } else {
                    (1000, 0)
                };
                let sep = if query.is_empty() { '?' } else { '&' };
                op.rest = format!("{query}{sep}limit={limit}&offset={offset}");
                let listed = model.tasks[user]
                    .iter()
                    .filter(|(_, task)| status.is_none_or(|s| task.completed == s))
                    .skip(offset)
                    .take(limit)
                    .map(|(id, task)| (*id, task.clone()))
                    .collect();
                op.expect = Expect::List(listed);
            }
            5..=6 if rng.chance(15) => {
                // Another spelling of the id (one task has one URL): 404.
                let spelling = *rng.pick(&["+", "0", "%20", "00"]);
                op.rest = format!("/{spelling}{id}");
                op.expect = Expect::Status(404);
            }
            5..=6 => {
                op.rest = format!("/{id}");
                op.expect = own.map_or(Expect::Status(404), |task| Expect::Task(id, task));
            }
            7..=8 => {
                let (title, title_ok) = title(rng);
                let (description, description_ok) = description(rng);
                let completed = *rng.pick(&[None, Some(true), Some(false)]);
                op.method = Method::PUT;
                op.rest = format!("/{id}");
                op.body = Some(match completed {
                    Some(completed) => {
                        json!({ "title": title, "description": description, "completed": completed })
                    }
                    None => json!({ "title": title, "description": description }),
                });
                op.expect = match (&own, title_ok && description_ok) {
                    // A negative id is not a task path at all: 404 before the body is read.
                    _ if id < 0 => Expect::Status(404),
                    (_, false) => Expect::Status(422),
                    (None, true) => Expect::Status(404),
                    (Some(old), true) => {
                        let task = Task {
                            title: title.trim().to_owned(),
                            description,
                            completed: completed.unwrap_or(old.completed),
                        };
                        op.change = Change::Set(user, id, task.clone());
                        Expect::Task(id, task)
                    }
                };
            }
            9..=10 => {
                op.method = Method::PATCH;
                op.rest = format!("/{id}/complete");
                op.expect = match own {
                    None => Expect::Status(404),
                    Some(mut task) => {
                        task.completed = !task.completed;
                        op.change = Change::Set(user, id, task.clone());
                        Expect::Task(id, task)
                    }
                };
            }
            11..=12 => {
                op.method = Method::DELETE;
                op.rest = format!("/{id}");
                op.expect = if own.is_some() {
                    op.change = Change::Delete(user, id);
                    Expect::Status(204)
                } else {
                    Expect::Status(404)
                };
            }
            13 => {
                // Another user's path with one's own token: 403, whatever the method.
                let other = (user + 1 + rng.below(users.len() - 1)) % users.len();
                op.owner = users[other].clone();
                op.method = rng
                    .pick(&[Method::GET, Method::PUT, Method::PATCH, Method::DELETE])
                    .clone();
                op.rest = match op.method {
                    Method::GET => String::new(),
                    Method::PATCH => format!("/{id}/complete"),
                    _ => format!("/{id}"),
                };
                if op.method == Method::PUT {
                    op.body = Some(json!({ "title": "mine now" }));
                }
                op.expect = Expect::Status(403);
            }
            _ => {
                // A bad token (expired, forged, wrong issuer, or none): 401.
                op.token = Some(rng.pick(bad).clone());
                op.method = rng
                    .pick(&[Method::GET, Method::POST, Method::DELETE])
                    .clone();
                if op.method == Method::POST {
                    op.body = Some(json!({ "title": "sneaky" }));
                } else if op.method == Method::DELETE {
                    op.rest = format!("/{id}");
                }
                op.expect = Expect::Status(401);
            }
        }
        op
    }

    /// Whether this operation reads or writes the caller's own tasks (two
    /// such operations of one user are never run at the same time).
    pub fn touches_own(&self) -> bool {
        !matches!(self.expect, Expect::Status(401 | 403))
    }

    /// Sends the request and checks the answer; the change to apply, with
    /// the new task's id for a create.
    pub async fn run(self, at: String) -> (Change, Option<i64>) {
        let client = &self.caller.client;
        let path = format!("/api/{}/tasks{}", self.owner, self.rest);
        let mut call = match &self.token {
            None => client.request(self.method.clone(), &path),
            Some(token) if token.is_empty() => {
                Client::new(&client_base(client), "", None).request(self.method.clone(), &path)
            }
            Some(token) => Client::new(&client_base(client), "", Some(token.clone()))
                .request(self.method.clone(), &path),
        };
        call = call.context(&at);
        if let Some(body) = &self.body {
            call = call.json(body.clone());
        }
        let owner = &self.owner;
        let mut created = None;
        match &self.expect {
            Expect::Status(status) => {
                call.expect(*status).await;
            }
            Expect::Created(task) => {
                let seen = call.expect(201).await;
                let id = seen["id"]
                    .as_i64()
                    .unwrap_or_else(|| panic!("{at}: no id in {seen}"));
                task.assert_is(&seen, id, owner, &at);
                created = Some(id);
            }
            Expect::Task(id, task) => {
                let seen = call.expect(200).await;
                task.assert_is(&seen, *id, owner, &at);
            }
            Expect::List(expected) => {
                let seen = call.expect(200).await;
                assert_list(&seen, expected, owner, &at);
            }
        }
        (self.change, created)
    }
}

/// The base URL a client talks to (a client for a bad token shares it).
fn client_base(client: &Client) -> String {
    client.base().to_owned()
}

/// Panics unless `seen` (a JSON array from the API) is exactly `expected`.
pub fn assert_list(seen: &Value, expected: &[(i64, Task)], owner: &str, at: &str) {
    let seen = seen
        .as_array()
        .unwrap_or_else(|| panic!("{at}: not an array: {seen}"));
    let ids: Vec<i64> = seen.iter().filter_map(|t| t["id"].as_i64()).collect();
    let want: Vec<i64> = expected.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, want, "{at}: {owner} sees other tasks than the model");
    for (seen, (id, task)) in seen.iter().zip(expected) {
        task.assert_is(seen, *id, owner, at);
    }
}
