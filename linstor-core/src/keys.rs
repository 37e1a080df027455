//! Property keys the core reads or writes itself, in one place (LINSTOR's `ApiConsts` and
//! `InternalApiConsts` names). The whitelist of keys users may set, with their rules, is
//! [`crate::props::KEYS`]; this module only names the keys that code refers to.

// Placement and capacity.

/// `Autoplacer/MinThinFreeSpace`: physical free space a thin pool keeps (SP > RD > RG > Node >
/// C; `10%` by default).
pub const MIN_THIN_FREE_SPACE: &str = "Autoplacer/MinThinFreeSpace";
/// `Autoplacer/Strategy` (controller): `linstor` or `balanced` (our default).
pub const AUTOPLACER_STRATEGY: &str = "Autoplacer/Strategy";
/// `Autoplacer/Weights/MaxFreeSpace` (controller).
pub const WEIGHT_MAX_FREE_SPACE: &str = "Autoplacer/Weights/MaxFreeSpace";
/// `Autoplacer/Weights/MinReservedSpace` (controller).
pub const WEIGHT_MIN_RESERVED_SPACE: &str = "Autoplacer/Weights/MinReservedSpace";
/// `Autoplacer/Weights/MinRscCount` (controller).
pub const WEIGHT_MIN_RSC_COUNT: &str = "Autoplacer/Weights/MinRscCount";
/// `Autoplacer/Weights/BalancedFill` (controller; the balanced strategy's own weight).
pub const WEIGHT_BALANCED_FILL: &str = "Autoplacer/Weights/BalancedFill";
/// `AutoplaceTarget`: `false` on a node or pool keeps the autoplacer away.
pub const AUTOPLACE_TARGET: &str = "AutoplaceTarget";
/// Over-subscription ratio of thin pools (SP > SPD > C).
pub const MAX_OVERSUBSCRIPTION_RATIO: &str = "MaxOversubscriptionRatio";
/// Over-subscription ratio over the physically free space (default: the one above).
pub const MAX_FREE_CAPACITY_OVERSUBSCRIPTION_RATIO: &str = "MaxFreeCapacityOversubscriptionRatio";
/// Over-subscription ratio over the total capacity (default: the one above).
pub const MAX_TOTAL_CAPACITY_OVERSUBSCRIPTION_RATIO: &str = "MaxTotalCapacityOversubscriptionRatio";
/// The three over-subscription ratio keys.
pub const OVERSUBSCRIPTION_RATIOS: [&str; 3] = [
    MAX_OVERSUBSCRIPTION_RATIO,
    MAX_FREE_CAPACITY_OVERSUBSCRIPTION_RATIO,
    MAX_TOTAL_CAPACITY_OVERSUBSCRIPTION_RATIO,
];
/// `AllowMixingStoragePoolDriver` (RD > RG > C).
pub const ALLOW_MIXING_STORAGE_POOL_DRIVER: &str = "AllowMixingStoragePoolDriver";

// Storage pools.

/// The pool a resource's volumes go to (resource > VD > RD > RG > node chain).
pub const STOR_POOL_NAME: &str = "StorPoolName";
/// The backing pool of a storage pool (volume group, thin pool, zpool, directory).
pub const STOR_DRIVER_STOR_POOL_NAME: &str = "StorDriver/StorPoolName";
/// Legacy backing-pool key: LVM volume group.
pub const STOR_DRIVER_LVM_VG: &str = "StorDriver/LvmVg";
/// Legacy backing-pool key: LVM thin pool.
pub const STOR_DRIVER_THIN_POOL: &str = "StorDriver/ThinPool";
/// Legacy backing-pool key: zpool.
pub const STOR_DRIVER_ZPOOL: &str = "StorDriver/ZPool";
/// Legacy backing-pool key: thin zpool.
pub const STOR_DRIVER_ZPOOL_THIN: &str = "StorDriver/ZPoolThin";
/// Legacy backing-pool key: file directory.
pub const STOR_DRIVER_FILE_DIR: &str = "StorDriver/FileDir";

// Nodes.

/// The net interface the controller reaches the satellite through.
pub const CUR_STLT_CONN_NAME: &str = "CurStltConnName";
/// The node's host name.
pub const NODE_UNAME: &str = "NodeUname";

// Numbers.

/// `MinorNrAutoRange` (controller): minors given to new volume definitions.
pub const MINOR_NR_AUTO_RANGE: &str = "MinorNrAutoRange";
/// `TcpPortAutoRange` (node > controller): DRBD ports given to new resources.
pub const TCP_PORT_AUTO_RANGE: &str = "TcpPortAutoRange";
/// `PeerSlotsNewResource` (controller): peer slots of new resource definitions.
pub const PEER_SLOTS_NEW_RESOURCE: &str = "PeerSlotsNewResource";
/// The DRBD current generation id of a new volume definition.
pub const DRBD_CURRENT_GI: &str = "DrbdCurrentGi";

// Quorum and tiebreaker.

/// The quorum property key.
pub const QUORUM: &str = "DrbdOptions/Resource/quorum";
/// The marker LINSTOR writes when a user sets the quorum property.
pub const QUORUM_SET_BY: &str = "Internal/Drbd/QuorumSetBy";
/// The auto-tiebreaker switch.
pub const AUTO_ADD_QUORUM_TIEBREAKER: &str = "DrbdOptions/auto-add-quorum-tiebreaker";

// Balance, evacuation and eviction.

/// `BalanceResourcesEnabled` (RD > RG > C).
pub const BALANCE_RESOURCES_ENABLED: &str = "BalanceResourcesEnabled";
/// `BalanceResourcesGracePeriod` in seconds (RD > RG > C).
pub const BALANCE_RESOURCES_GRACE_PERIOD: &str = "BalanceResourcesGracePeriod";
/// `DrbdOptions/SkipDisk`: the resource's disk failed (R > SP > Node > RD > C).
pub const SKIP_DISK: &str = "DrbdOptions/SkipDisk";
/// `PrefNic`: the net interface DRBD uses (storage pools > R > RD > RG > N > C).
pub const PREF_NIC: &str = "PrefNic";
/// `DrbdOptions/ExactSize`: write each volume's size into the `.res` (RD > RG > C).
pub const EXACT_SIZE: &str = "DrbdOptions/ExactSize";
/// `DrbdOptions/AutoEvictMinReplicaCount` (RD > RG > C): replicas an eviction restores.
pub const AUTO_EVICT_MIN_REPLICA_COUNT: &str = "DrbdOptions/AutoEvictMinReplicaCount";
/// The resource properties that remember, on a replica being evacuated, the evacuation's
/// `target` and `do_not_target` nodes (comma-separated), for a replacement placed again later.
pub const EVACUATION_TARGET: &str = "Internal/Evacuation/Target";
/// See [`EVACUATION_TARGET`].
pub const EVACUATION_DO_NOT_TARGET: &str = "Internal/Evacuation/DoNotTarget";
/// The resource property that remembers, on a replica being evacuated, how many diskful
/// replicas its definition had: the evacuated replica goes once that many live elsewhere.
pub const EVACUATION_REPLICAS: &str = "Internal/Evacuation/Replicas";

/// On a resource that got a disk by migrate-disk: the node whose replica it replaces
/// (LINSTOR's `ApiConsts.KEY_RSC_MIGRATE_FROM`); that replica is deleted once this one is in
/// sync, and the property with it.
pub const MIGRATE_FROM: &str = "MigrateFrom";

// Snapshots.

/// On a resource definition restored from a snapshot: the source definition.
pub const RESTORE_FROM_RESOURCE: &str = "Internal/RestoreFrom/Resource";
/// On a resource definition restored from a snapshot: the snapshot.
pub const RESTORE_FROM_SNAPSHOT: &str = "Internal/RestoreFrom/Snapshot";
/// On every resource of a definition being rolled back: the snapshot it rolls back to
/// (LINSTOR's `RollbackTarget`; its satellite takes the resource down, rolls the volumes back
/// and brings it up again).
pub const ROLLBACK_TARGET: &str = "RollbackTarget";

// Clones.

/// On a resource definition made by a clone: the source definition (LINSTOR's
/// `InternalApiConsts.KEY_CLONED_FROM`, a top-level key); the clone status finds clones by it.
pub const CLONED_FROM: &str = "cloned-from";
/// On a clone: its volumes are ZFS clones of the source's (LINSTOR's
/// `InternalApiConsts.KEY_USE_ZFS_CLONE`), not copies.
pub const CLONE_USE_ZFS_CLONE: &str = "use-zfs-clone";
/// `UseZFSClone` (RG > C): clone ZFS volumes with `zfs clone` by default.
pub const USE_ZFS_CLONE: &str = "UseZFSClone";

// Namespaces.

/// Namespaces reserved for the system: users cannot delete keys in them.
pub const RESERVED_NAMESPACES: [&str; 2] = ["Internal/", "Satellite/"];

/// Every key above: property maps store these (when longer than an inline string) as references
/// to the constants instead of copies of their own.
pub const WELL_KNOWN: &[&str] = &[
    MIN_THIN_FREE_SPACE,
    AUTOPLACER_STRATEGY,
    WEIGHT_MAX_FREE_SPACE,
    WEIGHT_MIN_RESERVED_SPACE,
    WEIGHT_MIN_RSC_COUNT,
    WEIGHT_BALANCED_FILL,
    AUTOPLACE_TARGET,
    MAX_OVERSUBSCRIPTION_RATIO,
    MAX_FREE_CAPACITY_OVERSUBSCRIPTION_RATIO,
    MAX_TOTAL_CAPACITY_OVERSUBSCRIPTION_RATIO,
    ALLOW_MIXING_STORAGE_POOL_DRIVER,
    STOR_POOL_NAME,
    STOR_DRIVER_STOR_POOL_NAME,
    STOR_DRIVER_LVM_VG,
    STOR_DRIVER_THIN_POOL,
    STOR_DRIVER_ZPOOL,
    STOR_DRIVER_ZPOOL_THIN,
    STOR_DRIVER_FILE_DIR,
    CUR_STLT_CONN_NAME,
    NODE_UNAME,
    MINOR_NR_AUTO_RANGE,
    TCP_PORT_AUTO_RANGE,
    PEER_SLOTS_NEW_RESOURCE,
    DRBD_CURRENT_GI,
    QUORUM,
    QUORUM_SET_BY,
    AUTO_ADD_QUORUM_TIEBREAKER,
    BALANCE_RESOURCES_ENABLED,
    BALANCE_RESOURCES_GRACE_PERIOD,
    SKIP_DISK,
    PREF_NIC,
    EXACT_SIZE,
    AUTO_EVICT_MIN_REPLICA_COUNT,
    EVACUATION_TARGET,
    EVACUATION_DO_NOT_TARGET,
    EVACUATION_REPLICAS,
    MIGRATE_FROM,
    RESTORE_FROM_RESOURCE,
    RESTORE_FROM_SNAPSHOT,
    ROLLBACK_TARGET,
    CLONED_FROM,
    CLONE_USE_ZFS_CLONE,
    USE_ZFS_CLONE,
];

#[cfg(test)]
mod tests {
    /// `WELL_KNOWN` lists every key constant of this file.
    #[test]
    fn well_known_lists_every_key() {
        let src = include_str!("keys.rs");
        for line in src.lines() {
            let Some(rest) = line.strip_prefix("pub const ") else {
                continue;
            };
            if let Some((_, value)) = rest.split_once(": &str = \"") {
                let value = value.trim_end_matches("\";");
                assert!(
                    super::WELL_KNOWN.contains(&value),
                    "{value} is not in WELL_KNOWN"
                );
            }
        }
    }
}
