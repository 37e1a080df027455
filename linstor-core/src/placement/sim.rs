//! A pure placement simulator: cluster generators, workload replay and balance metrics.
//!
//! Nothing here reads a clock or a global RNG: randomness comes from [`Rng`] (xoshiro256**
//! seeded through splitmix64) and latency is measured by the caller, which supplies the placer
//! as a closure (the `placement_sim` example times each call). The same seed gives the same
//! cluster, the same workload and the same results.
//!
//! The simulator mutates a [`ClusterState`] directly (it does not go through the command
//! executor): a spawn creates the resource definition, its volume definition and the chosen
//! resources; a delete removes the definition; a resize grows the volume definition if every
//! replica's pool has room; a node failure marks the node offline and re-places each lost
//! replica elsewhere. Satellite reports lag: the observed free space of a pool is refreshed only
//! every `report_every` operations (the controller's space cache), which is what makes a
//! placer that trusts reported free space keep filling the same pool (linstor-server#89).

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use crate::model::{
    Capabilities, ConnectionStatus, DrbdRscDfnData, LayerKind, Node, NodeFlags, NodeObserved,
    NodeType, PoolCapacity, ProviderKind, Resource, ResourceDefinition, ResourceGroup, RscDfnFlags,
    RscFlags, SelectFilter, StoragePool, StoragePoolDefinition, Uuid, VlmDfnFlags, Volume,
    VolumeDefinition,
};
use crate::name::{NodeName, ResourceGroupName, ResourceName, StorPoolName, well_known};
use serde::Serialize;

use crate::placement::{Placement, PlacementCache, PlacementRequest, Refusal, Strategy};
use crate::props::Props;
use crate::size::SizeKib;
use crate::state::ClusterState;
use crate::vec_map::VecMap;

/// KiB in one GiB.
pub const GIB: u64 = 1024 * 1024;

/// A small, fast, seedable PRNG (xoshiro256**, seeded with splitmix64).
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng {
            s: [next(), next(), next(), next()],
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn index(&mut self, n: usize) -> usize {
        let n64 = u64::try_from(n).unwrap_or(u64::MAX).max(1);
        usize::try_from(self.next_u64() % n64).unwrap_or(0)
    }

    /// True with probability `p`.
    #[allow(clippy::cast_precision_loss, reason = "53 random bits as a fraction")]
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

fn name<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().expect("simulator names are valid")
}

/// Builds cluster states for tests, benchmarks and the simulator. Panics on invalid names.
#[derive(Debug, Clone)]
pub struct ClusterBuilder {
    state: ClusterState,
}

impl Default for ClusterBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ClusterBuilder {
    /// An empty cluster with the default resource group.
    pub fn new() -> ClusterBuilder {
        let mut state = ClusterState::default();
        let rg: ResourceGroupName = name(well_known::DFLT_RSC_GRP);
        state.resource_groups.insert(
            rg.clone(),
            ResourceGroup {
                name: rg,
                description: String::new(),
                props: Props::new(),
                select_filter: SelectFilter::default(),
                peer_slots: None,
                volume_groups: VecMap::new(),
                uuid: Uuid::default(),
            },
        );
        ClusterBuilder { state }
    }

    /// Adds an online satellite with DRBD/LUKS/STORAGE layers and the default diskless pool.
    pub fn node(&mut self, node: &str) -> &mut Self {
        let n: NodeName = name(node);
        let dl: StorPoolName = name(well_known::DFLT_DISKLESS_STOR_POOL);
        let mut pools = VecMap::new();
        pools.insert(
            dl.clone(),
            StoragePool {
                node: n.clone(),
                name: dl.clone(),
                kind: ProviderKind::DISKLESS,
                free_space_mgr_name: format!("{n};{dl}"),
                props: Props::new(),
                uuid: Uuid::default(),
            },
        );
        self.state.nodes.insert(
            n.clone(),
            Node {
                name: n.clone(),
                node_type: NodeType::Satellite,
                flags: NodeFlags::default(),
                net_interfaces: VecMap::new(),
                storage_pools: pools,
                props: Props::new(),
                uuid: Uuid::default(),
            },
        );
        self.state.observed.nodes.insert(
            n,
            NodeObserved {
                connection: ConnectionStatus::ONLINE,
                capabilities: Some(Capabilities {
                    storage_providers: ProviderKind::ALL.to_vec(),
                    resource_layers: vec![LayerKind::DRBD, LayerKind::LUKS, LayerKind::STORAGE],
                    unsupported_providers: BTreeMap::new(),
                    unsupported_layers: BTreeMap::new(),
                    drbd_version: Some((9, 2, 8)),
                }),
                pools: VecMap::new(),
                resources: BTreeMap::new(),
                snapshots: Default::default(),
            },
        );
        self
    }

    /// Sets a node property.
    pub fn node_prop(&mut self, node: &str, key: &str, value: &str) -> &mut Self {
        if let Some(n) = self.state.nodes.get_mut(&name::<NodeName>(node)) {
            n.props.set(key, value);
        }
        self
    }

    /// Sets node flags.
    pub fn node_flags(&mut self, node: &str, flags: NodeFlags) -> &mut Self {
        if let Some(n) = self.state.nodes.get_mut(&name::<NodeName>(node)) {
            n.flags = flags;
        }
        self
    }

    /// Marks a node offline.
    pub fn offline(&mut self, node: &str) -> &mut Self {
        if let Some(o) = self.state.observed.nodes.get_mut(&name::<NodeName>(node)) {
            o.connection = ConnectionStatus::OFFLINE;
        }
        self
    }

    /// Sets the reported layers of a node (`None`: no capabilities report yet).
    pub fn layers(&mut self, node: &str, layers: Option<Vec<LayerKind>>) -> &mut Self {
        if let Some(o) = self.state.observed.nodes.get_mut(&name::<NodeName>(node)) {
            match layers {
                None => o.capabilities = None,
                Some(l) => {
                    o.capabilities
                        .get_or_insert_with(Capabilities::default)
                        .resource_layers = l;
                }
            }
        }
        self
    }

    /// Sets what a node's satellite reported of one of its resources.
    pub fn observed_rsc(
        &mut self,
        rsc: &str,
        node: &str,
        state: crate::model::RscObserved,
    ) -> &mut Self {
        if let Some(o) = self.state.observed.nodes.get_mut(&name::<NodeName>(node)) {
            o.resources.insert(name(rsc), state);
        }
        self
    }

    /// Sets the reported DRBD version of a node.
    pub fn drbd_version(&mut self, node: &str, v: Option<(u16, u16, u16)>) -> &mut Self {
        if let Some(o) = self.state.observed.nodes.get_mut(&name::<NodeName>(node)) {
            o.capabilities
                .get_or_insert_with(Capabilities::default)
                .drbd_version = v;
        }
        self
    }

    /// Adds a pool with reported free and total capacity in KiB.
    pub fn pool_kib(
        &mut self,
        node: &str,
        pool: &str,
        kind: ProviderKind,
        free: u64,
        total: u64,
    ) -> &mut Self {
        self.pool_unreported(node, pool, kind);
        if let Some(o) = self.state.observed.nodes.get_mut(&name::<NodeName>(node)) {
            o.pools.insert(
                name(pool),
                PoolCapacity {
                    free: SizeKib(free),
                    total: SizeKib(total),
                },
            );
        }
        self
    }

    /// Adds a pool with reported free and total capacity in GiB.
    pub fn pool(
        &mut self,
        node: &str,
        pool: &str,
        kind: ProviderKind,
        free: u64,
        total: u64,
    ) -> &mut Self {
        self.pool_kib(node, pool, kind, free * GIB, total * GIB)
    }

    /// Adds a pool without a capacity report.
    pub fn pool_unreported(&mut self, node: &str, pool: &str, kind: ProviderKind) -> &mut Self {
        let p: StorPoolName = name(pool);
        if let Some(n) = self.state.nodes.get_mut(&name::<NodeName>(node)) {
            n.storage_pools.insert(
                p.clone(),
                StoragePool {
                    node: n.name.clone(),
                    name: p.clone(),
                    kind,
                    free_space_mgr_name: format!("{};{p}", n.name),
                    props: Props::new(),
                    uuid: Uuid::default(),
                },
            );
        }
        self.state
            .storage_pool_definitions
            .entry(p.clone())
            .or_insert_with(|| StoragePoolDefinition {
                name: p,
                props: Props::new(),
                uuid: Uuid::default(),
            });
        self
    }

    /// Sets a pool property.
    pub fn pool_prop(&mut self, node: &str, pool: &str, key: &str, value: &str) -> &mut Self {
        if let Some(p) = self
            .state
            .nodes
            .get_mut(&name::<NodeName>(node))
            .and_then(|n| n.storage_pools.get_mut(&name::<StorPoolName>(pool)))
        {
            p.props.set(key, value);
        }
        self
    }

    /// Sets a pool's shared-space name.
    pub fn shared_space(&mut self, node: &str, pool: &str, shared: &str) -> &mut Self {
        if let Some(p) = self
            .state
            .nodes
            .get_mut(&name::<NodeName>(node))
            .and_then(|n| n.storage_pools.get_mut(&name::<StorPoolName>(pool)))
        {
            p.free_space_mgr_name = shared.to_string();
        }
        self
    }

    /// Sets a storage pool definition property.
    pub fn spd_prop(&mut self, pool: &str, key: &str, value: &str) -> &mut Self {
        let p: StorPoolName = name(pool);
        self.state
            .storage_pool_definitions
            .entry(p.clone())
            .or_insert_with(|| StoragePoolDefinition {
                name: p,
                props: Props::new(),
                uuid: Uuid::default(),
            })
            .props
            .set(key, value);
        self
    }

    /// Sets a controller property.
    pub fn ctrl_prop(&mut self, key: &str, value: &str) -> &mut Self {
        self.state.ctrl_props.set(key, value);
        self
    }

    /// Adds a resource definition with one volume of `size` KiB in the default group.
    pub fn rd(&mut self, rsc: &str, size: u64) -> &mut Self {
        add_rd(&mut self.state, &name(rsc), SizeKib(size));
        self
    }

    /// Sets a property on a resource definition.
    pub fn rd_prop(&mut self, rsc: &str, key: &str, value: &str) -> &mut Self {
        if let Some(rd) = self
            .state
            .resource_definitions
            .get_mut(&name::<ResourceName>(rsc))
        {
            rd.props.set(key, value);
        }
        self
    }

    /// Adds a diskful replica of `rsc` on `node` in `pool`.
    pub fn replica(&mut self, rsc: &str, node: &str, pool: &str) -> &mut Self {
        add_resource(
            &mut self.state,
            &name(rsc),
            &name(node),
            &name(pool),
            RscFlags::default(),
        );
        self
    }

    /// Adds a resource with `flags` (diskless flags put it in the default diskless pool).
    pub fn resource(&mut self, rsc: &str, node: &str, flags: RscFlags) -> &mut Self {
        add_resource(
            &mut self.state,
            &name(rsc),
            &name(node),
            &name(well_known::DFLT_DISKLESS_STOR_POOL),
            flags,
        );
        self
    }

    /// The state built so far.
    pub fn state(&self) -> &ClusterState {
        &self.state
    }

    /// The finished state.
    pub fn build(&self) -> ClusterState {
        self.state.clone()
    }
}

/// Adds a resource definition with one volume definition of `size` (no-op if it exists).
pub fn add_rd(state: &mut ClusterState, rsc: &ResourceName, size: SizeKib) {
    if state.resource_definitions.contains_key(rsc) {
        return;
    }
    let mut vds = VecMap::new();
    vds.insert(
        0,
        VolumeDefinition {
            number: 0,
            size,
            minor: 1000,
            props: Props::new(),
            flags: VlmDfnFlags::default(),
            uuid: Uuid::default(),
        },
    );
    state.resource_definitions.insert(
        rsc.clone(),
        ResourceDefinition {
            name: rsc.clone(),
            external_name: None,
            resource_group: name(well_known::DFLT_RSC_GRP),
            props: Props::new(),
            flags: RscDfnFlags::default(),
            layer_stack: LayerKind::DEFAULT_STACK.as_slice().into(),
            drbd: DrbdRscDfnData {
                secret: Default::default(),
                peer_slots: 7,
                al_stripes: 1,
                al_stripe_size_kib: 32,
                transport: "IP".into(),
            },
            volume_definitions: vds,
            resources: VecMap::new(),
            snapshots: VecMap::new(),
            resource_connections: BTreeMap::new(),
            uuid: Uuid::default(),
        },
    );
}

/// Adds a resource of `rsc` on `node`, with every volume in `pool` (replacing one there).
pub fn add_resource(
    state: &mut ClusterState,
    rsc: &ResourceName,
    node: &NodeName,
    pool: &StorPoolName,
    flags: RscFlags,
) {
    let Some(rd) = state.resource_definitions.get_mut(rsc) else {
        return;
    };
    let used: Vec<u8> = rd.resources.values().map(|r| r.node_id).collect();
    let node_id = (0u8..32).find(|i| !used.contains(i)).unwrap_or(31);
    let volumes = rd
        .volume_definitions
        .keys()
        .map(|&nr| {
            (
                nr,
                Volume {
                    number: nr,
                    storage_pool: pool.clone(),
                    props: Props::new(),
                    uuid: Uuid::default(),
                },
            )
        })
        .collect();
    rd.resources.insert(
        node.clone(),
        Resource {
            node: node.clone(),
            flags,
            node_id,
            tcp_ports: crate::model::TcpPorts::new(),
            drbd_client: false,
            volumes,
            props: Props::new(),
            create_timestamp: 0,
            uuid: Uuid::default(),
        },
    );
}

/// Creates the resources of a placement (diskless ones as DRBD diskless).
pub fn apply_placement(state: &mut ClusterState, rsc: &ResourceName, p: &Placement) {
    for (n, pool) in &p.diskful {
        add_resource(state, rsc, n, pool, RscFlags::default());
    }
    for (n, pool) in &p.diskless {
        add_resource(state, rsc, n, pool, RscFlags::DRBD_DISKLESS);
    }
}

/// How pool sizes are drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sizes {
    /// Every pool has `base` GiB.
    Identical,
    /// Pool sizes uniform in `base × [1, max_factor]`.
    Spread {
        /// Largest multiple of `base`.
        max_factor: u64,
    },
}

/// A generated cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterSpec {
    /// Nodes.
    pub nodes: usize,
    /// Diskful pools per node (`pool1`, `pool2`, …).
    pub pools_per_node: usize,
    /// Base pool size in GiB.
    pub base_gib: u64,
    /// Size distribution.
    pub sizes: Sizes,
    /// Zones (`Aux/zone`), 0 for none.
    pub zones: usize,
    /// Racks per zone (`Aux/rack`), 0 for none.
    pub racks_per_zone: usize,
    /// Thin pools (LVM_THIN) instead of thick (LVM).
    pub thin: bool,
}

/// Generates a cluster: nodes `node0001…`, online, with `Aux/zone` / `Aux/rack` labels
/// assigned round-robin, and empty pools.
pub fn generate(spec: &ClusterSpec, rng: &mut Rng) -> ClusterState {
    let mut b = ClusterBuilder::new();
    let kind = if spec.thin {
        ProviderKind::LVM_THIN
    } else {
        ProviderKind::LVM
    };
    for i in 0..spec.nodes {
        let n = format!("node{i:05}");
        b.node(&n);
        if spec.zones > 0 {
            let z = i % spec.zones;
            b.node_prop(&n, "Aux/zone", &format!("z{z}"));
            if spec.racks_per_zone > 0 {
                let r = (i / spec.zones) % spec.racks_per_zone;
                b.node_prop(&n, "Aux/rack", &format!("z{z}r{r}"));
            }
        }
        for p in 0..spec.pools_per_node {
            let gib = match spec.sizes {
                Sizes::Identical => spec.base_gib,
                Sizes::Spread { max_factor } => {
                    rng.range(spec.base_gib, spec.base_gib * max_factor.max(1))
                }
            };
            b.pool(&n, &format!("pool{}", p + 1), kind, gib, gib);
        }
    }
    b.build()
}

/// A workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// Operations to run (at most).
    pub ops: usize,
    /// Stop at the first refused spawn (capacity scenarios).
    pub stop_at_first_refusal: bool,
    /// Replicas per resource.
    pub replicas: u32,
    /// Resource sizes, uniform in this range (GiB).
    pub size_gib: (u64, u64),
    /// Percent of operations that delete a random resource.
    pub delete_pct: u64,
    /// Percent of operations that resize a random resource (grow by up to 50 %).
    pub resize_pct: u64,
    /// Fail a random node every this many operations (its replicas are re-placed).
    pub fail_every: Option<usize>,
    /// Spread replicas over `Aux/zone` (`replicas_on_different`).
    pub zone_spread: bool,
    /// Satellites report free space every this many operations.
    pub report_every: usize,
}

/// What one run produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SimReport {
    /// Placement calls.
    pub placements: usize,
    /// Refused placements (spawns and re-placements).
    pub refusals: usize,
    /// Spawns placed.
    pub spawned: usize,
    /// Resources deleted.
    pub deleted: usize,
    /// Resizes applied / refused for lack of space.
    pub resized: usize,
    /// Resizes refused.
    pub resize_refused: usize,
    /// Nodes failed.
    pub failed_nodes: usize,
    /// Replicas re-placed after failures.
    pub replaced: usize,
    /// Data (one copy) placed before the first refusal, KiB.
    pub placed_before_refusal_kib: u64,
    /// Upper bound of the data (one copy) the cluster can hold with this spread, KiB.
    pub bound_kib: u64,
    /// `placed_before_refusal_kib / bound_kib`.
    pub placed_fraction_of_bound: f64,
    /// max / mean of the used fraction over the pools of online nodes.
    pub max_over_mean: f64,
    /// min / mean of the used fraction over the pools of online nodes.
    pub min_over_mean: f64,
}

#[allow(clippy::cast_precision_loss, reason = "ratios")]
fn frac(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Upper bound of the data (one copy, KiB) placeable with `r` replicas on distinct units of the
/// given capacities: the largest `T` with `Σ min(c_i, T) ≥ r·T`.
pub fn capacity_bound(caps: &[u64], r: u64) -> u64 {
    if r == 0 {
        return 0;
    }
    let total: u64 = caps.iter().sum();
    let (mut lo, mut hi) = (0u64, total / r);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        let s: u64 = caps.iter().map(|c| (*c).min(mid)).sum();
        if s >= r.saturating_mul(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// A placer: the simulator hands it the state, the maintained placement cache (pool usage and
/// view, every change marked) and the request.
pub type Placer<'a> = dyn FnMut(&ClusterState, &mut PlacementCache, &PlacementRequest) -> Result<Placement, Refusal>
    + 'a;

/// Replays `w` on `state` with `strategy`; `place` performs (and may time) each placement.
pub fn run(
    state: ClusterState,
    w: &Workload,
    strategy: Strategy,
    seed: u64,
    place: &mut Placer<'_>,
) -> SimReport {
    let filter = |count: Option<u32>, add: Option<u32>| SelectFilter {
        place_count: count,
        additional_place_count: add,
        replicas_on_different: w.zone_spread.then(|| vec!["Aux/zone".to_string()]),
        ..Default::default()
    };
    let mut sim = Replay::new(state, w, seed);
    for op in 0..w.ops {
        if sim.step(op, w, strategy, place, &filter).is_break() {
            break;
        }
    }
    sim.finish()
}

/// Upper bound of the data (one copy, KiB) `state` can hold with `w`'s replicas on distinct
/// nodes (on distinct zones with `zone_spread`): see [`capacity_bound`].
fn replica_bound(state: &ClusterState, w: &Workload) -> u64 {
    // Bound: per node (or per zone) capacity.
    let mut unit_caps: BTreeMap<String, u64> = BTreeMap::new();
    for n in state.nodes.values() {
        let unit = if w.zone_spread {
            n.props.get("Aux/zone").unwrap_or("-").to_string()
        } else {
            n.name.to_string()
        };
        let cap: u64 = state
            .observed
            .nodes
            .get(&n.name)
            .map_or(0, |o| o.pools.values().map(|c| c.total.0).sum());
        *unit_caps.entry(unit).or_default() += cap;
    }
    let caps: Vec<u64> = unit_caps.values().copied().collect();
    capacity_bound(&caps, u64::from(w.replicas))
}

/// A replay in progress: the state and its placement cache, the random source, the live
/// resources and the report so far.
struct Replay {
    state: ClusterState,
    usage: PlacementCache,
    rng: Rng,
    rep: SimReport,
    /// Spawned resources not deleted since.
    live: Vec<ResourceName>,
    /// Number of the next spawned resource.
    next: usize,
    /// A spawn was refused already.
    refused_once: bool,
}

impl Replay {
    /// A replay of `state` (its capacity bound for `w` in the report) with a random source
    /// seeded by `seed`.
    fn new(state: ClusterState, w: &Workload, seed: u64) -> Replay {
        let usage = PlacementCache::new(&state);
        let rep = SimReport {
            bound_kib: replica_bound(&state, w),
            ..SimReport::default()
        };
        Replay {
            state,
            usage,
            rng: Rng::new(seed),
            rep,
            live: Vec::new(),
            next: 0,
            refused_once: false,
        }
    }

    /// Operation `op`: satellites report if due, then a node failure if due, else a random
    /// delete, resize or spawn. Breaks when the run stops.
    fn step(
        &mut self,
        op: usize,
        w: &Workload,
        strategy: Strategy,
        place: &mut Placer<'_>,
        filter: &dyn Fn(Option<u32>, Option<u32>) -> SelectFilter,
    ) -> ControlFlow<()> {
        if w.report_every > 0 && op % w.report_every == 0 {
            report(&mut self.state, &mut self.usage);
        }
        if let Some(every) = w.fail_every
            && op > 0
            && op % every == 0
        {
            fail_node(
                &mut self.state,
                &mut self.usage,
                &mut self.rng,
                &mut self.rep,
                w,
                strategy,
                place,
                filter,
            );
            return ControlFlow::Continue(());
        }
        let roll = self.rng.range(0, 99);
        if roll < w.delete_pct && !self.live.is_empty() {
            self.delete_random();
            return ControlFlow::Continue(());
        }
        if roll < w.delete_pct + w.resize_pct && !self.live.is_empty() {
            let r = &self.live[self.rng.index(self.live.len())];
            resize(
                &mut self.state,
                &mut self.usage,
                &mut self.rng,
                &mut self.rep,
                r,
            );
            return ControlFlow::Continue(());
        }
        self.spawn(w, strategy, place, filter)
    }

    /// Deletes a random live resource and frees its space.
    fn delete_random(&mut self) {
        let i = self.rng.index(self.live.len());
        let r = self.live.swap_remove(i);
        if let Some(rd) = self.state.resource_definitions.remove(&r) {
            let size = rd.total_size();
            for res in rd.resources.values() {
                for v in res.volumes.values() {
                    self.usage.remove(
                        &res.node,
                        &v.storage_pool,
                        if res.is_diskless() {
                            SizeKib::ZERO
                        } else {
                            size
                        },
                    );
                }
            }
        }
        self.rep.deleted += 1;
    }

    /// Spawns a resource of random size and places it (its definition is dropped if refused).
    /// Breaks at the first refusal if the workload stops there.
    fn spawn(
        &mut self,
        w: &Workload,
        strategy: Strategy,
        place: &mut Placer<'_>,
        filter: &dyn Fn(Option<u32>, Option<u32>) -> SelectFilter,
    ) -> ControlFlow<()> {
        let size = SizeKib(self.rng.range(w.size_gib.0, w.size_gib.1) * GIB);
        let rsc: ResourceName = name(&format!("sim{:07}", self.next));
        self.next += 1;
        add_rd(&mut self.state, &rsc, size);
        let mut req = PlacementRequest::new(rsc.clone(), filter(Some(w.replicas), None), size);
        req.strategy = Some(strategy);
        self.rep.placements += 1;
        match place(&self.state, &mut self.usage, &req) {
            Ok(p) => {
                for (n, pool) in &p.diskful {
                    self.usage.add(n, pool, size);
                }
                apply_placement(&mut self.state, &rsc, &p);
                self.live.push(rsc);
                self.rep.spawned += 1;
                if !self.refused_once {
                    self.rep.placed_before_refusal_kib += size.0;
                }
            }
            Err(_) => {
                self.state.resource_definitions.remove(&rsc);
                self.rep.refusals += 1;
                self.refused_once = true;
                if w.stop_at_first_refusal {
                    return ControlFlow::Break(());
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// The final report: the placed fraction of the bound, and the spread of the used
    /// fraction (max / mean, min / mean) over the diskful pools of online nodes.
    fn finish(self) -> SimReport {
        let Replay {
            state,
            usage,
            mut rep,
            ..
        } = self;
        rep.placed_fraction_of_bound = frac(rep.placed_before_refusal_kib, rep.bound_kib);
        let fills: Vec<f64> = state
            .nodes
            .values()
            .filter(|n| crate::placement::filter::is_online(&state, &n.name))
            .flat_map(|n| {
                n.storage_pools
                    .values()
                    .filter(|p| p.kind.is_diskful())
                    .map(|p| {
                        let total = state
                            .observed
                            .nodes
                            .get(&n.name)
                            .and_then(|o| o.pools.get(&p.name))
                            .map_or(0, |c| c.total.0);
                        frac(usage.usage().get(&n.name, &p.name).reserved, total)
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        #[allow(clippy::cast_precision_loss, reason = "pool count")]
        let mean = fills.iter().sum::<f64>() / fills.len().max(1) as f64;
        if mean > 0.0 {
            rep.max_over_mean = fills.iter().copied().fold(f64::MIN, f64::max) / mean;
            rep.min_over_mean = fills.iter().copied().fold(f64::MAX, f64::min) / mean;
        }
        rep
    }
}

/// Satellites report: observed free = total − reserved (thin pools: half of it is allocated).
/// Nodes whose numbers changed are marked in the cache.
fn report(state: &mut ClusterState, usage: &mut PlacementCache) {
    let thin: BTreeMap<(NodeName, StorPoolName), bool> = state
        .storage_pools()
        .map(|p| ((p.node.clone(), p.name.clone()), p.kind.caps().thin))
        .collect();
    for (n, o) in &mut state.observed.nodes {
        for (p, c) in &mut o.pools {
            let mut used = usage.usage().get(n, p).reserved;
            if thin.get(&(n.clone(), p.clone())).copied().unwrap_or(false) {
                used /= 2;
            }
            let free = SizeKib(c.total.0.saturating_sub(used));
            if c.free != free {
                c.free = free;
                usage.node_changed(n);
            }
        }
    }
}

fn resize(
    state: &mut ClusterState,
    usage: &mut PlacementCache,
    rng: &mut Rng,
    rep: &mut SimReport,
    r: &ResourceName,
) {
    let Some(rd) = state.resource_definitions.get(r) else {
        return;
    };
    let old = rd.total_size().0;
    let delta = rng.range(1, (old / 2).max(1));
    let pools: Vec<(NodeName, StorPoolName)> = rd
        .resources
        .values()
        .filter(|x| !x.is_diskless())
        .flat_map(|x| {
            x.volumes
                .values()
                .map(|v| (x.node.clone(), v.storage_pool.clone()))
        })
        .collect();
    let fits = pools.iter().all(|(n, p)| {
        state.storage_pool(n, p).is_some_and(|sp| {
            crate::placement::capacity::estimate(state, sp, usage.usage().get(n, p)).free >= delta
        })
    });
    if !fits {
        rep.resize_refused += 1;
        return;
    }
    if let Some(vd) = state
        .resource_definitions
        .get_mut(r)
        .and_then(|rd| rd.volume_definitions.get_mut(&0))
    {
        vd.size = SizeKib(vd.size.0 + delta);
    }
    for (n, p) in &pools {
        usage.grow(n, p, SizeKib(delta));
    }
    rep.resized += 1;
}

#[allow(clippy::too_many_arguments, reason = "the simulator's moving parts")]
fn fail_node(
    state: &mut ClusterState,
    usage: &mut PlacementCache,
    rng: &mut Rng,
    rep: &mut SimReport,
    w: &Workload,
    strategy: Strategy,
    place: &mut Placer<'_>,
    filter: &dyn Fn(Option<u32>, Option<u32>) -> SelectFilter,
) {
    let online: Vec<NodeName> = state
        .nodes
        .keys()
        .filter(|n| crate::placement::filter::is_online(state, n))
        .cloned()
        .collect();
    if online.len() <= w.replicas as usize {
        return;
    }
    let victim = online[rng.index(online.len())].clone();
    if let Some(o) = state.observed.nodes.get_mut(&victim) {
        o.connection = ConnectionStatus::OFFLINE;
    }
    usage.node_changed(&victim);
    rep.failed_nodes += 1;
    let affected: Vec<ResourceName> = state
        .resource_definitions
        .values()
        .filter(|rd| rd.resources.contains_key(&victim))
        .map(|rd| rd.name.clone())
        .collect();
    for r in affected {
        let Some(rd) = state.resource_definitions.get_mut(&r) else {
            continue;
        };
        let size = rd.total_size();
        if let Some(res) = rd.resources.remove(&victim) {
            for v in res.volumes.values() {
                usage.remove(
                    &victim,
                    &v.storage_pool,
                    if res.is_diskless() {
                        SizeKib::ZERO
                    } else {
                        size
                    },
                );
            }
        }
        let mut req = PlacementRequest::new(r.clone(), filter(Some(w.replicas), None), size);
        req.strategy = Some(strategy);
        rep.placements += 1;
        match place(state, usage, &req) {
            Ok(p) => {
                for (n, pool) in &p.diskful {
                    usage.add(n, pool, size);
                }
                rep.replaced += p.diskful.len();
                apply_placement(state, &r, &p);
            }
            Err(_) => rep.refusals += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placement::autoplace_with_usage;

    #[test]
    fn rng_is_deterministic() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(Rng::new(8).next_u64(), xs[0]);
        assert!((0..1000).all(|_| a.range(3, 5) >= 3));
    }

    #[test]
    fn bound_table() {
        assert_eq!(capacity_bound(&[1, 1, 1, 4], 3), 1); // integer T: 1.5 rounds down
        assert_eq!(capacity_bound(&[10, 10, 10, 40], 3), 15);
        assert_eq!(capacity_bound(&[10, 10, 10], 3), 10);
        assert_eq!(capacity_bound(&[100, 1, 1], 3), 1);
        assert_eq!(capacity_bound(&[10, 10], 3), 0);
    }

    #[test]
    fn small_run_is_deterministic_and_sane() {
        let spec = ClusterSpec {
            nodes: 12,
            pools_per_node: 1,
            base_gib: 500,
            sizes: Sizes::Spread { max_factor: 4 },
            zones: 3,
            racks_per_zone: 2,
            thin: false,
        };
        let w = Workload {
            ops: 300,
            stop_at_first_refusal: false,
            replicas: 3,
            size_gib: (1, 50),
            delete_pct: 20,
            resize_pct: 10,
            fail_every: Some(100),
            zone_spread: true,
            report_every: 10,
        };
        let go = |strategy| {
            let st = generate(&spec, &mut Rng::new(1));
            // The cached placer must answer exactly as the pure one, with every row current,
            // through deletes, resizes, capacity reports and node failures.
            run(st, &w, strategy, 2, &mut |s, c, r| {
                let cached = c.autoplace(s, r);
                c.check(s).expect("every change was marked");
                assert_eq!(cached, autoplace_with_usage(s, c.usage(), r));
                cached
            })
        };
        let a = go(Strategy::Balanced);
        assert_eq!(a, go(Strategy::Balanced));
        assert!(
            a.spawned > 100 && a.failed_nodes == 2 && a.replaced > 0,
            "{a:?}"
        );
        assert!(a.max_over_mean >= 1.0 && a.min_over_mean <= 1.0);
        let l = go(Strategy::Linstor);
        assert!(l.spawned > 100, "{l:?}");
    }
}
