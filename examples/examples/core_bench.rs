//! Release-mode benchmark of the core model: 100 nodes, 10,000 resource definitions × 3 resources.
//!
//! Run: `cargo run --release --example core_bench [-- --rds N --nodes M]`. Fixed seed; prints the
//! median and p99 time per command (per kind and overall), the process's peak RSS, the serialized
//! state size and the time to save and load it. Timing lives here, never in tests.
#![allow(clippy::print_stdout, reason = "a benchmark prints its results")]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use linstor_core::cluster::{Cluster, Command, NetIfSpec, SeededEnv};
use linstor_core::model::{EncryptionType, NodeType, ProviderKind};
use linstor_core::size::SizeKib;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn pct(sorted: &[Duration], permille: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    // Nearest-rank percentile in integer arithmetic.
    sorted[(sorted.len() - 1) * permille / 1000]
}

fn main() {
    let nodes = arg("--nodes", 100);
    let rds = arg("--rds", 10_000);
    let rss_start = rss_kib("VmRSS:");
    let mut env = SeededEnv::new(7);
    let mut c = Cluster::new(&mut env);
    let mut times: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    let mut exec = |c: &mut Cluster, env: &mut SeededEnv, kind: &'static str, cmd: Command| {
        let t = Instant::now();
        let o = c.execute(cmd, env);
        let d = t.elapsed();
        assert!(!o.is_error(), "{kind} failed: {}", o.rc);
        times.entry(kind).or_default().push(d);
    };
    for i in 0..nodes {
        let name = format!("node{i:04}");
        exec(
            &mut c,
            &mut env,
            "node create",
            Command::NodeCreate {
                name: name.clone(),
                node_type: NodeType::Satellite,
                net_interfaces: vec![NetIfSpec {
                    name: "default".into(),
                    address: format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256),
                    satellite_port: Some(3366),
                    encryption: EncryptionType::Plain,
                }],
                props: [("Aux/zone".to_owned(), format!("z{}", i % 3))].into(),
            },
        );
        exec(
            &mut c,
            &mut env,
            "storage-pool create",
            Command::StorPoolCreate {
                node: name,
                name: "thin".into(),
                kind: ProviderKind::LVM_THIN,
                props: [("StorDriver/StorPoolName".to_owned(), "vg0/thin".to_owned())].into(),
                shared_space: None,
            },
        );
    }
    for i in 0..rds {
        let rd = format!("pvc-{i:06}");
        exec(
            &mut c,
            &mut env,
            "resource-definition create",
            Command::RscDfnCreate {
                name: rd.clone(),
                rsc_grp: None,
                external_name: None,
                props: BTreeMap::new(),
                secret: None,
                peer_slots: None,
                layer_stack: None,
            },
        );
        exec(
            &mut c,
            &mut env,
            "volume-definition create",
            Command::VlmDfnCreate {
                rsc_dfn: rd.clone(),
                number: None,
                size: SizeKib(((i % 50) as u64 + 1) << 20),
                minor: None,
                props: BTreeMap::new(),
            },
        );
        for k in 0..3 {
            let node = format!("node{:04}", (i * 7 + k * (nodes / 3).max(1)) % nodes);
            exec(
                &mut c,
                &mut env,
                "resource create",
                Command::RscCreate {
                    rsc_dfn: rd.clone(),
                    node,
                    storage_pool: Some("thin".into()),
                    diskless: false,
                    drbd_client: false,
                    props: BTreeMap::new(),
                },
            );
        }
    }
    let rss_built = rss_kib("VmRSS:");
    c.check_invariants().expect("invariants hold");
    let t = Instant::now();
    let json = c.to_json();
    let save = t.elapsed();
    let t = Instant::now();
    let back = Cluster::from_json(&json).expect("loads");
    let load = t.elapsed();
    assert!(back == c);
    drop(back);

    let mut all: Vec<Duration> = Vec::new();
    println!(
        "core_bench: {nodes} nodes, {rds} resource definitions x 3 resources (seed 7, release build)"
    );
    println!(
        "{:<28} {:>8} {:>12} {:>12}",
        "command", "count", "median", "p99"
    );
    for (k, v) in &mut times {
        v.sort();
        println!(
            "{k:<28} {:>8} {:>12?} {:>12?}",
            v.len(),
            pct(v, 500),
            pct(v, 990)
        );
        all.extend(v.iter());
    }
    all.sort();
    println!(
        "{:<28} {:>8} {:>12?} {:>12?}",
        "all commands",
        all.len(),
        pct(&all, 500),
        pct(&all, 990)
    );
    println!(
        "peak RSS (VmHWM): {} KiB; RSS before {} KiB, after building {} KiB",
        rss_kib("VmHWM:"),
        rss_start,
        rss_built
    );
    println!(
        "serialized state: {} bytes JSON ({:.0} bytes per resource definition)",
        json.len(),
        json.len() as f64 / rds.max(1) as f64
    );
    println!(
        "save (to_json): {save:?}; load (from_json + index rebuild + invariant check): {load:?}"
    );
}
