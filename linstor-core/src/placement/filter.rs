//! The filter chain and the request pipeline (rules, seeding, candidates, selection, answer).
//!
//! Every (node, pool) pair of the requested kind is a candidate; it is eliminated by the first
//! [`Criterion`] it fails, in the order of the enum. Node-level criteria are evaluated once per
//! node. Survivors are scored ([`super::score`]) and handed to [`super::select`].

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::model::{
    DisklessType, LayerKind, Node, NodeFlags, ProviderKind, ResourceDefinition, RscFlags,
    StoragePool,
};
use crate::name::{NodeName, StorPoolName, well_known};
use crate::placement::capacity::{FnvMap, Limit, PoolEstimate, estimate_from, parse_min_free};
use crate::placement::explain::{Criterion, Elimination, NearMiss, Refusal, RefusalKind};
use crate::placement::score::{ScoreInput, score_all};
use crate::placement::select::{self, Dim, Outcome, Problem};
use crate::placement::view::{NO_ID, NodeRow, PlacementView, PoolRow, layer_bit};
use crate::placement::{Mode, Placement, PlacementRequest, Strategy};
use crate::props::{Level, PriorityProps, parse_bool};
use crate::size::SizeKib;
use crate::state::ClusterState;

/// The value a node without a `replicas_on_different` key has: one shared "unset" group.
const UNSET: &str = "\u{0}unset";

/// The property key of `Autoplacer/MinThinFreeSpace`.
const MIN_THIN_FREE: &str = "Autoplacer/MinThinFreeSpace";

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

/// True if `pool` has its default shared-space name, exactly `<node>;<pool>`. Custom
/// shared-space names cannot contain `;` (refused at pool creation, checked on load), so a
/// default name belongs to its pool alone.
pub(crate) fn default_shared(pool: &StoragePool) -> bool {
    let name = &pool.free_space_mgr_name;
    if name.len() != pool.node.as_str().len() + 1 + pool.name.as_str().len() {
        return false;
    }
    name.split_once(';').is_some_and(|(n, p)| {
        n.eq_ignore_ascii_case(pool.node.as_str()) && p.eq_ignore_ascii_case(pool.name.as_str())
    })
}

/// The mixing class of a provider kind: two kinds mix iff their classes are equal (for a
/// fixed `allow_lvm_zfs`, LINSTOR's mixing relation is an equivalence; its DRBD-version
/// condition is not, see `run`).
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

/// A `replicas_on_same` rule resolved against the view: its property column and value id.
struct SameIds<'v> {
    col: &'v [u32],
    /// `None`: free (the value is collected); `Some(None)`: fixed to a value no node has.
    fixed: Option<Option<u32>>,
}

/// A `replicas_on_different` rule resolved against the view: its property column and ids.
struct DiffIds<'v> {
    col: &'v [u32],
    cap: Option<u32>,
    forbidden: Vec<u32>,
    used: FnvMap<u32, u32>,
}

/// The value id of an unset spreading key (never an interned id).
const UNSET_ID: u32 = u32::MAX;

fn node_value<'a>(n: &'a Node, key: &str) -> Option<&'a str> {
    n.props.get(key)
}

/// The node properties a filter's rules read (`replicas_on_same`, `replicas_on_different`,
/// `x_replicas_on_different_map`): the view's columns a request needs.
pub(crate) fn rule_keys(f: &crate::model::SelectFilter) -> Vec<&str> {
    fn key(e: &str) -> &str {
        e.split_once('=').map_or(e, |(k, _)| k)
    }
    let mut keys: Vec<&str> = f
        .replicas_on_same
        .iter()
        .flatten()
        .chain(f.replicas_on_different.iter().flatten())
        .map(|e| key(e))
        .chain(
            f.x_replicas_on_different_map
                .iter()
                .flatten()
                .map(|(k, _)| k.as_str()),
        )
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Per-node request marks (one byte per node row).
const M_NOT_LISTED: u8 = 1;
const M_HAS_REPLICA: u8 = 2;
const M_NPW: u8 = 4;
const M_NPW_RE: u8 = 8;

/// A pool that failed on capacity, kept for the refusal's nearest misses.
struct Miss {
    /// Estimated (or physical) free space: the sort key.
    free: u64,
    pool: usize,
    node: usize,
    /// `Some(min)`: below `Autoplacer/MinThinFreeSpace`; `None`: not enough free space.
    min_thin: Option<u64>,
}

/// Runs the whole pipeline (see [`super::autoplace`]) over `view`, which must be current.
pub(crate) fn run(
    state: &ClusterState,
    view: &PlacementView,
    req: &PlacementRequest,
) -> Result<Placement, Refusal> {
    match run_with(state, view, req, false) {
        // The DRBD-version mixing classes are conservative: they may refuse a set of one kind
        // that mixing by kind alone allows. Never stricter than mixing switched off.
        Err(r)
            if r.kind == RefusalKind::NotEnoughNodes && mixing_is_versioned(state, view, req) =>
        {
            run_with(state, view, req, true).or(Err(r))
        }
        other => other,
    }
}

/// `AllowMixingStoragePoolDriver` (RD > RG > C) for `req`'s definition.
fn allow_mixing(state: &ClusterState, req: &PlacementRequest) -> bool {
    let rd = state.resource_definitions.get(&req.resource);
    let rg = rd.and_then(|rd| state.resource_groups.get(&rd.resource_group));
    let mut chain = PriorityProps::new();
    if let Some(rd) = rd {
        chain.push(Level::RscDfn, &rd.props);
    }
    if let Some(rg) = rg {
        chain.push(Level::RscGrp, &rg.props);
    }
    chain.push(Level::Controller, &state.ctrl_props);
    chain
        .get("AllowMixingStoragePoolDriver")
        .and_then(parse_bool)
        .unwrap_or(false)
}

/// True if the DRBD-version condition shapes the mixing classes of `req`.
fn mixing_is_versioned(state: &ClusterState, view: &PlacementView, req: &PlacementRequest) -> bool {
    req.mode() == Mode::Diskful && allow_mixing(state, req) && view.mixed_family()
}

/// [`run`]; `no_mixing`: mixing by kind only (as with `AllowMixingStoragePoolDriver=false`).
fn run_with(
    state: &ClusterState,
    view: &PlacementView,
    req: &PlacementRequest,
    no_mixing: bool,
) -> Result<Placement, Refusal> {
    let f = &req.filter;
    let mode = req.mode();
    let strategy = req.strategy.unwrap_or_else(|| Strategy::from_ctrl(state));
    let rd = state.resource_definitions.get(&req.resource);
    let rg = rd.and_then(|rd| state.resource_groups.get(&rd.resource_group));
    let simple = |k: RefusalKind| Refusal::simple(k, req.resource.clone());
    let strings = &view.strings;

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
    // The rules in the view's ids. A string no row uses matches no node.
    let value_id = |v: &str| {
        if v == UNSET {
            Some(UNSET_ID)
        } else {
            strings.get(v)
        }
    };
    let column = |key: &str| view.column(key).unwrap_or(&[]);
    let same_ids: Vec<SameIds<'_>> = same_rules
        .iter()
        .map(|r| SameIds {
            col: column(&r.key),
            fixed: r.fixed.as_ref().map(|v| strings.get(v)),
        })
        .collect();
    let diff_ids: Vec<DiffIds<'_>> = diff_rules
        .iter()
        .map(|r| DiffIds {
            col: column(&r.key),
            cap: r.cap,
            forbidden: r.forbidden.iter().filter_map(|v| strings.get(v)).collect(),
            used: r
                .used
                .iter()
                .filter_map(|(v, u)| value_id(v).map(|id| (id, *u)))
                .collect(),
        })
        .collect();
    // Per node: the free `replicas_on_same` values, then the capped spreading values.
    let n_same = same_ids.iter().filter(|r| r.fixed.is_none()).count();
    let stride = n_same + diff_ids.iter().filter(|r| r.cap.is_some()).count();

    // Mixing and shared space, seeded by existing diskful replicas.
    let allow_mix = !no_mixing && allow_mixing(state, req);
    // Mixing LVM/ZFS kinds also needs DRBD 9.1.18+ (< 9.2) or 9.2.7+ on both nodes of a pair.
    // Pairwise, that is no equivalence; as classes it is applied conservatively: where kinds
    // differ at all, a pool on a node without such a version mixes only with its own kind.
    let versioned = allow_mix && view.mixed_family();
    let eff = |drbd: Option<(u16, u16, u16)>| {
        allow_mix && (!versioned || crate::model::drbd_allows_mixing(drbd))
    };
    let mut seed_classes: BTreeSet<u32> = BTreeSet::new();
    let mut seed_shared: Vec<u32> = Vec::new();
    // Replicas being evacuated (a replacement syncs from them) or evicted (they rejoin on
    // restore) do not count as replicas but must still mix and not share space.
    let mix_seeds: Vec<&crate::model::Resource> = rd
        .map(|rd| {
            rd.resources
                .values()
                .filter(|r| !r.is_diskless() && !r.is_deleting())
                .filter(|r| {
                    is_live_replica(state, r)
                        || r.flags.contains(RscFlags::EVACUATE)
                        || r.flags.contains(RscFlags::EVICTED)
                })
                .collect()
        })
        .unwrap_or_default();
    for r in &mix_seeds {
        let drbd = view.ordinal(&r.node).and_then(|o| view.nodes[o].drbd);
        for v in r.volumes.values() {
            if let Some(p) = state.storage_pool(&r.node, &v.storage_pool) {
                seed_classes.insert(mix_class(p.kind, eff(drbd)));
                // Default names are unique per pool, and that pool's node already carries
                // the resource: only custom names can eliminate another pool.
                if !default_shared(p)
                    && let Some(id) = strings.get(&p.free_space_mgr_name.to_ascii_uppercase())
                {
                    seed_shared.push(id);
                }
            }
        }
    }

    // Per-node marks: node_name_list, existing resources, not_place_with[_regex].
    let mut marks = vec![0u8; view.nodes.len()];
    if f.node_name_list.is_some() {
        marks.fill(M_NOT_LISTED);
    }
    for n in f.node_name_list.iter().flatten() {
        if let Some(o) = view.ordinal(n) {
            marks[o] &= !M_NOT_LISTED;
        }
    }
    let mut mark = |n: &NodeName, bit: u8| {
        if let Some(o) = view.ordinal(n) {
            marks[o] |= bit;
        }
    };
    if let Some(rd) = rd {
        for n in rd.resources.keys() {
            mark(n, M_HAS_REPLICA);
        }
    }
    for name in f.not_place_with_rsc.iter().flatten() {
        if let Some(other) = state.resource_definitions.get(name) {
            for r in other.live_resources() {
                mark(&r.node, M_NPW);
            }
        }
    }
    if let Some(pat) = &f.not_place_with_rsc_regex {
        let re = regex::RegexBuilder::new(pat)
            .case_insensitive(true)
            .build()
            .map_err(|e| simple(RefusalKind::InvalidRegex(e.to_string())))?;
        for other in state.resource_definitions.values() {
            if re.is_match(other.name.as_str()) {
                for r in other.live_resources() {
                    mark(&r.node, M_NPW_RE);
                }
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
    let layer_mask = layers.iter().fold(0u32, |m, l| m | layer_bit(*l));

    // `Autoplacer/MinThinFreeSpace` between the pool and the node: RD > RG.
    let min_thin_mid: Option<&str> = rd
        .and_then(|rd| rd.props.get(MIN_THIN_FREE))
        .or_else(|| rg.and_then(|rg| rg.props.get(MIN_THIN_FREE)));

    // Node-level criteria, in `Criterion` order; on success the node's rule values are
    // appended to `vals`.
    let node_check = |o: usize, row: &NodeRow, vals: &mut Vec<u32>| -> Result<(), Criterion> {
        if !row.online {
            return Err(Criterion::NodeOffline);
        }
        if row.flagged {
            return Err(Criterion::NodeFlags);
        }
        let m = marks[o];
        if m & M_NOT_LISTED != 0 {
            return Err(Criterion::NodeNameList);
        }
        if !row.target {
            return Err(Criterion::AutoplaceTargetNode);
        }
        if m & M_HAS_REPLICA != 0 {
            return Err(Criterion::HasReplica);
        }
        if m & M_NPW != 0 {
            return Err(Criterion::NotPlaceWith);
        }
        if m & M_NPW_RE != 0 {
            return Err(Criterion::NotPlaceWithRegex);
        }
        if layer_mask != 0 {
            match row.layers {
                None => return Err(Criterion::CapabilitiesUnknown),
                Some(l) if l & layer_mask == layer_mask => {}
                Some(_) => return Err(Criterion::LayerStack),
            }
        }
        if let Some(min) = req.min_drbd_version
            && row.drbd.is_some_and(|v| v < min)
        {
            return Err(Criterion::DrbdVersion);
        }
        let start = vals.len();
        let prop = |col: &[u32]| col.get(o).copied().filter(|v| *v != NO_ID);
        for r in &same_ids {
            let v = prop(r.col);
            match (v, r.fixed) {
                (None, _) => {
                    vals.truncate(start);
                    return Err(Criterion::ReplicasOnSame);
                }
                (Some(v), Some(fx)) if Some(v) != fx => {
                    vals.truncate(start);
                    return Err(Criterion::ReplicasOnSame);
                }
                (Some(_), Some(_)) => {}
                (Some(v), None) => vals.push(v),
            }
        }
        for r in &diff_ids {
            let v = prop(r.col);
            if let Some(v) = v
                && r.forbidden.contains(&v)
            {
                vals.truncate(start);
                return Err(Criterion::ReplicasOnDifferent);
            }
            if let Some(cap) = r.cap {
                let v = v.unwrap_or(UNSET_ID);
                if r.used.get(&v).copied().unwrap_or(0) >= cap {
                    vals.truncate(start);
                    return Err(Criterion::ReplicasOnDifferent);
                }
                vals.push(v);
            }
        }
        Ok(())
    };

    // Candidates.
    #[derive(Clone, Copy)]
    struct Cand {
        /// Pool row.
        pool: usize,
        /// Node row.
        ordinal: usize,
        /// Index of the node's rule values (`vals[ok * stride..]`).
        ok: usize,
        /// Mixing class of the pool on this node.
        class: u32,
    }
    let mut vals: Vec<u32> = Vec::new();
    let mut n_ok = 0usize;
    let mut cands: Vec<Cand> = Vec::with_capacity(view.pools.len());
    let mut inputs: Vec<ScoreInput> = Vec::with_capacity(view.pools.len());
    // Per criterion: pools, nodes, last node ordinal counted.
    let mut elim: BTreeMap<Criterion, (usize, usize, usize)> = BTreeMap::new();
    let mut misses: Vec<Miss> = Vec::new();
    let mut total = 0usize;
    let mut total_nodes = 0usize;
    let pool_list: Option<Vec<u32>> = match mode {
        Mode::Diskful => f.pool_list(),
        Mode::Diskless(_) => f.storage_pool_diskless_list.clone(),
    }
    .map(|l| l.iter().filter_map(|p| view.pool_name_id(p)).collect());
    let size = req.size.0;
    for (ordinal, row) in view.nodes.iter().enumerate() {
        let mut node_res: Option<Result<usize, Criterion>> = None;
        let mut counted = false;
        let (start, end) = (row.pools.0 as usize, row.pools.1 as usize);
        for (pi, p) in view.pools[start..end].iter().enumerate() {
            let pi = start + pi;
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
            let class = mix_class(p.kind, eff(row.drbd));
            let verdict: Result<(usize, ScoreInput), Criterion> = (|| {
                if let Some(l) = &pool_list
                    && !l.contains(&p.name_id)
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
                    node_check(ordinal, row, &mut vals).map(|()| {
                        n_ok += 1;
                        n_ok - 1
                    })
                });
                let ok = ok?;
                if p.target_off {
                    return Err(Criterion::AutoplaceTargetPool);
                }
                if mode == Mode::Diskful {
                    if seed_shared.contains(&p.shared_id) {
                        return Err(Criterion::SharedSpace);
                    }
                    if seed_classes.iter().any(|c| *c != class) {
                        return Err(Criterion::ProviderMixing);
                    }
                }
                let est = estimate_from(p.kind, p.ratios, p.usage, p.reported.as_ref());
                let input = ScoreInput {
                    est,
                    usage: p.usage,
                    diskful: mode == Mode::Diskful,
                };
                if mode == Mode::Diskful {
                    if est.limit == Limit::Unknown {
                        return Err(Criterion::CapacityUnknown);
                    }
                    if est.free < size {
                        misses.push(Miss {
                            free: est.free,
                            pool: pi,
                            node: ordinal,
                            min_thin: None,
                        });
                        return Err(Criterion::FreeSpace);
                    }
                    if est.thin {
                        let min = min_thin_of(p, min_thin_mid, est.reported_total.unwrap_or(0));
                        let phys = est.reported_free.unwrap_or(0);
                        if phys < min {
                            misses.push(Miss {
                                free: phys,
                                pool: pi,
                                node: ordinal,
                                min_thin: Some(min),
                            });
                            return Err(Criterion::MinThinFreeSpace);
                        }
                    }
                }
                Ok((ok, input))
            })();
            match verdict {
                Ok((ok, input)) => {
                    cands.push(Cand {
                        pool: pi,
                        ordinal,
                        ok,
                        class,
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
    let pool_of = |c: &Cand| &view.pools[c.pool];
    let node_of = |c: &Cand| &view.nodes[c.ordinal];
    let same_of = |c: &Cand| &vals[c.ok * stride..c.ok * stride + n_same];
    let diff_of = |c: &Cand| &vals[c.ok * stride + n_same..(c.ok + 1) * stride];
    let value_str = |id: u32| {
        if id == UNSET_ID {
            UNSET
        } else {
            strings.str(id)
        }
    };

    // Score and order.
    let scores = score_all(state, strategy, size, &inputs);
    // Candidates were produced in (node, pool) name order: ties break on that order.
    let key = |a: usize| (std::cmp::Reverse(scores[a]), a);
    let mut order: Vec<usize> = (0..cands.len()).collect();

    // The selection problem. Ids are dense per dimension.
    fn id(dim: usize, raw: u32, ids: &mut Vec<FnvMap<u32, u32>>) -> u32 {
        if ids.len() <= dim {
            ids.resize_with(dim + 1, FnvMap::default);
        }
        let m = &mut ids[dim];
        let next = u32::try_from(m.len()).unwrap_or(u32::MAX);
        *m.entry(raw).or_insert(next)
    }
    let mut ids: Vec<FnvMap<u32, u32>> = Vec::new();
    let diff_caps: Vec<(&DiffRule, &DiffIds<'_>)> = diff_rules
        .iter()
        .zip(&diff_ids)
        .filter(|(r, _)| r.cap.is_some())
        .collect();
    let mut prob = Problem {
        scores: Vec::new(),
        nodes: Vec::new(),
        shared: Vec::new(),
        same: Vec::new(),
        dims: diff_caps
            .iter()
            .map(|(r, _)| Dim {
                values: Vec::new(),
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
        && cands.windows(2).any(|w| w[0].class != w[1].class);
    // Fast path for the common case — one group, at most one spreading key without the
    // partial-group rule, default shared spaces: the greedy of `select` (optimal there) run on
    // the best few candidates only. It makes the same picks as the full path whenever it
    // completes within them; otherwise the full path runs.
    let need_n = usize::try_from(need).unwrap_or(usize::MAX);
    let mut fast_picks: Option<Vec<usize>> = None;
    if !mix_dim
        && same_rules.iter().all(|r| r.fixed.is_some())
        && diff_caps.len() <= 1
        && diff_caps.iter().all(|(r, _)| !r.partial)
        && cands.iter().all(|c| pool_of(c).default_shared)
    {
        let rule = diff_caps.first();
        let mut taken_values: Vec<u32> = Vec::with_capacity(need_n);
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
            if let Some((r, ri)) = rule {
                let v = diff_of(c)[0];
                let used = ri.used.get(&v).copied().unwrap_or(0);
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
        prob.scores.reserve(order.len());
        prob.nodes.reserve(order.len());
        prob.shared.reserve(order.len());
        prob.same.reserve(order.len());
        // Spreading values are interned in node order, over every node that passed the node
        // criteria.
        for k in 0..n_ok {
            for (d, v) in vals[k * stride + n_same..(k + 1) * stride]
                .iter()
                .enumerate()
            {
                id(d, *v, &mut ids);
            }
        }
        for &i in &order {
            let c = &cands[i];
            let p = pool_of(c);
            prob.scores.push(scores[i]);
            prob.nodes
                .push(u32::try_from(c.ordinal).unwrap_or(u32::MAX));
            // Default shared spaces are unique per pool: no interning needed.
            let shared = if p.default_shared {
                u32::try_from(i).unwrap_or(u32::MAX)
            } else {
                u32::try_from(cands.len())
                    .unwrap_or(u32::MAX)
                    .saturating_add(id(base + 1, p.shared_id, &mut ids))
            };
            prob.shared.push(shared);
            let mut same: Vec<u32> = same_of(c)
                .iter()
                .enumerate()
                .map(|(k, v)| id(base + 2 + k, *v, &mut ids))
                .collect();
            if mix_dim {
                same.push(c.class);
            }
            prob.same.push(same);
            for (d, v) in diff_of(c).iter().enumerate() {
                let vid = id(d, *v, &mut ids);
                prob.dims[d].values.push(vid);
            }
        }
    }
    for (d, (r, ri)) in diff_caps.iter().enumerate() {
        let cap = r.cap.unwrap_or(1);
        let m = ids.get(d).cloned().unwrap_or_default();
        let mut remaining = vec![0u32; m.len()];
        let mut used = vec![0u32; m.len()];
        for (raw, vid) in &m {
            let u = ri.used.get(raw).copied().unwrap_or(0);
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
                .filter(|(v, _)| value_id(v).is_none_or(|raw| !m.contains_key(&raw)))
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
        let distinct: BTreeSet<&NodeName> = cands.iter().map(|c| &node_of(c).name).collect();
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
                    by.entry(value_str(same_of(c)[k]))
                        .or_default()
                        .insert(&node_of(c).name);
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
                    by.entry(c.class).or_default().insert(&node_of(c).name);
                }
                let best = by.values().map(BTreeSet::len).max().unwrap_or(0);
                if by.len() > 1 && best < prob.need {
                    shortfall.push(format!(
                        "provider mixing: the largest set of mixable pools spans only {best} node(s)"
                    ));
                }
            }
            for (d, (r, _)) in diff_caps.iter().enumerate() {
                let cap = r.cap.unwrap_or(1);
                let mut by: BTreeMap<&str, BTreeSet<&NodeName>> = BTreeMap::new();
                for c in &cands {
                    by.entry(value_str(diff_of(c)[d]))
                        .or_default()
                        .insert(&node_of(c).name);
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
        // Rows are in (node, pool) name order: sorting by row index breaks ties by name.
        misses.sort_by(|a, b| b.free.cmp(&a.free).then_with(|| a.pool.cmp(&b.pool)));
        let nearest_misses = misses
            .iter()
            .take(5)
            .map(|m| {
                let p = &view.pools[m.pool];
                let node = view.nodes[m.node].name.clone();
                match m.min_thin {
                    None => NearMiss {
                        node,
                        pool: view.pool_name(p).clone(),
                        free: SizeKib(m.free),
                        needed: req.size,
                        note: limit_note(&estimate_from(
                            p.kind,
                            p.ratios,
                            p.usage,
                            p.reported.as_ref(),
                        )),
                    },
                    Some(min) => NearMiss {
                        node,
                        pool: view.pool_name(p).clone(),
                        free: SizeKib(m.free),
                        needed: SizeKib(min),
                        note: "thin pool physically below Autoplacer/MinThinFreeSpace".into(),
                    },
                }
            })
            .collect();
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
                nearest_misses,
            }),
        });
    };

    let chosen: Vec<(NodeName, StorPoolName)> = picks
        .iter()
        .map(|&k| {
            let c = &cands[order[k]];
            (node_of(c).name.clone(), view.pool_name(pool_of(c)).clone())
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

/// `Autoplacer/MinThinFreeSpace` of a thin pool (SP > RD > RG > Node > C, default 10 % of
/// `total`), in KiB; `mid` is the RD > RG value.
fn min_thin_of(p: &PoolRow, mid: Option<&str>, total: u64) -> u64 {
    let raw = p
        .min_thin_sp
        .as_deref()
        .or(mid)
        .or(p.min_thin_low.as_deref())
        .unwrap_or("10%");
    parse_min_free(raw, total).unwrap_or(total / 10)
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
