//! `controller_bench`: the controller binary end to end, release build, fixed names (no
//! randomness in the workload; the controller's own secrets and UUIDs do not affect timing).
//!
//! Per run: 100 nodes with a FILE_THIN pool each (SIMULATED satellites), a resource group with
//! place count 3, then 10,000 spawns (one 1 GiB volume, 3 resources each) from 100 parallel
//! clients over REST. Then SIGTERM, restart on the same database, and measure start-up to ready,
//! RSS after loading and the database size. Three runs; medians printed side by side with the
//! targets of the issue.
//!
//! `cargo bench -p linstor-controller --bench controller_bench` (env `BENCH_RUNS`, `BENCH_RDS`,
//! `BENCH_CLIENTS` override the defaults 3, 10000, 100).

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::cast_precision_loss,
    missing_docs
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Controller, seed_cluster, spawn_body};

struct Run {
    spawn_p50_ms: f64,
    spawn_p99_ms: f64,
    spawns_per_s: f64,
    errors: usize,
    ready_ms: f64,
    rss_mib: f64,
    db_mib: f64,
}

fn env_or(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn spawn_all(c: &Controller, rds: usize, clients: usize) -> (Vec<Duration>, usize, Duration) {
    let next = AtomicUsize::new(0);
    let errors = AtomicUsize::new(0);
    let lat = Mutex::new(Vec::with_capacity(rds));
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..clients {
            s.spawn(|| {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= rds {
                        break;
                    }
                    let body = spawn_body(&format!("pvc-{i:06}"), 1 << 20);
                    let t = Instant::now();
                    let r = common::call(
                        &c.addr,
                        "POST",
                        "/v1/resource-groups/rg3/spawn",
                        Some(&body),
                    );
                    mine.push(t.elapsed());
                    if !matches!(r, Some((201, _))) && errors.fetch_add(1, Ordering::Relaxed) < 3 {
                        eprintln!("spawn pvc-{i:06}: {r:?}");
                    }
                }
                lat.lock().unwrap().extend(mine);
            });
        }
    });
    let wall = started.elapsed();
    (lat.into_inner().unwrap(), errors.into_inner(), wall)
}

fn pct(sorted: &[Duration], p: usize) -> f64 {
    let i = (sorted.len() - 1) * p / 100;
    sorted[i].as_secs_f64() * 1000.0
}

fn one_run(rds: usize, clients: usize) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let bin = common::binary();
    let mut c = Controller::start_bin(&bin, dir.path(), &["--simulate-satellites"]);
    seed_cluster(&c, 100);
    let (mut lat, errors, wall) = spawn_all(&c, rds, clients);
    lat.sort();
    c.stop();
    let c = Controller::start_bin(&bin, dir.path(), &["--simulate-satellites"]);
    let ready_ms = c.ready_after.as_secs_f64() * 1000.0;
    let rss_mib = c.rss_kib() as f64 / 1024.0;
    let n = c.ok("GET", "/v1/view/resources?limit=1", None);
    assert!(n.as_array().is_some_and(|a| !a.is_empty()), "state loaded");
    if let Ok(keep) = std::env::var("BENCH_KEEP_DIR") {
        // No writes happen now: the database and its WAL together are a consistent copy.
        std::fs::create_dir_all(&keep).unwrap();
        for f in ["linstor.db", "linstor.db-wal"] {
            let _ = std::fs::copy(dir.path().join(f), std::path::Path::new(&keep).join(f));
        }
    }
    let db: u64 = ["linstor.db", "linstor.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.path().join(f)).ok())
        .map(|m| m.len())
        .sum();
    Run {
        spawn_p50_ms: pct(&lat, 50),
        spawn_p99_ms: pct(&lat, 99),
        spawns_per_s: rds as f64 / wall.as_secs_f64(),
        errors,
        ready_ms,
        rss_mib,
        db_mib: db as f64 / (1024.0 * 1024.0),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runs = env_or("BENCH_RUNS", 3);
    let rds = env_or("BENCH_RDS", 10_000);
    let clients = env_or("BENCH_CLIENTS", 100);
    let mut all = Vec::new();
    for i in 0..runs {
        let r = one_run(rds, clients);
        println!(
            "run {}: spawn p50 {:.2} ms p99 {:.2} ms, {:.0} spawns/s, {} errors, ready {:.0} ms, RSS {:.1} MiB, db {:.1} MiB",
            i + 1,
            r.spawn_p50_ms,
            r.spawn_p99_ms,
            r.spawns_per_s,
            r.errors,
            r.ready_ms,
            r.rss_mib,
            r.db_mib
        );
        all.push(r);
    }
    let m = |f: fn(&Run) -> f64| median(all.iter().map(f).collect());
    println!(
        "controller_bench: 100 nodes, {rds} resource definitions x 3 resources, {clients} clients, median of {runs} runs (SIMULATED satellites)"
    );
    println!("  {:<34} {:>10}   target", "metric", "median");
    println!(
        "  {:<34} {:>10.1}   <= 64 MiB",
        "RSS after loading (MiB)",
        m(|r| r.rss_mib)
    );
    println!(
        "  {:<34} {:>10.0}   <= 2000 ms",
        "start-up to ready (ms)",
        m(|r| r.ready_ms)
    );
    println!("  {:<34} {:>10.2}", "spawn p50 (ms)", m(|r| r.spawn_p50_ms));
    println!("  {:<34} {:>10.2}", "spawn p99 (ms)", m(|r| r.spawn_p99_ms));
    println!(
        "  {:<34} {:>10.0}   >= 500",
        "spawns/s",
        m(|r| r.spawns_per_s)
    );
    println!(
        "  {:<34} {:>10}   0",
        "errors (all runs)",
        all.iter().map(|r| r.errors).sum::<usize>()
    );
    println!("  {:<34} {:>10.1}", "database size (MiB)", m(|r| r.db_mib));
}
