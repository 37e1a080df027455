//! `linstor-controller`: LINSTOR's REST API v1 over `linstor-core`, with the desired state in a
//! database (embedded SQLite by default).
//!
//! The flow is one way: an HTTP request is read into a core `Command` (`linstor-api`), queued to
//! the one thread that owns the `Cluster` ([`engine`]), executed, its change set committed to the
//! [`store`], and only then answered.

pub mod auth;
pub mod config;
pub mod engine;
pub mod ha;
pub mod http;
pub mod listener;
pub mod metrics;
pub mod reports;
pub mod satellites;
pub mod server;
pub mod simulate;
pub mod store;
pub mod tls;
