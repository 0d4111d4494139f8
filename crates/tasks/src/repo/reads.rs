//! The hot reads (a user's list, one task) as fixed SQL text with rows read
//! by position: no query built per call and no column looked up by name.
//! The text is the same for every call, so sqlx prepares it once per
//! connection and reuses it (its statement cache); `$N` parameters work on
//! PostgreSQL and SQLite alike.
//!
//! Owner scoping by construction, as `Entity::secure_*` does for the other
//! statements: every text here filters on `user_id = $1`, and
//! [`owned`] is the only way to run one, binding the [`UserId`] as `$1`.

use auth_core::UserId;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Statement, Value};

use super::{Page, StatusFilter, Task};

/// The columns of [`Task`], in the order [`task`] reads them.
macro_rules! columns {
    () => {
        "SELECT id, user_id, title, description, completed, created_at, updated_at FROM tasks"
    };
}

/// A page of the user's tasks (`$2` limit, `$3` offset), in creation order.
const LIST: &str = concat!(
    columns!(),
    " WHERE user_id = $1 ORDER BY id LIMIT $2 OFFSET $3"
);
/// The same, only tasks whose completion state is `$4`.
const LIST_BY_STATE: &str = concat!(
    columns!(),
    " WHERE user_id = $1 AND completed = $4 ORDER BY id LIMIT $2 OFFSET $3"
);
/// Task `$2`, if the user owns it.
const GET: &str = concat!(columns!(), " WHERE user_id = $1 AND id = $2");

/// One page of the user's tasks, filtered.
pub async fn list(
    user: &UserId,
    db: &impl ConnectionTrait,
    filter: StatusFilter,
    page: Page,
) -> Result<Vec<Task>, DbErr> {
    // Page::parse bounds both far below i64::MAX.
    let limit = i64::try_from(page.limit()).unwrap_or(i64::MAX);
    let offset = i64::try_from(page.offset()).unwrap_or(i64::MAX);
    let statement = match filter {
        StatusFilter::All => owned(db, LIST, user, [limit.into(), offset.into()]),
        StatusFilter::Pending | StatusFilter::Completed => {
            let completed = filter == StatusFilter::Completed;
            owned(
                db,
                LIST_BY_STATE,
                user,
                [limit.into(), offset.into(), completed.into()],
            )
        }
    };
    db.query_all_raw(statement)
        .await?
        .iter()
        .map(task)
        .collect()
}

/// Task `id`, if the user owns it.
pub async fn get(user: &UserId, db: &impl ConnectionTrait, id: i64) -> Result<Option<Task>, DbErr> {
    let statement = owned(db, GET, user, [id.into()]);
    db.query_one_raw(statement)
        .await?
        .as_ref()
        .map(task)
        .transpose()
}

/// `sql` for `user`: the user id is `$1`, `rest` are `$2`, `$3`, ….
fn owned<const N: usize>(
    db: &impl ConnectionTrait,
    sql: &'static str,
    user: &UserId,
    rest: [Value; N],
) -> Statement {
    let values = std::iter::once(user.as_str().into()).chain(rest);
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

/// A row of the texts above, by position.
fn task(row: &QueryResult) -> Result<Task, DbErr> {
    Ok(Task {
        id: row.try_get_by_index(0)?,
        user_id: row.try_get_by_index(1)?,
        title: row.try_get_by_index(2)?,
        description: row.try_get_by_index(3)?,
        completed: row.try_get_by_index(4)?,
        created_at: row.try_get_by_index::<DateTime<Utc>>(5)?,
        updated_at: row.try_get_by_index::<DateTime<Utc>>(6)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_is_scoped_to_the_user_bound_first() {
        for sql in [LIST, LIST_BY_STATE, GET] {
            assert!(sql.contains(" FROM tasks WHERE user_id = $1 "), "{sql}");
            assert_eq!(sql.matches("user_id =").count(), 1, "{sql}");
        }
    }
}
