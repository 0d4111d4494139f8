//! Faults under load: a dependency goes away and comes back.

mod pg_server;
mod postgres;
