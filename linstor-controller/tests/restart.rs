//! Durability end to end, on the real binary: a burst of spawns from 20 clients is cut by
//! SIGTERM and, separately, by `kill -9`; after the restart every acknowledged resource
//! definition is there with its volume and three resources, everything that existed before the
//! burst is unchanged, and nothing unacknowledged is half there.

#![allow(clippy::print_stderr)]

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Controller, seed_cluster, spawn_body};
use serde_json::Value;

const CLIENTS: usize = 20;
const PER_CLIENT: usize = 25;
const KIB: u64 = 10_240;

/// Lists that describe everything the seed created (must survive unchanged).
fn seed_lists(c: &Controller) -> Vec<Value> {
    ["/v1/nodes", "/v1/view/storage-pools", "/v1/resource-groups"]
        .iter()
        .map(|p| strip_observed(c.ok("GET", p, None)))
        .collect()
}

/// Connection state and capacities come from (simulated) satellites, not from the database.
fn strip_observed(mut v: Value) -> Value {
    if let Some(items) = v.as_array_mut() {
        for it in items {
            if let Some(o) = it.as_object_mut() {
                for k in [
                    "connection_status",
                    "free_capacity",
                    "total_capacity",
                    "storage_providers",
                    "resource_layers",
                ] {
                    o.remove(k);
                }
            }
        }
    }
    v
}

/// Spawns from `CLIENTS` threads until each sent `PER_CLIENT` or the controller went away;
/// returns the acknowledged names and every name sent.
fn burst(
    c: &Controller,
    stop_after: usize,
    stop: impl FnOnce() + Send,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let sent = Arc::new(Mutex::new(BTreeSet::new()));
    std::thread::scope(|s| {
        for t in 0..CLIENTS {
            let (acked, sent, addr) = (acked.clone(), sent.clone(), c.addr.clone());
            s.spawn(move || {
                for i in 0..PER_CLIENT {
                    let name = format!("rsc-{t:02}-{i:03}");
                    sent.lock().unwrap().insert(name.clone());
                    match common::call(
                        &addr,
                        "POST",
                        "/v1/resource-groups/rg3/spawn",
                        Some(&spawn_body(&name, KIB)),
                    ) {
                        Some((201, _)) => {
                            acked.lock().unwrap().insert(name);
                        }
                        Some((status, v)) => panic!("spawn {name}: {status} {v}"),
                        None => break,
                    }
                }
            });
        }
        s.spawn(move || {
            while acked_len(&c.addr) < stop_after {
                std::thread::sleep(Duration::from_millis(5));
            }
            stop();
        });
    });
    let acked = Arc::try_unwrap(acked).unwrap().into_inner().unwrap();
    let sent = Arc::try_unwrap(sent).unwrap().into_inner().unwrap();
    (acked, sent)
}

/// Resource definitions the controller has now (0 once it is gone).
fn acked_len(addr: &str) -> usize {
    common::call(addr, "GET", "/v1/resource-definitions", None)
        .and_then(|(_, v)| v.as_array().map(Vec::len))
        .unwrap_or(usize::MAX)
}

fn check_after_restart(c: &Controller, acked: &BTreeSet<String>, sent: &BTreeSet<String>) {
    let rds = c.ok(
        "GET",
        "/v1/resource-definitions?with_volume_definitions=true",
        None,
    );
    let present: BTreeSet<String> = rds
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect();
    let lost: Vec<_> = acked
        .iter()
        .filter(|n| !present.iter().any(|p| p.eq_ignore_ascii_case(n)))
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    let rscs = c.ok("GET", "/v1/view/resources", None);
    for d in rds.as_array().unwrap() {
        let name = d["name"].as_str().unwrap();
        assert!(
            sent.iter().any(|s| s.eq_ignore_ascii_case(name)),
            "{name} was never sent"
        );
        let vds = d["volume_definitions"].as_array().map_or(0, Vec::len);
        assert_eq!(vds, 1, "{name}: half there (volume definitions: {vds})");
        assert_eq!(
            d["volume_definitions"][0]["size_kib"], KIB,
            "{name}: size changed"
        );
        let placed = rscs
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["name"] == name)
            .count();
        assert_eq!(placed, 3, "{name}: half there ({placed} resources)");
    }
}

fn run(kill: bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Controller::start(dir.path(), &["--simulate-satellites"]);
    seed_cluster(&c, 6);
    let before = seed_lists(&c);
    let pid = c.pid();
    let (acked, sent) = burst(&c, 250, || {
        let sig = if kill { "-KILL" } else { "-TERM" };
        let _ = std::process::Command::new("kill")
            .args([sig, &pid.to_string()])
            .status();
    });
    if kill {
        c.kill9();
    } else {
        c.stop();
    }
    // The stop comes once the controller holds 250 definitions; each client has at most one
    // request in flight, whose answer the stop may cut off, so at least 250 - CLIENTS were
    // acknowledged.
    assert!(
        acked.len() >= 250 - CLIENTS,
        "the burst was cut before {} acknowledgements: {}",
        250 - CLIENTS,
        acked.len()
    );
    let c = Controller::start(dir.path(), &["--simulate-satellites"]);
    assert_eq!(
        seed_lists(&c),
        before,
        "objects from before the burst changed"
    );
    check_after_restart(&c, &acked, &sent);
    eprintln!(
        "{}: {} acknowledged of {} sent, all there",
        if kill { "kill -9" } else { "SIGTERM" },
        acked.len(),
        sent.len()
    );
}

#[test]
fn sigterm_mid_burst_keeps_every_acknowledged_spawn() {
    run(false);
}

#[test]
fn kill9_mid_burst_keeps_every_acknowledged_spawn_and_nothing_half() {
    run(true);
}
