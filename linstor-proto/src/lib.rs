//! `linstor-proto`: the messages of the controller–satellite link (carried as frames by
//! `linstor_link::Link` after the handshake). `linstor-link` knows no message type; this crate
//! knows no transport.
//!
//! The controller sends the node's whole projection on every change ([`ToSatellite::Sync`]),
//! numbered by a generation that grows with every send; the satellite answers with
//! [`SatelliteReport`]s naming the generation they reflect, so the controller knows when a
//! node has converged (and holds further changes back until the satellite reported the last
//! projection sent). Both sides send [`ToSatellite::Heartbeat`] / [`ToController::Heartbeat`]
//! when idle; a link silent for longer than its timeout is dead.

use std::collections::BTreeMap;

use linstor_core::model::{Capabilities, PoolCapacity, RscObserved};
use linstor_core::projection::NodeProjection;
use linstor_core::{ResourceName, SnapshotName, StorPoolName};
use serde::{Deserialize, Serialize};

/// Controller → satellite.
// Externally tagged: serde's internally tagged enums buffer their content, and then cannot read
// the integer map keys of a projection (volume numbers) back from JSON's strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToSatellite {
    /// The node's desired state, whole; replaces what the satellite had.
    Sync {
        /// Generation (grows with every send on this link).
        generation: u64,
        /// The projection.
        projection: Box<NodeProjection>,
    },
    /// A question only the node can answer (answered by [`ToController::Answer`] with `id`).
    Request {
        /// Matches the answer.
        id: u64,
        /// What.
        request: SatRequest,
    },
    /// Still there.
    Heartbeat,
}

/// Satellite → controller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToController {
    /// What the node has and does.
    Report(Box<SatelliteReport>),
    /// The answer to [`ToSatellite::Request`] `id`.
    Answer {
        /// The request's id.
        id: u64,
        /// The answer.
        answer: SatAnswer,
    },
    /// Still there.
    Heartbeat,
}

/// Requests the controller forwards to one node (LINSTOR's physical-storage API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SatRequest {
    /// The block devices that could become a pool.
    ListDevices,
    /// Make a pool of devices (LVM volume group, LVM thin pool, zpool).
    CreateDevicePool(DevicePoolCreate),
}

/// A device pool to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicePoolCreate {
    /// LVM, LVM_THIN, ZFS or ZFS_THIN.
    pub kind: linstor_core::model::ProviderKind,
    /// The devices (`/dev/…`).
    pub devices: Vec<String>,
    /// The name asked for.
    pub pool_name: String,
}

/// Answers of the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SatAnswer {
    /// Devices that could become a pool.
    Devices(Vec<PhysicalDevice>),
    /// The pool exists: its `StorDriver/StorPoolName`.
    PoolCreated {
        /// `vg`, `vg/thinpool` or the zpool.
        source: String,
        /// False if it existed already.
        created: bool,
    },
    /// The request failed.
    Failed {
        /// What failed.
        message: String,
        /// The command that failed, if one did.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        command: Vec<String>,
        /// Its stderr.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        stderr: String,
    },
}

/// One block device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhysicalDevice {
    /// `/dev/…`.
    pub device: String,
    /// Bytes.
    pub size: u64,
    /// Spinning disk.
    pub rotational: bool,
    /// Model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Serial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// WWN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wwn: Option<String>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use linstor_core::NodeName;
    use linstor_core::cluster::{Cluster, SeededEnv};
    use linstor_core::model::VlmObserved;

    /// A projection with volumes (integer map keys) and a report with volumes survive JSON.
    #[test]
    fn messages_round_trip_through_json() {
        let mut e = SeededEnv::new(1);
        let mut c = Cluster::new(&mut e);
        for cmd in [
            r#"{"cmd":"node_create","name":"n1","node_type":"Satellite","net_interfaces":[{"name":"default","address":"127.0.0.1"}]}"#,
            r#"{"cmd":"stor_pool_create","node":"n1","name":"thin","kind":"FILE_THIN","props":{"StorDriver/StorPoolName":"/p"}}"#,
            r#"{"cmd":"rsc_dfn_create","name":"r0"}"#,
            r#"{"cmd":"vlm_dfn_create","rsc_dfn":"r0","size":8192}"#,
            r#"{"cmd":"rsc_create","rsc_dfn":"r0","node":"n1","storage_pool":"thin"}"#,
        ] {
            assert!(!c.execute_json(cmd, &mut e).is_error(), "{cmd}");
        }
        let p = c.state().for_node(&NodeName::new("n1").unwrap()).unwrap();
        let m = ToSatellite::Sync {
            generation: 3,
            projection: Box::new(p),
        };
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<ToSatellite>(&text).unwrap(), m);
        let mut r = SatelliteReport::default();
        let mut o = RscObserved::default();
        o.volumes.insert(
            0,
            VlmObserved {
                disk_state: "UpToDate".into(),
                ..VlmObserved::default()
            },
        );
        r.resources.insert(ResourceName::new("r0").unwrap(), o);
        let m = ToController::Report(Box::new(r));
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<ToController>(&text).unwrap(), m);
    }
}
