//! The objects of LINSTOR's model (desired state) and what satellites report (observed state).
//!
//! Desired state is what users asked for and the controller decided; it is what the database
//! persists. Observed state ([`Observed`]) is what satellites last reported (connection,
//! capabilities, pool capacity); it is kept in a separate type so that no decision can confuse a
//! report with an intent, and "unknown" (no report yet) is explicit (`None`).
//!
//! Nesting follows ownership: storage pools live in their node, volume groups in their resource
//! group, volume definitions, resources and snapshot definitions in their resource definition.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::name::{
    KvsName, NetIfName, NodeName, ResourceGroupName, ResourceName, SnapshotName, StorPoolName,
};
use crate::props::Props;
use crate::size::SizeKib;
use crate::vec_map::VecMap;

/// A UUID, generated from the caller's entropy (never from a global RNG).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// A version-4 UUID from 16 random bytes.
    pub fn from_random_bytes(mut b: [u8; 16]) -> Self {
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        Uuid(b)
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uuid({self})")
    }
}

impl std::str::FromStr for Uuid {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let hex: String = s.chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 {
            return Err(format!("'{s}' is not a UUID"));
        }
        let mut out = [0u8; 16];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                .map_err(|_| format!("'{s}' is not a UUID"))?;
        }
        Ok(Uuid(out))
    }
}

impl Serialize for Uuid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Uuid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

macro_rules! flags {
    ($(#[$doc:meta])* $ty:ident { $($(#[$fdoc:meta])* $name:ident = $val:expr),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $ty(pub u64);

        impl $ty {
            $($(#[$fdoc])* pub const $name: $ty = $ty($val);)*
            /// Every named flag.
            pub const ALL: &'static [(&'static str, $ty)] = &[$((stringify!($name), $ty::$name)),*];

            /// True if every bit of `f` is set.
            pub fn contains(self, f: $ty) -> bool {
                self.0 & f.0 == f.0
            }
            /// Sets the bits of `f`.
            pub fn insert(&mut self, f: $ty) {
                self.0 |= f.0;
            }
            /// Clears the bits of `f`.
            pub fn remove(&mut self, f: $ty) {
                self.0 &= !f.0;
            }
            /// Every named flag whose bits are all set, in declaration order, as LINSTOR's REST
            /// API lists them (a tiebreaker is `DISKLESS`, `DRBD_DISKLESS`, `TIE_BREAKER`).
            pub fn rest_names(self) -> Vec<&'static str> {
                Self::ALL
                    .iter()
                    .filter(|(_, f)| f.0 != 0 && self.contains(*f))
                    .map(|(n, _)| *n)
                    .collect()
            }
            /// The fewest names that cover the set flags (composite flags hide their parts).
            pub fn names(self) -> Vec<&'static str> {
                let mut out = Vec::new();
                let mut covered = 0u64;
                let mut all: Vec<_> = Self::ALL.iter().collect();
                all.sort_by_key(|(_, f)| std::cmp::Reverse(f.0.count_ones()));
                for (n, f) in all {
                    if self.contains(*f) && f.0 & !covered != 0 {
                        out.push(*n);
                        covered |= f.0;
                    }
                }
                out.sort_unstable();
                out
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{:?}", stringify!($ty), self.names())
            }
        }
    };
}

flags!(
    /// Node flags (bit values as LINSTOR's).
    NodeFlags {
        /// Being deleted.
        DELETE = 1,
        /// Evicted (implies DELETE in LINSTOR's encoding).
        EVICTED = 1 | 2,
        /// Being evacuated.
        EVACUATE = 4,
        /// Quorum is ignored for this node.
        QIGNORE = 0x10000,
    }
);

flags!(
    /// Resource definition flags.
    RscDfnFlags {
        /// Being deleted.
        DELETE = 1,
        /// Target of a snapshot restore.
        RESTORE_TARGET = 2,
        /// Being cloned.
        CLONING = 4,
        /// Failed.
        FAILED = 8,
    }
);

flags!(
    /// Volume definition flags.
    VlmDfnFlags {
        /// Being deleted.
        DELETE = 1,
        /// Encrypted.
        ENCRYPTED = 2,
        /// Being resized.
        RESIZE = 4,
        /// The size is the gross size.
        GROSS_SIZE = 8,
    }
);

flags!(
    /// Resource flags (bit values as LINSTOR's `Resource.Flags`).
    RscFlags {
        /// Clean.
        CLEAN = 1,
        /// Being deleted (intent recorded; the satellite confirms).
        DELETE = 2,
        /// No local storage.
        DISKLESS = 4,
        /// DRBD diskless peer.
        DRBD_DISKLESS = 4 | (1 << 8),
        /// Diskless quorum tiebreaker.
        TIE_BREAKER = 4 | (1 << 8) | (1 << 7),
        /// NVMe initiator.
        NVME_INITIATOR = 4 | (1 << 9),
        /// Not brought up.
        INACTIVE = 1 << 10,
        /// Evicted.
        EVICTED = (1 << 10) | (1 << 14),
        /// Was inactive before its eviction (restore leaves it inactive).
        INACTIVE_BEFORE_EVICTION = 1 << 15,
        /// Restored from a snapshot.
        RESTORE_FROM_SNAPSHOT = 1 << 16,
        /// Being evacuated.
        EVACUATE = 1 << 17,
        /// Made diskful by auto-diskful.
        AUTO_DISKFUL = 1 << 21,
    }
);

flags!(
    /// Volume group flags.
    VlmGrpFlags {
        /// Sizes are gross sizes.
        GROSS_SIZE = 1,
    }
);

flags!(
    /// Snapshot definition flags.
    SnapshotDfnFlags {
        /// Taken on every node.
        SUCCESSFUL = 1,
        /// Being deleted.
        DELETE = 8,
        /// Taken by the auto-snapshot task.
        AUTO_SNAPSHOT = 256,
    }
);

/// Node types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NodeType {
    /// Runs only the controller; no storage.
    Controller,
    /// A storage node.
    Satellite,
    /// Both.
    Combined,
    /// Not managed; no storage.
    Auxiliary,
}

impl NodeType {
    /// True if storage pools (other than diskless) may be created on it.
    pub fn has_storage(self) -> bool {
        matches!(self, NodeType::Satellite | NodeType::Combined)
    }

    /// Parses LINSTOR's names, case-insensitively.
    pub fn parse(s: &str) -> Option<NodeType> {
        Some(match s.to_ascii_lowercase().as_str() {
            "controller" => NodeType::Controller,
            "satellite" => NodeType::Satellite,
            "combined" => NodeType::Combined,
            "auxiliary" => NodeType::Auxiliary,
            _ => return None,
        })
    }
}

/// How the controller talks to a satellite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum EncryptionType {
    /// Plain TCP.
    #[default]
    Plain,
    /// TLS.
    Ssl,
}

/// A node's network interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetInterface {
    /// Name (`default` by convention).
    pub name: NetIfName,
    /// Address (IPv4 or IPv6).
    pub address: IpAddr,
    /// Satellite port, if the controller connects through this interface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satellite_port: Option<u16>,
    /// Encryption of the satellite connection.
    #[serde(default)]
    pub encryption: EncryptionType,
    /// Identity.
    pub uuid: Uuid,
}

/// Storage provider kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[allow(non_camel_case_types, reason = "LINSTOR's REST names")]
pub enum ProviderKind {
    /// No storage.
    DISKLESS,
    /// LVM thick.
    LVM,
    /// LVM thin.
    LVM_THIN,
    /// ZFS thick.
    ZFS,
    /// ZFS thin.
    ZFS_THIN,
    /// Preallocated file + loop.
    FILE,
    /// Sparse file + loop.
    FILE_THIN,
}

/// What a provider kind can do (LINSTOR's `DeviceProviderKind` matrix).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProviderCaps {
    /// Snapshots.
    pub snapshots: bool,
    /// A resource cannot be deleted while snapshots exist.
    pub snapshot_dependent: bool,
    /// Resize.
    pub resize: bool,
    /// Shrink.
    pub shrink: bool,
    /// Has a backing device.
    pub backing_device: bool,
    /// Thin provisioned.
    pub thin: bool,
    /// Its volumes can be the source or target of a resource-definition clone.
    pub clone: bool,
    /// Default over-subscription ratio.
    pub default_oversubscription: f64,
}

impl ProviderKind {
    /// Every kind.
    pub const ALL: [ProviderKind; 7] = [
        ProviderKind::DISKLESS,
        ProviderKind::LVM,
        ProviderKind::LVM_THIN,
        ProviderKind::ZFS,
        ProviderKind::ZFS_THIN,
        ProviderKind::FILE,
        ProviderKind::FILE_THIN,
    ];

    /// The capability matrix.
    pub fn caps(self) -> ProviderCaps {
        let (snapshots, snapshot_dependent, backing_device, thin) = match self {
            ProviderKind::DISKLESS => (false, false, false, true),
            ProviderKind::LVM => (false, false, true, false),
            ProviderKind::LVM_THIN => (true, false, true, true),
            ProviderKind::ZFS => (true, true, true, false),
            ProviderKind::ZFS_THIN => (true, true, true, true),
            ProviderKind::FILE => (true, false, true, false),
            ProviderKind::FILE_THIN => (true, false, true, true),
        };
        let default_oversubscription = match self {
            ProviderKind::DISKLESS => f64::INFINITY,
            _ if thin => 20.0,
            _ => 1.0,
        };
        ProviderCaps {
            snapshots,
            snapshot_dependent,
            resize: true,
            shrink: true,
            backing_device,
            thin,
            clone: !matches!(self, ProviderKind::FILE | ProviderKind::FILE_THIN),
            default_oversubscription,
        }
    }

    /// True for every kind except DISKLESS.
    pub fn is_diskful(self) -> bool {
        self.caps().backing_device
    }

    /// LINSTOR's `isMixingAllowed` for one pair: may `self` and `other` back replicas of one
    /// resource? `allow_lvm_zfs` is `AllowMixingStoragePoolDriver` and, for LINSTOR's DRBD
    /// condition, [`drbd_allows_mixing`] on both nodes.
    pub fn mixes_with(self, other: ProviderKind, allow_lvm_zfs: bool) -> bool {
        use ProviderKind::*;
        if self == other || self == DISKLESS || other == DISKLESS {
            return true;
        }
        match (self, other) {
            (FILE, FILE_THIN) | (FILE_THIN, FILE) => true,
            (FILE | FILE_THIN, _) | (_, FILE | FILE_THIN) => false,
            _ => allow_lvm_zfs,
        }
    }

    /// Parses the REST name.
    pub fn parse(s: &str) -> Option<ProviderKind> {
        ProviderKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }

    /// The REST name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::DISKLESS => "DISKLESS",
            ProviderKind::LVM => "LVM",
            ProviderKind::LVM_THIN => "LVM_THIN",
            ProviderKind::ZFS => "ZFS",
            ProviderKind::ZFS_THIN => "ZFS_THIN",
            ProviderKind::FILE => "FILE",
            ProviderKind::FILE_THIN => "FILE_THIN",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Layer kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LayerKind {
    /// DRBD replication.
    DRBD,
    /// LUKS encryption.
    LUKS,
    /// The storage provider.
    STORAGE,
    /// NVMe-oF.
    NVME,
    /// dm-writecache.
    WRITECACHE,
    /// dm-cache.
    CACHE,
    /// bcache.
    BCACHE,
}

impl LayerKind {
    /// The default stack.
    pub const DEFAULT_STACK: [LayerKind; 2] = [LayerKind::DRBD, LayerKind::STORAGE];

    /// Parses the REST name.
    pub fn parse(s: &str) -> Option<LayerKind> {
        Some(match s.to_ascii_uppercase().as_str() {
            "DRBD" => LayerKind::DRBD,
            "LUKS" => LayerKind::LUKS,
            "STORAGE" => LayerKind::STORAGE,
            "NVME" => LayerKind::NVME,
            "WRITECACHE" => LayerKind::WRITECACHE,
            "CACHE" => LayerKind::CACHE,
            "BCACHE" => LayerKind::BCACHE,
            _ => return None,
        })
    }
}

/// A resource definition's layer stack: up to 16 layers inline (no allocation).
pub type LayerStack = SmallVec<[LayerKind; 16]>;

/// A resource's DRBD TCP ports: up to 8 inline (no allocation).
pub type TcpPorts = SmallVec<[u16; 8]>;

/// Which diskless flavour autoplace creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(non_camel_case_types, reason = "LINSTOR's REST names")]
pub enum DisklessType {
    /// DRBD diskless.
    DRBD_DISKLESS,
    /// NVMe initiator.
    NVME_INITIATOR,
}

/// A node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Name.
    pub name: NodeName,
    /// Type.
    pub node_type: NodeType,
    /// Flags.
    pub flags: NodeFlags,
    /// Network interfaces.
    pub net_interfaces: VecMap<NetIfName, NetInterface>,
    /// Storage pools on this node (including `DfltDisklessStorPool`).
    pub storage_pools: VecMap<StorPoolName, StoragePool>,
    /// Properties.
    pub props: Props,
    /// Identity.
    pub uuid: Uuid,
}

/// A storage pool definition (cluster-wide props of every pool with that name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoragePoolDefinition {
    /// Name.
    pub name: StorPoolName,
    /// Properties.
    pub props: Props,
    /// Identity.
    pub uuid: Uuid,
}

/// A storage pool on one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoragePool {
    /// Node.
    pub node: NodeName,
    /// Name.
    pub name: StorPoolName,
    /// Provider kind.
    pub kind: ProviderKind,
    /// Shared-space name (default `<node>;<pool>`).
    pub free_space_mgr_name: String,
    /// Properties (`StorDriver/StorPoolName` for diskful kinds).
    pub props: Props,
    /// Identity.
    pub uuid: Uuid,
}

/// The autoplacer's select filter (REST `AutoSelectFilter`). `None` means "not set here".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelectFilter {
    /// Total diskful replicas wanted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_count: Option<u32>,
    /// Replicas to add regardless of existing ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_place_count: Option<u32>,
    /// Only these nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_name_list: Option<Vec<NodeName>>,
    /// Legacy single pool (folded into `storage_pool_list`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_pool: Option<StorPoolName>,
    /// Allowed pools.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_pool_list: Option<Vec<StorPoolName>>,
    /// Allowed pools for diskless placement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_pool_diskless_list: Option<Vec<StorPoolName>>,
    /// Avoid nodes that carry these resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_place_with_rsc: Option<Vec<ResourceName>>,
    /// Avoid nodes that carry resources matching this (case-insensitive) regex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_place_with_rsc_regex: Option<String>,
    /// Node property keys (`key` or `key=value`) all replicas share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas_on_same: Option<Vec<String>>,
    /// Node property keys (`key` or `key=value`) replicas spread over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas_on_different: Option<Vec<String>>,
    /// Max replicas per distinct value of a key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_replicas_on_different_map: Option<BTreeMap<String, u32>>,
    /// Layers every node must support.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_stack: Option<Vec<LayerKind>>,
    /// Allowed provider kinds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_list: Option<Vec<ProviderKind>>,
    /// Diskless peers on every other node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diskless_on_remaining: Option<bool>,
    /// Diskless flavour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diskless_type: Option<DisklessType>,
}

impl SelectFilter {
    /// LINSTOR's merge: field by field, `self` (the request) wins over `base` (the group).
    #[must_use]
    pub fn merged_over(&self, base: &SelectFilter) -> SelectFilter {
        fn pick<T: Clone>(a: &Option<T>, b: &Option<T>) -> Option<T> {
            a.clone().or_else(|| b.clone())
        }
        SelectFilter {
            place_count: pick(&self.place_count, &base.place_count),
            additional_place_count: pick(
                &self.additional_place_count,
                &base.additional_place_count,
            ),
            node_name_list: pick(&self.node_name_list, &base.node_name_list),
            storage_pool: pick(&self.storage_pool, &base.storage_pool),
            storage_pool_list: pick(&self.storage_pool_list, &base.storage_pool_list),
            storage_pool_diskless_list: pick(
                &self.storage_pool_diskless_list,
                &base.storage_pool_diskless_list,
            ),
            not_place_with_rsc: pick(&self.not_place_with_rsc, &base.not_place_with_rsc),
            not_place_with_rsc_regex: pick(
                &self.not_place_with_rsc_regex,
                &base.not_place_with_rsc_regex,
            ),
            replicas_on_same: pick(&self.replicas_on_same, &base.replicas_on_same),
            replicas_on_different: pick(&self.replicas_on_different, &base.replicas_on_different),
            x_replicas_on_different_map: pick(
                &self.x_replicas_on_different_map,
                &base.x_replicas_on_different_map,
            ),
            layer_stack: pick(&self.layer_stack, &base.layer_stack),
            provider_list: pick(&self.provider_list, &base.provider_list),
            diskless_on_remaining: pick(&self.diskless_on_remaining, &base.diskless_on_remaining),
            diskless_type: pick(&self.diskless_type, &base.diskless_type),
        }
    }

    /// The allowed diskful pool names, with the legacy single `storage_pool` folded in.
    pub fn pool_list(&self) -> Option<Vec<StorPoolName>> {
        match (&self.storage_pool_list, &self.storage_pool) {
            (Some(l), _) => Some(l.clone()),
            (None, Some(p)) => Some(vec![p.clone()]),
            (None, None) => None,
        }
    }
}

/// A resource group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceGroup {
    /// Name.
    pub name: ResourceGroupName,
    /// Free text.
    pub description: String,
    /// Properties.
    pub props: Props,
    /// Autoplacer defaults.
    pub select_filter: SelectFilter,
    /// DRBD peer slots for its resource definitions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_slots: Option<u8>,
    /// Volume groups by number.
    pub volume_groups: VecMap<u16, VolumeGroup>,
    /// Identity.
    pub uuid: Uuid,
}

/// A volume group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeGroup {
    /// Volume number.
    pub number: u16,
    /// Properties.
    pub props: Props,
    /// Flags.
    pub flags: VlmGrpFlags,
    /// Identity.
    pub uuid: Uuid,
}

/// DRBD data of a resource definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrbdRscDfnData {
    /// Shared secret (15 random bytes, base64; inline, no allocation).
    pub secret: CompactString,
    /// Peer slots.
    pub peer_slots: u8,
    /// Activity-log stripes.
    pub al_stripes: u32,
    /// Activity-log stripe size.
    pub al_stripe_size_kib: u32,
    /// Transport (`IP`).
    pub transport: CompactString,
}

/// A resource definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceDefinition {
    /// Name.
    pub name: ResourceName,
    /// Optional external name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_name: Option<String>,
    /// Its resource group.
    pub resource_group: ResourceGroupName,
    /// Properties.
    pub props: Props,
    /// Flags.
    pub flags: RscDfnFlags,
    /// Layer stack.
    pub layer_stack: LayerStack,
    /// DRBD data.
    pub drbd: DrbdRscDfnData,
    /// Volume definitions by number.
    pub volume_definitions: VecMap<u16, VolumeDefinition>,
    /// Resources by node.
    pub resources: VecMap<NodeName, Resource>,
    /// Snapshot definitions by name.
    pub snapshots: VecMap<SnapshotName, SnapshotDefinition>,
    /// Connections between two of its resources that carry properties, by the lesser node
    /// name, then the greater ([`Connections`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_connections: Connections,
    /// Identity.
    pub uuid: Uuid,
}

/// The properties of the connection between two nodes (LINSTOR's node connection), or between
/// two resources of one definition (a resource connection): DRBD `net` options and
/// `Paths/<path>/<node>` = net interface. A connection exists only while it has properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    /// The lesser node name (names compare case-insensitively).
    pub node_a: NodeName,
    /// The greater node name.
    pub node_b: NodeName,
    /// Properties.
    pub props: Props,
    /// Identity.
    pub uuid: Uuid,
}

/// Connections keyed by the lesser node name, then the greater: every pair once, in one order.
pub type Connections = BTreeMap<NodeName, BTreeMap<NodeName, Connection>>;

/// The pair `(a, b)` in the order connections are keyed by (lesser first).
pub fn conn_pair(a: NodeName, b: NodeName) -> (NodeName, NodeName) {
    if a <= b { (a, b) } else { (b, a) }
}

/// The connection of `a` and `b` (either order) in `conns`.
pub fn connection<'c>(
    conns: &'c Connections,
    a: &NodeName,
    b: &NodeName,
) -> Option<&'c Connection> {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    conns.get(lo).and_then(|m| m.get(hi))
}

/// Every connection in `conns`.
pub fn all_connections(conns: &Connections) -> impl Iterator<Item = &Connection> {
    conns.values().flat_map(BTreeMap::values)
}

/// Removes every connection of `node` from `conns` (its node or resource is gone); answers
/// the removed pairs, in key order.
pub fn remove_connections_of(
    conns: &mut Connections,
    node: &NodeName,
) -> Vec<(NodeName, NodeName)> {
    let mut gone = Vec::new();
    if let Some(m) = conns.remove(node) {
        gone.extend(m.into_keys().map(|b| (node.clone(), b)));
    }
    for (a, m) in conns.iter_mut() {
        if m.remove(node).is_some() {
            gone.push((a.clone(), node.clone()));
        }
    }
    conns.retain(|_, m| !m.is_empty());
    gone.sort();
    gone
}

impl ResourceDefinition {
    /// Sum of all volume sizes.
    pub fn total_size(&self) -> SizeKib {
        SizeKib(
            self.volume_definitions
                .values()
                .map(|v| v.size.0)
                .fold(0u64, u64::saturating_add),
        )
    }

    /// Resources that are not being deleted.
    pub fn live_resources(&self) -> impl Iterator<Item = &Resource> {
        self.resources
            .values()
            .filter(|r| !r.flags.contains(RscFlags::DELETE))
    }
}

/// A volume definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeDefinition {
    /// Volume number.
    pub number: u16,
    /// Net size.
    pub size: SizeKib,
    /// DRBD minor.
    pub minor: u32,
    /// Properties.
    pub props: Props,
    /// Flags.
    pub flags: VlmDfnFlags,
    /// Identity.
    pub uuid: Uuid,
}

/// A resource: a resource definition deployed on one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// Node.
    pub node: NodeName,
    /// Flags.
    pub flags: RscFlags,
    /// DRBD node id (0–31), unique within the resource definition.
    pub node_id: u8,
    /// DRBD TCP ports on this node (allocated per node).
    pub tcp_ports: TcpPorts,
    /// DRBD client (non-voting diskless).
    #[serde(default)]
    pub drbd_client: bool,
    /// Volumes by number.
    pub volumes: VecMap<u16, Volume>,
    /// Properties.
    pub props: Props,
    /// Creation time (ms since the epoch, from the caller's clock).
    pub create_timestamp: i64,
    /// Identity.
    pub uuid: Uuid,
}

impl Resource {
    /// True if it has no local storage.
    pub fn is_diskless(&self) -> bool {
        self.flags.contains(RscFlags::DISKLESS)
    }

    /// True if it is being deleted.
    pub fn is_deleting(&self) -> bool {
        self.flags.contains(RscFlags::DELETE)
    }
}

/// A volume of a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    /// Volume number.
    pub number: u16,
    /// Its storage pool on the resource's node.
    pub storage_pool: StorPoolName,
    /// Properties.
    pub props: Props,
    /// Identity.
    pub uuid: Uuid,
}

/// A snapshot definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotDefinition {
    /// Name.
    pub name: SnapshotName,
    /// Properties.
    pub props: Props,
    /// Flags.
    pub flags: SnapshotDfnFlags,
    /// Volume sizes at snapshot time.
    pub volume_sizes: VecMap<u16, SizeKib>,
    /// Per-node snapshots.
    pub snapshots: VecMap<NodeName, Snapshot>,
    /// Identity.
    pub uuid: Uuid,
}

/// A snapshot on one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Node.
    pub node: NodeName,
    /// Pool per volume number.
    pub volume_pools: VecMap<u16, StorPoolName>,
    /// Creation time (ms).
    pub create_timestamp: i64,
}

/// A key-value store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyValueStore {
    /// Name.
    pub name: KvsName,
    /// Free-form properties.
    pub props: Props,
}

/// Connection states LINSTOR reports for a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[allow(non_camel_case_types, reason = "LINSTOR's REST names")]
pub enum ConnectionStatus {
    /// Not connected.
    #[default]
    OFFLINE,
    /// TCP connected.
    CONNECTED,
    /// Authenticated and full-synced.
    ONLINE,
    /// Version differs.
    VERSION_MISMATCH,
    /// The full sync failed.
    FULL_SYNC_FAILED,
    /// Unknown.
    UNKNOWN,
}

/// True if a node running DRBD `v` may hold replicas whose LVM/ZFS kinds differ (LINSTOR:
/// 9.1.18 ≤ v < 9.2.0, or v ≥ 9.2.7). An unreported version does not qualify.
pub fn drbd_allows_mixing(v: Option<(u16, u16, u16)>) -> bool {
    v.is_some_and(|v| ((9, 1, 18)..(9, 2, 0)).contains(&v) || v >= (9, 2, 7))
}

/// What a satellite reported it can do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// Providers that work.
    pub storage_providers: Vec<ProviderKind>,
    /// Layers that work.
    pub resource_layers: Vec<LayerKind>,
    /// Providers that do not, with reasons.
    pub unsupported_providers: BTreeMap<ProviderKind, Vec<String>>,
    /// Layers that do not, with reasons.
    pub unsupported_layers: BTreeMap<LayerKind, Vec<String>>,
    /// DRBD kernel module version, if loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drbd_version: Option<(u16, u16, u16)>,
}

/// Reported capacity of one pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolCapacity {
    /// Free space.
    pub free: SizeKib,
    /// Total capacity.
    pub total: SizeKib,
}

/// What one node last reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeObserved {
    /// Connection status.
    pub connection: ConnectionStatus,
    /// Capabilities; `None` until the first report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
    /// Capacity per pool; a missing pool means "unknown".
    pub pools: VecMap<StorPoolName, PoolCapacity>,
    /// DRBD state of this node's resources; a missing resource means "not reported yet".
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resources: BTreeMap<ResourceName, RscObserved>,
    /// Snapshots the satellite has taken completely (every volume).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub snapshots: BTreeSet<(ResourceName, SnapshotName)>,
}

/// What a satellite reported of one of its resources (from DRBD's `events2`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RscObserved {
    /// The resource is Primary (a volume is open): it must not be removed.
    pub in_use: bool,
    /// Every local volume is UpToDate (a diskless resource: its data is reachable).
    pub up_to_date: bool,
    /// Every connection is up and every peer device Established (no resync running).
    pub established: bool,
    /// Per local volume, as reported (empty until the satellite reports volumes).
    #[serde(default, skip_serializing_if = "VecMap::is_empty")]
    pub volumes: VecMap<u16, VlmObserved>,
    /// DRBD's status in one line (`UpToDate`, `SyncTarget 42.00% from beta`), if it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// DRBD's quorum flag (`quorum:` of its devices), if reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum: Option<bool>,
    /// Per peer (node name): its connection state as DRBD names it (`Connected`,
    /// `Connecting`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub connections: BTreeMap<String, String>,
    /// Actions on it that failed and wait for a retry, one line each (what, the command, its
    /// exit code and stderr).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// What a satellite reported of one local volume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VlmObserved {
    /// Disk state as DRBD names it (`UpToDate`, `Inconsistent`, `Diskless`, `DUnknown`).
    pub disk_state: String,
    /// The device users open (`/dev/drbd1000`; the backing device without DRBD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_path: Option<String>,
    /// The backing device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backing_device: Option<String>,
    /// Usable KiB of the backing volume.
    pub usable_kib: u64,
    /// Allocated KiB (thin volumes), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocated_kib: Option<u64>,
    /// Resyncs in progress, per peer (DRBD's connection name): the replication state and how
    /// much is done.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub replication: BTreeMap<String, ReplicationObserved>,
}

/// One peer's replication of a volume while it resyncs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicationObserved {
    /// DRBD's replication state (`SyncTarget`, `SyncSource`, `PausedSyncT`…).
    pub state: String,
    /// Done, in hundredths of a percent (4217 = 42.17 %), when DRBD says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_hundredths: Option<u16>,
}

/// Observed state of the whole cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    /// Per node.
    pub nodes: BTreeMap<NodeName, NodeObserved>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_roundtrip_and_version_bits() {
        let u = Uuid::from_random_bytes([0xff; 16]);
        let s = u.to_string();
        assert_eq!(s, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(s.parse::<Uuid>().unwrap(), u);
        assert!("xyz".parse::<Uuid>().is_err());
    }

    #[test]
    fn flag_names_hide_parts_of_composites() {
        assert_eq!(RscFlags::TIE_BREAKER.names(), vec!["TIE_BREAKER"]);
        let mut f = RscFlags::DRBD_DISKLESS;
        f.insert(RscFlags::DELETE);
        assert_eq!(f.names(), vec!["DELETE", "DRBD_DISKLESS"]);
        assert!(RscFlags::TIE_BREAKER.contains(RscFlags::DISKLESS));
    }

    #[test]
    fn mixing_table() {
        use ProviderKind::*;
        let check = |a: ProviderKind, b: ProviderKind, allow: bool, expect: bool| {
            assert_eq!(a.mixes_with(b, allow), expect, "{a} {b} {allow}");
            assert_eq!(b.mixes_with(a, allow), expect, "{b} {a} {allow}");
        };
        check(LVM, LVM, false, true);
        check(LVM, DISKLESS, false, true);
        check(FILE, FILE_THIN, false, true);
        check(FILE, LVM, true, false);
        check(LVM, ZFS, false, false);
        check(LVM, ZFS, true, true);
        check(LVM_THIN, ZFS_THIN, true, true);
    }

    #[test]
    fn filter_merge_request_wins() {
        let rg = SelectFilter {
            place_count: Some(2),
            replicas_on_different: Some(vec!["Aux/zone".into()]),
            ..Default::default()
        };
        let req = SelectFilter {
            place_count: Some(3),
            ..Default::default()
        };
        let m = req.merged_over(&rg);
        assert_eq!(m.place_count, Some(3));
        assert_eq!(m.replicas_on_different, Some(vec!["Aux/zone".to_string()]));
    }
}
