//! Release-mode placement benchmark (fixed seeds; timing lives here, never in tests).
//!
//! Run: `cargo run --release --example placement_bench [-- --nodes N --places M]`.
//!
//! 1. Latency: 3 replicas with `replicas_on_different` on `Aux/zone`, on clusters of 1,000 and
//!    10,000 nodes × 2 pools (20 zones), each placement applied before the next. Timed per
//!    call (CPU time of this thread): the controller's path, `PlacementCache::autoplace`
//!    (refresh the rows whose usage changed since the last decision, then place); the pure
//!    `autoplace` (usage and view built from the state per call); and a full view rebuild (what
//!    a change to the set of nodes or to controller properties costs the next decision).
//! 2. Balance: 10,000 random 3-replica placements on 100 identical nodes, per strategy.
#![allow(clippy::print_stdout, reason = "a benchmark prints its results")]

use std::time::Duration;

use linstor_core::model::SelectFilter;
use linstor_core::name::ResourceName;
use linstor_core::placement::sim::{self, ClusterSpec, GIB, Rng, Sizes, Workload};
use linstor_core::placement::{PlacementCache, PlacementRequest, Strategy, autoplace};
use linstor_core::size::SizeKib;

fn arg(name: &str) -> Option<usize> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

/// CPU time of this thread (the machine may be shared: wall time includes other processes).
fn cpu_now() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "percentile index"
    )]
    let i = ((sorted.len().max(1) - 1) as f64 * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

fn latency(nodes: usize, places: usize) {
    let spec = ClusterSpec {
        nodes,
        pools_per_node: 2,
        base_gib: 10 * 1024,
        sizes: Sizes::Spread { max_factor: 2 },
        zones: 20,
        racks_per_zone: 5,
        thin: false,
    };
    let mut state = sim::generate(&spec, &mut Rng::new(1));
    let mut rng = Rng::new(2);
    let filter = SelectFilter {
        place_count: Some(3),
        replicas_on_different: Some(vec!["Aux/zone".into()]),
        ..Default::default()
    };
    let mut cpu_pure = Vec::with_capacity(places);
    let mut cpu_cached = Vec::with_capacity(places);
    let mut cache = PlacementCache::new(&state);
    cache.refresh(&state);
    let mut refused = 0;
    for i in 0..places {
        let name: ResourceName = format!("bench{i:06}").parse().expect("valid");
        let size = SizeKib(rng.range(1, 100) * GIB);
        sim::add_rd(&mut state, &name, size);
        let req = PlacementRequest::new(name.clone(), filter.clone(), size);
        let c = cpu_now();
        let out = cache.autoplace(&state, &req);
        cpu_cached.push(cpu_now().saturating_sub(c));
        // The pure function on the same state (every 10th call: it is slow at 10,000 nodes).
        if i % 10 == 0 {
            let c = cpu_now();
            let pure = autoplace(&state, &req);
            cpu_pure.push(cpu_now().saturating_sub(c));
            assert_eq!(pure, out, "the cache must not change the answer");
        }
        match out {
            Ok(p) => {
                for (n, pool) in &p.diskful {
                    cache.add(n, pool, size);
                }
                sim::apply_placement(&mut state, &name, &p);
            }
            Err(_) => refused += 1,
        }
    }
    let mut rebuild = Vec::with_capacity(20);
    for _ in 0..20 {
        cache.all_changed();
        let c = cpu_now();
        cache.refresh(&state);
        rebuild.push(cpu_now().saturating_sub(c));
    }
    for v in [&mut cpu_pure, &mut cpu_cached, &mut rebuild] {
        v.sort_unstable();
    }
    println!(
        "latency  {nodes:>6} nodes x 2 pools, 3 replicas on different zones, {places} placements:\n  PlacementCache::autoplace (controller path): cpu p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms | refused {refused}\n  autoplace (pure, usage + view per call):    cpu p50 {:.3} ms  p99 {:.3} ms ({} calls)\n  full view rebuild:                          cpu p50 {:.3} ms  max {:.3} ms",
        pct(&cpu_cached, 0.5),
        pct(&cpu_cached, 0.99),
        pct(&cpu_cached, 1.0),
        pct(&cpu_pure, 0.5),
        pct(&cpu_pure, 0.99),
        cpu_pure.len(),
        pct(&rebuild, 0.5),
        pct(&rebuild, 1.0),
    );
}

fn balance() {
    let spec = ClusterSpec {
        nodes: 100,
        pools_per_node: 1,
        base_gib: 20 * 1024,
        sizes: Sizes::Identical,
        zones: 0,
        racks_per_zone: 0,
        thin: false,
    };
    let work = Workload {
        ops: 10_000,
        stop_at_first_refusal: false,
        replicas: 3,
        size_gib: (1, 100),
        delete_pct: 0,
        resize_pct: 0,
        fail_every: None,
        zone_spread: false,
        report_every: 25,
    };
    for strategy in [Strategy::Linstor, Strategy::Balanced] {
        let state = sim::generate(&spec, &mut Rng::new(42));
        let rep = sim::run(state, &work, strategy, 7, &mut |s, c, r| c.autoplace(s, r));
        println!(
            "balance  100 identical nodes, 10,000 random 3-replica placements, {:<8}: max/mean {:.4}  min/mean {:.4}  refusals {}",
            strategy.as_str(),
            rep.max_over_mean,
            rep.min_over_mean,
            rep.refusals
        );
    }
}

fn main() {
    if let Some(n) = arg("--nodes") {
        latency(n, arg("--places").unwrap_or(1000));
        return;
    }
    latency(1_000, 2_000);
    latency(10_000, 500);
    balance();
}
