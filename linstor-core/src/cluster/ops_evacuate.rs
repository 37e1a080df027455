//! Moving data off a node: `NodeEvacuate` (replacements elsewhere, the originals deleted by the
//! balance task once the replacements are in sync), `NodeEvict` (a node whose satellite is
//! gone) and `NodeRestore` (cancels either).

use super::Cluster;
use super::api::{Command, ObjKey};
use super::autoplace::{diskful_only, place, replacement_nodes};
use super::ctx::{BoxedEntry, Ctx, Res, fail};
use super::lookup::{existing_node, rscs_on};
use super::ops_rsc::rsc_delete_by_system;
use super::quorum;
use crate::chains::Chains;
use crate::keys;
use crate::model::{
    ConnectionStatus, LayerKind, NodeFlags, ResourceDefinition, RscFlags, SelectFilter,
};
use crate::name::{NodeName, ResourceName};
use crate::placement::filter::is_live_replica;
use crate::rc::{Obj, Op, code};

/// Runs `NodeEvacuate`, `NodeEvict` or `NodeRestore` (routed here by `Cluster::dispatch`).
pub(super) fn run(c: &mut Cluster, ctx: &mut Ctx<'_>, cmd: Command) -> Res {
    use Command as C;
    match cmd {
        C::NodeEvacuate {
            name,
            target,
            do_not_target,
        } => node_evacuate(c, ctx, &name, &target, &do_not_target),
        C::NodeEvict { name } => node_evict(c, ctx, &name),
        C::NodeRestore {
            name,
            delete_resources,
        } => node_restore(c, ctx, &name, delete_resources),
        other => unreachable!("not an evacuation command: {other:?}"),
    }
}

/// True if `d` has a diskful replica on `node` that is not being deleted.
fn diskful_on(d: &ResourceDefinition, node: &NodeName) -> bool {
    d.resources
        .get(node)
        .is_some_and(|r| !r.is_deleting() && !r.is_diskless())
}

/// `NodeEvacuate`: flags the node and its resources `EVACUATE` and places, for every resource
/// with a diskful replica there, a replacement elsewhere (`targets` / `do_not_target` narrow
/// the nodes). All or nothing: if one replacement cannot be placed, nothing changes and the
/// answer says which resource and why. The evacuated replicas are deleted by the balance
/// task once the replacements are in sync (`cluster::balance`).
pub(super) fn node_evacuate(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    name: &str,
    targets: &[String],
    do_not_target: &[String],
) -> Res {
    let op = Op::Modify;
    let node = existing_node(c, op, Obj::Node, name)?;
    let key = node.name.clone();
    if node.flags.contains(NodeFlags::DELETE) {
        return Err(fail(
            op,
            Obj::Node,
            code::EVACUATING,
            format!("Node '{key}' is being deleted or was evicted"),
        )
        .correction("Restore the node first, or let its deletion finish."));
    }
    if node.flags.contains(NodeFlags::EVACUATE) {
        ctx.warn(
            Obj::Node,
            code::WARN_NO_EFFECT,
            format!("Node '{key}' is already being evacuated."),
        );
        return Ok(());
    }
    let plan = evacuation_plan(c, op, &key, targets, do_not_target)?;
    // All or nothing: a failed replacement restores everything as it was.
    let backup = (c.state.clone(), c.idx.clone());
    let n = c.state.nodes.get_mut(&key).expect("checked");
    n.flags.insert(NodeFlags::EVACUATE);
    ctx.modified(ObjKey::Node { node: key.clone() });
    let mut moved = 0usize;
    for rd in &plan.rds {
        let res = c.one_pending(rd, |c| evacuate_rsc(c, ctx, rd, &key, &plan));
        match res {
            Ok(true) => moved += 1,
            Ok(false) => {}
            Err(e) => {
                (c.state, c.idx) = backup;
                let mut e = *e;
                e.message = format!(
                    "Node '{key}' cannot be evacuated: resource '{rd}' has no place elsewhere ({})",
                    e.message
                );
                e.op = op;
                return Err(Box::new(e));
            }
        }
    }
    ctx.ok(
        op,
        Obj::Node,
        format!(
            "Node '{key}' is being evacuated: {moved} resource(s) got a replacement replica; the replicas on '{key}' are deleted once the replacements are in sync."
        ),
    );
    Ok(())
}

/// What `NodeEvacuate` was asked, checked: the nodes replacements may and may not go to, and
/// the definitions with a resource on the node (each with DRBD where it has a disk there).
struct EvacuationPlan {
    targets: Vec<NodeName>,
    deny: Vec<NodeName>,
    /// Every node of the cluster.
    all: Vec<NodeName>,
    rds: Vec<ResourceName>,
}

fn evacuation_plan(
    c: &Cluster,
    op: Op,
    key: &NodeName,
    targets: &[String],
    do_not_target: &[String],
) -> Res<EvacuationPlan> {
    let mut target_list: Vec<NodeName> = Vec::new();
    let mut deny: Vec<NodeName> = Vec::new();
    for (list, is_target) in [(targets, true), (do_not_target, false)] {
        for t in list {
            let n = existing_node(c, op, Obj::Node, t)?.name.clone();
            if is_target {
                target_list.push(n);
            } else {
                deny.push(n);
            }
        }
    }
    let rds = rscs_on(c, key);
    // Only DRBD replicates: without it a "replacement" would be an empty, unrelated volume.
    for rd in &rds {
        let d = &c.state.resource_definitions[rd];
        let diskful_here = diskful_on(d, key);
        if diskful_here && !d.layer_stack.contains(&LayerKind::DRBD) {
            return Err(fail(
                op,
                Obj::Node,
                code::INVLD_LAYER_STACK,
                format!("Node '{key}' cannot be evacuated: resource '{rd}' has no DRBD layer"),
            )
            .cause("Without DRBD its data cannot be copied to a replacement.")
            .correction("Move or delete that resource first."));
        }
    }
    Ok(EvacuationPlan {
        targets: target_list,
        deny,
        all: c.state.nodes.keys().cloned().collect(),
        rds,
    })
}

/// Flags `rd`'s resource on `key` `EVACUATE` and, if it has a disk there, places a
/// replacement elsewhere; `Ok(true)` when it did.
fn evacuate_rsc(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    rd: &ResourceName,
    key: &NodeName,
    plan: &EvacuationPlan,
) -> Res<bool> {
    let d = &c.state.resource_definitions[rd];
    let has_diskful_here = diskful_on(d, key);
    // Live diskful replicas elsewhere (the node is flagged already) plus this one.
    let diskful = d
        .resources
        .values()
        .filter(|r| !r.is_diskless() && is_live_replica(&c.state, r))
        .count()
        + usize::from(has_diskful_here);
    let group = c
        .state
        .resource_groups
        .get(&d.resource_group)
        .map(|g| g.select_filter.clone())
        .unwrap_or_default();
    // The nodes a replacement may go to: the group's list narrowed by `target`, minus
    // `do_not_target`; `None` when nothing narrows it.
    let node_list = replacement_nodes(
        group.node_name_list.as_ref(),
        &plan.targets,
        &plan.deny,
        &plan.all,
    );
    let d = c.state.resource_definitions.get_mut(rd).expect("listed");
    if let Some(r) = d.resources.get_mut(key) {
        r.flags.insert(RscFlags::EVACUATE);
        if has_diskful_here {
            r.props.set(keys::EVACUATION_REPLICAS, diskful.to_string());
            // Kept for a replacement placed again later (`cluster::balance`).
            let join =
                |l: &[NodeName]| l.iter().map(NodeName::as_str).collect::<Vec<_>>().join(",");
            if !plan.targets.is_empty() {
                r.props.set(keys::EVACUATION_TARGET, join(&plan.targets));
            }
            if !plan.deny.is_empty() {
                r.props
                    .set(keys::EVACUATION_DO_NOT_TARGET, join(&plan.deny));
            }
        }
    }
    ctx.modified(ObjKey::Rsc {
        rsc_dfn: rd.clone(),
        node: key.clone(),
    });
    if !has_diskful_here {
        // A diskless peer here no longer counts (a tiebreaker is placed elsewhere).
        quorum::manage(c, ctx, rd.as_str());
        return Ok(false);
    }
    let mut filter = SelectFilter {
        place_count: Some(u32::try_from(diskful).unwrap_or(u32::MAX)),
        node_name_list: node_list,
        ..Default::default()
    }
    .merged_over(&group);
    diskful_only(&mut filter);
    place(c, ctx, rd, &filter)?;
    quorum::manage(c, ctx, rd.as_str());
    Ok(true)
}

/// `NodeEvict` (see `Command::NodeEvict`).
pub(super) fn node_evict(c: &mut Cluster, ctx: &mut Ctx<'_>, name: &str) -> Res {
    let op = Op::Modify;
    let node = existing_node(c, op, Obj::Node, name)?;
    let key = node.name.clone();
    if node.flags.contains(NodeFlags::EVICTED) {
        ctx.warn(
            Obj::Node,
            code::WARN_NO_EFFECT,
            format!("Node '{key}' is already evicted."),
        );
        return Ok(());
    }
    if node.flags.contains(NodeFlags::DELETE) {
        return Err(fail(
            op,
            Obj::Node,
            code::INVLD_REQUEST,
            format!("Node '{key}' is being deleted"),
        )
        .correction("Let its deletion finish, or use `node lost`."));
    }
    if c.state
        .observed
        .nodes
        .get(&key)
        .is_some_and(|o| o.connection == ConnectionStatus::ONLINE)
    {
        return Err(fail(
            op,
            Obj::Node,
            code::INVLD_REQUEST,
            format!("Node '{key}' is online and cannot be evicted"),
        )
        .cause("Eviction is for nodes whose satellite is gone; this one is connected.")
        .correction("Use node evacuate to move its resources away, or wait until it is offline."));
    }
    let rds = rscs_on(c, &key);
    let n = c.state.nodes.get_mut(&key).expect("checked");
    n.flags.insert(NodeFlags::EVICTED);
    ctx.modified(ObjKey::Node { node: key.clone() });
    let (mut replaced, mut failed) = (0usize, 0usize);
    for rd in &rds {
        let at = ctx.checkpoint();
        let res = c.one_pending(rd, |c| -> Res<bool> {
            let d = &c.state.resource_definitions[rd];
            let before = d
                .resources
                .values()
                .filter(|r| !r.is_deleting() && !r.is_diskless())
                .count();
            let has_diskful_here = diskful_on(d, &key);
            let d_has_drbd = d.layer_stack.contains(&LayerKind::DRBD);
            let group = c.state.resource_groups.get(&d.resource_group);
            let min = Chains::new(&c.state)
                .rsc_dfn_policy(rd)
                .get(keys::AUTO_EVICT_MIN_REPLICA_COUNT)
                .and_then(|v| v.trim().parse::<u32>().ok())
                .or_else(|| group.and_then(|g| g.select_filter.place_count))
                .unwrap_or(u32::try_from(before).unwrap_or(u32::MAX));
            let mut filter = SelectFilter {
                place_count: Some(min),
                ..Default::default()
            }
            .merged_over(&group.map(|g| g.select_filter.clone()).unwrap_or_default());
            diskful_only(&mut filter);
            let d = c.state.resource_definitions.get_mut(rd).expect("listed");
            if let Some(r) = d.resources.get_mut(&key) {
                if r.flags.contains(RscFlags::INACTIVE) {
                    r.flags.insert(RscFlags::INACTIVE_BEFORE_EVICTION);
                }
                r.flags.insert(RscFlags::EVICTED);
            }
            ctx.modified(ObjKey::Rsc {
                rsc_dfn: rd.clone(),
                node: key.clone(),
            });
            // Only DRBD replicates; without it there is nothing to copy from.
            if !has_diskful_here || !d_has_drbd {
                // A diskless peer here no longer counts (a tiebreaker is placed elsewhere).
                quorum::manage(c, ctx, rd.as_str());
                return Ok(false);
            }
            // Only what the place count still lacks: a replica elsewhere may be enough.
            place(c, ctx, rd, &filter)?;
            quorum::manage(c, ctx, rd.as_str());
            Ok(true)
        });
        match res {
            Ok(true) => replaced += 1,
            Ok(false) => {}
            Err(w) => {
                // The resource stays evicted (`place` rolled back only its own attempt); quorum
                // and tiebreakers still follow the lost replica.
                ctx.rewind(at);
                ctx.modified(ObjKey::Rsc {
                    rsc_dfn: rd.clone(),
                    node: key.clone(),
                });
                ctx.warn_from(*w);
                c.one_pending(rd, |c| quorum::manage(c, ctx, rd.as_str()));
                failed += 1;
            }
        }
    }
    ctx.ok(
        op,
        Obj::Node,
        format!(
            "Node '{key}' evicted: {} resource(s) evicted, {replaced} got replacements, {failed} could not be replaced (see the warnings).",
            rds.len()
        ),
    );
    Ok(())
}

/// `NodeRestore`: cancels an evacuation (the node and its resources lose `EVACUATE`;
/// replacements already placed stay, the balance task removes surplus replicas), or un-evicts
/// (evicted resources are reactivated, or marked for deletion with `delete_resources`).
pub(super) fn node_restore(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    name: &str,
    delete_resources: bool,
) -> Res {
    let op = Op::Modify;
    let key = existing_node(c, op, Obj::Node, name)?.name.clone();
    let node = c.state.nodes.get_mut(&key).expect("checked");
    let evicted = node.flags.contains(NodeFlags::EVICTED);
    if !evicted && !node.flags.contains(NodeFlags::EVACUATE) {
        ctx.warn(
            Obj::Node,
            code::WARN_NO_EFFECT,
            format!("Node '{key}' is neither evacuating nor evicted."),
        );
        return Ok(());
    }
    node.flags.remove(NodeFlags::EVACUATE);
    node.flags.remove(NodeFlags::EVICTED);
    ctx.modified(ObjKey::Node { node: key.clone() });
    if let Some(o) = c.state.observed.nodes.get_mut(&key) {
        o.resources.clear();
    }
    let rds = rscs_on(c, &key);
    let mut to_delete = Vec::new();
    for rd in &rds {
        let d = c.state.resource_definitions.get_mut(rd).expect("index");
        let Some(r) = d.resources.get_mut(&key) else {
            continue;
        };
        let mut changed = false;
        if r.flags.contains(RscFlags::EVACUATE) {
            r.flags.remove(RscFlags::EVACUATE);
            r.props.remove(keys::EVACUATION_REPLICAS);
            r.props.remove(keys::EVACUATION_TARGET);
            r.props.remove(keys::EVACUATION_DO_NOT_TARGET);
            changed = true;
        }
        if r.flags.contains(RscFlags::EVICTED) {
            r.flags.remove(RscFlags::EVICTED);
            if r.flags.contains(RscFlags::INACTIVE_BEFORE_EVICTION) {
                r.flags.remove(RscFlags::INACTIVE_BEFORE_EVICTION);
                r.flags.insert(RscFlags::INACTIVE);
            }
            changed = true;
            if delete_resources && !r.is_deleting() {
                to_delete.push(rd.clone());
            }
        }
        if changed {
            ctx.modified(ObjKey::Rsc {
                rsc_dfn: rd.clone(),
                node: key.clone(),
            });
        }
    }
    let mut deleted = 0usize;
    for rd in &to_delete {
        // A refused delete (snapshots depending on the volume) changes nothing: the resource
        // is reactivated instead, and the warning says why.
        // Marked DELETE, a resource no longer counts in the pool usage.
        match c.one_pending(rd, |c| {
            rsc_delete_by_system(c, ctx, rd.as_str(), key.as_str())
        }) {
            Ok(()) => deleted += 1,
            Err(e) => {
                ctx.warn_from(*e);
            }
        }
    }
    // Replicas count again (or go): quorum and tiebreakers follow.
    for rd in &rds {
        c.one_pending(rd, |c| quorum::manage(c, ctx, rd.as_str()));
    }
    ctx.ok(
        op,
        Obj::Node,
        format!(
            "Node '{key}' restored{}.",
            if deleted == 0 {
                String::new()
            } else {
                format!("; {deleted} evicted resource(s) marked for deletion")
            }
        ),
    );
    Ok(())
}
