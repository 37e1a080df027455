//! Balancing: bringing resource definitions to their group's place count — LINSTOR's
//! `BalanceResourcesTask`, as a decision ([`balance_decision`]) and a command
//! (`Command::RscBalance`, which a controller issues every `BalanceResourcesInterval`).
//!
//! Only definitions with a DRBD layer are balanced (without it, replicas are not copies).
//!
//! First, disk migrations (migrate-disk, `RscToggleDisk` with `migrate_from`): the replica a
//! new disk replaces is deleted (and `MigrateFrom` cleared) once the new one is online and
//! reported UpToDate and the old one online and reported not in use, as LINSTOR does when the
//! new resource's state event says UpToDate; a migration whose old replica is gone, or whose
//! new disk was taken away again, is only cleared.
//!
//! Then, evacuation: replicas on a node being evacuated are deleted once as many live diskful
//! replicas as the definition had when the evacuation started are online, UpToDate and
//! Established elsewhere, and the evacuated one is not in use; a replacement lost meanwhile is
//! placed again. Reports are dropped when a node's connection changes and when volumes are
//! added or grown, so only fresh ones count. (A controller that reloads its state must report
//! every node's connection afresh.)
//!
//! Otherwise a definition is left alone (with the reason) when:
//! - `BalanceResourcesEnabled` (RD > RG > C) is false, or its group has no place count;
//! - it or one of its resources is being deleted (a change is in flight);
//! - it has no volume or no resource yet (deploying it is autoplace's or adjust's job);
//! - a node carrying one of its resources is not online (its reports may be stale);
//! - a resource has `DrbdOptions/SkipDisk` (its disk failed; R > SP > Node > RD > C);
//! - its newest resource is younger than `BalanceResourcesGracePeriod` (RD > RG > C, default
//!   3,600 s) — LINSTOR counts from the definition's creation; we count from its last replica,
//!   which also covers replicas still syncing after an earlier step;
//! - not every resource reported UpToDate and Established (`RscReport`): a replica is never
//!   removed while another may still need it as a sync source, and none is added during a
//!   resync.
//!
//! Otherwise missing diskful replicas are placed by the autoplacer (the group's filter), and
//! surplus ones are removed in the order of [`choose_replicas_to_remove`] (rule violations
//! first, then the fullest pool); diskless peers and replicas in use are never removed.

use super::Cluster;
use super::api::ObjKey;
use super::autoplace::{diskful_only, place, replacement_nodes};
use super::ctx::{Ctx, Res};
use super::lookup::existing_rd;
use super::{ops_rsc, quorum};
use crate::chains::Chains;
use crate::keys;
use crate::model::{LayerKind, RscDfnFlags, RscFlags, SelectFilter};
use crate::name::{NodeName, ResourceName};
use crate::placement::filter::is_live_replica;
use crate::placement::unplace::choose_replicas_to_remove;
use crate::props::parse_bool;
use crate::rc::{Obj, Op, code};
use crate::state::ClusterState;

/// `BalanceResourcesGracePeriod` default, in seconds.
pub const DEFAULT_GRACE_S: i64 = 3_600;

/// What balancing does for one resource definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Balance {
    /// The definition has its place count.
    Balanced,
    /// Left alone now, and why.
    Skip(String),
    /// Add this many diskful replicas, with the group's filter.
    Add(u32, Box<SelectFilter>),
    /// Remove the replicas on these nodes, in this order.
    Remove(Vec<NodeName>),
    /// A disk migration to node `to` is over: clear its `MigrateFrom`, and delete the replica
    /// on `from` (`None`: it is gone already, or the migration was given up).
    FinishMigration {
        /// The node that got the disk.
        to: NodeName,
        /// The node whose replica goes.
        from: Option<NodeName>,
    },
}

/// Definitions with a move under way: a replica being evacuated, or a disk migration
/// (`MigrateFrom`). The balance step finishes them once the replacement is in sync; a
/// controller runs it for these again and again, since the step skips while a node is away and
/// nothing else would bring it back.
pub fn unfinished_moves(state: &ClusterState) -> Vec<ResourceName> {
    state
        .resource_definitions
        .values()
        .filter(|d| {
            d.resources.values().any(|r| {
                !r.is_deleting()
                    && (r.flags.contains(RscFlags::EVACUATE)
                        || r.props.get(keys::MIGRATE_FROM).is_some())
            })
        })
        .map(|d| d.name.clone())
        .collect()
}

/// The balancing decision for `rd` at `now_ms` (see the module docs).
pub fn balance_decision(state: &ClusterState, rd: &ResourceName, now_ms: i64) -> Balance {
    let Some(d) = state.resource_definitions.get(rd) else {
        return Balance::Skip(format!("resource definition '{rd}' does not exist"));
    };
    // Only DRBD replicates: without it, replicas are unrelated volumes, not copies.
    if !d.layer_stack.contains(&LayerKind::DRBD) {
        return Balance::Skip("it has no DRBD layer".into());
    }
    if let Some(b) = migration(state, rd, d) {
        return b;
    }
    if let Some(b) = evacuation(state, rd, d) {
        return b;
    }
    let chains = Chains::new(state);
    let policy = chains.rsc_dfn_policy(rd);
    if policy
        .get(keys::BALANCE_RESOURCES_ENABLED)
        .and_then(parse_bool)
        .is_some_and(|on| !on)
    {
        return Balance::Skip("BalanceResourcesEnabled is false".into());
    }
    let Some(rg) = state.resource_groups.get(&d.resource_group) else {
        return Balance::Skip(format!("resource group '{}' is missing", d.resource_group));
    };
    let filter = rg.select_filter.clone();
    let Some(pc) = filter.place_count else {
        return Balance::Skip(format!("resource group '{}' has no place count", rg.name));
    };
    if d.flags.contains(RscDfnFlags::DELETE) {
        return Balance::Skip("the resource definition is being deleted".into());
    }
    if let Some(r) = d.resources.values().find(|r| r.is_deleting()) {
        return Balance::Skip(format!("the resource on '{}' is being deleted", r.node));
    }
    // Never deployed (a definition being set up, or `definitions_only`): not the balance
    // task's to deploy; autoplace or resource-group adjust does that.
    if d.volume_definitions.is_empty() || d.resources.is_empty() {
        return Balance::Skip("it is not deployed".into());
    }
    // A report from a node that is not online may be stale (in use, resyncing since).
    if let Some(r) = d
        .resources
        .values()
        .find(|r| !crate::placement::filter::is_online(state, &r.node))
    {
        return Balance::Skip(format!("node '{}' is not online", r.node));
    }
    for r in d.resources.values() {
        let skip = chains
            .skip_disk(rd, &r.node)
            .get(keys::SKIP_DISK)
            .and_then(parse_bool)
            .unwrap_or(false);
        if skip {
            return Balance::Skip(format!(
                "the resource on '{}' has DrbdOptions/SkipDisk (its disk failed)",
                r.node
            ));
        }
    }
    let grace_s = policy
        .get(keys::BALANCE_RESOURCES_GRACE_PERIOD)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(DEFAULT_GRACE_S);
    if let Some(newest) = d.resources.values().map(|r| r.create_timestamp).max() {
        let age_s = now_ms.saturating_sub(newest) / 1000;
        if age_s < grace_s {
            return Balance::Skip(format!(
                "its newest replica is {age_s} s old; BalanceResourcesGracePeriod is {grace_s} s"
            ));
        }
    }
    for r in d.resources.values() {
        let seen = state
            .observed
            .nodes
            .get(&r.node)
            .and_then(|o| o.resources.get(rd));
        match seen {
            None => {
                return Balance::Skip(format!(
                    "the resource on '{}' has not reported its DRBD state",
                    r.node
                ));
            }
            Some(s) if !s.up_to_date || !s.established => {
                return Balance::Skip(format!(
                    "the resource on '{}' is not UpToDate and Established",
                    r.node
                ));
            }
            Some(_) => {}
        }
    }
    let live = d
        .resources
        .values()
        .filter(|r| !r.is_diskless() && is_live_replica(state, r))
        .count();
    let live = u32::try_from(live).unwrap_or(u32::MAX);
    if live < pc {
        return Balance::Add(pc - live, Box::new(filter));
    }
    if live > pc {
        let surplus = (live - pc) as usize;
        let nodes = choose_replicas_to_remove(state, rd, &filter, surplus);
        if nodes.is_empty() {
            return Balance::Skip(format!(
                "{surplus} replica(s) over the place count, but every one is in use"
            ));
        }
        return Balance::Remove(nodes);
    }
    Balance::Balanced
}

/// The migration rule, ahead of every other: the first disk migration of `d` that is over,
/// else a wait while one is under way; `None` without migrations.
fn migration(
    state: &ClusterState,
    rd: &ResourceName,
    d: &crate::model::ResourceDefinition,
) -> Option<Balance> {
    let report = |n: &NodeName| {
        let online = crate::placement::filter::is_online(state, n);
        let seen = state
            .observed
            .nodes
            .get(n)
            .and_then(|o| o.resources.get(rd));
        seen.filter(|_| online)
    };
    let mut waiting = None;
    for t in d.live_resources() {
        let Some(from) = t.props.get(keys::MIGRATE_FROM) else {
            continue;
        };
        let source = NodeName::new(from)
            .ok()
            .and_then(|f| d.resources.get(&f))
            .filter(|r| !r.is_deleting());
        let to = t.node.clone();
        let Some(source) = source.filter(|_| !t.is_diskless()) else {
            return Some(Balance::FinishMigration { to, from: None });
        };
        let synced = report(&to).is_some_and(|s| s.up_to_date);
        let free = report(&source.node).is_some_and(|s| !s.in_use);
        if synced && free {
            let from = Some(source.node.clone());
            return Some(Balance::FinishMigration { to, from });
        }
        waiting.get_or_insert(format!(
            "the disk migration from '{from}' to '{to}' waits for '{to}' to be online and UpToDate and '{from}' online and not in use"
        ));
    }
    waiting.map(Balance::Skip)
}

/// The evacuation rule, ahead of every other (it does not depend on `BalanceResourcesEnabled`
/// or the grace period): the replicas of `d` flagged `EVACUATE` go once the definition has, on
/// other nodes, as many live diskful replicas as it had when the evacuation started, and every
/// one of them is online and reported UpToDate and Established. A replica in use (or whose node
/// is not online to say) waits. `None` if nothing of `d` is being evacuated.
fn evacuation(
    state: &ClusterState,
    rd: &ResourceName,
    d: &crate::model::ResourceDefinition,
) -> Option<Balance> {
    let evac: Vec<&crate::model::Resource> = d
        .resources
        .values()
        .filter(|r| r.flags.contains(RscFlags::EVACUATE) && !r.is_deleting())
        .collect();
    if evac.is_empty() {
        return None;
    }
    let online = |n: &NodeName| crate::placement::filter::is_online(state, n);
    let report = |n: &NodeName| {
        state
            .observed
            .nodes
            .get(n)
            .and_then(|o| o.resources.get(rd))
    };
    let diskful_evac = evac.iter().any(|r| !r.is_diskless());
    // Fail closed: a diskful replica without a valid target is never removed.
    let targets: Option<Vec<usize>> = evac
        .iter()
        .filter(|r| !r.is_diskless())
        .map(|r| {
            r.props
                .get(keys::EVACUATION_REPLICAS)?
                .parse::<usize>()
                .ok()
        })
        .collect();
    let Some(targets) = targets else {
        return Some(Balance::Skip(format!(
            "evacuation target ({}) missing on an evacuated replica",
            keys::EVACUATION_REPLICAS
        )));
    };
    let target = targets.into_iter().max().unwrap_or(0);
    let live: Vec<&crate::model::Resource> = d
        .resources
        .values()
        .filter(|r| !r.is_diskless() && is_live_replica(state, r))
        .collect();
    // Every live replica settled before anything is added or removed.
    for r in &live {
        let settled =
            online(&r.node) && report(&r.node).is_some_and(|s| s.up_to_date && s.established);
        if !settled {
            return Some(Balance::Skip(format!(
                "evacuation waits for the replica on '{}' to be online, UpToDate and Established",
                r.node
            )));
        }
    }
    if diskful_evac && (live.len() < target || live.is_empty()) {
        // A replacement was lost meanwhile: place it again (the evacuated copy stays).
        let mut filter = state
            .resource_groups
            .get(&d.resource_group)
            .map(|g| g.select_filter.clone())
            .unwrap_or_default();
        // The evacuations' `target` / `do_not_target`: every deny list applies; targets only
        // if every evacuated replica had some (their union).
        let names = |v: Option<&str>| -> Vec<NodeName> {
            v.map(|v| v.split(',').filter_map(|n| NodeName::new(n).ok()).collect())
                .unwrap_or_default()
        };
        let diskful: Vec<_> = evac.iter().filter(|r| !r.is_diskless()).collect();
        let deny: Vec<NodeName> = diskful
            .iter()
            .flat_map(|r| names(r.props.get(keys::EVACUATION_DO_NOT_TARGET)))
            .collect();
        let targets: Vec<NodeName> = if diskful
            .iter()
            .all(|r| r.props.get(keys::EVACUATION_TARGET).is_some())
        {
            diskful
                .iter()
                .flat_map(|r| names(r.props.get(keys::EVACUATION_TARGET)))
                .collect()
        } else {
            Vec::new()
        };
        let all: Vec<NodeName> = state.nodes.keys().cloned().collect();
        filter.node_name_list =
            replacement_nodes(filter.node_name_list.as_ref(), &targets, &deny, &all);
        let missing = u32::try_from(target.max(1) - live.len()).unwrap_or(u32::MAX);
        return Some(Balance::Add(missing, Box::new(filter)));
    }
    let free: Vec<NodeName> = evac
        .iter()
        .filter(|r| online(&r.node) && report(&r.node).is_some_and(|s| !s.in_use))
        .map(|r| r.node.clone())
        .collect();
    if free.is_empty() {
        return Some(Balance::Skip(
            "evacuation waits: the evacuated replica is in use (or its node cannot tell)".into(),
        ));
    }
    Some(Balance::Remove(free))
}

/// Ends the disk migration to `to`: its `MigrateFrom` goes, and the replica on `from` (if
/// any) is deleted as the system deletes (a refused delete leaves both as they were).
fn finish_migration(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    n: &ResourceName,
    to: &NodeName,
    from: Option<&NodeName>,
) -> Res {
    if let Some(f) = from {
        ops_rsc::rsc_delete_by_system(c, ctx, n.as_str(), f.as_str())?;
    }
    let d = c.state.resource_definitions.get_mut(n).expect("balanced");
    if let Some(r) = d.resources.get_mut(to) {
        r.props.remove(keys::MIGRATE_FROM);
    }
    ctx.modified(ObjKey::Rsc {
        rsc_dfn: n.clone(),
        node: to.clone(),
    });
    let what = from.map_or_else(
        || "given up".to_owned(),
        |f| format!("done: the replica on '{f}' is being deleted"),
    );
    ctx.ok(
        Op::Modify,
        Obj::Rsc,
        format!("Disk migration of '{n}' to node '{to}' {what}."),
    );
    quorum::manage(c, ctx, n.as_str());
    Ok(())
}

/// `RscBalance`: balances `rd`, or every definition. Definitions are independent: one
/// that cannot be placed is rolled back and answered with a warning.
pub(super) fn balance_cmd(c: &mut Cluster, ctx: &mut Ctx<'_>, rd: Option<&str>) -> Res {
    let op = Op::Modify;
    let names: Vec<ResourceName> = match rd {
        Some(n) => vec![existing_rd(c, op, Obj::RscDfn, n)?.name.clone()],
        None => c.state.resource_definitions.keys().cloned().collect(),
    };
    let now = ctx.env.now_ms();
    let (mut added, mut removed, mut skipped, mut failed) = (0usize, 0usize, 0usize, 0usize);
    for n in &names {
        c.one_pending(n, |c| {
            match balance_decision(&c.state, n, now) {
                Balance::Balanced => {}
                Balance::Skip(why) => {
                    skipped += 1;
                    if rd.is_some() {
                        ctx.warn(
                            Obj::RscDfn,
                            code::WARN_NO_EFFECT,
                            format!("Resource definition '{n}' left as it is: {why}."),
                        );
                    }
                }
                Balance::Add(count, filter) => {
                    let mut filter = *filter;
                    diskful_only(&mut filter);
                    filter.place_count = None;
                    filter.additional_place_count = Some(count);
                    let at = ctx.checkpoint();
                    match place(c, ctx, n, &filter) {
                        Ok(()) => {
                            quorum::manage(c, ctx, n.as_str());
                            added += 1;
                        }
                        Err(e) => {
                            ctx.rewind(at);
                            failed += 1;
                            ctx.warn_from(*e);
                        }
                    }
                }
                Balance::FinishMigration { to, from } => {
                    match finish_migration(c, ctx, n, &to, from.as_ref()) {
                        Ok(()) => removed += 1,
                        Err(e) => {
                            ctx.warn_from(*e);
                            failed += 1;
                        }
                    }
                }
                Balance::Remove(nodes) => {
                    let mut gone = 0;
                    for node in &nodes {
                        // A refused delete (snapshots that depend on the volume) changes nothing:
                        // it becomes a warning and this definition keeps its other replicas.
                        match ops_rsc::rsc_delete_by_system(c, ctx, n.as_str(), node.as_str()) {
                            Ok(()) => gone += 1,
                            Err(e) => {
                                ctx.warn_from(*e);
                                failed += 1;
                                break;
                            }
                        }
                    }
                    if gone > 0 {
                        quorum::manage(c, ctx, n.as_str());
                        removed += 1;
                    }
                }
            }
        });
    }
    ctx.ok(
        op,
        Obj::RscDfn,
        format!(
            "Balanced {} resource definition(s): {added} got replicas, {removed} gave up surplus replicas, {skipped} left alone, {failed} failed (see the warnings).",
            names.len()
        ),
    );
    Ok(())
}
