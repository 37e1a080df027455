//! Controller failover with real satellites: a `scripts/local-cluster` whose controller keeps
//! its state in etcd (`scripts/test-services`), a second controller on the same database and
//! cluster key as a standby; the active one is killed with SIGKILL. The standby takes over,
//! reconnects the satellites (every node ONLINE again), serves the resources made before, and
//! a resource made through it is created on the satellites (UpToDate, backing files there).

#![allow(clippy::print_stdout)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Cluster, call, can_run};
use serde_json::json;

/// The standby controller, stopped by its pid when dropped.
struct Standby {
    child: Child,
    addr: String,
}

impl Drop for Standby {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn standby(c: &Cluster) -> Standby {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_linstor-satellite"))
        .with_file_name("linstor-controller");
    let mut child = Command::new(bin)
        .arg("--config")
        .arg(c.dir.join("controller.toml"))
        .arg("--data-dir")
        .arg(c.dir.join("standby"))
        .arg("--cluster-key")
        .arg(c.dir.join("controller/cluster.key"))
        .args(["--rest-bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(c.dir.join("standby.log")).expect("log"))
        .spawn()
        .expect("the controller starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening line");
    let addr = line
        .trim()
        .rsplit("http://")
        .next()
        .expect("an address")
        .to_owned();
    Standby { child, addr }
}

fn states(addr: &str, rd: &str) -> Vec<String> {
    call(
        addr,
        "GET",
        &format!("/v1/view/resources?resources={rd}"),
        None,
    )
    .and_then(|(s, v)| (s == 200).then_some(v))
    .and_then(|v| v.as_array().cloned())
    .unwrap_or_default()
    .iter()
    .flat_map(|r| r["volumes"].as_array().cloned().unwrap_or_default())
    .map(|v| v["state"]["disk_state"].as_str().unwrap_or("?").to_owned())
    .collect()
}

fn wait(secs: u64, what: &str, mut cond: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !cond() {
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    started.elapsed()
}

/// Every node ONLINE and every `filethin` pool's capacity reported.
fn online(addr: &str) -> bool {
    let nodes = call(addr, "GET", "/v1/nodes", None).is_some_and(|(s, v)| {
        s == 200
            && v.as_array().is_some_and(|ns| {
                !ns.is_empty() && ns.iter().all(|n| n["connection_status"] == "ONLINE")
            })
    });
    let pools = call(
        addr,
        "GET",
        "/v1/view/storage-pools?storage_pools=filethin",
        None,
    )
    .is_some_and(|(s, v)| {
        s == 200
            && v.as_array().is_some_and(|ps| {
                !ps.is_empty() && ps.iter().all(|p| p["free_capacity"].as_u64().is_some())
            })
    });
    nodes && pools
}

#[test]
fn real_controller_failover_reconnects_the_satellites_and_serves() {
    if !can_run("real_controller_failover") {
        return;
    }
    let Ok(eps) = std::env::var("LINSTOR_TEST_ETCD_ENDPOINTS") else {
        println!(
            "SKIP real_controller_failover: set LINSTOR_TEST_ETCD_ENDPOINTS (scripts/test-services up DIR)"
        );
        return;
    };
    let conf = tempfile::NamedTempFile::new().expect("tmp");
    let prefix = format!("/failover-sat-{}/", std::process::id());
    std::fs::write(
        conf.path(),
        format!("[db]\nconnection_url = \"etcd://{eps}\"\n[db.etcd]\nprefix = \"{prefix}\"\n[ha]\nlease_seconds = 2\n"),
    )
    .expect("config");
    let conf_path = conf.path().to_str().expect("utf-8").to_owned();
    let c = Cluster::up_with_env(2, &[("LOCAL_CLUSTER_CONTROLLER_CONFIG", &conf_path)]);
    let spawn = |addr: &str, name: &str| {
        let body = json!({"resource_definition_name": name, "volume_sizes": [8192]});
        let (s, v) =
            call(addr, "POST", "/v1/resource-groups/rg2/spawn", Some(&body)).expect("answer");
        assert!(s < 300, "spawn {name}: {s} {v}");
    };
    c.ok(
        "POST",
        "/v1/resource-groups",
        Some(&json!({"name": "rg2", "select_filter": {"place_count": 2, "storage_pool": "filethin"}})),
    );
    c.ok(
        "POST",
        "/v1/resource-groups/rg2/volume-groups",
        Some(&json!({"volume_number": 0})),
    );
    wait(60, "every satellite ONLINE with its pool", || {
        online(&c.addr)
    });
    spawn(&c.addr, "before");
    wait(60, "'before' UpToDate", || {
        states(&c.addr, "before") == ["UpToDate", "UpToDate"]
    });
    let b = standby(&c);
    wait(10, "the standby to see the active one", || {
        common::call_text(&b.addr, "GET", "/health", None)
            .is_some_and(|(s, t)| s == 503 && t.contains("STANDBY"))
    });
    let killed = Instant::now();
    c.kill("controller");
    wait(
        30,
        "the standby to take over and reconnect every satellite",
        || online(&b.addr),
    );
    let took = killed.elapsed();
    assert_eq!(
        states(&b.addr, "before"),
        ["UpToDate", "UpToDate"],
        "the old resource is served"
    );
    spawn(&b.addr, "after");
    wait(60, "'after' UpToDate through the new controller", || {
        states(&b.addr, "after") == ["UpToDate", "UpToDate"]
    });
    let files: Vec<_> = ["node-1", "node-2"]
        .iter()
        .map(|n| std::fs::read_dir(c.pool(n)).expect("pool").count())
        .collect();
    assert!(
        files.iter().all(|n| *n >= 2),
        "backing files on both nodes: {files:?}"
    );
    let _ = Command::new("etcdctl")
        .env("ETCDCTL_API", "3")
        .args(["--endpoints", &eps, "del", "--prefix", &prefix])
        .output();
    println!(
        "controller failover with 2 real satellites: satellites ONLINE on the new controller {:.1} s after the kill",
        took.as_secs_f64()
    );
    drop(b);
}
