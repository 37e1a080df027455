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

use crate::model::{
    Capabilities, ConnectionStatus, DrbdRscDfnData, LayerKind, Node, NodeFlags, NodeObserved,
    NodeType, PoolCapacity, ProviderKind, Resource, ResourceDefinition, ResourceGroup, RscDfnFlags,
    RscFlags, SelectFilter, StoragePool, StoragePoolDefinition, Uuid, VlmDfnFlags, Volume,
    VolumeDefinition,
};
use crate::name::{NodeName, ResourceGroupName, ResourceName, StorPoolName, well_known};
use crate::placement::Placement;
use crate::props::Props;
use crate::size::SizeKib;
use crate::state::ClusterState;

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
                volume_groups: BTreeMap::new(),
                uuid: Uuid::default(),
            },
        );
        ClusterBuilder { state }
    }

    /// Adds an online satellite with DRBD/LUKS/STORAGE layers and the default diskless pool.
    pub fn node(&mut self, node: &str) -> &mut Self {
        let n: NodeName = name(node);
        let dl: StorPoolName = name(well_known::DFLT_DISKLESS_STOR_POOL);
        let mut pools = BTreeMap::new();
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
                net_interfaces: BTreeMap::new(),
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
                pools: BTreeMap::new(),
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
    let mut vds = BTreeMap::new();
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
            layer_stack: LayerKind::DEFAULT_STACK.to_vec(),
            drbd: DrbdRscDfnData {
                secret: String::new(),
                peer_slots: 7,
                al_stripes: 1,
                al_stripe_size_kib: 32,
                transport: "IP".into(),
            },
            volume_definitions: vds,
            resources: BTreeMap::new(),
            snapshots: BTreeMap::new(),
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
            tcp_ports: Vec::new(),
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
