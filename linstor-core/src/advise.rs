//! Questions operators ask before they act, answered by the autoplacer and the quorum rules on
//! a copy of the state (nothing is changed):
//!
//! * [`fit`]: how many more volumes of a size a select filter can place, one after the other,
//!   and what stops the next one (the placer's explanation: what each criterion eliminated,
//!   the nearest capacity misses);
//! * [`failure`]: what happens to every resource if some nodes fail: which replicas are lost,
//!   whether the survivors keep quorum (may write), whether data is left at all, and whether
//!   the lost replicas can be rebuilt elsewhere (or why not).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::model::{ConnectionStatus, SelectFilter};
use crate::name::{NodeName, ResourceName, StorPoolName};
use crate::placement::capacity::PoolUsage;
use crate::placement::explain::Refusal;
use crate::placement::{PlacementRequest, autoplace, autoplace_with_usage};
use crate::quorum::{QuorumPolicy, Role, may_write, members, quorum_decision};
use crate::size::SizeKib;
use crate::state::ClusterState;

/// The name the simulated volumes are placed under: one no definition has (a placement for
/// an existing definition would start from its replicas).
fn probe_name(state: &ClusterState) -> ResourceName {
    (0u32..)
        .map(|i| format!("advise-probe-{i}"))
        .filter_map(|n| ResourceName::new(&n).ok())
        .find(|n| !state.resource_definitions.contains_key(n))
        .expect("an unused name among unboundedly many")
}

/// A refusal as words (what the CLI prints), next to its structured explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Why {
    /// Why nothing (more) could be placed.
    pub cause: String,
    /// What would make it possible.
    pub correction: String,
    /// The eliminations and nearest misses, as text.
    pub details: Option<String>,
    /// The placer's refusal.
    pub refusal: Refusal,
}

impl From<Refusal> for Why {
    fn from(r: Refusal) -> Why {
        Why {
            cause: r.cause_text(),
            correction: r.correction_text(),
            details: r.details_text(),
            refusal: r,
        }
    }
}

/// The answer of [`fit`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fit {
    /// Volumes that fit, one after the other.
    pub count: usize,
    /// True if `limit` stopped the count (more may fit).
    pub capped: bool,
    /// Where the first one would go (node, pool).
    pub first: Vec<(NodeName, StorPoolName)>,
    /// Diskful replicas per node over all the volumes that fit.
    pub replicas_per_node: BTreeMap<NodeName, usize>,
    /// What stops the next one (absent when capped).
    pub stopped_by: Option<Why>,
}

/// How many volumes of `size` `filter` can place one after the other (at most `limit`), each
/// placement taking its space before the next is asked.
pub fn fit(state: &ClusterState, filter: &SelectFilter, size: SizeKib, limit: usize) -> Fit {
    let mut usage = PoolUsage::compute(state);
    let req = PlacementRequest::new(probe_name(state), filter.clone(), size);
    let mut out = Fit {
        count: 0,
        capped: false,
        first: Vec::new(),
        replicas_per_node: BTreeMap::new(),
        stopped_by: None,
    };
    while out.count < limit {
        match autoplace_with_usage(state, &usage, &req) {
            Ok(p) => {
                if out.count == 0 {
                    out.first = p.diskful.clone();
                }
                for (node, pool) in &p.diskful {
                    usage.add(node, pool, size);
                    *out.replicas_per_node.entry(node.clone()).or_default() += 1;
                }
                out.count += 1;
                if p.diskful.is_empty() {
                    // Nothing takes space (a diskless-only filter): the count is unbounded.
                    out.capped = true;
                    return out;
                }
            }
            Err(r) => {
                // The probe's made-up name means nothing to the reader.
                let mut why = Why::from(r);
                why.cause = why
                    .cause
                    .replace(&format!("'{}'", req.resource), "a new volume");
                out.stopped_by = Some(why);
                return out;
            }
        }
    }
    out.capped = true;
    out
}

/// What a failure does to one resource definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Impact {
    /// The resource definition.
    pub resource: ResourceName,
    /// Its members on failed nodes, with their roles.
    pub lost: Vec<(NodeName, Role)>,
    /// Diskful replicas left.
    pub diskful_left: usize,
    /// The survivors may write (DRBD quorum under the definition's policy).
    pub quorum_kept: bool,
    /// The quorum policy applied (`off`, `majority`, …).
    pub policy: String,
    /// No diskful replica survives: the data is gone until a failed node returns.
    pub data_lost: bool,
    /// Where the lost diskful replicas would be rebuilt (node, pool).
    pub rebuild: Vec<(NodeName, StorPoolName)>,
    /// Why they cannot be (all or some).
    pub cannot_rebuild: Option<Why>,
}

/// The answer of [`failure`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureReport {
    /// The nodes assumed failed.
    pub failed: BTreeSet<NodeName>,
    /// Resource definitions with members on them.
    pub affected: Vec<Impact>,
    /// Resource definitions without.
    pub unaffected: usize,
}

/// What happens to every resource definition if the nodes `failed` fail at once.
pub fn failure(state: &ClusterState, failed: &BTreeSet<NodeName>) -> FailureReport {
    let survivors: BTreeSet<NodeName> = state
        .nodes
        .keys()
        .filter(|n| !failed.contains(*n))
        .cloned()
        .collect();
    // The state the placer sees after the failure: failed nodes offline, their replicas gone.
    let mut after = state.clone();
    for n in failed {
        if let Some(o) = after.observed.nodes.get_mut(n) {
            o.connection = ConnectionStatus::OFFLINE;
        }
    }
    for rd in after.resource_definitions.values_mut() {
        rd.resources.retain(|node, _| !failed.contains(node));
    }
    let mut report = FailureReport {
        failed: failed.clone(),
        affected: Vec::new(),
        unaffected: 0,
    };
    for name in state.resource_definitions.keys() {
        let all = members(state, name);
        let lost: Vec<(NodeName, Role)> = all
            .iter()
            .filter(|m| failed.contains(&m.node))
            .map(|m| (m.node.clone(), m.role))
            .collect();
        if lost.is_empty() {
            report.unaffected += 1;
            continue;
        }
        report
            .affected
            .push(impact(state, &after, name, &all, lost, &survivors));
    }
    report
}

fn impact(
    state: &ClusterState,
    after: &ClusterState,
    name: &ResourceName,
    all: &[crate::quorum::Member],
    lost: Vec<(NodeName, Role)>,
    survivors: &BTreeSet<NodeName>,
) -> Impact {
    let decision = quorum_decision(state, name);
    let policy = decision
        .as_ref()
        .and_then(|d| QuorumPolicy::parse(&d.value))
        .unwrap_or(QuorumPolicy::Off);
    let diskful_left = all
        .iter()
        .filter(|m| m.role == Role::Diskful && survivors.contains(&m.node))
        .count();
    let lost_diskful = lost.iter().filter(|(_, r)| *r == Role::Diskful).count();
    // Rebuild exactly what was lost: as many diskful replicas as before, under the group's
    // filter.
    let back_to = SelectFilter {
        place_count: u32::try_from(diskful_left + lost_diskful).ok(),
        ..SelectFilter::default()
    };
    let (rebuild, cannot_rebuild) = if lost_diskful > 0 && diskful_left > 0 {
        match PlacementRequest::for_existing(after, name, &back_to)
            .map(|req| autoplace(after, &req))
        {
            Some(Ok(p)) if p.already_satisfied => (Vec::new(), None),
            Some(Ok(p)) => (p.diskful, None),
            Some(Err(r)) => (Vec::new(), Some(r.into())),
            None => (Vec::new(), None),
        }
    } else {
        (Vec::new(), None)
    };
    Impact {
        resource: name.clone(),
        lost,
        diskful_left,
        quorum_kept: may_write(all, policy, survivors),
        policy: decision.map_or_else(|| "off".to_owned(), |d| d.value),
        data_lost: diskful_left == 0,
        rebuild,
        cannot_rebuild,
    }
}

/// The nodes whose property `key` (node, then controller chain as placement reads it) has
/// `value`: the members of one failure domain (`Aux/zone` = `b`).
pub fn nodes_with(state: &ClusterState, key: &str, value: &str) -> BTreeSet<NodeName> {
    state
        .nodes
        .iter()
        .filter(|(_, n)| n.props.get(key) == Some(value))
        .map(|(name, _)| name.clone())
        .collect()
}
