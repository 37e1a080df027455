//! The placement simulator: LINSTOR's default weights against our balanced strategy, side by
//! side, on generated clusters and replayed workloads (fixed seeds).
//!
//! Run: `cargo run --release --example placement_sim [-- --json] [--quick] [--only <scenario>]
//! [--abs-free-weight W]` (W sets `Autoplacer/Weights/MaxFreeSpace` for both strategies).
//! The table shows, per scenario and strategy: placement latency (median, p99 of the calling
//! thread's CPU time per call to `PlacementCache::autoplace` — refreshing the rows changed since
//! the last decision, then placing — timed here; the simulator itself never reads a clock; `--json` adds wall-clock figures, which include other processes), balance
//! (max/mean and min/mean of the used fraction per pool), the data placed before the first
//! refusal against an upper bound, and refusals. `--json` prints one JSON object per line.
#![allow(clippy::print_stdout, reason = "an example prints its results")]

use std::time::{Duration, Instant};

use linstor_core::placement::Strategy;
use linstor_core::placement::sim::{self, ClusterSpec, Rng, Sizes, Workload};

struct Scenario {
    name: &'static str,
    spec: ClusterSpec,
    work: Workload,
}

fn scenarios(quick: bool) -> Vec<Scenario> {
    let scale = |n: usize| if quick { (n / 10).max(1) } else { n };
    let base = Workload {
        ops: 0,
        stop_at_first_refusal: false,
        replicas: 3,
        size_gib: (1, 100),
        delete_pct: 0,
        resize_pct: 0,
        fail_every: None,
        zone_spread: false,
        report_every: 25,
    };
    vec![
        Scenario {
            name: "identical-100",
            spec: ClusterSpec {
                nodes: 100,
                pools_per_node: 1,
                base_gib: 20 * 1024,
                sizes: Sizes::Identical,
                zones: 0,
                racks_per_zone: 0,
                thin: false,
            },
            work: Workload {
                ops: scale(10_000),
                ..base.clone()
            },
        },
        Scenario {
            name: "spread-1x-4x",
            spec: ClusterSpec {
                nodes: 60,
                pools_per_node: 1,
                base_gib: if quick { 256 } else { 2048 },
                sizes: Sizes::Spread { max_factor: 4 },
                zones: 0,
                racks_per_zone: 0,
                thin: false,
            },
            work: Workload {
                ops: 1_000_000,
                stop_at_first_refusal: true,
                ..base.clone()
            },
        },
        Scenario {
            name: "zones-spread-1x-4x",
            spec: ClusterSpec {
                nodes: 60,
                pools_per_node: 2,
                base_gib: if quick { 128 } else { 1024 },
                sizes: Sizes::Spread { max_factor: 4 },
                zones: 6,
                racks_per_zone: 2,
                thin: false,
            },
            work: Workload {
                ops: 1_000_000,
                stop_at_first_refusal: true,
                zone_spread: true,
                ..base.clone()
            },
        },
        Scenario {
            name: "zones-1000x2",
            spec: ClusterSpec {
                nodes: scale(1000),
                pools_per_node: 2,
                base_gib: 10 * 1024,
                sizes: Sizes::Identical,
                zones: 10,
                racks_per_zone: 10,
                thin: false,
            },
            work: Workload {
                ops: scale(2000),
                zone_spread: true,
                ..base.clone()
            },
        },
        Scenario {
            name: "churn-thin-50",
            spec: ClusterSpec {
                nodes: 50,
                pools_per_node: 1,
                base_gib: 4096,
                sizes: Sizes::Spread { max_factor: 2 },
                zones: 5,
                racks_per_zone: 0,
                thin: true,
            },
            work: Workload {
                ops: scale(4000),
                delete_pct: 25,
                resize_pct: 15,
                fail_every: Some(scale(400)),
                zone_spread: true,
                report_every: 20,
                ..base
            },
        },
    ]
}

/// CPU time of this thread (the machine may be shared: wall time includes other processes).
fn cpu_now() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

fn pct_us(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "percentile index"
    )]
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let json = args.iter().any(|a| a == "--json");
    let quick = args.iter().any(|a| a == "--quick");
    let abs_weight: Option<&String> = args
        .iter()
        .position(|a| a == "--abs-free-weight")
        .and_then(|i| args.get(i + 1));
    let only: Option<&String> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1));
    if !json {
        println!(
            "{:<20} {:<9} {:>6} {:>8} {:>9} {:>9} {:>9} {:>9} {:>12} {:>9}",
            "scenario",
            "strategy",
            "nodes",
            "places",
            "p50 µs",
            "p99 µs",
            "max/mean",
            "min/mean",
            "placed/bound",
            "refusals"
        );
    }
    for sc in scenarios(quick) {
        if only.is_some_and(|o| !sc.name.contains(o.as_str())) {
            continue;
        }
        for strategy in [Strategy::Linstor, Strategy::Balanced] {
            // Capacity scenarios end at a single random event (the first refusal): average them
            // over ten fixed seeds. The others run once.
            let seeds: Vec<u64> = if sc.work.stop_at_first_refusal {
                (0..10).collect()
            } else {
                vec![0]
            };
            let mut times: Vec<Duration> = Vec::new();
            let mut wall: Vec<Duration> = Vec::new();
            let mut reps = Vec::new();
            for seed in &seeds {
                let mut state = sim::generate(&sc.spec, &mut Rng::new(42 + seed));
                if let Some(w) = abs_weight {
                    state
                        .ctrl_props
                        .set("Autoplacer/Weights/MaxFreeSpace", w.as_str());
                }
                reps.push(sim::run(
                    state,
                    &sc.work,
                    strategy,
                    7 + seed,
                    &mut |s, cache, r| {
                        // Timed: refreshing the rows changed since the last decision, then
                        // placing — what a controller pays per decision.
                        let (t, c) = (Instant::now(), cpu_now());
                        let out = cache.autoplace(s, r);
                        times.push(cpu_now().saturating_sub(c));
                        wall.push(t.elapsed());
                        out
                    },
                ));
            }
            #[allow(clippy::cast_precision_loss, reason = "seed count")]
            let n = reps.len() as f64;
            let mean = |f: &dyn Fn(&sim::SimReport) -> f64| reps.iter().map(f).sum::<f64>() / n;
            let rep = sim::SimReport {
                placements: reps.iter().map(|r| r.placements).sum(),
                refusals: reps.iter().map(|r| r.refusals).sum(),
                spawned: reps.iter().map(|r| r.spawned).sum(),
                deleted: reps.iter().map(|r| r.deleted).sum(),
                resized: reps.iter().map(|r| r.resized).sum(),
                resize_refused: reps.iter().map(|r| r.resize_refused).sum(),
                failed_nodes: reps.iter().map(|r| r.failed_nodes).sum(),
                replaced: reps.iter().map(|r| r.replaced).sum(),
                placed_before_refusal_kib: reps.iter().map(|r| r.placed_before_refusal_kib).sum(),
                bound_kib: reps.iter().map(|r| r.bound_kib).sum(),
                placed_fraction_of_bound: mean(&|r| r.placed_fraction_of_bound),
                max_over_mean: mean(&|r| r.max_over_mean),
                min_over_mean: mean(&|r| r.min_over_mean),
            };
            times.sort_unstable();
            wall.sort_unstable();
            let (p50, p99) = (pct_us(&times, 0.5), pct_us(&times, 0.99));
            if json {
                let v = serde_json::json!({
                    "scenario": sc.name,
                    "strategy": strategy.as_str(),
                    "nodes": sc.spec.nodes,
                    "runs": seeds.len(),
                    // Only meaningful where the run stops at the first refusal.
                    "capacity_scenario": sc.work.stop_at_first_refusal,
                    "pools": sc.spec.nodes * sc.spec.pools_per_node,
                    "placements": rep.placements,
                    "p50_us": (p50 * 10.0).round() / 10.0,
                    "p99_us": (p99 * 10.0).round() / 10.0,
                    "wall_p50_us": (pct_us(&wall, 0.5) * 10.0).round() / 10.0,
                    "wall_p99_us": (pct_us(&wall, 0.99) * 10.0).round() / 10.0,
                    "max_over_mean": (rep.max_over_mean * 1e4).round() / 1e4,
                    "min_over_mean": (rep.min_over_mean * 1e4).round() / 1e4,
                    "placed_fraction_of_bound": (rep.placed_fraction_of_bound * 1e4).round() / 1e4,
                    "refusals": rep.refusals,
                    "spawned": rep.spawned,
                    "deleted": rep.deleted,
                    "resized": rep.resized,
                    "resize_refused": rep.resize_refused,
                    "failed_nodes": rep.failed_nodes,
                    "replaced": rep.replaced,
                });
                println!("{v}");
            } else {
                let placed = if sc.work.stop_at_first_refusal {
                    format!("{:.2}%", rep.placed_fraction_of_bound * 100.0)
                } else {
                    "-".to_string()
                };
                println!(
                    "{:<20} {:<9} {:>6} {:>8} {:>9.1} {:>9.1} {:>9.4} {:>9.4} {:>12} {:>9}",
                    sc.name,
                    strategy.as_str(),
                    sc.spec.nodes,
                    rep.placements,
                    p50,
                    p99,
                    rep.max_over_mean,
                    rep.min_over_mean,
                    placed,
                    rep.refusals
                );
            }
        }
    }
}
