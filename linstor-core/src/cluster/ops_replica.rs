//! Commands that change a deployed resource in place: its properties and diskless flavour
//! (`RscModify`), one volume's properties (`VlmModify`), activation (`RscActivate`,
//! `RscDeactivate`), `RscMakeAvailable` (CSI's attach) and `RscToggleDisk` (with
//! `migrate_from`: LINSTOR's migrate-disk).
//!
//! A disk is given or taken at once in the model: the flags and the volumes' pools change, and
//! the satellite's plan creates the backing volumes and metadata (then `adjust`), or detaches
//! and deletes them. Each command answers the resource definition it changed a replica of, so
//! that `Cluster::dispatch` runs the quorum helpers after it (`None`: nothing changed).

use std::collections::BTreeMap;

use super::Cluster;
use super::api::{Command, ObjKey, ToggleDiskOp};
use super::ctx::{BoxedEntry, Ctx, Res, fail};
use super::lookup::{existing_node, existing_rsc, in_use, live_rd};
use super::ops_rsc::{RscCreateArgs, check_mixing, forget_observed, resolve_pool, rsc_create};
use super::prop_edit::apply_modify;
use crate::keys;
use crate::model::{LayerKind, Resource, RscFlags};
use crate::name::{NodeName, ResourceName, StorPoolName};
use crate::props::{Level, Props, PropsModify};
use crate::rc::{Obj, Op, RcEntry, Severity, code};

/// Runs a command on a deployed resource (routed here by `Cluster::dispatch`); answers the
/// definition whose replicas changed, for the quorum helpers.
pub(super) fn run(c: &mut Cluster, ctx: &mut Ctx<'_>, cmd: Command) -> Res<Option<String>> {
    use Command as C;
    match cmd {
        C::RscModify {
            rsc_dfn,
            node,
            props,
            drbd_tiebreaker,
            drbd_client,
        } => rsc_modify(
            c,
            ctx,
            (&rsc_dfn, &node),
            &props,
            (drbd_tiebreaker, drbd_client),
        ),
        C::VlmModify {
            rsc_dfn,
            node,
            number,
            props,
        } => vlm_modify(c, ctx, (&rsc_dfn, &node), number, &props),
        C::RscActivate { rsc_dfn, node } => rsc_activate(c, ctx, (&rsc_dfn, &node), true),
        C::RscDeactivate { rsc_dfn, node } => rsc_activate(c, ctx, (&rsc_dfn, &node), false),
        C::RscMakeAvailable {
            rsc_dfn,
            node,
            diskful,
            layer_list,
        } => make_available(c, ctx, (&rsc_dfn, &node), diskful, layer_list.as_deref()),
        C::RscToggleDisk {
            rsc_dfn,
            node,
            operation,
            storage_pool,
            migrate_from: Some(from),
        } => migrate_disk(
            c,
            ctx,
            (&rsc_dfn, &node, &from),
            operation,
            storage_pool.as_deref(),
        ),
        C::RscToggleDisk {
            rsc_dfn,
            node,
            operation,
            storage_pool,
            migrate_from: None,
        } => toggle_disk(
            c,
            ctx,
            (&rsc_dfn, &node),
            operation,
            storage_pool.as_deref(),
        ),
        other => unreachable!("not a command on a deployed resource: {other:?}"),
    }
}

/// The resource of `n` on `nk` (both checked by the caller).
fn rsc<'c>(c: &'c Cluster, n: &ResourceName, nk: &NodeName) -> &'c Resource {
    &c.state.resource_definitions[n].resources[nk]
}

fn rsc_mut<'c>(c: &'c mut Cluster, n: &ResourceName, nk: &NodeName) -> &'c mut Resource {
    c.state
        .resource_definitions
        .get_mut(n)
        .and_then(|d| d.resources.get_mut(nk))
        .expect("checked by the caller")
}

/// A success entry with no change (LINSTOR's `INFO_NOOP`).
fn noop(ctx: &mut Ctx<'_>, message: String) {
    ctx.info(Obj::Rsc, code::INFO_NOOP, message);
}

/// Refuses a resource that is being deleted.
fn not_deleting(c: &Cluster, op: Op, n: &ResourceName, nk: &NodeName) -> Res {
    if rsc(c, n, nk).is_deleting() {
        return Err(fail(
            op,
            Obj::Rsc,
            code::IN_USE,
            format!("Resource '{n}' on node '{nk}' is being deleted"),
        )
        .correction("Wait until it is gone, or make it available again (make-available)."));
    }
    Ok(())
}

/// `RscModify`: properties, and the diskless flavour (`drbd_tiebreaker`, `drbd_client`).
fn rsc_modify(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    (rd, node): (&str, &str),
    m: &PropsModify,
    (tiebreaker, client): (Option<bool>, Option<bool>),
) -> Res<Option<String>> {
    let op = Op::Modify;
    let (n, nk) = existing_rsc(c, op, rd, node)?;
    c.validate_modify(Obj::Rsc, Level::Rsc, m)?;
    if tiebreaker == Some(true) && client == Some(true) {
        return Err(fail(
            op,
            Obj::Rsc,
            code::INVLD_CONF,
            "Tiebreaker flag and DRBD client flag are mutually exclusive, but both were set",
        )
        .cause("A tiebreaker votes in quorum; a DRBD client does not.")
        .correction("Set only one of drbd_tiebreaker and drbd_client."));
    }
    let wants_flavour = tiebreaker == Some(true) || client == Some(true);
    if wants_flavour && !rsc(c, &n, &nk).flags.contains(RscFlags::DRBD_DISKLESS) {
        return Err(fail(
            op,
            Obj::Rsc,
            code::INVLD_REQUEST,
            format!("Resource '{n}' on node '{nk}' is not DRBD diskless"),
        )
        .cause("Only a DRBD diskless resource can be a tiebreaker or a DRBD client.")
        .correction(
            "Toggle its disk away first (toggle-disk INTO_DRBD_DISKLESS or INTO_DRBD_CLIENT).",
        ));
    }
    let r = rsc_mut(c, &n, &nk);
    apply_modify(&mut r.props, m, Level::Rsc);
    let before = (r.flags, r.drbd_client);
    if let Some(t) = tiebreaker {
        set_flavour(r, t, !t && r.drbd_client);
    }
    if let Some(cl) = client {
        set_flavour(r, !cl && r.flags.contains(RscFlags::TIE_BREAKER), cl);
    }
    let flavour_changed = before != (r.flags, r.drbd_client);
    ctx.ok(
        op,
        Obj::Rsc,
        format!("Resource '{n}' on node '{nk}' modified."),
    );
    ctx.modified(ObjKey::Rsc {
        rsc_dfn: n.clone(),
        node: nk,
    });
    Ok(flavour_changed.then(|| n.to_string()))
}

/// `VlmModify`: the properties of volume `number` of a resource. Nothing a replica count
/// depends on changes, so the quorum helpers do not run (`None`).
fn vlm_modify(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    (rd, node): (&str, &str),
    number: u16,
    m: &PropsModify,
) -> Res<Option<String>> {
    let op = Op::Modify;
    let (n, nk) = existing_rsc(c, op, rd, node)?;
    if !rsc(c, &n, &nk).volumes.contains_key(&number) {
        let have: Vec<String> = rsc(c, &n, &nk).volumes.keys().map(u16::to_string).collect();
        return Err(fail(
            op,
            Obj::Vlm,
            code::NOT_FOUND_VLM,
            format!("Volume {number} of resource '{n}' on node '{nk}' not found"),
        )
        .cause(format!("Its volumes: {}.", list_or_none(&have)))
        .correction("Give the number of an existing volume (`linstor volume list`)."));
    }
    c.validate_modify(Obj::Vlm, Level::Vlm, m)?;
    let v = rsc_mut(c, &n, &nk)
        .volumes
        .get_mut(&number)
        .expect("checked above");
    apply_modify(&mut v.props, m, Level::Vlm);
    ctx.ok(
        op,
        Obj::Vlm,
        format!("Volume {number} of resource '{n}' on node '{nk}' modified."),
    );
    ctx.modified(ObjKey::Rsc {
        rsc_dfn: n,
        node: nk,
    });
    Ok(None)
}

/// `a, b, c`, or `none`.
fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// Makes a DRBD diskless resource a tiebreaker, a client, or (both `false`) a plain one.
fn set_flavour(r: &mut Resource, tiebreaker: bool, client: bool) {
    if tiebreaker {
        r.flags.insert(RscFlags::TIE_BREAKER);
    } else if r.flags.contains(RscFlags::TIE_BREAKER) {
        r.flags.remove(RscFlags::TIE_BREAKER);
        r.flags.insert(RscFlags::DRBD_DISKLESS);
    }
    r.drbd_client = client;
}

/// `RscActivate` (`active`) and `RscDeactivate`: the `INACTIVE` flag.
fn rsc_activate(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    (rd, node): (&str, &str),
    active: bool,
) -> Res<Option<String>> {
    let op = Op::Modify;
    let (n, nk) = existing_rsc(c, op, rd, node)?;
    not_deleting(c, op, &n, &nk)?;
    let r = rsc(c, &n, &nk);
    if r.flags.contains(RscFlags::EVICTED) {
        return Err(fail(
            op,
            Obj::Rsc,
            code::IN_USE,
            format!("Resource '{n}' on node '{nk}' is evicted"),
        )
        .cause("Its node was evicted; the resource comes back with the node.")
        .correction(format!(
            "Restore the node first: `linstor node restore {nk}`."
        )));
    }
    if active != r.flags.contains(RscFlags::INACTIVE) {
        let state = if active { "active" } else { "inactive" };
        noop(
            ctx,
            format!("Resource '{n}' on node '{nk}' is already {state}."),
        );
        return Ok(None);
    }
    if !active && in_use(c, &n, &nk) {
        return Err(fail(
            op,
            Obj::Rsc,
            code::IN_USE,
            format!("Cannot deactivate resource '{n}' on node '{nk}' while it is in use"),
        )
        .cause("Its satellite reports it Primary (a volume is open).")
        .correction(format!("Unmount or stop what uses '{n}' on '{nk}' first.")));
    }
    let r = rsc_mut(c, &n, &nk);
    if active {
        r.flags.remove(RscFlags::INACTIVE);
    } else {
        r.flags.insert(RscFlags::INACTIVE);
    }
    let what = if active { "activated" } else { "deactivated" };
    ctx.ok(
        op,
        Obj::Rsc,
        format!("Resource '{n}' on node '{nk}' {what}."),
    );
    ctx.modified(ObjKey::Rsc {
        rsc_dfn: n.clone(),
        node: nk,
    });
    Ok(Some(n.to_string()))
}

/// The pool of a new disk on `node` when the request names none: the `StorPoolName` chain
/// (VD > RD > RG > node, not the resource's own, which names its diskless pool), else the first
/// pool of the group's select filter that the node has with storage. `None` leaves the choice
/// to the chain's default (`DfltStorPool`).
fn default_disk_pool(c: &Cluster, rd: &ResourceName, node: &NodeName) -> Option<String> {
    let none = Props::new();
    let chain = c.chains().stor_pool_name(rd, node, &none, Some(0));
    if let Some(p) = chain.get(keys::STOR_POOL_NAME) {
        return Some(p.to_owned());
    }
    let d = c.state.resource_definitions.get(rd)?;
    let list = c
        .state
        .resource_groups
        .get(&d.resource_group)?
        .select_filter
        .pool_list()?;
    let pools = &c.state.nodes.get(node)?.storage_pools;
    list.into_iter()
        .find(|p| pools.get(p).is_some_and(|sp| sp.kind.is_diskful()))
        .map(|p| p.to_string())
}

/// Refuses a layer list other than the definition's.
fn check_layers(op: Op, n: &ResourceName, have: &[LayerKind], want: Option<&[LayerKind]>) -> Res {
    match want {
        Some(w) if !w.is_empty() && w != have => Err(fail(
            op,
            Obj::Rsc,
            code::INVLD_LAYER_STACK,
            format!("Layer stack {w:?} does not match the stack {have:?} of '{n}'"),
        )
        .cause("Every resource of a definition has the definition's layer stack.")
        .correction("Omit the layer list, or give the definition's.")),
        _ => Ok(()),
    }
}

/// `RscMakeAvailable`.
fn make_available(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    (rd, node): (&str, &str),
    diskful: bool,
    layers: Option<&[LayerKind]>,
) -> Res<Option<String>> {
    let op = Op::Create;
    let d = live_rd(c, op, Obj::Rsc, rd)?;
    let n = d.name.clone();
    check_layers(op, &n, &d.layer_stack, layers)?;
    let nk = existing_node(c, op, Obj::Rsc, node)?.name.clone();
    if d.resources.contains_key(&nk) {
        return make_existing_available(c, ctx, &n, &nk, diskful);
    }
    let drbd = d.layer_stack.contains(&LayerKind::DRBD);
    let has_disk = d.live_resources().any(|r| !r.is_diskless());
    let empty = BTreeMap::new();
    if drbd && has_disk && !diskful {
        let list = c
            .state
            .resource_groups
            .get(&d.resource_group)
            .and_then(|g| g.select_filter.storage_pool_diskless_list.clone());
        let nd = &c.state.nodes[&nk];
        let pool = crate::placement::filter::diskless_pool_for(nd, list.as_ref());
        let pool = pool.map(|p| p.to_string());
        let args = RscCreateArgs {
            pool: pool.as_deref(),
            diskless: true,
            client: false,
            props: &empty,
        };
        rsc_create(c, ctx, n.as_str(), nk.as_str(), args)?;
    } else {
        let pool = default_disk_pool(c, &n, &nk);
        let args = RscCreateArgs {
            pool: pool.as_deref(),
            diskless: false,
            client: false,
            props: &empty,
        };
        rsc_create(c, ctx, n.as_str(), nk.as_str(), args)?;
    }
    Ok(Some(n.to_string()))
}

/// `RscMakeAvailable` of a resource that exists: takes back its deletion, activates it, gives
/// it a disk (`diskful`), or makes a tiebreaker a plain diskless resource; else nothing.
fn make_existing_available(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    n: &ResourceName,
    nk: &NodeName,
    diskful: bool,
) -> Res<Option<String>> {
    let op = Op::Create;
    let r = rsc(c, n, nk);
    if r.flags.contains(RscFlags::EVICTED) {
        return Err(fail(
            op,
            Obj::Rsc,
            code::IN_USE,
            format!("Resource '{n}' on node '{nk}' is evicted"),
        )
        .correction(format!(
            "Restore the node first: `linstor node restore {nk}`."
        )));
    }
    let inactive = r.flags.contains(RscFlags::INACTIVE);
    let add_disk = !inactive && diskful && r.flags.contains(RscFlags::DRBD_DISKLESS);
    let disk = if add_disk {
        let pool = default_disk_pool(c, n, nk);
        Some(disk_for(c, op, n, nk, pool.as_deref())?)
    } else {
        None
    };
    // Apply.
    let r = rsc_mut(c, n, nk);
    let mut done = Vec::new();
    if r.is_deleting() {
        r.flags.remove(RscFlags::DELETE);
        done.push("its deletion was taken back");
    }
    if inactive {
        r.flags.remove(RscFlags::INACTIVE);
        done.push("it was activated");
    } else if let Some(pool) = &disk {
        give_disk(r, pool);
        done.push("it got a disk");
    } else if r.flags.contains(RscFlags::TIE_BREAKER) {
        set_flavour(r, false, false);
        done.push("the tie breaker became a regular diskless resource");
    }
    if done.is_empty() {
        let mut e = RcEntry::new(Severity::Success, Op::None, Obj::None, 0, "");
        e.message = format!("Resource '{n}' on node '{nk}' is already deployed as requested.");
        ctx.rc.push(e);
        return Ok(None);
    }
    if disk.is_some() {
        forget_observed(c, n, nk);
    }
    let msg = format!(
        "Resource '{n}' made available on node '{nk}': {}.",
        done.join(", ")
    );
    ctx.ok(Op::Modify, Obj::Rsc, msg);
    ctx.modified(ObjKey::Rsc {
        rsc_dfn: n.clone(),
        node: nk.clone(),
    });
    Ok(Some(n.to_string()))
}

/// The pool a disk of `n` on `nk` goes to: `pool` (or the chain's), diskful, and mixing with
/// the other replicas' pools.
fn disk_for(
    c: &Cluster,
    op: Op,
    n: &ResourceName,
    nk: &NodeName,
    pool: Option<&str>,
) -> Res<StorPoolName> {
    let (pool, kind) = resolve_pool(c, op, n, nk, pool, false, &Props::new())?;
    check_mixing(c, op, &c.state.resource_definitions[n], nk, &pool, kind)?;
    Ok(pool)
}

/// Gives a diskless resource a disk in `pool`.
fn give_disk(r: &mut Resource, pool: &StorPoolName) {
    r.flags.remove(RscFlags::TIE_BREAKER);
    r.drbd_client = false;
    r.props.set(keys::STOR_POOL_NAME, pool.as_str());
    for v in r.volumes.values_mut() {
        v.storage_pool = pool.clone();
    }
}

/// Takes the disk of a resource away: its volumes go to the diskless `pool`.
fn take_disk(r: &mut Resource, pool: &StorPoolName, client: bool) {
    r.flags.insert(RscFlags::DRBD_DISKLESS);
    r.drbd_client = client;
    r.props.set(keys::STOR_POOL_NAME, pool.as_str());
    for v in r.volumes.values_mut() {
        v.storage_pool = pool.clone();
    }
}

/// `RscToggleDisk`.
fn toggle_disk(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    (rd, node): (&str, &str),
    operation: ToggleDiskOp,
    pool: Option<&str>,
) -> Res<Option<String>> {
    let op = Op::Modify;
    let (n, nk) = toggle_target(c, rd, node)?;
    let diskless = rsc(c, &n, &nk).is_diskless();
    match operation {
        ToggleDiskOp::IntoDrbdDiskful if diskless => {
            let default = default_disk_pool(c, &n, &nk);
            let disk = disk_for(c, op, &n, &nk, pool.or(default.as_deref()))?;
            give_disk(rsc_mut(c, &n, &nk), &disk);
            toggled(c, ctx, &n, &nk, format!("Addition of a disk in '{disk}'"))
        }
        ToggleDiskOp::IntoDrbdDiskful => {
            noop(
                ctx,
                format!("Resource '{n}' on node '{nk}' is already diskful."),
            );
            Ok(None)
        }
        _ if diskless => diskless_flavour(c, ctx, &n, &nk, operation),
        _ => {
            let dl = check_disk_removal(c, op, &n, &nk, pool)?;
            let client = operation == ToggleDiskOp::IntoDrbdClient;
            take_disk(rsc_mut(c, &n, &nk), &dl, client);
            toggled(c, ctx, &n, &nk, "Removal of the disk".to_owned())
        }
    }
}

/// The resource a toggle-disk changes: it exists, is not being deleted, and has DRBD.
fn toggle_target(c: &Cluster, rd: &str, node: &str) -> Res<(ResourceName, NodeName)> {
    let op = Op::Modify;
    let (n, nk) = existing_rsc(c, op, rd, node)?;
    not_deleting(c, op, &n, &nk)?;
    if !c.state.resource_definitions[&n]
        .layer_stack
        .contains(&LayerKind::DRBD)
    {
        return Err(fail(
            op,
            Obj::Rsc,
            code::INVLD_LAYER_STACK,
            "Toggle disk is only supported in combination with DRBD",
        )
        .correction("Delete the resource and create it again with or without a disk."));
    }
    Ok((n, nk))
}

/// `RscToggleDisk` with `migrate_from` (LINSTOR's migrate-disk): the diskless resource on
/// `node` gets a disk and records `MigrateFrom`; the replica on `from` goes later (see
/// `cluster::balance`). Asking again for the migration under way changes nothing.
fn migrate_disk(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    (rd, node, from): (&str, &str, &str),
    operation: ToggleDiskOp,
    pool: Option<&str>,
) -> Res<Option<String>> {
    let op = Op::Modify;
    let (n, nk) = toggle_target(c, rd, node)?;
    if operation != ToggleDiskOp::IntoDrbdDiskful {
        return Err(fail(
            op,
            Obj::Rsc,
            code::INVLD_REQUEST,
            format!("A disk migration gives the resource a disk, but {operation:?} was asked for"),
        )
        .correction("Use INTO_DRBD_DISKFUL with migrate_from, or leave migrate_from out."));
    }
    let (_, fk) = existing_rsc(c, op, rd, from)?;
    check_migration_source(c, &n, &nk, &fk)?;
    let r = rsc(c, &n, &nk);
    if !r.is_diskless() {
        if r.props.get(keys::MIGRATE_FROM) == Some(fk.as_str()) {
            noop(
                ctx,
                format!(
                    "Resource '{n}' on node '{nk}' already takes over the disk of node '{fk}'."
                ),
            );
            return Ok(None);
        }
        return Err(fail(
            op,
            Obj::Rsc,
            code::INVLD_REQUEST,
            format!("Resource '{n}' on node '{nk}' already has a disk"),
        )
        .cause("migrate-disk moves a disk to a node where the resource is diskless.")
        .correction(format!(
            "Delete the resource on '{fk}' yourself, or migrate to a node where '{n}' is diskless."
        )));
    }
    let default = default_disk_pool(c, &n, &nk);
    let disk = disk_for(c, op, &n, &nk, pool.or(default.as_deref()))?;
    let r = rsc_mut(c, &n, &nk);
    give_disk(r, &disk);
    r.props.set(keys::MIGRATE_FROM, fk.as_str());
    let what = format!("Addition of a disk in '{disk}' (to replace the one on node '{fk}')");
    toggled(c, ctx, &n, &nk, what)
}

/// The replica a migration replaces: another node's, not being deleted, without snapshots
/// there (they cannot move with it), not in use.
fn check_migration_source(c: &Cluster, n: &ResourceName, nk: &NodeName, fk: &NodeName) -> Res {
    let op = Op::Modify;
    if fk == nk {
        return Err(fail(
            op,
            Obj::Rsc,
            code::INVLD_REQUEST,
            format!("Cannot migrate the disk of '{n}' from node '{fk}' to itself"),
        )
        .correction("Name the node that holds the disk to replace as the source."));
    }
    if rsc(c, n, fk).is_deleting() {
        return Err(fail(
            op,
            Obj::Rsc,
            code::INVLD_REQUEST,
            format!("Resource '{n}' on node '{fk}' is already being deleted"),
        )
        .correction("Give the resource a disk with a plain toggle-disk instead."));
    }
    let d = &c.state.resource_definitions[n];
    let snaps: Vec<String> = d
        .snapshots
        .values()
        .filter(|s| s.snapshots.contains_key(fk))
        .map(|s| s.name.to_string())
        .collect();
    if !snaps.is_empty() {
        return Err(fail(op, Obj::Rsc, code::EXISTS_SNAPSHOT, format!("Cannot migrate '{n}' from '{fk}' because snapshots are present and snapshots cannot be migrated"))
            .cause(format!("Snapshots on '{fk}': {}.", snaps.join(", ")))
            .correction("Delete those snapshots first, or keep the replica."));
    }
    if in_use(c, n, fk) {
        return Err(fail(
            op,
            Obj::Rsc,
            code::IN_USE,
            format!("Resource '{n}' on node '{fk}' is in use"),
        )
        .cause("Its satellite reports it Primary; the replica cannot go while it is.")
        .correction(format!("Unmount or stop what uses '{n}' on '{fk}' first.")));
    }
    Ok(())
}

/// Answers a toggled disk and records the change.
fn toggled(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    n: &ResourceName,
    nk: &NodeName,
    what: String,
) -> Res<Option<String>> {
    forget_observed(c, n, nk);
    ctx.ok(
        Op::Modify,
        Obj::Rsc,
        format!("{what} of resource '{n}' on node '{nk}' registered."),
    );
    ctx.modified(ObjKey::Rsc {
        rsc_dfn: n.clone(),
        node: nk.clone(),
    });
    Ok(Some(n.to_string()))
}

/// Toggle-disk of a diskless resource into a diskless flavour: a client, or a plain diskless
/// resource (from a client or a tiebreaker); otherwise nothing to do.
fn diskless_flavour(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    n: &ResourceName,
    nk: &NodeName,
    operation: ToggleDiskOp,
) -> Res<Option<String>> {
    let r = rsc(c, n, nk);
    let client = operation == ToggleDiskOp::IntoDrbdClient;
    let tiebreaker = r.flags.contains(RscFlags::TIE_BREAKER);
    if r.drbd_client == client && !tiebreaker {
        let state = if client {
            "a diskless client"
        } else {
            "diskless"
        };
        noop(
            ctx,
            format!("Resource '{n}' on node '{nk}' is already {state}."),
        );
        return Ok(None);
    }
    set_flavour(rsc_mut(c, n, nk), false, client);
    let state = if client {
        "a DRBD client"
    } else {
        "a regular diskless resource"
    };
    toggled(c, ctx, n, nk, format!("Change into {state}"))
}

/// Checks that the disk of `n` on `nk` may go (another resource has a disk, no snapshot
/// depends on the volume); answers the diskless pool its volumes go to.
fn check_disk_removal(
    c: &Cluster,
    op: Op,
    n: &ResourceName,
    nk: &NodeName,
    pool: Option<&str>,
) -> Res<StorPoolName> {
    let d = &c.state.resource_definitions[n];
    let others = d
        .live_resources()
        .filter(|r| r.node != *nk && !r.is_diskless() && !r.flags.contains(RscFlags::INACTIVE))
        .count();
    if others == 0 {
        return Err(fail(
            op,
            Obj::Rsc,
            code::INSUFFICIENT_REPLICA_COUNT,
            format!("Cannot remove the disk of '{n}' on node '{nk}': it is the only active one"),
        )
        .cause("Without a disk on another node the data would be lost.")
        .correction("Add a disk on another node first (resource create or toggle-disk)."));
    }
    let dependent = rsc(c, n, nk).volumes.values().any(|v| {
        c.state
            .storage_pool(nk, &v.storage_pool)
            .is_some_and(|p| p.kind.caps().snapshot_dependent)
    });
    let snaps: Vec<String> = d
        .snapshots
        .values()
        .filter(|s| s.snapshots.contains_key(nk))
        .map(|s| s.name.to_string())
        .collect();
    if dependent && !snaps.is_empty() {
        return Err(fail(
            op,
            Obj::Rsc,
            code::EXISTS_SNAPSHOT_DFN,
            format!("The disk of '{n}' on node '{nk}' cannot go while it has snapshots"),
        )
        .cause(format!(
            "ZFS snapshots depend on their volume: {}.",
            snaps.join(", ")
        ))
        .correction("Delete those snapshots first."));
    }
    let (dl, _) = resolve_pool(c, op, n, nk, pool, true, &Props::new())?;
    Ok(dl)
}
