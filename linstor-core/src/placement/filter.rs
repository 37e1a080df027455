//! The filter chain and the request pipeline (rules, seeding, candidates, selection, answer).
//!
//! Every (node, pool) pair of the requested kind is a candidate; it is eliminated by the first
//! [`Criterion`] it fails, in the order of the enum. Node-level criteria are evaluated once per
//! node. Survivors are scored ([`super::score`]) and handed to [`super::select`].

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::chains::Chains;
use crate::keys;
use crate::model::{
    DisklessType, LayerKind, Node, NodeFlags, ProviderKind, ResourceDefinition, RscFlags,
    StoragePool,
};
use crate::name::{NodeName, StorPoolName, well_known};
use crate::placement::capacity::{FnvMap, Limit, PoolEstimate, estimate_from, parse_min_free};
use crate::placement::explain::{Criterion, Elimination, NearMiss, Refusal, RefusalKind};
use crate::placement::score::{ScoreInput, score_all};
use crate::placement::select::{self, Dim, Outcome, Problem};
use crate::placement::view::{Interner, NO_ID, NodeRow, PlacementView, PoolRow, layer_bit};
use crate::placement::{Mode, Placement, PlacementRequest, Strategy};
use crate::props::parse_bool;
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
    Chains::new(state)
        .rsc_dfn_policy(&req.resource)
        .get(keys::ALLOW_MIXING_STORAGE_POOL_DRIVER)
        .and_then(parse_bool)
        .unwrap_or(false)
}

/// True if the DRBD-version condition shapes the mixing classes of `req`.
fn mixing_is_versioned(state: &ClusterState, view: &PlacementView, req: &PlacementRequest) -> bool {
    req.mode() == Mode::Diskful && allow_mixing(state, req) && view.mixed_family()
}

/// [`run`]; `no_mixing`: mixing by kind only (as with `AllowMixingStoragePoolDriver=false`).
///
/// The phases: [`Seeds::read`] (how many replicas are missing), [`Rules::read`] (the rules in
/// the view's ids), [`candidates`] (the node pass and the pool rows that survive every
/// criterion), [`choose`] (scoring and selection), then [`answer`] or [`refusal`].
fn run_with(
    state: &ClusterState,
    view: &PlacementView,
    req: &PlacementRequest,
    no_mixing: bool,
) -> Result<Placement, Refusal> {
    let seeds = Seeds::read(state, req)?;
    if seeds.need == 0 && !seeds.dor {
        return Ok(Placement {
            diskful: Vec::new(),
            diskless: Vec::new(),
            already_satisfied: true,
            strategy: seeds.strategy,
        });
    }
    let rules = Rules::read(state, view, req, seeds, no_mixing)?;
    let cands = candidates(&rules);
    let (choice, outcome) = choose(&rules, &cands);
    match &outcome {
        Outcome::Found(picks, _) | Outcome::Exhausted(Some((picks, _))) => {
            Ok(answer(&rules, &cands, &choice.order, picks))
        }
        _ => Err(refusal(&rules, cands, &choice, &outcome)),
    }
}

/// What a request starts from: its definition, mode and strategy, the live replicas that seed
/// its rules, and how many replicas are missing.
struct Seeds<'a> {
    rd: Option<&'a ResourceDefinition>,
    mode: Mode,
    strategy: Strategy,
    /// The live replicas of the requested kind (diskful ones; any for a diskless request).
    replicas: Vec<&'a crate::model::Resource>,
    /// Replicas to place.
    need: u32,
    /// `diskless_on_remaining`.
    dor: bool,
}

impl<'a> Seeds<'a> {
    /// Counts the existing replicas and decides how many are missing: refused if the request
    /// has no place count, or one below the replicas that exist.
    fn read(state: &'a ClusterState, req: &PlacementRequest) -> Result<Seeds<'a>, Refusal> {
        let f = &req.filter;
        let mode = req.mode();
        let strategy = req.strategy.unwrap_or_else(|| Strategy::from_ctrl(state));
        let rd = state.resource_definitions.get(&req.resource);
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
        let replicas = match mode {
            Mode::Diskful => live_diskful,
            Mode::Diskless(_) => live,
        };
        Ok(Seeds {
            rd,
            mode,
            strategy,
            replicas,
            need,
            dor: f.diskless_on_remaining.unwrap_or(false),
        })
    }
}

/// Provider mixing for one request: whether kinds may mix, and whether the DRBD-version
/// condition shapes the mixing classes.
#[derive(Clone, Copy)]
struct Mixing {
    allow: bool,
    versioned: bool,
}

impl Mixing {
    /// Whether a pool on a node running DRBD `drbd` mixes by class (else only with its own
    /// kind).
    fn effective(self, drbd: Option<(u16, u16, u16)>) -> bool {
        self.allow && (!self.versioned || crate::model::drbd_allows_mixing(drbd))
    }

    /// The mixing classes and custom shared spaces the existing diskful replicas of `rd` take:
    /// a new diskful replica must mix with them and must not share their space.
    fn seeds(
        self,
        state: &ClusterState,
        view: &PlacementView,
        rd: Option<&ResourceDefinition>,
    ) -> (BTreeSet<u32>, Vec<u32>) {
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
                    seed_classes.insert(mix_class(p.kind, self.effective(drbd)));
                    // Default names are unique per pool, and that pool's node already carries
                    // the resource: only custom names can eliminate another pool.
                    if !default_shared(p)
                        && let Some(id) = view
                            .strings
                            .get(&p.free_space_mgr_name.to_ascii_uppercase())
                    {
                        seed_shared.push(id);
                    }
                }
            }
        }
        (seed_classes, seed_shared)
    }
}

/// A request's rules, read once and resolved against the view: everything the node and pool
/// criteria, the selection and the answer check.
struct Rules<'a> {
    state: &'a ClusterState,
    view: &'a PlacementView,
    req: &'a PlacementRequest,
    rd: Option<&'a ResourceDefinition>,
    mode: Mode,
    strategy: Strategy,
    /// Replicas to place.
    need: u32,
    /// `diskless_on_remaining`.
    dor: bool,
    same_rules: Vec<SameRule>,
    diff_rules: Vec<DiffRule>,
    same_ids: Vec<SameIds<'a>>,
    diff_ids: Vec<DiffIds<'a>>,
    /// Rule values per node: the free `replicas_on_same` values (`n_same`), then the capped
    /// spreading values (`stride` in all).
    n_same: usize,
    stride: usize,
    mixing: Mixing,
    /// Mixing classes of the existing diskful replicas.
    seed_classes: BTreeSet<u32>,
    /// Custom shared spaces of the existing diskful replicas.
    seed_shared: Vec<u32>,
    /// Per node row: `M_*` bits.
    marks: Vec<u8>,
    /// Layers a node must support (bits of [`layer_bit`]).
    layer_mask: u32,
    /// `Autoplacer/MinThinFreeSpace` between the pool and the node: RD > RG.
    min_thin_mid: Option<&'a str>,
    /// Pool name ids of the storage pool list of the requested kind.
    pool_list: Option<Vec<u32>>,
}

impl<'a> Rules<'a> {
    /// Reads the request's rules: `replicas_on_same` (refused if the existing replicas
    /// disagree), `replicas_on_different` seeded with the existing replicas, the mixing
    /// classes and shared spaces already taken, the per-node marks (refused on an invalid
    /// regex), the layers, `MinThinFreeSpace` and the storage pool list.
    fn read(
        state: &'a ClusterState,
        view: &'a PlacementView,
        req: &'a PlacementRequest,
        seeds: Seeds<'a>,
        no_mixing: bool,
    ) -> Result<Rules<'a>, Refusal> {
        let f = &req.filter;
        let Seeds {
            rd,
            mode,
            strategy,
            replicas,
            need,
            dor,
        } = seeds;
        let seed_nodes: Vec<&Node> = replicas
            .iter()
            .filter_map(|r| state.nodes.get(&r.node))
            .collect();
        let same_rules = read_same_rules(req, &seed_nodes)?;
        let diff_rules = read_diff_rules(f, &seed_nodes);
        let (same_ids, diff_ids) = resolve_rules(view, &same_rules, &diff_rules);
        // Per node: the free `replicas_on_same` values, then the capped spreading values.
        let n_same = same_ids.iter().filter(|r| r.fixed.is_none()).count();
        let stride = n_same + diff_ids.iter().filter(|r| r.cap.is_some()).count();

        // Mixing and shared space, seeded by existing diskful replicas.
        let allow = !no_mixing && allow_mixing(state, req);
        // Mixing LVM/ZFS kinds also needs DRBD 9.1.18+ (< 9.2) or 9.2.7+ on both nodes of a
        // pair. Pairwise, that is no equivalence; as classes it is applied conservatively:
        // where kinds differ at all, a pool on a node without such a version mixes only with
        // its own kind.
        let mixing = Mixing {
            allow,
            versioned: allow && view.mixed_family(),
        };
        let (seed_classes, seed_shared) = mixing.seeds(state, view, rd);
        let marks = node_marks(state, view, req, rd)?;
        let layer_mask = layer_mask(f, mode);
        let min_thin_mid: Option<&str> = Chains::new(state)
            .min_thin_free_space_mid(rd)
            .get(keys::MIN_THIN_FREE_SPACE);
        let pool_list: Option<Vec<u32>> = match mode {
            Mode::Diskful => f.pool_list(),
            Mode::Diskless(_) => f.storage_pool_diskless_list.clone(),
        }
        .map(|l| l.iter().filter_map(|p| view.pool_name_id(p)).collect());
        Ok(Rules {
            state,
            view,
            req,
            rd,
            mode,
            strategy,
            need,
            dor,
            same_rules,
            diff_rules,
            same_ids,
            diff_ids,
            n_same,
            stride,
            mixing,
            seed_classes,
            seed_shared,
            marks,
            layer_mask,
            min_thin_mid,
            pool_list,
        })
    }

    /// The node criteria for node row `o`, in `Criterion` order: the first one it fails. On
    /// success the node's rule values are appended to `vals`.
    fn node_criteria(&self, o: usize, row: &NodeRow, vals: &mut Vec<u32>) -> Result<(), Criterion> {
        if !row.online {
            return Err(Criterion::NodeOffline);
        }
        if row.flagged {
            return Err(Criterion::NodeFlags);
        }
        let m = self.marks[o];
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
        if self.layer_mask != 0 {
            match row.layers {
                None => return Err(Criterion::CapabilitiesUnknown),
                Some(l) if l & self.layer_mask == self.layer_mask => {}
                Some(_) => return Err(Criterion::LayerStack),
            }
        }
        if let Some(min) = self.req.min_drbd_version
            && row.drbd.is_some_and(|v| v < min)
        {
            return Err(Criterion::DrbdVersion);
        }
        let start = vals.len();
        let prop = |col: &[u32]| col.get(o).copied().filter(|v| *v != NO_ID);
        for r in &self.same_ids {
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
        for r in &self.diff_ids {
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
    }

    /// The criteria for pool row `pi` (`p`, of mixing class `class`) on `node`, in `Criterion`
    /// order with the node criteria in their place: the first one it fails, or its node's index
    /// among the passing nodes and its score input. Capacity failures are kept in `misses`.
    fn pool_verdict(
        &self,
        node: &mut NodeAt<'_>,
        nodes: &mut NodePass,
        p: &PoolRow,
        pi: usize,
        class: u32,
        misses: &mut Vec<Miss>,
    ) -> Result<(usize, ScoreInput), Criterion> {
        let mode = self.mode;
        if let Some(l) = &self.pool_list
            && !l.contains(&p.name_id)
        {
            return Err(Criterion::StoragePoolList);
        }
        if mode == Mode::Diskful
            && let Some(l) = &self.req.filter.provider_list
            && !l.contains(&p.kind)
        {
            return Err(Criterion::ProviderList);
        }
        let ok = *node
            .verdict
            .get_or_insert_with(|| nodes.judge(self, node.ordinal, node.row));
        let ok = ok?;
        if p.target_off {
            return Err(Criterion::AutoplaceTargetPool);
        }
        if mode == Mode::Diskful {
            if self.seed_shared.contains(&p.shared_id) {
                return Err(Criterion::SharedSpace);
            }
            // (Checked for emptiness first: most requests have no seeds, and this runs per pool.)
            if !self.seed_classes.is_empty() && self.seed_classes.iter().any(|c| *c != class) {
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
            if est.free < self.req.size.0 {
                misses.push(Miss {
                    free: est.free,
                    pool: pi,
                    node: node.ordinal,
                    min_thin: None,
                });
                return Err(Criterion::FreeSpace);
            }
            if est.thin {
                let min = min_thin_of(p, self.min_thin_mid, est.reported_total.unwrap_or(0));
                let phys = est.reported_free.unwrap_or(0);
                if phys < min {
                    misses.push(Miss {
                        free: phys,
                        pool: pi,
                        node: node.ordinal,
                        min_thin: Some(min),
                    });
                    return Err(Criterion::MinThinFreeSpace);
                }
            }
        }
        Ok((ok, input))
    }
}

/// The `replicas_on_same` rules; a rule without a value takes the existing replicas' value
/// (refused if they disagree).
fn read_same_rules(req: &PlacementRequest, seed_nodes: &[&Node]) -> Result<Vec<SameRule>, Refusal> {
    let mut same_rules: Vec<SameRule> = Vec::new();
    for e in req.filter.replicas_on_same.iter().flatten() {
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
                    return Err(Refusal::simple(
                        RefusalKind::Undecidable(format!(
                            "the existing replicas of '{}' disagree on replicas_on_same key '{key}': {}",
                            req.resource,
                            list.join("; ")
                        )),
                        req.resource.clone(),
                    ));
                }
                vals.keys().next().map(|v| (*v).to_string())
            }
        };
        same_rules.push(SameRule { key, fixed });
    }
    Ok(same_rules)
}

/// The index of the `replicas_on_different` rule on `key`, added (uncapped) if missing.
fn diff_rule_index(key: &str, rules: &mut Vec<DiffRule>) -> usize {
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
}

/// The `replicas_on_different` rules (forbidden values, caps from
/// `x_replicas_on_different_map`), their values counted over the existing replicas' nodes.
fn read_diff_rules(f: &crate::model::SelectFilter, seed_nodes: &[&Node]) -> Vec<DiffRule> {
    let mut diff_rules: Vec<DiffRule> = Vec::new();
    let xmap = f.x_replicas_on_different_map.clone().unwrap_or_default();
    for e in f.replicas_on_different.iter().flatten() {
        match e.split_once('=') {
            Some((k, v)) => {
                let i = diff_rule_index(k, &mut diff_rules);
                diff_rules[i].forbidden.push(v.to_string());
            }
            None => {
                let i = diff_rule_index(e, &mut diff_rules);
                let x = xmap.get(e).copied().unwrap_or(1);
                diff_rules[i].cap = Some(x);
                diff_rules[i].partial = x >= 2 && xmap.contains_key(e);
            }
        }
    }
    for (k, x) in &xmap {
        let i = diff_rule_index(k, &mut diff_rules);
        diff_rules[i].cap = Some(*x);
        diff_rules[i].partial = *x >= 2;
    }
    for r in &mut diff_rules {
        for n in seed_nodes {
            let v = node_value(n, &r.key).unwrap_or(UNSET);
            *r.used.entry(v.to_string()).or_insert(0) += 1;
        }
    }
    diff_rules
}

/// The id of a rule value in the view ([`UNSET_ID`] for [`UNSET`]); `None` if no row uses it.
fn value_id(strings: &Interner, v: &str) -> Option<u32> {
    if v == UNSET {
        Some(UNSET_ID)
    } else {
        strings.get(v)
    }
}

/// The string of a rule value id ([`UNSET`] for [`UNSET_ID`]).
fn value_str(strings: &Interner, id: u32) -> &str {
    if id == UNSET_ID {
        UNSET
    } else {
        strings.str(id)
    }
}

/// The rules in the view's ids: each key's column, each value's id. A string no row uses
/// matches no node.
fn resolve_rules<'v>(
    view: &'v PlacementView,
    same_rules: &[SameRule],
    diff_rules: &[DiffRule],
) -> (Vec<SameIds<'v>>, Vec<DiffIds<'v>>) {
    let strings = &view.strings;
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
                .filter_map(|(v, u)| value_id(strings, v).map(|id| (id, *u)))
                .collect(),
        })
        .collect();
    (same_ids, diff_ids)
}

/// Per node row, the request's marks: not in `node_name_list`, already has a replica, carries
/// a resource of `not_place_with_rsc[_regex]` (refused on an invalid regex).
fn node_marks(
    state: &ClusterState,
    view: &PlacementView,
    req: &PlacementRequest,
    rd: Option<&ResourceDefinition>,
) -> Result<Vec<u8>, Refusal> {
    let f = &req.filter;
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
            .map_err(|e| {
                Refusal::simple(
                    RefusalKind::InvalidRegex(e.to_string()),
                    req.resource.clone(),
                )
            })?;
        for other in state.resource_definitions.values() {
            if re.is_match(other.name.as_str()) {
                for r in other.live_resources() {
                    mark(&r.node, M_NPW_RE);
                }
            }
        }
    }
    Ok(marks)
}

/// The layers a node must support (bits of [`layer_bit`]): the filter's layer stack without
/// the storage layer, and the diskless layer a diskless request needs.
fn layer_mask(f: &crate::model::SelectFilter, mode: Mode) -> u32 {
    let mut layers: Vec<LayerKind> = f.layer_stack.clone().unwrap_or_default();
    match mode {
        Mode::Diskless(DisklessType::DRBD_DISKLESS) => layers.push(LayerKind::DRBD),
        Mode::Diskless(DisklessType::NVME_INITIATOR) => layers.push(LayerKind::NVME),
        Mode::Diskful => {}
    }
    layers.retain(|l| *l != LayerKind::STORAGE);
    layers.iter().fold(0u32, |m, l| m | layer_bit(*l))
}

/// The node pass: which nodes pass the node criteria, and the rule values of those that do.
struct NodePass {
    /// `stride` rule values per passing node, in node order.
    vals: Vec<u32>,
    /// Nodes that passed.
    n_ok: usize,
    n_same: usize,
    stride: usize,
}

impl NodePass {
    /// Judges node row `o` on the node criteria: the first one it fails, or its index among
    /// the passing nodes (its rule values are kept).
    fn judge(&mut self, rules: &Rules<'_>, o: usize, row: &NodeRow) -> Result<usize, Criterion> {
        rules.node_criteria(o, row, &mut self.vals).map(|()| {
            self.n_ok += 1;
            self.n_ok - 1
        })
    }

    /// The free `replicas_on_same` values of passing node `ok`.
    fn same_of(&self, ok: usize) -> &[u32] {
        &self.vals[ok * self.stride..ok * self.stride + self.n_same]
    }

    /// The capped spreading values of passing node `ok`.
    fn diff_of(&self, ok: usize) -> &[u32] {
        &self.vals[ok * self.stride + self.n_same..(ok + 1) * self.stride]
    }
}

/// A node row in the candidate pass, with its verdict on the node criteria once a pool needed
/// it: its index among the passing nodes, or the criterion it failed.
struct NodeAt<'r> {
    ordinal: usize,
    row: &'r NodeRow,
    verdict: Option<Result<usize, Criterion>>,
}

/// A pool row that passed every criterion.
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

/// The candidate pass: the pool rows that survived every criterion, and what eliminated the
/// others.
struct Candidates {
    /// The node pass the candidates' rule values come from.
    nodes: NodePass,
    /// Survivors, in (node, pool) name order.
    rows: Vec<Cand>,
    /// Score input per survivor.
    inputs: Vec<ScoreInput>,
    /// Per criterion: pools, nodes, last node ordinal counted.
    elim: BTreeMap<Criterion, (usize, usize, usize)>,
    /// Capacity failures, for the nearest misses.
    misses: Vec<Miss>,
    /// Pool rows of the requested kind.
    total: usize,
    /// Nodes with such a pool row.
    total_nodes: usize,
}

/// The candidate pass over every pool row of the requested kind, in (node, pool) name order:
/// each is eliminated by the first criterion it fails (counted per criterion, in pools and in
/// nodes) or becomes a candidate. A node's criteria run once, when its first pool reaches them.
fn candidates(rules: &Rules<'_>) -> Candidates {
    let view = rules.view;
    let mode = rules.mode;
    let mut nodes = NodePass {
        vals: Vec::new(),
        n_ok: 0,
        n_same: rules.n_same,
        stride: rules.stride,
    };
    let mut rows: Vec<Cand> = Vec::with_capacity(view.pools.len());
    let mut inputs: Vec<ScoreInput> = Vec::with_capacity(view.pools.len());
    let mut elim: BTreeMap<Criterion, (usize, usize, usize)> = BTreeMap::new();
    let mut misses: Vec<Miss> = Vec::new();
    let mut total = 0usize;
    let mut total_nodes = 0usize;
    for (ordinal, row) in view.nodes.iter().enumerate() {
        let mut node = NodeAt {
            ordinal,
            row,
            verdict: None,
        };
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
            let class = mix_class(p.kind, rules.mixing.effective(row.drbd));
            match rules.pool_verdict(&mut node, &mut nodes, p, pi, class, &mut misses) {
                Ok((ok, input)) => {
                    rows.push(Cand {
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
    Candidates {
        nodes,
        rows,
        inputs,
        elim,
        misses,
        total,
        total_nodes,
    }
}

/// The sort key of candidate `a`: best score first; ties break on the candidates' (node,
/// pool) name order.
fn rank(scores: &[i64], a: usize) -> (std::cmp::Reverse<i64>, usize) {
    (std::cmp::Reverse(scores[a]), a)
}

/// The dense id of value `raw` in dimension `dim`.
fn intern(dim: usize, raw: u32, ids: &mut Vec<FnvMap<u32, u32>>) -> u32 {
    if ids.len() <= dim {
        ids.resize_with(dim + 1, FnvMap::default);
    }
    let m = &mut ids[dim];
    let next = u32::try_from(m.len()).unwrap_or(u32::MAX);
    *m.entry(raw).or_insert(next)
}

/// Scoring and selection: the selection problem and the order of its candidates.
struct Choice<'r> {
    /// The capped `replicas_on_different` rules: one spreading dimension each.
    diff_caps: Vec<(&'r DiffRule, &'r DiffIds<'r>)>,
    /// Candidate index per problem position (the identity after the fast path).
    order: Vec<usize>,
    /// The selection problem (no candidates after the fast path).
    prob: Problem,
    /// Dense value ids per dimension: spreading dimensions `0..base`, shared spaces
    /// `base + 1`, free `replicas_on_same` values from `base + 2`.
    ids: Vec<FnvMap<u32, u32>>,
}

/// Scores the candidates and selects `need` of them: the fast path when the rules allow it and
/// it completes, else the full selection problem. Returns the problem and what was found.
fn choose<'r>(rules: &'r Rules<'_>, cands: &Candidates) -> (Choice<'r>, Outcome) {
    let scores = score_all(rules.state, rules.strategy, rules.req.size.0, &cands.inputs);
    let diff_caps: Vec<(&DiffRule, &DiffIds<'_>)> = rules
        .diff_rules
        .iter()
        .zip(&rules.diff_ids)
        .filter(|(r, _)| r.cap.is_some())
        .collect();
    let prob = Problem {
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
        need: usize::try_from(rules.need).unwrap_or(usize::MAX),
    };
    let mut choice = Choice {
        diff_caps,
        order: (0..cands.rows.len()).collect(),
        prob,
        ids: Vec::new(),
    };
    // The mixing class only needs a dimension when the candidates have more than one.
    let mix_dim = rules.mode == Mode::Diskful
        && rules.seed_classes.is_empty()
        && cands.rows.windows(2).any(|w| w[0].class != w[1].class);
    // Fast path for the common case — one group, at most one spreading key without the
    // partial-group rule, default shared spaces: the greedy of `select` (optimal there) run on
    // the best few candidates only. It makes the same picks as the full path whenever it
    // completes within them; otherwise the full path runs.
    let mut fast_picks: Option<Vec<usize>> = None;
    if !mix_dim
        && rules.same_rules.iter().all(|r| r.fixed.is_some())
        && choice.diff_caps.len() <= 1
        && choice.diff_caps.iter().all(|(r, _)| !r.partial)
        && cands
            .rows
            .iter()
            .all(|c| rules.view.pools[c.pool].default_shared)
    {
        fast_picks = choice.fast_picks(cands, &scores);
    }
    if fast_picks.is_none() {
        choice.build_problem(rules.view, cands, &scores, mix_dim);
    }
    choice.fill_dims(&rules.view.strings);
    // Fast picks are candidate indices; `order` is still the identity then.
    let outcome = match fast_picks {
        Some(p) => Outcome::Found(p, 0),
        None => select::select(&choice.prob),
    };
    (choice, outcome)
}

impl Choice<'_> {
    /// The fast path: the greedy pick of `need` candidates on distinct nodes (and within the
    /// spreading rule's cap) among the best few; `None` if it does not complete there.
    fn fast_picks(&self, cands: &Candidates, scores: &[i64]) -> Option<Vec<usize>> {
        let need_n = self.prob.need;
        let rule = self.diff_caps.first();
        let mut taken_values: Vec<u32> = Vec::with_capacity(need_n);
        let m = need_n
            .saturating_mul(4)
            .saturating_add(16)
            .min(cands.rows.len());
        let mut top: Vec<usize> = (0..cands.rows.len()).collect();
        if m > 0 && m < top.len() {
            top.select_nth_unstable_by_key(m - 1, |&a| rank(scores, a));
            top.truncate(m);
        }
        top.sort_unstable_by_key(|&a| rank(scores, a));
        let mut picks: Vec<usize> = Vec::with_capacity(need_n);
        let mut nodes: Vec<usize> = Vec::with_capacity(need_n);
        for &ci in &top {
            if picks.len() == need_n {
                break;
            }
            let c = &cands.rows[ci];
            if nodes.contains(&c.ordinal) {
                continue;
            }
            if let Some((r, ri)) = rule {
                let v = cands.nodes.diff_of(c.ok)[0];
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
        (picks.len() == need_n).then_some(picks)
    }

    /// The full selection problem: the candidates in score order with their nodes, shared
    /// spaces, groups (free `replicas_on_same` values, and the mixing class if `mix_dim`) and
    /// spreading values, all as dense ids.
    fn build_problem(
        &mut self,
        view: &PlacementView,
        cands: &Candidates,
        scores: &[i64],
        mix_dim: bool,
    ) {
        let base = self.diff_caps.len();
        let prob = &mut self.prob;
        let ids = &mut self.ids;
        self.order.sort_unstable_by_key(|&a| rank(scores, a));
        prob.scores.reserve(self.order.len());
        prob.nodes.reserve(self.order.len());
        prob.shared.reserve(self.order.len());
        prob.same.reserve(self.order.len());
        // Spreading values are interned in node order, over every node that passed the node
        // criteria.
        for k in 0..cands.nodes.n_ok {
            for (d, v) in cands.nodes.diff_of(k).iter().enumerate() {
                intern(d, *v, ids);
            }
        }
        for &i in &self.order {
            let c = &cands.rows[i];
            let p = &view.pools[c.pool];
            prob.scores.push(scores[i]);
            prob.nodes
                .push(u32::try_from(c.ordinal).unwrap_or(u32::MAX));
            // Default shared spaces are unique per pool: no interning needed.
            let shared = if p.default_shared {
                u32::try_from(i).unwrap_or(u32::MAX)
            } else {
                u32::try_from(cands.rows.len())
                    .unwrap_or(u32::MAX)
                    .saturating_add(intern(base + 1, p.shared_id, ids))
            };
            prob.shared.push(shared);
            let mut same: Vec<u32> = cands
                .nodes
                .same_of(c.ok)
                .iter()
                .enumerate()
                .map(|(k, v)| intern(base + 2 + k, *v, ids))
                .collect();
            if mix_dim {
                same.push(c.class);
            }
            prob.same.push(same);
            for (d, v) in cands.nodes.diff_of(c.ok).iter().enumerate() {
                let vid = intern(d, *v, ids);
                prob.dims[d].values.push(vid);
            }
        }
    }

    /// Each spreading dimension's room per value id (its cap less the existing replicas) and,
    /// for the partial-group rule, the existing replicas per value, including values no
    /// candidate has.
    fn fill_dims(&mut self, strings: &Interner) {
        for (d, (r, ri)) in self.diff_caps.iter().enumerate() {
            let cap = r.cap.unwrap_or(1);
            let m = self.ids.get(d).cloned().unwrap_or_default();
            let mut remaining = vec![0u32; m.len()];
            let mut used = vec![0u32; m.len()];
            for (raw, vid) in &m {
                let u = ri.used.get(raw).copied().unwrap_or(0);
                remaining[*vid as usize] = cap.saturating_sub(u);
                used[*vid as usize] = u;
            }
            self.prob.dims[d].remaining = remaining;
            if let Some((_, u)) = &mut self.prob.dims[d].partial {
                *u = used;
            }
            // Seeds on values no candidate has still count for the partial rule.
            if r.partial {
                let extra: Vec<u32> = r
                    .used
                    .iter()
                    .filter(|(v, _)| value_id(strings, v).is_none_or(|raw| !m.contains_key(&raw)))
                    .map(|(_, u)| *u)
                    .collect();
                for u in extra {
                    let dim = &mut self.prob.dims[d];
                    dim.remaining.push(0);
                    if let Some((_, used)) = &mut dim.partial {
                        used.push(u);
                    }
                }
            }
        }
    }
}

/// The refusal when no placement was found: the eliminations per criterion, why the
/// survivors fall short, and the pools that came closest on capacity.
fn refusal(
    rules: &Rules<'_>,
    mut cands: Candidates,
    choice: &Choice<'_>,
    outcome: &Outcome,
) -> Refusal {
    let req = rules.req;
    let survivors = cands.rows.len();
    let shortfall = shortfall(rules, &cands, choice, outcome);
    let nearest_misses = nearest_misses(rules.view, req, &mut cands.misses);
    Refusal {
        kind: RefusalKind::NotEnoughNodes,
        resource: req.resource.clone(),
        needed: rules.need,
        size: req.size,
        diskless: rules.mode != Mode::Diskful,
        detail: Box::new(crate::placement::explain::Explanation {
            candidates: cands.total,
            nodes: cands.total_nodes,
            survivors,
            eliminated: cands
                .elim
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
    }
}

/// Why the surviving candidates make no placement, one line per reason: too few nodes, a
/// `replicas_on_same` group, the mixing classes or a spreading rule too small, the search
/// budget, or else the constraints together.
fn shortfall(
    rules: &Rules<'_>,
    cands: &Candidates,
    choice: &Choice<'_>,
    outcome: &Outcome,
) -> Vec<String> {
    let view = rules.view;
    let need = choice.prob.need;
    let mut shortfall = Vec::new();
    let distinct: BTreeSet<&NodeName> = cands
        .rows
        .iter()
        .map(|c| &view.nodes[c.ordinal].name)
        .collect();
    if distinct.is_empty() {
        return shortfall;
    }
    if distinct.len() < need {
        shortfall.push(format!(
            "only {} node(s) passed every filter, and a resource has at most one replica per node",
            distinct.len()
        ));
        return shortfall;
    }
    same_shortfall(rules, cands, need, &mut shortfall);
    if rules.mode == Mode::Diskful && rules.seed_classes.is_empty() {
        let mut by: BTreeMap<u32, BTreeSet<&NodeName>> = BTreeMap::new();
        for c in &cands.rows {
            by.entry(c.class)
                .or_default()
                .insert(&view.nodes[c.ordinal].name);
        }
        let best = by.values().map(BTreeSet::len).max().unwrap_or(0);
        if by.len() > 1 && best < need {
            shortfall.push(format!(
                "provider mixing: the largest set of mixable pools spans only {best} node(s)"
            ));
        }
    }
    diff_shortfall(rules, cands, &choice.diff_caps, need, &mut shortfall);
    if matches!(outcome, Outcome::Exhausted(None)) {
        shortfall.push("the search budget ran out before a placement was found".into());
    }
    if shortfall.is_empty() {
        let best = select::max_combinable(&choice.prob);
        shortfall.push(format!(
            "no {} of the {} surviving candidates satisfy all constraints together (best combination: {best})",
            need,
            cands.rows.len()
        ));
    }
    shortfall
}

/// The free `replicas_on_same` rules whose largest group of candidates spans fewer than
/// `need` nodes.
fn same_shortfall(rules: &Rules<'_>, cands: &Candidates, need: usize, out: &mut Vec<String>) {
    let view = rules.view;
    let mut k = 0;
    for r in &rules.same_rules {
        if r.fixed.is_some() {
            continue;
        }
        let mut by: BTreeMap<&str, BTreeSet<&NodeName>> = BTreeMap::new();
        for c in &cands.rows {
            by.entry(value_str(&view.strings, cands.nodes.same_of(c.ok)[k]))
                .or_default()
                .insert(&view.nodes[c.ordinal].name);
        }
        k += 1;
        let (v, best) = by
            .iter()
            .max_by_key(|(_, s)| s.len())
            .map(|(v, s)| (*v, s.len()))
            .unwrap_or(("-", 0));
        if best < need {
            out.push(format!(
                "replicas_on_same '{}': the largest group ({}={v}) has only {best} usable node(s)",
                r.key, r.key
            ));
        }
    }
}

/// The capped `replicas_on_different` rules whose values leave room for fewer than `need`
/// replicas, or whose partial-group rule cannot be met.
fn diff_shortfall(
    rules: &Rules<'_>,
    cands: &Candidates,
    diff_caps: &[(&DiffRule, &DiffIds<'_>)],
    need: usize,
    out: &mut Vec<String>,
) {
    let view = rules.view;
    for (d, (r, _)) in diff_caps.iter().enumerate() {
        let cap = r.cap.unwrap_or(1);
        let mut by: BTreeMap<&str, BTreeSet<&NodeName>> = BTreeMap::new();
        for c in &cands.rows {
            by.entry(value_str(&view.strings, cands.nodes.diff_of(c.ok)[d]))
                .or_default()
                .insert(&view.nodes[c.ordinal].name);
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
        if achievable < need {
            out.push(format!(
                "replicas_on_different '{}' (at most {cap} per value): the candidates span {} value(s) ({}), room for only {achievable} more replica(s)",
                r.key,
                vals.len(),
                vals.join(", ")
            ));
        } else if r.partial {
            out.push(format!(
                "x_replicas_on_different '{}'={cap}: no combination leaves at most one partially filled group",
                r.key
            ));
        }
    }
}

/// The five pools that came closest on capacity: most free space first, then row order.
fn nearest_misses(
    view: &PlacementView,
    req: &PlacementRequest,
    misses: &mut [Miss],
) -> Vec<NearMiss> {
    // Rows are in (node, pool) name order: sorting by row index breaks ties by name.
    misses.sort_by(|a, b| b.free.cmp(&a.free).then_with(|| a.pool.cmp(&b.pool)));
    misses
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
        .collect()
}

/// The placement of the selected candidates (`picks` are positions in `order`), with a
/// diskless peer on every remaining node if `diskless_on_remaining` asks for it.
fn answer(rules: &Rules<'_>, cands: &Candidates, order: &[usize], picks: &[usize]) -> Placement {
    let view = rules.view;
    let chosen: Vec<(NodeName, StorPoolName)> = picks
        .iter()
        .map(|&k| {
            let c = &cands.rows[order[k]];
            (
                view.nodes[c.ordinal].name.clone(),
                view.pool_name(&view.pools[c.pool]).clone(),
            )
        })
        .collect();
    let mut placement = Placement {
        diskful: Vec::new(),
        diskless: Vec::new(),
        already_satisfied: false,
        strategy: rules.strategy,
    };
    match rules.mode {
        Mode::Diskful => placement.diskful = chosen,
        Mode::Diskless(_) => placement.diskless = chosen,
    }
    if rules.dor {
        diskless_on_remaining(rules, &mut placement);
    }
    placement
}

/// `diskless_on_remaining`: a diskless peer on every online node that is not being deleted or
/// evacuated, has a diskless pool, and neither carries the resource nor was just chosen.
fn diskless_on_remaining(rules: &Rules<'_>, placement: &mut Placement) {
    let state = rules.state;
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
            || rules
                .rd
                .is_some_and(|rd: &ResourceDefinition| rd.resources.contains_key(&n.name))
        {
            continue;
        }
        if let Some(p) = diskless_pool_for(n, rules.req.filter.storage_pool_diskless_list.as_ref())
        {
            placement.diskless.push((n.name.clone(), p));
        }
    }
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
