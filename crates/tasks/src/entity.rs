//! The sea-orm entity for the `tasks` table (created by the `migrations`
//! crate). Only the repository uses it; everyone else sees
//! [`crate::repo::Task`].
//!
//! Every query built here starts from an owner-scoped constructor
//! (`secure_*`, the idea of svix's `secure_find`): it takes the [`UserId`]
//! and filters by it, so a query for someone else's rows cannot be written
//! by accident. (The hot reads are fixed SQL texts, scoped the same way:
//! `repo/reads.rs`.) The
//! unscoped `find`, `update_many` and `delete_many` are refused by clippy
//! (`clippy.toml`, `disallowed-methods`) everywhere else in this crate.

use auth_core::UserId;
use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::NotSet, ActiveValue::Set, DeleteMany, Select, UpdateMany};

use crate::repo::{Description, Title};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: String,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[allow(clippy::disallowed_methods)] // the one place the unscoped queries are used
impl Entity {
    /// The tasks of `owner`.
    pub fn secure_find(owner: &UserId) -> Select<Entity> {
        Self::find().filter(Column::UserId.eq(owner.as_str()))
    }

    /// Task `id`, if `owner` owns it.
    pub fn secure_find_by_id(owner: &UserId, id: i64) -> Select<Entity> {
        Self::secure_find(owner).filter(Column::Id.eq(id))
    }

    /// An update of task `id`, if `owner` owns it.
    pub fn secure_update_by_id(owner: &UserId, id: i64) -> UpdateMany<Entity> {
        Self::update_many()
            .filter(Column::UserId.eq(owner.as_str()))
            .filter(Column::Id.eq(id))
    }

    /// The deletion of task `id`, if `owner` owns it.
    pub fn secure_delete_by_id(owner: &UserId, id: i64) -> DeleteMany<Entity> {
        Self::delete_many()
            .filter(Column::UserId.eq(owner.as_str()))
            .filter(Column::Id.eq(id))
    }
}

impl ActiveModel {
    /// A new, pending task owned by `owner`.
    pub fn new_for(
        owner: &UserId,
        title: Title,
        description: Option<Description>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: NotSet,
            user_id: Set(owner.as_str().to_owned()),
            title: Set(title.into_string()),
            description: Set(description.map(Description::into_string)),
            completed: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
        }
    }
}
