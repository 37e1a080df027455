//! Commands on snapshots and key-value stores: create (one or many, all or nothing), delete,
//! restore (volume definitions, then resources), rollback.

use std::collections::BTreeMap;

use super::Cluster;
use super::api::{Command, ObjKey, SnapshotSpec};
use super::ctx::{BoxedEntry, Ctx, Res, fail};
use super::lookup::{
    existing_rd, existing_snap, found, kvs_name, live_rd, none_in_use, parse_name, rd_name,
    snap_name,
};
use super::numbers::free_rsc_numbers;
use super::ops_rsc::{RdCreateArgs, RscCreateArgs, rd_create, rsc_create, vd_create};
use super::prop_edit::{apply_modify, props_from};
use crate::keys;
use crate::model::{
    KeyValueStore, NodeFlags, Resource, ResourceDefinition, RscDfnFlags, RscFlags, Snapshot,
    SnapshotDefinition, SnapshotDfnFlags,
};
use crate::name::{NodeName, ResourceName, SnapshotName};
use crate::placement::filter::is_online;
use crate::props::{Level, PropsModify, kvs_key};
use crate::rc::{Obj, Op, code};
use crate::vec_map::VecMap;

/// Runs a command on a snapshot or a key-value store (routed here by `Cluster::dispatch`).
pub(super) fn run(c: &mut Cluster, ctx: &mut Ctx<'_>, cmd: Command) -> Res {
    use Command as C;
    match cmd {
        C::SnapshotCreate {
            rsc_dfn,
            name,
            nodes,
        } => snapshot_create(c, ctx, &rsc_dfn, &name, &nodes, &BTreeMap::new()),
        C::SnapshotDelete { rsc_dfn, name } => snapshot_delete(c, ctx, &rsc_dfn, &name),
        C::SnapshotRestore {
            rsc_dfn,
            snapshot,
            target,
            nodes,
        } => snapshot_restore(c, ctx, &rsc_dfn, &snapshot, &target, &nodes),
        C::SnapshotCreateMulti { snapshots } => snapshot_create_multi(c, ctx, &snapshots),
        C::SnapshotRestoreVlmDfn {
            rsc_dfn,
            snapshot,
            target,
        } => snapshot_restore_vd(c, ctx, &rsc_dfn, &snapshot, &target),
        C::SnapshotRollback { rsc_dfn, snapshot } => snapshot_rollback(c, ctx, &rsc_dfn, &snapshot),
        C::SnapshotReport {
            node,
            rsc_dfn,
            snapshot,
        } => snapshot_report(c, ctx, &node, &rsc_dfn, &snapshot),
        C::KvsModify { name, props } => kvs_modify(c, ctx, &name, &props),
        C::KvsDelete { name } => kvs_delete(c, ctx, &name),
        other => unreachable!("not a snapshot or key-value store command: {other:?}"),
    }
}

/// The nodes that take a snapshot of `d`, as LINSTOR's `CtrlSnapshotCrtHelper` decides: first
/// every diskful replica's pools must take snapshots and at least one diskful replica's satellite
/// must be ONLINE (FAIL_NOT_CONNECTED: a snapshot is taken by satellites, not recorded for later).
/// Then, without `nodes`, every diskful replica on an online node that is not being evacuated
/// (the others are left out with a warning: WARN_NOT_CONNECTED for an offline node); with
/// `nodes`, exactly those, each with a diskful replica and ONLINE.
fn snapshot_targets(
    c: &Cluster,
    ctx: &mut Ctx<'_>,
    op: Op,
    d: &ResourceDefinition,
    nodes: &[String],
) -> Res<Vec<NodeName>> {
    let n = &d.name;
    let online = |nk: &NodeName| is_online(&c.state, nk);
    let evacuating = |nk: &NodeName| {
        c.state
            .nodes
            .get(nk)
            .is_some_and(|nd| nd.flags.contains(NodeFlags::EVACUATE))
    };
    let diskful: Vec<&Resource> = d.live_resources().filter(|r| !r.is_diskless()).collect();
    for r in &diskful {
        supports_snapshots(c, op, r)?;
    }
    if !diskful.iter().any(|r| online(&r.node)) {
        return Err(fail(
            op,
            Obj::Snapshot,
            code::NOT_CONNECTED,
            format!("No diskful connected satellite for a snapshot of '{n}', or no resources"),
        )
        .cause("Snapshots are taken by the satellites of diskful replicas; none of them is ONLINE.")
        .correction("Deploy the resource with storage, or wait until a satellite with a replica is connected."));
    }
    if nodes.is_empty() {
        let mut targets = Vec::new();
        for r in diskful {
            // LINSTOR warns with a bare MASK_WARN for both; an offline node says so here.
            let (warning, skip) = if evacuating(&r.node) {
                (0, "is being evacuated")
            } else if !online(&r.node) {
                (code::WARN_NOT_CONNECTED, "is not connected")
            } else {
                targets.push(r.node.clone());
                continue;
            };
            ctx.warn(
                Obj::Snapshot,
                warning,
                format!(
                    "Snapshot of '{n}' will not be taken on node '{}': the node {skip}.",
                    r.node
                ),
            );
        }
        if targets.is_empty() {
            return Err(fail(
                op,
                Obj::Snapshot,
                code::NOT_FOUND_RSC,
                format!("No resources of '{n}' found for snapshotting"),
            )
            .correction("Wait until the evacuation is over, or name the nodes."));
        }
        return Ok(targets);
    }
    let mut targets: Vec<NodeName> = Vec::new();
    for s in nodes {
        let nk = parse_name(op, Obj::Snapshot, code::INVLD_NODE_NAME, s, NodeName::new)?;
        if targets.contains(&nk) {
            continue;
        }
        let Some(r) = d.resources.get(&nk).filter(|r| !r.is_deleting()) else {
            return Err(fail(
                op,
                Obj::Snapshot,
                code::NOT_FOUND_RSC,
                format!("Resource '{n}' has no live replica on node '{nk}'"),
            )
            .correction("Name only nodes that hold the data."));
        };
        if r.is_diskless() {
            return Err(fail(
                op,
                Obj::Snapshot,
                code::SNAPSHOTS_NOT_SUPPORTED,
                format!("Cannot create a snapshot from the diskless resource '{n}' on node '{nk}'"),
            )
            .correction("Name only nodes that hold the data."));
        }
        if !online(&nk) {
            return Err(fail(
                op,
                Obj::Snapshot,
                code::NOT_CONNECTED,
                format!("Node '{nk}' is not connected: it cannot take a snapshot of '{n}'"),
            )
            .correction("Wait until its satellite is connected, or leave the node out."));
        }
        targets.push(nk);
    }
    Ok(targets)
}

/// Refuses a diskful replica whose pools cannot take snapshots.
fn supports_snapshots(c: &Cluster, op: Op, r: &Resource) -> Res {
    let nk = &r.node;
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
    Ok(())
}

/// The snapshot of `d`'s replica on `nk` (a target of [`snapshot_targets`]).
fn node_snapshot(ctx: &mut Ctx<'_>, d: &ResourceDefinition, nk: &NodeName) -> Snapshot {
    let r = &d.resources[nk];
    let now = ctx.env.now_ms();
    Snapshot {
        node: nk.clone(),
        volume_pools: r
            .volumes
            .iter()
            .map(|(nr, v)| (*nr, v.storage_pool.clone()))
            .collect(),
        create_timestamp: now,
    }
}

pub(super) fn snapshot_create(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    rd: &str,
    name: &str,
    nodes: &[String],
    props: &BTreeMap<String, String>,
) -> Res {
    let op = Op::Create;
    let d = existing_rd(c, op, Obj::Snapshot, rd)?;
    let n = d.name.clone();
    let sn = snap_name(op, name)?;
    c.validate_props(op, Obj::Snapshot, Level::SnapshotDfn, props)?;
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
    let targets = snapshot_targets(c, ctx, op, d, nodes)?;
    let mut snaps = VecMap::new();
    for nk in &targets {
        snaps.insert(nk.clone(), node_snapshot(ctx, d, nk));
    }
    let sd = SnapshotDefinition {
        name: sn.clone(),
        props: props_from(props, Level::SnapshotDfn),
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
    let what = format!("snapshot '{name}' of resource definition '{rd}'");
    let looked_up = existing_snap(c, Op::Delete, rd, name);
    let Some((n, sn)) = found(ctx, Obj::Snapshot, &what, looked_up)? else {
        return Ok(());
    };
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

/// The per-node snapshots a restore deploys from: those on `nodes`, or all.
fn restore_places(
    c: &Cluster,
    op: Op,
    (n, sn): (&ResourceName, &SnapshotName),
    nodes: &[String],
) -> Res<Vec<Snapshot>> {
    let sd = &c.state.resource_definitions[n].snapshots[sn];
    if nodes.is_empty() {
        return Ok(sd.snapshots.values().cloned().collect());
    }
    let mut places = Vec::new();
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
    Ok(places)
}

/// Runs `f`, which changes only the resource definitions `rds` (it may create them) and the
/// observed state; on `Err` puts them back as they were and frees the numbers taken, so that
/// a refused command changes nothing.
pub(super) fn all_or_nothing<T>(
    c: &mut Cluster,
    rds: &[ResourceName],
    f: impl FnOnce(&mut Cluster) -> Res<T>,
) -> Res<T> {
    let saved: Vec<(ResourceName, Option<ResourceDefinition>)> = rds
        .iter()
        .map(|n| (n.clone(), c.state.resource_definitions.get(n).cloned()))
        .collect();
    let observed = c.state.observed.clone();
    let out = f(c);
    if out.is_err() {
        for (n, old) in saved {
            let now = match old {
                Some(d) => c.state.resource_definitions.insert(n.clone(), d),
                None => c.state.resource_definitions.remove(&n),
            };
            if let Some(now) = now {
                free_numbers_added(c, &n, &now);
            }
        }
        c.state.observed = observed;
    }
    out
}

/// Frees the minors and resource numbers `now` holds that the definition `n` (as it is back
/// again, or gone) does not.
fn free_numbers_added(c: &mut Cluster, n: &ResourceName, now: &ResourceDefinition) {
    let old = c.state.resource_definitions.get(n);
    let minors: Vec<u32> = now
        .volume_definitions
        .values()
        .filter(|vd| old.is_none_or(|d| !d.volume_definitions.contains_key(&vd.number)))
        .map(|vd| vd.minor)
        .collect();
    let rscs: Vec<&Resource> = now
        .resources
        .values()
        .filter(|r| old.is_none_or(|d| !d.resources.contains_key(&r.node)))
        .collect();
    for r in rscs {
        free_rsc_numbers(c, n, r);
    }
    for m in minors {
        c.idx.minors.remove(m);
    }
}

/// Creates the volume definitions of `target` from snapshot `sn` of `n`.
fn restore_vds(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    (n, sn): (&ResourceName, &SnapshotName),
    target: &ResourceName,
) -> Res {
    let sizes = c.state.resource_definitions[n].snapshots[sn]
        .volume_sizes
        .clone();
    let empty = BTreeMap::new();
    for (nr, size) in sizes {
        vd_create(c, ctx, target.as_str(), Some(nr), size, None, &empty)?;
    }
    Ok(())
}

/// Checks an existing restore target: live, without resources, and each volume definition in
/// the snapshot with its size (LINSTOR's rules; none at all is a warning).
fn check_restore_target(
    c: &Cluster,
    ctx: &mut Ctx<'_>,
    op: Op,
    (n, sn): (&ResourceName, &SnapshotName),
    target: &str,
) -> Res {
    let t = live_rd(c, op, Obj::Rsc, target)?;
    let tn = &t.name;
    if !t.resources.is_empty() {
        return Err(fail(
            op,
            Obj::Rsc,
            code::EXISTS_RSC,
            format!("Cannot restore to resource definition '{tn}' which already has resources"),
        )
        .correction("Restore into a new resource definition, or delete its resources first."));
    }
    let sizes = &c.state.resource_definitions[n].snapshots[sn].volume_sizes;
    for (nr, vd) in &t.volume_definitions {
        match sizes.get(nr) {
            None => return Err(fail(op, Obj::Rsc, code::NOT_FOUND_SNAPSHOT_VLM_DFN, format!("Snapshot '{sn}' of '{n}' does not contain volume number {nr} of '{tn}'"))
                .correction("Delete that volume definition of the target, or restore from a snapshot that has it.")),
            Some(s) if *s != vd.size => return Err(fail(op, Obj::Rsc, code::INVLD_VLM_SIZE, format!("Snapshot size does not match for volume number {nr}; snapshot size: {s}, required size: {}", vd.size))
                .correction("Give the target's volume definitions the snapshot's sizes (snapshot-restore-volume-definition creates them so).")),
            Some(_) => {}
        }
    }
    if t.volume_definitions.is_empty() {
        ctx.warn(Obj::Rsc, code::WARN_NOT_FOUND, format!("No volumes to restore: '{tn}' has no volume definitions, so the restored resources will be empty."));
    }
    Ok(())
}

/// Creates the restore target `target` like the snapshot's definition (group, layers, peer
/// slots), with its volume definitions.
fn create_restore_target(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    (n, sn): (&ResourceName, &SnapshotName),
    target: &str,
) -> Res<ResourceName> {
    let d = &c.state.resource_definitions[n];
    let rg = d.resource_group.clone();
    let empty = BTreeMap::new();
    let rd_args = RdCreateArgs {
        name: target,
        rsc_grp: Some(rg.as_str()),
        external_name: None,
        props: &empty,
        secret: None,
        peer_slots: Some(d.drbd.peer_slots),
        layer_stack: Some(d.layer_stack.to_vec()),
    };
    let new = rd_create(c, ctx, rd_args)?;
    restore_vds(c, ctx, (n, sn), &new)?;
    Ok(new)
}

/// `SnapshotRestore`: deploys the snapshot's data as resources of `target`, which exists (as
/// the real clients make it: resource-definition create, then `SnapshotRestoreVlmDfn`) or is
/// created like the source. All or nothing.
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
    let places = restore_places(c, op, (&n, &sn), nodes)?;
    let tn = rd_name(op, target)?;
    let exists = c.state.resource_definitions.contains_key(&tn);
    all_or_nothing(c, std::slice::from_ref(&tn), |c| {
        if exists {
            check_restore_target(c, ctx, op, (&n, &sn), target)?;
        } else {
            create_restore_target(c, ctx, (&n, &sn), target)?;
        }
        let empty = BTreeMap::new();
        for s in &places {
            let pool = s.volume_pools.values().next().map(ToString::to_string);
            let args = RscCreateArgs {
                pool: pool.as_deref(),
                diskless: false,
                client: false,
                props: &empty,
            };
            rsc_create(c, ctx, tn.as_str(), s.node.as_str(), args)?;
        }
        Ok(())
    })?;
    let d = c.state.resource_definitions.get_mut(&tn).expect("restored");
    d.flags.insert(RscDfnFlags::RESTORE_TARGET);
    d.props.set(keys::RESTORE_FROM_RESOURCE, n.as_str());
    d.props.set(keys::RESTORE_FROM_SNAPSHOT, sn.as_str());
    for r in d.resources.values_mut() {
        r.flags.insert(RscFlags::RESTORE_FROM_SNAPSHOT);
    }
    if exists {
        ctx.modified(ObjKey::RscDfn {
            rsc_dfn: tn.clone(),
        });
    }
    ctx.ok(
        op,
        Obj::Snapshot,
        format!(
            "Snapshot '{sn}' of '{n}' restored into resource definition '{tn}' on {} nodes.",
            places.len()
        ),
    );
    Ok(())
}

/// `SnapshotRestoreVlmDfn`: the volume definitions of `target` (which exists, live, without
/// any) from the snapshot's.
pub(super) fn snapshot_restore_vd(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    rd: &str,
    snap: &str,
    target: &str,
) -> Res {
    let op = Op::Create;
    let (n, sn) = existing_snap(c, op, rd, snap)?;
    let t = live_rd(c, op, Obj::VlmDfn, target)?;
    let tn = t.name.clone();
    if !t.volume_definitions.is_empty() {
        let nrs: Vec<String> = t.volume_definitions.keys().map(u16::to_string).collect();
        return Err(fail(
            op,
            Obj::VlmDfn,
            code::EXISTS_VLM_DFN,
            format!("Resource definition '{tn}' already has volume definitions"),
        )
        .cause(format!("Volume numbers: {}.", nrs.join(", ")))
        .correction("Restore the volume definitions into a resource definition without any."));
    }
    all_or_nothing(c, std::slice::from_ref(&tn), |c| {
        restore_vds(c, ctx, (&n, &sn), &tn)
    })?;
    ctx.ok(
        op,
        Obj::Snapshot,
        format!("Volume definitions of resource definition '{tn}' restored from resource '{n}', snapshot '{sn}'."),
    );
    Ok(())
}

/// `SnapshotCreateMulti`: every snapshot or none.
pub(super) fn snapshot_create_multi(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    specs: &[SnapshotSpec],
) -> Res {
    if specs.is_empty() {
        return Err(fail(
            Op::Create,
            Obj::Snapshot,
            code::INVLD_REQUEST,
            "No snapshot to take",
        )
        .correction("List at least one resource definition and snapshot name."));
    }
    let rds: Vec<ResourceName> = specs
        .iter()
        .filter_map(|s| ResourceName::new(&s.rsc_dfn).ok())
        .collect();
    all_or_nothing(c, &rds, |c| {
        for s in specs {
            snapshot_create(c, ctx, &s.rsc_dfn, &s.name, &s.nodes, &s.props)?;
        }
        Ok(())
    })
}

/// `SnapshotRollback`: checks LINSTOR's conditions, then records the snapshot as every
/// resource's `RollbackTarget` (the satellites take the resource down, roll its volumes back
/// and bring it up again).
pub(super) fn snapshot_rollback(c: &mut Cluster, ctx: &mut Ctx<'_>, rd: &str, snap: &str) -> Res {
    let op = Op::Modify;
    let (n, sn) = existing_snap(c, op, rd, snap)?;
    let d = live_rd(c, op, Obj::Snapshot, rd)?;
    check_rollback(c, op, d, &sn)?;
    // Apply.
    let d = c.state.resource_definitions.get_mut(&n).expect("checked");
    let nodes: Vec<NodeName> = d.live_resources().map(|r| r.node.clone()).collect();
    for nk in nodes {
        let r = d.resources.get_mut(&nk).expect("listed");
        r.props.set(keys::ROLLBACK_TARGET, sn.as_str());
        ctx.modified(ObjKey::Rsc {
            rsc_dfn: n.clone(),
            node: nk,
        });
    }
    ctx.ok(
        op,
        Obj::Snapshot,
        format!("Resource definition '{n}' is rolled back to snapshot '{sn}'."),
    )
    .obj_refs
    .extend([
        ("RscDfn".to_owned(), n.to_string()),
        ("Snapshot".to_owned(), sn.to_string()),
    ]);
    Ok(())
}

/// A rollback's conditions: the snapshot is successful and has every volume with its size on
/// every node with a disk; no rollback is pending; no resource is in use.
fn check_rollback(c: &Cluster, op: Op, d: &ResourceDefinition, sn: &SnapshotName) -> Res {
    let n = &d.name;
    let sd = &d.snapshots[sn];
    if !sd.flags.contains(SnapshotDfnFlags::SUCCESSFUL) {
        return Err(fail(
            op,
            Obj::Snapshot,
            code::UNKNOWN_ERROR,
            "Unable to use failed snapshot",
        )
        .cause(format!(
            "Snapshot '{sn}' of '{n}' is not SUCCESSFUL: it has not been taken on every node."
        ))
        .correction("Wait until the snapshot is SUCCESSFUL, or roll back to another snapshot."));
    }
    if let Some(r) = d
        .resources
        .values()
        .find(|r| r.props.get(keys::ROLLBACK_TARGET).is_some())
    {
        return Err(fail(
            op,
            Obj::Snapshot,
            code::SNAPSHOT_ROLLBACK_IN_PROGRESS,
            "A rollback for this resource is already in progress!",
        )
        .cause(format!(
            "Resource '{n}' on node '{}' is still being rolled back.",
            r.node
        ))
        .correction("Wait until the running rollback is finished."));
    }
    let vds: Vec<(u16, crate::size::SizeKib)> = d
        .volume_definitions
        .iter()
        .map(|(nr, v)| (*nr, v.size))
        .collect();
    let snap: Vec<(u16, crate::size::SizeKib)> =
        sd.volume_sizes.iter().map(|(nr, s)| (*nr, *s)).collect();
    if vds != snap {
        return Err(fail(op, Obj::Snapshot, code::NOT_FOUND_SNAPSHOT, "Some volumes were not captured by the snapshot. Cannot rollback.")
            .cause(format!("'{n}' has volumes (number, size) {vds:?}; snapshot '{sn}' has {snap:?}."))
            .correction("Roll back to a snapshot taken with the current volumes, or restore the snapshot into a new resource definition."));
    }
    for r in d.live_resources().filter(|r| !r.is_diskless()) {
        if !sd.snapshots.contains_key(&r.node) {
            return Err(fail(op, Obj::Snapshot, code::NOT_FOUND_SNAPSHOT, format!("Snapshot '{sn}' of '{n}' has no data on node '{}'", r.node))
                .cause("Every node with a disk must roll back to the same data.")
                .correction("Roll back to a snapshot taken on every node with a disk, or remove the disk on that node first (toggle-disk)."));
        }
    }
    none_in_use(c, op, Obj::Snapshot, d)
}

/// The modify request with its keys as the store keeps them (`props::kvs_key`): new keys
/// validated, deleted keys and namespaces normalized (one that names nothing deletes nothing).
/// No namespace is reserved in a key-value store.
fn kvs_keys(c: &Cluster, m: &PropsModify) -> Res<PropsModify> {
    let op = Op::Modify;
    c.validate_props(op, Obj::Kvs, Level::Kvs, &m.override_props)?;
    let key = |k: &String| kvs_key(k).unwrap_or_else(|_| k.clone());
    Ok(PropsModify {
        override_props: m
            .override_props
            .iter()
            .map(|(k, v)| (key(k), v.clone()))
            .collect(),
        delete_props: m.delete_props.iter().map(key).collect(),
        delete_namespaces: m.delete_namespaces.iter().map(key).collect(),
    })
}

pub(super) fn kvs_modify(c: &mut Cluster, ctx: &mut Ctx<'_>, name: &str, m: &PropsModify) -> Res {
    let op = Op::Modify;
    let k = kvs_name(op, name)?;
    let m = &kvs_keys(c, m)?;
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
        let missing = Err(fail(
            op,
            Obj::Kvs,
            code::NOT_FOUND_KVS,
            format!("Key-value store '{name}' not found"),
        ));
        found::<()>(ctx, Obj::Kvs, &format!("key-value store '{name}'"), missing)?;
        return Ok(());
    }
    ctx.ok(op, Obj::Kvs, format!("Key-value store '{k}' deleted."));
    ctx.deleted(ObjKey::Kvs { name: k });
    Ok(())
}

/// A satellite has taken snapshot `snap` completely on `node`; when every node of the
/// snapshot has, it becomes `SUCCESSFUL` (LINSTOR's last stage of a snapshot).
pub(super) fn snapshot_report(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    node: &str,
    rd: &str,
    snap: &str,
) -> Res {
    let op = Op::Modify;
    let (n, sn) = existing_snap(c, op, rd, snap)?;
    let nk = super::lookup::existing_node(c, op, Obj::Node, node)?
        .name
        .clone();
    let sd = &c.state.resource_definitions[&n].snapshots[&sn];
    if !sd.snapshots.contains_key(&nk) {
        return Err(fail(
            op,
            Obj::Snapshot,
            code::NOT_FOUND_SNAPSHOT,
            format!("Snapshot '{sn}' of '{n}' is not taken on node '{nk}'."),
        )
        .correction("Only nodes the snapshot was created on report it; check the node name."));
    }
    let nodes: Vec<NodeName> = sd.snapshots.keys().cloned().collect();
    let o = c.state.observed.nodes.entry(nk.clone()).or_default();
    o.snapshots.insert((n.clone(), sn.clone()));
    ctx.modified(ObjKey::Observed { node: nk.clone() });
    let observed = &c.state.observed.nodes;
    let all = nodes.iter().all(|node| {
        observed
            .get(node)
            .is_some_and(|o| o.snapshots.contains(&(n.clone(), sn.clone())))
    });
    let sd = c
        .state
        .resource_definitions
        .get_mut(&n)
        .and_then(|d| d.snapshots.get_mut(&sn))
        .expect("checked");
    if all && !sd.flags.contains(SnapshotDfnFlags::SUCCESSFUL) {
        sd.flags.insert(SnapshotDfnFlags::SUCCESSFUL);
        ctx.modified(ObjKey::SnapshotDfn {
            rsc_dfn: n.clone(),
            snapshot: sn.clone(),
        });
    }
    ctx.ok(
        op,
        Obj::Snapshot,
        format!("Snapshot '{sn}' of '{n}' is taken on '{nk}'."),
    );
    Ok(())
}
