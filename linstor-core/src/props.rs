//! Properties: namespaced string maps on every object, their validation, and priority chains.
//!
//! Keys are `/`-separated namespaces (`DrbdOptions/Net/protocol`, `Aux/zone`). A write is checked
//! against the whitelist of documented keys ([`KEYS`]) with their types and the object levels where
//! they may be set. `Aux/*` is free-form. `DrbdOptions/{Resource,Net,Disk,PeerDevice,Handlers}/*`
//! is delegated to a [`DrbdOptionValidator`] (installed by the DRBD crate). `Internal/*` and
//! `Satellite/*` are written only by the system.
//!
//! Reads go through a [`PriorityProps`]: an ordered list of containers where the first one that
//! has a key wins. The chains per consumer are built in one place, `crate::chains`.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Bound;

use compact_str::CompactString;

use serde::{Deserialize, Serialize};

use crate::keys;
use crate::vec_map::VecMap;

/// A flat `key → value` map.
///
/// Stored compactly, for it sits on every object: one sorted vector of pairs (no allocation
/// while empty); keys and values of up to 24 bytes are stored inline, and the longer well-known
/// keys ([`KEYS`], [`keys::WELL_KNOWN`]) as references to their constants, so a typical map costs
/// one allocation. Serialized as a JSON object in key order, exactly as a `BTreeMap`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Props(VecMap<CompactString, CompactString>);

/// The stored form of a key: inline if short, a reference to the constant if well known.
fn key_text(key: &str) -> CompactString {
    if key.len() > MAX_INLINE {
        let known = KEYS
            .iter()
            .map(|k| k.key)
            .chain(keys::WELL_KNOWN.iter().copied());
        for k in known {
            if k == key {
                return CompactString::const_new(k);
            }
        }
    }
    CompactString::new(key)
}

/// Longest string `CompactString` stores inline.
const MAX_INLINE: usize = std::mem::size_of::<CompactString>();

impl Props {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(CompactString::as_str)
    }

    /// True if `key` is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Sets `key`; returns the old value.
    pub fn set(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> Option<String> {
        let (key, value) = (key.as_ref(), CompactString::new(value.as_ref()));
        if let Some(v) = self.0.get_mut(key) {
            return Some(std::mem::replace(v, value).into_string());
        }
        self.0.insert(key_text(key), value);
        None
    }

    /// Removes `key`; returns the old value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.0.remove(key).map(CompactString::into_string)
    }

    /// Removes every key in `namespace` (`ns/…`); returns how many were removed.
    pub fn remove_namespace(&mut self, namespace: &str) -> usize {
        let prefix = format!("{}/", namespace.trim_end_matches('/'));
        let before = self.0.len();
        self.0.retain(|k, _| !k.starts_with(&prefix));
        before - self.0.len()
    }

    /// Iterates over `(key, value)`, in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, &str)> + ExactSizeIterator {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator {
        self.0.keys().map(CompactString::as_str)
    }

    /// Iterates over the keys in `namespace` with the namespace stripped.
    pub fn namespace<'a>(&'a self, namespace: &str) -> impl Iterator<Item = (&'a str, &'a str)> {
        let prefix = format!("{}/", namespace.trim_end_matches('/'));
        let len = prefix.len();
        let hits: Vec<(&'a str, &'a str)> = self
            .0
            .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, v)| (&k[len..], v.as_str()))
            .collect();
        hits.into_iter()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Keeps the keys for which `f` is true.
    pub fn retain(&mut self, mut f: impl FnMut(&str, &str) -> bool) {
        self.0.retain(|k, v| f(k, v));
    }

    /// A copy as a `BTreeMap` (for APIs that take one).
    pub fn to_btree(&self) -> BTreeMap<String, String> {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for Props {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Props(
            iter.into_iter()
                .map(|(k, v)| (key_text(k.as_ref()), CompactString::new(v.as_ref())))
                .collect(),
        )
    }
}

impl<'de> Deserialize<'de> for Props {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// A key, stored through [`key_text`].
        #[derive(PartialEq, Eq, PartialOrd, Ord)]
        struct Key(CompactString);

        impl<'de> Deserialize<'de> for Key {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = Key;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key, E> {
                        Ok(Key(key_text(v)))
                    }
                }
                d.deserialize_str(V)
            }
        }

        // Sorted already; the pairs are moved in place.
        let m = VecMap::<Key, CompactString>::deserialize(d)?;
        Ok(Props(m.into_iter().map(|(k, v)| (k.0, v)).collect()))
    }
}

/// The REST modify shape used for every object: `{override_props, delete_props, delete_namespaces}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PropsModify {
    /// Keys to set.
    #[serde(default)]
    pub override_props: BTreeMap<String, String>,
    /// Keys to remove.
    #[serde(default)]
    pub delete_props: Vec<String>,
    /// Namespaces to remove.
    #[serde(default)]
    pub delete_namespaces: Vec<String>,
}

impl PropsModify {
    /// Only sets.
    pub fn set<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        PropsModify {
            override_props: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            ..Default::default()
        }
    }

    /// True if it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.override_props.is_empty()
            && self.delete_props.is_empty()
            && self.delete_namespaces.is_empty()
    }
}

/// Where a property lives; also the names used in chains and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    /// Controller ("C"; the satellite-visible controller props).
    Controller,
    /// Node.
    Node,
    /// Storage pool definition.
    StorPoolDfn,
    /// Storage pool.
    StorPool,
    /// Resource group.
    RscGrp,
    /// Volume group.
    VlmGrp,
    /// Resource definition.
    RscDfn,
    /// Volume definition.
    VlmDfn,
    /// Resource.
    Rsc,
    /// Volume.
    Vlm,
    /// Node connection.
    NodeConn,
    /// Resource connection.
    RscConn,
    /// Snapshot definition.
    SnapshotDfn,
    /// Key-value store (free-form).
    Kvs,
}

impl Level {
    /// Short label as used in `.res` comments ("RG", "RD", …).
    pub fn short(self) -> &'static str {
        match self {
            Level::Controller => "C",
            Level::Node => "N",
            Level::StorPoolDfn => "SPD",
            Level::StorPool => "SP",
            Level::RscGrp => "RG",
            Level::VlmGrp => "VG",
            Level::RscDfn => "RD",
            Level::VlmDfn => "VD",
            Level::Rsc => "R",
            Level::Vlm => "V",
            Level::NodeConn => "NC",
            Level::RscConn => "RC",
            Level::SnapshotDfn => "SD",
            Level::Kvs => "KVS",
        }
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Level::Controller => "controller",
            Level::Node => "node",
            Level::StorPoolDfn => "storage pool definition",
            Level::StorPool => "storage pool",
            Level::RscGrp => "resource group",
            Level::VlmGrp => "volume group",
            Level::RscDfn => "resource definition",
            Level::VlmDfn => "volume definition",
            Level::Rsc => "resource",
            Level::Vlm => "volume",
            Level::NodeConn => "node connection",
            Level::RscConn => "resource connection",
            Level::SnapshotDfn => "snapshot definition",
            Level::Kvs => "key-value store",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The type of a documented key's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PropType {
    /// `true` / `false` (any case), also `yes`/`no` as LINSTOR's boolean parser takes.
    Boolean,
    /// A signed 64-bit integer.
    Long,
    /// An integer in `[min, max]`.
    Range(i64, i64),
    /// A float in `[min, max]`.
    RangeFloat(f64, f64),
    /// One of these words (case-insensitive).
    Symbol(&'static [&'static str]),
    /// `A-B` with `A ≤ B` in `[min, max]`.
    NumberRange(i64, i64),
    /// A percentage (`10%`) or a size (`50GB`, `1T`, bare KiB).
    PercentOrSize,
    /// A storage pool name.
    StorPoolName,
    /// Any string.
    String,
}

/// One documented key.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    /// The full key.
    pub key: &'static str,
    /// Its value type.
    pub ty: PropType,
    /// Where it may be set.
    pub levels: &'static [Level],
    /// One line of help.
    pub help: &'static str,
}

use Level as L;
const C: &[Level] = &[L::Controller];
const C_N: &[Level] = &[L::Controller, L::Node];
const C_RD: &[Level] = &[L::Controller, L::RscDfn, L::RscGrp];
const C_SPD_SP: &[Level] = &[L::Controller, L::StorPoolDfn, L::StorPool];
const C_N_SP: &[Level] = &[L::Controller, L::Node, L::StorPool];
const STOR_POOL_NAME_LEVELS: &[Level] = &[
    L::Node,
    L::RscGrp,
    L::RscDfn,
    L::Rsc,
    L::VlmGrp,
    L::VlmDfn,
    L::Vlm,
];
const STOR_DRIVER_OPTS: &[Level] = &[
    L::Controller,
    L::Node,
    L::StorPoolDfn,
    L::StorPool,
    L::RscGrp,
    L::RscDfn,
    L::VlmGrp,
    L::VlmDfn,
    L::Rsc,
    L::Vlm,
];
const MIN_THIN: &[Level] = &[L::Controller, L::Node, L::StorPool, L::RscGrp, L::RscDfn];
const FS_LEVELS: &[Level] = &[L::RscGrp, L::RscDfn, L::Rsc, L::VlmGrp, L::VlmDfn];
const NETIF_LEVELS: &[Level] = &[
    L::Controller,
    L::Node,
    L::StorPool,
    L::RscGrp,
    L::RscDfn,
    L::Rsc,
];
const SKIP_DISK: &[Level] = &[
    L::Controller,
    L::Node,
    L::StorPool,
    L::RscGrp,
    L::RscDfn,
    L::Rsc,
];
const ANY_DRBD: &[Level] = &[
    L::Controller,
    L::Node,
    L::RscGrp,
    L::RscDfn,
    L::Rsc,
    L::VlmGrp,
    L::VlmDfn,
    L::Vlm,
    L::NodeConn,
    L::RscConn,
    L::StorPool,
];
const BOOL_TF: PropType = PropType::Boolean;

/// The documented keys (a subset of LINSTOR's `properties.json` that this implementation reads,
/// plus the ones clients commonly set). DRBD options come from the DRBD crate's whitelist.
pub const KEYS: &[KeySpec] = &[
    KeySpec {
        key: "StorPoolName",
        ty: PropType::StorPoolName,
        levels: STOR_POOL_NAME_LEVELS,
        help: "storage pool for diskful volumes",
    },
    KeySpec {
        key: "StorPoolNameDrbdMeta",
        ty: PropType::String,
        levels: STOR_POOL_NAME_LEVELS,
        help: "storage pool for external DRBD metadata ('.internal' for internal)",
    },
    KeySpec {
        key: "StorDriver/StorPoolName",
        ty: PropType::String,
        levels: &[L::StorPool],
        help: "backing pool: vg, vg/thinpool, zpool[/dataset] or directory",
    },
    KeySpec {
        key: "StorDriver/LvcreateType",
        ty: PropType::Symbol(&[
            "linear", "striped", "mirror", "raid0", "raid1", "raid4", "raid5", "raid6", "raid10",
        ]),
        levels: STOR_DRIVER_OPTS,
        help: "lvcreate --type",
    },
    KeySpec {
        key: "StorDriver/LvcreateOptions",
        ty: PropType::String,
        levels: STOR_DRIVER_OPTS,
        help: "extra lvcreate arguments",
    },
    KeySpec {
        key: "StorDriver/LvcreateSnapshotOptions",
        ty: PropType::String,
        levels: STOR_DRIVER_OPTS,
        help: "extra lvcreate arguments for snapshots",
    },
    KeySpec {
        key: "StorDriver/LvcreatePvSelection",
        ty: PropType::String,
        levels: STOR_DRIVER_OPTS,
        help: "pvdisplay arguments that select PVs",
    },
    KeySpec {
        key: "StorDriver/ZfscreateOptions",
        ty: PropType::String,
        levels: STOR_DRIVER_OPTS,
        help: "extra zfs create arguments",
    },
    KeySpec {
        key: "StorDriver/ZfsSnapshotOptions",
        ty: PropType::String,
        levels: STOR_DRIVER_OPTS,
        help: "extra zfs snapshot arguments",
    },
    KeySpec {
        key: "StorDriver/SizesCacheTime",
        ty: PropType::Range(0, 86_400_000),
        levels: C_N,
        help: "lvs/vgs cache time in ms",
    },
    KeySpec {
        key: "StorDriver/WaitTimeoutAfterCreate",
        ty: PropType::Range(0, 3_600_000),
        levels: STOR_DRIVER_OPTS,
        help: "ms to wait for a new device node",
    },
    KeySpec {
        key: "PeerSlotsNewResource",
        ty: PropType::Range(1, 31),
        levels: C_RD,
        help: "DRBD peer slots for new resources",
    },
    KeySpec {
        key: "TcpPortAutoRange",
        ty: PropType::NumberRange(1, 65535),
        levels: C_N,
        help: "DRBD TCP port range, e.g. 7000-7999",
    },
    KeySpec {
        key: "MinorNrAutoRange",
        ty: PropType::NumberRange(0, (1 << 20) - 1),
        levels: C,
        help: "DRBD minor range, e.g. 1000-49999",
    },
    KeySpec {
        key: "MaxOversubscriptionRatio",
        ty: PropType::RangeFloat(0.0, 1e12),
        levels: C_SPD_SP,
        help: "thin over-provisioning ratio",
    },
    KeySpec {
        key: "MaxFreeCapacityOversubscriptionRatio",
        ty: PropType::RangeFloat(0.0, 1e12),
        levels: C_SPD_SP,
        help: "multiplier of free space",
    },
    KeySpec {
        key: "MaxTotalCapacityOversubscriptionRatio",
        ty: PropType::RangeFloat(0.0, 1e12),
        levels: C_SPD_SP,
        help: "multiplier of total capacity",
    },
    KeySpec {
        key: "Autoplacer/Weights/MaxFreeSpace",
        ty: PropType::RangeFloat(-1e6, 1e6),
        levels: C,
        help: "autoplacer weight",
    },
    KeySpec {
        key: "Autoplacer/Weights/MinReservedSpace",
        ty: PropType::RangeFloat(-1e6, 1e6),
        levels: C,
        help: "autoplacer weight",
    },
    KeySpec {
        key: "Autoplacer/Weights/MinRscCount",
        ty: PropType::RangeFloat(-1e6, 1e6),
        levels: C,
        help: "autoplacer weight",
    },
    KeySpec {
        key: "Autoplacer/Weights/MaxThroughput",
        ty: PropType::RangeFloat(-1e6, 1e6),
        levels: C,
        help: "autoplacer weight",
    },
    KeySpec {
        key: "Autoplacer/Weights/BalancedFill",
        ty: PropType::RangeFloat(-1e6, 1e6),
        levels: C,
        help: "weight of our relative-fill strategy",
    },
    KeySpec {
        key: "Autoplacer/Strategy",
        ty: PropType::Symbol(&["linstor", "balanced"]),
        levels: C,
        help: "scoring: LINSTOR's weights or our balanced default",
    },
    KeySpec {
        key: "Autoplacer/MinThinFreeSpace",
        ty: PropType::PercentOrSize,
        levels: MIN_THIN,
        help: "thin pools below this free space are skipped (default 10%)",
    },
    KeySpec {
        key: "Autoplacer/MaxThroughput",
        ty: PropType::Long,
        levels: &[L::StorPool],
        help: "pool throughput budget",
    },
    KeySpec {
        key: "AutoplaceTarget",
        ty: BOOL_TF,
        levels: C_N_SP,
        help: "false excludes this node or pool from the autoplacer",
    },
    KeySpec {
        key: "AllowMixingStoragePoolDriver",
        ty: BOOL_TF,
        levels: C_RD,
        help: "allow LVM/ZFS mixing in one resource",
    },
    KeySpec {
        key: "Site",
        ty: PropType::String,
        levels: C_N,
        help: "site name (DRBD proxy)",
    },
    KeySpec {
        key: "PrefNic",
        ty: PropType::String,
        levels: NETIF_LEVELS,
        help: "net interface DRBD uses",
    },
    KeySpec {
        key: "Linstor/Drbd/OutsideAddress",
        ty: PropType::String,
        levels: NETIF_LEVELS,
        help: "address DRBD peers use",
    },
    KeySpec {
        key: "Linstor/Drbd/InitialUptoDateOn",
        ty: PropType::String,
        levels: &[L::VlmDfn],
        help: "node that starts UpToDate",
    },
    KeySpec {
        key: "DrbdCurrentGi",
        ty: PropType::String,
        levels: &[L::VlmDfn],
        help: "day-0 DRBD generation id (16 hex digits)",
    },
    KeySpec {
        key: "DrbdOptions/auto-add-quorum-tiebreaker",
        ty: BOOL_TF,
        levels: C_RD,
        help: "add a diskless tiebreaker when needed",
    },
    KeySpec {
        key: "DrbdOptions/auto-quorum",
        ty: PropType::Symbol(&["io-error", "suspend-io", "disabled"]),
        levels: C_RD,
        help: "deprecated; use DrbdOptions/Resource/quorum",
    },
    KeySpec {
        key: "DrbdOptions/AutoEvictAfterTime",
        ty: PropType::Range(0, 1 << 31),
        levels: C_N,
        help: "minutes offline before eviction",
    },
    KeySpec {
        key: "DrbdOptions/AutoEvictMaxDisconnectedNodes",
        ty: PropType::Range(0, 100),
        levels: C,
        help: "percent of nodes that may be evicted",
    },
    KeySpec {
        key: "DrbdOptions/AutoEvictMinReplicaCount",
        ty: PropType::Range(1, 32),
        levels: C_RD,
        help: "replicas to restore after eviction",
    },
    KeySpec {
        key: "DrbdOptions/AutoEvictAllowEviction",
        ty: BOOL_TF,
        levels: C_N,
        help: "allow eviction",
    },
    KeySpec {
        key: "DrbdOptions/auto-diskful",
        ty: PropType::Range(0, 1 << 31),
        levels: &[L::Controller, L::RscGrp, L::RscDfn, L::Node, L::Rsc],
        help: "minutes primary-diskless before going diskful",
    },
    KeySpec {
        key: "DrbdOptions/auto-diskful-allow-cleanup",
        ty: BOOL_TF,
        levels: &[L::Controller, L::RscGrp, L::RscDfn, L::Node, L::Rsc],
        help: "delete an excess replica afterwards",
    },
    KeySpec {
        key: "DrbdOptions/SkipDisk",
        ty: BOOL_TF,
        levels: SKIP_DISK,
        help: "keep the resource diskless (drbdadm --skip-disk)",
    },
    KeySpec {
        key: "DrbdOptions/ForceInitialSync",
        ty: BOOL_TF,
        levels: C_RD,
        help: "full initial sync even when thin",
    },
    KeySpec {
        key: "DrbdOptions/ExactSize",
        ty: BOOL_TF,
        levels: &[L::RscDfn, L::RscGrp],
        help: "write the exact size into the .res",
    },
    KeySpec {
        key: "DrbdOptions/auto-verify-algo-disable",
        ty: BOOL_TF,
        levels: C_RD,
        help: "do not pick a verify algorithm",
    },
    KeySpec {
        key: "DrbdOptions/auto-rs-discard-granularity",
        ty: BOOL_TF,
        levels: ANY_DRBD,
        help: "manage rs-discard-granularity",
    },
    KeySpec {
        key: "FileSystem/Type",
        ty: PropType::Symbol(&["ext4", "xfs"]),
        levels: FS_LEVELS,
        help: "mkfs after the first UpToDate",
    },
    KeySpec {
        key: "FileSystem/MkfsParams",
        ty: PropType::String,
        levels: FS_LEVELS,
        help: "extra mkfs arguments",
    },
    KeySpec {
        key: "FileSystem/User",
        ty: PropType::String,
        levels: FS_LEVELS,
        help: "owner of the new filesystem's root",
    },
    KeySpec {
        key: "FileSystem/Group",
        ty: PropType::String,
        levels: FS_LEVELS,
        help: "group of the new filesystem's root",
    },
    KeySpec {
        key: "UseZFSClone",
        ty: BOOL_TF,
        levels: &[L::Controller, L::RscGrp],
        help: "clones of ZFS volumes use zfs clone (they then depend on the source) instead of send/receive",
    },
    KeySpec {
        key: "BalanceResourcesEnabled",
        ty: BOOL_TF,
        levels: C_RD,
        help: "balance task on/off",
    },
    KeySpec {
        key: "BalanceResourcesInterval",
        ty: PropType::Range(1, 1 << 31),
        levels: C,
        help: "seconds",
    },
    KeySpec {
        key: "BalanceResourcesGracePeriod",
        ty: PropType::Range(0, 1 << 31),
        levels: C_RD,
        help: "seconds",
    },
    KeySpec {
        key: "UpdateCacheInterval",
        ty: PropType::Range(1, 1 << 31),
        levels: C,
        help: "seconds between space refreshes",
    },
    KeySpec {
        key: "NodeUname",
        ty: PropType::String,
        levels: &[L::Node],
        help: "the node's uname (for on \"…\")",
    },
    KeySpec {
        key: "CurStltConnName",
        ty: PropType::String,
        levels: &[L::Node],
        help: "net interface the controller uses",
    },
];

/// Looks up a documented key.
pub fn key_spec(key: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.key == key)
}

/// Validates `DrbdOptions/{Resource,Net,Disk,PeerDevice,Handlers}/<option>` values.
/// Installed by the DRBD crate, which knows every option from `drbdsetup xml-help`.
pub trait DrbdOptionValidator: Send + Sync + fmt::Debug {
    /// `section` is one of `Resource`, `Net`, `Disk`, `PeerDevice`, `Handlers`; `option` is the
    /// drbdsetup option name. `Err(message)` says what is allowed.
    fn validate(&self, section: &str, option: &str, value: &str) -> Result<(), String>;
}

/// DRBD option sections under `DrbdOptions/`.
pub const DRBD_SECTIONS: &[&str] = &["Resource", "Net", "Disk", "PeerDevice", "Handlers"];

/// Legacy storage pool keys that are rewritten to `StorDriver/StorPoolName`.
pub const LEGACY_POOL_KEYS: &[&str] = &[
    keys::STOR_DRIVER_LVM_VG,
    keys::STOR_DRIVER_THIN_POOL,
    keys::STOR_DRIVER_ZPOOL,
    keys::STOR_DRIVER_ZPOOL_THIN,
    keys::STOR_DRIVER_FILE_DIR,
];

/// Why a property write was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct PropError {
    /// The key.
    pub key: String,
    /// The value (None for deletes).
    pub value: Option<String>,
    /// What is wrong.
    pub reason: String,
    /// How to fix it.
    pub correction: String,
}

const MAX_KEY_LEN: usize = 256;
const MAX_VALUE_LEN: usize = 4096;

fn key_syntax(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(format!(
            "a property key must be 1 to {MAX_KEY_LEN} bytes long"
        ));
    }
    if key.split('/').any(str::is_empty) {
        return Err(
            "a property key must not have empty namespace parts ('//', leading or trailing '/')"
                .into(),
        );
    }
    if let Some(c) = key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_-.:@+=".contains(*c) || *c == '/'))
    {
        return Err(format!("character {c:?} is not allowed in a property key"));
    }
    Ok(())
}

fn value_syntax(value: &str) -> Result<(), String> {
    if value.len() > MAX_VALUE_LEN {
        return Err(format!(
            "a property value may have at most {MAX_VALUE_LEN} bytes"
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(format!(
            "control character {c:?} is not allowed in a property value"
        ));
    }
    Ok(())
}

/// Parses LINSTOR booleans.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" => Some(true),
        "false" | "no" => Some(false),
        _ => None,
    }
}

/// Parses `A-B`.
pub fn parse_number_range(v: &str) -> Option<(i64, i64)> {
    let (a, b) = v.split_once('-')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

fn check_type(ty: PropType, v: &str) -> Result<(), String> {
    match ty {
        PropType::Boolean => parse_bool(v)
            .map(drop)
            .ok_or_else(|| "must be 'true' or 'false'".into()),
        PropType::Long => v
            .parse::<i64>()
            .map(drop)
            .map_err(|_| "must be an integer".into()),
        PropType::Range(min, max) => match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(()),
            _ => Err(format!("must be an integer from {min} to {max}")),
        },
        PropType::RangeFloat(min, max) => match v.parse::<f64>() {
            Ok(n) if n.is_finite() && n >= min && n <= max => Ok(()),
            _ => Err(format!("must be a number from {min} to {max}")),
        },
        PropType::Symbol(words) => {
            if words.iter().any(|w| w.eq_ignore_ascii_case(v)) {
                Ok(())
            } else {
                Err(format!("must be one of: {}", words.join(", ")))
            }
        }
        PropType::NumberRange(min, max) => match parse_number_range(v) {
            Some((a, b)) if a <= b && a >= min && b <= max => Ok(()),
            _ => Err(format!(
                "must be a range 'A-B' with {min} <= A <= B <= {max}"
            )),
        },
        PropType::PercentOrSize => {
            if let Some(p) = v.strip_suffix('%') {
                match p.trim().parse::<f64>() {
                    Ok(x) if (0.0..=100.0).contains(&x) => Ok(()),
                    _ => Err("must be a percentage from 0% to 100% or a size like 50GB".into()),
                }
            } else {
                crate::size::SizeKib::parse_with_default(v, crate::size::Unit::KiB)
                    .map(drop)
                    .map_err(|e| format!("must be a percentage (10%) or a size: {e}"))
            }
        }
        PropType::StorPoolName => crate::name::StorPoolName::new(v)
            .map(drop)
            .map_err(|e| e.to_string()),
        PropType::String => Ok(()),
    }
}

/// Simple edit distance, for "did you mean" hints.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(!ca.eq_ignore_ascii_case(cb));
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The key a key-value store keeps for `key`. KVS keys are free-form paths, as in LINSTOR's
/// `PropsContainer`: any character but control characters, and a leading `/` names the root, so
/// python-linstor's `linstor.KV`, which writes `/<namespace>/<key>`, stores `<namespace>/<key>`
/// and reads it back with the `/` added. Empty path parts (a leading, trailing or doubled `/`)
/// are dropped; a key that is empty then, or too long, or has a control character is refused.
pub fn kvs_key(key: &str) -> Result<String, PropError> {
    let err = |reason: String, correction: &str| PropError {
        key: key.to_owned(),
        value: None,
        reason,
        correction: correction.to_owned(),
    };
    let path = key
        .split('/')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("/");
    if path.is_empty() || path.len() > MAX_KEY_LEN {
        return Err(err(
            format!("a key-value store key must name 1 to {MAX_KEY_LEN} bytes besides '/'"),
            "give the key a name",
        ));
    }
    if let Some(c) = path.chars().find(|c| c.is_control()) {
        return Err(err(
            format!("control character {c:?} is not allowed in a property key"),
            "remove the offending characters",
        ));
    }
    Ok(path)
}

/// Validates one key/value written by a user at `level`.
pub fn validate_user_prop(
    level: Level,
    key: &str,
    value: &str,
    drbd: Option<&dyn DrbdOptionValidator>,
) -> Result<(), PropError> {
    let err = |reason: String, correction: String| PropError {
        key: key.to_owned(),
        value: Some(value.to_owned()),
        reason,
        correction,
    };
    if level == Level::Kvs {
        kvs_key(key).map_err(|e| err(e.reason, e.correction))?;
    } else {
        key_syntax(key).map_err(|r| {
            err(
                r,
                "use '/'-separated names of letters, digits and _-.:@+=".into(),
            )
        })?;
    }
    value_syntax(value).map_err(|r| {
        err(
            format!("property '{key}': {r}"),
            "remove the offending characters".into(),
        )
    })?;
    if level == Level::Kvs || key.starts_with("Aux/") {
        return Ok(());
    }
    if key.starts_with("Internal/") || key.starts_with("Satellite/") {
        return Err(err(
            format!("property '{key}' is in a namespace reserved for the system"),
            "set a documented key instead, or use the free-form 'Aux/' namespace".into(),
        ));
    }
    if let Some(rest) = key.strip_prefix("DrbdOptions/") {
        if let Some((section, option)) = rest.split_once('/') {
            if DRBD_SECTIONS.contains(&section) {
                if option.contains('/') || option.is_empty() {
                    return Err(err(
                        format!("'{key}' is not a DRBD option key"),
                        format!("use DrbdOptions/{section}/<option>"),
                    ));
                }
                if !matches!(
                    level,
                    L::Controller
                        | L::Node
                        | L::RscGrp
                        | L::RscDfn
                        | L::Rsc
                        | L::VlmGrp
                        | L::VlmDfn
                        | L::Vlm
                        | L::NodeConn
                        | L::RscConn
                        | L::StorPool
                ) {
                    return Err(err(
                        format!("DRBD options cannot be set on a {level}"),
                        "set it on the resource definition, resource group or controller".into(),
                    ));
                }
                return match drbd {
                    Some(v) => v.validate(section, option, value).map_err(|r| {
                        err(
                            format!("invalid value '{value}' for '{key}': {r}"),
                            "choose an allowed value (see `drbdsetup xml-help`)".into(),
                        )
                    }),
                    None => {
                        if option
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                        {
                            Ok(())
                        } else {
                            Err(err(
                                format!("'{option}' is not a DRBD option name"),
                                "DRBD option names are lower-case words joined by '-'".into(),
                            ))
                        }
                    }
                };
            }
        }
    }
    let Some(spec) = key_spec(key) else {
        let hint = KEYS
            .iter()
            .map(|k| (distance(k.key, key), k.key))
            .filter(|(d, _)| *d <= 3)
            .min()
            .map(|(_, k)| format!("did you mean '{k}'? "))
            .unwrap_or_default();
        return Err(err(
            format!("unknown property key '{key}'"),
            format!(
                "{hint}Free-form keys go under 'Aux/'; the documented keys are listed by `linstor controller list-properties`"
            ),
        ));
    };
    if !spec.levels.contains(&level) {
        let allowed: Vec<&str> = spec.levels.iter().map(|l| l.label()).collect();
        return Err(err(
            format!("property '{key}' cannot be set on a {level}"),
            format!("set it on: {}", allowed.join(", ")),
        ));
    }
    check_type(spec.ty, value).map_err(|r| {
        err(
            format!("invalid value '{value}' for '{key}': {r}"),
            format!("{key} {r}"),
        )
    })
}

/// An ordered list of containers; the first that has a key wins.
#[derive(Debug, Clone, Default)]
pub struct PriorityProps<'a> {
    levels: Vec<(Level, &'a Props)>,
}

impl<'a> PriorityProps<'a> {
    /// An empty chain.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a lower-priority container.
    pub fn push(&mut self, level: Level, props: &'a Props) -> &mut Self {
        self.levels.push((level, props));
        self
    }

    /// Builder form of [`push`](Self::push).
    #[must_use]
    pub fn with(mut self, level: Level, props: &'a Props) -> Self {
        self.levels.push((level, props));
        self
    }

    /// The levels in priority order.
    pub fn levels(&self) -> impl Iterator<Item = Level> + '_ {
        self.levels.iter().map(|(l, _)| *l)
    }

    /// The winning value.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.get_with_level(key).map(|(v, _)| v)
    }

    /// The winning value and where it came from.
    pub fn get_with_level(&self, key: &str) -> Option<(&'a str, Level)> {
        self.levels
            .iter()
            .find_map(|(l, p)| p.get(key).map(|v| (v, *l)))
    }

    /// Values of lower levels that the winner overrides, highest first.
    pub fn overridden(&self, key: &str) -> Vec<(Level, &'a str)> {
        self.levels
            .iter()
            .filter_map(|(l, p)| p.get(key).map(|v| (*l, v)))
            .skip(1)
            .collect()
    }

    /// Every key in `namespace` with its winning value and level (namespace stripped), sorted.
    pub fn namespace(&self, namespace: &str) -> BTreeMap<&'a str, (&'a str, Level)> {
        let mut out = BTreeMap::new();
        for (l, p) in &self.levels {
            for (k, v) in p.namespace(namespace) {
                out.entry(k).or_insert((v, *l));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn props_read_and_write_json_like_a_btreemap() {
        let json = r#"{"b":"1","DrbdOptions/Resource/quorum":"majority","Aux/a-user-key-longer-than-24":"v","a":"x","a":"y"}"#;
        let p: Props = serde_json::from_str(json).unwrap();
        let b: BTreeMap<String, String> = serde_json::from_str(json).unwrap();
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        assert_eq!(p.to_btree(), b);
        for bad in ["[]", "5", r#"{"a":1}"#] {
            let e = serde_json::from_str::<Props>(bad).unwrap_err().to_string();
            let eb = serde_json::from_str::<BTreeMap<String, String>>(bad).unwrap_err();
            assert_eq!(e, eb.to_string(), "{bad}");
        }
        // A long well-known key refers to its constant; a long user key is a copy.
        let stored = |k: &str| p.0.keys().find(|s| s.as_str() == k).unwrap().clone();
        assert_eq!(stored(keys::QUORUM).as_static_str(), Some(keys::QUORUM));
        assert_eq!(
            stored("Aux/a-user-key-longer-than-24").as_static_str(),
            None
        );
        let mut q = Props::new();
        assert_eq!(q.set(keys::QUORUM, "off"), None);
        assert_eq!(q.set(keys::QUORUM, "majority"), Some("off".to_owned()));
        assert!(q.0.keys().all(|k| k.as_static_str() == Some(keys::QUORUM)));
        assert_eq!(q.iter().collect::<Vec<_>>(), [(keys::QUORUM, "majority")]);
    }

    fn check(level: Level, key: &str, value: &str, expect: Result<(), &str>) {
        let got = validate_user_prop(level, key, value, None)
            .map_err(|e| format!("{} | {}", e.reason, e.correction));
        match (&got, expect) {
            (Ok(()), Ok(())) => {}
            (Err(g), Err(e)) => assert!(g.contains(e), "{key}={value}: {g:?} lacks {e:?}"),
            _ => panic!("{level:?} {key}={value}: got {got:?}, expected {expect:?}"),
        }
    }

    #[test]
    fn kvs_keys_are_paths_from_the_root() {
        for (key, want) in [
            ("x", Some("x")),
            ("/x", Some("x")),
            ("/kv/ns/x", Some("kv/ns/x")),
            ("a//b/", Some("a/b")),
            ("key with blanks/ü", Some("key with blanks/ü")),
            ("/", None),
            ("", None),
            ("a\nb", None),
        ] {
            assert_eq!(kvs_key(key).ok().as_deref(), want, "{key:?}");
        }
        assert!(kvs_key(&"k".repeat(MAX_KEY_LEN)).is_ok());
        assert!(kvs_key(&"k".repeat(MAX_KEY_LEN + 1)).is_err());
    }

    #[test]
    fn validation_table() {
        check(L::Node, "Aux/zone", "a", Ok(()));
        check(L::Rsc, "Aux/topology/kubernetes.io/hostname", "n1", Ok(()));
        check(L::Kvs, "anything/goes", "x", Ok(()));
        check(L::Kvs, "/kv/ns/key with blanks", "x", Ok(()));
        check(L::Kvs, "Internal/x", "x", Ok(()));
        check(L::Kvs, "/", "x", Err("1 to 256 bytes besides '/'"));
        check(L::Kvs, "a\tb", "x", Err("control character"));
        check(L::Kvs, "a", "x\u{0}", Err("control character"));
        check(L::Node, "Aux/x", "a\nb", Err("control character"));
        check(L::Node, "Aux//x", "a", Err("empty namespace"));
        check(L::Node, "Aux/x y", "a", Err("' ' is not allowed"));
        check(L::Node, "", "a", Err("1 to 256"));
        check(
            L::RscDfn,
            "Internal/Drbd/QuorumSetBy",
            "user",
            Err("reserved for the system"),
        );
        check(L::Controller, "PeerSlotsNewResource", "7", Ok(()));
        check(
            L::Controller,
            "PeerSlotsNewResource",
            "32",
            Err("from 1 to 31"),
        );
        check(
            L::Controller,
            "PeerSlotsNewResource",
            "x",
            Err("from 1 to 31"),
        );
        check(
            L::Node,
            "PeerSlotsNewResource",
            "7",
            Err("cannot be set on a node"),
        );
        check(L::Controller, "TcpPortAutoRange", "7000-7999", Ok(()));
        check(
            L::Controller,
            "TcpPortAutoRange",
            "7999-7000",
            Err("A <= B"),
        );
        check(L::Controller, "MinorNrAutoRange", "1000-49999", Ok(()));
        check(L::StorPool, "MaxOversubscriptionRatio", "20", Ok(()));
        check(
            L::StorPool,
            "MaxOversubscriptionRatio",
            "-1",
            Err("number from 0"),
        );
        check(L::StorPool, "AutoplaceTarget", "false", Ok(()));
        check(
            L::StorPool,
            "AutoplaceTarget",
            "maybe",
            Err("'true' or 'false'"),
        );
        check(L::StorPool, "Autoplacer/MinThinFreeSpace", "10%", Ok(()));
        check(L::StorPool, "Autoplacer/MinThinFreeSpace", "50GB", Ok(()));
        check(
            L::StorPool,
            "Autoplacer/MinThinFreeSpace",
            "150%",
            Err("percentage"),
        );
        check(L::Rsc, "StorPoolName", "thin1", Ok(()));
        check(
            L::Rsc,
            "StorPoolName",
            "a;b",
            Err("invalid storage pool name"),
        );
        check(L::RscDfn, "FileSystem/Type", "ext4", Ok(()));
        check(
            L::RscDfn,
            "FileSystem/Type",
            "ntfs",
            Err("one of: ext4, xfs"),
        );
        check(
            L::RscDfn,
            "StorPoolNam",
            "x",
            Err("did you mean 'StorPoolName'"),
        );
        check(
            L::RscDfn,
            "Totally/Unknown",
            "x",
            Err("unknown property key"),
        );
        check(L::RscDfn, "DrbdOptions/Net/protocol", "C", Ok(()));
        check(
            L::RscDfn,
            "DrbdOptions/Net/Bad_Name",
            "C",
            Err("not a DRBD option name"),
        );
        check(
            L::RscDfn,
            "DrbdOptions/Net/a/b",
            "C",
            Err("not a DRBD option key"),
        );
        check(
            L::StorPoolDfn,
            "DrbdOptions/Net/protocol",
            "C",
            Err("cannot be set on a storage pool definition"),
        );
        check(
            L::RscDfn,
            "DrbdOptions/auto-add-quorum-tiebreaker",
            "true",
            Ok(()),
        );
    }

    #[derive(Debug)]
    struct OnlyProtocolC;
    impl DrbdOptionValidator for OnlyProtocolC {
        fn validate(&self, section: &str, option: &str, value: &str) -> Result<(), String> {
            if section == "Net" && option == "protocol" && value == "C" {
                Ok(())
            } else {
                Err("allowed: A, B, C".into())
            }
        }
    }

    #[test]
    fn drbd_hook_is_used() {
        let v = OnlyProtocolC;
        assert!(validate_user_prop(L::RscDfn, "DrbdOptions/Net/protocol", "C", Some(&v)).is_ok());
        let e =
            validate_user_prop(L::RscDfn, "DrbdOptions/Net/protocol", "D", Some(&v)).unwrap_err();
        assert!(e.reason.contains("allowed: A, B, C"), "{e:?}");
    }

    #[test]
    fn priority_chain_first_wins_and_reports_overrides() {
        let r: Props = [("k", "r")].into_iter().collect();
        let rd: Props = [("k", "rd"), ("only-rd", "x")].into_iter().collect();
        let c: Props = [("k", "c"), ("Ns/a", "1"), ("Ns/b", "2")]
            .into_iter()
            .collect();
        let rg: Props = [("Ns/a", "rg")].into_iter().collect();
        let p = PriorityProps::new()
            .with(L::Rsc, &r)
            .with(L::RscDfn, &rd)
            .with(L::RscGrp, &rg)
            .with(L::Controller, &c);
        assert_eq!(p.get_with_level("k"), Some(("r", L::Rsc)));
        assert_eq!(
            p.overridden("k"),
            vec![(L::RscDfn, "rd"), (L::Controller, "c")]
        );
        assert_eq!(p.get("only-rd"), Some("x"));
        assert_eq!(p.get("none"), None);
        let ns = p.namespace("Ns");
        assert_eq!(ns.get("a"), Some(&("rg", L::RscGrp)));
        assert_eq!(ns.get("b"), Some(&("2", L::Controller)));
    }

    #[test]
    fn props_namespace_ops() {
        let mut p: Props = [("A/x", "1"), ("A/y", "2"), ("AB/z", "3")]
            .into_iter()
            .collect();
        assert_eq!(p.namespace("A").count(), 2);
        assert_eq!(p.remove_namespace("A"), 2);
        assert_eq!(p.len(), 1);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(key in ".{0,40}", value in ".{0,40}") {
            for level in [L::Controller, L::Node, L::RscDfn, L::Kvs] {
                let _ = validate_user_prop(level, &key, &value, None);
            }
        }
    }
}
