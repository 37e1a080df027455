//! Requests that change deployed objects in place, connections and snapshots' lifecycle:
//! `PUT …/resources/{node}` (resource modify), `POST …/resources/{node}/make-available`,
//! `PUT …/resources/{node}/toggle-disk` (and the legacy `…/toggle-disk/diskless[/{pool}]`
//! and `…/migrate-disk/{from}[/{pool}]`), `PUT …/resources/{node}/volumes/{nr}` (volume
//! modify),
//! `PUT /v1/resource-groups/{rg}/volume-groups/{nr}`, `PUT /v1/node-connections/{a}/{b}`,
//! `PUT …/{rd}/resource-connections/{a}/{b}`, `POST …/{rd}/snapshot-rollback/{snap}`,
//! `POST …/{rd}/snapshot-restore-volume-definition/{snap}`, `POST /v1/actions/snapshot/multi`.

use std::collections::BTreeMap;

use linstor_core::cluster::{Command, SnapshotSpec, ToggleDiskOp};
use linstor_core::model::LayerKind;
use serde::Deserialize;
use serde::de::Deserializer;

use super::{layer_list, lenient_bool, named, named_opt, non_empty, props_modify, refuse_if};

/// `PUT /v1/resource-definitions/{rd}/resources/{node}` (REST `ResourceModify`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceModify {
    /// Properties to set.
    #[serde(default)]
    pub override_props: Option<BTreeMap<String, String>>,
    /// Properties to delete.
    #[serde(default)]
    pub delete_props: Option<Vec<String>>,
    /// Namespaces to delete.
    #[serde(default)]
    pub delete_namespaces: Option<Vec<String>>,
    /// Makes the diskless resource a tiebreaker (`true`) or a plain diskless one (`false`).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub drbd_tiebreaker: Option<bool>,
    /// Makes the diskless resource a DRBD client (`true`) or not.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub drbd_client: Option<bool>,
}

impl ResourceModify {
    /// The core command for the resource of `rd` on `node` (from the path).
    pub fn command(&self, rd: &str, node: &str) -> Command {
        Command::RscModify {
            rsc_dfn: rd.to_owned(),
            node: node.to_owned(),
            props: props_modify(
                &self.override_props,
                &self.delete_props,
                &self.delete_namespaces,
            ),
            drbd_tiebreaker: self.drbd_tiebreaker,
            drbd_client: self.drbd_client,
        }
    }
}

/// `PUT /v1/resource-definitions/{rd}/resources/{node}/volumes/{nr}` (REST `VolumeModify`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeModify {
    /// Properties to set.
    #[serde(default)]
    pub override_props: Option<BTreeMap<String, String>>,
    /// Properties to delete.
    #[serde(default)]
    pub delete_props: Option<Vec<String>>,
    /// Namespaces to delete.
    #[serde(default)]
    pub delete_namespaces: Option<Vec<String>>,
}

impl VolumeModify {
    /// The core command for volume `nr` of the resource of `rd` on `node` (from the path).
    pub fn command(&self, rd: &str, node: &str, nr: u16) -> Command {
        Command::VlmModify {
            rsc_dfn: rd.to_owned(),
            node: node.to_owned(),
            number: nr,
            props: props_modify(
                &self.override_props,
                &self.delete_props,
                &self.delete_namespaces,
            ),
        }
    }
}

/// `PUT /v1/resource-groups/{rg}/volume-groups/{nr}` (REST `VolumeGroupModify`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeGroupModify {
    /// Properties to set.
    #[serde(default)]
    pub override_props: Option<BTreeMap<String, String>>,
    /// Properties to delete.
    #[serde(default)]
    pub delete_props: Option<Vec<String>>,
    /// Namespaces to delete.
    #[serde(default)]
    pub delete_namespaces: Option<Vec<String>>,
    /// `GROSS_SIZE` sets the flag, `-GROSS_SIZE` clears it (any case).
    #[serde(default)]
    pub flags: Option<Vec<String>>,
}

impl VolumeGroupModify {
    /// The core command for volume group `nr` of `rg` (from the path); an unknown flag, or the
    /// flag both set and cleared, is an error naming `flags`.
    pub fn command(&self, rg: &str, nr: u16) -> Result<Command, String> {
        let mut gross = None;
        for f in self.flags.iter().flatten() {
            let (set, name) = match f.strip_prefix('-') {
                Some(name) => (false, name),
                None => (true, f.as_str()),
            };
            if !name.eq_ignore_ascii_case("GROSS_SIZE") {
                return Err(format!(
                    "'flags' has an unknown flag '{f}' (valid: GROSS_SIZE, -GROSS_SIZE)"
                ));
            }
            if gross.is_some_and(|g| g != set) {
                return Err("'flags' both sets and clears GROSS_SIZE: give one of them".into());
            }
            gross = Some(set);
        }
        Ok(Command::VlmGrpModify {
            rsc_grp: rg.to_owned(),
            number: nr,
            props: props_modify(
                &self.override_props,
                &self.delete_props,
                &self.delete_namespaces,
            ),
            gross_size: gross,
        })
    }
}

/// `POST /v1/resource-definitions/{rd}/resources/{node}/make-available` (REST
/// `ResourceMakeAvailable`; linstor-csi sends `{"diskful": false}` on attach).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceMakeAvailable {
    /// A resource with a disk is wanted (`false` when absent or `null`).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub diskful: Option<bool>,
    /// The layer stack (must be the definition's).
    #[serde(default, deserialize_with = "layer_list")]
    pub layer_list: Option<Vec<LayerKind>>,
    /// DRBD TCP ports (refused when not empty: allocated here).
    #[serde(default)]
    pub drbd_tcp_ports: Option<Vec<u32>>,
    /// Snapshots to copy to a new resource (refused when not empty).
    #[serde(default)]
    pub snap_names: Option<Vec<String>>,
    /// Copy every snapshot to a new resource (refused when true).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub copy_all_snaps: Option<bool>,
}

/// Why snapshot copies to a resource made available are refused.
const NO_SNAP_COPY: &str = "new resources are created without snapshots here; leave it out";

impl ResourceMakeAvailable {
    /// The core command for `rd` on `node` (from the path).
    pub fn command(&self, rd: &str, node: &str) -> Result<Command, String> {
        refuse_if(
            non_empty(&self.drbd_tcp_ports),
            "drbd_tcp_ports",
            "TCP ports are allocated from TcpPortAutoRange; leave it out",
        )?;
        refuse_if(non_empty(&self.snap_names), "snap_names", NO_SNAP_COPY)?;
        refuse_if(
            self.copy_all_snaps == Some(true),
            "copy_all_snaps",
            NO_SNAP_COPY,
        )?;
        Ok(Command::RscMakeAvailable {
            rsc_dfn: rd.to_owned(),
            node: node.to_owned(),
            diskful: self.diskful.unwrap_or(false),
            layer_list: self.layer_list.clone().filter(|l| !l.is_empty()),
        })
    }
}

const TOGGLE_OPS: &str = "`INTO_DRBD_DISKFUL`, `INTO_DRBD_DISKLESS`, `INTO_DRBD_CLIENT`";

/// LINSTOR's toggle-disk operation names, any case.
fn parse_toggle_op(s: &str) -> Option<ToggleDiskOp> {
    Some(match s.to_ascii_uppercase().as_str() {
        "INTO_DRBD_DISKFUL" => ToggleDiskOp::IntoDrbdDiskful,
        "INTO_DRBD_DISKLESS" => ToggleDiskOp::IntoDrbdDiskless,
        "INTO_DRBD_CLIENT" => ToggleDiskOp::IntoDrbdClient,
        _ => return None,
    })
}

fn toggle_op<'de, D: Deserializer<'de>>(d: D) -> Result<ToggleDiskOp, D::Error> {
    named(d, parse_toggle_op, TOGGLE_OPS)
}

/// `PUT /v1/resource-definitions/{rd}/resources/{node}/toggle-disk` (REST 1.28
/// `ToggleDiskRequest`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToggleDiskRequest {
    /// What the resource becomes (any case).
    #[serde(deserialize_with = "toggle_op")]
    pub operation: ToggleDiskOp,
    /// The pool of the disk, or the diskless pool.
    #[serde(default)]
    pub storage_pool: Option<String>,
    /// Node whose resource is deleted once this one is in sync (migrate-disk).
    #[serde(default)]
    pub migrate_from: Option<String>,
    /// Layer list (refused when not empty: the definition's stack applies).
    #[serde(default, deserialize_with = "layer_list")]
    pub layer_list: Option<Vec<LayerKind>>,
}

impl ToggleDiskRequest {
    /// The core command for the resource of `rd` on `node` (from the path).
    pub fn command(&self, rd: &str, node: &str) -> Result<Command, String> {
        refuse_if(non_empty(&self.layer_list), "layer_list", SAME_LAYERS)?;
        let mut cmd = legacy_toggle_disk((rd, node), self.operation, self.storage_pool.as_deref());
        if let Command::RscToggleDisk { migrate_from, .. } = &mut cmd {
            migrate_from.clone_from(&self.migrate_from);
            migrate_from.take_if(|m| m.is_empty());
        }
        Ok(cmd)
    }
}

/// Why a layer list of a toggle-disk is refused.
const SAME_LAYERS: &str = "the resource definition's layer stack applies; leave it out";

/// The optional body of the deprecated `PUT …/resources/{node}/migrate-disk/{from}[/{pool}]`
/// (REST `ToggleDiskDiskful`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToggleDiskDiskful {
    /// Layer list (refused when not empty: the definition's stack applies).
    #[serde(default, deserialize_with = "layer_list")]
    pub layer_list: Option<Vec<LayerKind>>,
}

impl ToggleDiskDiskful {
    /// The core command of `PUT …/{rd}/resources/{node}/migrate-disk/{from}[/{pool}]`: the
    /// resource on `node` gets a disk (in `pool`) that replaces the one on `from`.
    pub fn command(
        &self,
        (rd, node, from): (&str, &str, &str),
        pool: Option<&str>,
    ) -> Result<Command, String> {
        refuse_if(non_empty(&self.layer_list), "layer_list", SAME_LAYERS)?;
        Ok(Command::RscToggleDisk {
            rsc_dfn: rd.to_owned(),
            node: node.to_owned(),
            operation: ToggleDiskOp::IntoDrbdDiskful,
            storage_pool: pool.filter(|p| !p.is_empty()).map(str::to_owned),
            migrate_from: Some(from.to_owned()),
        })
    }
}

/// The core command of a toggle-disk without a body: the paths before REST 1.28,
/// `…/toggle-disk/diskful[/{pool}]` and `…/toggle-disk/diskless[/{pool}]` (`operation` is
/// `IntoDrbdDiskful` or `IntoDrbdDiskless`), for the resource of `rd` on `node`.
pub fn legacy_toggle_disk(
    (rd, node): (&str, &str),
    operation: ToggleDiskOp,
    pool: Option<&str>,
) -> Command {
    Command::RscToggleDisk {
        rsc_dfn: rd.to_owned(),
        node: node.to_owned(),
        operation,
        storage_pool: pool.filter(|p| !p.is_empty()).map(str::to_owned),
        migrate_from: None,
    }
}

/// `PUT /v1/node-connections/{a}/{b}` and
/// `PUT /v1/resource-definitions/{rd}/resource-connections/{a}/{b}` (REST
/// `NodeConnectionModify`, `ResourceConnectionModify`: the same shape).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionModify {
    /// Properties to set (DRBD `net` options, `Paths/<path>/<node>` = interface).
    #[serde(default)]
    pub override_props: Option<BTreeMap<String, String>>,
    /// Properties to delete.
    #[serde(default)]
    pub delete_props: Option<Vec<String>>,
    /// Namespaces to delete.
    #[serde(default)]
    pub delete_namespaces: Option<Vec<String>>,
}

/// REST's `NodeConnectionModify`.
pub type NodeConnectionModify = ConnectionModify;
/// REST's `ResourceConnectionModify`.
pub type ResourceConnectionModify = ConnectionModify;

impl ConnectionModify {
    /// The core command for the connection of nodes `a` and `b` (from the path).
    pub fn node_command(&self, a: &str, b: &str) -> Command {
        Command::NodeConnModify {
            node_a: a.to_owned(),
            node_b: b.to_owned(),
            props: self.props(),
        }
    }

    /// The core command for the connection of the resources of `rd` on `a` and `b`.
    pub fn rsc_command(&self, rd: &str, a: &str, b: &str) -> Command {
        Command::RscConnModify {
            rsc_dfn: rd.to_owned(),
            node_a: a.to_owned(),
            node_b: b.to_owned(),
            props: self.props(),
        }
    }

    fn props(&self) -> linstor_core::props::PropsModify {
        props_modify(
            &self.override_props,
            &self.delete_props,
            &self.delete_namespaces,
        )
    }
}

/// How ZFS rolls back (REST `SnapshotRollback.zfs_rollback_strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZfsRollbackStrategy {
    /// `zfs rollback` (fails if newer snapshots exist).
    Rollback,
    /// Rename the volume and clone the snapshot in its place.
    Clone,
    /// `rollback` when possible, else `clone`.
    Dynamic,
}

fn parse_strategy(s: &str) -> Option<ZfsRollbackStrategy> {
    Some(match s.to_ascii_lowercase().as_str() {
        "rollback" => ZfsRollbackStrategy::Rollback,
        "clone" => ZfsRollbackStrategy::Clone,
        "dynamic" => ZfsRollbackStrategy::Dynamic,
        _ => return None,
    })
}

fn strategy<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ZfsRollbackStrategy>, D::Error> {
    named_opt(d, parse_strategy, "`rollback`, `clone`, `dynamic`")
}

/// `POST /v1/resource-definitions/{rd}/snapshot-rollback/{snap}` (python-linstor sends `{}`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotRollback {
    /// How ZFS volumes roll back. Accepted in every form: the core records only which snapshot
    /// the resources roll back to; the mechanism is the satellite's.
    #[serde(default, deserialize_with = "strategy")]
    pub zfs_rollback_strategy: Option<ZfsRollbackStrategy>,
}

impl SnapshotRollback {
    /// The core command rolling `rd` back to `snapshot` (from the path).
    pub fn command(&self, rd: &str, snapshot: &str) -> Command {
        Command::SnapshotRollback {
            rsc_dfn: rd.to_owned(),
            snapshot: snapshot.to_owned(),
        }
    }
}

/// `POST /v1/resource-definitions/{rd}/snapshot-restore-volume-definition/{snap}` (REST
/// `SnapshotRestore`; the clients send `{"to_resource"}`, golinstor may add its `nodes`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotVolumeDefinitionRestore {
    /// The resource definition that gets the volume definitions (it exists, without any).
    pub to_resource: String,
    /// Nodes: volume definitions belong to no node; LINSTOR ignores them here, and so do we.
    #[serde(default)]
    pub nodes: Option<Vec<String>>,
    /// Pool renames (refused when not empty: they concern the resources' restore).
    #[serde(default)]
    pub stor_pool_rename: Option<BTreeMap<String, String>>,
}

impl SnapshotVolumeDefinitionRestore {
    /// The core command restoring the volume definitions of `snapshot` of `rd` (from the path).
    pub fn command(&self, rd: &str, snapshot: &str) -> Result<Command, String> {
        refuse_if(
            self.stor_pool_rename
                .as_ref()
                .is_some_and(|m| !m.is_empty()),
            "stor_pool_rename",
            "volume definitions have no pool; leave it out",
        )?;
        Ok(Command::SnapshotRestoreVlmDfn {
            rsc_dfn: rd.to_owned(),
            snapshot: snapshot.to_owned(),
            target: self.to_resource.clone(),
        })
    }
}

/// One snapshot of a [`CreateMultiSnapshotRequest`] (REST `Snapshot`: python-linstor sends
/// `name`, `resource_name` and `nodes`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiSnapshot {
    /// Snapshot name.
    pub name: String,
    /// The resource definition.
    pub resource_name: String,
    /// Nodes (every diskful node when absent or empty).
    #[serde(default)]
    pub nodes: Option<Vec<String>>,
    /// Properties of the snapshot definition.
    #[serde(default)]
    pub props: Option<BTreeMap<String, String>>,
    /// Properties of the snapshot definition (REST's newer name; merged over `props`).
    #[serde(default)]
    pub snapshot_definition_props: Option<BTreeMap<String, String>>,
}

/// `POST /v1/actions/snapshot/multi`: snapshots of several resource definitions at once, all
/// or nothing.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateMultiSnapshotRequest {
    /// The snapshots.
    pub snapshots: Vec<MultiSnapshot>,
}

impl CreateMultiSnapshotRequest {
    /// The core command.
    pub fn command(&self) -> Command {
        let spec = |s: &MultiSnapshot| {
            let mut props = s.props.clone().unwrap_or_default();
            props.extend(s.snapshot_definition_props.clone().unwrap_or_default());
            SnapshotSpec {
                rsc_dfn: s.resource_name.clone(),
                name: s.name.clone(),
                nodes: s.nodes.clone().unwrap_or_default(),
                props,
            }
        };
        Command::SnapshotCreateMulti {
            snapshots: self.snapshots.iter().map(spec).collect(),
        }
    }
}

#[cfg(test)]
mod tests;
