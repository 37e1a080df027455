//! Parity with LINBIT's client, end to end: one scenario of LINSTOR commands (LINBIT's grammar)
//! is run once with our `linstor` and once with LINBIT's Python client, each against its own
//! freshly started `linstor-controller` (SIMULATED satellites). Every command must exit 0 with
//! both, and afterwards both controllers must hold the same objects (nodes, storage pools,
//! resource groups, resource and volume definitions, resources, controller properties), up to
//! what differs between any two controllers (UUIDs, timestamps, DRBD generation identifiers).
//!
//! Skipped (a SKIP line) only when LINBIT's client cannot run here: no python3, no venv with
//! python-linstor from `scripts/pylinstor-venv`, or no checkout of the client.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::time::{Duration, Instant};

use common::{Controller, Linbit, Output};
use serde_json::Value;

/// A pool directory; with simulated satellites nothing is made there.
const POOL_DIR: &str = "/tmp/linstor-cli-parity-pool";

/// The scenario, one command line per entry.
fn scenario() -> Vec<Vec<&'static str>> {
    let lines = [
        "node create n1 127.0.0.1 --port 3366",
        "node create n2 127.0.0.1 --port 3366",
        "node create n3 127.0.0.1 --port 3366",
        "node set-property n1 Aux/zone a",
        "node set-property n2 Aux/zone b",
        "node set-property n3 Aux/zone c",
        "storage-pool create filethin n1 pool1 POOL",
        "storage-pool create filethin n2 pool1 POOL",
        "storage-pool create filethin n3 pool1 POOL",
        "resource-group create rg1 --place-count 2 --storage-pool pool1",
        "volume-group create rg1",
        "resource-group spawn-resources rg1 res1 20M",
        "resource-definition create rd2",
        "volume-definition create rd2 10M",
        "resource create n1 n2 rd2 --storage-pool pool1",
        "resource-definition set-property rd2 Aux/foo bar",
        "controller set-property Aux/x y",
        "volume-definition set-size rd2 0 20M",
        "resource delete n2 rd2",
        "resource-group create rgz --place-count 3 --replicas-on-different zone --storage-pool pool1",
        "volume-group create rgz",
        "resource-group spawn-resources rgz zoned 8M",
        "resource create n3 rd2 --diskless",
        "snapshot create res1 snap1",
        "resource-definition create res1copy",
        "snapshot volume-definition restore --from-resource res1 --from-snapshot snap1 --to-resource res1copy",
        "key-value-store modify kv1 some/key value",
    ];
    lines
        .into_iter()
        .map(|l| {
            l.split_whitespace()
                .map(|w| if w == "POOL" { POOL_DIR } else { w })
                .collect()
        })
        .collect()
}

/// The lists compared.
const LISTS: [&str; 8] = [
    "/v1/nodes",
    "/v1/view/storage-pools",
    "/v1/resource-groups",
    "/v1/resource-definitions?with_volume_definitions=true",
    "/v1/view/resources",
    "/v1/controller/properties",
    "/v1/view/snapshots",
    "/v1/key-value-store",
];

/// Keys whose values differ between any two controllers: random UUIDs, creation times, and the
/// random DRBD current generation identifier a new volume definition gets (`DrbdCurrentGi`).
const UNSTABLE: [&str; 3] = ["uuid", "create_timestamp", "DrbdCurrentGi"];

/// What identifies an object in a list, for sorting.
fn identity(v: &Value) -> Option<String> {
    let o = v.as_object()?;
    let text = |k: &str| o.get(k).and_then(Value::as_str);
    let vlm = o.get("volume_number").and_then(Value::as_u64);
    if text("name").is_none()
        && text("node_name").is_none()
        && text("storage_pool_name").is_none()
        && vlm.is_none()
    {
        return None;
    }
    Some(format!(
        "{}\0{}\0{}\0{:010}",
        text("name").unwrap_or_default(),
        text("node_name").unwrap_or_default(),
        text("storage_pool_name").unwrap_or_default(),
        vlm.unwrap_or(0)
    ))
}

/// Drops the [`UNSTABLE`] keys everywhere and sorts lists of named objects (by name, node,
/// pool, volume number); other lists (layer stacks, pool lists) keep their order.
fn normalize(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for k in UNSTABLE {
                m.remove(k);
            }
            m.values_mut().for_each(normalize);
        }
        Value::Array(a) => {
            a.iter_mut().for_each(normalize);
            if a.iter().all(|x| identity(x).is_some()) {
                a.sort_by_cached_key(|x| (identity(x), x.to_string()));
            }
        }
        _ => {}
    }
}

/// The normalized lists of a controller.
fn snapshot(c: &Controller) -> Vec<(&'static str, Value)> {
    LISTS
        .iter()
        .map(|path| {
            let mut v = c.get(path);
            normalize(&mut v);
            (*path, v)
        })
        .collect()
}

/// Runs the scenario with one client; every command must exit 0.
fn run_scenario(who: &str, linstor: &dyn Fn(&[&str]) -> Output) {
    let started = Instant::now();
    for args in scenario() {
        let out = linstor(&args);
        assert!(
            out.ok(),
            "{who}: `linstor {}` failed:\n{out}",
            args.join(" ")
        );
    }
    println!(
        "{who}: {} commands in {:.2} s",
        scenario().len(),
        started.elapsed().as_secs_f64()
    );
}

/// A few facts of the scenario's end state, so that two equal snapshots are not equal by being
/// empty.
fn check_end_state(snap: &[(&str, Value)]) {
    let list = |path: &str| {
        snap.iter()
            .find(|(p, _)| *p == path)
            .map(|(_, v)| v.clone())
            .expect("a listed path")
    };
    let nodes = list("/v1/nodes");
    let zones: Vec<&str> = nodes
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["props"]["Aux/zone"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(zones, ["a", "b", "c"], "{nodes:#}");
    let rds = list("/v1/resource-definitions?with_volume_definitions=true");
    let rd2 = rds
        .as_array()
        .and_then(|a| a.iter().find(|d| d["name"] == "rd2"))
        .unwrap_or_else(|| panic!("rd2 is there: {rds:#}"));
    assert_eq!(rd2["props"]["Aux/foo"], "bar", "{rd2:#}");
    assert_eq!(
        rd2["volume_definitions"][0]["size_kib"],
        20 * 1024,
        "{rd2:#}"
    );
    let rscs = list("/v1/view/resources");
    let placed: Vec<(&str, &str)> = rscs
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap_or_default(),
                r["node_name"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert!(placed.contains(&("rd2", "n1")), "{placed:?}");
    assert!(!placed.contains(&("rd2", "n2")), "{placed:?}");
    assert_eq!(
        placed.iter().filter(|(r, _)| *r == "res1").count(),
        3,
        "2 replicas and a tie-breaker: {placed:?}"
    );
    assert_eq!(list("/v1/controller/properties")["Aux/x"], "y");
}

#[test]
fn our_cli_and_linbits_leave_the_same_cluster() {
    let linbit = match Linbit::find() {
        Ok(l) => l,
        Err(why) => {
            println!("SKIP linbit_parity: {why}");
            return;
        }
    };
    let bin = common::controller_binary(false);
    let ours_ctl = Controller::start(&bin);
    let theirs_ctl = Controller::start(&bin);
    println!(
        "controllers: ours {} (pid {}), LINBIT's {} (pid {})",
        ours_ctl.addr,
        ours_ctl.pid(),
        theirs_ctl.addr,
        theirs_ctl.pid()
    );

    let our_bin = std::path::Path::new(env!("CARGO_BIN_EXE_linstor"));
    run_scenario("ours", &|args| {
        common::run_ours(our_bin, &ours_ctl.addr, args)
    });
    run_scenario("LINBIT's", &|args| linbit.run(&theirs_ctl.addr, args));

    // Simulated satellites answer within the same batch; the retries only cover a report
    // that lands a moment late on one side.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (a, b) = loop {
        let (a, b) = (snapshot(&ours_ctl), snapshot(&theirs_ctl));
        if a == b || Instant::now() >= deadline {
            break (a, b);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    for ((path, ours), (_, theirs)) in a.iter().zip(&b) {
        assert!(
            ours == theirs,
            "{path} differs\n--- after our CLI:\n{ours:#}\n--- after LINBIT's:\n{theirs:#}"
        );
    }
    check_end_state(&a);
}

#[test]
fn normalizing_drops_unstable_keys_and_sorts_named_objects() {
    let mut v = serde_json::json!([
        {"name": "b", "uuid": "1", "layer_stack": ["DRBD", "STORAGE"],
         "props": {"DrbdCurrentGi": "AB", "Aux/x": "1"}},
        {"name": "a", "create_timestamp": 5, "volumes": [{"volume_number": 10}, {"volume_number": 2}]},
    ]);
    normalize(&mut v);
    assert_eq!(
        v,
        serde_json::json!([
            {"name": "a", "volumes": [{"volume_number": 2}, {"volume_number": 10}]},
            {"name": "b", "layer_stack": ["DRBD", "STORAGE"], "props": {"Aux/x": "1"}},
        ])
    );
}

/// Two controllers on one etcd (`scripts/test-services`): LINBIT's client and ours, given the
/// standby first in `--controllers`, reach the active controller through it (the standby
/// forwards) and see what the other one created.
#[test]
fn both_clients_reach_the_active_controller_through_a_standby() {
    let linbit = match Linbit::find() {
        Ok(l) => l,
        Err(why) => {
            println!("SKIP linbit standby: {why}");
            return;
        }
    };
    let Ok(eps) = std::env::var("LINSTOR_TEST_ETCD_ENDPOINTS") else {
        println!(
            "SKIP linbit standby: set LINSTOR_TEST_ETCD_ENDPOINTS (scripts/test-services up DIR)"
        );
        return;
    };
    let conf = tempfile::NamedTempFile::new().expect("tmp");
    let prefix = format!("/cli-standby-{}/", std::process::id());
    std::fs::write(
        conf.path(),
        format!("[db]\nconnection_url = \"etcd://{eps}\"\n[db.etcd]\nprefix = \"{prefix}\"\n"),
    )
    .expect("config");
    let cfg = conf.path().to_str().expect("utf-8");
    let bin = common::controller_binary(false);
    let active = Controller::start_with(&bin, &["--config", cfg]);
    let standby = Controller::start_with(&bin, &["--config", cfg]);
    let both = format!("{},{}", standby.addr, active.addr);
    let out = linbit.run(
        &both,
        &["node", "create", "n1", "127.0.0.1", "--port", "3366"],
    );
    assert!(out.ok(), "LINBIT's client through the standby:\n{out}");
    let our_bin = std::path::Path::new(env!("CARGO_BIN_EXE_linstor"));
    let out = common::run_ours(
        our_bin,
        &standby.addr,
        &["node", "create", "n2", "127.0.0.1", "--port", "3366"],
    );
    assert!(out.ok(), "our client through the standby:\n{out}");
    for run in [
        linbit.run(&standby.addr, &["node", "list"]),
        common::run_ours(our_bin, &both, &["node", "list"]),
    ] {
        assert!(
            run.ok() && run.stdout.contains("n1") && run.stdout.contains("n2"),
            "{run}"
        );
    }
    let _ = std::process::Command::new("etcdctl")
        .env("ETCDCTL_API", "3")
        .args(["--endpoints", &eps, "del", "--prefix", &prefix])
        .output();
}
