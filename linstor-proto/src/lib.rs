//! `linstor-proto`: the messages of the controller–satellite link (carried as frames by
//! `linstor_link::Link` after the handshake). `linstor-link` knows no message type; this crate
//! knows no transport.
//!
//! The controller sends the node's whole projection on every change ([`ToSatellite::Sync`]),
//! numbered by a generation that grows with every send; the satellite answers with
//! [`SatelliteReport`]s naming the generation they reflect, so the controller knows when a
//! node has converged. Both sides send [`ToSatellite::Heartbeat`] / [`ToController::Heartbeat`]
//! when idle; a link silent for longer than its timeout is dead.

use std::collections::BTreeMap;

use linstor_core::model::{Capabilities, PoolCapacity, RscObserved};
use linstor_core::projection::NodeProjection;
use linstor_core::{ResourceName, SnapshotName, StorPoolName};
use serde::{Deserialize, Serialize};

/// Controller → satellite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum ToSatellite {
    /// The node's desired state, whole; replaces what the satellite had.
    Sync {
        /// Generation (grows with every send on this link).
        generation: u64,
        /// The projection.
        projection: Box<NodeProjection>,
    },
    /// Still there.
    Heartbeat,
}

/// Satellite → controller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum ToController {
    /// What the node has and does.
    Report(Box<SatelliteReport>),
    /// Still there.
    Heartbeat,
}

/// One satellite's report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SatelliteReport {
    /// The generation of the projection this reflects (0: none received yet).
    pub generation: u64,
    /// True if the last pass found nothing left to do (no failures waiting for a retry).
    pub converged: bool,
    /// True if the DRBD kernel state is SIMULATED (`--simulate-drbd`).
    pub simulated_drbd: bool,
    /// What the node can do.
    pub capabilities: Capabilities,
    /// Capacity per pool, or why it could not be read.
    pub pools: BTreeMap<StorPoolName, PoolReport>,
    /// Per resource of the projection on this node (with its volumes and DRBD summary).
    pub resources: BTreeMap<ResourceName, RscObserved>,
    /// Resources marked for deletion that are gone from this node.
    pub deleted: Vec<ResourceName>,
    /// Snapshots taken completely on this node (every volume).
    pub snapshots: Vec<(ResourceName, SnapshotName)>,
    /// Actions that failed and wait for a retry.
    pub failures: Vec<ActionFailure>,
}

/// One pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolReport {
    /// Capacity, if it could be read.
    pub capacity: Option<PoolCapacity>,
    /// Why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One failed action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionFailure {
    /// Resource.
    pub rsc: ResourceName,
    /// The action, as the plan named it (JSON of `linstor_core::plan::Action`).
    pub action: serde_json::Value,
    /// The error.
    pub message: String,
    /// The command that failed, if a command failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Its exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Its stderr.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stderr: String,
    /// Attempts so far.
    pub attempts: u32,
    /// Milliseconds until the next attempt.
    pub retry_in_ms: u64,
}
