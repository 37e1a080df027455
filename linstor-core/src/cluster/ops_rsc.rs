//! Commands on resource definitions, volume definitions and resources, and the resource
//! primitives other commands build on (`rd_create`, `vd_create`, `rsc_create`, `remove_rd`).
//!
//! Deploying or deleting a replica changes what quorum needs: `Cluster::dispatch` runs the
//! quorum helpers after the replica commands ([`run_replica`]); commands that create replicas
//! through these primitives run them themselves.

use std::collections::BTreeMap;

use super::Cluster;
use super::api::{Command, ObjKey};
use super::ctx::{BoxedEntry, Ctx, Res, fail};
use super::env::base64;
use super::lookup::{
    existing_node, existing_rd, existing_rg, existing_rsc, found, live_rd, none_in_use, pool_name,
    rd_name,
};
use super::numbers::{alloc_node_id, alloc_port, choose_minor, choose_vlm_nr, free_rsc_numbers};
use super::prop_edit::{apply_modify, props_from};
use crate::keys;
use crate::model::{
    DrbdRscDfnData, LayerKind, NodeFlags, ProviderKind, Resource, ResourceDefinition, RscDfnFlags,
    RscFlags, VlmDfnFlags, Volume, VolumeDefinition,
};
use crate::name::{NodeName, ResourceName, StorPoolName, well_known};
use crate::props::{Level, Props, PropsModify, parse_bool};
use crate::rc::{Obj, Op, code};
use crate::size::SizeKib;
use crate::vec_map::VecMap;

/// Runs a command on a resource or volume definition, or a satellite's resource report (routed
/// here by `Cluster::dispatch`).
pub(super) fn run(c: &mut Cluster, ctx: &mut Ctx<'_>, cmd: Command) -> Res {
    use Command as C;
    match cmd {
        C::RscDfnCreate {
            name,
            rsc_grp,
            external_name,
            props,
            secret,
            peer_slots,
            layer_stack,
        } => {
            let args = RdCreateArgs {
                name: &name,
                rsc_grp: rsc_grp.as_deref(),
                external_name,
                props: &props,
                secret,
                peer_slots,
                layer_stack,
            };
            rd_create(c, ctx, args).map(drop)
        }
        C::RscDfnModify {
            name,
            props,
            peer_slots,
            rsc_grp,
        } => rd_modify(c, ctx, &name, &props, peer_slots, rsc_grp.as_deref()),
        C::RscDfnDelete { name } => rd_delete(c, ctx, &name),
        C::VlmDfnCreate {
            rsc_dfn,
            number,
            size,
            minor,
            props,
        } => vd_create(c, ctx, &rsc_dfn, number, size, minor, &props),
        C::VlmDfnResize {
            rsc_dfn,
            number,
            size,
        } => vd_resize(c, ctx, &rsc_dfn, number, size),
        C::VlmDfnModify {
            rsc_dfn,
            number,
            props,
            size,
        } => vd_modify(c, ctx, (&rsc_dfn, number), &props, size),
        C::VlmDfnDelete { rsc_dfn, number } => vd_delete(c, ctx, &rsc_dfn, number),
        C::RscReport {
            node,
            rsc_dfn,
            state,
        } => report_rsc(c, ctx, &node, &rsc_dfn, state),
        other => unreachable!("not a definition command: {other:?}"),
    }
}

/// Runs `RscCreate`, `RscDelete` or `RscDeleteConfirmed` (routed here by `Cluster::dispatch`);
/// answers the resource definition as given, for the quorum helpers that follow (`None` when
/// nothing changed: the resource to delete did not exist).
pub(super) fn run_replica(c: &mut Cluster, ctx: &mut Ctx<'_>, cmd: Command) -> Res<Option<String>> {
    use Command as C;
    match cmd {
        C::RscCreate {
            rsc_dfn,
            node,
            storage_pool,
            diskless,
            drbd_client,
            props,
        } => {
            let args = RscCreateArgs {
                pool: storage_pool.as_deref(),
                diskless,
                client: drbd_client,
                props: &props,
            };
            rsc_create(c, ctx, &rsc_dfn, &node, args)?;
            Ok(Some(rsc_dfn))
        }
        C::RscDelete { rsc_dfn, node } => {
            rsc_delete(c, ctx, &rsc_dfn, &node).map(|found| found.then_some(rsc_dfn))
        }
        C::RscDeleteConfirmed { rsc_dfn, node } => {
            rsc_deleted(c, ctx, &rsc_dfn, &node).map(|()| Some(rsc_dfn))
        }
        other => unreachable!("not a replica command: {other:?}"),
    }
}

/// Largest volume size we accept: 2^44 KiB (16 PiB).
pub const MAX_VLM_SIZE: SizeKib = SizeKib(1 << 44);
/// Default DRBD peer slots.
pub const DEFAULT_PEER_SLOTS: u8 = 7;

fn random_hex(ctx: &mut Ctx<'_>) -> String {
    let mut b = [0u8; 8];
    ctx.env.fill_random(&mut b);
    b.iter().map(|x| format!("{x:02X}")).collect()
}

fn check_layer_stack(op: Op, stack: &[LayerKind]) -> Res {
    let bad = |why: &str| {
        Err(fail(
            op,
            Obj::RscDfn,
            code::INVLD_LAYER_STACK,
            format!("Invalid layer stack {stack:?}"),
        )
        .cause(why.to_owned())
        .correction("Use e.g. DRBD,STORAGE or DRBD,LUKS,STORAGE or STORAGE."))
    };
    if stack.is_empty() {
        return bad("The stack is empty.");
    }
    if stack.last() != Some(&LayerKind::STORAGE) {
        return bad("The lowest layer must be STORAGE.");
    }
    for (i, l) in stack.iter().enumerate() {
        if stack[..i].contains(l) {
            return bad("A layer appears twice.");
        }
    }
    if stack
        .iter()
        .position(|l| *l == LayerKind::DRBD)
        .is_some_and(|p| p != 0)
    {
        return bad("DRBD must be the topmost layer.");
    }
    Ok(())
}

/// A resource definition create, spawn or clone with an empty name and an external name, with the name
/// LINSTOR generates from the external name ([`ResourceName::from_external`]; `LS_<external
/// name>` translated when that gives none). Where LINSTOR takes a random `LS_<UUID>` for a name
/// that is taken, the first free `<name>_<k>` (k = 2, 3, …, cut to 48 bytes) is taken here, so the
/// name depends on the state only. Every other command is returned as it is; so is one whose
/// external name is refused later anyway (`rd_create` checks it).
pub(super) fn named_from_external(c: &Cluster, mut cmd: Command) -> Command {
    let (name, external) = match &mut cmd {
        Command::RscDfnCreate {
            name,
            external_name: Some(e),
            ..
        }
        | Command::RscGrpSpawn {
            rsc_dfn: name,
            external_name: Some(e),
            ..
        }
        | Command::RscDfnClone {
            name,
            external_name: Some(e),
            ..
        } if name.is_empty() => (name, e.as_str()),
        _ => return cmd,
    };
    let Some(base) = ResourceName::from_external(external)
        .or_else(|| ResourceName::from_external(&format!("LS_{external}")))
    else {
        return cmd;
    };
    let taken = |n: &ResourceName| c.state.resource_definitions.contains_key(n);
    let free = std::iter::once(base.clone())
        .chain((2u32..100_000).filter_map(|k| {
            let suffix = format!("_{k}");
            let keep = base.as_str().len().min(48 - suffix.len());
            ResourceName::new(&format!("{}{suffix}", &base.as_str()[..keep])).ok()
        }))
        .find(|n| !taken(n));
    if let Some(n) = free {
        *name = n.to_string();
    }
    cmd
}

/// Arguments of [`rd_create`] (the request's fields).
pub(super) struct RdCreateArgs<'a> {
    pub name: &'a str,
    /// `DfltRscGrp` when absent.
    pub rsc_grp: Option<&'a str>,
    pub external_name: Option<String>,
    pub props: &'a BTreeMap<String, String>,
    /// Generated when absent.
    pub secret: Option<String>,
    pub peer_slots: Option<u8>,
    /// The group's, else `DRBD,STORAGE`, when absent.
    pub layer_stack: Option<Vec<LayerKind>>,
}

pub(super) fn rd_create(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    a: RdCreateArgs<'_>,
) -> Res<ResourceName> {
    let RdCreateArgs {
        name,
        rsc_grp: rg,
        external_name,
        props,
        secret,
        peer_slots,
        layer_stack,
    } = a;
    let op = Op::Create;
    if let Some(e) = &external_name {
        if e.is_empty() || e.len() > 255 || e.chars().any(char::is_control) {
            return Err(fail(
                op,
                Obj::RscDfn,
                code::INVLD_RSC_NAME,
                format!("Invalid external name '{e}'"),
            )
            .correction("Use 1 to 255 printable characters."));
        }
    }
    let n = rd_name(op, name)?;
    if c.state.resource_definitions.contains_key(&n) {
        return Err(fail(
            op,
            Obj::RscDfn,
            code::EXISTS_RSC_DFN,
            format!("Resource definition '{n}' already exists"),
        )
        .correction("Choose another name, or modify the existing one.")
        .obj_ref("RscDfn", &n));
    }
    let rg = existing_rg(c, op, Obj::RscDfn, rg.unwrap_or(well_known::DFLT_RSC_GRP))?;
    c.validate_props(op, Obj::RscDfn, Level::RscDfn, props)?;
    if let Some(s) = &secret {
        if s.is_empty()
            || s.len() > 64
            || !s
                .chars()
                .all(|ch| ch.is_ascii_graphic() && ch != '"' && ch != '\\')
        {
            return Err(fail(op, Obj::RscDfn, code::INVLD_REQUEST, "Invalid DRBD shared secret").correction("Use 1 to 64 printable ASCII characters without quotes or backslashes, or omit it to get a random one."));
        }
    }
    let group = &c.state.resource_groups[&rg];
    let peer_slots = match peer_slots.or(group.peer_slots) {
        Some(p) => p,
        None => c
            .state
            .ctrl_props
            .get(keys::PEER_SLOTS_NEW_RESOURCE)
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_PEER_SLOTS),
    };
    if !(1..=31).contains(&peer_slots) {
        return Err(fail(
            op,
            Obj::RscDfn,
            code::INVLD_PEER_SLOTS,
            format!("Invalid peer slots {peer_slots}"),
        )
        .correction("Use 1 to 31 peer slots (default 7)."));
    }
    let layer_stack = layer_stack
        .or_else(|| group.select_filter.layer_stack.clone())
        .unwrap_or_else(|| LayerKind::DEFAULT_STACK.to_vec());
    check_layer_stack(op, &layer_stack)?;
    // Apply.
    let secret = secret.unwrap_or_else(|| {
        let mut b = [0u8; 15];
        ctx.env.fill_random(&mut b);
        base64(&b)
    });
    let rd = ResourceDefinition {
        name: n.clone(),
        external_name,
        resource_group: rg,
        props: props_from(props, Level::RscDfn),
        flags: RscDfnFlags::default(),
        layer_stack: layer_stack.into(),
        drbd: DrbdRscDfnData {
            secret: secret.into(),
            peer_slots,
            al_stripes: 1,
            al_stripe_size_kib: 32,
            transport: "IP".into(),
        },
        volume_definitions: VecMap::new(),
        resources: VecMap::new(),
        snapshots: VecMap::new(),
        resource_connections: BTreeMap::new(),
        uuid: ctx.uuid(),
    };
    c.state.resource_definitions.insert(n.clone(), rd);
    ctx.ok(
        op,
        Obj::RscDfn,
        format!("New resource definition '{n}' created."),
    )
    .obj_refs
    .insert("RscDfn".into(), n.to_string());
    ctx.created(ObjKey::RscDfn { rsc_dfn: n.clone() });
    Ok(n)
}

pub(super) fn rd_modify(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    name: &str,
    m: &PropsModify,
    peer_slots: Option<u8>,
    rg: Option<&str>,
) -> Res {
    let op = Op::Modify;
    let n = live_rd(c, op, Obj::RscDfn, name)?.name.clone();
    c.validate_modify(Obj::RscDfn, Level::RscDfn, m)?;
    let rg = rg.map(|g| existing_rg(c, op, Obj::RscDfn, g)).transpose()?;
    let rd = &c.state.resource_definitions[&n];
    if let Some(p) = peer_slots {
        let needed = rd.resources.len().saturating_sub(1);
        if !(1..=31).contains(&p) || usize::from(p) < needed {
            return Err(fail(
                op,
                Obj::RscDfn,
                code::INVLD_PEER_SLOTS,
                format!("Invalid peer slots {p} for '{n}'"),
            )
            .cause(format!(
                "It has {} resources, so each needs at least {needed} peer slots.",
                rd.resources.len()
            ))
            .correction(format!("Use {}..=31 peer slots.", needed.max(1))));
        }
    }
    let rd = c.state.resource_definitions.get_mut(&n).expect("checked");
    if let Some(p) = peer_slots {
        rd.drbd.peer_slots = p;
    }
    if let Some(g) = rg {
        rd.resource_group = g;
    }
    apply_modify(&mut rd.props, m, Level::RscDfn);
    ctx.ok(
        op,
        Obj::RscDfn,
        format!("Resource definition '{n}' modified."),
    );
    ctx.modified(ObjKey::RscDfn { rsc_dfn: n });
    Ok(())
}

pub(super) fn rd_delete(c: &mut Cluster, ctx: &mut Ctx<'_>, name: &str) -> Res {
    let op = Op::Delete;
    let what = format!("resource definition '{name}'");
    let Some(rd) = found(
        ctx,
        Obj::RscDfn,
        &what,
        existing_rd(c, op, Obj::RscDfn, name),
    )?
    else {
        return Ok(());
    };
    let n = rd.name.clone();
    if !rd.snapshots.is_empty() {
        let snaps: Vec<String> = rd.snapshots.keys().map(ToString::to_string).collect();
        return Err(fail(
            op,
            Obj::RscDfn,
            code::EXISTS_SNAPSHOT_DFN,
            format!("Resource definition '{n}' cannot be deleted because it has snapshots"),
        )
        .cause(format!("Snapshots: {}.", snaps.join(", ")))
        .correction(
            "Delete the snapshots first (or restore them into another resource definition).",
        )
        .obj_ref("RscDfn", &n));
    }
    if rd.flags.contains(RscDfnFlags::DELETE) {
        ctx.warn(
            Obj::RscDfn,
            code::WARN_NO_EFFECT,
            format!("Resource definition '{n}' is already being deleted."),
        );
        return Ok(());
    }
    let rd = c.state.resource_definitions.get_mut(&n).expect("checked");
    rd.flags.insert(RscDfnFlags::DELETE);
    let nodes: Vec<NodeName> = rd.resources.keys().cloned().collect();
    for node in &nodes {
        let r = rd.resources.get_mut(node).expect("listed");
        if !r.flags.contains(RscFlags::DELETE) {
            r.flags.insert(RscFlags::DELETE);
            ctx.modified(ObjKey::Rsc {
                rsc_dfn: n.clone(),
                node: node.clone(),
            });
        }
    }
    if nodes.is_empty() {
        remove_rd(c, ctx, &n);
        ctx.ok(
            op,
            Obj::RscDfn,
            format!("Resource definition '{n}' deleted."),
        );
    } else {
        ctx.modified(ObjKey::RscDfn { rsc_dfn: n.clone() });
        ctx.ok(op, Obj::RscDfn, format!("Resource definition '{n}' marked for deletion; its {} resources are being removed.", nodes.len()));
    }
    Ok(())
}

/// Drops what the satellite of `node` reported of resource `rd` (the resource is gone).
pub(super) fn forget_observed(c: &mut Cluster, rd: &ResourceName, node: &NodeName) {
    if let Some(o) = c.state.observed.nodes.get_mut(node) {
        o.resources.remove(rd);
    }
}

/// Drops every report of `rd`'s resources: its volumes changed (a new or grown volume syncs),
/// so what the satellites said no longer holds.
pub(super) fn forget_observed_rd(c: &mut Cluster, rd: &ResourceName) {
    for o in c.state.observed.nodes.values_mut() {
        o.resources.remove(rd);
    }
}

/// `RscReport`: a satellite's report of one of its resources.
pub(super) fn report_rsc(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    node: &str,
    rd: &str,
    state: crate::model::RscObserved,
) -> Res {
    let op = Op::Modify;
    let (n, nk) = existing_rsc(c, op, rd, node)?;
    let message = format!(
        "Resource '{n}' on '{nk}' reported in_use={}, up_to_date={}, established={}.",
        state.in_use, state.up_to_date, state.established
    );
    c.state
        .observed
        .nodes
        .entry(nk.clone())
        .or_default()
        .resources
        .insert(n.clone(), state);
    ctx.ok(op, Obj::Rsc, message);
    ctx.modified(ObjKey::Observed { node: nk });
    Ok(())
}

/// Removes a resource definition and everything in it from the state and the indexes.
pub(super) fn remove_rd(c: &mut Cluster, ctx: &mut Ctx<'_>, n: &ResourceName) {
    let Some(rd) = c.state.resource_definitions.remove(n) else {
        return;
    };
    for node in rd.resources.keys() {
        forget_observed(c, n, node);
    }
    for vd in rd.volume_definitions.values() {
        c.idx.minors.remove(vd.minor);
        ctx.deleted(ObjKey::VlmDfn {
            rsc_dfn: n.clone(),
            number: vd.number,
        });
    }
    for r in rd.resources.values() {
        free_rsc_numbers(c, n, r);
        ctx.deleted(ObjKey::Rsc {
            rsc_dfn: n.clone(),
            node: r.node.clone(),
        });
    }
    for conn in crate::model::all_connections(&rd.resource_connections) {
        ctx.deleted(ObjKey::RscConn {
            rsc_dfn: n.clone(),
            node_a: conn.node_a.clone(),
            node_b: conn.node_b.clone(),
        });
    }
    ctx.deleted(ObjKey::RscDfn { rsc_dfn: n.clone() });
}

pub(super) fn check_size(op: Op, size: SizeKib) -> Res {
    if size.0 == 0 {
        return Err(fail(
            op,
            Obj::VlmDfn,
            code::INVLD_VLM_SIZE,
            "Invalid volume size 0",
        )
        .correction("Give a size of at least 1 KiB, e.g. 10G."));
    }
    if size > MAX_VLM_SIZE {
        return Err(fail(
            op,
            Obj::VlmDfn,
            code::INVLD_VLM_SIZE,
            format!("Invalid volume size {size}"),
        )
        .cause(format!("The largest volume is {MAX_VLM_SIZE}."))
        .correction("Give a smaller size."));
    }
    Ok(())
}

/// The pool a resource's new volumes go to.
fn rsc_pool(r: &Resource) -> Option<StorPoolName> {
    r.props
        .get(keys::STOR_POOL_NAME)
        .and_then(|p| StorPoolName::new(p).ok())
        .or_else(|| r.volumes.values().next().map(|v| v.storage_pool.clone()))
}

/// The pool of a new volume on each resource of `n`: every live resource needs one.
fn new_volume_pools(
    c: &Cluster,
    op: Op,
    d: &ResourceDefinition,
) -> Res<Vec<(NodeName, StorPoolName)>> {
    let n = &d.name;
    let mut vols = Vec::new();
    for r in d.resources.values() {
        let pool = if r.is_diskless() {
            r.volumes
                .values()
                .next()
                .map(|v| v.storage_pool.clone())
                .unwrap_or_else(|| {
                    StorPoolName::new(well_known::DFLT_DISKLESS_STOR_POOL).expect("valid")
                })
        } else {
            rsc_pool(r).ok_or_else(|| {
                fail(
                    op,
                    Obj::VlmDfn,
                    code::INVLD_STOR_POOL_NAME,
                    format!("No storage pool known for resource '{n}' on '{}'", r.node),
                )
                .correction("Set StorPoolName on the resource.")
            })?
        };
        if c.state.storage_pool(&r.node, &pool).is_none() {
            return Err(fail(
                op,
                Obj::VlmDfn,
                code::NOT_FOUND_STOR_POOL,
                format!(
                    "Storage pool '{pool}' of resource '{n}' on '{}' no longer exists",
                    r.node
                ),
            )
            .correction(
                "Recreate the pool, or delete and recreate that resource in another pool.",
            ));
        }
        vols.push((r.node.clone(), pool));
    }
    Ok(vols)
}

pub(super) fn vd_create(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    rd: &str,
    number: Option<u16>,
    size: SizeKib,
    minor: Option<u32>,
    props: &BTreeMap<String, String>,
) -> Res {
    let op = Op::Create;
    let d = live_rd(c, op, Obj::VlmDfn, rd)?;
    let n = d.name.clone();
    check_size(op, size)?;
    c.validate_props(op, Obj::VlmDfn, Level::VlmDfn, props)?;
    let nr = choose_vlm_nr(op, Obj::VlmDfn, number, &d.volume_definitions, |nr| {
        fail(
            op,
            Obj::VlmDfn,
            code::EXISTS_VLM_DFN,
            format!("Volume definition {nr} of '{n}' already exists"),
        )
        .correction("Choose another number or omit it.")
    })?;
    let minor = choose_minor(c, op, minor)?;
    let vols = new_volume_pools(c, op, d)?;
    // Apply.
    let mut p = props_from(props, Level::VlmDfn);
    if p.get(keys::DRBD_CURRENT_GI).is_none() {
        p.set(keys::DRBD_CURRENT_GI, random_hex(ctx));
    }
    let vd = VolumeDefinition {
        number: nr,
        size,
        minor,
        props: p,
        flags: VlmDfnFlags::default(),
        uuid: ctx.uuid(),
    };
    c.idx.minors.insert(minor);
    let d = c.state.resource_definitions.get_mut(&n).expect("checked");
    d.volume_definitions.insert(nr, vd);
    for (node, pool) in vols {
        let uuid = ctx.uuid();
        d.resources.get_mut(&node).expect("listed").volumes.insert(
            nr,
            Volume {
                number: nr,
                storage_pool: pool,
                props: Props::new(),
                uuid,
            },
        );
        ctx.modified(ObjKey::Rsc {
            rsc_dfn: n.clone(),
            node,
        });
    }
    ctx.ok(
        op,
        Obj::VlmDfn,
        format!("New volume definition {nr} ({size}, minor {minor}) created in '{n}'."),
    )
    .obj_refs
    .insert("VlmNr".into(), nr.to_string());
    forget_observed_rd(c, &n);
    ctx.created(ObjKey::VlmDfn {
        rsc_dfn: n,
        number: nr,
    });
    Ok(())
}

pub(super) fn vd_resize(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    rd: &str,
    number: u16,
    size: SizeKib,
) -> Res {
    vd_modify(c, ctx, (rd, number), &PropsModify::default(), Some(size))
}

/// The volume definition `number` of `d`, or LINSTOR's not-found refusal.
fn existing_vd(op: Op, d: &ResourceDefinition, number: u16) -> Res<&VolumeDefinition> {
    d.volume_definitions.get(&number).ok_or_else(|| {
        fail(
            op,
            Obj::VlmDfn,
            code::NOT_FOUND_VLM_DFN,
            format!("Volume definition {number} of '{}' not found", d.name),
        )
        .correction("Check with `linstor volume-definition list`.")
    })
}

/// `VlmDfnModify` (and `VlmDfnResize`: no property changes): properties, and growth to `size`.
pub(super) fn vd_modify(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    (rd, number): (&str, u16),
    m: &PropsModify,
    size: Option<SizeKib>,
) -> Res {
    let op = Op::Modify;
    let d = live_rd(c, op, Obj::VlmDfn, rd)?;
    let n = d.name.clone();
    if let Some(size) = size {
        check_size(op, size)?;
    }
    let vd = existing_vd(op, d, number)?;
    c.validate_modify(Obj::VlmDfn, Level::VlmDfn, m)?;
    let old = vd.size;
    if let Some(size) = size.filter(|s| *s < old) {
        return Err(fail(op, Obj::VlmDfn, code::INVLD_VLM_SIZE, format!("Volume {number} of '{n}' cannot shrink from {old} to {size}"))
            .cause("Shrinking replicated volumes is refused: DRBD shrinking is disabled (as in LINSTOR 1.33.3) because it can cut off data.")
            .correction("Shrink the filesystem and copy the data into a new, smaller volume instead."));
    }
    let grow = size.filter(|s| *s > old);
    if m.is_empty() && grow.is_none() {
        ctx.warn(
            Obj::VlmDfn,
            code::WARN_NO_EFFECT,
            format!("Volume {number} of '{n}' already has size {old}."),
        );
        return Ok(());
    }
    let vd = c
        .state
        .resource_definitions
        .get_mut(&n)
        .and_then(|d| d.volume_definitions.get_mut(&number))
        .expect("checked");
    apply_modify(&mut vd.props, m, Level::VlmDfn);
    if let Some(size) = grow {
        vd.size = size;
        forget_observed_rd(c, &n);
        let msg = format!("Volume {number} of '{n}' grows from {old} to {size}.");
        ctx.ok(op, Obj::VlmDfn, msg);
    } else {
        let msg = format!("Volume definition {number} of '{n}' modified.");
        ctx.ok(op, Obj::VlmDfn, msg);
    }
    ctx.modified(ObjKey::VlmDfn { rsc_dfn: n, number });
    Ok(())
}

/// `VlmDfnDelete`: removes the definition and its volumes at once; refused while a resource of
/// the definition has a disk (the satellites would have to remove its data first) or is in use.
pub(super) fn vd_delete(c: &mut Cluster, ctx: &mut Ctx<'_>, rd: &str, number: u16) -> Res {
    let op = Op::Delete;
    let what = format!("volume definition {number} of resource definition '{rd}'");
    let looked_up =
        existing_rd(c, op, Obj::VlmDfn, rd).and_then(|d| existing_vd(op, d, number).map(|_| d));
    let Some(d) = found(ctx, Obj::VlmDfn, &what, looked_up)? else {
        return Ok(());
    };
    let n = d.name.clone();
    none_in_use(c, op, Obj::VlmDfn, d)?;
    let disks: Vec<String> = d
        .resources
        .values()
        .filter(|r| !r.is_diskless())
        .map(|r| r.node.to_string())
        .collect();
    if !disks.is_empty() {
        return Err(fail(
            op,
            Obj::VlmDfn,
            code::IN_USE,
            format!("Volume definition {number} of '{n}' cannot be deleted while resources have a disk"),
        )
        .cause(format!(
            "Volume {number} holds data on {}; deleting a volume of resources with a disk is not supported.",
            disks.join(", ")
        ))
        .correction("Delete those resources (or the whole resource definition) first, or keep the volume."));
    }
    // Apply.
    let d = c.state.resource_definitions.get_mut(&n).expect("checked");
    let vd = d.volume_definitions.remove(&number).expect("checked");
    let nodes: Vec<NodeName> = d.resources.keys().cloned().collect();
    for r in d.resources.values_mut() {
        r.volumes.remove(&number);
    }
    c.idx.minors.remove(vd.minor);
    forget_observed_rd(c, &n);
    for node in nodes {
        ctx.modified(ObjKey::Rsc {
            rsc_dfn: n.clone(),
            node,
        });
    }
    let msg = format!("Volume definition {number} of '{n}' deleted.");
    ctx.ok(op, Obj::VlmDfn, msg);
    ctx.deleted(ObjKey::VlmDfn { rsc_dfn: n, number });
    Ok(())
}

/// Chooses and checks the pool for a new resource.
pub(super) fn resolve_pool(
    c: &Cluster,
    op: Op,
    rd: &ResourceName,
    node: &NodeName,
    pool: Option<&str>,
    diskless: bool,
    req_props: &Props,
) -> Res<(StorPoolName, ProviderKind)> {
    let name = match pool {
        Some(p) => pool_name(op, Obj::Rsc, p)?,
        None if diskless => StorPoolName::new(well_known::DFLT_DISKLESS_STOR_POOL).expect("valid"),
        None => {
            let chain = c.chains().stor_pool_name(rd, node, req_props, Some(0));
            let v = chain
                .get(keys::STOR_POOL_NAME)
                .unwrap_or(well_known::DFLT_STOR_POOL);
            pool_name(op, Obj::Rsc, v)?
        }
    };
    let Some(sp) = c.state.storage_pool(node, &name) else {
        // A pool named in the request is loaded as LINSTOR's `CtrlApiDataLoader.loadStorPool`
        // does: FAIL_NOT_FOUND_STOR_POOL_DFN whether no node has the pool or only this one lacks it.
        if pool.is_some() {
            let e = if c.state.storage_pool_definitions.contains_key(&name) {
                fail(op, Obj::Rsc, code::NOT_FOUND_STOR_POOL_DFN, format!("Storage pool '{name}' on node '{node}' not found"))
                    .cause(format!("Other nodes have a pool '{name}', node '{node}' has none."))
                    .correction(format!("Create a storage pool '{name}' on node '{node}' first, or name a pool of that node."))
            } else {
                fail(op, Obj::Rsc, code::NOT_FOUND_STOR_POOL_DFN, format!("Storage pool definition '{name}' not found"))
                    .cause(format!("No node has a storage pool '{name}'."))
                    .correction(format!("Create a storage pool '{name}' on node '{node}' first, or name an existing pool."))
            };
            return Err(e.obj_ref("StorPoolName", &name));
        }
        return Err(fail(op, Obj::Rsc, code::NOT_FOUND_STOR_POOL, format!("Storage pool '{name}' not found on node '{node}'"))
            .cause("It was chosen by the StorPoolName property chain (resource > volume definition > resource definition > resource group > node).")
            .correction("Name an existing pool of that node, or create the pool first.")
            .obj_ref("StorPoolName", &name));
    };
    if diskless == sp.kind.is_diskful() {
        let want = if diskless { "a diskless" } else { "a diskful" };
        return Err(fail(
            op,
            Obj::Rsc,
            code::INVLD_STOR_POOL_NAME,
            format!(
                "Storage pool '{name}' on '{node}' is {} pool, but {want} resource was requested",
                sp.kind
            ),
        )
        .correction(if diskless {
            "Use a DISKLESS pool such as DfltDisklessStorPool."
        } else {
            "Name a pool with storage (LVM, LVM_THIN, ZFS, FILE…)."
        }));
    }
    Ok((name, sp.kind))
}

/// The definition and node of a new resource: the definition is live, the node takes
/// resources, and holds none of this definition yet.
fn new_rsc_place<'c>(
    c: &'c Cluster,
    op: Op,
    rd: &str,
    node: &str,
) -> Res<(&'c ResourceDefinition, NodeName)> {
    let d = live_rd(c, op, Obj::Rsc, rd)?;
    let n = &d.name;
    let nd = existing_node(c, op, Obj::Rsc, node)?;
    let nk = nd.name.clone();
    if nd.flags.contains(NodeFlags::DELETE) || nd.flags.contains(NodeFlags::EVACUATE) {
        return Err(fail(
            op,
            Obj::Rsc,
            code::IN_USE,
            format!("Node '{nk}' is being deleted or evacuated"),
        )
        .correction("Place the resource on another node."));
    }
    if let Some(r) = d.resources.get(&nk) {
        let why = if r.is_deleting() {
            "It is being deleted; wait until its satellite confirms."
        } else {
            "Each node holds at most one replica of a resource."
        };
        return Err(fail(
            op,
            Obj::Rsc,
            code::EXISTS_RSC,
            format!("Resource '{n}' already exists on node '{nk}'"),
        )
        .cause(why)
        .correction("Choose another node.")
        .obj_ref("RscDfn", n)
        .obj_ref("Node", &nk));
    }
    Ok((d, nk))
}

/// Refuses a pool whose provider does not mix with the pools of `d`'s other replicas
/// (`AllowMixingStoragePoolDriver` and the DRBD versions of both nodes decide for LVM and ZFS).
pub(super) fn check_mixing(
    c: &Cluster,
    op: Op,
    d: &ResourceDefinition,
    nk: &NodeName,
    pool: &StorPoolName,
    kind: ProviderKind,
) -> Res {
    let allow_mix = c
        .chains()
        .rsc_dfn_policy(&d.name)
        .get(keys::ALLOW_MIXING_STORAGE_POOL_DRIVER)
        .and_then(parse_bool)
        .unwrap_or(false);
    let drbd_of = |n: &NodeName| {
        c.state
            .observed
            .nodes
            .get(n)
            .and_then(|o| o.capabilities.as_ref())
            .and_then(|cap| cap.drbd_version)
    };
    let mine_ok = crate::model::drbd_allows_mixing(drbd_of(nk));
    for r in d.live_resources() {
        for v in r.volumes.values() {
            if let Some(other) = c.state.storage_pool(&r.node, &v.storage_pool) {
                let pair_ok =
                    allow_mix && mine_ok && crate::model::drbd_allows_mixing(drbd_of(&r.node));
                if !kind.mixes_with(other.kind, pair_ok) {
                    return Err(fail(op, Obj::Rsc, code::INVLD_STOR_DRIVER, format!("Storage pool '{pool}' ({kind}) cannot be mixed with {} on node '{}'", other.kind, r.node))
                        .cause("Replicas of one resource must use compatible providers (FILE only with FILE_THIN; LVM and ZFS only with AllowMixingStoragePoolDriver=true and DRBD 9.1.18+ (< 9.2) or 9.2.7+ on both nodes).")
                        .correction("Choose a pool of a compatible provider."));
                }
            }
        }
    }
    Ok(())
}

/// The DRBD node id and port of a new resource of `d` on `nk`, if a peer slot is free.
fn drbd_numbers(c: &Cluster, op: Op, d: &ResourceDefinition, nk: &NodeName) -> Res<(u8, Vec<u16>)> {
    let n = &d.name;
    let count = d.resources.len() + 1;
    if count - 1 > usize::from(d.drbd.peer_slots) {
        return Err(fail(op, Obj::Rsc, code::INSUFFICIENT_PEER_SLOTS, format!("Resource '{n}' has no free DRBD peer slot for node '{nk}'"))
            .cause(format!("It already has {} resources and {} peer slots.", d.resources.len(), d.drbd.peer_slots))
            .correction("Raise the resource definition's peer slots (only for new metadata) or delete a resource first."));
    }
    Ok((alloc_node_id(d, op)?, vec![alloc_port(c, op, nk)?]))
}

/// How [`rsc_create`] deploys a resource (the request's fields besides its names).
pub(super) struct RscCreateArgs<'a> {
    /// Storage pool (resolved by the `StorPoolName` chain when absent).
    pub pool: Option<&'a str>,
    pub diskless: bool,
    /// DRBD client (non-voting diskless).
    pub client: bool,
    pub props: &'a BTreeMap<String, String>,
}

impl<'a> RscCreateArgs<'a> {
    /// A resource in `pool` with no properties: what the placer and the tiebreaker create.
    pub fn in_pool(pool: &'a str, diskless: bool, props: &'a BTreeMap<String, String>) -> Self {
        RscCreateArgs {
            pool: Some(pool),
            diskless,
            client: false,
            props,
        }
    }
}

pub(super) fn rsc_create(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    rd: &str,
    node: &str,
    a: RscCreateArgs<'_>,
) -> Res {
    let RscCreateArgs {
        pool,
        diskless,
        client,
        props,
    } = a;
    let op = Op::Create;
    let (d, nk) = new_rsc_place(c, op, rd, node)?;
    let n = d.name.clone();
    if client && !diskless {
        return Err(fail(
            op,
            Obj::Rsc,
            code::INVLD_REQUEST,
            "A DRBD client must be diskless",
        )
        .correction("Set diskless, or drop drbd_client."));
    }
    // The pool first, as LINSTOR loads it before it looks at the other properties: an invalid
    // pool name is FAIL_INVLD_STOR_POOL_NAME, not an invalid `StorPoolName` property.
    let req_props = props_from(props, Level::Rsc);
    let (pool, kind) = resolve_pool(c, op, &n, &nk, pool, diskless, &req_props)?;
    c.validate_props(op, Obj::Rsc, Level::Rsc, props)?;
    check_mixing(c, op, d, &nk, &pool, kind)?;
    let drbd = d.layer_stack.contains(&LayerKind::DRBD);
    let (node_id, ports) = if drbd {
        drbd_numbers(c, op, d, &nk)?
    } else {
        (0, Vec::new())
    };
    // Apply.
    let mut flags = RscFlags::default();
    if diskless {
        flags.insert(if drbd {
            RscFlags::DRBD_DISKLESS
        } else {
            RscFlags::DISKLESS
        });
    }
    let mut rprops = req_props;
    rprops.set(keys::STOR_POOL_NAME, pool.as_str());
    let now = ctx.env.now_ms();
    let mut volumes = VecMap::new();
    for nr in d.volume_definitions.keys() {
        volumes.insert(
            *nr,
            Volume {
                number: *nr,
                storage_pool: pool.clone(),
                props: Props::new(),
                uuid: ctx.uuid(),
            },
        );
    }
    let r = Resource {
        node: nk.clone(),
        flags,
        node_id,
        tcp_ports: ports.as_slice().into(),
        drbd_client: client,
        volumes,
        props: rprops,
        create_timestamp: now,
        uuid: ctx.uuid(),
    };
    c.state
        .resource_definitions
        .get_mut(&n)
        .expect("checked")
        .resources
        .insert(nk.clone(), r);
    c.idx.ports.entry(nk.clone()).or_default().extend(ports);
    c.idx
        .rscs_on_node
        .entry(nk.clone())
        .or_default()
        .insert(n.clone());
    let what = if diskless { "diskless" } else { "diskful" };
    ctx.ok(
        op,
        Obj::Rsc,
        format!("Resource '{n}' ({what}, pool '{pool}') created on node '{nk}'."),
    )
    .obj_refs
    .extend([
        ("RscDfn".to_owned(), n.to_string()),
        ("Node".to_owned(), nk.to_string()),
    ]);
    ctx.created(ObjKey::Rsc {
        rsc_dfn: n,
        node: nk,
    });
    Ok(())
}

/// A user's deletion; answers whether the resource was found.
pub(super) fn rsc_delete(c: &mut Cluster, ctx: &mut Ctx<'_>, rd: &str, node: &str) -> Res<bool> {
    rsc_delete_as(c, ctx, rd, node, true)
}

/// A deletion the system decides (balance, evacuation): unlike a user's, removing a tiebreaker
/// this way does not opt the definition out of automatic tiebreakers.
pub(super) fn rsc_delete_by_system(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    rd: &str,
    node: &str,
) -> Res {
    rsc_delete_as(c, ctx, rd, node, false).map(drop)
}

/// Marks a resource for deletion; answers whether it was found (an unknown resource is a
/// `WARN_NOT_FOUND` warning, as in LINSTOR).
fn rsc_delete_as(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    rd: &str,
    node: &str,
    by_user: bool,
) -> Res<bool> {
    let op = Op::Delete;
    let what = format!("resource '{rd}' on node '{node}'");
    let Some((n, nk)) = found(ctx, Obj::Rsc, &what, existing_rsc(c, op, rd, node))? else {
        return Ok(false);
    };
    let d = &c.state.resource_definitions[&n];
    let r = &d.resources[&nk];
    if r.is_deleting() {
        ctx.warn(
            Obj::Rsc,
            code::WARN_NO_EFFECT,
            format!("Resource '{n}' on '{nk}' is already being deleted."),
        );
        return Ok(true);
    }
    let dependent = r.volumes.values().any(|v| {
        c.state
            .storage_pool(&nk, &v.storage_pool)
            .is_some_and(|p| p.kind.caps().snapshot_dependent)
    });
    let snaps: Vec<String> = d
        .snapshots
        .values()
        .filter(|s| s.snapshots.contains_key(&nk))
        .map(|s| s.name.to_string())
        .collect();
    if dependent && !snaps.is_empty() {
        return Err(fail(
            op,
            Obj::Rsc,
            code::EXISTS_SNAPSHOT_DFN,
            format!("Resource '{n}' on '{nk}' cannot be deleted while it has snapshots"),
        )
        .cause(format!(
            "ZFS snapshots depend on their volume; snapshots here: {}.",
            snaps.join(", ")
        ))
        .correction("Delete those snapshots first."));
    }
    let was_tiebreaker = by_user && r.flags.contains(RscFlags::TIE_BREAKER);
    let d = c.state.resource_definitions.get_mut(&n).expect("checked");
    d.resources
        .get_mut(&nk)
        .expect("checked")
        .flags
        .insert(RscFlags::DELETE);
    if was_tiebreaker {
        // As LINSTOR: a user who deletes the tiebreaker does not want it back.
        d.props.set(keys::AUTO_ADD_QUORUM_TIEBREAKER, "False");
        ctx.modified(ObjKey::RscDfn { rsc_dfn: n.clone() });
    }
    ctx.ok(
        op,
        Obj::Rsc,
        format!("Resource '{n}' on node '{nk}' marked for deletion."),
    );
    ctx.modified(ObjKey::Rsc {
        rsc_dfn: n,
        node: nk,
    });
    Ok(true)
}

pub(super) fn rsc_deleted(c: &mut Cluster, ctx: &mut Ctx<'_>, rd: &str, node: &str) -> Res {
    let op = Op::Delete;
    let (n, nk) = existing_rsc(c, op, rd, node)?;
    if !c.state.resource_definitions[&n].resources[&nk].is_deleting() {
        return Err(fail(
            op,
            Obj::Rsc,
            code::INVLD_REQUEST,
            format!("Resource '{n}' on '{nk}' is not marked for deletion"),
        )
        .correction("Delete it first; the satellite confirms afterwards."));
    }
    let d = c.state.resource_definitions.get_mut(&n).expect("checked");
    let r = d.resources.remove(&nk).expect("checked");
    for (a, b) in crate::model::remove_connections_of(&mut d.resource_connections, &nk) {
        ctx.deleted(ObjKey::RscConn {
            rsc_dfn: n.clone(),
            node_a: a,
            node_b: b,
        });
    }
    let rd_gone = d.flags.contains(RscDfnFlags::DELETE) && d.resources.is_empty();
    forget_observed(c, &n, &nk);
    free_rsc_numbers(c, &n, &r);
    ctx.deleted(ObjKey::Rsc {
        rsc_dfn: n.clone(),
        node: nk.clone(),
    });
    ctx.ok(
        op,
        Obj::Rsc,
        format!("Resource '{n}' on node '{nk}' deleted."),
    );
    if rd_gone {
        remove_rd(c, ctx, &n);
        ctx.ok(
            op,
            Obj::RscDfn,
            format!("Resource definition '{n}' deleted."),
        );
    }
    Ok(())
}
