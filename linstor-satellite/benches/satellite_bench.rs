//! `satellite_bench`: the release `linstor-satellite` and `linstor-controller` binaries end to
//! end on `scripts/local-cluster` (FILE_THIN pools on btrfs loop filesystems, SIMULATED DRBD:
//! real sparse files, loop devices, `drbdadm sh-nop`, `drbdmeta`; no DRBD kernel module), driven
//! over REST. Fixed names and sizes, no randomness.
//!
//! Per run:
//! 1. a 3-node cluster: each satellite's RSS (`VmRSS`) idle after `up`; then `BENCH_SPAWNS`
//!    spawns of a 3-replica resource (one volume of `BENCH_SIZE_KIB`), one at a time: the time
//!    from the spawn request to every replica's volume reporting `UpToDate` in
//!    `GET /v1/view/resources?resources=NAME` (polled every 5 ms); p50 and p99;
//! 2. a 1-node cluster with `BENCH_RSCS` resources (one replica, one volume each, spawned
//!    back to back): the time until all are `UpToDate`, the satellite's RSS with them, then
//!    `kill -9` of the satellite and a `start`: the time until every resource is `UpToDate`
//!    again (the controller forgets a node's reports when its connection changes, so the view
//!    shows no state until the satellite has observed, re-planned and re-reported
//!    everything), measured from the start and from the moment the controller's link is up;
//!    then ten more spawns (one replica) on that node, p50.
//!
//! Every cluster is torn down (`scripts/local-cluster down`) when its guard drops, also on a
//! panic. Nothing is written outside the temp directories.
//!
//! `cargo bench -p linstor-satellite --bench satellite_bench` (as root: loop devices and
//! mounts). It first runs `cargo build --release -p linstor-controller -p linstor-satellite`
//! (the release binaries `LINSTOR_BIN_DIR` points at); set `BENCH_NO_BUILD=1` to skip that
//! when they are current. Env `BENCH_RUNS`, `BENCH_SPAWNS`, `BENCH_RSCS`, `BENCH_SIZE_KIB`
//! override the defaults 3, 50, 1000, 4096 (`BENCH_RSCS=0` skips phase 2). Under `cargo test --all-targets` (debug build) it
//! is a smoke run on the debug binaries: 1 run, 3 spawns, 10 resources.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::cast_precision_loss,
    missing_docs
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Cluster, can_run};
use serde_json::{Value, json};

struct Run {
    idle_rss_mib: f64,
    spawn_p50_ms: f64,
    spawn_p99_ms: f64,
    create_all_s: f64,
    rss_full_mib: f64,
    resync_from_start_s: f64,
    resync_from_link_s: f64,
    rss_resynced_mib: f64,
    loaded_spawn_p50_ms: f64,
}

fn env_or(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `VmRSS` of `node`'s satellite, MiB.
fn rss_mib(c: &Cluster, node: &str) -> f64 {
    let pid = std::fs::read_to_string(c.dir.join(node).join("pid")).expect("pid file");
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).unwrap_or_default();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS of the satellite");
    kib as f64 / 1024.0
}

/// Polls `cond` every `every` until it holds; panics (with the node log) after `secs`.
fn wait(c: &Cluster, secs: u64, every: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if cond() {
            return;
        }
        std::thread::sleep(every);
    }
    let log = std::fs::read_to_string(c.dir.join("node-1/satellite.log")).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(40).collect();
    panic!(
        "timed out after {secs} s waiting for {what}; node-1's log ends:\n{}",
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
}

/// Every node ONLINE with its pool's capacity reported.
fn all_online(c: &Cluster) -> bool {
    let nodes = c.ok("GET", "/v1/nodes", None);
    let pools = c.ok("GET", "/v1/view/storage-pools?storage_pools=filethin", None);
    nodes.as_array().is_some_and(|ns| {
        ns.iter()
            .all(|n| n["connection_status"].as_str() == Some("ONLINE"))
    }) && pools
        .as_array()
        .is_some_and(|ps| ps.iter().all(|p| p["free_capacity"].as_u64().is_some()))
}

fn node_status(c: &Cluster, node: &str) -> String {
    let v = c.ok("GET", &format!("/v1/nodes/{node}"), None);
    v["connection_status"].as_str().unwrap_or("?").to_owned()
}

fn resource_group(c: &Cluster, name: &str, place: u32) {
    c.ok(
        "POST",
        "/v1/resource-groups",
        Some(&json!({"name": name, "select_filter": {"place_count": place, "storage_pool": "filethin"}})),
    );
    c.ok(
        "POST",
        &format!("/v1/resource-groups/{name}/volume-groups"),
        Some(&json!({"volume_number": 0})),
    );
}

fn spawn(c: &Cluster, rg: &str, name: &str, size_kib: u64) {
    c.ok(
        "POST",
        &format!("/v1/resource-groups/{rg}/spawn"),
        Some(&json!({"resource_definition_name": name, "volume_sizes": [size_kib]})),
    );
}

fn resource_up_to_date(r: &Value) -> bool {
    r["volumes"].as_array().is_some_and(|vs| {
        !vs.is_empty()
            && vs
                .iter()
                .all(|v| v["state"]["disk_state"].as_str() == Some("UpToDate"))
    })
}

/// Number of resources (of any definition) whose every volume reports `UpToDate`.
fn up_to_date_count(c: &Cluster) -> usize {
    let v = c.ok("GET", "/v1/view/resources", None);
    v.as_array()
        .map(|rs| rs.iter().filter(|r| resource_up_to_date(r)).count())
        .unwrap_or(0)
}

fn pct(sorted: &[Duration], p: usize) -> f64 {
    let i = (sorted.len() - 1) * p / 100;
    sorted[i].as_secs_f64() * 1000.0
}

/// Phase 1: idle RSS of three satellites, then `spawns` 3-replica spawns one at a time.
fn three_nodes(spawns: usize, size_kib: u64) -> (f64, f64, f64) {
    let c = Cluster::up(3);
    wait(&c, 30, Duration::from_millis(50), "3 nodes ONLINE", || {
        all_online(&c)
    });
    std::thread::sleep(Duration::from_secs(1));
    let idle = (1..=3)
        .map(|i| rss_mib(&c, &format!("node-{i}")))
        .fold(0.0, f64::max);
    resource_group(&c, "rg3", 3);
    let mut lat = Vec::with_capacity(spawns);
    for i in 0..spawns {
        let name = format!("sp{i:04}");
        let path = format!("/v1/view/resources?resources={name}");
        let t = Instant::now();
        spawn(&c, "rg3", &name, size_kib);
        wait(&c, 60, Duration::from_millis(5), &name, || {
            let v = c.ok("GET", &path, None);
            v.as_array()
                .is_some_and(|rs| rs.len() == 3 && rs.iter().all(resource_up_to_date))
        });
        lat.push(t.elapsed());
    }
    lat.sort();
    (idle, pct(&lat, 50), pct(&lat, 99))
}

/// Phase 2: `rscs` resources on one node, then a restart of its satellite, then a few spawns.
fn one_node_full(rscs: usize, size_kib: u64) -> Full {
    let c = Cluster::up(1);
    wait(&c, 30, Duration::from_millis(50), "node-1 ONLINE", || {
        all_online(&c)
    });
    // One DRBD port per resource on the node: LINSTOR's default range 7000-7999 holds 1,000.
    let last_port = 7000 + rscs + LOADED_SPAWNS + 100;
    c.ok(
        "POST",
        "/v1/controller/properties",
        Some(&json!({"override_props": {"TcpPortAutoRange": format!("7000-{last_port}")}})),
    );
    resource_group(&c, "rg1", 1);
    let t = Instant::now();
    for i in 0..rscs {
        spawn(&c, "rg1", &format!("r{i:05}"), size_kib);
    }
    let limit = 60 + rscs as u64;
    wait(
        &c,
        limit,
        Duration::from_millis(50),
        "every resource UpToDate",
        || up_to_date_count(&c) == rscs,
    );
    let create_all = t.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(1));
    let rss_full = rss_mib(&c, "node-1");
    c.kill("node-1");
    wait(&c, 30, Duration::from_millis(10), "node-1 OFFLINE", || {
        node_status(&c, "node-1") == "OFFLINE"
    });
    let t = Instant::now();
    c.start("node-1", None);
    wait(
        &c,
        30,
        Duration::from_millis(5),
        "the controller's link to node-1",
        || node_status(&c, "node-1") != "OFFLINE",
    );
    let linked = Instant::now();
    wait(
        &c,
        limit,
        Duration::from_millis(20),
        "every resource UpToDate after the restart",
        || up_to_date_count(&c) == rscs,
    );
    let from_start = t.elapsed().as_secs_f64();
    let from_link = linked.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(1));
    let rss_resynced = rss_mib(&c, "node-1");
    // A node that holds them all still answers a new spawn quickly.
    let mut lat = Vec::with_capacity(LOADED_SPAWNS);
    for i in 0..LOADED_SPAWNS {
        let name = format!("more{i:02}");
        let path = format!("/v1/view/resources?resources={name}");
        let t = Instant::now();
        spawn(&c, "rg1", &name, size_kib);
        wait(&c, 60, Duration::from_millis(5), &name, || {
            let v = c.ok("GET", &path, None);
            v.as_array()
                .is_some_and(|rs| rs.len() == 1 && rs.iter().all(resource_up_to_date))
        });
        lat.push(t.elapsed());
    }
    lat.sort();
    Full {
        create_all,
        rss_full,
        from_start,
        from_link,
        rss_resynced,
        loaded_spawn_p50_ms: pct(&lat, 50),
    }
}

/// Spawns (one replica) on the node holding all resources, after the resync.
const LOADED_SPAWNS: usize = 10;

/// What phase 2 measured.
#[derive(Default)]
struct Full {
    create_all: f64,
    rss_full: f64,
    from_start: f64,
    from_link: f64,
    rss_resynced: f64,
    loaded_spawn_p50_ms: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if !can_run("satellite_bench") {
        return;
    }
    // `cargo test --all-targets` builds and runs benches in the debug profile: then this is a
    // smoke run of the whole procedure on the debug binaries, with small numbers.
    let smoke = cfg!(debug_assertions);
    if smoke {
        println!(
            "satellite_bench: debug build (cargo test): a smoke run with small numbers; the figures come from `cargo bench`"
        );
    } else {
        if std::env::var_os("BENCH_NO_BUILD").is_none() {
            common::build_release();
        }
        let bins = Path::new(env!("CARGO_BIN_EXE_linstor-satellite"))
            .parent()
            .expect("bin dir");
        assert!(
            bins.ends_with("release"),
            "satellite_bench measures release binaries, not {}",
            bins.display()
        );
    }
    let runs = env_or("BENCH_RUNS", if smoke { 1 } else { 3 });
    let spawns = env_or("BENCH_SPAWNS", if smoke { 3 } else { 50 });
    let rscs = env_or("BENCH_RSCS", if smoke { 10 } else { 1000 });
    let size_kib = env_or("BENCH_SIZE_KIB", 4096) as u64;
    let mut all = Vec::new();
    for i in 0..runs {
        let (idle, p50, p99) = three_nodes(spawns, size_kib);
        // BENCH_RSCS=0 measures phase 1 only.
        let f = if rscs == 0 {
            Full::default()
        } else {
            one_node_full(rscs, size_kib)
        };
        let r = Run {
            idle_rss_mib: idle,
            spawn_p50_ms: p50,
            spawn_p99_ms: p99,
            create_all_s: f.create_all,
            rss_full_mib: f.rss_full,
            resync_from_start_s: f.from_start,
            resync_from_link_s: f.from_link,
            rss_resynced_mib: f.rss_resynced,
            loaded_spawn_p50_ms: f.loaded_spawn_p50_ms,
        };
        println!(
            "run {}: idle RSS {:.1} MiB, spawn→UpToDate p50 {:.1} ms p99 {:.1} ms, {rscs} created→UpToDate {:.2} s, RSS {:.1} MiB, resync from start {:.2} s (from link {:.2} s), RSS after {:.1} MiB, 1-replica spawn on the full node p50 {:.1} ms",
            i + 1,
            r.idle_rss_mib,
            r.spawn_p50_ms,
            r.spawn_p99_ms,
            r.create_all_s,
            r.rss_full_mib,
            r.resync_from_start_s,
            r.resync_from_link_s,
            r.rss_resynced_mib,
            r.loaded_spawn_p50_ms
        );
        all.push(r);
    }
    let m = |f: fn(&Run) -> f64| median(all.iter().map(f).collect());
    println!(
        "satellite_bench: FILE_THIN on btrfs loops, SIMULATED DRBD, {size_kib} KiB volumes; {spawns} spawns x 3 replicas on 3 nodes; {rscs} resources on 1 node; median of {runs} runs"
    );
    println!("  {:<44} {:>10}   target", "metric", "median");
    println!(
        "  {:<44} {:>10.1}   <= 16 MiB",
        "satellite RSS idle (MiB, max of 3 nodes)",
        m(|r| r.idle_rss_mib)
    );
    println!(
        "  {:<44} {:>10.1}   <= 32 MiB",
        format!("satellite RSS with {rscs} resources (MiB)"),
        m(|r| r.rss_full_mib)
    );
    println!(
        "  {:<44} {:>10.1}   <= 32 MiB",
        "  after the restart and resync (MiB)",
        m(|r| r.rss_resynced_mib)
    );
    println!(
        "  {:<44} {:>10.1}   <= 200 ms",
        "spawn -> 3 replicas UpToDate p50 (ms)",
        m(|r| r.spawn_p50_ms)
    );
    println!(
        "  {:<44} {:>10.1}",
        "spawn -> 3 replicas UpToDate p99 (ms)",
        m(|r| r.spawn_p99_ms)
    );
    println!(
        "  {:<44} {:>10.2}",
        format!("{rscs} spawned -> all UpToDate (s)"),
        m(|r| r.create_all_s)
    );
    println!(
        "  {:<44} {:>10.2}",
        "resync after restart, from start (s)",
        m(|r| r.resync_from_start_s)
    );
    println!(
        "  {:<44} {:>10.2}",
        "resync after restart, from link up (s)",
        m(|r| r.resync_from_link_s)
    );
    println!(
        "  {:<44} {:>10.1}",
        format!("1-replica spawn, node with {rscs} p50 (ms)"),
        m(|r| r.loaded_spawn_p50_ms)
    );
}
