//! Autoplacement inside the command executor: the `RscAutoplace` command, the placement of
//! new replicas for spawn, adjust, balance and evacuation, and the select-filter helpers they
//! share.
//!
//! The placement engine ([`crate::placement`]) decides; this module creates the chosen
//! resources through the ordinary resource-create path (so numbers, properties and change sets
//! are exactly those of a manual create), then runs the quorum helpers. A refusal answers with
//! the engine's explanation (`FAIL_NOT_ENOUGH_NODES`, cause, correction, nearest misses) and
//! changes nothing.

use std::collections::BTreeMap;

use super::Cluster;
use super::ctx::{BoxedEntry, Ctx, Res, fail};
use super::indexes::with_placer;
use super::lookup::existing_rd;
use super::numbers::free_rsc_numbers;
use super::ops_rsc::{self, RscCreateArgs};
use super::quorum;
use crate::model::SelectFilter;
use crate::name::{NodeName, ResourceName};
use crate::placement::{self, PlacementRequest};
use crate::rc::{Obj, Op, code};

impl Cluster {
    /// Plans a placement without changing the state: the placer's answer for `req` on the
    /// current state, through the maintained cache (only its rows are refreshed).
    pub fn plan_placement(
        &mut self,
        req: &PlacementRequest,
    ) -> Result<placement::Placement, placement::Refusal> {
        self.idx.placer.autoplace(&self.state, req)
    }
}

/// Places `rd` with an already merged `filter` and creates the chosen resources. On error the
/// caller's state is untouched (the definition and the indexes are restored).
pub(super) fn place(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    rd: &ResourceName,
    filter: &SelectFilter,
) -> Res {
    let Some(def) = c.state.resource_definitions.get(rd) else {
        return Ok(());
    };
    let req = PlacementRequest::new(rd.clone(), filter.clone(), def.total_size());
    let placement = with_placer(c, rd, |state, placer| placer.autoplace(state, &req))
        .map_err(|r| Box::new(r.to_rc()))?;
    let def = &c.state.resource_definitions[rd];
    if placement.already_satisfied {
        ctx.warn(
            Obj::Rsc,
            code::WARN_RSC_ALREADY_DEPLOYED,
            format!("Resource '{rd}' is already deployed as requested."),
        );
        return Ok(());
    }
    // Only the definition is saved: resource creation changes nothing else but the ports and
    // the resources-per-node index, which the rollback below frees for the new resources.
    let backup = def.clone();
    let empty = BTreeMap::new();
    let res = (|| -> Res {
        for (node, pool) in &placement.diskful {
            let args = RscCreateArgs::in_pool(pool.as_str(), false, &empty);
            ops_rsc::rsc_create(c, ctx, rd.as_str(), node.as_str(), args)?;
        }
        for (node, pool) in &placement.diskless {
            let args = RscCreateArgs::in_pool(pool.as_str(), true, &empty);
            ops_rsc::rsc_create(c, ctx, rd.as_str(), node.as_str(), args)?;
        }
        Ok(())
    })();
    if let Err(e) = res {
        let current = c.state.resource_definitions.insert(rd.clone(), backup);
        for r in current.iter().flat_map(|d| d.resources.values()) {
            if !c.state.resource_definitions[rd]
                .resources
                .contains_key(&r.node)
            {
                free_rsc_numbers(c, rd, r);
            }
        }
        return Err(e);
    }
    Ok(())
}

/// The `RscAutoplace` command: merges `request` over the definition's group filter and places.
pub(super) fn autoplace_cmd(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    rd: &str,
    request: &SelectFilter,
) -> Res {
    let op = Op::Create;
    validate_filter(op, Obj::Rsc, request)?;
    let def = existing_rd(c, op, Obj::Rsc, rd)?;
    let n = def.name.clone();
    let filter = match c.state.resource_groups.get(&def.resource_group) {
        Some(g) => request.merged_over(&g.select_filter),
        None => request.clone(),
    };
    place(c, ctx, &n, &filter)?;
    quorum::manage(c, ctx, n.as_str());
    Ok(())
}

/// A group's filter used to replace diskful replicas: the place count is the request's, and
/// nothing of the group turns it into a diskless or one-off request.
pub(super) fn diskful_only(f: &mut SelectFilter) {
    f.additional_place_count = None;
    f.diskless_type = None;
    f.diskless_on_remaining = None;
}

/// The nodes a replacement may go to: `group`'s list narrowed by `targets` (if any), minus
/// `deny`; `None` when nothing narrows it. `all` are the cluster's nodes.
pub(super) fn replacement_nodes(
    group: Option<&Vec<NodeName>>,
    targets: &[NodeName],
    deny: &[NodeName],
    all: &[NodeName],
) -> Option<Vec<NodeName>> {
    if targets.is_empty() && deny.is_empty() {
        return group.cloned();
    }
    let base: Vec<NodeName> = match (targets.is_empty(), group) {
        (false, Some(g)) => targets.iter().filter(|n| g.contains(n)).cloned().collect(),
        (false, None) => targets.to_vec(),
        (true, Some(g)) => g.clone(),
        (true, None) => all.to_vec(),
    };
    Some(base.into_iter().filter(|n| !deny.contains(n)).collect())
}

/// Checks a select filter's own consistency (not whether it can be satisfied).
pub(crate) fn validate_filter(op: Op, obj: Obj, f: &SelectFilter) -> Res {
    let bad = |what: String, fix: &str| {
        Err(fail(op, obj, code::INVLD_PLACE_COUNT, what).correction(fix.to_owned()))
    };
    if let Some(n) = f.place_count {
        if !(1..=32).contains(&n) {
            return bad(
                format!("Invalid place count {n}"),
                "Use a place count from 1 to 32 (one replica per node, at most 32 DRBD peers).",
            );
        }
    }
    if let Some(n) = f.additional_place_count {
        if n > 31 {
            return bad(
                format!("Invalid additional place count {n}"),
                "Add at most 31 replicas.",
            );
        }
    }
    for key in f
        .replicas_on_same
        .iter()
        .flatten()
        .chain(f.replicas_on_different.iter().flatten())
    {
        let k = key.split_once('=').map_or(key.as_str(), |(k, _)| k);
        if k.is_empty() || k.contains(char::is_whitespace) {
            return Err(fail(
                op,
                obj,
                code::INVLD_PROP,
                format!("Invalid replicas-on key '{key}'"),
            )
            .correction("Give a node property key such as Aux/zone, optionally with =value."));
        }
    }
    for (k, v) in f.x_replicas_on_different_map.iter().flatten() {
        if k.is_empty() || *v == 0 {
            return Err(fail(
                op,
                obj,
                code::INVLD_PROP,
                format!("Invalid x-replicas-on-different entry '{k}' = {v}"),
            )
            .correction("Give a node property key and a count of at least 1."));
        }
    }
    if let Some(re) = &f.not_place_with_rsc_regex {
        if let Err(e) = regex::RegexBuilder::new(re)
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
        {
            return Err(fail(
                op,
                obj,
                code::INVLD_REQUEST,
                format!("Invalid regular expression '{re}'"),
            )
            .cause(e.to_string())
            .correction("Fix the regular expression."));
        }
    }
    Ok(())
}
