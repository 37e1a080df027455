//! Number pools: DRBD minors (cluster-wide), TCP ports (per node), node ids (per resource
//! definition), volume numbers (per resource definition).
//!
//! The pools are indexes derived from the state (rebuilt on load, never serialized), so the
//! state stays the single source of truth. Allocation takes the lowest free number of the
//! configured range, which makes numbers reusable right after the object holding them is gone
//! and keeps allocation deterministic.
//!
//! Every choice of a number is here: the lowest free one of the configured range
//! (`MinorNrAutoRange`, `TcpPortAutoRange`), or a requested one checked, with LINSTOR's
//! exhaustion codes; and the release of a resource's numbers when it goes.

use super::Cluster;
use super::ctx::{BoxedEntry, Res, fail};
use crate::keys;
use crate::model::{Resource, ResourceDefinition};
use crate::name::{NodeName, ResourceName};
use crate::props::parse_number_range;
use crate::rc::{Obj, Op, RcEntry, code};
use crate::vec_map::VecMap;

/// Highest DRBD minor number.
pub const MAX_MINOR: u32 = (1 << 20) - 1;
/// Default minor range (`MinorNrAutoRange`).
pub const DEFAULT_MINOR_RANGE: (u32, u32) = (1000, 49_999);
/// Default TCP port range (`TcpPortAutoRange`).
pub const DEFAULT_PORT_RANGE: (u16, u16) = (7000, 7999);
/// DRBD node ids are 0..=31.
pub const MAX_NODE_ID: u8 = 31;
/// Highest volume number.
pub const MAX_VLM_NR: u16 = 65_534;

/// A dense bit set over `0..=max`, with lowest-free search in a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitPool {
    words: Vec<u64>,
    max: u32,
}

impl BitPool {
    /// A pool for numbers `0..=max`.
    pub fn new(max: u32) -> Self {
        BitPool {
            words: vec![0; (max as usize + 64) / 64],
            max,
        }
    }

    /// True if `n` is taken.
    pub fn contains(&self, n: u32) -> bool {
        let (w, b) = (n as usize / 64, n % 64);
        self.words.get(w).is_some_and(|x| x & (1 << b) != 0)
    }

    /// Marks `n` taken; false if it already was (or is out of range).
    pub fn insert(&mut self, n: u32) -> bool {
        if n > self.max {
            return false;
        }
        let (w, b) = (n as usize / 64, n % 64);
        match self.words.get_mut(w) {
            Some(x) if *x & (1 << b) == 0 => {
                *x |= 1 << b;
                true
            }
            _ => false,
        }
    }

    /// Frees `n`.
    pub fn remove(&mut self, n: u32) {
        let (w, b) = (n as usize / 64, n % 64);
        if let Some(x) = self.words.get_mut(w) {
            *x &= !(1 << b);
        }
    }

    /// The lowest free number in `lo..=hi`.
    pub fn lowest_free(&self, lo: u32, hi: u32) -> Option<u32> {
        let hi = hi.min(self.max);
        let mut n = lo;
        while n <= hi {
            let w = n / 64;
            let word = *self.words.get(w as usize)?;
            let masked = word | ((1u64 << (n % 64)) - 1);
            if masked != u64::MAX {
                let free = w * 64 + (!masked).trailing_zeros();
                return (free <= hi).then_some(free);
            }
            n = (w + 1) * 64;
        }
        None
    }
}

/// Lowest free value in `lo..=hi` given an iterator of used values (small sets).
pub fn lowest_free_in<I: IntoIterator<Item = u32>>(used: I, lo: u32, hi: u32) -> Option<u32> {
    let mut used: Vec<u32> = used.into_iter().filter(|n| (lo..=hi).contains(n)).collect();
    used.sort_unstable();
    used.dedup();
    let mut expect = lo;
    for u in used {
        if u != expect {
            break;
        }
        expect = u.checked_add(1)?;
    }
    (expect <= hi).then_some(expect)
}

fn minor_range(c: &Cluster) -> (u32, u32) {
    c.state
        .ctrl_props
        .get(keys::MINOR_NR_AUTO_RANGE)
        .and_then(parse_number_range)
        .and_then(|(a, b)| {
            Some((
                u32::try_from(a).ok()?,
                u32::try_from(b).ok()?.min(MAX_MINOR),
            ))
        })
        .unwrap_or(DEFAULT_MINOR_RANGE)
}

fn port_range(c: &Cluster, node: &NodeName) -> (u16, u16) {
    c.chains()
        .node_policy(node)
        .get(keys::TCP_PORT_AUTO_RANGE)
        .and_then(parse_number_range)
        .and_then(|(a, b)| Some((u16::try_from(a).ok()?, u16::try_from(b).ok()?)))
        .unwrap_or(DEFAULT_PORT_RANGE)
}

pub(super) fn alloc_minor(c: &Cluster, op: Op) -> Res<u32> {
    let (lo, hi) = minor_range(c);
    c.idx.minors.lowest_free(lo, hi).ok_or_else(|| {
        fail(
            op,
            Obj::VlmDfn,
            code::POOL_EXHAUSTED_MINOR_NR,
            "No free DRBD minor number",
        )
        .cause(format!(
            "Every minor in MinorNrAutoRange {lo}-{hi} is in use."
        ))
        .correction(
            "Widen MinorNrAutoRange on the controller, or delete unused volume definitions.",
        )
    })
}

pub(super) fn alloc_port(c: &Cluster, op: Op, node: &NodeName) -> Res<u16> {
    let (lo, hi) = port_range(c, node);
    // The per-node set is ordered: walk it once from `lo` to the first gap.
    let mut next = Some(lo);
    if let Some(used) = c.idx.ports.get(node) {
        for p in used.range(lo..=hi) {
            if Some(*p) != next {
                break;
            }
            next = p.checked_add(1).filter(|n| *n <= hi);
        }
    }
    next.filter(|p| *p <= hi).ok_or_else(|| {
        fail(op, Obj::Rsc, code::POOL_EXHAUSTED_TCP_PORT, format!("No free DRBD TCP port on node '{node}'"))
            .cause(format!("Every port in TcpPortAutoRange {lo}-{hi} is used by resources on this node."))
            .correction("Widen TcpPortAutoRange on the node or controller, or place the resource on another node.")
    })
}

pub(super) fn alloc_node_id(rd: &ResourceDefinition, op: Op) -> Res<u8> {
    let used = rd.resources.values().map(|r| u32::from(r.node_id));
    lowest_free_in(used, 0, u32::from(MAX_NODE_ID))
        .and_then(|n| u8::try_from(n).ok())
        .ok_or_else(|| {
            fail(
                op,
                Obj::Rsc,
                code::POOL_EXHAUSTED_NODE_ID,
                format!("No free DRBD node id in resource definition '{}'", rd.name),
            )
            .cause("DRBD allows at most 32 nodes (ids 0-31) per resource.")
            .correction("Delete a resource of this definition first.")
        })
}

pub(super) fn free_rsc_numbers(c: &mut Cluster, rd: &ResourceName, r: &Resource) {
    if let Some(ports) = c.idx.ports.get_mut(&r.node) {
        for p in &r.tcp_ports {
            ports.remove(p);
        }
    }
    if let Some(set) = c.idx.rscs_on_node.get_mut(&r.node) {
        set.remove(rd);
    }
}

/// The minor of a new volume definition: `requested` if it is valid and free, else the lowest
/// free one of `MinorNrAutoRange`.
pub(super) fn choose_minor(c: &Cluster, op: Op, requested: Option<u32>) -> Res<u32> {
    match requested {
        Some(m) if m > MAX_MINOR => Err(fail(
            op,
            Obj::VlmDfn,
            code::INVLD_MINOR_NR,
            format!("Invalid minor number {m}"),
        )
        .correction(format!("Use 0 to {MAX_MINOR}, or omit it."))),
        Some(m) if c.idx.minors.contains(m) => Err(fail(
            op,
            Obj::VlmDfn,
            code::INVLD_MINOR_NR,
            format!("Minor number {m} is already in use"),
        )
        .correction("Choose another minor, or omit it to get a free one.")),
        Some(m) => Ok(m),
        None => alloc_minor(c, op),
    }
}

/// The number of a new volume definition or volume group (`obj`): `requested` if it is valid
/// and not in `used` (else `exists` says so), or the lowest free one.
pub(super) fn choose_vlm_nr<V>(
    op: Op,
    obj: Obj,
    requested: Option<u16>,
    used: &VecMap<u16, V>,
    exists: impl FnOnce(u16) -> Box<RcEntry>,
) -> Res<u16> {
    match requested {
        Some(nr) if nr > MAX_VLM_NR => Err(fail(
            op,
            obj,
            code::INVLD_VLM_NR,
            format!("Invalid volume number {nr}"),
        )
        .correction("Use 0 to 65534.")),
        Some(nr) if used.contains_key(&nr) => Err(exists(nr)),
        Some(nr) => Ok(nr),
        None => (0..=MAX_VLM_NR)
            .find(|nr| !used.contains_key(nr))
            .ok_or_else(|| {
                fail(
                    op,
                    obj,
                    code::POOL_EXHAUSTED_VLM_NR,
                    "No free volume number",
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitpool_lowest_free_and_reuse() {
        let mut p = BitPool::new(MAX_MINOR);
        for n in 1000..1200 {
            assert_eq!(p.lowest_free(1000, 49_999), Some(n));
            assert!(p.insert(n));
        }
        assert!(!p.insert(1000));
        p.remove(1063);
        assert_eq!(p.lowest_free(1000, 49_999), Some(1063));
        assert_eq!(p.lowest_free(1000, 1062), None);
        assert_eq!(p.lowest_free(1063, 1063), Some(1063));
    }

    #[test]
    fn bitpool_exhaustion_at_range_end() {
        let mut p = BitPool::new(100);
        for n in 10..=20 {
            p.insert(n);
        }
        assert_eq!(p.lowest_free(10, 20), None);
        assert_eq!(p.lowest_free(10, 21), Some(21));
        assert_eq!(p.lowest_free(0, 100), Some(0));
        assert!(!p.insert(101));
        assert_eq!(p.lowest_free(95, 200), Some(95));
    }

    #[test]
    fn lowest_free_in_table() {
        let check = |used: &[u32], lo, hi, expect| {
            assert_eq!(
                lowest_free_in(used.iter().copied(), lo, hi),
                expect,
                "{used:?} {lo}-{hi}"
            )
        };
        check(&[], 0, 31, Some(0));
        check(&[0, 1, 2], 0, 31, Some(3));
        check(&[0, 2], 0, 31, Some(1));
        check(&(0..32).collect::<Vec<_>>(), 0, 31, None);
        check(&[7000, 7001, 9000], 7000, 7999, Some(7002));
        check(&[5], 7000, 7001, Some(7000));
    }

    proptest::proptest! {
        #[test]
        fn bitpool_matches_naive(ops in proptest::collection::vec((0u32..300, proptest::bool::ANY), 0..200), lo in 0u32..300, span in 0u32..300) {
            let hi = (lo + span).min(299);
            let mut p = BitPool::new(299);
            let mut naive = std::collections::BTreeSet::new();
            for (n, ins) in ops {
                if ins { p.insert(n); naive.insert(n); } else { p.remove(n); naive.remove(&n); }
            }
            let expect = (lo..=hi).find(|n| !naive.contains(n));
            proptest::prop_assert_eq!(p.lowest_free(lo, hi), expect);
        }
    }
}
