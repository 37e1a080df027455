//! Snapshots: `GET /v1/view/snapshots`, `GET /v1/resource-definitions/{rd}/snapshots[/{snap}]`.

use std::collections::BTreeMap;

use linstor_core::model::{ResourceDefinition, SnapshotDefinition, SnapshotDfnFlags};
use serde::Serialize;

use super::{is_empty_props, props};

non_empty! {
    /// A snapshot definition with its per-node snapshots (REST's `Snapshot`).
    pub struct SnapshotView {
        /// Snapshot name.
        pub name: String,
        /// The resource definition's name.
        pub resource_name: String,
        /// Nodes the snapshot was taken on.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub nodes: Vec<String>,
        /// Properties.
        #[serde(skip_serializing_if = "is_empty_props")]
        pub props: BTreeMap<String, String>,
        /// `SUCCESSFUL` once taken everywhere, `DELETE` while being deleted.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub flags: Vec<&'static str>,
        /// Volume sizes at snapshot time.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub volume_definitions: Vec<SnapshotVolumeDefinitionView>,
        /// Identity.
        pub uuid: String,
        /// One entry per node.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub snapshots: Vec<SnapshotNodeView>,
    }

    /// One volume of a snapshot (REST's `SnapshotVolumeDefinition`).
    pub struct SnapshotVolumeDefinitionView {
        /// Volume number.
        pub volume_number: u16,
        /// Size at snapshot time, KiB.
        pub size_kib: u64,
    }

    /// A snapshot on one node (REST's `SnapshotNode`; the core gives per-node snapshots no
    /// identity of their own, so there is no `uuid`).
    pub struct SnapshotNodeView {
        /// Snapshot name.
        pub snapshot_name: String,
        /// Node.
        pub node_name: String,
        /// When it was taken, ms since the epoch (absent when unknown).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub create_timestamp: Option<i64>,
        /// `DELETE` while the snapshot is being deleted.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub flags: Vec<&'static str>,
        /// Its volumes.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub snapshot_volumes: Vec<SnapshotVolumeView>,
    }

    /// A snapshot volume on one node (REST's `SnapshotVolumeNode`).
    pub struct SnapshotVolumeView {
        /// Volume number.
        pub vlm_nr: u16,
    }
}

/// Snapshot `s` of `d`, as `GET /v1/view/snapshots` answers it.
pub fn snapshot(d: &ResourceDefinition, s: &SnapshotDefinition) -> SnapshotView {
    let deleting = s.flags.contains(SnapshotDfnFlags::DELETE);
    let snapshots = s
        .snapshots
        .values()
        .map(|n| SnapshotNodeView {
            snapshot_name: s.name.to_string(),
            node_name: n.node.to_string(),
            create_timestamp: (n.create_timestamp > 0).then_some(n.create_timestamp),
            flags: if deleting { vec!["DELETE"] } else { Vec::new() },
            snapshot_volumes: n
                .volume_pools
                .keys()
                .map(|nr| SnapshotVolumeView { vlm_nr: *nr })
                .collect(),
        })
        .collect();
    SnapshotView {
        name: s.name.to_string(),
        resource_name: d.name.to_string(),
        nodes: s.snapshots.keys().map(ToString::to_string).collect(),
        props: props(&s.props),
        flags: s.flags.rest_names(),
        volume_definitions: s
            .volume_sizes
            .iter()
            .map(|(nr, size)| SnapshotVolumeDefinitionView {
                volume_number: *nr,
                size_kib: size.0,
            })
            .collect(),
        uuid: s.uuid.to_string(),
        snapshots,
    }
}
