//! Where the desired state lives: the [`Store`] trait and its engines.
//!
//! A store keeps one row per top-level object (node with its pools and interfaces, storage pool
//! definition, resource group with its volume groups, resource definition with its volume
//! definitions, resources and snapshots, key-value store, controller properties): a commit writes
//! the rows its change set touched, so a write costs O(change), not O(state). Observed state is
//! never stored: satellites report it again after every start.
//!
//! - [`rows`] — the mapping between a `ClusterState` and rows, and from an `ObjKey` to its row;
//! - [`sqlite`] — the embedded SQLite engine, with its versioned schema;
//! - [`auth`] — token authentication's switch and token hashes, in the same database.

pub mod auth;
pub mod rows;
pub mod sqlite;
#[cfg(test)]
pub(crate) mod testutil;

use std::path::PathBuf;

use linstor_core::cluster::{ChangeSet, Cluster, CoreError};
use linstor_core::state::ClusterState;

/// What can go wrong with a store; every variant says what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be opened or created.
    #[error(
        "cannot open the database {}: {source}; check that its directory exists and that the \
         controller may read and write it, and that the file is a LINSTOR controller database",
        path.display()
    )]
    Open {
        /// The database file.
        path: PathBuf,
        /// What SQLite reported.
        source: rusqlite::Error,
    },
    /// The database was written by a newer controller.
    #[error(
        "the database {} has schema version {found}, but this controller knows versions up to \
         {supported}: a newer controller wrote it; run that controller version (or newer), or \
         restore a backup taken before the upgrade",
        path.display()
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// The database's schema version.
        found: u32,
        /// The newest version this binary knows.
        supported: u32,
    },
    /// A schema migration failed; it was rolled back, earlier ones stay applied.
    #[error(
        "upgrading the database schema to version {version} failed: {source}; nothing of this \
         step was applied: fix the cause (disk space, permissions) and start the controller again"
    )]
    Migration {
        /// The version the failed step would have reached.
        version: u32,
        /// What SQLite reported.
        source: rusqlite::Error,
    },
    /// Reading the rows failed.
    #[error("cannot read the database: {source}; check the disk and start the controller again")]
    Read {
        /// What SQLite reported.
        source: rusqlite::Error,
    },
    /// A stored object cannot be read.
    #[error(
        "the stored {kind} '{key}' is unreadable: {reason}; fix or delete that row of table \
         `objects`, or restore a backup"
    )]
    Row {
        /// The row's kind (`node`, `rd`, …).
        kind: String,
        /// The row's key (the object's name).
        key: String,
        /// Why it cannot be read (serde's reason, or the rule it breaks).
        reason: String,
    },
    /// Every row is readable, but together they break the core's consistency rules.
    #[error(
        "the stored state is inconsistent: {0}; restore a backup, or fix the objects named \
         above in table `objects`"
    )]
    Inconsistent(String),
    /// A commit's transaction failed.
    #[error(
        "writing the change to the database failed: {source}; nothing of it was written: the \
         controller must not answer the request as done (check disk space and permissions)"
    )]
    Commit {
        /// What SQLite reported.
        source: rusqlite::Error,
    },
}

/// A database that holds the desired state.
pub trait Store: Send {
    /// Loads the whole desired state; an unreadable row is an error naming the object.
    fn load(&mut self) -> Result<ClusterState, StoreError>;
    /// Writes, in one transaction, every row `changes` touched as it is in `state` (deleted
    /// when the object is gone). Returns only when the transaction is durable.
    fn commit(&mut self, state: &ClusterState, changes: &[&ChangeSet]) -> Result<(), StoreError>;
    /// The engine and location, for logs and `/health` ("sqlite:/var/lib/linstor/linstor.db").
    fn describe(&self) -> String;
}

/// Loads the state of `store` and rebuilds the cluster from it, checking its consistency.
pub fn load_cluster(store: &mut dyn Store) -> Result<Cluster, StoreError> {
    cluster_of(store.load()?)
}

/// Rebuilds the cluster from a loaded state, checking its consistency.
pub fn cluster_of(state: ClusterState) -> Result<Cluster, StoreError> {
    Cluster::from_state(state).map_err(|e| match e {
        CoreError::StateInconsistent(why) => StoreError::Inconsistent(why),
        other => StoreError::Inconsistent(other.to_string()),
    })
}
