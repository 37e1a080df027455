//! The filter chain and the request pipeline (rules, seeding, candidates, selection, answer).
//!
//! Every (node, pool) pair of the requested kind is a candidate; it is eliminated by the first
//! [`Criterion`] it fails, in the order of the enum. Node-level criteria are evaluated once per
//! node. Survivors are scored ([`super::score`]) and handed to [`super::select`].

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::model::{
    ConnectionStatus, DisklessType, LayerKind, Node, NodeFlags, NodeObserved, ProviderKind,
    ResourceDefinition, RscFlags, StoragePool,
};
use crate::name::{NodeName, StorPoolName, well_known};
use crate::placement::capacity::{FnvMap, Limit, PoolEstimate, estimate_with, min_thin_free};
use crate::placement::explain::{Criterion, Elimination, NearMiss, Refusal, RefusalKind};
use crate::placement::score::{ScoreInput, score_all};
use crate::placement::select::{self, Dim, Outcome, Problem};
use crate::placement::{Mode, Placement, PlacementRequest, PoolUsage, Strategy};
use crate::props::{Level, PriorityProps, parse_bool};
use crate::size::SizeKib;
use crate::state::ClusterState;

/// The value a node without a `replicas_on_different` key has: one shared "unset" group.
const UNSET: &str = "\u{0}unset";

/// True if a resource counts as an existing replica (not deleted, evicted or evacuated, and not
/// on an evacuating node).
pub fn is_live_replica(state: &ClusterState, r: &crate::model::Resource) -> bool {
    if r.flags.contains(RscFlags::DELETE)
        || r.flags.contains(RscFlags::EVICTED)
        || r.flags.contains(RscFlags::EVACUATE)
    {
        return false;
    }
    !state.nodes.get(&r.node).is_some_and(|n| {
        n.flags.contains(NodeFlags::EVACUATE) || n.flags.contains(NodeFlags::DELETE)
    })
}

/// True if the node is connected and full-synced.
pub fn is_online(state: &ClusterState, node: &NodeName) -> bool {
    state
        .observed
        .nodes
        .get(node)
        .is_some_and(|o| o.connection == crate::model::ConnectionStatus::ONLINE)
}

/// `AutoplaceTarget` on the node (Node > C), default true.
pub fn node_is_target(state: &ClusterState, node: &Node) -> bool {
    node.props
        .get("AutoplaceTarget")
        .or_else(|| state.ctrl_props.get("AutoplaceTarget"))
        .and_then(parse_bool)
        .unwrap_or(true)
}

/// True if `shared` is a default shared-space name (`<node>;<pool>`): custom shared-space names
/// cannot contain `;`, LINSTOR's reserved node;pool connector.
fn default_shared(shared: &str) -> bool {
    shared.as_bytes().contains(&b';')
}

/// The mixing class of a provider kind: two kinds mix iff their classes are equal
/// (LINSTOR's mixing relation is an equivalence for a fixed `AllowMixingStoragePoolDriver`).
pub fn mix_class(kind: ProviderKind, allow_lvm_zfs: bool) -> u32 {
    use ProviderKind::*;
    match kind {
        DISKLESS => 0,
        FILE | FILE_THIN => 1,
        LVM | LVM_THIN | ZFS | ZFS_THIN if allow_lvm_zfs => 2,
        LVM => 3,
        LVM_THIN => 4,
        ZFS => 5,
        ZFS_THIN => 6,
    }
}

/// The diskless pool a diskless peer on `node` would use.
pub fn diskless_pool_for(node: &Node, list: Option<&Vec<StorPoolName>>) -> Option<StorPoolName> {
    let is_dl = |p: &&StoragePool| p.kind == ProviderKind::DISKLESS;
    if let Some(list) = list {
        return list
            .iter()
            .find(|n| node.storage_pools.get(*n).is_some_and(|p| is_dl(&p)))
            .cloned();
    }
    let dflt = StorPoolName::new(well_known::DFLT_DISKLESS_STOR_POOL).ok();
    if let Some(d) = dflt
        && node.storage_pools.get(&d).is_some_and(|p| is_dl(&p))
    {
        return Some(d);
    }
    node.storage_pools
        .values()
        .find(is_dl)
        .map(|p| p.name.clone())
}

struct DiffRule {
    key: String,
    cap: Option<u32>,
    forbidden: Vec<String>,
    partial: bool,
    used: FnvMap<String, u32>,
}

struct SameRule {
    key: String,
    fixed: Option<String>,
}

struct NodeOk<'a> {
    same: Strs<'a>,
    diff: Strs<'a>,
}

/// A short list of property values, inline up to two (no allocation per node).
#[derive(Default)]
struct Strs<'a> {
    inline: [&'a str; 2],
    len: usize,
    more: Vec<&'a str>,
}

impl<'a> Strs<'a> {
    fn push(&mut self, v: &'a str) {
        if self.len < 2 && self.more.is_empty() {
            self.inline[self.len] = v;
            self.len += 1;
        } else {
            if self.more.is_empty() {
                self.more.extend_from_slice(&self.inline[..self.len]);
            }
            self.more.push(v);
        }
    }
}

impl<'a> std::ops::Deref for Strs<'a> {
    type Target = [&'a str];
    fn deref(&self) -> &[&'a str] {
        if self.more.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.more
        }
    }
}

/// Ties a closure's output lifetime to its input (a higher-ranked signature).
fn constrain<F>(f: F) -> F
where
    F: for<'x> Fn(&'x Node, Option<&NodeObserved>) -> Result<NodeOk<'x>, Criterion>,
{
    f
}

fn node_value<'a>(n: &'a Node, key: &str) -> Option<&'a str> {
    n.props.get(key)
}

/// Runs the whole pipeline (see [`super::autoplace`]).
pub(crate) fn run(
    state: &ClusterState,
    usage: &PoolUsage,
    req: &PlacementRequest,
) -> Result<Placement, Refusal> {
    let f = &req.filter;
    let mode = req.mode();
    let strategy = req.strategy.unwrap_or_else(|| Strategy::from_ctrl(state));
    let rd = state.resource_definitions.get(&req.resource);
    let rg = rd.and_then(|rd| state.resource_groups.get(&rd.resource_group));
    let simple = |k: RefusalKind| Refusal::simple(k, req.resource.clone());

    // Existing replicas.
    let live: Vec<&crate::model::Resource> = rd
        .map(|rd| {
            rd.resources
                .values()
                .filter(|r| is_live_replica(state, r))
                .collect()
        })
        .unwrap_or_default();
    let live_diskful: Vec<_> = live.iter().copied().filter(|r| !r.is_diskless()).collect();
    let existing = match mode {
        Mode::Diskful => live_diskful.len(),
        Mode::Diskless(t) => {
            let flag = match t {
                DisklessType::DRBD_DISKLESS => RscFlags::DRBD_DISKLESS,
                DisklessType::NVME_INITIATOR => RscFlags::NVME_INITIATOR,
            };
            live.iter()
                .filter(|r| r.flags.contains(flag) && !r.flags.contains(RscFlags::TIE_BREAKER))
                .count()
        }
    };
    let existing32 = u32::try_from(existing).unwrap_or(u32::MAX);
    let need = match (f.additional_place_count, f.place_count) {
        (Some(a), _) => a,
        (None, Some(pc)) if pc < existing32 => {
            return Err(simple(RefusalKind::PlaceCountBelowExisting {
                requested: pc,
                existing: existing32,
            }));
        }
        (None, Some(pc)) => pc - existing32,
        (None, None) => return Err(simple(RefusalKind::MissingPlaceCount)),
    };
    let dor = f.diskless_on_remaining.unwrap_or(false);
    if need == 0 && !dor {
        return Ok(Placement {
            diskful: Vec::new(),
            diskless: Vec::new(),
            already_satisfied: true,
            strategy,
        });
    }
    let seeds: Vec<&crate::model::Resource> = match mode {
        Mode::Diskful => live_diskful.clone(),
        Mode::Diskless(_) => live.clone(),
    };
    let seed_nodes: Vec<&Node> = seeds
        .iter()
        .filter_map(|r| state.nodes.get(&r.node))
        .collect();

    // Rules.
    let mut same_rules: Vec<SameRule> = Vec::new();
    for e in f.replicas_on_same.iter().flatten() {
        let (key, fixed) = match e.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (e.clone(), None),
        };
        let fixed = match fixed {
            Some(v) => Some(v),
            None => {
                let vals: BTreeMap<&str, Vec<&NodeName>> =
                    seed_nodes.iter().fold(BTreeMap::new(), |mut m, n| {
                        if let Some(v) = node_value(n, &key) {
                            m.entry(v).or_insert_with(Vec::new).push(&n.name);
                        }
                        m
                    });
                if vals.len() > 1 {
                    let list: Vec<String> = vals
                        .iter()
                        .map(|(v, ns)| {
                            let ns: Vec<&str> = ns.iter().map(|n| n.as_str()).collect();
                            format!("{v} on {}", ns.join(", "))
                        })
                        .collect();
                    return Err(simple(RefusalKind::Undecidable(format!(
                        "the existing replicas of '{}' disagree on replicas_on_same key '{key}': {}",
                        req.resource,
                        list.join("; ")
                    ))));
                }
                vals.keys().next().map(|v| (*v).to_string())
            }
        };
        same_rules.push(SameRule { key, fixed });
    }
    let mut diff_rules: Vec<DiffRule> = Vec::new();
    let xmap = f.x_replicas_on_different_map.clone().unwrap_or_default();
    let rule_for = |key: &str, rules: &mut Vec<DiffRule>| -> usize {
        if let Some(i) = rules.iter().position(|r| r.key == key) {
            return i;
        }
        rules.push(DiffRule {
            key: key.to_string(),
            cap: None,
            forbidden: Vec::new(),
            partial: false,
            used: FnvMap::default(),
        });
        rules.len() - 1
    };
    for e in f.replicas_on_different.iter().flatten() {
        match e.split_once('=') {
            Some((k, v)) => {
                let i = rule_for(k, &mut diff_rules);
                diff_rules[i].forbidden.push(v.to_string());
            }
            None => {
                let i = rule_for(e, &mut diff_rules);
                let x = xmap.get(e).copied().unwrap_or(1);
                diff_rules[i].cap = Some(x);
                diff_rules[i].partial = x >= 2 && xmap.contains_key(e);
            }
        }
    }
    for (k, x) in &xmap {
        let i = rule_for(k, &mut diff_rules);
        diff_rules[i].cap = Some(*x);
        diff_rules[i].partial = *x >= 2;
    }
    for r in &mut diff_rules {
        for n in &seed_nodes {
            let v = node_value(n, &r.key).unwrap_or(UNSET);
            *r.used.entry(v.to_string()).or_insert(0) += 1;
        }
    }

    // Mixing and shared space, seeded by existing diskful replicas.
    let mut mix_chain = PriorityProps::new();
    if let Some(rd) = rd {
        mix_chain.push(Level::RscDfn, &rd.props);
    }
    if let Some(rg) = rg {
        mix_chain.push(Level::RscGrp, &rg.props);
    }
    mix_chain.push(Level::Controller, &state.ctrl_props);
    let allow_mix = mix_chain
        .get("AllowMixingStoragePoolDriver")
        .and_then(parse_bool)
        .unwrap_or(false);
    let mut seed_classes: BTreeSet<u32> = BTreeSet::new();
    let mut seed_shared: Vec<&str> = Vec::new();
    for r in &live_diskful {
        for v in r.volumes.values() {
            if let Some(p) = state.storage_pool(&r.node, &v.storage_pool) {
                seed_classes.insert(mix_class(p.kind, allow_mix));
                seed_shared.push(&p.free_space_mgr_name);
            }
        }
    }

    // not_place_with.
    let mut npw_nodes: HashSet<&NodeName> = HashSet::new();
    for name in f.not_place_with_rsc.iter().flatten() {
        if let Some(other) = state.resource_definitions.get(name) {
            npw_nodes.extend(other.live_resources().map(|r| &r.node));
        }
    }
    let mut npw_re_nodes: HashSet<&NodeName> = HashSet::new();
    if let Some(pat) = &f.not_place_with_rsc_regex {
        let re = regex::RegexBuilder::new(pat)
            .case_insensitive(true)
            .build()
            .map_err(|e| simple(RefusalKind::InvalidRegex(e.to_string())))?;
        for other in state.resource_definitions.values() {
            if re.is_match(other.name.as_str()) {
                npw_re_nodes.extend(other.live_resources().map(|r| &r.node));
            }
        }
    }

    // Layers.
    let mut layers: Vec<LayerKind> = f.layer_stack.clone().unwrap_or_default();
    match mode {
        Mode::Diskless(DisklessType::DRBD_DISKLESS) => layers.push(LayerKind::DRBD),
        Mode::Diskless(DisklessType::NVME_INITIATOR) => layers.push(LayerKind::NVME),
        Mode::Diskful => {}
    }
    layers.retain(|l| *l != LayerKind::STORAGE);
    layers.sort();
    layers.dedup();

    let rd_rg_props: Vec<(Level, &crate::props::Props)> = rd
        .map(|rd| (Level::RscDfn, &rd.props))
        .into_iter()
        .chain(rg.map(|rg| (Level::RscGrp, &rg.props)))
        .collect();

    let node_check = constrain(
        |n: &Node, obs: Option<&NodeObserved>| -> Result<NodeOk<'_>, Criterion> {
            if obs.is_none_or(|o| o.connection != ConnectionStatus::ONLINE) {
                return Err(Criterion::NodeOffline);
            }
            if n.flags.contains(NodeFlags::DELETE) || n.flags.contains(NodeFlags::EVACUATE) {
                return Err(Criterion::NodeFlags);
            }
            if let Some(list) = &f.node_name_list
                && !list.contains(&n.name)
            {
                return Err(Criterion::NodeNameList);
            }
            if !node_is_target(state, n) {
                return Err(Criterion::AutoplaceTargetNode);
            }
            if rd.is_some_and(|rd| rd.resources.contains_key(&n.name)) {
                return Err(Criterion::HasReplica);
            }
            if !npw_nodes.is_empty() && npw_nodes.contains(&n.name) {
                return Err(Criterion::NotPlaceWith);
            }
            if !npw_re_nodes.is_empty() && npw_re_nodes.contains(&n.name) {
                return Err(Criterion::NotPlaceWithRegex);
            }
            if !layers.is_empty() {
                let caps = obs.and_then(|o| o.capabilities.as_ref());
                match caps {
                    None => return Err(Criterion::CapabilitiesUnknown),
                    Some(c) if layers.iter().all(|l| c.resource_layers.contains(l)) => {}
                    Some(_) => return Err(Criterion::LayerStack),
                }
            }
            let mut same = Strs::default();
            for r in &same_rules {
                match (node_value(n, &r.key), &r.fixed) {
                    (None, _) => return Err(Criterion::ReplicasOnSame),
                    (Some(v), Some(fx)) if v != fx => return Err(Criterion::ReplicasOnSame),
                    (Some(_), Some(_)) => {}
                    (Some(v), None) => same.push(v),
                }
            }
            let mut diff = Strs::default();
            for r in &diff_rules {
                let v = node_value(n, &r.key);
                if let Some(v) = v
                    && r.forbidden.iter().any(|x| x == v)
                {
                    return Err(Criterion::ReplicasOnDifferent);
                }
                if let Some(cap) = r.cap {
                    let v = v.unwrap_or(UNSET);
                    if r.used.get(v).copied().unwrap_or(0) >= cap {
                        return Err(Criterion::ReplicasOnDifferent);
                    }
                    diff.push(v);
                }
            }
            Ok(NodeOk { same, diff })
        },
    );

    // Candidates.
    struct Cand<'a> {
        node: &'a Node,
        pool: &'a StoragePool,
        ordinal: usize,
        ok: usize,
    }
    let mut node_oks: Vec<NodeOk<'_>> = Vec::with_capacity(state.nodes.len());
    let mut cands: Vec<Cand<'_>> = Vec::with_capacity(state.nodes.len() * 2);
    let mut inputs: Vec<ScoreInput> = Vec::with_capacity(state.nodes.len() * 2);
    // Per criterion: pools, nodes, last node ordinal counted.
    let mut elim: BTreeMap<Criterion, (usize, usize, usize)> = BTreeMap::new();
    let mut misses: Vec<(u64, NearMiss)> = Vec::new();
    let mut total = 0usize;
    let mut total_nodes = 0usize;
    let mut observed = state.observed.nodes.iter().peekable();
    let pool_list = match mode {
        Mode::Diskful => f.pool_list(),
        Mode::Diskless(_) => f.storage_pool_diskless_list.clone(),
    };
    let size = req.size.0;
    for (ordinal, n) in state.nodes.values().enumerate() {
        // Merge-join: both maps are ordered by node name.
        while observed
            .peek()
            .is_some_and(|(k, _)| *k != &n.name && *k < &n.name)
        {
            observed.next();
        }
        let obs: Option<&NodeObserved> = observed
            .peek()
            .filter(|(k, _)| *k == &n.name)
            .map(|(_, o)| *o);
        let node_usage = usage.node(&n.name);
        let mut node_res: Option<Result<usize, Criterion>> = None;
        let mut counted = false;
        for p in n.storage_pools.values() {
            let wanted = match mode {
                Mode::Diskful => p.kind.is_diskful(),
                Mode::Diskless(_) => p.kind == ProviderKind::DISKLESS,
            };
            if !wanted {
                continue;
            }
            total += 1;
            if !counted {
                counted = true;
                total_nodes += 1;
            }
            let verdict: Result<(usize, ScoreInput), Criterion> = (|| {
                if let Some(l) = &pool_list
                    && !l.contains(&p.name)
                {
                    return Err(Criterion::StoragePoolList);
                }
                if mode == Mode::Diskful
                    && let Some(l) = &f.provider_list
                    && !l.contains(&p.kind)
                {
                    return Err(Criterion::ProviderList);
                }
                let ok = *node_res.get_or_insert_with(|| {
                    node_check(n, obs).map(|o| {
                        node_oks.push(o);
                        node_oks.len() - 1
                    })
                });
                let ok = ok?;
                if p.props.get("AutoplaceTarget").and_then(parse_bool) == Some(false) {
                    return Err(Criterion::AutoplaceTargetPool);
                }
                if mode == Mode::Diskful {
                    if seed_shared
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(&p.free_space_mgr_name))
                    {
                        return Err(Criterion::SharedSpace);
                    }
                    let class = mix_class(p.kind, allow_mix);
                    if seed_classes.iter().any(|c| *c != class) {
                        return Err(Criterion::ProviderMixing);
                    }
                }
                let u = PoolUsage::in_node(node_usage, &p.name);
                let est = estimate_with(state, p, u, obs.and_then(|o| o.pools.get(&p.name)));
                let input = ScoreInput {
                    est,
                    usage: u,
                    diskful: mode == Mode::Diskful,
                };
                if mode == Mode::Diskful {
                    if est.limit == Limit::Unknown {
                        return Err(Criterion::CapacityUnknown);
                    }
                    if est.free < size {
                        misses.push((
                            est.free,
                            NearMiss {
                                node: n.name.clone(),
                                pool: p.name.clone(),
                                free: SizeKib(est.free),
                                needed: req.size,
                                note: limit_note(&est),
                            },
                        ));
                        return Err(Criterion::FreeSpace);
                    }
                    if est.thin {
                        let t = est.reported_total.unwrap_or(0);
                        let min = min_thin_free(state, p, &rd_rg_props, t);
                        let phys = est.reported_free.unwrap_or(0);
                        if phys < min {
                            misses.push((
                                phys,
                                NearMiss {
                                    node: n.name.clone(),
                                    pool: p.name.clone(),
                                    free: SizeKib(phys),
                                    needed: SizeKib(min),
                                    note: "thin pool physically below Autoplacer/MinThinFreeSpace"
                                        .into(),
                                },
                            ));
                            return Err(Criterion::MinThinFreeSpace);
                        }
                    }
                }
                Ok((ok, input))
            })();
            match verdict {
                Ok((ok, input)) => {
                    cands.push(Cand {
                        node: n,
                        pool: p,
                        ordinal,
                        ok,
                    });
                    inputs.push(input);
                }
                Err(c) => {
                    let e = elim.entry(c).or_insert((0, 0, usize::MAX));
                    e.0 += 1;
                    if e.2 != ordinal {
                        e.1 += 1;
                        e.2 = ordinal;
                    }
                }
            }
        }
    }

    // Score and order.
    let scores = score_all(state, strategy, size, &inputs);
    // Candidates were produced in (node, pool) name order: ties break on that order.
    let key = |a: usize| (std::cmp::Reverse(scores[a]), a);
    let mut order: Vec<usize> = (0..cands.len()).collect();

    // The selection problem.
    fn id(dim: usize, v: &str, ids: &mut Vec<FnvMap<String, u32>>) -> u32 {
        if ids.len() <= dim {
            ids.resize_with(dim + 1, FnvMap::default);
        }
        let m = &mut ids[dim];
        if let Some(x) = m.get(v) {
            return *x;
        }
        let next = u32::try_from(m.len()).unwrap_or(u32::MAX);
        m.insert(v.to_string(), next);
        next
    }
    let mut ids: Vec<FnvMap<String, u32>> = Vec::new();
    let diff_caps: Vec<&DiffRule> = diff_rules.iter().filter(|r| r.cap.is_some()).collect();
    let mut prob = Problem {
        scores: Vec::with_capacity(order.len()),
        nodes: Vec::with_capacity(order.len()),
        shared: Vec::with_capacity(order.len()),
        same: Vec::with_capacity(order.len()),
        dims: diff_caps
            .iter()
            .map(|r| Dim {
                values: Vec::with_capacity(order.len()),
                remaining: Vec::new(),
                partial: r.partial.then(|| (r.cap.unwrap_or(1), Vec::new())),
            })
            .collect(),
        need: usize::try_from(need).unwrap_or(usize::MAX),
    };
    let base = diff_caps.len();
    // The mixing class only needs a dimension when the candidates have more than one.
    let mix_dim = mode == Mode::Diskful
        && seed_classes.is_empty()
        && cands
            .windows(2)
            .any(|w| mix_class(w[0].pool.kind, allow_mix) != mix_class(w[1].pool.kind, allow_mix));
    // Fast path for the common case — one group, at most one spreading key without the
    // partial-group rule, default shared spaces: the greedy of `select` (optimal there) run on
    // the best few candidates only. It makes the same picks as the full path whenever it
    // completes within them; otherwise the full path runs.
    let need_n = usize::try_from(need).unwrap_or(usize::MAX);
    let mut fast_picks: Option<Vec<usize>> = None;
    if !mix_dim
        && same_rules.iter().all(|r| r.fixed.is_some())
        && diff_caps.len() <= 1
        && diff_caps.iter().all(|r| !r.partial)
        && cands
            .iter()
            .all(|c| default_shared(&c.pool.free_space_mgr_name))
    {
        let rule = diff_caps.first();
        let mut taken_values: Vec<&str> = Vec::with_capacity(need_n);
        let m = need_n.saturating_mul(4).saturating_add(16).min(cands.len());
        let mut top: Vec<usize> = (0..cands.len()).collect();
        if m > 0 && m < top.len() {
            top.select_nth_unstable_by_key(m - 1, |&a| key(a));
            top.truncate(m);
        }
        top.sort_unstable_by_key(|&a| key(a));
        let mut picks: Vec<usize> = Vec::with_capacity(need_n);
        let mut nodes: Vec<usize> = Vec::with_capacity(need_n);
        for &ci in &top {
            if picks.len() == need_n {
                break;
            }
            let c = &cands[ci];
            if nodes.contains(&c.ordinal) {
                continue;
            }
            if let Some(r) = rule {
                let v = node_oks[c.ok].diff[0];
                let used = r.used.get(v).copied().unwrap_or(0);
                let taken = taken_values.iter().filter(|t| **t == v).count();
                if u64::from(used) + taken as u64 >= u64::from(r.cap.unwrap_or(1)) {
                    continue;
                }
                taken_values.push(v);
            }
            nodes.push(c.ordinal);
            picks.push(ci);
        }
        if picks.len() == need_n {
            fast_picks = Some(picks);
        }
    }
    if fast_picks.is_none() {
        order.sort_unstable_by_key(|&a| key(a));
    }
    // Spreading values are node properties: intern them once per node.
    let node_diff_ids: Vec<Vec<u32>> = node_oks
        .iter()
        .take(if fast_picks.is_some() { 0 } else { usize::MAX })
        .map(|ok| {
            ok.diff
                .iter()
                .enumerate()
                .map(|(d, v)| id(d, v, &mut ids))
                .collect()
        })
        .collect();

    let prob_order: &[usize] = if fast_picks.is_some() { &[] } else { &order };
    for &i in prob_order {
        let c = &cands[i];
        let ok = &node_oks[c.ok];
        prob.scores.push(scores[i]);
        prob.nodes
            .push(u32::try_from(c.ordinal).unwrap_or(u32::MAX));
        // Default shared spaces are unique per pool: no interning needed.
        let shared = if default_shared(&c.pool.free_space_mgr_name) {
            u32::try_from(i).unwrap_or(u32::MAX)
        } else {
            u32::try_from(cands.len())
                .unwrap_or(u32::MAX)
                .saturating_add(id(
                    base + 1,
                    &c.pool.free_space_mgr_name.to_ascii_uppercase(),
                    &mut ids,
                ))
        };
        prob.shared.push(shared);
        let mut same: Vec<u32> = ok
            .same
            .iter()
            .enumerate()
            .map(|(k, v)| id(base + 2 + k, v, &mut ids))
            .collect();
        if mix_dim {
            same.push(mix_class(c.pool.kind, allow_mix));
        }
        prob.same.push(same);
        for (d, vid) in node_diff_ids[c.ok].iter().enumerate() {
            prob.dims[d].values.push(*vid);
        }
    }
    for (d, r) in diff_caps.iter().enumerate() {
        let cap = r.cap.unwrap_or(1);
        let m = ids.get(d).cloned().unwrap_or_default();
        let mut remaining = vec![0u32; m.len()];
        let mut used = vec![0u32; m.len()];
        for (v, vid) in &m {
            let u = r.used.get(v).copied().unwrap_or(0);
            remaining[*vid as usize] = cap.saturating_sub(u);
            used[*vid as usize] = u;
        }
        prob.dims[d].remaining = remaining;
        if let Some((_, u)) = &mut prob.dims[d].partial {
            *u = used;
        }
        // Seeds on values no candidate has still count for the partial rule.
        if r.partial {
            let extra: Vec<u32> = r
                .used
                .iter()
                .filter(|(v, _)| !m.contains_key(v.as_str()))
                .map(|(_, u)| *u)
                .collect();
            for u in extra {
                let dim = &mut prob.dims[d];
                dim.remaining.push(0);
                if let Some((_, used)) = &mut dim.partial {
                    used.push(u);
                }
            }
        }
    }

    // Fast picks are candidate indices; `order` is still the identity then.
    let outcome = match fast_picks {
        Some(p) => Outcome::Found(p, 0),
        None => select::select(&prob),
    };
    let picks = match &outcome {
        Outcome::Found(p, _) | Outcome::Exhausted(Some((p, _))) => Some(p.clone()),
        _ => None,
    };
    let Some(picks) = picks else {
        // Refusal.
        let survivors = cands.len();
        let mut shortfall = Vec::new();
        let distinct: BTreeSet<&NodeName> = cands.iter().map(|c| &c.node.name).collect();
        if distinct.is_empty() {
        } else if distinct.len() < prob.need {
            shortfall.push(format!(
                "only {} node(s) passed every filter, and a resource has at most one replica per node",
                distinct.len()
            ));
        } else {
            let mut k = 0;
            for r in &same_rules {
                if r.fixed.is_some() {
                    continue;
                }
                let mut by: BTreeMap<&str, BTreeSet<&NodeName>> = BTreeMap::new();
                for c in &cands {
                    by.entry(node_oks[c.ok].same[k])
                        .or_default()
                        .insert(&c.node.name);
                }
                k += 1;
                let (v, best) = by
                    .iter()
                    .max_by_key(|(_, s)| s.len())
                    .map(|(v, s)| (*v, s.len()))
                    .unwrap_or(("-", 0));
                if best < prob.need {
                    shortfall.push(format!(
                        "replicas_on_same '{}': the largest group ({}={v}) has only {best} usable node(s)",
                        r.key, r.key
                    ));
                }
            }
            if mode == Mode::Diskful && seed_classes.is_empty() {
                let mut by: BTreeMap<u32, BTreeSet<&NodeName>> = BTreeMap::new();
                for c in &cands {
                    by.entry(mix_class(c.pool.kind, allow_mix))
                        .or_default()
                        .insert(&c.node.name);
                }
                let best = by.values().map(BTreeSet::len).max().unwrap_or(0);
                if by.len() > 1 && best < prob.need {
                    shortfall.push(format!(
                        "provider mixing: the largest set of mixable pools spans only {best} node(s)"
                    ));
                }
            }
            for (d, r) in diff_caps.iter().enumerate() {
                let cap = r.cap.unwrap_or(1);
                let mut by: BTreeMap<&str, BTreeSet<&NodeName>> = BTreeMap::new();
                for c in &cands {
                    by.entry(node_oks[c.ok].diff[d])
                        .or_default()
                        .insert(&c.node.name);
                }
                let achievable: usize = by
                    .iter()
                    .map(|(v, s)| {
                        let rem = cap.saturating_sub(r.used.get(*v).copied().unwrap_or(0));
                        s.len().min(rem as usize)
                    })
                    .sum();
                let vals: Vec<&str> = by
                    .keys()
                    .map(|v| if *v == UNSET { "(unset)" } else { v })
                    .collect();
                if achievable < prob.need {
                    shortfall.push(format!(
                        "replicas_on_different '{}' (at most {cap} per value): the candidates span {} value(s) ({}), room for only {achievable} more replica(s)",
                        r.key,
                        vals.len(),
                        vals.join(", ")
                    ));
                } else if r.partial {
                    shortfall.push(format!(
                        "x_replicas_on_different '{}'={cap}: no combination leaves at most one partially filled group",
                        r.key
                    ));
                }
            }
            if matches!(outcome, Outcome::Exhausted(None)) {
                shortfall.push("the search budget ran out before a placement was found".into());
            }
            if shortfall.is_empty() {
                let best = select::max_combinable(&prob);
                shortfall.push(format!(
                    "no {} of the {survivors} surviving candidates satisfy all constraints together (best combination: {best})",
                    prob.need
                ));
            }
        }
        misses.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| a.1.node.cmp(&b.1.node))
                .then_with(|| a.1.pool.cmp(&b.1.pool))
        });
        return Err(Refusal {
            kind: RefusalKind::NotEnoughNodes,
            resource: req.resource.clone(),
            needed: need,
            size: req.size,
            diskless: mode != Mode::Diskful,
            detail: Box::new(crate::placement::explain::Explanation {
                candidates: total,
                nodes: total_nodes,
                survivors,
                eliminated: elim
                    .into_iter()
                    .map(|(criterion, (pools, nodes, _))| Elimination {
                        criterion,
                        nodes,
                        pools,
                    })
                    .collect(),
                shortfall,
                nearest_misses: misses.into_iter().take(5).map(|(_, m)| m).collect(),
            }),
        });
    };

    let chosen: Vec<(NodeName, StorPoolName)> = picks
        .iter()
        .map(|&k| {
            let c = &cands[order[k]];
            (c.node.name.clone(), c.pool.name.clone())
        })
        .collect();
    let mut placement = Placement {
        diskful: Vec::new(),
        diskless: Vec::new(),
        already_satisfied: false,
        strategy,
    };
    match mode {
        Mode::Diskful => placement.diskful = chosen,
        Mode::Diskless(_) => placement.diskless = chosen,
    }
    if dor {
        let taken: HashSet<NodeName> = placement
            .diskful
            .iter()
            .chain(&placement.diskless)
            .map(|(n, _)| n.clone())
            .collect();
        for n in state.nodes.values() {
            if taken.contains(&n.name)
                || !is_online(state, &n.name)
                || n.flags.contains(NodeFlags::DELETE)
                || n.flags.contains(NodeFlags::EVACUATE)
                || rd.is_some_and(|rd: &ResourceDefinition| rd.resources.contains_key(&n.name))
            {
                continue;
            }
            if let Some(p) = diskless_pool_for(n, f.storage_pool_diskless_list.as_ref()) {
                placement.diskless.push((n.name.clone(), p));
            }
        }
    }
    Ok(placement)
}

fn level_note(r: &crate::placement::capacity::Ratio) -> String {
    match r.level {
        Some(l) => format!("{} set on {}", r.value, l.short()),
        None => format!("{} (default)", r.value),
    }
}

fn limit_note(e: &PoolEstimate) -> String {
    let total = SizeKib(e.reported_total.unwrap_or(0));
    let free = SizeKib(e.reported_free.unwrap_or(0));
    let reserved = SizeKib(e.reserved);
    match (e.thin, e.limit) {
        (_, Limit::Unknown) => "capacity not reported".into(),
        (false, Limit::Free) => format!("thick pool: {free} reported free"),
        (false, Limit::Total) => format!("thick pool: {total} total − {reserved} reserved"),
        (true, Limit::Free) => format!(
            "limited by MaxFreeCapacityOversubscriptionRatio {}: {free} physically free",
            level_note(&e.ratios.free)
        ),
        (true, Limit::Total) => format!(
            "limited by MaxTotalCapacityOversubscriptionRatio {}: {total} total × ratio − {reserved} reserved",
            level_note(&e.ratios.total)
        ),
    }
}
