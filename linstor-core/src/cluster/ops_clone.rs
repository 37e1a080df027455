//! `RscDfnClone`: a new resource definition that copies another one's data (LINSTOR's
//! `resource-definition clone`).
//!
//! The decision, as LINSTOR's `CtrlRscDfnApiCallHandler.cloneRscDfn` makes it:
//! - the source is live; every diskful DRBD resource of it that is active is reported
//!   UpToDate (an unreported one is not: `FAIL_NOT_ALL_UPTODATE`) and has no
//!   `DrbdOptions/SkipDisk`; its providers can clone (not FILE, FILE_THIN);
//! - the clone gets the source's volume definitions (numbers, sizes, properties, flags), its
//!   properties changed by the request and marked `cloned-from` = source (and
//!   `use-zfs-clone` when asked, or when the source's group says `UseZFSClone`), its peer slots,
//!   and its group and layer stack unless the request names others;
//! - each active resource of the source gets a copy on its node, in its pool (with the
//!   request's group, the first pool of that group's list the node has, when the source's pool
//!   is not listed), with its diskless flavour and its and its volumes' properties.
//!
//! All or nothing. Where LINSTOR places the copies with its autoplacer over the clone group's
//! filter, the source's pools are kept here; LINSTOR's `CLONING` flag (cleared when its
//! satellites report the copy done) is not set: `Cluster::clone_status` reads the reports.

use std::collections::BTreeMap;

use super::Cluster;
use super::api::Command;
use super::ctx::{BoxedEntry, Ctx, Res, fail};
use super::lookup::{existing_rg, live_rd, rd_name};
use super::ops_rsc::{RdCreateArgs, RscCreateArgs, rd_create, rsc_create, vd_create};
use super::ops_snap::all_or_nothing;
use super::prop_edit::apply_modify;
use crate::keys;
use crate::model::{LayerKind, Resource, ResourceDefinition, RscFlags, VlmDfnFlags};
use crate::name::{NodeName, ResourceGroupName, ResourceName, StorPoolName};
use crate::props::{Level, Props, PropsModify, parse_bool};
use crate::rc::{Obj, Op, code};

/// Runs `RscDfnClone` (routed here by `Cluster::dispatch`); answers the clone's name, for the
/// quorum helpers that follow.
pub(super) fn run(c: &mut Cluster, ctx: &mut Ctx<'_>, cmd: Command) -> Res<String> {
    let Command::RscDfnClone {
        rsc_dfn,
        name,
        external_name,
        rsc_grp,
        layer_stack,
        use_zfs_clone,
        props,
    } = cmd
    else {
        unreachable!("not a clone: {cmd:?}")
    };
    let args = CloneArgs {
        source: &rsc_dfn,
        name: &name,
        external_name,
        rsc_grp: rsc_grp.as_deref(),
        layer_stack,
        use_zfs_clone,
        props: &props,
    };
    clone_rd(c, ctx, args)
}

/// The request's fields.
struct CloneArgs<'a> {
    source: &'a str,
    name: &'a str,
    external_name: Option<String>,
    rsc_grp: Option<&'a str>,
    layer_stack: Option<Vec<LayerKind>>,
    use_zfs_clone: Option<bool>,
    props: &'a PropsModify,
}

/// One resource of the clone: where, in which pool, and what it copies.
struct Replica {
    node: NodeName,
    pool: StorPoolName,
    diskless: bool,
    client: bool,
    tiebreaker: bool,
    props: Props,
    volume_props: Vec<(u16, Props)>,
}

fn clone_rd(c: &mut Cluster, ctx: &mut Ctx<'_>, a: CloneArgs<'_>) -> Res<String> {
    let op = Op::Create;
    let src = live_rd(c, op, Obj::RscDfn, a.source)?;
    let sn = src.name.clone();
    if a.name.is_empty() && a.external_name.is_none() {
        return Err(fail(
            op,
            Obj::RscDfn,
            code::INVLD_RSC_NAME,
            "No name for the cloned resource was specified",
        )
        .correction("Give the clone a name (or an external name to generate one from)."));
    }
    check_clone_props(c, a.props)?;
    let group = a
        .rsc_grp
        .map(|g| existing_rg(c, op, Obj::RscDfn, g))
        .transpose()?;
    let copies = plan_copies(c, &sn, group.as_ref())?;
    let tn = rd_name(op, a.name)?;
    all_or_nothing(c, std::slice::from_ref(&tn), |c| {
        create_clone_rd(c, ctx, &sn, &a, group.as_ref())?;
        copies
            .iter()
            .try_for_each(|cp| deploy_copy(c, ctx, &tn, cp))
    })?;
    ctx.ok(
        op,
        Obj::RscDfn,
        format!(
            "Resource definition '{sn}' cloned into '{tn}' with {} resources; their satellites copy the data (see the clone status).",
            copies.len()
        ),
    )
    .obj_refs
    .insert("RscDfn".into(), tn.to_string());
    Ok(tn.to_string())
}

/// The property changes must be valid on a definition; `DrbdOptions/ExactSize` cannot be
/// switched on for a definition that is deployed at once (LINSTOR's rule).
fn check_clone_props(c: &Cluster, m: &PropsModify) -> Res {
    c.validate_modify(Obj::RscDfn, Level::RscDfn, m)?;
    let exact = m.override_props.get(keys::EXACT_SIZE);
    if exact.and_then(|v| parse_bool(v)).unwrap_or(false) {
        return Err(fail(
            Op::Create,
            Obj::RscDfn,
            code::INVLD_PROP,
            format!("The property '{}' cannot be set to True on a clone", keys::EXACT_SIZE),
        )
        .cause("The clone is deployed at once, and ExactSize can only be switched on before a definition has resources.")
        .correction("Leave it out, or set it on the source before it is deployed."));
    }
    Ok(())
}

/// The source's active resources (LINSTOR skips inactive ones), checked, with their copies'
/// pools.
fn plan_copies(
    c: &Cluster,
    sn: &ResourceName,
    group: Option<&ResourceGroupName>,
) -> Res<Vec<Replica>> {
    let d = &c.state.resource_definitions[sn];
    let active: Vec<&Resource> = d
        .live_resources()
        .filter(|r| !r.flags.contains(RscFlags::INACTIVE))
        .collect();
    for r in &active {
        check_source(c, d, r)?;
    }
    active.iter().map(|r| copy_of(c, r, group)).collect()
}

/// A source resource can be cloned: no skipped disk, its data UpToDate, providers that clone.
fn check_source(c: &Cluster, d: &ResourceDefinition, r: &Resource) -> Res {
    let op = Op::Create;
    let (n, nk) = (&d.name, &r.node);
    let skip = c
        .chains()
        .skip_disk(n, nk)
        .get(keys::SKIP_DISK)
        .and_then(parse_bool);
    if skip.unwrap_or(false) {
        return Err(fail(
            op,
            Obj::RscDfn,
            code::INVLD_RSC_STATE,
            format!("Resource '{n}' on node '{nk}' has skip-disk set, unable to clone"),
        )
        .cause(format!(
            "{} is true there: its disk failed.",
            keys::SKIP_DISK
        ))
        .correction("Repair or replace that disk first (then clear DrbdOptions/SkipDisk)."));
    }
    if r.is_diskless() {
        return Ok(());
    }
    if d.layer_stack.contains(&LayerKind::DRBD) && !c.reported_up_to_date(n, r) {
        return Err(fail(op, Obj::RscDfn, code::NOT_ALL_UPTODATE, format!("Cannot clone resource definition '{n}': its resource on node '{nk}' is not UpToDate"))
            .cause("Its satellite has not reported the resource UpToDate (it is syncing, or the node is not connected); the copy would start from stale data.")
            .correction(format!("Wait until '{n}' is in sync on every node (GET /v1/resource-definitions/{n}/sync-status), then clone.")));
    }
    for v in r.volumes.values() {
        let kind = c.state.storage_pool(nk, &v.storage_pool).map(|p| p.kind);
        if let Some(k) = kind.filter(|k| !k.caps().clone) {
            return Err(fail(op, Obj::RscDfn, code::INVLD_PROVIDER, "Clone source contains unsupported storage pools")
                .cause(format!("Volume {} of '{n}' on node '{nk}' is in pool '{}' ({k}), which cannot be cloned.", v.number, v.storage_pool))
                .correction("Clone definitions on LVM, LVM_THIN, ZFS or ZFS_THIN pools; copy FILE volumes by other means."));
        }
    }
    Ok(())
}

/// The copy of `r`: its node, flavour and properties, and its pool (see [`clone_pool`]).
fn copy_of(c: &Cluster, r: &Resource, group: Option<&ResourceGroupName>) -> Res<Replica> {
    let src_pool = r
        .volumes
        .values()
        .next()
        .map(|v| v.storage_pool.clone())
        .or_else(|| {
            r.props
                .get(keys::STOR_POOL_NAME)
                .and_then(|p| StorPoolName::new(p).ok())
        })
        .ok_or_else(|| {
            fail(
                Op::Create,
                Obj::Rsc,
                code::INVLD_STOR_POOL_NAME,
                format!(
                    "No storage pool known for the resource on node '{}'",
                    r.node
                ),
            )
            .correction("Set StorPoolName on the source resource.")
        })?;
    let pool = match group {
        Some(g) if !r.is_diskless() => clone_pool(c, g, &r.node, src_pool)?,
        _ => src_pool,
    };
    Ok(Replica {
        node: r.node.clone(),
        pool,
        diskless: r.is_diskless(),
        client: r.drbd_client,
        tiebreaker: r.flags.contains(RscFlags::TIE_BREAKER),
        props: r.props.clone(),
        volume_props: r
            .volumes
            .values()
            .map(|v| (v.number, v.props.clone()))
            .collect(),
    })
}

/// The pool of a disk copied into group `g`: the source's if `g` lists it (or lists none),
/// else the first listed pool with storage that `node` has.
fn clone_pool(
    c: &Cluster,
    g: &ResourceGroupName,
    node: &NodeName,
    src_pool: StorPoolName,
) -> Res<StorPoolName> {
    let Some(list) = c.state.resource_groups[g].select_filter.pool_list() else {
        return Ok(src_pool);
    };
    if list.contains(&src_pool) {
        return Ok(src_pool);
    }
    let have = |p: &&StorPoolName| {
        c.state
            .storage_pool(node, p)
            .is_some_and(|sp| sp.kind.is_diskful())
    };
    list.iter().find(have).cloned().ok_or_else(|| {
        let names: Vec<&str> = list.iter().map(StorPoolName::as_str).collect();
        fail(
            Op::Create,
            Obj::Rsc,
            code::NOT_FOUND_STOR_POOL,
            format!(
                "Node '{node}' has none of the storage pools of resource group '{g}' for the clone"
            ),
        )
        .cause(format!(
            "The group lists {}; the source's pool '{src_pool}' is not among them.",
            names.join(", ")
        ))
        .correction(
            "Clone into a group whose pools the source's nodes have, or without naming a group.",
        )
    })
}

/// The clone's definition: created like the source (peer slots, group, layers unless the
/// request names others), its properties and volume definitions copied.
fn create_clone_rd(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    sn: &ResourceName,
    a: &CloneArgs<'_>,
    group: Option<&ResourceGroupName>,
) -> Res<ResourceName> {
    let d = &c.state.resource_definitions[sn];
    let rg = group.unwrap_or(&d.resource_group).clone();
    let zfs = a.use_zfs_clone.or_else(|| {
        let policy = c.chains().rsc_grp_policy(&d.resource_group);
        policy.get(keys::USE_ZFS_CLONE).and_then(parse_bool)
    });
    let empty = BTreeMap::new();
    let rd_args = RdCreateArgs {
        name: a.name,
        rsc_grp: Some(rg.as_str()),
        external_name: a.external_name.clone(),
        props: &empty,
        secret: None,
        peer_slots: Some(d.drbd.peer_slots),
        layer_stack: Some(
            a.layer_stack
                .clone()
                .unwrap_or_else(|| d.layer_stack.to_vec()),
        ),
    };
    let tn = rd_create(c, ctx, rd_args)?;
    copy_rd_props(c, sn, &tn, a.props, zfs.unwrap_or(false));
    copy_vds(c, ctx, sn, &tn)?;
    Ok(tn)
}

/// The source's properties (but where it was restored from), the request's changes, and the
/// clone markers.
fn copy_rd_props(
    c: &mut Cluster,
    sn: &ResourceName,
    tn: &ResourceName,
    m: &PropsModify,
    zfs: bool,
) {
    let mut p = c.state.resource_definitions[sn].props.clone();
    p.remove(keys::RESTORE_FROM_RESOURCE);
    p.remove(keys::RESTORE_FROM_SNAPSHOT);
    apply_modify(&mut p, m, Level::RscDfn);
    p.set(keys::CLONED_FROM, sn.as_str());
    if zfs {
        p.set(keys::CLONE_USE_ZFS_CLONE, "true");
    }
    c.state
        .resource_definitions
        .get_mut(tn)
        .expect("just created")
        .props = p;
}

/// The source's volume definitions: same numbers and sizes, new minors, the source's
/// properties and flags (but deletion and resize in progress).
fn copy_vds(c: &mut Cluster, ctx: &mut Ctx<'_>, sn: &ResourceName, tn: &ResourceName) -> Res {
    let vds: Vec<_> = c.state.resource_definitions[sn]
        .volume_definitions
        .values()
        .map(|v| (v.number, v.size, v.props.clone(), v.flags))
        .collect();
    let empty = BTreeMap::new();
    for (nr, size, props, mut flags) in vds {
        vd_create(c, ctx, tn.as_str(), Some(nr), size, None, &empty)?;
        flags.remove(VlmDfnFlags::DELETE);
        flags.remove(VlmDfnFlags::RESIZE);
        let d = c.state.resource_definitions.get_mut(tn).expect("created");
        let vd = d.volume_definitions.get_mut(&nr).expect("created");
        vd.props = props;
        vd.flags = flags;
    }
    Ok(())
}

/// Deploys one copy on its node and gives it the source resource's flavour and properties.
fn deploy_copy(c: &mut Cluster, ctx: &mut Ctx<'_>, tn: &ResourceName, cp: &Replica) -> Res {
    let empty = BTreeMap::new();
    let args = RscCreateArgs {
        pool: Some(cp.pool.as_str()),
        diskless: cp.diskless,
        client: cp.client,
        props: &empty,
    };
    rsc_create(c, ctx, tn.as_str(), cp.node.as_str(), args)?;
    let d = c.state.resource_definitions.get_mut(tn).expect("created");
    let drbd = d.layer_stack.contains(&LayerKind::DRBD);
    let r = d.resources.get_mut(&cp.node).expect("created");
    if cp.tiebreaker && drbd {
        r.flags.insert(RscFlags::TIE_BREAKER);
    }
    let mut props = cp.props.clone();
    props.set(keys::STOR_POOL_NAME, cp.pool.as_str());
    r.props = props;
    for (nr, p) in &cp.volume_props {
        if let Some(v) = r.volumes.get_mut(nr) {
            v.props = p.clone();
        }
    }
    Ok(())
}
