//! Heap footprint of the core model: 100 nodes (a FILE_THIN pool and `Aux/zone` each, reported
//! ONLINE with capacity, as `--simulate-satellites` does), a resource group with place count 3,
//! then 10,000 `RscGrpSpawn`s of one 1 GiB volume (3 resources each), all through
//! `Cluster::execute` with a fixed `SeededEnv`.
//!
//! Run: `cargo run --release --example memory_footprint [-- --rds N --nodes M]`. A counting
//! global allocator (`stats_alloc` over `System`) gives the bytes live on the heap (as requested
//! from the allocator: malloc's per-chunk overhead comes on top, see the allocation counts):
//! the state alone (a deep clone), the cluster as built (state + indexes), the state loaded from
//! its JSON, and `Cluster::from_state` of it (the controller's path after a restart), with a
//! breakdown of the state and of one resource definition.
//!
//! RSS includes malloc's overhead and what building left freed but kept; for the RSS a loaded
//! cluster really costs, save the JSON (`-- --save state.json`) and load it in a fresh process
//! (`-- --load state.json`): that prints the RSS before and after `Cluster::from_json`.
#![allow(
    clippy::print_stdout,
    clippy::cast_precision_loss,
    reason = "a measurement prints its results"
)]

use std::alloc::System;
use std::collections::BTreeMap;

use linstor_core::cluster::{Cluster, Command, NetIfSpec, SeededEnv};
use linstor_core::model::{
    Capabilities, ConnectionStatus, EncryptionType, LayerKind, NodeType, ProviderKind, SelectFilter,
};
use linstor_core::size::SizeKib;
use linstor_core::state::ClusterState;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes and allocations live right now.
#[derive(Clone, Copy)]
struct Live {
    bytes: i128,
    allocs: i128,
}

fn live() -> Live {
    let s = GLOBAL.stats();
    Live {
        // `stats_alloc` books a reallocation's growth in `bytes_allocated` and its shrinking in
        // `bytes_deallocated` (and both again in `bytes_reallocated`).
        bytes: s.bytes_allocated as i128 - s.bytes_deallocated as i128,
        allocs: s.allocations as i128 - s.deallocations as i128,
    }
}

/// What `f` leaves live on the heap, and its result.
fn measure<T>(f: impl FnOnce() -> T) -> (T, Live) {
    let a = live();
    let out = f();
    let b = live();
    (
        out,
        Live {
            bytes: b.bytes - a.bytes,
            allocs: b.allocs - a.allocs,
        },
    )
}

fn arg_str(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn arg(name: &str, default: usize) -> usize {
    arg_str(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `--load PATH`: the RSS a cluster loaded from JSON costs in a fresh process.
fn load(path: &str) {
    let base = rss_kib();
    let json = std::fs::read_to_string(path).expect("reads the state");
    let with_json = rss_kib();
    let (state, ls) = measure(|| serde_json::from_str::<ClusterState>(&json).expect("loads"));
    let parsed = rss_kib();
    let (c, li) = measure(|| Cluster::from_state(state).expect("consistent"));
    let l = Live {
        bytes: ls.bytes + li.bytes,
        allocs: ls.allocs + li.allocs,
    };
    let loaded = rss_kib();
    drop(json);
    let after = rss_kib();
    println!(
        "memory_footprint --load: {} resource definitions; heap {} bytes in {} allocations",
        c.state().resource_definitions.len(),
        l.bytes,
        l.allocs
    );
    println!(
        "RSS: {base} KiB at start, {with_json} KiB with the JSON read, {parsed} KiB with the \
         state parsed, {loaded} KiB with the cluster built from it, {after} KiB without the \
         JSON: the cluster costs {} KiB of RSS",
        after.saturating_sub(base)
    );
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn capabilities() -> Capabilities {
    use ProviderKind as P;
    Capabilities {
        storage_providers: vec![
            P::DISKLESS,
            P::LVM,
            P::LVM_THIN,
            P::ZFS,
            P::ZFS_THIN,
            P::FILE,
            P::FILE_THIN,
        ],
        resource_layers: vec![LayerKind::DRBD, LayerKind::STORAGE],
        unsupported_providers: BTreeMap::new(),
        unsupported_layers: BTreeMap::new(),
        drbd_version: Some((9, 2, 12)),
    }
}

/// The cluster of the acceptance test, built through `execute`.
fn build(nodes: usize, rds: usize) -> Cluster {
    let mut env = SeededEnv::new(11);
    let mut c = Cluster::new(&mut env);
    let mut run = |c: &mut Cluster, cmd: Command| {
        let o = c.execute(cmd, &mut env);
        assert!(!o.is_error(), "{}", o.rc);
    };
    for i in 0..nodes {
        let name = format!("node-{i:03}");
        run(
            &mut c,
            Command::NodeCreate {
                name: name.clone(),
                node_type: NodeType::Satellite,
                net_interfaces: vec![NetIfSpec {
                    name: "default".into(),
                    address: format!("10.0.{}.{}", i / 250, i % 250 + 1),
                    satellite_port: Some(3366),
                    encryption: EncryptionType::Plain,
                }],
                props: [("Aux/zone".to_owned(), format!("z{}", i % 3))].into(),
            },
        );
        run(
            &mut c,
            Command::StorPoolCreate {
                node: name.clone(),
                name: "thin".into(),
                kind: ProviderKind::FILE_THIN,
                props: [(
                    "StorDriver/StorPoolName".to_owned(),
                    "/var/lib/linstor-pools/thin".to_owned(),
                )]
                .into(),
                shared_space: None,
            },
        );
        run(
            &mut c,
            Command::NodeReport {
                node: name.clone(),
                connection: ConnectionStatus::ONLINE,
                capabilities: Some(capabilities()),
            },
        );
        for (pool, kib) in [("DfltDisklessStorPool", 0), ("thin", 100u64 << 30)] {
            run(
                &mut c,
                Command::StorPoolReport {
                    node: name.clone(),
                    pool: pool.into(),
                    free: SizeKib(kib),
                    total: SizeKib(kib),
                },
            );
        }
    }
    run(
        &mut c,
        Command::RscGrpCreate {
            name: "rg3".into(),
            description: String::new(),
            props: BTreeMap::new(),
            select_filter: SelectFilter {
                place_count: Some(3),
                storage_pool_list: Some(vec!["thin".parse().expect("a pool name")]),
                ..SelectFilter::default()
            },
            peer_slots: None,
        },
    );
    for i in 0..rds {
        run(
            &mut c,
            Command::RscGrpSpawn {
                rsc_grp: "rg3".into(),
                rsc_dfn: format!("pvc-{i:06}"),
                external_name: None,
                volume_sizes: vec![SizeKib(1 << 20)],
                partial: false,
                nodes: Vec::new(),
                select_filter: None,
                definitions_only: false,
                peer_slots: None,
                rsc_dfn_props: BTreeMap::new(),
            },
        );
    }
    c
}

fn row(what: &str, l: Live, rds: usize) {
    let per_rd = l.bytes as f64 / rds.max(1) as f64;
    println!(
        "{what:<44} {:>12} {:>9.1} {:>10} {per_rd:>9.0}",
        l.bytes,
        l.bytes as f64 / f64::from(1 << 20),
        l.allocs,
    );
}

fn sizes() {
    use linstor_core::model as m;
    use std::mem::size_of;
    println!(
        "size_of: ResourceDefinition {}, VolumeDefinition {}, Resource {}, Volume {}, Props {}, \
         NodeName {}, Uuid {}",
        size_of::<m::ResourceDefinition>(),
        size_of::<m::VolumeDefinition>(),
        size_of::<m::Resource>(),
        size_of::<m::Volume>(),
        size_of::<linstor_core::props::Props>(),
        size_of::<linstor_core::name::NodeName>(),
        size_of::<m::Uuid>(),
    );
}

fn breakdown(s: &ClusterState, rds: usize) {
    let parts: [(&str, Live); 5] = [
        ("  nodes", measure(|| s.nodes.clone()).1),
        (
            "  resource_definitions",
            measure(|| s.resource_definitions.clone()).1,
        ),
        ("  resource_groups", measure(|| s.resource_groups.clone()).1),
        ("  observed", measure(|| s.observed.clone()).1),
        ("  ctrl_props", measure(|| s.ctrl_props.clone()).1),
    ];
    for (what, l) in parts {
        row(what, l, rds);
    }
    let Some(rd) = s.resource_definitions.values().next() else {
        return;
    };
    println!("one resource definition ({}):", rd.name);
    let r = rd.resources.values().next();
    let v = r.and_then(|r| r.volumes.values().next());
    let one: [(&str, Live); 7] = [
        ("  the definition (all below)", measure(|| rd.clone()).1),
        ("  .props", measure(|| rd.props.clone()).1),
        (
            "  .volume_definitions",
            measure(|| rd.volume_definitions.clone()).1,
        ),
        ("  .resources", measure(|| rd.resources.clone()).1),
        ("  one resource", measure(|| r.cloned()).1),
        (
            "  one resource's .props",
            measure(|| r.map(|r| r.props.clone())).1,
        ),
        ("  one volume", measure(|| v.cloned()).1),
    ];
    for (what, l) in one {
        println!("{what:<44} {:>12} {:>10}", l.bytes, l.allocs);
    }
}

fn main() {
    if let Some(path) = arg_str("--load") {
        load(&path);
        return;
    }
    let nodes = arg("--nodes", 100);
    let rds = arg("--rds", 10_000);
    let (c, built) = measure(|| build(nodes, rds));
    println!(
        "memory_footprint: {nodes} nodes, {rds} resource definitions x 3 resources (1 volume each)"
    );
    println!(
        "{:<44} {:>12} {:>9} {:>10} {:>9}",
        "heap live after", "bytes", "MiB", "allocs", "B/RD"
    );
    row("building (Cluster, via execute)", built, rds);
    let (state, st) = measure(|| c.state().clone());
    row("state alone (a deep clone)", st, rds);
    breakdown(&state, rds);
    drop(state);
    let json = c.to_json();
    let ((), cluster) = measure(|| drop(c));
    let cluster = Live {
        bytes: -cluster.bytes,
        allocs: -cluster.allocs,
    };
    row("Cluster as built (freed by its drop)", cluster, rds);
    let (state, loaded) = measure(|| serde_json::from_str::<ClusterState>(&json).expect("loads"));
    row("state loaded from its JSON", loaded, rds);
    let (c, idx) = measure(|| Cluster::from_state(state).expect("consistent"));
    row("indexes built by Cluster::from_state", idx, rds);
    row(
        "Cluster loaded (state + indexes)",
        Live {
            bytes: loaded.bytes + idx.bytes,
            allocs: loaded.allocs + idx.allocs,
        },
        rds,
    );
    sizes();
    let json_len = json.len();
    if let Some(path) = arg_str("--save") {
        std::fs::write(&path, &json).expect("writes the state");
    }
    drop(json);
    println!(
        "JSON {json_len} bytes; process RSS with the loaded cluster {} KiB (the allocator keeps what \
         building freed)",
        rss_kib()
    );
    assert_eq!(c.state().resource_definitions.len(), rds);
}
