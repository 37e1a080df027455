//! The placer's working set: a compact, cache-friendly copy of everything it reads per node and
//! per pool, and [`PlacementCache`], which keeps that copy current between decisions.
//!
//! # Why
//!
//! A placement looks at every (node, pool) pair. Read straight from [`ClusterState`], each pair
//! costs a dozen pointer chases (node map, property maps and their heap keys, the observed map,
//! the pool-usage map, the free-space-manager name); at 10,000 nodes the working set no longer
//! fits in cache and the scan is memory bound. The view holds the same facts in two flat arrays
//! — one row per node, one per pool, in the state's (node name, pool name) order — with strings
//! interned to integers. Node properties are read by key, so they are kept as columns, one per
//! key a request has used (`Aux/zone`: one value id per node), built on first use. Whatever
//! depends on the request (lists, spreading keys, existing replicas) is resolved once per call
//! against the view.
//!
//! # Keeping it current
//!
//! [`PlacementView::build`] is a pure function of `(state, usage)`. [`PlacementCache`] owns the
//! pool usage and a view, and is told what changed: [`PlacementCache::apply_rd`], `add`, `grow`
//! and `remove` mark the nodes whose usage changed, [`PlacementCache::node_changed`] a node whose
//! properties, flags, pools or observed state changed, [`PlacementCache::all_changed`] anything
//! that affects every row (controller properties, storage pool definitions, the set of nodes).
//! [`PlacementCache::refresh`] rebuilds the marked rows in place (or everything, when the node
//! set or a node's pool count changed). [`PlacementCache::check`] compares every unmarked row
//! with a fresh build; the cluster's invariant check runs it after every command of the
//! proptest, so a change that was not marked is found.

use std::collections::BTreeSet;

use crate::model::{ConnectionStatus, LayerKind, Node, NodeFlags, NodeObserved, PoolCapacity};
use crate::model::{ProviderKind, ResourceDefinition};
use crate::name::{NodeName, StorPoolName};
use crate::placement::capacity::{FnvMap, PoolUsage, Ratios, Usage, ratios};
use crate::placement::filter::{default_shared, node_is_target};
use crate::props::parse_bool;
use crate::size::SizeKib;
use crate::state::ClusterState;

use crate::keys::MIN_THIN_FREE_SPACE as MIN_THIN_FREE;

/// Interned strings: equal strings get equal ids.
#[derive(Debug, Clone, Default)]
pub(crate) struct Interner {
    ids: FnvMap<Box<str>, u32>,
    strs: Vec<Box<str>>,
}

impl Interner {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(i) = self.ids.get(s) {
            return *i;
        }
        let id = u32::try_from(self.strs.len()).unwrap_or(u32::MAX);
        self.strs.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }

    /// The id of `s`, if some row uses it.
    pub(crate) fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    /// The string of `id`.
    pub(crate) fn str(&self, id: u32) -> &str {
        self.strs.get(id as usize).map_or("", |s| s)
    }

    fn len(&self) -> usize {
        self.strs.len()
    }
}

/// The bit of a resource layer in [`NodeRow::layers`].
pub(crate) fn layer_bit(l: LayerKind) -> u32 {
    1 << (l as u32)
}

/// What the placer reads of one node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NodeRow {
    pub name: NodeName,
    /// This node's pools: `pools[start..end]` of the view.
    pub pools: (u32, u32),
    /// Observed `ONLINE`.
    pub online: bool,
    /// Flagged `DELETE` or `EVACUATE`.
    pub flagged: bool,
    /// `AutoplaceTarget` (Node > C, default true).
    pub target: bool,
    /// Reported resource layers (bits of [`layer_bit`]); `None` before the first report.
    pub layers: Option<u32>,
    /// Reported DRBD version.
    pub drbd: Option<(u16, u16, u16)>,
}

/// Storage pool names: few distinct ones, shared by many pools.
#[derive(Debug, Clone, Default)]
struct PoolNames {
    /// By spelling id.
    spellings: Vec<StorPoolName>,
    /// The case-insensitive id of each spelling.
    ci: Vec<u32>,
    by_spelling: FnvMap<Box<str>, u32>,
    by_ci: FnvMap<StorPoolName, u32>,
}

impl PoolNames {
    /// The (spelling id, case-insensitive id) of `name`; `guess` is tried first (pools come in
    /// the same order on most nodes).
    fn ids(&mut self, name: &StorPoolName, guess: usize) -> (u32, u32) {
        if let Some(n) = self.spellings.get(guess)
            && n.as_str() == name.as_str()
        {
            return (u32::try_from(guess).unwrap_or(u32::MAX), self.ci[guess]);
        }
        if let Some(i) = self.by_spelling.get(name.as_str()) {
            return (*i, self.ci[*i as usize]);
        }
        let sid = u32::try_from(self.spellings.len()).unwrap_or(u32::MAX);
        let next = u32::try_from(self.by_ci.len()).unwrap_or(u32::MAX);
        let ci = *self.by_ci.entry(name.clone()).or_insert(next);
        self.spellings.push(name.clone());
        self.ci.push(ci);
        self.by_spelling.insert(name.as_str().into(), sid);
        (sid, ci)
    }
}

/// What the placer reads of one storage pool.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PoolRow {
    /// Id of the pool name as spelled ([`PlacementView::pool_name`]).
    pub spelling: u32,
    /// Id of the pool name (case-insensitive, [`PlacementView::pool_name_id`]).
    pub name_id: u32,
    pub kind: ProviderKind,
    /// `AutoplaceTarget=false` on the pool.
    pub target_off: bool,
    /// Id of the upper-case free-space-manager name; [`NO_ID`] for the default `<node>;<pool>`
    /// names, which are unique per pool (a pool never shares space with a replica elsewhere).
    pub shared_id: u32,
    /// The free-space-manager name is the default `<node>;<pool>`.
    pub default_shared: bool,
    /// Last reported capacity.
    pub reported: Option<PoolCapacity>,
    /// Over-provisioning ratios (SP > SPD > C).
    pub ratios: Ratios,
    /// `Autoplacer/MinThinFreeSpace` on the pool.
    pub min_thin_sp: Option<Box<str>>,
    /// `Autoplacer/MinThinFreeSpace` on the node, else on the controller.
    pub min_thin_low: Option<Box<str>>,
    /// Reserved space and resource count.
    pub usage: Usage,
}

/// The id of "no value" in a column, and of a default shared-space name.
pub(crate) const NO_ID: u32 = u32::MAX;

/// At most this many columns are kept: a request needing more drops the columns it does not
/// read (they are rebuilt on demand).
const MAX_COLUMNS: usize = 32;

/// The compact copy of the state the placer scans (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct PlacementView {
    pub(crate) nodes: Vec<NodeRow>,
    pub(crate) pools: Vec<PoolRow>,
    /// Node property columns: key, and the value id per node row ([`NO_ID`]: unset).
    columns: Vec<(String, Vec<u32>)>,
    /// Interned property values and custom shared-space names.
    pub(crate) strings: Interner,
    /// Pool names and their ids.
    pool_names: PoolNames,
    /// Strings interned by the last full build (a refresh that interned many more compacts).
    built_strings: usize,
    /// Pools per LVM/ZFS kind (LVM, LVM_THIN, ZFS, ZFS_THIN): whether mixing can arise at all.
    family: [u32; 4],
}

/// The slot of an LVM/ZFS kind in [`PlacementView::family`].
fn family_slot(kind: ProviderKind) -> Option<usize> {
    match kind {
        ProviderKind::LVM => Some(0),
        ProviderKind::LVM_THIN => Some(1),
        ProviderKind::ZFS => Some(2),
        ProviderKind::ZFS_THIN => Some(3),
        _ => None,
    }
}

impl PlacementView {
    /// True if pools of more than one LVM/ZFS kind exist (only then can mixing them arise).
    pub(crate) fn mixed_family(&self) -> bool {
        self.family.iter().filter(|c| **c > 0).count() > 1
    }

    fn count_family(&mut self, kind: ProviderKind, add: bool) {
        if let Some(i) = family_slot(kind) {
            self.family[i] = if add {
                self.family[i] + 1
            } else {
                self.family[i].saturating_sub(1)
            };
        }
    }

    /// The view of `state` with `usage` (which must equal `PoolUsage::compute(state)` for the
    /// answers to be those of the state). Property columns are added by
    /// [`PlacementView::ensure_columns`].
    pub fn build(state: &ClusterState, usage: &PoolUsage) -> PlacementView {
        let mut v = PlacementView {
            nodes: Vec::with_capacity(state.nodes.len()),
            pools: Vec::with_capacity(state.nodes.len() * 2),
            ..PlacementView::default()
        };
        let mut ratio_cache: FnvMap<(u32, ProviderKind), Ratios> = FnvMap::default();
        let mut observed = state.observed.nodes.iter().peekable();
        for n in state.nodes.values() {
            // Merge-join: both maps are ordered by node name.
            while observed.peek().is_some_and(|(k, _)| *k < &n.name) {
                observed.next();
            }
            let obs = observed
                .peek()
                .filter(|(k, _)| *k == &n.name)
                .map(|(_, o)| *o);
            let start = u32::try_from(v.pools.len()).unwrap_or(u32::MAX);
            let mut ctx = RowCtx {
                strings: &mut v.strings,
                pool_names: &mut v.pool_names,
                ratio_cache: &mut ratio_cache,
            };
            let mut row = node_row(state, n, obs);
            pool_rows(state, n, obs, usage.node(&n.name), &mut ctx, &mut v.pools);
            row.pools = (start, u32::try_from(v.pools.len()).unwrap_or(u32::MAX));
            v.nodes.push(row);
        }
        v.built_strings = v.strings.len();
        for i in 0..v.pools.len() {
            v.count_family(v.pools[i].kind, true);
        }
        v
    }

    /// The row index of `node`.
    pub(crate) fn ordinal(&self, node: &NodeName) -> Option<usize> {
        self.nodes.binary_search_by(|r| r.name.cmp(node)).ok()
    }

    /// The id of a pool name, if some pool has it.
    pub(crate) fn pool_name_id(&self, name: &StorPoolName) -> Option<u32> {
        self.pool_names.by_ci.get(name).copied()
    }

    /// The name of pool row `p`, as spelled.
    pub(crate) fn pool_name(&self, p: &PoolRow) -> &StorPoolName {
        &self.pool_names.spellings[p.spelling as usize]
    }

    /// The pool rows of node row `row`.
    pub(crate) fn pools_of(&self, row: &NodeRow) -> &[PoolRow] {
        &self.pools[row.pools.0 as usize..row.pools.1 as usize]
    }

    /// Adds the property columns of `keys` that are missing. `state` must be the state the
    /// view was built or refreshed from.
    pub fn ensure_columns(&mut self, state: &ClusterState, keys: &[&str]) {
        let missing = keys.iter().filter(|k| self.column(k).is_none()).count();
        if missing > 0 && self.columns.len() + missing > MAX_COLUMNS {
            // Make room from the columns this request does not read (it may need more).
            self.columns.retain(|(k, _)| keys.contains(&k.as_str()));
        }
        for key in keys {
            if self.column(key).is_some() {
                continue;
            }
            let col: Vec<u32> = state
                .nodes
                .values()
                .map(|n| n.props.get(key).map_or(NO_ID, |v| self.strings.intern(v)))
                .collect();
            self.columns.push(((*key).to_string(), col));
        }
    }

    /// The column of property `key`, if built: value id per node row.
    pub(crate) fn column(&self, key: &str) -> Option<&[u32]> {
        self.columns
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, c)| c.as_slice())
    }

    /// Rebuilds the rows of `node` in place; false if that is not possible (the node is new or
    /// gone, or its pool count changed) and the whole view must be rebuilt.
    fn refresh_node(&mut self, state: &ClusterState, usage: &PoolUsage, node: &NodeName) -> bool {
        let (Some(o), Some(n)) = (self.ordinal(node), state.nodes.get(node)) else {
            return false;
        };
        let obs = state.observed.nodes.get(node);
        let (start, end) = self.nodes[o].pools;
        let mut pools = Vec::with_capacity((end - start) as usize);
        let mut ratio_cache = FnvMap::default();
        let mut ctx = RowCtx {
            strings: &mut self.strings,
            pool_names: &mut self.pool_names,
            ratio_cache: &mut ratio_cache,
        };
        pool_rows(state, n, obs, usage.node(node), &mut ctx, &mut pools);
        if pools.len() != (end - start) as usize {
            return false;
        }
        let mut row = node_row(state, n, obs);
        row.pools = (start, end);
        self.nodes[o] = row;
        for (i, p) in (start as usize..end as usize).zip(pools) {
            self.count_family(self.pools[i].kind, false);
            self.count_family(p.kind, true);
            self.pools[i] = p;
        }
        for (key, col) in &mut self.columns {
            col[o] = n.props.get(key).map_or(NO_ID, |v| self.strings.intern(v));
        }
        true
    }

    /// Row `node` with its ids resolved: the form two views are compared in.
    fn resolved(&self, node: usize) -> String {
        let r = &self.nodes[node];
        let id = |i: u32| if i == NO_ID { "-" } else { self.strings.str(i) };
        let props: Vec<(&str, &str)> = self
            .columns
            .iter()
            .map(|(k, c)| (k.as_str(), id(c[node])))
            .collect();
        let pools: Vec<String> = self
            .pools_of(r)
            .iter()
            .map(|p| {
                let pool_name = self
                    .pool_names
                    .by_ci
                    .iter()
                    .find(|(_, i)| **i == p.name_id)
                    .map(|(n, _)| n.key());
                format!(
                    "{} {pool_name:?} {:?} off={} shared={} default={} {:?} {:?} {:?} {:?} {:?}",
                    self.pool_name(p),
                    p.kind,
                    p.target_off,
                    id(p.shared_id),
                    p.default_shared,
                    p.reported,
                    p.ratios,
                    p.min_thin_sp,
                    p.min_thin_low,
                    p.usage
                )
            })
            .collect();
        format!(
            "{} online={} flagged={} target={} layers={:?} drbd={:?} props={props:?} pools={pools:?}",
            r.name, r.online, r.flagged, r.target, r.layers, r.drbd
        )
    }

    /// The same view built from scratch, with the same columns.
    fn rebuilt(&self, state: &ClusterState, usage: &PoolUsage) -> PlacementView {
        let mut v = PlacementView::build(state, usage);
        let keys: Vec<&str> = self.columns.iter().map(|(k, _)| k.as_str()).collect();
        v.ensure_columns(state, &keys);
        v
    }
}

/// The interning tables a pool row is built with.
struct RowCtx<'a> {
    strings: &'a mut Interner,
    pool_names: &'a mut PoolNames,
    ratio_cache: &'a mut FnvMap<(u32, ProviderKind), Ratios>,
}

fn node_row(state: &ClusterState, n: &Node, obs: Option<&NodeObserved>) -> NodeRow {
    NodeRow {
        name: n.name.clone(),
        pools: (0, 0),
        online: obs.is_some_and(|o| o.connection == ConnectionStatus::ONLINE),
        flagged: n.flags.contains(NodeFlags::DELETE) || n.flags.contains(NodeFlags::EVACUATE),
        target: node_is_target(state, n),
        layers: obs
            .and_then(|o| o.capabilities.as_ref())
            .map(|c| c.resource_layers.iter().fold(0, |m, l| m | layer_bit(*l))),
        drbd: obs
            .and_then(|o| o.capabilities.as_ref())
            .and_then(|c| c.drbd_version),
    }
}

/// The pool properties the over-provisioning ratios read.
const RATIO_KEYS: [&str; 3] = crate::keys::OVERSUBSCRIPTION_RATIOS;

fn pool_rows(
    state: &ClusterState,
    n: &Node,
    obs: Option<&NodeObserved>,
    usage: &[(StorPoolName, Usage)],
    ctx: &mut RowCtx<'_>,
    out: &mut Vec<PoolRow>,
) {
    let low: Option<Box<str>> = n
        .props
        .get(MIN_THIN_FREE)
        .or_else(|| state.ctrl_props.get(MIN_THIN_FREE))
        .map(Into::into);
    let mut reported = obs.map(|o| o.pools.iter().peekable());
    for (k, p) in n.storage_pools.values().enumerate() {
        // Merge-join: the observed pools are ordered by pool name too.
        let cap = reported.as_mut().and_then(|it| {
            while it.peek().is_some_and(|(k, _)| *k < &p.name) {
                it.next();
            }
            it.peek().filter(|(k, _)| *k == &p.name).map(|(_, c)| **c)
        });
        let (spelling, name_id) = ctx.pool_names.ids(&p.name, k);
        // Without pool-level ratio properties the ratios depend on the name and kind only.
        let ratios = if RATIO_KEYS.iter().any(|k| p.props.get(k).is_some()) {
            ratios(state, p)
        } else {
            *ctx.ratio_cache
                .entry((name_id, p.kind))
                .or_insert_with(|| ratios(state, p))
        };
        let shared = &p.free_space_mgr_name;
        let default = default_shared(p);
        out.push(PoolRow {
            spelling,
            name_id,
            kind: p.kind,
            target_off: p
                .props
                .get(crate::keys::AUTOPLACE_TARGET)
                .and_then(parse_bool)
                == Some(false),
            shared_id: if default {
                NO_ID
            } else {
                ctx.strings.intern(&shared.to_ascii_uppercase())
            },
            default_shared: default,
            reported: cap,
            ratios,
            min_thin_sp: p.props.get(MIN_THIN_FREE).map(Into::into),
            min_thin_low: low.clone(),
            usage: PoolUsage::in_node(usage, &p.name),
        });
    }
}

/// The pool usage and the view, kept current between decisions (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct PlacementCache {
    usage: PoolUsage,
    view: PlacementView,
    dirty: BTreeSet<NodeName>,
    /// The whole view must be rebuilt.
    stale: bool,
}

impl PlacementCache {
    /// A cache for `state`: usage computed now, the view built at the first refresh.
    pub fn new(state: &ClusterState) -> PlacementCache {
        PlacementCache::with_usage(PoolUsage::compute(state))
    }

    /// A cache over an already computed `usage`.
    pub fn with_usage(usage: PoolUsage) -> PlacementCache {
        PlacementCache {
            usage,
            view: PlacementView::default(),
            dirty: BTreeSet::new(),
            stale: true,
        }
    }

    /// The maintained pool usage.
    pub fn usage(&self) -> &PoolUsage {
        &self.usage
    }

    /// The view as of the last [`PlacementCache::refresh`].
    pub fn view(&self) -> &PlacementView {
        &self.view
    }

    /// The view, for adding columns after a refresh.
    pub(crate) fn view_mut(&mut self) -> &mut PlacementView {
        &mut self.view
    }

    /// True if nothing changed since the last refresh.
    pub fn is_current(&self) -> bool {
        !self.stale && self.dirty.is_empty()
    }

    /// Adds (`add`) or subtracts a definition's usage (see [`PoolUsage::apply_rd`]) and marks
    /// the nodes it touches.
    pub fn apply_rd(&mut self, rd: &ResourceDefinition, add: bool) {
        self.usage.apply_rd(rd, add);
        if self.stale {
            return;
        }
        for r in rd.resources.values() {
            self.mark(&r.node);
        }
        for sd in rd.snapshots.values() {
            for s in sd.snapshots.values() {
                self.mark(&s.node);
            }
        }
    }

    /// A new replica of `size` in `pool` on `node`.
    pub fn add(&mut self, node: &NodeName, pool: &StorPoolName, size: SizeKib) {
        self.usage.add(node, pool, size);
        self.mark(node);
    }

    /// A replica in `pool` on `node` grew by `delta`.
    pub fn grow(&mut self, node: &NodeName, pool: &StorPoolName, delta: SizeKib) {
        self.usage.grow(node, pool, delta);
        self.mark(node);
    }

    /// A replica of `size` in `pool` on `node` is gone.
    pub fn remove(&mut self, node: &NodeName, pool: &StorPoolName, size: SizeKib) {
        self.usage.remove(node, pool, size);
        self.mark(node);
    }

    /// The node's properties, flags, storage pools or observed state changed.
    pub fn node_changed(&mut self, node: &NodeName) {
        self.mark(node);
    }

    /// Something every row depends on changed: controller properties, a storage pool
    /// definition, or the set of nodes.
    pub fn all_changed(&mut self) {
        self.stale = true;
        self.dirty.clear();
    }

    fn mark(&mut self, node: &NodeName) {
        if !self.stale && !self.dirty.contains(node) {
            self.dirty.insert(node.clone());
        }
    }

    /// Brings the view up to date with `state` (which must be the state the marks describe).
    pub fn refresh(&mut self, state: &ClusterState) {
        if !self.stale {
            for n in std::mem::take(&mut self.dirty) {
                if !self.view.refresh_node(state, &self.usage, &n) {
                    self.stale = true;
                    break;
                }
            }
            // Interned strings are never freed in place: compact when they have doubled.
            if self.view.strings.len() > 2 * self.view.built_strings + 4096 {
                self.stale = true;
            }
        }
        if self.stale {
            self.view = self.view.rebuilt(state, &self.usage);
            self.stale = false;
            self.dirty.clear();
        }
    }

    /// Checks the cache against `state`: the usage equals a recomputation, and every row that
    /// is not marked for refresh equals a fresh build.
    pub fn check(&self, state: &ClusterState) -> Result<(), String> {
        self.check_with(state, &PoolUsage::compute(state))
    }

    /// [`PlacementCache::check`] against an already computed `PoolUsage::compute(state)`.
    pub fn check_with(&self, state: &ClusterState, fresh_usage: &PoolUsage) -> Result<(), String> {
        if !self.usage.same_as(fresh_usage) {
            return Err("placement cache: pool usage differs from a recomputation".into());
        }
        if self.stale {
            return Ok(());
        }
        let fresh = self.view.rebuilt(state, fresh_usage);
        if fresh.nodes.len() != self.view.nodes.len() {
            return Err(format!(
                "placement cache: {} node rows, the state has {} nodes and no rebuild is pending",
                self.view.nodes.len(),
                fresh.nodes.len()
            ));
        }
        if self.dirty.is_empty() && fresh.family != self.view.family {
            return Err(format!(
                "placement cache: pool kind counts {:?}, a fresh build has {:?}",
                self.view.family, fresh.family
            ));
        }
        for i in 0..fresh.nodes.len() {
            if self.dirty.contains(&self.view.nodes[i].name) {
                continue;
            }
            let (a, b) = (self.view.resolved(i), fresh.resolved(i));
            if a != b {
                return Err(format!(
                    "placement cache: stale row (a change was not marked)\n  cached: {a}\n  state:  {b}"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PoolCapacity, ProviderKind, SelectFilter, StoragePool};
    use crate::placement::sim::{GIB, add_rd, apply_placement};
    use crate::placement::testutil::*;
    use crate::placement::{PlacementRequest, autoplace};

    const START: &str = "
        n1 Aux/zone=a : data=LVM:100/100 thin=LVM_THIN:100/100
        n2 Aux/zone=a : data=LVM:90/100
        n3 Aux/zone=b : data=LVM:80/100
        n4 Aux/zone=c : data=LVM:70/100
    ";

    fn request(name: &str, filter: &str) -> PlacementRequest {
        let filter: SelectFilter = serde_json::from_str(filter).unwrap();
        PlacementRequest::new(rn(name), filter, SizeKib(10 * GIB))
    }

    /// One step: a change to the state and what the cache is told about it.
    type Step = fn(&mut ClusterState, &mut PlacementCache);

    /// After every step: the cached answer equals the pure one, and every row is current.
    fn check(steps: &[(&str, Step)]) {
        let mut st = crate::placement::tests::cluster(START);
        let mut cache = PlacementCache::new(&st);
        for (i, (what, step)) in steps.iter().enumerate() {
            step(&mut st, &mut cache);
            for filter in [
                r#"{"place_count": 2, "replicas_on_different": ["Aux/zone"]}"#,
                r#"{"place_count": 1, "storage_pool": "data", "replicas_on_same": ["Aux/zone=a"]}"#,
            ] {
                let name = format!("q{i}");
                add_rd(&mut st, &rn(&name), SizeKib(10 * GIB));
                let req = request(&name, filter);
                let cached = cache.autoplace(&st, &req);
                assert_eq!(cached, autoplace(&st, &req), "after {what}, {filter}");
                cache
                    .check(&st)
                    .unwrap_or_else(|e| panic!("after {what}: {e}"));
                st.resource_definitions.remove(&rn(&name));
            }
        }
    }

    #[test]
    fn cached_answers_follow_every_marked_change() {
        check(&[
            ("nothing", |_, _| {}),
            ("a placement", |st, c| {
                add_rd(st, &rn("r1"), SizeKib(60 * GIB));
                let p = c
                    .autoplace(st, &request("r1", r#"{"place_count": 2}"#))
                    .unwrap();
                for (n, pool) in &p.diskful {
                    c.add(n, pool, SizeKib(60 * GIB));
                }
                apply_placement(st, &rn("r1"), &p);
            }),
            ("a zone moves", |st, c| {
                let n = st.nodes.get_mut(&nn("n4")).unwrap();
                n.props.set("Aux/zone", "a");
                c.node_changed(&nn("n4"));
            }),
            ("a zone is removed", |st, c| {
                st.nodes
                    .get_mut(&nn("n3"))
                    .unwrap()
                    .props
                    .remove("Aux/zone");
                c.node_changed(&nn("n3"));
            }),
            ("a pool fills up", |st, c| {
                let o = st.observed.nodes.get_mut(&nn("n1")).unwrap();
                o.pools.insert(
                    sp_name("data"),
                    PoolCapacity {
                        free: SizeKib(GIB),
                        total: SizeKib(100 * GIB),
                    },
                );
                c.node_changed(&nn("n1"));
            }),
            ("a node goes offline", |st, c| {
                st.observed.nodes.get_mut(&nn("n2")).unwrap().connection =
                    ConnectionStatus::OFFLINE;
                c.node_changed(&nn("n2"));
            }),
            ("a pool is added (the row count changes)", |st, c| {
                let n = st.nodes.get_mut(&nn("n3")).unwrap();
                let name = sp_name("more");
                n.storage_pools.insert(
                    name.clone(),
                    StoragePool {
                        node: nn("n3"),
                        name: name.clone(),
                        kind: ProviderKind::LVM,
                        free_space_mgr_name: "n3;more".into(),
                        props: Default::default(),
                        uuid: Default::default(),
                    },
                );
                st.observed.nodes.get_mut(&nn("n3")).unwrap().pools.insert(
                    name,
                    PoolCapacity {
                        free: SizeKib(50 * GIB),
                        total: SizeKib(50 * GIB),
                    },
                );
                c.node_changed(&nn("n3"));
            }),
            ("a pool stops being a target", |st, c| {
                let n = st.nodes.get_mut(&nn("n4")).unwrap();
                n.storage_pools
                    .get_mut(&sp_name("data"))
                    .unwrap()
                    .props
                    .set("AutoplaceTarget", "false");
                c.node_changed(&nn("n4"));
            }),
            ("a controller property", |st, c| {
                st.ctrl_props.set("MaxOversubscriptionRatio", "1.5");
                c.all_changed();
            }),
            ("a node is removed", |st, c| {
                st.nodes.remove(&nn("n2"));
                st.observed.nodes.remove(&nn("n2"));
                c.all_changed();
            }),
            ("the placement is deleted", |st, c| {
                let rd = st.resource_definitions.get(&rn("r1")).unwrap().clone();
                c.apply_rd(&rd, false);
                st.resource_definitions.remove(&rn("r1"));
            }),
        ]);
    }

    #[test]
    fn an_unmarked_change_is_found_by_the_check() {
        let mut st = crate::placement::tests::cluster(START);
        let mut cache = PlacementCache::new(&st);
        add_rd(&mut st, &rn("r1"), SizeKib(GIB));
        let req = request(
            "r1",
            r#"{"place_count": 2, "replicas_on_different": ["Aux/zone"]}"#,
        );
        cache.autoplace(&st, &req).unwrap();
        assert!(cache.is_current());
        cache.check(&st).unwrap();
        st.nodes
            .get_mut(&nn("n1"))
            .unwrap()
            .props
            .set("Aux/zone", "z");
        let err = cache.check(&st).unwrap_err();
        assert!(err.contains("stale row") && err.contains("n1"), "{err}");
        cache.node_changed(&nn("n1"));
        assert!(!cache.is_current());
        cache.refresh(&st);
        cache.check(&st).unwrap();
    }

    #[test]
    fn interned_strings_are_compacted_under_churn() {
        let mut st = crate::placement::tests::cluster(START);
        let mut cache = PlacementCache::new(&st);
        add_rd(&mut st, &rn("r1"), SizeKib(GIB));
        let req = request(
            "r1",
            r#"{"place_count": 2, "replicas_on_different": ["Aux/zone"]}"#,
        );
        for i in 0..10_000 {
            st.nodes
                .get_mut(&nn("n1"))
                .unwrap()
                .props
                .set("Aux/zone", format!("zone{i}"));
            cache.node_changed(&nn("n1"));
            cache.autoplace(&st, &req).unwrap();
        }
        cache.check(&st).unwrap();
        assert!(
            cache.view().strings.len() < 5_000,
            "{}",
            cache.view().strings.len()
        );
        assert_eq!(cache.autoplace(&st, &req), autoplace(&st, &req));
    }

    #[test]
    fn a_full_column_set_never_evicts_what_the_request_reads() {
        let st = crate::placement::tests::cluster(START);
        let mut v = PlacementView::build(&st, &PoolUsage::compute(&st));
        let others: Vec<String> = (0..MAX_COLUMNS).map(|i| format!("Aux/k{i}")).collect();
        let others: Vec<&str> = others.iter().map(String::as_str).collect();
        v.ensure_columns(&st, &others[..MAX_COLUMNS - 1]);
        v.ensure_columns(&st, &["Aux/zone"]);
        assert_eq!(v.columns.len(), MAX_COLUMNS);
        // Two more, one of them already there: room is made from the others only.
        v.ensure_columns(&st, &["Aux/zone", "Aux/rack"]);
        assert!(v.column("Aux/zone").is_some() && v.column("Aux/rack").is_some());
        // A request with more keys than the limit gets all of them.
        let many: Vec<String> = (0..MAX_COLUMNS + 3).map(|i| format!("Aux/m{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        v.ensure_columns(&st, &many);
        assert!(many.iter().all(|k| v.column(k).is_some()));
    }
}
