//! Where the desired state lives: the [`Store`] trait and its engines.
//!
//! A store keeps one row per top-level object (node with its pools and interfaces, storage pool
//! definition, resource group with its volume groups, resource definition with its volume
//! definitions, resources and snapshots, key-value store, controller properties): a commit writes
//! the rows its change set touched, so a write costs O(change), not O(state). Observed state is
//! never stored: satellites report it again after every start.

use linstor_core::cluster::ChangeSet;
use linstor_core::state::ClusterState;

/// What can go wrong with a store; every variant says what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Placeholder until the engines land.
    #[error("{0}")]
    Other(String),
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
