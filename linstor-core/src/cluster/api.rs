//! The executor's API types: [`Command`] in, [`Outcome`] (entries and [`ChangeSet`]) out,
//! [`ObjKey`] naming changed objects, and [`CoreError`] for everything outside command answers.
//!
//! Command variants are named `<Object><Verb>` with LINSTOR's short object names (`Node`,
//! `NetIf`, `StorPoolDfn`, `StorPool`, `RscGrp`, `VlmGrp`, `RscDfn`, `VlmDfn`, `Rsc`,
//! `Snapshot`, `Kvs`, `CtrlProps`); satellite reports are `<Object>Report`. The serde tag is the
//! snake_case name, except for variants renamed since clients started sending commands: those
//! keep their old tag (`#[serde(rename = "…")]`), which is what clients send.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{
    Capabilities, ConnectionStatus, EncryptionType, LayerKind, NodeType, ProviderKind,
    SelectFilter, VlmGrpFlags,
};
use crate::name::{
    KvsName, NetIfName, NodeName, ResourceGroupName, ResourceName, SnapshotName, StorPoolName,
};
use crate::props::PropsModify;
use crate::rc::ApiCallRc;
use crate::size::SizeKib;

/// A net interface as given in a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetIfSpec {
    /// Name.
    pub name: String,
    /// IPv4 or IPv6 address.
    pub address: String,
    /// Satellite port.
    #[serde(default)]
    pub satellite_port: Option<u16>,
    /// Encryption.
    #[serde(default)]
    pub encryption: EncryptionType,
}

/// Where `RscGrpSpawn` puts a resource when nodes are named explicitly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodePlacement {
    /// Node.
    pub node: String,
    /// Storage pool (resolved by the `StorPoolName` chain when absent).
    #[serde(default)]
    pub storage_pool: Option<String>,
    /// Diskless.
    #[serde(default)]
    pub diskless: bool,
}

/// What `RscToggleDisk` turns a resource into (REST `ToggleDiskRequest.operation`, LINSTOR's
/// names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ToggleDiskOp {
    /// A DRBD resource with a disk (votes in quorum).
    IntoDrbdDiskful,
    /// A DRBD diskless resource (votes in quorum).
    IntoDrbdDiskless,
    /// A DRBD client: diskless, without a quorum vote.
    IntoDrbdClient,
}

/// How a clone is doing (REST `ResourceDefinitionCloneStatus.status`), from
/// `Cluster::clone_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CloneStatus {
    /// The data is being copied.
    Cloning,
    /// The copy failed or cannot go on (a node of the clone is not online).
    Failed,
    /// Every diskful resource of the clone has its data.
    Complete,
}

impl CloneStatus {
    /// The REST name.
    pub fn as_str(self) -> &'static str {
        match self {
            CloneStatus::Cloning => "CLONING",
            CloneStatus::Failed => "FAILED",
            CloneStatus::Complete => "COMPLETE",
        }
    }
}

/// One snapshot of `SnapshotCreateMulti`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotSpec {
    /// Resource definition.
    pub rsc_dfn: String,
    /// Snapshot name.
    pub name: String,
    /// Nodes (every diskful node when empty).
    #[serde(default)]
    pub nodes: Vec<String>,
    /// Properties of the snapshot definition.
    #[serde(default)]
    pub props: BTreeMap<String, String>,
}

/// Every command the cluster executes. Names arrive as strings and are validated first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Sets or removes controller properties.
    CtrlPropsModify {
        /// Changes.
        props: PropsModify,
    },
    /// Registers a node.
    NodeCreate {
        /// Name.
        name: String,
        /// Type.
        node_type: NodeType,
        /// At least one interface.
        net_interfaces: Vec<NetIfSpec>,
        /// Properties.
        #[serde(default)]
        props: BTreeMap<String, String>,
    },
    /// Changes a node's type or properties.
    NodeModify {
        /// Name.
        name: String,
        /// New type.
        #[serde(default)]
        node_type: Option<NodeType>,
        /// Property changes.
        #[serde(default)]
        props: PropsModify,
    },
    /// Deletes a node that holds nothing.
    NodeDelete {
        /// Name.
        name: String,
    },
    /// Evacuates a node (LINSTOR's `node evacuate`): every resource with a diskful replica there
    /// gets a replacement elsewhere, all or nothing; the replicas on the node are deleted by
    /// `RscBalance` once the replacements are in sync.
    NodeEvacuate {
        /// Node.
        name: String,
        /// Only these nodes may take replacements (empty: any).
        #[serde(default)]
        target: Vec<String>,
        /// These nodes may not.
        #[serde(default)]
        do_not_target: Vec<String>,
    },
    /// Evicts a node whose satellite is gone (LINSTOR's `node evict`): the node and its
    /// resources are flagged `EVICTED` (no longer replicas), and every resource with a diskful
    /// replica there gets replacements up to `AutoEvictMinReplicaCount` (RD > C; default the
    /// group's place count, else the count before). A replacement that cannot be placed is a
    /// warning: the node is evicted anyway.
    NodeEvict {
        /// Node.
        name: String,
    },
    /// Restores a node (LINSTOR's `node restore`): cancels an evacuation, or un-evicts — its
    /// evicted resources are reactivated, or with `delete_resources` marked for deletion.
    NodeRestore {
        /// Node.
        name: String,
        /// Delete the evicted resources instead of reactivating them.
        #[serde(default)]
        delete_resources: bool,
    },
    /// Removes a dead node and everything on it without asking its satellite.
    NodeLost {
        /// Name.
        name: String,
    },
    /// Asks for the node's satellite connection to be dropped and made again (LINSTOR's
    /// `node reconnect`). The state does not change: the controller acts on the answer.
    NodeReconnect {
        /// Name.
        name: String,
    },
    /// Sets or removes properties of the connection between two nodes (created with its first
    /// property, removed with its last): DRBD `net` options, `Paths/<path>/<node>` = interface.
    NodeConnModify {
        /// One node.
        node_a: String,
        /// The other.
        node_b: String,
        /// Changes.
        props: PropsModify,
    },
    /// Adds a net interface.
    NetIfCreate {
        /// Node.
        node: String,
        /// Interface.
        netif: NetIfSpec,
    },
    /// Changes a net interface.
    NetIfModify {
        /// Node.
        node: String,
        /// Interface (name must exist).
        netif: NetIfSpec,
    },
    /// Deletes a net interface.
    NetIfDelete {
        /// Node.
        node: String,
        /// Name.
        name: String,
    },
    /// Creates a storage pool definition.
    StorPoolDfnCreate {
        /// Name.
        name: String,
        /// Properties.
        #[serde(default)]
        props: BTreeMap<String, String>,
    },
    /// Changes a storage pool definition's properties.
    StorPoolDfnModify {
        /// Name.
        name: String,
        /// Changes.
        props: PropsModify,
    },
    /// Deletes an unused storage pool definition.
    StorPoolDfnDelete {
        /// Name.
        name: String,
    },
    /// Creates a storage pool on a node.
    StorPoolCreate {
        /// Node.
        node: String,
        /// Pool name.
        name: String,
        /// Provider.
        kind: ProviderKind,
        /// Properties (`StorDriver/StorPoolName`, or the legacy keys).
        #[serde(default)]
        props: BTreeMap<String, String>,
        /// Shared-space name (default `<node>;<pool>`).
        #[serde(default)]
        shared_space: Option<String>,
    },
    /// Changes a storage pool's properties.
    StorPoolModify {
        /// Node.
        node: String,
        /// Pool.
        name: String,
        /// Changes.
        props: PropsModify,
    },
    /// Deletes an unused storage pool.
    StorPoolDelete {
        /// Node.
        node: String,
        /// Pool.
        name: String,
    },
    /// Creates a resource group.
    RscGrpCreate {
        /// Name.
        name: String,
        /// Description.
        #[serde(default)]
        description: String,
        /// Properties.
        #[serde(default)]
        props: BTreeMap<String, String>,
        /// Select filter.
        #[serde(default)]
        select_filter: SelectFilter,
        /// Peer slots.
        #[serde(default)]
        peer_slots: Option<u8>,
    },
    /// Changes a resource group.
    RscGrpModify {
        /// Name.
        name: String,
        /// New description.
        #[serde(default)]
        description: Option<String>,
        /// Property changes.
        #[serde(default)]
        props: PropsModify,
        /// New select filter (replaces the old one).
        #[serde(default)]
        select_filter: Option<SelectFilter>,
        /// New peer slots.
        #[serde(default)]
        peer_slots: Option<u8>,
    },
    /// Deletes an unused resource group.
    RscGrpDelete {
        /// Name.
        name: String,
    },
    /// Re-runs autoplacement for every resource definition of a group (LINSTOR's
    /// `resource-group adjust`; without a name every group, `adjustall`): each definition gets
    /// the replicas it lacks to reach the place count of `select_filter` over the group's
    /// filter. Definitions are independent: one that cannot be placed gets a warning with the
    /// placer's explanation and is left as it was; the others are adjusted. Surplus replicas
    /// are not removed.
    RscGrpAdjust {
        /// The group; `None` for every group.
        #[serde(default)]
        name: Option<String>,
        /// Overrides of the group's select filter.
        #[serde(default)]
        select_filter: Option<SelectFilter>,
    },
    /// Adds a volume group.
    VlmGrpCreate {
        /// Resource group.
        rsc_grp: String,
        /// Number (lowest free when absent).
        #[serde(default)]
        number: Option<u16>,
        /// Properties.
        #[serde(default)]
        props: BTreeMap<String, String>,
        /// Flags.
        #[serde(default)]
        flags: VlmGrpFlags,
    },
    /// Changes a volume group's properties or its `GROSS_SIZE` flag.
    VlmGrpModify {
        /// Resource group.
        rsc_grp: String,
        /// Number.
        number: u16,
        /// Property changes.
        #[serde(default)]
        props: PropsModify,
        /// Sets (`true`) or clears (`false`) the `GROSS_SIZE` flag.
        #[serde(default)]
        gross_size: Option<bool>,
    },
    /// Deletes a volume group.
    VlmGrpDelete {
        /// Resource group.
        rsc_grp: String,
        /// Number.
        number: u16,
    },
    /// Creates a resource definition and one volume definition per volume group (sizes in order),
    /// then deploys it on the named nodes or through the autoplacer.
    #[serde(rename = "spawn")]
    RscGrpSpawn {
        /// Resource group.
        rsc_grp: String,
        /// New resource definition (empty with `external_name`: LINSTOR's name generated from
        /// the external name, see `ResourceName::from_external`).
        rsc_dfn: String,
        /// External name.
        #[serde(default)]
        external_name: Option<String>,
        /// One size per volume group.
        volume_sizes: Vec<SizeKib>,
        /// Create one VD per size even if the group has a different number of volume groups.
        #[serde(default)]
        partial: bool,
        /// Explicit nodes; autoplacement when empty.
        #[serde(default)]
        nodes: Vec<NodePlacement>,
        /// Filter over the group's.
        #[serde(default)]
        select_filter: Option<SelectFilter>,
        /// Only create the definitions.
        #[serde(default)]
        definitions_only: bool,
        /// Peer slots.
        #[serde(default)]
        peer_slots: Option<u8>,
        /// Properties of the new resource definition.
        #[serde(default)]
        rsc_dfn_props: BTreeMap<String, String>,
    },
    /// Creates a resource definition.
    RscDfnCreate {
        /// Name (empty with `external_name`: LINSTOR's name generated from the external name,
        /// see `ResourceName::from_external`).
        name: String,
        /// Resource group (`DfltRscGrp` when absent).
        #[serde(default)]
        rsc_grp: Option<String>,
        /// External name.
        #[serde(default)]
        external_name: Option<String>,
        /// Properties.
        #[serde(default)]
        props: BTreeMap<String, String>,
        /// DRBD secret (generated when absent).
        #[serde(default)]
        secret: Option<String>,
        /// Peer slots.
        #[serde(default)]
        peer_slots: Option<u8>,
        /// Layer stack (`DRBD,STORAGE` when absent).
        #[serde(default)]
        layer_stack: Option<Vec<LayerKind>>,
    },
    /// Changes a resource definition.
    RscDfnModify {
        /// Name.
        name: String,
        /// Property changes.
        #[serde(default)]
        props: PropsModify,
        /// New peer slots.
        #[serde(default)]
        peer_slots: Option<u8>,
        /// Move to another resource group.
        #[serde(default)]
        rsc_grp: Option<String>,
    },
    /// Clones a resource definition (LINSTOR's `resource-definition clone`): a new definition
    /// with the source's volume definitions (sizes, properties) and properties (changed by
    /// `props`, marked `cloned-from`), deployed on the source's nodes and pools (the clone
    /// group's pool list decides when it lacks a source pool); the satellites copy the data.
    /// Refused unless every diskful DRBD resource of the source is reported UpToDate.
    RscDfnClone {
        /// Source resource definition.
        rsc_dfn: String,
        /// The clone (empty with `external_name`: generated from it, as for a create).
        name: String,
        /// The clone's external name.
        #[serde(default)]
        external_name: Option<String>,
        /// The clone's resource group (the source's when absent).
        #[serde(default)]
        rsc_grp: Option<String>,
        /// The clone's layer stack (the source's when absent).
        #[serde(default)]
        layer_stack: Option<Vec<LayerKind>>,
        /// ZFS volumes are cloned with `zfs clone` (the group's `UseZFSClone` when absent).
        #[serde(default)]
        use_zfs_clone: Option<bool>,
        /// Changes of the properties copied from the source.
        #[serde(default)]
        props: PropsModify,
    },
    /// Deletes a resource definition and (two-phase) its resources.
    RscDfnDelete {
        /// Name.
        name: String,
    },
    /// Adds a volume definition (and a volume to every resource).
    VlmDfnCreate {
        /// Resource definition.
        rsc_dfn: String,
        /// Number (lowest free when absent).
        #[serde(default)]
        number: Option<u16>,
        /// Size.
        size: SizeKib,
        /// DRBD minor (allocated when absent).
        #[serde(default)]
        minor: Option<u32>,
        /// Properties.
        #[serde(default)]
        props: BTreeMap<String, String>,
    },
    /// Grows a volume definition.
    VlmDfnResize {
        /// Resource definition.
        rsc_dfn: String,
        /// Number.
        number: u16,
        /// New size.
        size: SizeKib,
    },
    /// Changes a volume definition's properties and, with `size`, grows it as `VlmDfnResize`.
    VlmDfnModify {
        /// Resource definition.
        rsc_dfn: String,
        /// Number.
        number: u16,
        /// Property changes.
        #[serde(default)]
        props: PropsModify,
        /// New size.
        #[serde(default)]
        size: Option<SizeKib>,
    },
    /// Deletes a volume definition and its volumes. Refused while a resource of the definition
    /// has a disk (its data would have to be removed by the satellites first).
    VlmDfnDelete {
        /// Resource definition.
        rsc_dfn: String,
        /// Number.
        number: u16,
    },
    /// Deploys a resource on a node.
    RscCreate {
        /// Resource definition.
        rsc_dfn: String,
        /// Node.
        node: String,
        /// Storage pool (resolved by the `StorPoolName` chain when absent).
        #[serde(default)]
        storage_pool: Option<String>,
        /// Diskless.
        #[serde(default)]
        diskless: bool,
        /// DRBD client (non-voting diskless).
        #[serde(default)]
        drbd_client: bool,
        /// Properties.
        #[serde(default)]
        props: BTreeMap<String, String>,
    },
    /// Autoplaces replicas of an existing resource definition (the request's filter over the
    /// definition's group filter).
    #[serde(rename = "autoplace")]
    RscAutoplace {
        /// Resource definition.
        rsc_dfn: String,
        /// Filter over the group's.
        #[serde(default)]
        select_filter: SelectFilter,
    },
    /// Marks a resource for deletion.
    RscDelete {
        /// Resource definition.
        rsc_dfn: String,
        /// Node.
        node: String,
    },
    /// Changes a resource's properties, and makes a diskless one a tiebreaker or a DRBD client
    /// (or a plain diskless resource again).
    RscModify {
        /// Resource definition.
        rsc_dfn: String,
        /// Node.
        node: String,
        /// Property changes.
        #[serde(default)]
        props: PropsModify,
        /// Makes the diskless resource a tiebreaker (`true`) or a plain diskless one (`false`).
        #[serde(default)]
        drbd_tiebreaker: Option<bool>,
        /// Makes the diskless resource a DRBD client (`true`, no quorum vote) or not.
        #[serde(default)]
        drbd_client: Option<bool>,
    },
    /// Changes the properties of one volume of a deployed resource (LINSTOR's volume modify).
    VlmModify {
        /// Resource definition.
        rsc_dfn: String,
        /// Node.
        node: String,
        /// Volume number.
        number: u16,
        /// Property changes.
        #[serde(default)]
        props: PropsModify,
    },
    /// Makes a resource available on a node (CSI attach): creates a diskless resource there
    /// (diskful with `diskful`, or when no peer has a disk), turns a tiebreaker into a plain
    /// diskless resource, gives a diskless one a disk when `diskful`, takes back a deletion or
    /// a deactivation; a resource that is already as asked stays as it is.
    RscMakeAvailable {
        /// Resource definition.
        rsc_dfn: String,
        /// Node.
        node: String,
        /// A resource with a disk is wanted.
        #[serde(default)]
        diskful: bool,
        /// The layer stack the caller expects (must be the definition's).
        #[serde(default)]
        layer_list: Option<Vec<LayerKind>>,
    },
    /// Gives a DRBD resource a disk, or takes it away (LINSTOR's toggle-disk). With
    /// `migrate_from` (LINSTOR's migrate-disk) the resource, which must be diskless, gets a
    /// disk that replaces the one on that node: the resource records `MigrateFrom`, and the
    /// balance step (`RscBalance`) deletes the replica there once this one is reported
    /// UpToDate and that one not in use.
    RscToggleDisk {
        /// Resource definition.
        rsc_dfn: String,
        /// Node.
        node: String,
        /// What the resource becomes.
        operation: ToggleDiskOp,
        /// Pool of the disk (the `StorPoolName` chain, then the group's pools when absent), or
        /// the diskless pool (`DfltDisklessStorPool` when absent).
        #[serde(default)]
        storage_pool: Option<String>,
        /// The node whose replica the new disk replaces (only with `IntoDrbdDiskful`).
        #[serde(default)]
        migrate_from: Option<String>,
    },
    /// Brings a deactivated resource back up (clears `INACTIVE`).
    RscActivate {
        /// Resource definition.
        rsc_dfn: String,
        /// Node.
        node: String,
    },
    /// Takes a resource down without deleting it (sets `INACTIVE`).
    RscDeactivate {
        /// Resource definition.
        rsc_dfn: String,
        /// Node.
        node: String,
    },
    /// Sets or removes properties of the connection between two resources of a definition
    /// (created with its first property, removed with its last).
    RscConnModify {
        /// Resource definition.
        rsc_dfn: String,
        /// One node.
        node_a: String,
        /// The other.
        node_b: String,
        /// Changes.
        props: PropsModify,
    },
    /// A satellite confirmed that a resource marked for deletion is gone.
    #[serde(rename = "resource_deleted")]
    RscDeleteConfirmed {
        /// Resource definition.
        rsc_dfn: String,
        /// Node.
        node: String,
    },
    /// Takes a snapshot.
    SnapshotCreate {
        /// Resource definition.
        rsc_dfn: String,
        /// Snapshot name.
        name: String,
        /// Nodes (every diskful node when empty).
        #[serde(default)]
        nodes: Vec<String>,
    },
    /// Deletes a snapshot.
    SnapshotDelete {
        /// Resource definition.
        rsc_dfn: String,
        /// Snapshot name.
        name: String,
    },
    /// Restores a snapshot into a new resource definition.
    SnapshotRestore {
        /// Source resource definition.
        rsc_dfn: String,
        /// Snapshot.
        snapshot: String,
        /// New resource definition.
        target: String,
        /// Nodes to restore on (every snapshot node when empty).
        #[serde(default)]
        nodes: Vec<String>,
    },
    /// Takes a snapshot of several resource definitions at once: all or nothing.
    SnapshotCreateMulti {
        /// The snapshots.
        snapshots: Vec<SnapshotSpec>,
    },
    /// Creates the volume definitions of `target` (which exists and has none) from the
    /// snapshot's: the first step of a restore, before `SnapshotRestore` deploys the resources.
    SnapshotRestoreVlmDfn {
        /// Source resource definition.
        rsc_dfn: String,
        /// Snapshot.
        snapshot: String,
        /// Target resource definition.
        target: String,
    },
    /// Rolls a resource definition back to a successful snapshot: every resource records the
    /// snapshot as its `RollbackTarget`, which its satellite acts on.
    SnapshotRollback {
        /// Resource definition.
        rsc_dfn: String,
        /// Snapshot.
        snapshot: String,
    },
    /// Sets properties of a key-value store (created on first use).
    KvsModify {
        /// Name.
        name: String,
        /// Changes.
        props: PropsModify,
    },
    /// Deletes a key-value store.
    KvsDelete {
        /// Name.
        name: String,
    },
    /// A satellite's connection state and capabilities.
    #[serde(rename = "report_node")]
    NodeReport {
        /// Node.
        node: String,
        /// Connection.
        connection: ConnectionStatus,
        /// Capabilities, if reported.
        #[serde(default)]
        capabilities: Option<Capabilities>,
    },
    /// Brings resource definitions to their group's place count (LINSTOR's balance task; a
    /// controller issues it every `BalanceResourcesInterval`): adds missing replicas and
    /// removes surplus ones, skipping definitions in flux (see `cluster::balance`).
    #[serde(rename = "balance_resources")]
    RscBalance {
        /// One resource definition; `None` for all.
        #[serde(default)]
        rsc_dfn: Option<String>,
    },
    /// A satellite's report of one of its resources' DRBD state.
    #[serde(rename = "report_resource")]
    RscReport {
        /// Node.
        node: String,
        /// Resource definition.
        rsc_dfn: String,
        /// The state.
        state: crate::model::RscObserved,
    },
    /// A satellite has every volume of a snapshot: once every node of the snapshot has
    /// reported it, the snapshot definition is `SUCCESSFUL`.
    #[serde(rename = "report_snapshot")]
    SnapshotReport {
        /// Node.
        node: String,
        /// Resource definition.
        rsc_dfn: String,
        /// Snapshot.
        snapshot: String,
    },
    /// A satellite's capacity report for one pool.
    #[serde(rename = "report_pool_capacity")]
    StorPoolReport {
        /// Node.
        node: String,
        /// Pool.
        pool: String,
        /// Free KiB.
        free: SizeKib,
        /// Total KiB.
        total: SizeKib,
    },
}

/// Identifies one object of the model.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum ObjKey {
    /// Controller properties.
    Ctrl,
    /// A node.
    Node {
        /// Node.
        node: NodeName,
    },
    /// A net interface.
    NetIf {
        /// Node.
        node: NodeName,
        /// Interface.
        name: NetIfName,
    },
    /// A storage pool definition.
    StorPoolDfn {
        /// Pool.
        pool: StorPoolName,
    },
    /// A storage pool.
    StorPool {
        /// Node.
        node: NodeName,
        /// Pool.
        pool: StorPoolName,
    },
    /// A resource group.
    RscGrp {
        /// Group.
        rsc_grp: ResourceGroupName,
    },
    /// A volume group.
    VlmGrp {
        /// Group.
        rsc_grp: ResourceGroupName,
        /// Number.
        number: u16,
    },
    /// A resource definition.
    RscDfn {
        /// Definition.
        rsc_dfn: ResourceName,
    },
    /// A volume definition.
    VlmDfn {
        /// Definition.
        rsc_dfn: ResourceName,
        /// Number.
        number: u16,
    },
    /// A resource (with its volumes).
    Rsc {
        /// Definition.
        rsc_dfn: ResourceName,
        /// Node.
        node: NodeName,
    },
    /// A snapshot definition (with its per-node snapshots).
    SnapshotDfn {
        /// Definition.
        rsc_dfn: ResourceName,
        /// Snapshot.
        snapshot: SnapshotName,
    },
    /// A key-value store.
    Kvs {
        /// Store.
        name: KvsName,
    },
    /// A node connection (its own top-level object; `node_a` < `node_b`).
    NodeConn {
        /// The lesser node name.
        node_a: NodeName,
        /// The greater node name.
        node_b: NodeName,
    },
    /// A resource connection (part of its resource definition; `node_a` < `node_b`).
    RscConn {
        /// Definition.
        rsc_dfn: ResourceName,
        /// The lesser node name.
        node_a: NodeName,
        /// The greater node name.
        node_b: NodeName,
    },
    /// A node's observed state.
    Observed {
        /// Node.
        node: NodeName,
    },
}

/// What a successful command changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSet {
    /// New objects.
    pub created: Vec<ObjKey>,
    /// Changed objects.
    pub modified: Vec<ObjKey>,
    /// Removed objects.
    pub deleted: Vec<ObjKey>,
}

impl ChangeSet {
    /// True if nothing changed.
    pub fn is_empty(&self) -> bool {
        self.created.is_empty() && self.modified.is_empty() && self.deleted.is_empty()
    }
}

/// The answer to one command.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// LINSTOR-style entries.
    pub rc: ApiCallRc,
    /// Changed objects (empty when refused).
    pub changes: ChangeSet,
}

impl Outcome {
    /// True if the command was refused.
    pub fn is_error(&self) -> bool {
        self.rc.has_error()
    }
}

/// Errors of the core library outside command answers (those are [`RcEntry`] lists).
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// A serialized state could not be read.
    #[error("cannot read cluster state: {0}")]
    StateFormat(#[from] serde_json::Error),
    /// A serialized state is readable but inconsistent.
    #[error("cluster state is inconsistent: {0}")]
    StateInconsistent(String),
}
