//! The tasks schema as a sea-orm-migration crate: one code path for
//! PostgreSQL and SQLite. Migrations are never edited once released; a change
//! is a new file named `mYYYYMMDD_HHMMSS_verb_noun.rs`.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_create_tasks;

/// Every migration of the tasks schema, in the order they apply.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261125_000001_create_tasks::Migration)]
    }
}
