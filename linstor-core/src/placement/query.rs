//! Size queries: the largest volume a placement with a given filter could take now (REST
//! `query-max-volume-size` and `query-size-info`, CSI's GetCapacity).
//!
//! The answer is the placer's own: the largest size for which [`super::autoplace`] succeeds,
//! found by doubling then bisecting (placement fits fewer pools as the size grows). So the
//! query and a spawn can never disagree, whatever the pools' thin ratios, free-space
//! reservations and node rules. Pure: a function of the state and the filter.

use super::{Placement, PlacementRequest, Refusal, autoplace};
use crate::model::SelectFilter;
use crate::name::ResourceName;
use crate::size::SizeKib;
use crate::state::ClusterState;

/// The name the probe placements use (no resource definition of that name may exist).
const PROBE: &str = "size-query-probe";
/// Sizes above this (8 EiB in KiB) are not probed.
const CEILING: u64 = 1 << 53;

/// The largest size that fits and the placement it gets.
#[derive(Debug, Clone, PartialEq)]
pub struct MaxSize {
    /// KiB.
    pub size: SizeKib,
    /// Where a volume of that size would go.
    pub placement: Placement,
}

/// The largest single volume (KiB) a spawn with `filter` could place now, or the placer's
/// refusal for the smallest volume (nothing fits at all).
pub fn max_volume_size(state: &ClusterState, filter: &SelectFilter) -> Result<MaxSize, Refusal> {
    let probe = probe_name(state);
    let place = |kib: u64| {
        autoplace(
            state,
            &PlacementRequest::new(probe.clone(), filter.clone(), SizeKib(kib)),
        )
    };
    let mut best = MaxSize {
        size: SizeKib(1),
        placement: place(1)?,
    };
    let mut lo = 1u64;
    let mut hi = None;
    // Doubling: find a size that does not fit.
    while hi.is_none() && lo < CEILING {
        let next = lo.saturating_mul(2).min(CEILING);
        match place(next) {
            Ok(p) => {
                lo = next;
                best = MaxSize {
                    size: SizeKib(next),
                    placement: p,
                };
            }
            Err(_) => hi = Some(next),
        }
    }
    let Some(mut hi) = hi else { return Ok(best) };
    // Bisecting: `lo` fits, `hi` does not.
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        match place(mid) {
            Ok(p) => {
                lo = mid;
                best = MaxSize {
                    size: SizeKib(mid),
                    placement: p,
                };
            }
            Err(_) => hi = mid,
        }
    }
    Ok(best)
}

fn probe_name(state: &ClusterState) -> ResourceName {
    let mut n = 0u32;
    loop {
        let name = if n == 0 {
            PROBE.to_owned()
        } else {
            format!("{PROBE}-{n}")
        };
        let name = ResourceName::new(&name).expect("the probe name is valid");
        if !state.resource_definitions.contains_key(&name) {
            return name;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProviderKind;
    use crate::placement::sim::{ClusterBuilder, GIB};

    fn filter(place_count: u32) -> SelectFilter {
        SelectFilter {
            place_count: Some(place_count),
            ..SelectFilter::default()
        }
    }

    #[test]
    fn the_largest_size_is_the_one_the_placer_still_takes() {
        let mut b = ClusterBuilder::new();
        for (n, gib) in [("node-a", 100), ("node-b", 40), ("node-c", 70)] {
            b.node(n)
                .pool_kib(n, "thick", ProviderKind::LVM, gib * GIB, gib * GIB);
        }
        let s = b.build();
        let two = max_volume_size(&s, &filter(2)).unwrap();
        // Two replicas: the two largest free pools decide, the smaller of them (70 GiB).
        assert!(
            autoplace(
                &s,
                &PlacementRequest::new(probe_name(&s), filter(2), two.size)
            )
            .is_ok()
        );
        let more = SizeKib(two.size.0 + 1);
        assert!(autoplace(&s, &PlacementRequest::new(probe_name(&s), filter(2), more)).is_err());
        assert_eq!(two.placement.diskful.len(), 2);
        let three = max_volume_size(&s, &filter(3)).unwrap();
        assert!(
            three.size.0 < two.size.0,
            "three replicas fit a smaller volume"
        );
        assert!(
            max_volume_size(&s, &filter(4)).is_err(),
            "four replicas never fit on three nodes"
        );
    }
}
