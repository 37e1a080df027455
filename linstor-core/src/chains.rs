//! Property priority chains per consumer, exactly as LINSTOR documents them
//! (`shared/reference/linstor-reference.md` §1.5). The most specific object wins; the
//! controller comes last. Missing objects are skipped.
//!
//! The one home of chains: the command executor, the placer's capacity rules and the quorum
//! decisions build theirs here (re-exported as `cluster::Chains`). Methods ending in `_of`
//! take an object the caller already holds instead of looking it up by name.

use crate::model::{ResourceDefinition, StoragePool, connection};
use crate::name::{NodeName, ResourceGroupName, ResourceName, StorPoolName};
use crate::props::{Level, PriorityProps, Props};
use crate::state::ClusterState;

/// Builds priority chains over a state.
#[derive(Debug, Clone, Copy)]
pub struct Chains<'a> {
    s: &'a ClusterState,
}

impl<'a> Chains<'a> {
    /// Chains over `s`.
    pub fn new(s: &'a ClusterState) -> Self {
        Chains { s }
    }

    fn rd(&self, rd: &ResourceName) -> Option<&'a ResourceDefinition> {
        self.s.resource_definitions.get(rd)
    }

    fn rg_props(&self, rd: Option<&'a ResourceDefinition>) -> Option<&'a Props> {
        rd.and_then(|d| self.s.resource_groups.get(&d.resource_group))
            .map(|g| &g.props)
    }

    fn vg_props(&self, rd: Option<&'a ResourceDefinition>, vlm: u16) -> Option<&'a Props> {
        rd.and_then(|d| self.s.resource_groups.get(&d.resource_group))
            .and_then(|g| g.volume_groups.get(&vlm))
            .map(|v| &v.props)
    }

    fn node_props(&self, node: &NodeName) -> Option<&'a Props> {
        self.s.nodes.get(node).map(|n| &n.props)
    }

    fn rsc_props(&self, rd: Option<&'a ResourceDefinition>, node: &NodeName) -> Option<&'a Props> {
        rd.and_then(|d| d.resources.get(node)).map(|r| &r.props)
    }

    /// The pools a resource's volumes live in.
    fn rsc_pools(
        &self,
        rd: Option<&'a ResourceDefinition>,
        node: &NodeName,
    ) -> Vec<&'a StoragePool> {
        let Some(r) = rd.and_then(|d| d.resources.get(node)) else {
            return Vec::new();
        };
        let mut pools: Vec<&StoragePool> = r
            .volumes
            .values()
            .filter_map(|v| self.s.storage_pool(node, &v.storage_pool))
            .collect();
        pools.sort_by(|a, b| a.name.cmp(&b.name));
        pools.dedup_by(|a, b| a.name == b.name);
        pools
    }

    fn build(levels: impl IntoIterator<Item = (Level, Option<&'a Props>)>) -> PriorityProps<'a> {
        let mut p = PriorityProps::new();
        for (l, props) in levels {
            if let Some(props) = props {
                p.push(l, props);
            }
        }
        p
    }

    /// DRBD `options`/`net`/`disk`/`handlers` at resource level: R > RD > RG > Node > C.
    pub fn drbd_resource(&self, rd: &ResourceName, node: &NodeName) -> PriorityProps<'a> {
        let d = self.rd(rd);
        Self::build([
            (Level::Rsc, self.rsc_props(d, node)),
            (Level::RscDfn, d.map(|d| &d.props)),
            (Level::RscGrp, self.rg_props(d)),
            (Level::Node, self.node_props(node)),
            (Level::Controller, Some(&self.s.ctrl_props)),
        ])
    }

    /// DRBD per-connection `net` between the resources of `rd` on `a` and `b`: RscConn > RD >
    /// NodeConn > RG > C (a connection without properties is skipped).
    pub fn drbd_connection_between(
        &self,
        rd: &ResourceName,
        a: &NodeName,
        b: &NodeName,
    ) -> PriorityProps<'a> {
        let d = self.rd(rd);
        let rc = d.and_then(|d| connection(&d.resource_connections, a, b));
        let nc = connection(&self.s.node_connections, a, b);
        Self::build([
            (Level::RscConn, rc.map(|c| &c.props)),
            (Level::RscDfn, d.map(|d| &d.props)),
            (Level::NodeConn, nc.map(|c| &c.props)),
            (Level::RscGrp, self.rg_props(d)),
            (Level::Controller, Some(&self.s.ctrl_props)),
        ])
    }

    /// DRBD per-connection `net` without a particular pair of nodes: RD > RG > C (see
    /// [`Chains::drbd_connection_between`] for one connection).
    pub fn drbd_connection(&self, rd: &ResourceName) -> PriorityProps<'a> {
        let d = self.rd(rd);
        Self::build([
            (Level::RscDfn, d.map(|d| &d.props)),
            (Level::RscGrp, self.rg_props(d)),
            (Level::Controller, Some(&self.s.ctrl_props)),
        ])
    }

    /// DRBD per-volume `disk`: Volume > Resource > VD > VG > RD > RG > Node > C.
    pub fn drbd_volume(&self, rd: &ResourceName, node: &NodeName, vlm: u16) -> PriorityProps<'a> {
        let d = self.rd(rd);
        let r = d.and_then(|d| d.resources.get(node));
        Self::build([
            (
                Level::Vlm,
                r.and_then(|r| r.volumes.get(&vlm)).map(|v| &v.props),
            ),
            (Level::Rsc, r.map(|r| &r.props)),
            (
                Level::VlmDfn,
                d.and_then(|d| d.volume_definitions.get(&vlm))
                    .map(|v| &v.props),
            ),
            (Level::VlmGrp, self.vg_props(d, vlm)),
            (Level::RscDfn, d.map(|d| &d.props)),
            (Level::RscGrp, self.rg_props(d)),
            (Level::Node, self.node_props(node)),
            (Level::Controller, Some(&self.s.ctrl_props)),
        ])
    }

    /// Storage-driver options: Volume > Resource > StoragePool > Node > VD > RD > VG > RG > C.
    pub fn stor_driver(&self, rd: &ResourceName, node: &NodeName, vlm: u16) -> PriorityProps<'a> {
        let d = self.rd(rd);
        let r = d.and_then(|d| d.resources.get(node));
        let v = r.and_then(|r| r.volumes.get(&vlm));
        let sp = v.and_then(|v| self.s.storage_pool(node, &v.storage_pool));
        Self::build([
            (Level::Vlm, v.map(|v| &v.props)),
            (Level::Rsc, r.map(|r| &r.props)),
            (Level::StorPool, sp.map(|p| &p.props)),
            (Level::Node, self.node_props(node)),
            (
                Level::VlmDfn,
                d.and_then(|d| d.volume_definitions.get(&vlm))
                    .map(|v| &v.props),
            ),
            (Level::RscDfn, d.map(|d| &d.props)),
            (Level::VlmGrp, self.vg_props(d, vlm)),
            (Level::RscGrp, self.rg_props(d)),
            (Level::Controller, Some(&self.s.ctrl_props)),
        ])
    }

    /// Storage pool choice for a manual create: Resource (the request's props) > VD > RD > RG > Node.
    pub fn stor_pool_name(
        &self,
        rd: &ResourceName,
        node: &NodeName,
        request: &'a Props,
        vlm: Option<u16>,
    ) -> PriorityProps<'a> {
        let d = self.rd(rd);
        let vd = vlm.and_then(|n| d.and_then(|d| d.volume_definitions.get(&n)));
        Self::build([
            (Level::Rsc, Some(request)),
            (Level::VlmDfn, vd.map(|v| &v.props)),
            (Level::RscDfn, d.map(|d| &d.props)),
            (Level::RscGrp, self.rg_props(d)),
            (Level::Node, self.node_props(node)),
        ])
    }

    /// Over-subscription ratios: StoragePool > StorPoolDefinition > C.
    pub fn oversubscription(&self, node: &NodeName, pool: &StorPoolName) -> PriorityProps<'a> {
        self.oversubscription_in(self.s.storage_pool(node, pool).map(|p| &p.props), pool)
    }

    /// [`Chains::oversubscription`] of a pool the caller holds.
    pub fn pool_oversubscription(&self, pool: &'a StoragePool) -> PriorityProps<'a> {
        self.oversubscription_in(Some(&pool.props), &pool.name)
    }

    fn oversubscription_in(&self, sp: Option<&'a Props>, pool: &StorPoolName) -> PriorityProps<'a> {
        Self::build([
            (Level::StorPool, sp),
            (
                Level::StorPoolDfn,
                self.s.storage_pool_definitions.get(pool).map(|d| &d.props),
            ),
            (Level::Controller, Some(&self.s.ctrl_props)),
        ])
    }

    /// `Autoplacer/MinThinFreeSpace`: StoragePool > RD > RG > Node > C.
    pub fn min_thin_free_space(
        &self,
        node: &NodeName,
        pool: &StorPoolName,
        rd: &ResourceName,
    ) -> PriorityProps<'a> {
        self.min_thin_free_space_in(node, self.s.storage_pool(node, pool).map(|p| &p.props), rd)
    }

    /// [`Chains::min_thin_free_space`] of a pool the caller holds.
    pub fn pool_min_thin_free_space(
        &self,
        pool: &'a StoragePool,
        rd: &ResourceName,
    ) -> PriorityProps<'a> {
        self.min_thin_free_space_in(&pool.node, Some(&pool.props), rd)
    }

    fn min_thin_free_space_in(
        &self,
        node: &NodeName,
        sp: Option<&'a Props>,
        rd: &ResourceName,
    ) -> PriorityProps<'a> {
        let d = self.rd(rd);
        Self::build([
            (Level::StorPool, sp),
            (Level::RscDfn, d.map(|d| &d.props)),
            (Level::RscGrp, self.rg_props(d)),
            (Level::Node, self.node_props(node)),
            (Level::Controller, Some(&self.s.ctrl_props)),
        ])
    }

    /// Auto-quorum, auto-tiebreaker and driver mixing: RD > RG > C.
    pub fn rsc_dfn_policy(&self, rd: &ResourceName) -> PriorityProps<'a> {
        let d = self.rd(rd);
        Self::build([
            (Level::RscDfn, d.map(|d| &d.props)),
            (Level::RscGrp, self.rg_props(d)),
            (Level::Controller, Some(&self.s.ctrl_props)),
        ])
    }

    /// The middle of the `Autoplacer/MinThinFreeSpace` chain, RD > RG: the placer's cached view
    /// holds the pool, node and controller levels per row and puts this between them.
    pub fn min_thin_free_space_mid(&self, rd: Option<&'a ResourceDefinition>) -> PriorityProps<'a> {
        Self::build([
            (Level::RscDfn, rd.map(|d| &d.props)),
            (Level::RscGrp, self.rg_props(rd)),
        ])
    }

    /// [`Chains::rsc_dfn_policy`] of a definition the caller holds.
    pub fn rsc_dfn_policy_of(&self, d: &'a ResourceDefinition) -> PriorityProps<'a> {
        Self::build([
            (Level::RscDfn, Some(&d.props)),
            (Level::RscGrp, self.rg_props(Some(d))),
            (Level::Controller, Some(&self.s.ctrl_props)),
        ])
    }

    /// The same policies one level up, without the definition: RG > C.
    pub fn rsc_grp_policy(&self, rg: &ResourceGroupName) -> PriorityProps<'a> {
        Self::build([
            (
                Level::RscGrp,
                self.s.resource_groups.get(rg).map(|g| &g.props),
            ),
            (Level::Controller, Some(&self.s.ctrl_props)),
        ])
    }

    /// `DrbdOptions/SkipDisk`: Resource > StoragePool(s) > Node > RD > C.
    pub fn skip_disk(&self, rd: &ResourceName, node: &NodeName) -> PriorityProps<'a> {
        let d = self.rd(rd);
        let mut levels = vec![(Level::Rsc, self.rsc_props(d, node))];
        levels.extend(
            self.rsc_pools(d, node)
                .into_iter()
                .map(|p| (Level::StorPool, Some(&p.props))),
        );
        levels.push((Level::Node, self.node_props(node)));
        levels.push((Level::RscDfn, d.map(|d| &d.props)));
        levels.push((Level::Controller, Some(&self.s.ctrl_props)));
        Self::build(levels)
    }

    /// `PrefNic`: StoragePool(s) > Resource > RD > RG > Node > C.
    pub fn pref_nic(&self, rd: &ResourceName, node: &NodeName) -> PriorityProps<'a> {
        let d = self.rd(rd);
        let mut levels: Vec<_> = self
            .rsc_pools(d, node)
            .into_iter()
            .map(|p| (Level::StorPool, Some(&p.props)))
            .collect();
        levels.push((Level::Rsc, self.rsc_props(d, node)));
        levels.push((Level::RscDfn, d.map(|d| &d.props)));
        levels.push((Level::RscGrp, self.rg_props(d)));
        levels.push((Level::Node, self.node_props(node)));
        levels.push((Level::Controller, Some(&self.s.ctrl_props)));
        Self::build(levels)
    }

    /// Node-level policies (`AutoplaceTarget`, `AutoEvict*`, `TcpPortAutoRange`): Node > C.
    pub fn node_policy(&self, node: &NodeName) -> PriorityProps<'a> {
        Self::build([
            (Level::Node, self.node_props(node)),
            (Level::Controller, Some(&self.s.ctrl_props)),
        ])
    }

    /// Controller only.
    pub fn controller(&self) -> PriorityProps<'a> {
        PriorityProps::new().with(Level::Controller, &self.s.ctrl_props)
    }
}
