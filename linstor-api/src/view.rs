//! What list and show endpoints answer: LINSTOR's REST v1 objects, built from the core's state.
//!
//! Real LINSTOR serializes with Jackson `NON_EMPTY`: it never sends `null`, an empty list or an
//! empty map, and python-linstor depends on that (`.get(k, default)` is defeated by `null`).
//! Every optional field here is skipped when `None` or empty; a test walks every view of a
//! sample cluster and finds no `null` and no empty collection. Fields the client indexes with
//! `[...]` (see `rest-client-compat.md`) are always present.
//!
//! This module holds the views of nodes, pools, groups, definitions and resources; the
//! submodules the rest, re-exported here: `snapshot` (snapshots), `props` (controller
//! properties, key-value stores, storage pool definitions and the property whitelist),
//! `capacity` (the size queries' answers), `clone` (sync and clone status) and `controller`
//! (SSE event payloads and error reports).

use std::collections::BTreeMap;

use linstor_core::model::{
    LayerKind, Node, NodeObserved, ProviderKind, Resource, ResourceDefinition, ResourceGroup,
    SelectFilter, StoragePool, Volume, VolumeDefinition, VolumeGroup,
};
use linstor_core::props::Props;
use linstor_core::state::ClusterState;
use serde::Serialize;

/// Skips `None`, empty strings, lists and maps: Jackson's `NON_EMPTY`.
macro_rules! non_empty {
    ($($item:item)*) => {
        $(
            #[derive(Debug, Clone, PartialEq, Serialize)]
            $item
        )*
    };
}

fn is_empty_props(p: &BTreeMap<String, String>) -> bool {
    p.is_empty()
}

/// A property map as REST sends it.
fn props(p: &Props) -> BTreeMap<String, String> {
    p.iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

non_empty! {
    /// `GET /v1/controller/version`.
    pub struct ControllerVersion {
        /// Product version.
        pub version: String,
        /// Source revision.
        pub git_hash: String,
        /// Build time.
        pub build_time: String,
        /// The REST API version advertised (the client gates features on it).
        pub rest_api_version: String,
    }

    /// A node (`GET /v1/nodes`).
    pub struct NodeView {
        /// Name (display case).
        pub name: String,
        /// `Satellite`, `Controller`, `Combined` or `Auxiliary`.
        #[serde(rename = "type")]
        pub node_type: String,
        /// Every flag name whose bits are set.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub flags: Vec<&'static str>,
        /// Properties.
        #[serde(skip_serializing_if = "is_empty_props")]
        pub props: BTreeMap<String, String>,
        /// Net interfaces.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub net_interfaces: Vec<NetInterfaceView>,
        /// `ONLINE`, `OFFLINE`, …
        pub connection_status: String,
        /// Identity.
        pub uuid: String,
        /// Providers the satellite reported.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub storage_providers: Vec<String>,
        /// Layers the satellite reported.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub resource_layers: Vec<String>,
    }

    /// A net interface.
    pub struct NetInterfaceView {
        /// Name.
        pub name: String,
        /// Address.
        pub address: String,
        /// Satellite port.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub satellite_port: Option<u16>,
        /// `PLAIN` or `SSL`.
        pub satellite_encryption_type: &'static str,
        /// The interface the satellite connection uses (`CurStltConnName`); LINBIT's `linstor
        /// node list` shows only the active interface's address.
        pub is_active: bool,
        /// Identity.
        pub uuid: String,
    }

    /// A storage pool (`GET /v1/view/storage-pools`).
    pub struct StoragePoolView {
        /// Pool name.
        pub storage_pool_name: String,
        /// Node.
        pub node_name: String,
        /// `LVM`, `LVM_THIN`, …
        pub provider_kind: String,
        /// Properties.
        #[serde(skip_serializing_if = "is_empty_props")]
        pub props: BTreeMap<String, String>,
        /// Free KiB, when reported (then `total_capacity` is too: the client subtracts).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub free_capacity: Option<u64>,
        /// Total KiB, when reported.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub total_capacity: Option<u64>,
        /// Shared-space name.
        pub free_space_mgr_name: String,
        /// Identity.
        pub uuid: String,
        /// Whether the provider takes snapshots.
        pub supports_snapshots: bool,
        /// `Provisioning` (`Fat`/`Thin`) and `SupportsSnapshots`: python-linstor's
        /// `StoragePool.is_thin()`/`is_fat()` read them.
        #[serde(skip_serializing_if = "is_empty_props")]
        pub static_traits: BTreeMap<String, String>,
    }

    /// A resource group (`GET /v1/resource-groups`).
    pub struct ResourceGroupView {
        /// Name.
        pub name: String,
        /// Description.
        #[serde(skip_serializing_if = "String::is_empty")]
        pub description: String,
        /// Properties.
        #[serde(skip_serializing_if = "is_empty_props")]
        pub props: BTreeMap<String, String>,
        /// Select filter (only the fields that are set).
        #[serde(skip_serializing_if = "is_default_filter")]
        pub select_filter: SelectFilter,
        /// Identity.
        pub uuid: String,
        /// Peer slots.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub peer_slots: Option<u8>,
    }

    /// A volume group.
    pub struct VolumeGroupView {
        /// Number.
        pub volume_number: u16,
        /// Properties.
        #[serde(skip_serializing_if = "is_empty_props")]
        pub props: BTreeMap<String, String>,
        /// Flags.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub flags: Vec<&'static str>,
        /// Identity.
        pub uuid: String,
    }

    /// A resource definition (`GET /v1/resource-definitions`).
    pub struct ResourceDefinitionView {
        /// Name.
        pub name: String,
        /// External name.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub external_name: Option<String>,
        /// Properties.
        #[serde(skip_serializing_if = "is_empty_props")]
        pub props: BTreeMap<String, String>,
        /// Flags.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub flags: Vec<&'static str>,
        /// Layer data, top down (`DRBD` carries peer slots, activity log and transport).
        pub layer_data: Vec<LayerData>,
        /// Identity.
        pub uuid: String,
        /// Its group.
        pub resource_group_name: String,
        /// With `?with_volume_definitions=true`.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub volume_definitions: Vec<VolumeDefinitionView>,
    }

    /// One layer of a definition: its type, and data for DRBD.
    pub struct LayerData {
        /// `DRBD`, `STORAGE`, …
        #[serde(rename = "type")]
        pub kind: String,
        /// The layer's data (DRBD only).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub data: Option<serde_json::Value>,
    }

    /// A volume definition.
    pub struct VolumeDefinitionView {
        /// Number.
        pub volume_number: u16,
        /// Net size.
        pub size_kib: u64,
        /// Properties.
        #[serde(skip_serializing_if = "is_empty_props")]
        pub props: BTreeMap<String, String>,
        /// Flags.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub flags: Vec<&'static str>,
        /// Layer data (`DRBD` with its `minor_number`).
        pub layer_data: Vec<LayerData>,
        /// Identity.
        pub uuid: String,
    }

    /// A resource with its volumes (`GET /v1/view/resources`).
    pub struct ResourceView {
        /// Resource (definition) name.
        pub name: String,
        /// Node.
        pub node_name: String,
        /// Properties.
        #[serde(skip_serializing_if = "is_empty_props")]
        pub props: BTreeMap<String, String>,
        /// Every flag name whose bits are set (`DISKLESS` with `DRBD_DISKLESS`).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub flags: Vec<&'static str>,
        /// The layer tree.
        pub layer_object: serde_json::Value,
        /// Identity.
        pub uuid: String,
        /// Creation time, ms since the epoch.
        pub create_timestamp: i64,
        /// Volumes.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub volumes: Vec<VolumeView>,
        /// What its satellite reported (absent until it reports).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub state: Option<ResourceStateView>,
    }

    /// LINSTOR's `ResourceState`.
    pub struct ResourceStateView {
        /// A volume is open (Primary).
        pub in_use: bool,
        /// Failed actions of the satellite, waiting for a retry (not in LINSTOR's schema;
        /// clients ignore it).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub errors: Vec<String>,
        /// DRBD's quorum flag on the node, if reported (not in LINSTOR's schema; clients
        /// ignore it).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub quorum: Option<bool>,
    }

    /// LINSTOR's `VolumeState`.
    pub struct VolumeStateView {
        /// DRBD's disk state of the volume on its node.
        pub disk_state: String,
        /// Per peer being resynced: its replication state and how much is done (LINSTOR's
        /// `replication_states`; only peers in a resync are listed here).
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        pub replication_states: BTreeMap<String, ReplicationStateView>,
    }

    /// LINSTOR's `ReplicationState` of one peer.
    pub struct ReplicationStateView {
        /// `SyncTarget`, `SyncSource`, …
        pub replication_state: String,
        /// Percent done.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub done_percentage: Option<f64>,
    }

    /// A volume of a resource.
    pub struct VolumeView {
        /// Number.
        pub volume_number: u16,
        /// Its pool.
        pub storage_pool_name: String,
        /// The pool's provider.
        pub provider_kind: String,
        /// The DRBD device.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub device_path: Option<String>,
        /// Allocated KiB (the net size until a satellite reports).
        pub allocated_size_kib: u64,
        /// Usable KiB.
        pub usable_size_kib: u64,
        /// Properties.
        #[serde(skip_serializing_if = "is_empty_props")]
        pub props: BTreeMap<String, String>,
        /// Layer data, top down.
        pub layer_data_list: Vec<LayerData>,
        /// Identity.
        pub uuid: String,
        /// What its satellite reported (absent until it reports).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub state: Option<VolumeStateView>,
    }
}

fn is_default_filter(f: &SelectFilter) -> bool {
    f == &SelectFilter::default()
}

/// Node connection state as REST spells it; a node no satellite has reported is `OFFLINE`.
fn connection(o: Option<&NodeObserved>) -> String {
    o.map_or_else(|| "OFFLINE".to_owned(), |o| format!("{:?}", o.connection))
}

/// A node as `GET /v1/nodes` answers it.
pub fn node(state: &ClusterState, n: &Node) -> NodeView {
    let observed = state.observed.nodes.get(&n.name);
    let caps = observed.and_then(|o| o.capabilities.as_ref());
    NodeView {
        name: n.name.to_string(),
        node_type: format!("{:?}", n.node_type),
        flags: n.flags.rest_names(),
        props: props(&n.props),
        net_interfaces: n
            .net_interfaces
            .values()
            .map(|i| NetInterfaceView {
                name: i.name.to_string(),
                address: i.address.to_string(),
                satellite_port: i.satellite_port,
                satellite_encryption_type: match i.encryption {
                    linstor_core::model::EncryptionType::Plain => "PLAIN",
                    linstor_core::model::EncryptionType::Ssl => "SSL",
                },
                is_active: n.props.get(linstor_core::keys::CUR_STLT_CONN_NAME)
                    == Some(i.name.as_str()),
                uuid: i.uuid.to_string(),
            })
            .collect(),
        connection_status: connection(observed),
        uuid: n.uuid.to_string(),
        storage_providers: caps
            .map(|c| {
                c.storage_providers
                    .iter()
                    .map(|k| format!("{k:?}"))
                    .collect()
            })
            .unwrap_or_default(),
        resource_layers: caps
            .map(|c| c.resource_layers.iter().map(|k| format!("{k:?}")).collect())
            .unwrap_or_default(),
    }
}

/// A storage pool as `GET /v1/view/storage-pools` answers it.
pub fn storage_pool(state: &ClusterState, p: &StoragePool) -> StoragePoolView {
    let reported = state
        .observed
        .nodes
        .get(&p.node)
        .and_then(|o| o.pools.get(&p.name));
    StoragePoolView {
        storage_pool_name: p.name.to_string(),
        node_name: p.node.to_string(),
        provider_kind: format!("{:?}", p.kind),
        props: props(&p.props),
        free_capacity: reported.map(|c| c.free.0),
        total_capacity: reported.map(|c| c.total.0),
        free_space_mgr_name: p.free_space_mgr_name.clone(),
        uuid: p.uuid.to_string(),
        supports_snapshots: p.kind.caps().snapshots,
        static_traits: static_traits(p.kind),
    }
}

/// The provider's fixed traits, as LINSTOR reports them per pool.
fn static_traits(kind: ProviderKind) -> BTreeMap<String, String> {
    if kind == ProviderKind::DISKLESS {
        return BTreeMap::new();
    }
    let caps = kind.caps();
    let provisioning = if caps.thin { "Thin" } else { "Fat" };
    BTreeMap::from([
        ("Provisioning".to_owned(), provisioning.to_owned()),
        ("SupportsSnapshots".to_owned(), caps.snapshots.to_string()),
    ])
}

/// A resource group.
pub fn resource_group(g: &ResourceGroup) -> ResourceGroupView {
    ResourceGroupView {
        name: g.name.to_string(),
        description: g.description.clone(),
        props: props(&g.props),
        select_filter: g.select_filter.clone(),
        uuid: g.uuid.to_string(),
        peer_slots: g.peer_slots,
    }
}

/// A volume group.
pub fn volume_group(v: &VolumeGroup) -> VolumeGroupView {
    VolumeGroupView {
        volume_number: v.number,
        props: props(&v.props),
        flags: v.flags.rest_names(),
        uuid: v.uuid.to_string(),
    }
}

/// A resource definition, with its volume definitions when `with_volumes`.
pub fn resource_definition(d: &ResourceDefinition, with_volumes: bool) -> ResourceDefinitionView {
    let layer_data = layers(d, || {
        serde_json::json!({
            "peer_slots": d.drbd.peer_slots,
            "al_stripes": d.drbd.al_stripes,
            "al_stripe_size_kib": d.drbd.al_stripe_size_kib,
            "transport_type": d.drbd.transport,
        })
    });
    ResourceDefinitionView {
        name: d.name.to_string(),
        external_name: d.external_name.clone(),
        props: props(&d.props),
        flags: d.flags.rest_names(),
        layer_data,
        uuid: d.uuid.to_string(),
        resource_group_name: d.resource_group.to_string(),
        volume_definitions: if with_volumes {
            d.volume_definitions
                .values()
                .map(|v| volume_definition(d, v))
                .collect()
        } else {
            Vec::new()
        },
    }
}

/// `d`'s layer stack, top down, with `drbd` as the DRBD layer's data.
fn layers(d: &ResourceDefinition, drbd: impl Fn() -> serde_json::Value) -> Vec<LayerData> {
    let layer = |l: &LayerKind| LayerData {
        kind: format!("{l:?}"),
        data: (*l == LayerKind::DRBD).then(&drbd),
    };
    d.layer_stack.iter().map(layer).collect()
}

/// A volume definition of `d`.
pub fn volume_definition(d: &ResourceDefinition, v: &VolumeDefinition) -> VolumeDefinitionView {
    let layer_data = layers(
        d,
        || serde_json::json!({"volume_number": v.number, "minor_number": v.minor}),
    );
    VolumeDefinitionView {
        volume_number: v.number,
        size_kib: v.size.0,
        props: props(&v.props),
        flags: v.flags.rest_names(),
        layer_data,
        uuid: v.uuid.to_string(),
    }
}

/// A resource of `d` with its volumes, as `GET /v1/view/resources` answers it.
pub fn resource(state: &ClusterState, d: &ResourceDefinition, r: &Resource) -> ResourceView {
    let drbd = d.layer_stack.contains(&LayerKind::DRBD);
    let layer_object = if drbd {
        let mut o = serde_json::json!({
            "type": "DRBD",
            "drbd": {
                "node_id": r.node_id,
                "tcp_ports": r.tcp_ports,
                "peer_slots": d.drbd.peer_slots,
                "al_stripes": d.drbd.al_stripes,
                "al_size": d.drbd.al_stripe_size_kib,
            },
            "children": [{"type": "STORAGE"}],
        });
        if let Some(c) = observed(state, d, r).filter(|o| !o.connections.is_empty()) {
            o["drbd"]["connections"] = connections(&c.connections);
        }
        o
    } else {
        serde_json::json!({"type": "STORAGE"})
    };
    ResourceView {
        name: d.name.to_string(),
        node_name: r.node.to_string(),
        props: props(&r.props),
        flags: r.flags.rest_names(),
        layer_object,
        uuid: r.uuid.to_string(),
        create_timestamp: r.create_timestamp,
        volumes: r
            .volumes
            .values()
            .filter_map(|v| Some(volume(state, d, r, v, d.volume_definitions.get(&v.number)?)))
            .collect(),
        state: observed(state, d, r).map(|o| ResourceStateView {
            in_use: o.in_use,
            errors: o.errors.clone(),
            quorum: o.quorum,
        }),
    }
}

/// LINSTOR's `DrbdResource.connections`: per peer, connected or not and DRBD's state.
fn connections(c: &BTreeMap<String, String>) -> serde_json::Value {
    let one =
        |state: &String| serde_json::json!({"connected": state == "Connected", "message": state});
    c.iter()
        .map(|(peer, state)| (peer.clone(), one(state)))
        .collect()
}

/// What `r`'s satellite reported of it.
fn observed<'a>(
    state: &'a ClusterState,
    d: &ResourceDefinition,
    r: &Resource,
) -> Option<&'a linstor_core::model::RscObserved> {
    state
        .observed
        .nodes
        .get(&r.node)
        .and_then(|n| n.resources.get(&d.name))
}

/// One volume of resource `r`.
fn volume(
    state: &ClusterState,
    d: &ResourceDefinition,
    r: &Resource,
    v: &Volume,
    vd: &VolumeDefinition,
) -> VolumeView {
    let kind = state
        .storage_pool(&r.node, &v.storage_pool)
        .map_or_else(|| "DISKLESS".to_owned(), |p| format!("{:?}", p.kind));
    let drbd = d.layer_stack.contains(&LayerKind::DRBD);
    let reported = observed(state, d, r).and_then(|o| o.volumes.get(&v.number));
    let device = match reported.and_then(|o| o.device_path.clone()) {
        Some(p) => Some(p),
        None => drbd.then(|| format!("/dev/drbd{}", vd.minor)),
    };
    let size = vd.size.0;
    let allocated = reported.and_then(|o| o.allocated_kib).unwrap_or(size);
    let mut layers = Vec::new();
    if drbd {
        layers.push(LayerData {
            kind: "DRBD".into(),
            data: Some(serde_json::json!({
                "drbd_volume_definition": {"volume_number": vd.number, "minor_number": vd.minor},
                "device_path": device,
                "allocated_size_kib": size,
                "usable_size_kib": size,
            })),
        });
    }
    layers.push(LayerData {
        kind: "STORAGE".into(),
        data: Some(serde_json::json!({
            "volume_number": vd.number,
            "provider_kind": kind,
            "allocated_size_kib": size,
            "usable_size_kib": size,
        })),
    });
    VolumeView {
        volume_number: v.number,
        storage_pool_name: v.storage_pool.to_string(),
        provider_kind: kind,
        device_path: device,
        allocated_size_kib: allocated,
        usable_size_kib: size,
        props: props(&v.props),
        layer_data_list: layers,
        uuid: v.uuid.to_string(),
        state: reported.map(|o| VolumeStateView {
            disk_state: o.disk_state.clone(),
            replication_states: o
                .replication
                .iter()
                .map(|(peer, r)| {
                    (
                        peer.clone(),
                        ReplicationStateView {
                            replication_state: r.state.clone(),
                            done_percentage: r.done_hundredths.map(|d| f64::from(d) / 100.0),
                        },
                    )
                })
                .collect(),
        }),
    }
}

mod capacity;
mod clone;
mod controller;
mod props;
mod snapshot;

pub use capacity::{
    Candidate, MaxVolumeSizes, QuerySizeInfoResponse, SpaceInfo, SpawnResult, max_volume_sizes,
    size_info, spawn_result,
};
pub use clone::{CloneStarted, CloneStatusView, SyncStatus, clone_started};
pub use controller::{
    ErrorReport, EventMayPromoteChange, EventNode, EventNodeModified, MAY_PROMOTE_CHANGE, NodeEvent,
};
pub use props::{
    KeyValueStoreView, LEVEL_NAMES, PropsInfo, StoragePoolDefinitionView, controller_props,
    key_value_store, props_info, props_info_all, storage_pool_definition,
};
pub use snapshot::{
    SnapshotNodeView, SnapshotView, SnapshotVolumeDefinitionView, SnapshotVolumeView, snapshot,
};

#[cfg(test)]
mod tests;
