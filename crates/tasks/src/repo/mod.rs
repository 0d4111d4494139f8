//! The task repository: every function takes the owner's [`UserId`] first
//! and builds its query from the entity's owner-scoped constructors (the
//! writes) or runs a fixed, owner-scoped SQL text (the reads, [`reads`]), so
//! every query is scoped to that user by construction; inputs arrive parsed
//! ([`Title`], [`Description`], [`Page`]). Every write is one statement, so
//! these functions are safe to call concurrently, and the writes inside a
//! caller's transaction; the reads run on the pool itself (sqlx directly).

mod fields;
mod outage;
mod reads;
mod timestamp;
mod types;

use auth_core::UserId;
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};

pub use fields::{
    DEFAULT_LIMIT, Description, MAX_DESCRIPTION_CHARS, MAX_LIMIT, MAX_TITLE_CHARS, Page, Title,
};
pub use outage::is_outage;
pub use timestamp::Timestamp;
pub use types::{NewTask, StatusFilter, Task, TaskError, TaskUpdate};

use crate::entity::{self, Column, Entity};

/// The user's tasks in creation (id) order, filtered and paged.
#[tracing::instrument(skip_all, fields(user_id = %user, ?filter, limit = page.limit(), offset = page.offset()))]
pub async fn list(
    user: &UserId,
    db: &DatabaseConnection,
    filter: StatusFilter,
    page: Page,
) -> Result<Vec<Task>, TaskError> {
    Ok(reads::list(user, db, filter, page).await?)
}

/// Stores a new, pending task for the user.
#[tracing::instrument(skip_all, fields(user_id = %user))]
pub async fn create(
    user: &UserId,
    db: &impl ConnectionTrait,
    new: NewTask,
) -> Result<Task, TaskError> {
    let row = entity::ActiveModel::new_for(user, new.title, new.description, now());
    Ok(Entity::insert(row).exec_with_returning(db).await?.into())
}

/// One of the user's tasks.
#[tracing::instrument(skip_all, fields(user_id = %user, task_id = id))]
pub async fn get(user: &UserId, db: &DatabaseConnection, id: i64) -> Result<Task, TaskError> {
    reads::get(user, db, id).await?.ok_or(TaskError::NotFound)
}

/// Replaces the title and description of one of the user's tasks, and its
/// completion state when `completed` is given.
#[tracing::instrument(skip_all, fields(user_id = %user, task_id = id))]
pub async fn update(
    user: &UserId,
    db: &impl ConnectionTrait,
    id: i64,
    changes: TaskUpdate,
) -> Result<Task, TaskError> {
    let description = changes.description.map(Description::into_string);
    let mut query = Entity::secure_update_by_id(user, id)
        .col_expr(Column::Title, Expr::value(changes.title.into_string()))
        .col_expr(Column::Description, Expr::value(description))
        .col_expr(Column::UpdatedAt, Expr::value(now()));
    if let Some(completed) = changes.completed {
        query = query.col_expr(Column::Completed, Expr::value(completed));
    }
    single(query.exec_with_returning(db).await?)
}

/// Flips the completion state of one of the user's tasks.
#[tracing::instrument(skip_all, fields(user_id = %user, task_id = id))]
pub async fn toggle(user: &UserId, db: &impl ConnectionTrait, id: i64) -> Result<Task, TaskError> {
    let rows = Entity::secure_update_by_id(user, id)
        .col_expr(Column::Completed, Expr::col(Column::Completed).not())
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .exec_with_returning(db)
        .await?;
    single(rows)
}

/// Deletes one of the user's tasks.
#[tracing::instrument(skip_all, fields(user_id = %user, task_id = id))]
pub async fn delete(user: &UserId, db: &impl ConnectionTrait, id: i64) -> Result<(), TaskError> {
    let result = Entity::secure_delete_by_id(user, id).exec(db).await?;
    if result.rows_affected == 0 {
        return Err(TaskError::NotFound);
    }
    Ok(())
}

/// The one row an update by primary key and owner touched, if any.
fn single(rows: Vec<entity::Model>) -> Result<Task, TaskError> {
    rows.into_iter()
        .next()
        .map(Task::from)
        .ok_or(TaskError::NotFound)
}

/// Write time, at the microsecond precision both backends store.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
