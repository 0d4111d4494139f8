//! tasks on its admin listener (`TASKS_ADMIN_LISTEN_ADDR`): readiness in
//! detail (the database answers a ping; backend and pool), and the pool
//! gauges sampled for `/metrics`.

use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use service_kit::AdminState;

/// What the admin listener looks at.
#[derive(Clone)]
pub struct Admin {
    pub db: DatabaseConnection,
}

impl AdminState for Admin {
    async fn readiness(&self) -> (bool, Value) {
        let ping = self.db.ping().await;
        let details = json!({
            "backend": format!("{:?}", self.db.get_database_backend()),
            "database": match &ping {
                Ok(()) => "answers".to_owned(),
                Err(error) => format!("does not answer: {error}"),
            },
        });
        (ping.is_ok(), details)
    }

    fn sample(&self) {
        crate::metrics::sample_pool(&self.db);
    }
}
