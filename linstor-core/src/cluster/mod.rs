//! `Cluster`: the state of one LINSTOR cluster and the commands that change it.
//!
//! A command is plain data ([`Command`]). [`Cluster::execute`] validates it completely, then
//! applies it, and answers with an [`Outcome`]: LINSTOR-style result entries plus the
//! [`ChangeSet`] of objects created, modified and deleted (what the controller's database writes
//! and what satellites are told). A refused command changes nothing at all.
//!
//! Deletion of deployed objects is two-phase, as in LINSTOR: `RscDelete` records the intent
//! (flag `DELETE`); the resource disappears (and its numbers are freed) when its satellite
//! confirms with `RscDeleteConfirmed`. A resource definition marked `DELETE` disappears with its
//! last resource.
//!
//! What is refused because something depends on it, and what cascades:
//!
//! | command                     | refused while …                                              | cascades to …                                   |
//! |-----------------------------|--------------------------------------------------------------|-------------------------------------------------|
//! | node delete                 | it holds resources or snapshots                              | its storage pools, net interfaces, observed state |
//! | node lost                   | —                                                            | its resources (numbers freed), snapshots, pools  |
//! | net interface delete        | it is the node's last one                                    | —                                               |
//! | storage pool delete         | a volume or snapshot uses it; it is `DfltDisklessStorPool`   | —                                               |
//! | storage pool definition del | a node still has a pool of that name                         | —                                               |
//! | resource group delete       | a resource definition uses it; it is `DfltRscGrp`            | its volume groups                               |
//! | resource definition delete  | it has snapshots                                             | its resources (marked DELETE), then itself      |
//! | resource delete             | its provider keeps snapshots dependent (ZFS) and some exist  | its volumes                                     |
//! | snapshot delete             | —                                                            | its per-node snapshots                          |
//! | key-value store delete      | —                                                            | its properties                                  |

mod autoplace;
pub mod balance;
mod env;
mod invariants;
mod numbers;
mod ops_group;
mod ops_node;
mod ops_rsc;
mod ops_snap;
mod quorum;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use crate::chains::Chains;
pub use env::{Env, SeededEnv, base64};
pub use numbers::{BitPool, DEFAULT_MINOR_RANGE, DEFAULT_PORT_RANGE, MAX_MINOR, MAX_NODE_ID};

use crate::keys;
use crate::model::{
    Capabilities, ConnectionStatus, EncryptionType, LayerKind, NodeType, ProviderKind,
    SelectFilter, Uuid, VlmGrpFlags,
};
use crate::name::{
    KvsName, NetIfName, NodeName, ResourceGroupName, ResourceName, SnapshotName, StorPoolName,
};
use crate::props::{DrbdOptionValidator, Level, Props, PropsModify, validate_user_prop};
use crate::rc::{ApiCallRc, Obj, Op, RcEntry, Severity, code};
use crate::size::SizeKib;
use crate::state::ClusterState;

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
        /// New resource definition.
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
        /// Name.
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

/// Derived indexes, rebuilt from the state; never serialized.
#[derive(Debug, Clone)]
pub(crate) struct Indexes {
    pub minors: BitPool,
    pub ports: BTreeMap<NodeName, BTreeSet<u16>>,
    pub rscs_on_node: BTreeMap<NodeName, BTreeSet<ResourceName>>,
    /// The placer's pool usage and its compact view of nodes and pools. While a command runs,
    /// the definitions in `usage_pending` are subtracted out of the usage (they may change);
    /// `execute` adds them back afterwards, so between commands the usage equals
    /// `PoolUsage::compute(state)`. Changes to nodes, pools and observed state are marked by
    /// `execute` ([`Cluster::mark_placement`]); the view is refreshed before each decision.
    pub placer: crate::placement::PlacementCache,
    pub usage_pending: Vec<ResourceName>,
}

impl Indexes {
    fn build(state: &ClusterState) -> Result<Indexes, String> {
        let mut idx = Indexes {
            minors: BitPool::new(MAX_MINOR),
            ports: BTreeMap::new(),
            rscs_on_node: BTreeMap::new(),
            placer: crate::placement::PlacementCache::new(state),
            usage_pending: Vec::new(),
        };
        for rd in state.resource_definitions.values() {
            for vd in rd.volume_definitions.values() {
                if !idx.minors.insert(vd.minor) {
                    return Err(format!(
                        "minor {} is used twice (or out of range)",
                        vd.minor
                    ));
                }
            }
            for r in rd.resources.values() {
                let ports = idx.ports.entry(r.node.clone()).or_default();
                for p in &r.tcp_ports {
                    if !ports.insert(*p) {
                        return Err(format!("TCP port {p} is used twice on node {}", r.node));
                    }
                }
                idx.rscs_on_node
                    .entry(r.node.clone())
                    .or_default()
                    .insert(rd.name.clone());
            }
        }
        Ok(idx)
    }
}

/// One cluster: its state, the derived indexes and the optional DRBD option validator.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub(crate) state: ClusterState,
    pub(crate) idx: Indexes,
    drbd_validator: Option<Arc<dyn DrbdOptionValidator>>,
}

impl PartialEq for Cluster {
    fn eq(&self, other: &Self) -> bool {
        self.state == other.state
    }
}

/// Per-command scratch: the entries and changes being collected.
pub(crate) struct Ctx<'e> {
    pub env: &'e mut dyn Env,
    pub rc: ApiCallRc,
    pub changes: ChangeSet,
}

impl Ctx<'_> {
    pub fn uuid(&mut self) -> Uuid {
        let mut b = [0u8; 16];
        self.env.fill_random(&mut b);
        Uuid::from_random_bytes(b)
    }

    pub fn ok(&mut self, op: Op, obj: Obj, message: impl Into<String>) -> &mut RcEntry {
        let c = match op {
            Op::Create => code::CREATED,
            Op::Delete => code::DELETED,
            _ => code::MODIFIED,
        };
        self.rc
            .push(RcEntry::new(Severity::Success, op, obj, c, message));
        self.rc.0.last_mut().expect("just pushed")
    }

    pub fn info(&mut self, obj: Obj, c: u16, message: impl Into<String>) {
        self.rc
            .push(RcEntry::new(Severity::Info, Op::None, obj, c, message));
    }

    /// Where the answer and the change set are now (see [`Ctx::rewind`]).
    pub fn checkpoint(&self) -> (usize, usize, usize, usize) {
        (
            self.rc.0.len(),
            self.changes.created.len(),
            self.changes.modified.len(),
            self.changes.deleted.len(),
        )
    }

    /// Drops the entries and changes recorded since `at`: for a step that failed and was rolled
    /// back while the command goes on.
    pub fn rewind(&mut self, at: (usize, usize, usize, usize)) {
        self.rc.0.truncate(at.0);
        self.changes.created.truncate(at.1);
        self.changes.modified.truncate(at.2);
        self.changes.deleted.truncate(at.3);
    }

    /// Answers a refused step of a command that goes on as a warning (same code, cause and
    /// correction).
    pub fn warn_from(&mut self, mut e: RcEntry) {
        e.severity = Severity::Warning;
        self.rc.push(e);
    }

    pub fn warn(&mut self, obj: Obj, c: u16, message: impl Into<String>) {
        self.rc
            .push(RcEntry::new(Severity::Warning, Op::None, obj, c, message));
    }

    pub fn created(&mut self, k: ObjKey) {
        self.changes.created.push(k);
    }
    pub fn modified(&mut self, k: ObjKey) {
        if !self.changes.modified.contains(&k) && !self.changes.created.contains(&k) {
            self.changes.modified.push(k);
        }
    }
    pub fn deleted(&mut self, k: ObjKey) {
        self.changes.deleted.push(k);
    }
}

/// Result of a command handler: `Err` refuses the whole command.
pub(crate) type Res<T = ()> = Result<T, Box<RcEntry>>;

/// Builds an error entry.
pub(crate) fn fail(op: Op, obj: Obj, c: u16, message: impl Into<String>) -> Box<RcEntry> {
    Box::new(RcEntry::error(op, obj, c, message))
}

/// Extension to add cause/correction to boxed entries.
pub(crate) trait BoxedEntry {
    fn cause(self, c: impl Into<String>) -> Self;
    fn correction(self, c: impl Into<String>) -> Self;
    fn obj_ref(self, k: &str, v: impl std::fmt::Display) -> Self;
}

impl BoxedEntry for Box<RcEntry> {
    fn cause(mut self, c: impl Into<String>) -> Self {
        self.cause = Some(c.into());
        self
    }
    fn correction(mut self, c: impl Into<String>) -> Self {
        self.correction = Some(c.into());
        self
    }
    fn obj_ref(mut self, k: &str, v: impl std::fmt::Display) -> Self {
        self.obj_refs.insert(k.to_owned(), v.to_string());
        self
    }
}

/// Parses a name of type `T`, mapping a failure to LINSTOR's invalid-name code.
pub(crate) fn parse_name<T>(
    op: Op,
    obj: Obj,
    invalid_code: u16,
    value: &str,
    parse: impl FnOnce(&str) -> Result<T, crate::name::NameError>,
) -> Res<T> {
    parse(value).map_err(|e| {
        let rule = e.rule.to_string();
        fail(
            op,
            obj,
            invalid_code,
            format!("Invalid {} '{value}'", e.kind.label()),
        )
        .cause(format!("The {} {rule}.", e.kind.label()))
        .correction(format!(
            "Choose a {} that follows the rule above.",
            e.kind.label()
        ))
    })
}

impl Cluster {
    /// A new cluster with `DfltRscGrp` and the `DfltDisklessStorPool` definition.
    pub fn new(env: &mut dyn Env) -> Cluster {
        let mut c = Cluster {
            state: ClusterState::default(),
            idx: Indexes::build(&ClusterState::default()).expect("empty state is consistent"),
            drbd_validator: Some(default_drbd_validator()),
        };
        let mut ctx = Ctx {
            env,
            rc: ApiCallRc::default(),
            changes: ChangeSet::default(),
        };
        ops_group::ensure_defaults(&mut c, &mut ctx);
        c
    }

    /// Rebuilds a cluster from a state (checks its consistency).
    pub fn from_state(state: ClusterState) -> Result<Cluster, CoreError> {
        let idx = Indexes::build(&state).map_err(CoreError::StateInconsistent)?;
        let c = Cluster {
            state,
            idx,
            drbd_validator: Some(default_drbd_validator()),
        };
        c.check_invariants().map_err(CoreError::StateInconsistent)?;
        Ok(c)
    }

    /// Reads a cluster from JSON.
    pub fn from_json(json: &str) -> Result<Cluster, CoreError> {
        Cluster::from_state(serde_json::from_str(json)?)
    }

    /// The state as JSON (deterministic: every map is ordered).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.state).expect("the state always serializes")
    }

    /// Installs the validator for `DrbdOptions/<section>/<option>` properties.
    pub fn set_drbd_option_validator(&mut self, v: Arc<dyn DrbdOptionValidator>) {
        self.drbd_validator = Some(v);
    }

    /// The whole state.
    pub fn state(&self) -> &ClusterState {
        &self.state
    }

    /// Property chains per consumer.
    pub fn chains(&self) -> Chains<'_> {
        Chains::new(&self.state)
    }

    /// Executes one command. Refused commands change nothing.
    pub fn execute(&mut self, cmd: Command, env: &mut dyn Env) -> Outcome {
        let mut ctx = Ctx {
            env,
            rc: ApiCallRc::default(),
            changes: ChangeSet::default(),
        };
        // Keep the pool usage current: take out the definitions this command may change, and
        // put them back (as they are afterwards) when it is done.
        let pending = self.rds_touched_by(&cmd);
        for n in &pending {
            if let Some(rd) = self.state.resource_definitions.get(n) {
                self.idx.placer.apply_rd(rd, false);
            }
        }
        self.idx.usage_pending = pending;
        // Marked before (a decision inside the command sees the change) and after (the change
        // itself may come after such a decision).
        let marks = self.placement_marks(&cmd);
        self.mark_placement(&marks);
        let res = self.dispatch(cmd, &mut ctx);
        self.mark_placement(&marks);
        for n in std::mem::take(&mut self.idx.usage_pending) {
            if let Some(rd) = self.state.resource_definitions.get(&n) {
                self.idx.placer.apply_rd(rd, true);
            }
        }
        match res {
            Ok(()) => Outcome {
                rc: ctx.rc,
                changes: ctx.changes,
            },
            Err(e) => Outcome {
                rc: ApiCallRc(vec![*e]),
                changes: ChangeSet::default(),
            },
        }
    }

    /// What a command may change of the placer's view besides pool usage (which follows the
    /// definitions of [`Cluster::rds_touched_by`]): `None` for every row, else the nodes.
    /// Exhaustive on purpose: a new command must decide.
    fn placement_marks(&self, cmd: &Command) -> Option<Vec<NodeName>> {
        use Command as C;
        let node = |n: &str| NodeName::new(n).ok().into_iter().collect();
        Some(match cmd {
            // Every row: controller properties (AutoplaceTarget, MinThinFreeSpace, ratios),
            // storage pool definitions (ratios) and the set of nodes.
            C::CtrlPropsModify { .. }
            | C::StorPoolDfnCreate { .. }
            | C::StorPoolDfnModify { .. }
            | C::StorPoolDfnDelete { .. }
            | C::NodeCreate { .. }
            | C::NodeDelete { .. }
            | C::NodeLost { .. } => return None,
            // Net interface changes can rewrite the node's `CurStltConnName` property.
            C::NodeModify { name, .. }
            | C::NodeEvacuate { name, .. }
            | C::NodeRestore { name, .. }
            | C::NodeEvict { name }
            | C::NetIfCreate { node: name, .. }
            | C::NetIfModify { node: name, .. }
            | C::NetIfDelete { node: name, .. } => node(name),
            C::StorPoolCreate { node: n, .. }
            | C::StorPoolModify { node: n, .. }
            | C::StorPoolDelete { node: n, .. }
            | C::NodeReport { node: n, .. }
            | C::StorPoolReport { node: n, .. } => node(n),
            // Nothing the placer reads per node or pool.
            C::RscGrpCreate { .. }
            | C::RscGrpModify { .. }
            | C::RscGrpDelete { .. }
            | C::VlmGrpCreate { .. }
            | C::VlmGrpDelete { .. }
            | C::KvsModify { .. }
            | C::KvsDelete { .. }
            | C::RscReport { .. } => Vec::new(),
            // Resources and snapshots change pool usage only (marked by the usage updates).
            C::RscGrpSpawn { .. }
            | C::RscDfnCreate { .. }
            | C::RscDfnModify { .. }
            | C::RscDfnDelete { .. }
            | C::VlmDfnCreate { .. }
            | C::VlmDfnResize { .. }
            | C::RscCreate { .. }
            | C::RscAutoplace { .. }
            | C::RscDelete { .. }
            | C::RscDeleteConfirmed { .. }
            | C::SnapshotCreate { .. }
            | C::SnapshotDelete { .. }
            | C::SnapshotRestore { .. }
            | C::RscGrpAdjust { .. }
            | C::RscBalance { .. } => Vec::new(),
        })
    }

    /// Tells the placer's cache what [`Cluster::placement_marks`] found (nodes that do not
    /// exist have no row to refresh).
    fn mark_placement(&mut self, marks: &Option<Vec<NodeName>>) {
        match marks {
            None => self.idx.placer.all_changed(),
            Some(nodes) => {
                for n in nodes {
                    if self.state.nodes.contains_key(n) {
                        self.idx.placer.node_changed(n);
                    }
                }
            }
        }
    }

    /// Runs `f` for one definition with its pool usage taken out (it may change) and put back
    /// afterwards, as `execute` does for a command's definitions: for commands that work on
    /// many definitions one after the other.
    pub(crate) fn one_pending<T>(
        &mut self,
        rd: &ResourceName,
        f: impl FnOnce(&mut Cluster) -> T,
    ) -> T {
        if let Some(d) = self.state.resource_definitions.get(rd) {
            self.idx.placer.apply_rd(d, false);
        }
        self.idx.usage_pending.push(rd.clone());
        let out = f(self);
        if let Some(i) = self.idx.usage_pending.iter().rposition(|n| n == rd) {
            self.idx.usage_pending.remove(i);
        }
        if let Some(d) = self.state.resource_definitions.get(rd) {
            self.idx.placer.apply_rd(d, true);
        }
        out
    }

    /// The resource definitions a command may change (the pool-usage index is updated for them).
    fn rds_touched_by(&self, cmd: &Command) -> Vec<ResourceName> {
        use Command as C;
        let names: Vec<&str> = match cmd {
            C::RscGrpSpawn { rsc_dfn, .. }
            | C::VlmDfnCreate { rsc_dfn, .. }
            | C::VlmDfnResize { rsc_dfn, .. }
            | C::RscCreate { rsc_dfn, .. }
            | C::RscAutoplace { rsc_dfn, .. }
            | C::RscDelete { rsc_dfn, .. }
            | C::RscDeleteConfirmed { rsc_dfn, .. }
            | C::SnapshotCreate { rsc_dfn, .. }
            | C::SnapshotDelete { rsc_dfn, .. } => vec![rsc_dfn],
            C::SnapshotRestore {
                rsc_dfn, target, ..
            } => vec![rsc_dfn, target],
            C::RscDfnCreate { name, .. }
            | C::RscDfnModify { name, .. }
            | C::RscDfnDelete { name } => vec![name],
            // Commands over many definitions take each one out and put it back in turn
            // (`Cluster::one_pending`), so every decision sees all the others.
            C::RscBalance { .. } | C::RscGrpAdjust { .. } => Vec::new(),
            C::NodeLost { name } | C::NodeDelete { name } => {
                let Ok(n) = NodeName::new(name) else {
                    return Vec::new();
                };
                let mut out: BTreeSet<ResourceName> = self
                    .idx
                    .rscs_on_node
                    .get(&n)
                    .map(|s| s.iter().cloned().collect())
                    .unwrap_or_default();
                // Snapshots on the node go with it, also of definitions without a resource there.
                out.extend(
                    self.state
                        .resource_definitions
                        .values()
                        .filter(|d| d.snapshots.values().any(|s| s.snapshots.contains_key(&n)))
                        .map(|d| d.name.clone()),
                );
                return out.into_iter().collect();
            }
            _ => Vec::new(),
        };
        let mut out: Vec<ResourceName> = names
            .into_iter()
            .filter_map(|n| ResourceName::new(n).ok())
            .collect();
        out.dedup();
        out
    }

    fn dispatch(&mut self, cmd: Command, ctx: &mut Ctx<'_>) -> Res {
        use Command as C;
        match cmd {
            C::CtrlPropsModify { props } => ops_node::ctrl_props_modify(self, ctx, &props),
            C::NodeCreate {
                name,
                node_type,
                net_interfaces,
                props,
            } => ops_node::node_create(self, ctx, &name, node_type, &net_interfaces, &props),
            C::NodeModify {
                name,
                node_type,
                props,
            } => ops_node::node_modify(self, ctx, &name, node_type, &props),
            C::NodeDelete { name } => ops_node::node_delete(self, ctx, &name, false),
            C::NodeLost { name } => ops_node::node_delete(self, ctx, &name, true),
            C::NodeEvacuate {
                name,
                target,
                do_not_target,
            } => ops_node::node_evacuate(self, ctx, &name, &target, &do_not_target),
            C::NodeEvict { name } => ops_node::node_evict(self, ctx, &name),
            C::NodeRestore {
                name,
                delete_resources,
            } => ops_node::node_restore(self, ctx, &name, delete_resources),
            C::NetIfCreate { node, netif } => ops_node::netif_create(self, ctx, &node, &netif),
            C::NetIfModify { node, netif } => ops_node::netif_modify(self, ctx, &node, &netif),
            C::NetIfDelete { node, name } => ops_node::netif_delete(self, ctx, &node, &name),
            C::StorPoolDfnCreate { name, props } => ops_node::spd_create(self, ctx, &name, &props),
            C::StorPoolDfnModify { name, props } => ops_node::spd_modify(self, ctx, &name, &props),
            C::StorPoolDfnDelete { name } => ops_node::spd_delete(self, ctx, &name),
            C::StorPoolCreate {
                node,
                name,
                kind,
                props,
                shared_space,
            } => ops_node::sp_create(
                self,
                ctx,
                &node,
                &name,
                kind,
                &props,
                shared_space.as_deref(),
            ),
            C::StorPoolModify { node, name, props } => {
                ops_node::sp_modify(self, ctx, &node, &name, &props)
            }
            C::StorPoolDelete { node, name } => ops_node::sp_delete(self, ctx, &node, &name),
            C::RscGrpCreate {
                name,
                description,
                props,
                select_filter,
                peer_slots,
            } => ops_group::rg_create(
                self,
                ctx,
                &name,
                description,
                &props,
                select_filter,
                peer_slots,
            ),
            C::RscGrpModify {
                name,
                description,
                props,
                select_filter,
                peer_slots,
            } => ops_group::rg_modify(
                self,
                ctx,
                &name,
                description,
                &props,
                select_filter,
                peer_slots,
            ),
            C::RscGrpDelete { name } => ops_group::rg_delete(self, ctx, &name),
            C::RscGrpAdjust {
                name,
                select_filter,
            } => ops_group::rg_adjust(self, ctx, name.as_deref(), select_filter.as_ref()),
            C::VlmGrpCreate {
                rsc_grp,
                number,
                props,
                flags,
            } => ops_group::vg_create(self, ctx, &rsc_grp, number, &props, flags),
            C::VlmGrpDelete { rsc_grp, number } => {
                ops_group::vg_delete(self, ctx, &rsc_grp, number)
            }
            C::RscGrpSpawn {
                rsc_grp,
                rsc_dfn,
                external_name,
                volume_sizes,
                partial,
                nodes,
                select_filter,
                definitions_only,
                peer_slots,
                rsc_dfn_props,
            } => ops_rsc::spawn(
                self,
                ctx,
                ops_rsc::SpawnArgs {
                    rsc_grp: &rsc_grp,
                    rsc_dfn: &rsc_dfn,
                    external_name,
                    volume_sizes: &volume_sizes,
                    partial,
                    nodes: &nodes,
                    select_filter: select_filter.as_ref(),
                    definitions_only,
                    peer_slots,
                    rsc_dfn_props: &rsc_dfn_props,
                },
            )
            .map(|()| quorum::manage(self, ctx, &rsc_dfn)),
            C::RscDfnCreate {
                name,
                rsc_grp,
                external_name,
                props,
                secret,
                peer_slots,
                layer_stack,
            } => ops_rsc::rd_create(
                self,
                ctx,
                &name,
                rsc_grp.as_deref(),
                external_name,
                &props,
                secret,
                peer_slots,
                layer_stack,
            )
            .map(drop),
            C::RscDfnModify {
                name,
                props,
                peer_slots,
                rsc_grp,
            } => ops_rsc::rd_modify(self, ctx, &name, &props, peer_slots, rsc_grp.as_deref()),
            C::RscDfnDelete { name } => ops_rsc::rd_delete(self, ctx, &name),
            C::VlmDfnCreate {
                rsc_dfn,
                number,
                size,
                minor,
                props,
            } => ops_rsc::vd_create(self, ctx, &rsc_dfn, number, size, minor, &props),
            C::VlmDfnResize {
                rsc_dfn,
                number,
                size,
            } => ops_rsc::vd_resize(self, ctx, &rsc_dfn, number, size),
            C::RscCreate {
                rsc_dfn,
                node,
                storage_pool,
                diskless,
                drbd_client,
                props,
            } => ops_rsc::rsc_create(
                self,
                ctx,
                &rsc_dfn,
                &node,
                storage_pool.as_deref(),
                diskless,
                drbd_client,
                &props,
            )
            .map(|()| quorum::manage(self, ctx, &rsc_dfn)),
            C::RscAutoplace {
                rsc_dfn,
                select_filter,
            } => autoplace::autoplace_cmd(self, ctx, &rsc_dfn, &select_filter),
            C::RscDelete { rsc_dfn, node } => ops_rsc::rsc_delete(self, ctx, &rsc_dfn, &node)
                .map(|()| quorum::manage(self, ctx, &rsc_dfn)),
            C::RscDeleteConfirmed { rsc_dfn, node } => {
                ops_rsc::rsc_deleted(self, ctx, &rsc_dfn, &node)
                    .map(|()| quorum::manage(self, ctx, &rsc_dfn))
            }
            C::SnapshotCreate {
                rsc_dfn,
                name,
                nodes,
            } => ops_snap::snapshot_create(self, ctx, &rsc_dfn, &name, &nodes),
            C::SnapshotDelete { rsc_dfn, name } => {
                ops_snap::snapshot_delete(self, ctx, &rsc_dfn, &name)
            }
            C::SnapshotRestore {
                rsc_dfn,
                snapshot,
                target,
                nodes,
            } => ops_snap::snapshot_restore(self, ctx, &rsc_dfn, &snapshot, &target, &nodes),
            C::KvsModify { name, props } => ops_snap::kvs_modify(self, ctx, &name, &props),
            C::KvsDelete { name } => ops_snap::kvs_delete(self, ctx, &name),
            C::NodeReport {
                node,
                connection,
                capabilities,
            } => ops_node::report_node(self, ctx, &node, connection, capabilities),
            C::StorPoolReport {
                node,
                pool,
                free,
                total,
            } => ops_node::report_pool(self, ctx, &node, &pool, free, total),
            C::RscReport {
                node,
                rsc_dfn,
                state,
            } => ops_rsc::report_rsc(self, ctx, &node, &rsc_dfn, state),
            C::RscBalance { rsc_dfn } => balance::balance_cmd(self, ctx, rsc_dfn.as_deref()),
        }
    }

    /// Validates a set of new properties for `level` (all-or-nothing).
    pub(crate) fn validate_props(
        &self,
        op: Op,
        obj: Obj,
        level: Level,
        props: &BTreeMap<String, String>,
    ) -> Res {
        for (k, v) in props {
            validate_user_prop(level, k, v, self.drbd_validator.as_deref()).map_err(|e| {
                fail(
                    op,
                    obj,
                    code::INVLD_PROP,
                    format!("Invalid property '{k}' = '{v}'"),
                )
                .cause(e.reason)
                .correction(e.correction)
            })?;
        }
        Ok(())
    }

    /// Validates a modify request; returns nothing, applies nothing.
    pub(crate) fn validate_modify(&self, obj: Obj, level: Level, m: &PropsModify) -> Res {
        self.validate_props(Op::Modify, obj, level, &m.override_props)?;
        for k in m.delete_props.iter().chain(&m.delete_namespaces) {
            if keys::RESERVED_NAMESPACES.iter().any(|ns| k.starts_with(ns)) {
                return Err(fail(
                    Op::Modify,
                    obj,
                    code::INVLD_PROP,
                    format!("Cannot delete '{k}'"),
                )
                .cause("The namespace is reserved for the system.")
                .correction("Delete only keys you set."));
            }
        }
        Ok(())
    }
}

/// Applies a validated modify request to `props`, including the quorum ownership marker for the
/// levels where LINSTOR keeps it (controller, resource group, resource definition).
pub(crate) fn apply_modify(props: &mut Props, m: &PropsModify, level: Level) {
    use crate::keys::{QUORUM, QUORUM_SET_BY as MARK};
    for k in &m.delete_props {
        props.remove(k);
    }
    for ns in &m.delete_namespaces {
        props.remove_namespace(ns);
    }
    for (k, v) in &m.override_props {
        props.set(k.clone(), v.clone());
    }
    if matches!(level, Level::Controller | Level::RscGrp | Level::RscDfn) {
        if m.override_props.contains_key(QUORUM) {
            props.set(MARK, "user");
        } else if props.get(QUORUM).is_none() {
            props.remove(MARK);
        }
    }
}

/// Applies new properties at creation (legacy rewrites done by the caller).
pub(crate) fn props_from(map: &BTreeMap<String, String>, level: Level) -> Props {
    let mut p = Props::new();
    apply_modify(
        &mut p,
        &PropsModify {
            override_props: map.clone(),
            ..Default::default()
        },
        level,
    );
    p
}

/// The validator every new cluster starts with: the built-in DRBD option whitelist.
fn default_drbd_validator() -> Arc<dyn DrbdOptionValidator> {
    Arc::new(crate::drbd_options::DrbdOptionsValidator::builtin())
}
