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
//! - [`postgres`] — the PostgreSQL engine, the same rows and schema versions;
//! - [`etcd`] — the etcd engine, the rows as keys under a prefix;
//! - [`worker`] — the thread a remote engine's client runs on;
//! - [`lease`] — leadership of one controller among several (etcd, PostgreSQL), with fencing;
//! - [`auth`] — token authentication's switch and token hashes, in the same database;
//! - [`transfer`] — export of a whole store to a file and import into an empty one.

pub mod auth;
#[cfg(test)]
mod conformance;
pub mod etcd;
pub mod lease;
pub mod postgres;
pub mod rows;
pub mod sqlite;
#[cfg(test)]
pub(crate) mod testutil;
pub mod transfer;
pub mod worker;

use linstor_core::cluster::{ChangeSet, Cluster, CoreError};
use linstor_core::state::ClusterState;

/// The error an engine's client reported (rusqlite, postgres, etcd-client).
pub type EngineError = Box<dyn std::error::Error + Send + Sync>;

/// What can go wrong with a store; every variant says what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be opened, created or reached.
    #[error("cannot open the database {location}: {source}; {fix}")]
    Open {
        /// The engine and location (`sqlite:/var/lib/linstor/linstor.db`, `etcd://h1:2379`).
        location: String,
        /// What the engine's client reported.
        source: EngineError,
        /// What to check, for this engine.
        fix: &'static str,
    },
    /// The database was written by a newer controller.
    #[error(
        "the database {location} has schema version {found}, but this controller knows versions \
         up to {supported}: a newer controller wrote it; run that controller version (or newer), \
         or restore a backup taken before the upgrade"
    )]
    NewerSchema {
        /// The engine and location.
        location: String,
        /// The database's schema version.
        found: u32,
        /// The newest version this binary knows.
        supported: u32,
    },
    /// A schema migration failed; it was rolled back, earlier ones stay applied.
    #[error(
        "upgrading the database schema to version {version} failed: {source}; nothing of this \
         step was applied: fix the cause (disk space, permissions, the database server's log) \
         and start the controller again"
    )]
    Migration {
        /// The version the failed step would have reached.
        version: u32,
        /// What the engine's client reported.
        source: EngineError,
    },
    /// Reading the rows failed.
    #[error(
        "cannot read the database: {source}; check the disk or the database server and start \
         the controller again"
    )]
    Read {
        /// What the engine's client reported.
        source: EngineError,
    },
    /// A stored object cannot be read.
    #[error(
        "the stored {kind} '{key}' is unreadable: {reason}; fix or delete that row of table \
         `objects` (etcd: the key objects/{kind}/<name> under the prefix), or restore a backup"
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
         controller must not answer the request as done (check disk space and permissions, or \
         that the database server is reachable)"
    )]
    Commit {
        /// What the engine's client reported.
        source: EngineError,
    },
    /// An import file is not an export of this controller (or of a newer one).
    #[error(
        "the file is not a controller export this version can import: {reason}; export again \
         with `linstor-controller export --file FILE` (same or older version than this one)"
    )]
    BadExport {
        /// What is wrong with it.
        reason: String,
    },
    /// This controller's leadership ended: another controller may be active.
    #[error(
        "this controller is no longer the active one (its term {term} in {location} ended): the \
         change was not written; the controller stops, and clients must use the active one"
    )]
    Fenced {
        /// The engine and location.
        location: String,
        /// The term that ended.
        term: i64,
    },
    /// An import target already holds a cluster.
    #[error(
        "the database {location} is not empty (it holds {rows} object(s)); import only into an \
         empty database: {fix}"
    )]
    NotEmpty {
        /// The engine and location.
        location: String,
        /// How many objects it holds.
        rows: usize,
        /// How to empty it, for this engine.
        fix: String,
    },
}

impl StoreError {
    /// A read failure from any engine's client.
    pub fn read(source: impl Into<EngineError>) -> StoreError {
        StoreError::Read {
            source: source.into(),
        }
    }

    /// A commit failure from any engine's client.
    pub fn commit(source: impl Into<EngineError>) -> StoreError {
        StoreError::Commit {
            source: source.into(),
        }
    }
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
    /// How many object rows the store holds (0: a new, empty store).
    fn count_rows(&mut self) -> Result<usize, StoreError>;
    /// How an operator empties this store's objects, for an error message.
    fn wipe_hint(&self) -> String;
    /// From now on, every commit checks inside its transaction that `fence` still leads and
    /// fails with [`StoreError::Fenced`] otherwise (engines without leadership ignore it).
    fn set_fence(&mut self, fence: lease::Fence) {
        let _ = fence;
    }
}

/// Opens the store `db` names (creating or migrating its schema).
pub fn open(db: &crate::config::Database) -> Result<Box<dyn Store>, StoreError> {
    use crate::config::Database;
    Ok(match db {
        Database::Sqlite(path) => Box::new(sqlite::SqliteStore::open(path)?),
        Database::Postgres(t) => Box::new(postgres::PgStore::open(t)?),
        Database::Etcd(t) => Box::new(etcd::EtcdStore::open(t)?),
    })
}

/// The election of `db` for `candidate`: `None` for SQLite, whose one controller needs none.
pub fn open_election(
    db: &crate::config::Database,
    candidate: lease::Candidate,
) -> Result<Option<Box<dyn lease::Election>>, StoreError> {
    use crate::config::Database;
    Ok(match db {
        Database::Sqlite(_) => None,
        Database::Postgres(t) => Some(Box::new(postgres::PgElection::open(t, candidate)?)),
        Database::Etcd(t) => Some(Box::new(etcd::EtcdElection::open(t, candidate)?)),
    })
}

/// Opens the auth tables of `db` (after [`open`] brought the schema up to date).
pub fn open_auth(db: &crate::config::Database) -> Result<Box<dyn auth::AuthStore>, StoreError> {
    use crate::config::Database;
    Ok(match db {
        Database::Sqlite(path) => Box::new(auth::SqliteAuth::open(path)?),
        Database::Postgres(t) => Box::new(postgres::PgAuth::open(t)?),
        Database::Etcd(t) => Box::new(etcd::EtcdAuth::open(t)?),
    })
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
