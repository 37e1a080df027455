//! Unplacement: which replica to remove when the place count drops.
//!
//! Only diskful replicas that are not being deleted and not reported in use (Primary) are
//! candidates; a diskless peer is never chosen (it may be in use, and it holds no data to
//! rebalance). The order, LINSTOR-like:
//!
//! 1. most violations of the placement rules of the (merged) filter: node offline, node being
//!    deleted/evacuated, not in `node_name_list`, `AutoplaceTarget=false` (node or pool), pool not
//!    in `storage_pool_list`, provider not in `provider_list`, `not_place_with_rsc[_regex]`,
//!    `replicas_on_same` value missing or not the majority's (or not the fixed value),
//!    `replicas_on_different` value forbidden or in a group holding more than its cap;
//! 2. then the fullest pool (reserved / total capacity);
//! 3. then the node name (the last in order), so the answer is deterministic.

use std::collections::BTreeMap;

use crate::model::{NodeFlags, Resource, ResourceDefinition, SelectFilter, StoragePool};
use crate::name::{NodeName, ResourceName};
use crate::placement::capacity::PoolUsage;
use crate::placement::filter::{is_online, node_is_target};
use crate::props::parse_bool;
use crate::state::ClusterState;

/// True if the satellite of `node` reported `resource` in use (Primary).
pub fn in_use(state: &ClusterState, resource: &ResourceName, node: &NodeName) -> bool {
    state
        .observed
        .nodes
        .get(node)
        .and_then(|o| o.resources.get(resource))
        .is_some_and(|s| s.in_use)
}

/// The replica of `resource` to remove, or `None` if it has no diskful replica that is not in
/// use.
pub fn choose_replica_to_remove(
    state: &ClusterState,
    resource: &ResourceName,
    filter: &SelectFilter,
) -> Option<NodeName> {
    choose_excluding(state, resource, filter, &[])
}

/// `count` replicas of `resource` to remove, in order: each choice as if the earlier ones were
/// gone. Fewer if fewer qualify.
pub fn choose_replicas_to_remove(
    state: &ClusterState,
    resource: &ResourceName,
    filter: &SelectFilter,
    count: usize,
) -> Vec<NodeName> {
    let mut out: Vec<NodeName> = Vec::with_capacity(count);
    while out.len() < count {
        match choose_excluding(state, resource, filter, &out) {
            Some(n) => out.push(n),
            None => break,
        }
    }
    out
}

/// [`choose_replica_to_remove`] with the replicas on `gone` counted as removed.
fn choose_excluding(
    state: &ClusterState,
    resource: &ResourceName,
    filter: &SelectFilter,
    gone: &[NodeName],
) -> Option<NodeName> {
    let rd = state.resource_definitions.get(resource)?;
    // Every remaining diskful replica counts for the spreading rules; one in use stays.
    let reps: Vec<_> = rd
        .resources
        .values()
        .filter(|r| !r.is_deleting() && !r.is_diskless() && !gone.contains(&r.node))
        .collect();
    if !reps.iter().any(|r| !in_use(state, resource, &r.node)) {
        return None;
    }
    let usage = PoolUsage::compute(state);
    let judge = Judge::new(state, rd, filter, &reps);
    let mut scored: Vec<(u32, u64, &NodeName)> = Vec::new();
    for r in reps.iter().filter(|r| !in_use(state, resource, &r.node)) {
        let n = &r.node;
        let pools: Vec<_> = r
            .volumes
            .values()
            .filter_map(|vol| state.storage_pool(n, &vol.storage_pool))
            .collect();
        let v = judge.node_violations(n)
            + judge.pool_violations(&pools)
            + judge.not_place_with_violations(n)
            + judge.same_violations(n)
            + judge.different_violations(n);
        scored.push((v, fullest_pool_fill(state, &usage, n, &pools), n));
    }
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(b.2.cmp(a.2)));
    scored.first().map(|(_, _, n)| (*n).clone())
}

/// The placement rules of the (merged) filter a replica is judged on for removal, read once.
struct Judge<'a> {
    state: &'a ClusterState,
    rd: &'a ResourceDefinition,
    filter: &'a SelectFilter,
    /// Every remaining diskful replica (they all count for the spreading rules).
    reps: &'a [&'a Resource],
    /// `not_place_with_rsc_regex`, if it compiles.
    regex: Option<regex::Regex>,
    /// `x_replicas_on_different_map`.
    xmap: BTreeMap<String, u32>,
}

impl<'a> Judge<'a> {
    /// Reads the filter's rules for judging the replicas `reps` of `rd`.
    fn new(
        state: &'a ClusterState,
        rd: &'a ResourceDefinition,
        filter: &'a SelectFilter,
        reps: &'a [&'a Resource],
    ) -> Judge<'a> {
        let regex = filter.not_place_with_rsc_regex.as_ref().and_then(|p| {
            regex::RegexBuilder::new(p)
                .case_insensitive(true)
                .build()
                .ok()
        });
        let xmap = filter
            .x_replicas_on_different_map
            .clone()
            .unwrap_or_default();
        Judge {
            state,
            rd,
            filter,
            reps,
            regex,
            xmap,
        }
    }

    /// The value of property `key` on node `n`.
    fn value(&self, n: &NodeName, key: &str) -> Option<String> {
        self.state
            .nodes
            .get(n)
            .and_then(|node| node.props.get(key))
            .map(str::to_string)
    }

    /// True if node `n` carries a live resource of another definition whose name matches
    /// `pred`.
    fn carries(&self, n: &NodeName, pred: &dyn Fn(&ResourceName) -> bool) -> bool {
        self.state.resource_definitions.values().any(|o| {
            o.name != self.rd.name && pred(&o.name) && o.live_resources().any(|r| &r.node == n)
        })
    }

    /// Node rules broken by the replica's node `n`: offline, being deleted or evacuated (or
    /// gone), not in `node_name_list`, `AutoplaceTarget=false`.
    fn node_violations(&self, n: &NodeName) -> u32 {
        let state = self.state;
        let node = state.nodes.get(n);
        let mut v = 0u32;
        if !is_online(state, n) {
            v += 1;
        }
        if node.is_none_or(|x| {
            x.flags.contains(NodeFlags::DELETE) || x.flags.contains(NodeFlags::EVACUATE)
        }) {
            v += 1;
        }
        if self
            .filter
            .node_name_list
            .as_ref()
            .is_some_and(|l| !l.contains(n))
        {
            v += 1;
        }
        if node.is_some_and(|x| !node_is_target(state, x)) {
            v += 1;
        }
        v
    }

    /// Pool rules broken by the replica's pools: `AutoplaceTarget=false`, not in
    /// `storage_pool_list`, provider not in `provider_list` (each counted once).
    fn pool_violations(&self, pools: &[&StoragePool]) -> u32 {
        let filter = self.filter;
        let mut v = 0u32;
        if pools
            .iter()
            .any(|p| p.props.get("AutoplaceTarget").and_then(parse_bool) == Some(false))
        {
            v += 1;
        }
        if let Some(l) = filter.pool_list()
            && pools.iter().any(|p| !l.contains(&p.name))
        {
            v += 1;
        }
        if let Some(l) = &filter.provider_list
            && pools.iter().any(|p| !l.contains(&p.kind))
        {
            v += 1;
        }
        v
    }

    /// `not_place_with_rsc` and `not_place_with_rsc_regex` broken by node `n`.
    fn not_place_with_violations(&self, n: &NodeName) -> u32 {
        let mut v = 0u32;
        if let Some(l) = &self.filter.not_place_with_rsc
            && self.carries(n, &|o| l.contains(o))
        {
            v += 1;
        }
        if let Some(re) = &self.regex
            && self.carries(n, &|o| re.is_match(o.as_str()))
        {
            v += 1;
        }
        v
    }

    /// `replicas_on_same` rules broken by node `n`: its value is missing, or not the fixed
    /// value, or not the majority's among the remaining replicas.
    fn same_violations(&self, n: &NodeName) -> u32 {
        let mut v = 0u32;
        for e in self.filter.replicas_on_same.iter().flatten() {
            let mine = match e.split_once('=') {
                Some((k, fixed)) => self.value(n, k).as_deref() != Some(fixed),
                None => {
                    let mut counts: BTreeMap<Option<String>, usize> = BTreeMap::new();
                    for o in self.reps {
                        *counts.entry(self.value(&o.node, e)).or_default() += 1;
                    }
                    let majority = counts
                        .iter()
                        .filter(|(k, _)| k.is_some())
                        .max_by_key(|(_, c)| **c)
                        .map(|(k, _)| k.clone());
                    let val = self.value(n, e);
                    val.is_none() || majority.is_some_and(|m| m != val)
                }
            };
            if mine {
                v += 1;
            }
        }
        v
    }

    /// `replicas_on_different` rules broken by node `n`: a forbidden value, or a value held by
    /// more remaining replicas than its cap.
    fn different_violations(&self, n: &NodeName) -> u32 {
        let mut v = 0u32;
        for e in self.filter.replicas_on_different.iter().flatten() {
            match e.split_once('=') {
                Some((k, forbidden)) => {
                    if self.value(n, k).as_deref() == Some(forbidden) {
                        v += 1;
                    }
                }
                None => {
                    let cap = self.xmap.get(e).copied().unwrap_or(1) as usize;
                    let mine = self.value(n, e);
                    let same = self
                        .reps
                        .iter()
                        .filter(|o| self.value(&o.node, e) == mine)
                        .count();
                    if same > cap {
                        v += 1;
                    }
                }
            }
        }
        v
    }
}

/// The fill, in parts per million, of the fullest of `pools` (on node `n`) a replica uses.
fn fullest_pool_fill(
    state: &ClusterState,
    usage: &PoolUsage,
    n: &NodeName,
    pools: &[&StoragePool],
) -> u64 {
    pools
        .iter()
        .map(|p| {
            let u = usage.get(n, &p.name).reserved;
            let total = state
                .observed
                .nodes
                .get(n)
                .and_then(|o| o.pools.get(&p.name))
                .map_or(0, |c| c.total.0);
            u.saturating_mul(1_000_000)
                .checked_div(total)
                .unwrap_or(u64::MAX)
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placement::tests::cluster;
    use crate::placement::testutil::*;

    /// `spec` (see `placement::tests::cluster`) and a filter (JSON) → the replica of r0 removed.
    fn check(spec: &str, filter: &str, expect: Option<&str>) {
        let st = cluster(spec);
        let f: SelectFilter = serde_json::from_str(filter).unwrap();
        let got = choose_replica_to_remove(&st, &rn("r0"), &f);
        assert_eq!(got.as_ref().map(|n| n.as_str()), expect, "{spec} {filter}");
    }

    const NODES: &str = "
        n1 Aux/zone=a : data=LVM:100/100
        n2 Aux/zone=a : data=LVM:100/100
        n3 Aux/zone=b : data=LVM:100/100 small=LVM:8/8
        n4 Aux/zone=c offline : data=LVM:100/100
    ";

    #[test]
    fn unplace_table() {
        // The fullest pool goes first.
        check(
            &format!("{NODES}\nrd r0 5 n1=data n3=small\nrd xx 50 n1=data"),
            "{}",
            Some("n3"),
        );
        check(
            &format!("{NODES}\nrd r0 5 n1=data n2=data\nrd xx 50 n1=data"),
            "{}",
            Some("n1"),
        );
        // Constraint violations first: two replicas in zone a under replicas_on_different.
        check(
            &format!("{NODES}\nrd r0 5 n1=data n2=data n3=small"),
            r#"{"replicas_on_different":["Aux/zone"]}"#,
            Some("n2"),
        );
        // Offline beats fullness.
        check(
            &format!("{NODES}\nrd r0 5 n3=small n4=data"),
            "{}",
            Some("n4"),
        );
        // Node list violation.
        check(
            &format!("{NODES}\nrd r0 5 n1=data n3=small"),
            r#"{"node_name_list":["n3"]}"#,
            Some("n1"),
        );
        // Never a diskless peer; nothing diskful → None.
        check(
            &format!("{NODES}\nrd r0 5 n1=data\ndl r0 n2"),
            "{}",
            Some("n1"),
        );
        check(&format!("{NODES}\nrd r0 5\ndl r0 n2"), "{}", None);
        // Never a replica in use: the fullest pool is in use, the next one goes.
        check(
            &format!("{NODES}\nrd r0 5 n1=data n3=small\ninuse r0 n3"),
            "{}",
            Some("n1"),
        );
        check(
            &format!("{NODES}\nrd r0 5 n1=data\ninuse r0 n1"),
            "{}",
            None,
        );
        // A replica in use still counts for the spreading rules: n1 (in use) and n2 share
        // zone a, so n2 goes although n3's pool is fuller.
        check(
            &format!("{NODES}\nrd r0 5 n1=data n2=data n3=small\ninuse r0 n1"),
            r#"{"replicas_on_different":["Aux/zone"]}"#,
            Some("n2"),
        );
    }

    #[test]
    fn several_removals_each_see_the_earlier_ones_gone() {
        let st = cluster(&format!(
            "{NODES}\nrd r0 5 n1=data n2=data n3=small n4=data"
        ));
        let f: SelectFilter =
            serde_json::from_str(r#"{"replicas_on_different":["Aux/zone"]}"#).unwrap();
        // n4 (offline) first; then zone a holds two: the fuller of n1/n2 (equal: the last name).
        let got = choose_replicas_to_remove(&st, &rn("r0"), &f, 2);
        assert_eq!(got, vec![nn("n4"), nn("n2")]);
        // Asking for more than there are stops when none is left.
        assert_eq!(choose_replicas_to_remove(&st, &rn("r0"), &f, 9).len(), 4);
    }
}
