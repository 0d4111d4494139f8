//! What the repository takes and gives back: plain data, no sea-orm types.

use super::Timestamp;
use super::fields::{Description, Title};
use crate::entity;

/// A stored task, always owned by the user it was read for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: i64,
    pub user_id: String,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<entity::Model> for Task {
    fn from(m: entity::Model) -> Self {
        Self {
            id: m.id,
            user_id: m.user_id,
            title: m.title,
            description: m.description,
            completed: m.completed,
            created_at: m.created_at.into(),
            updated_at: m.updated_at.into(),
        }
    }
}

/// Which tasks a list returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StatusFilter {
    #[default]
    All,
    Pending,
    Completed,
}

/// A task to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub title: Title,
    pub description: Option<Description>,
}

impl NewTask {
    /// Parses a title and an optional description, as a client sent them.
    pub fn parse(title: &str, description: Option<String>) -> Result<Self, TaskError> {
        Ok(Self {
            title: Title::parse(title)?,
            description: Description::parse_optional(description)?,
        })
    }
}

/// A full update: title and description are replaced (`None` clears the
/// description); `completed: None` leaves the completion state as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskUpdate {
    pub title: Title,
    pub description: Option<Description>,
    pub completed: Option<bool>,
}

impl TaskUpdate {
    /// Parses a full update, as a client sent it.
    pub fn parse(
        title: &str,
        description: Option<String>,
        completed: Option<bool>,
    ) -> Result<Self, TaskError> {
        Ok(Self {
            title: Title::parse(title)?,
            description: Description::parse_optional(description)?,
            completed,
        })
    }
}

/// Why a repository call failed. A task owned by someone else is
/// [`TaskError::NotFound`], exactly like one that does not exist.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("task not found")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    #[error("database error")]
    Db(#[from] sea_orm::DbErr),
}
