//! Scoring: LINSTOR's weighted strategies and our relative-fill default.
//!
//! Scores are computed as `f64` and stored as integers in units of 10⁻⁹, so that the score of a
//! set (the sum) is exact and comparisons are deterministic. Higher is better.
//!
//! **LINSTOR** (`Strategy::Linstor`), per strategy: `normalized = raw / highest` (the highest
//! non-zero raw value among the candidates), `score += normalized × weight`, with the weight
//! negated for "minimize" strategies:
//!
//! | Strategy | raw value | direction | weight key (C) | default |
//! |---|---|---|---|---|
//! | MaxFreeSpace | last reported free space (not over-subscribed) | max | `Autoplacer/Weights/MaxFreeSpace` | 1.0 |
//! | MinReservedSpace | reserved space | min | `Autoplacer/Weights/MinReservedSpace` | 0.0 |
//! | MinRscCount | resources in the pool | min | `Autoplacer/Weights/MinRscCount` | 0.00001 |
//!
//! **Balanced** (`Strategy::Balanced`, our default): `score = w × (1 − fill)` with
//! `w = Autoplacer/Weights/BalancedFill` (default 1.0) and
//! `fill = max(used / total, (reserved + size) / (total × MaxTotalCapacityOversubscriptionRatio))`
//! — the relative fill *after* placement, counting space promised but not yet reported. Two
//! identical pools therefore never favour the fuller one, and pools of different sizes fill at
//! the same relative rate. **End game**: a pool whose fill after placement would exceed
//! [`PACK_ABOVE`] (90 %) scores `w × (1 + fill)` instead, so it is filled up first (best fit)
//! and the other pools keep their headroom for large volumes; without it, perfectly even fill
//! strands a little space on every pool and the first refusal comes about 1 % of capacity
//! earlier than with LINSTOR's weights (measured with the simulator, spread 1×–4×). Diskless pools score `w × (1 − resources / max resources)`.
//! An optional absolute term, `Autoplacer/Weights/MaxFreeSpace × free_after / max free_after`
//! (default weight [`BALANCED_ABS_FREE`] = 0 in this strategy), trades relative balance for
//! equal absolute headroom; the simulator showed no gain in capacity placed before the first
//! refusal, so it is off by default.

use crate::keys;
use crate::placement::Strategy;
use crate::placement::capacity::{PoolEstimate, Usage};
use crate::state::ClusterState;

/// Relative fill above which the balanced strategy packs a pool instead of spreading.
pub const PACK_ABOVE: f64 = 0.9;

/// Default weight of the absolute free-space term in the balanced strategy (see the module docs).
pub const BALANCED_ABS_FREE: f64 = 0.0;

/// The inputs of one candidate's score.
#[derive(Debug, Clone, Copy)]
pub struct ScoreInput {
    /// Capacity estimate.
    pub est: PoolEstimate,
    /// Usage.
    pub usage: Usage,
    /// Whether the pool has a backing device.
    pub diskful: bool,
}

fn weight(state: &ClusterState, key: &str, default: f64) -> f64 {
    state
        .ctrl_props
        .get(key)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())
        .unwrap_or(default)
}

#[allow(
    clippy::cast_possible_truncation,
    reason = "clamped to a range that fits i64"
)]
fn to_fixed(x: f64) -> i64 {
    let x = if x.is_nan() { 0.0 } else { x };
    (x * 1e9).round().clamp(-9.0e18, 9.0e18) as i64
}

#[allow(clippy::cast_precision_loss, reason = "ratios of KiB counts")]
fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Scores every input with `strategy` for a replica of `size` KiB.
pub fn score_all(
    state: &ClusterState,
    strategy: Strategy,
    size: u64,
    inputs: &[ScoreInput],
) -> Vec<i64> {
    match strategy {
        Strategy::Linstor => {
            let w_free = weight(state, keys::WEIGHT_MAX_FREE_SPACE, 1.0);
            let w_res = weight(state, keys::WEIGHT_MIN_RESERVED_SPACE, 0.0);
            let w_cnt = weight(state, keys::WEIGHT_MIN_RSC_COUNT, 0.00001);
            let free: Vec<u64> = inputs
                .iter()
                .map(|i| {
                    if i.diskful {
                        i.est.reported_free.unwrap_or(0)
                    } else {
                        0
                    }
                })
                .collect();
            let res: Vec<u64> = inputs.iter().map(|i| i.usage.reserved).collect();
            let cnt: Vec<u64> = inputs
                .iter()
                .map(|i| u64::from(i.usage.resources))
                .collect();
            let hi = |v: &[u64]| v.iter().copied().filter(|x| *x > 0).max().unwrap_or(0);
            let (hf, hr, hc) = (hi(&free), hi(&res), hi(&cnt));
            (0..inputs.len())
                .map(|k| {
                    let norm = |raw: u64, h: u64| {
                        if h == 0 { ratio(raw, 1) } else { ratio(raw, h) }
                    };
                    to_fixed(
                        norm(free[k], hf) * w_free
                            - norm(res[k], hr) * w_res
                            - norm(cnt[k], hc) * w_cnt,
                    )
                })
                .collect()
        }
        Strategy::Balanced => {
            let w = weight(state, keys::WEIGHT_BALANCED_FILL, 1.0);
            let w_abs = weight(state, keys::WEIGHT_MAX_FREE_SPACE, BALANCED_ABS_FREE);
            let free_after = |i: &ScoreInput| {
                i.est.reported_total.map_or(0, |t| {
                    let used = t.saturating_sub(i.est.reported_free.unwrap_or(0));
                    t.saturating_sub(used.max(i.usage.reserved).saturating_add(size))
                })
            };
            let max_free = inputs
                .iter()
                .filter(|i| i.diskful)
                .map(free_after)
                .max()
                .unwrap_or(0);
            let max_cnt = inputs
                .iter()
                .map(|i| u64::from(i.usage.resources))
                .max()
                .unwrap_or(0);
            inputs
                .iter()
                .map(|i| {
                    if !i.diskful {
                        return to_fixed(w * (1.0 - ratio(u64::from(i.usage.resources), max_cnt)));
                    }
                    let fill = fill_after(i, size);
                    // End game: a pool that would pass PACK_ABOVE is filled up first (best fit),
                    // which keeps the headroom of the other pools for large volumes.
                    let base = if fill > PACK_ABOVE {
                        1.0 + fill
                    } else {
                        1.0 - fill
                    };
                    to_fixed(w * base + w_abs * ratio(free_after(i), max_free))
                })
                .collect()
        }
    }
}

/// Relative fill of a diskful pool after adding `size` (see the module docs).
pub fn fill_after(i: &ScoreInput, size: u64) -> f64 {
    let total = i.est.reported_total.unwrap_or(0);
    if total == 0 {
        return 1.0;
    }
    let used = total.saturating_sub(i.est.reported_free.unwrap_or(0));
    let physical = ratio(used, total);
    #[allow(clippy::cast_precision_loss, reason = "KiB as float")]
    let budget = total as f64 * i.est.ratios.total.value.max(1e-9);
    #[allow(clippy::cast_precision_loss, reason = "KiB as float")]
    let promised = (i.usage.reserved.saturating_add(size)) as f64 / budget;
    physical.max(promised)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProviderKind;
    use crate::placement::capacity::{Usage, estimate};
    use crate::placement::testutil::*;

    /// Scores pools `(free, total, reserved, resources)` (GiB) with `strategy` for `size` GiB and
    /// returns the index order, best first.
    fn check(
        strategy: Strategy,
        ctrl: &[(&str, &str)],
        pools: &[(u64, u64, u64, u32)],
        size: u64,
        expect: &[usize],
    ) {
        let mut b = Builder::new();
        for (k, v) in ctrl {
            b.ctrl_prop(k, v);
        }
        for (i, (f, t, _, _)) in pools.iter().enumerate() {
            let n = format!("n{i}");
            b.node(&n).pool(&n, "data", ProviderKind::LVM, *f, *t);
        }
        let st = b.build();
        let inputs: Vec<ScoreInput> = pools
            .iter()
            .enumerate()
            .map(|(i, (_, _, r, c))| {
                let p = st
                    .storage_pool(&nn(&format!("n{i}")), &sp_name("data"))
                    .unwrap();
                let usage = Usage {
                    reserved: r * GIB,
                    resources: *c,
                };
                ScoreInput {
                    est: estimate(&st, p, usage),
                    usage,
                    diskful: true,
                }
            })
            .collect();
        let s = score_all(&st, strategy, size * GIB, &inputs);
        let mut order: Vec<usize> = (0..s.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(s[i]), i));
        assert_eq!(order, expect, "{strategy:?} {pools:?} scores {s:?}");
    }

    #[test]
    fn scoring_table() {
        use Strategy::*;
        // LINSTOR: the most free space wins, whatever the size of the pool.
        check(
            Linstor,
            &[],
            &[(100, 1000, 900, 9), (90, 100, 10, 1)],
            1,
            &[0, 1],
        );
        // Balanced: the emptier pool relative to its size wins.
        check(
            Balanced,
            &[],
            &[(200, 1000, 800, 9), (90, 100, 10, 1)],
            1,
            &[1, 0],
        );
        // … until the end game: a pool passing 90 % is packed first (best fit).
        check(
            Balanced,
            &[],
            &[(100, 1000, 900, 9), (90, 100, 10, 1)],
            1,
            &[0, 1],
        );
        // Identical pools: balanced prefers the less reserved one even before the satellite
        // reports (free is stale, reserved is not).
        check(
            Balanced,
            &[],
            &[(100, 100, 50, 5), (100, 100, 10, 1)],
            1,
            &[1, 0],
        );
        // … while LINSTOR sees equal free space and only MinRscCount breaks the tie.
        check(
            Linstor,
            &[],
            &[(100, 100, 50, 5), (100, 100, 10, 1)],
            1,
            &[1, 0],
        );
        // LINSTOR weights: MinReservedSpace dominating.
        check(
            Linstor,
            &[
                ("Autoplacer/Weights/MaxFreeSpace", "0"),
                ("Autoplacer/Weights/MinReservedSpace", "1"),
            ],
            &[(200, 1000, 800, 9), (90, 100, 10, 1)],
            1,
            &[1, 0],
        );
        // BalancedFill negative flips the preference.
        check(
            Balanced,
            &[("Autoplacer/Weights/BalancedFill", "-1")],
            &[(200, 1000, 800, 9), (90, 100, 10, 1)],
            1,
            &[0, 1],
        );
    }
}
