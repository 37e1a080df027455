//! Capacity: reserved space per pool, LINSTOR's over-provisioning estimate and
//! `Autoplacer/MinThinFreeSpace`.
//!
//! # Reserved space
//!
//! LINSTOR's estimate subtracts "space promised but not yet allocated" plus the usable size of
//! every volume in the pool plus the snapshot volumes' sizes. Our model has no per-volume
//! allocated sizes and no separate pending counter, so **reserved space** is defined as
//!
//! > Σ VD size of every volume placed in the pool whose resource and volume definition are not
//! > being deleted, plus Σ snapshot volume size of every snapshot (definition not being deleted)
//! > stored in the pool.
//!
//! This covers both the allocated and the promised-but-not-yet-reported space: a volume counts
//! from the moment the controller decides to place it, not from the satellite's next report.
//! It over-counts thin snapshots (which allocate lazily); that errs on the safe side.
//!
//! # Estimated free space (LINSTOR's formula)
//!
//! ```text
//! max   = MaxOversubscriptionRatio               (SP > SPD > C; default 20 thin, 1 thick)
//! fr    = MaxFreeCapacityOversubscriptionRatio   (SP > SPD > C; default max)
//! tr    = MaxTotalCapacityOversubscriptionRatio  (SP > SPD > C; default max)
//! free  = min(reported_free × fr, reported_total × tr − reserved)       (saturating, ≥ 0)
//! ```
//!
//! Thick pools always use ratio 1 (`min(free, total − reserved)`): a thick pool cannot promise
//! more than it has. Unknown capacity (no report, or the node is offline) counts as 0.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::chains::Chains;
use crate::keys;
use crate::model::{RscFlags, SnapshotDfnFlags, StoragePool, VlmDfnFlags};
use crate::name::{NodeName, ResourceName, StorPoolName};
use crate::props::{Level, PriorityProps};
use crate::size::SizeKib;
use crate::state::ClusterState;

/// FNV-1a: a fast hasher for the engine's small keys (names hash byte by byte).
#[derive(Debug, Clone, Copy)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        // Fold the high bits down and mix: hash tables use both ends of the hash.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u8(&mut self, b: u8) {
        self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
}

/// A `HashMap` with [`Fnv`].
pub type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// Usage of one pool as the placement engine sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Reserved space (see the module docs).
    pub reserved: u64,
    /// Number of distinct resources with a volume in the pool.
    pub resources: u32,
}

/// Reserved space and resource count of every pool, computed in one pass over the state.
///
/// Computing it costs O(volumes); callers that place many resources against a slowly changing
/// state may keep one and [`add`](PoolUsage::add) to it. The engine looks each node up once and
/// scans its (few) pools.
#[derive(Debug, Clone, Default)]
pub struct PoolUsage {
    map: FnvMap<NodeName, Vec<(StorPoolName, Usage)>>,
}

impl PoolUsage {
    /// Computes the usage of every pool in `state`.
    pub fn compute(state: &ClusterState) -> PoolUsage {
        let mut out = PoolUsage::default();
        for rd in state.resource_definitions.values() {
            out.apply_rd(rd, true);
        }
        out
    }

    /// Adds (`add = true`) or subtracts one resource definition's contribution: the reserved
    /// space and resource counts of its live resources and snapshots. `Cluster` keeps a
    /// `PoolUsage` current by subtracting a definition before a change and adding it after.
    pub fn apply_rd(&mut self, rd: &crate::model::ResourceDefinition, add: bool) {
        let op = |a: u64, b: u64| {
            if add {
                a.saturating_add(b)
            } else {
                a.saturating_sub(b)
            }
        };
        for r in rd.resources.values() {
            if r.flags.contains(RscFlags::DELETE) {
                continue;
            }
            let mut seen: Vec<&StorPoolName> = Vec::new();
            // One lookup per resource: the node's entries.
            if !self.map.contains_key(&r.node) {
                self.map.insert(r.node.clone(), Vec::new());
            }
            let entries = self.map.get_mut(&r.node).expect("inserted above");
            for v in r.volumes.values() {
                let size = match rd.volume_definitions.get(&v.number) {
                    Some(vd) if !vd.flags.contains(VlmDfnFlags::DELETE) => vd.size.0,
                    _ => continue,
                };
                let u = Self::slot_in(entries, &v.storage_pool);
                if !r.is_diskless() {
                    u.reserved = op(u.reserved, size);
                }
                if !seen.contains(&&v.storage_pool) {
                    seen.push(&v.storage_pool);
                    u.resources = if add {
                        u.resources + 1
                    } else {
                        u.resources.saturating_sub(1)
                    };
                }
            }
        }
        for sd in rd.snapshots.values() {
            if sd.flags.contains(SnapshotDfnFlags::DELETE) {
                continue;
            }
            for s in sd.snapshots.values() {
                for (nr, pool) in &s.volume_pools {
                    if let Some(size) = sd.volume_sizes.get(nr) {
                        let u = self.slot(&s.node, pool);
                        u.reserved = op(u.reserved, size.0);
                    }
                }
            }
        }
    }

    /// True if both give the same usage for every pool (entries at zero count as absent).
    pub fn same_as(&self, other: &PoolUsage) -> bool {
        let covers = |a: &PoolUsage, b: &PoolUsage| {
            a.map
                .iter()
                .all(|(n, v)| v.iter().all(|(p, u)| b.get(n, p) == *u))
        };
        covers(self, other) && covers(other, self)
    }

    fn slot(&mut self, node: &NodeName, pool: &StorPoolName) -> &mut Usage {
        if !self.map.contains_key(node) {
            self.map.insert(node.clone(), Vec::new());
        }
        let v = self.map.get_mut(node).expect("inserted above");
        Self::slot_in(v, pool)
    }

    fn slot_in<'v>(v: &'v mut Vec<(StorPoolName, Usage)>, pool: &StorPoolName) -> &'v mut Usage {
        let i = match v.iter().position(|(p, _)| p == pool) {
            Some(i) => i,
            None => {
                v.push((pool.clone(), Usage::default()));
                v.len() - 1
            }
        };
        &mut v[i].1
    }

    /// The usage of one pool (zero if nothing is placed there).
    pub fn get(&self, node: &NodeName, pool: &StorPoolName) -> Usage {
        self.map
            .get(node)
            .map_or_else(Usage::default, |v| Self::in_node(v, pool))
    }

    /// The usage of `pool` among one node's entries.
    pub(crate) fn in_node(entries: &[(StorPoolName, Usage)], pool: &StorPoolName) -> Usage {
        entries
            .iter()
            .find(|(p, _)| p == pool)
            .map_or_else(Usage::default, |(_, u)| *u)
    }

    /// The entries of one node.
    pub(crate) fn node(&self, node: &NodeName) -> &[(StorPoolName, Usage)] {
        self.map.get(node).map_or(&[], Vec::as_slice)
    }

    /// Records one more resource of `size` in a pool (diskless pools: pass 0).
    pub fn add(&mut self, node: &NodeName, pool: &StorPoolName, size: SizeKib) {
        let u = self.slot(node, pool);
        u.reserved = u.reserved.saturating_add(size.0);
        u.resources += 1;
    }

    /// Grows the reserved space of a pool by `delta` (a resize).
    pub fn grow(&mut self, node: &NodeName, pool: &StorPoolName, delta: SizeKib) {
        let u = self.slot(node, pool);
        u.reserved = u.reserved.saturating_add(delta.0);
    }

    /// Forgets one resource of `size` in a pool.
    pub fn remove(&mut self, node: &NodeName, pool: &StorPoolName, size: SizeKib) {
        if let Some(u) = self
            .map
            .get_mut(node)
            .and_then(|v| v.iter_mut().find(|(p, _)| p == pool))
        {
            u.1.reserved = u.1.reserved.saturating_sub(size.0);
            u.1.resources = u.1.resources.saturating_sub(1);
        }
    }
}

/// Where a ratio came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    /// The value.
    pub value: f64,
    /// The level that set it, `None` for the provider default.
    pub level: Option<Level>,
}

/// The three over-subscription ratios of a pool.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratios {
    /// `MaxOversubscriptionRatio`.
    pub max: Ratio,
    /// `MaxFreeCapacityOversubscriptionRatio`.
    pub free: Ratio,
    /// `MaxTotalCapacityOversubscriptionRatio`.
    pub total: Ratio,
}

/// Which term of the estimate limits a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// No capacity report.
    Unknown,
    /// `free × MaxFreeCapacityOversubscriptionRatio`.
    Free,
    /// `total × MaxTotalCapacityOversubscriptionRatio − reserved`.
    Total,
}

/// The capacity view of one pool.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolEstimate {
    /// Reported free space, `None` if unknown.
    pub reported_free: Option<u64>,
    /// Reported total capacity, `None` if unknown.
    pub reported_total: Option<u64>,
    /// Reserved space.
    pub reserved: u64,
    /// Estimated free space for new volumes (0 if unknown).
    pub free: u64,
    /// Which term gave `free`.
    pub limit: Limit,
    /// The ratios used (thick pools: all 1).
    pub ratios: Ratios,
    /// True for thin pools.
    pub thin: bool,
}

fn parse_ratio(chain: &PriorityProps<'_>, key: &str) -> Option<Ratio> {
    let (v, level) = chain.get_with_level(key)?;
    let value: f64 = v.trim().parse().ok()?;
    (value.is_finite() && value >= 0.0).then_some(Ratio {
        value,
        level: Some(level),
    })
}

/// The pool's ratios (SP > SPD > C), provider defaults where unset.
pub fn ratios(state: &ClusterState, pool: &StoragePool) -> Ratios {
    let caps = pool.kind.caps();
    if !caps.thin || !caps.backing_device {
        let one = Ratio {
            value: if caps.backing_device {
                1.0
            } else {
                f64::INFINITY
            },
            level: None,
        };
        return Ratios {
            max: one,
            free: one,
            total: one,
        };
    }
    let chain = Chains::new(state).pool_oversubscription(pool);
    let max = parse_ratio(&chain, keys::MAX_OVERSUBSCRIPTION_RATIO).unwrap_or(Ratio {
        value: caps.default_oversubscription,
        level: None,
    });
    let inherit = |r: Option<Ratio>| {
        r.unwrap_or(Ratio {
            value: max.value,
            level: None,
        })
    };
    Ratios {
        max,
        free: inherit(parse_ratio(
            &chain,
            keys::MAX_FREE_CAPACITY_OVERSUBSCRIPTION_RATIO,
        )),
        total: inherit(parse_ratio(
            &chain,
            keys::MAX_TOTAL_CAPACITY_OVERSUBSCRIPTION_RATIO,
        )),
    }
}

#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    reason = "saturating float to KiB conversion, clamped to [0, u64::MAX]"
)]
fn mul_sat(a: u64, r: f64) -> u64 {
    let x = a as f64 * r;
    if x.is_nan() || x <= 0.0 {
        0
    } else if x >= u64::MAX as f64 {
        u64::MAX
    } else {
        x as u64
    }
}

/// LINSTOR's estimate of the space a new volume may take from `pool`.
pub fn estimate(state: &ClusterState, pool: &StoragePool, usage: Usage) -> PoolEstimate {
    let reported = state
        .observed
        .nodes
        .get(&pool.node)
        .and_then(|o| o.pools.get(&pool.name));
    estimate_with(state, pool, usage, reported)
}

/// [`estimate`] with the pool's reported capacity already looked up.
pub fn estimate_with(
    state: &ClusterState,
    pool: &StoragePool,
    usage: Usage,
    reported: Option<&crate::model::PoolCapacity>,
) -> PoolEstimate {
    estimate_from(pool.kind, ratios(state, pool), usage, reported)
}

/// [`estimate_with`] from the pool's kind and its already resolved ratios.
pub fn estimate_from(
    kind: crate::model::ProviderKind,
    ratios: Ratios,
    usage: Usage,
    reported: Option<&crate::model::PoolCapacity>,
) -> PoolEstimate {
    let caps = kind.caps();
    let (reported_free, reported_total) = match reported {
        Some(c) => (Some(c.free.0), Some(c.total.0)),
        None => (None, None),
    };
    let (free, limit) = match (reported_free, reported_total) {
        _ if !caps.backing_device => (u64::MAX, Limit::Free),
        (Some(f), Some(t)) => {
            let by_free = mul_sat(f, ratios.free.value);
            let by_total = mul_sat(t, ratios.total.value).saturating_sub(usage.reserved);
            if by_total < by_free {
                (by_total, Limit::Total)
            } else {
                (by_free, Limit::Free)
            }
        }
        _ => (0, Limit::Unknown),
    };
    PoolEstimate {
        reported_free,
        reported_total,
        reserved: usage.reserved,
        free,
        limit,
        ratios,
        thin: caps.thin && caps.backing_device,
    }
}

/// `Autoplacer/MinThinFreeSpace` for a thin pool of a new replica of `rd` (SP > RD > RG > Node
/// > C), in KiB. Default 10 % of the total capacity.
pub fn min_thin_free(
    state: &ClusterState,
    pool: &StoragePool,
    rd: &ResourceName,
    total: u64,
) -> u64 {
    let chain = Chains::new(state).pool_min_thin_free_space(pool, rd);
    let raw = chain.get(keys::MIN_THIN_FREE_SPACE).unwrap_or("10%");
    parse_min_free(raw, total).unwrap_or(total / 10)
}

/// Parses `10%` (of `total`) or a size (`50GB`, bare KiB).
pub fn parse_min_free(raw: &str, total: u64) -> Option<u64> {
    let raw = raw.trim();
    if let Some(p) = raw.strip_suffix('%') {
        let pct: f64 = p.trim().parse().ok()?;
        if !(0.0..=100.0).contains(&pct) {
            return None;
        }
        return Some(mul_sat(total, pct / 100.0));
    }
    SizeKib::parse_with_default(raw, crate::size::Unit::KiB)
        .ok()
        .map(|s| s.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProviderKind;
    use crate::placement::testutil::*;

    /// One over-provisioning case: pool kind, props on SP / SPD / C, reported free/total and
    /// reserved (GiB) → expected estimate (GiB) and limiting term.
    #[allow(clippy::too_many_arguments, reason = "a table row")]
    fn check(
        kind: ProviderKind,
        sp: &[(&str, &str)],
        spd: &[(&str, &str)],
        ctrl: &[(&str, &str)],
        free: u64,
        total: u64,
        reserved: u64,
        expect: u64,
        limit: Limit,
    ) {
        let mut b = Builder::new();
        b.node("n1").pool("n1", "data", kind, free, total);
        for (k, v) in sp {
            b.pool_prop("n1", "data", k, v);
        }
        for (k, v) in spd {
            b.spd_prop("data", k, v);
        }
        for (k, v) in ctrl {
            b.ctrl_prop(k, v);
        }
        let st = b.build();
        let pool = st.storage_pool(&nn("n1"), &sp_name("data")).unwrap();
        let e = estimate(
            &st,
            pool,
            Usage {
                reserved: reserved * GIB,
                resources: 0,
            },
        );
        assert_eq!(
            (e.free / GIB, e.limit),
            (expect, limit),
            "{kind} sp={sp:?} spd={spd:?} c={ctrl:?} free={free} total={total} reserved={reserved}"
        );
    }

    #[test]
    fn overprovisioning_table() {
        use Limit::*;
        use ProviderKind::*;
        // Thick: min(free, total − reserved); ratios are ignored.
        check(LVM, &[], &[], &[], 60, 100, 30, 60, Free);
        check(LVM, &[], &[], &[], 60, 100, 50, 50, Total);
        check(
            LVM,
            &[("MaxOversubscriptionRatio", "5")],
            &[],
            &[],
            60,
            100,
            50,
            50,
            Total,
        );
        // Thin defaults: 20× free, 20× total − reserved.
        check(LVM_THIN, &[], &[], &[], 10, 100, 0, 200, Free);
        check(LVM_THIN, &[], &[], &[], 90, 100, 1900, 100, Total);
        // MaxOversubscriptionRatio feeds both defaults; SP > SPD > C.
        check(
            LVM_THIN,
            &[],
            &[],
            &[("MaxOversubscriptionRatio", "2")],
            50,
            100,
            0,
            100,
            Free,
        );
        check(
            LVM_THIN,
            &[],
            &[("MaxOversubscriptionRatio", "3")],
            &[("MaxOversubscriptionRatio", "2")],
            50,
            100,
            0,
            150,
            Free,
        );
        check(
            ZFS_THIN,
            &[("MaxOversubscriptionRatio", "4")],
            &[("MaxOversubscriptionRatio", "3")],
            &[],
            50,
            100,
            0,
            200,
            Free,
        );
        // linstor-server#494: only the free ratio raised → the total term (20×) still caps.
        check(
            LVM_THIN,
            &[("MaxFreeCapacityOversubscriptionRatio", "1000")],
            &[],
            &[],
            80,
            100,
            1990,
            10,
            Total,
        );
        // … and raising the total ratio too lifts it.
        check(
            LVM_THIN,
            &[
                ("MaxFreeCapacityOversubscriptionRatio", "1000"),
                ("MaxTotalCapacityOversubscriptionRatio", "1000"),
            ],
            &[],
            &[],
            80,
            100,
            1990,
            80_000,
            Free,
        );
        // Reserved beyond the budget saturates at 0.
        check(LVM_THIN, &[], &[], &[], 80, 100, 5000, 0, Total);
    }

    #[test]
    fn unknown_capacity_is_zero() {
        let mut b = Builder::new();
        b.node("n1")
            .pool_unreported("n1", "data", ProviderKind::LVM);
        let st = b.build();
        let pool = st.storage_pool(&nn("n1"), &sp_name("data")).unwrap();
        let e = estimate(&st, pool, Usage::default());
        assert_eq!((e.free, e.limit), (0, Limit::Unknown));
    }

    #[test]
    fn min_free_parse() {
        assert_eq!(parse_min_free("10%", 1000), Some(100));
        assert_eq!(parse_min_free("1MiB", 0), Some(1024));
        assert_eq!(parse_min_free("2048", 0), Some(2048));
        assert_eq!(parse_min_free("x%", 0), None);
        assert_eq!(parse_min_free("150%", 10), None);
    }
}
