//! Commands on snapshots and key-value stores.

use std::collections::BTreeMap;

use super::Cluster;
use super::api::{Command, ObjKey};
use super::ctx::{BoxedEntry, Ctx, Res, fail};
use super::lookup::{existing_rd, existing_snap, kvs_name, parse_name, snap_name};
use super::ops_rsc::{RdCreateArgs, RscCreateArgs, rd_create, remove_rd, rsc_create, vd_create};
use super::prop_edit::apply_modify;
use crate::keys;
use crate::model::{
    KeyValueStore, ResourceDefinition, RscDfnFlags, RscFlags, Snapshot, SnapshotDefinition,
    SnapshotDfnFlags,
};
use crate::name::NodeName;
use crate::props::{Level, PropsModify};
use crate::rc::{Obj, Op, code};

/// Runs a command on a snapshot or a key-value store (routed here by `Cluster::dispatch`).
pub(super) fn run(c: &mut Cluster, ctx: &mut Ctx<'_>, cmd: Command) -> Res {
    use Command as C;
    match cmd {
        C::SnapshotCreate {
            rsc_dfn,
            name,
            nodes,
        } => snapshot_create(c, ctx, &rsc_dfn, &name, &nodes),
        C::SnapshotDelete { rsc_dfn, name } => snapshot_delete(c, ctx, &rsc_dfn, &name),
        C::SnapshotRestore {
            rsc_dfn,
            snapshot,
            target,
            nodes,
        } => snapshot_restore(c, ctx, &rsc_dfn, &snapshot, &target, &nodes),
        C::KvsModify { name, props } => kvs_modify(c, ctx, &name, &props),
        C::KvsDelete { name } => kvs_delete(c, ctx, &name),
        other => unreachable!("not a snapshot or key-value store command: {other:?}"),
    }
}

/// The nodes a new snapshot of `d` is taken on: `nodes`, or every live diskful replica's.
fn snapshot_targets(op: Op, d: &ResourceDefinition, nodes: &[String]) -> Res<Vec<NodeName>> {
    let n = &d.name;
    let targets: Vec<NodeName> = if nodes.is_empty() {
        d.live_resources()
            .filter(|r| !r.is_diskless())
            .map(|r| r.node.clone())
            .collect()
    } else {
        let mut v = Vec::new();
        for s in nodes {
            let nk = parse_name(op, Obj::Snapshot, code::INVLD_NODE_NAME, s, NodeName::new)?;
            if !v.contains(&nk) {
                v.push(nk);
            }
        }
        v
    };
    if targets.is_empty() {
        return Err(fail(
            op,
            Obj::Snapshot,
            code::INSUFFICIENT_REPLICA_COUNT,
            format!("Resource '{n}' has no diskful replica to snapshot"),
        )
        .correction("Deploy the resource with storage first."));
    }
    Ok(targets)
}

/// The snapshot of `d`'s replica on `nk`, which must be live, diskful and in pools that take
/// snapshots.
fn node_snapshot(
    c: &Cluster,
    ctx: &mut Ctx<'_>,
    op: Op,
    d: &ResourceDefinition,
    nk: &NodeName,
) -> Res<Snapshot> {
    let n = &d.name;
    let Some(r) = d
        .resources
        .get(nk)
        .filter(|r| !r.is_deleting() && !r.is_diskless())
    else {
        return Err(fail(
            op,
            Obj::Snapshot,
            code::NOT_FOUND_RSC,
            format!("Resource '{n}' has no live diskful replica on node '{nk}'"),
        )
        .correction("Name only nodes that hold the data."));
    };
    for v in r.volumes.values() {
        let kind = c.state.storage_pool(nk, &v.storage_pool).map(|p| p.kind);
        if !kind.is_some_and(|k| k.caps().snapshots) {
            let k = kind.map_or("unknown".to_owned(), |k| k.to_string());
            return Err(fail(
                op,
                Obj::Snapshot,
                code::SNAPSHOTS_NOT_SUPPORTED,
                format!(
                    "Storage pool '{}' ({k}) on '{nk}' cannot take snapshots",
                    v.storage_pool
                ),
            )
            .cause("Snapshots need LVM_THIN, ZFS, ZFS_THIN, FILE or FILE_THIN.")
            .correction("Use a pool that supports snapshots for this resource."));
        }
    }
    let now = ctx.env.now_ms();
    Ok(Snapshot {
        node: nk.clone(),
        volume_pools: r
            .volumes
            .iter()
            .map(|(nr, v)| (*nr, v.storage_pool.clone()))
            .collect(),
        create_timestamp: now,
    })
}

pub(super) fn snapshot_create(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    rd: &str,
    name: &str,
    nodes: &[String],
) -> Res {
    let op = Op::Create;
    let d = existing_rd(c, op, Obj::Snapshot, rd)?;
    let n = d.name.clone();
    let sn = snap_name(op, name)?;
    if d.flags.contains(RscDfnFlags::DELETE) {
        return Err(fail(
            op,
            Obj::Snapshot,
            code::IN_USE,
            format!("Resource definition '{n}' is being deleted"),
        )
        .correction("Snapshots can only be taken of live resources."));
    }
    if d.snapshots.contains_key(&sn) {
        return Err(fail(
            op,
            Obj::Snapshot,
            code::EXISTS_SNAPSHOT_DFN,
            format!("Snapshot '{sn}' of '{n}' already exists"),
        )
        .correction("Choose another snapshot name."));
    }
    if d.volume_definitions.is_empty() {
        return Err(fail(
            op,
            Obj::Snapshot,
            code::INVLD_REQUEST,
            format!("Resource definition '{n}' has no volumes to snapshot"),
        )
        .correction("Create a volume definition first."));
    }
    let targets = snapshot_targets(op, d, nodes)?;
    let mut snaps = BTreeMap::new();
    for nk in &targets {
        let snap = node_snapshot(c, ctx, op, d, nk)?;
        snaps.insert(nk.clone(), snap);
    }
    let sd = SnapshotDefinition {
        name: sn.clone(),
        props: Default::default(),
        flags: SnapshotDfnFlags::default(),
        volume_sizes: d
            .volume_definitions
            .iter()
            .map(|(nr, v)| (*nr, v.size))
            .collect(),
        snapshots: snaps,
        uuid: ctx.uuid(),
    };
    c.state
        .resource_definitions
        .get_mut(&n)
        .expect("checked")
        .snapshots
        .insert(sn.clone(), sd);
    ctx.ok(
        op,
        Obj::Snapshot,
        format!("New snapshot '{sn}' of '{n}' on {} nodes.", targets.len()),
    )
    .obj_refs
    .extend([
        ("RscDfn".to_owned(), n.to_string()),
        ("Snapshot".to_owned(), sn.to_string()),
    ]);
    ctx.created(ObjKey::SnapshotDfn {
        rsc_dfn: n,
        snapshot: sn,
    });
    Ok(())
}

pub(super) fn snapshot_delete(c: &mut Cluster, ctx: &mut Ctx<'_>, rd: &str, name: &str) -> Res {
    let (n, sn) = existing_snap(c, Op::Delete, rd, name)?;
    c.state
        .resource_definitions
        .get_mut(&n)
        .expect("checked")
        .snapshots
        .remove(&sn);
    ctx.ok(
        Op::Delete,
        Obj::Snapshot,
        format!("Snapshot '{sn}' of '{n}' deleted."),
    );
    ctx.deleted(ObjKey::SnapshotDfn {
        rsc_dfn: n,
        snapshot: sn,
    });
    Ok(())
}

pub(super) fn snapshot_restore(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    rd: &str,
    snap: &str,
    target: &str,
    nodes: &[String],
) -> Res {
    let op = Op::Create;
    let (n, sn) = existing_snap(c, op, rd, snap)?;
    let d = &c.state.resource_definitions[&n];
    let sd = &d.snapshots[&sn];
    let mut places = Vec::new();
    if nodes.is_empty() {
        places.extend(sd.snapshots.values().cloned());
    } else {
        for s in nodes {
            let nk = parse_name(op, Obj::Snapshot, code::INVLD_NODE_NAME, s, NodeName::new)?;
            let Some(sn_node) = sd.snapshots.get(&nk) else {
                return Err(fail(
                    op,
                    Obj::Snapshot,
                    code::NOT_FOUND_SNAPSHOT_DFN,
                    format!("Snapshot '{sn}' of '{n}' has no data on node '{nk}'"),
                )
                .correction("Restore on nodes that hold the snapshot."));
            };
            places.push(sn_node.clone());
        }
    }
    let sizes = sd.volume_sizes.clone();
    let rg = d.resource_group.clone();
    let layers = d.layer_stack.clone();
    let peer_slots = d.drbd.peer_slots;
    let empty = BTreeMap::new();
    let rd_args = RdCreateArgs {
        name: target,
        rsc_grp: Some(rg.as_str()),
        external_name: None,
        props: &empty,
        secret: None,
        peer_slots: Some(peer_slots),
        layer_stack: Some(layers),
    };
    let new = rd_create(c, ctx, rd_args)?;
    let res = (|| -> Res {
        for (nr, size) in &sizes {
            vd_create(
                c,
                ctx,
                new.as_str(),
                Some(*nr),
                *size,
                None,
                &BTreeMap::new(),
            )?;
        }
        for s in &places {
            let pool = s.volume_pools.values().next().map(ToString::to_string);
            let args = RscCreateArgs {
                pool: pool.as_deref(),
                diskless: false,
                client: false,
                props: &empty,
            };
            rsc_create(c, ctx, new.as_str(), s.node.as_str(), args)?;
        }
        Ok(())
    })();
    if let Err(e) = res {
        remove_rd(c, ctx, &new);
        return Err(e);
    }
    let d = c
        .state
        .resource_definitions
        .get_mut(&new)
        .expect("just created");
    d.flags.insert(RscDfnFlags::RESTORE_TARGET);
    d.props.set(keys::RESTORE_FROM_RESOURCE, n.as_str());
    d.props.set(keys::RESTORE_FROM_SNAPSHOT, sn.as_str());
    for r in d.resources.values_mut() {
        r.flags.insert(RscFlags::RESTORE_FROM_SNAPSHOT);
    }
    ctx.ok(
        op,
        Obj::Snapshot,
        format!(
            "Snapshot '{sn}' of '{n}' restored into new resource definition '{new}' on {} nodes.",
            places.len()
        ),
    );
    Ok(())
}

pub(super) fn kvs_modify(c: &mut Cluster, ctx: &mut Ctx<'_>, name: &str, m: &PropsModify) -> Res {
    let op = Op::Modify;
    let k = kvs_name(op, name)?;
    c.validate_modify(Obj::Kvs, Level::Kvs, m)?;
    let created = !c.state.key_value_stores.contains_key(&k);
    let kv = c
        .state
        .key_value_stores
        .entry(k.clone())
        .or_insert_with(|| KeyValueStore {
            name: k.clone(),
            props: Default::default(),
        });
    apply_modify(&mut kv.props, m, Level::Kvs);
    ctx.ok(
        op,
        Obj::Kvs,
        format!(
            "Key-value store '{k}' {}.",
            if created { "created" } else { "modified" }
        ),
    );
    if created {
        ctx.created(ObjKey::Kvs { name: k });
    } else {
        ctx.modified(ObjKey::Kvs { name: k });
    }
    Ok(())
}

pub(super) fn kvs_delete(c: &mut Cluster, ctx: &mut Ctx<'_>, name: &str) -> Res {
    let op = Op::Delete;
    let k = kvs_name(op, name)?;
    if c.state.key_value_stores.remove(&k).is_none() {
        return Err(fail(
            op,
            Obj::Kvs,
            code::NOT_FOUND_KVS,
            format!("Key-value store '{name}' not found"),
        )
        .correction("Check with `linstor key-value-store list`."));
    }
    ctx.ok(op, Obj::Kvs, format!("Key-value store '{k}' deleted."));
    ctx.deleted(ObjKey::Kvs { name: k });
    Ok(())
}
