//! The task repository: every query is scoped to the user id given as the
//! first argument, and every write is one statement, so these functions are
//! safe to call concurrently and inside a caller's transaction.

mod types;
pub mod validate;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

pub use types::{NewTask, StatusFilter, Task, TaskError, TaskUpdate};

use crate::entity::{self, Column, Entity};

/// The user's tasks in creation (id) order, filtered and paged.
pub async fn list(
    user_id: &str,
    db: &impl ConnectionTrait,
    filter: StatusFilter,
    limit: u32,
    offset: u64,
) -> Result<Vec<Task>, TaskError> {
    let user_id = validate::user_id(user_id)?;
    let (limit, offset) = validate::page(limit, offset)?;
    let mut query = Entity::find().filter(Column::UserId.eq(user_id));
    query = match filter {
        StatusFilter::All => query,
        StatusFilter::Pending => query.filter(Column::Completed.eq(false)),
        StatusFilter::Completed => query.filter(Column::Completed.eq(true)),
    };
    let rows = query
        .order_by_asc(Column::Id)
        .limit(limit)
        .offset(offset)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(Task::from).collect())
}

/// Stores a new, pending task for the user.
pub async fn create(
    user_id: &str,
    db: &impl ConnectionTrait,
    new: NewTask,
) -> Result<Task, TaskError> {
    let user_id = validate::user_id(user_id)?;
    let title = validate::title(&new.title)?;
    let description = validate::description(new.description)?;
    let now = now();
    let row = entity::ActiveModel {
        id: NotSet,
        user_id: Set(user_id.to_owned()),
        title: Set(title),
        description: Set(description),
        completed: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Ok(Entity::insert(row).exec_with_returning(db).await?.into())
}

/// One of the user's tasks.
pub async fn get(user_id: &str, db: &impl ConnectionTrait, id: i64) -> Result<Task, TaskError> {
    let user_id = validate::user_id(user_id)?;
    Entity::find_by_id(id)
        .filter(Column::UserId.eq(user_id))
        .one(db)
        .await?
        .map(Task::from)
        .ok_or(TaskError::NotFound)
}

/// Replaces the title and description of one of the user's tasks, and its
/// completion state when `completed` is given.
pub async fn update(
    user_id: &str,
    db: &impl ConnectionTrait,
    id: i64,
    changes: TaskUpdate,
) -> Result<Task, TaskError> {
    let user_id = validate::user_id(user_id)?;
    let title = validate::title(&changes.title)?;
    let description = validate::description(changes.description)?;
    let mut query = Entity::update_many()
        .col_expr(Column::Title, Expr::value(title))
        .col_expr(Column::Description, Expr::value(description))
        .col_expr(Column::UpdatedAt, Expr::value(now()));
    if let Some(completed) = changes.completed {
        query = query.col_expr(Column::Completed, Expr::value(completed));
    }
    let rows = query
        .filter(Column::Id.eq(id))
        .filter(Column::UserId.eq(user_id))
        .exec_with_returning(db)
        .await?;
    single(rows)
}

/// Flips the completion state of one of the user's tasks.
pub async fn toggle(user_id: &str, db: &impl ConnectionTrait, id: i64) -> Result<Task, TaskError> {
    let user_id = validate::user_id(user_id)?;
    let rows = Entity::update_many()
        .col_expr(Column::Completed, Expr::col(Column::Completed).not())
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Id.eq(id))
        .filter(Column::UserId.eq(user_id))
        .exec_with_returning(db)
        .await?;
    single(rows)
}

/// Deletes one of the user's tasks.
pub async fn delete(user_id: &str, db: &impl ConnectionTrait, id: i64) -> Result<(), TaskError> {
    let user_id = validate::user_id(user_id)?;
    let result = Entity::delete_many()
        .filter(Column::Id.eq(id))
        .filter(Column::UserId.eq(user_id))
        .exec(db)
        .await?;
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
