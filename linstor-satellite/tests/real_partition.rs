//! End to end under a network partition: three satellites, each in a network namespace this
//! test makes (a veth pair into a bridge in the root namespace, addresses in 10.231.79.0/24),
//! the controller in the root namespace on 127.0.0.1 (reaching the satellites over the
//! bridge). DRBD is SIMULATED; its peers are reached over this real network (`sim_net`), so
//! cutting a link (`ip link set <veth> down`) partitions the simulated DRBD too.
//!
//! A resource with 2 diskful replicas and the auto tiebreaker; one diskful node is cut off:
//! it loses quorum (and refuses promotion: it never writes), the other two keep it, and the
//! core's partition rule (`linstor_core::quorum::may_write`) says the same for each side.
//! After healing every peer is Connected again with quorum and the resource is UpToDate.
//! Everything made (namespaces, veths, the bridge, daemons, loop devices, files) is removed,
//! also on failure (Drop guards).

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use linstor_core::NodeName;
use linstor_core::quorum::{Member, QuorumPolicy, Role, may_write};
use linstor_satellite::sim_drbd::SimKernel;
use serde_json::{Value, json};

const SUBNET: &str = "10.231.79";
const RSC: &str = "rp";

/// Runs a command that must succeed.
fn run(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .expect(args[0]);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a command whose failure does not matter (teardown).
fn quiet(args: &[&str]) {
    let _ = Command::new(args[0])
        .args(&args[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// True if this host can run the test; in CI a missing piece is a failure.
fn can_run() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let netns = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .is_ok_and(|o| o.status.success());
    if root && netns {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(!ci, "real_partition: CI must run as root with `ip netns`");
    eprintln!("SKIP real_partition: needs root and `ip netns`");
    false
}

/// The namespaces, veth pairs and bridge; removed when dropped.
struct Net {
    bridge: String,
    namespaces: Vec<String>,
    /// Root-side veth ends, per node.
    veths: Vec<String>,
}

impl Net {
    fn new(nodes: usize) -> Net {
        let tag = std::process::id() % 100_000;
        let mut net = Net {
            bridge: format!("lpbr{tag}"),
            namespaces: Vec::new(),
            veths: Vec::new(),
        };
        let br = net.bridge.clone();
        run(&["ip", "link", "add", &br, "type", "bridge"]);
        run(&["ip", "addr", "add", &format!("{SUBNET}.254/24"), "dev", &br]);
        run(&["ip", "link", "set", &br, "up"]);
        for i in 0..nodes {
            net.add(tag, i);
        }
        net
    }

    fn add(&mut self, tag: u32, i: usize) {
        let (ns, host, inner) = (
            format!("lpart{tag}n{i}"),
            format!("lph{tag}n{i}"),
            format!("lpi{tag}n{i}"),
        );
        run(&["ip", "netns", "add", &ns]);
        self.namespaces.push(ns.clone());
        run(&[
            "ip", "link", "add", &host, "type", "veth", "peer", "name", &inner,
        ]);
        self.veths.push(host.clone());
        run(&["ip", "link", "set", &inner, "netns", &ns]);
        run(&["ip", "link", "set", &host, "master", &self.bridge]);
        run(&["ip", "link", "set", &host, "up"]);
        let addr = format!("{}/24", Net::addr(i));
        run(&["ip", "-n", &ns, "addr", "add", &addr, "dev", &inner]);
        run(&["ip", "-n", &ns, "link", "set", &inner, "up"]);
        run(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
    }

    fn addr(i: usize) -> String {
        format!("{SUBNET}.{}", i + 1)
    }

    /// Cuts (`false`) or heals (`true`) node `i`'s link.
    fn link(&self, i: usize, up: bool) {
        let state = if up { "up" } else { "down" };
        run(&["ip", "link", "set", &self.veths[i], state]);
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        // Deleting a namespace deletes its veth end, and with it the pair.
        for ns in &self.namespaces {
            quiet(&["ip", "netns", "del", ns]);
        }
        for v in &self.veths {
            quiet(&["ip", "link", "del", v]);
        }
        quiet(&["ip", "link", "del", &self.bridge]);
    }
}

/// The daemons this test started; stopped by pid when dropped.
#[derive(Default)]
struct Daemons(Vec<Child>);

impl Drop for Daemons {
    fn drop(&mut self) {
        for c in &mut self.0 {
            quiet(&["kill", "-TERM", &c.id().to_string()]);
        }
        let end = Instant::now() + Duration::from_secs(5);
        for c in &mut self.0 {
            while Instant::now() < end && matches!(c.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Detaches every loop device backed by a file under `dir` when dropped.
struct Loops(PathBuf);

impl Loops {
    fn list(&self) -> Vec<String> {
        let out = Command::new("losetup")
            .args(["-l", "-n", "-O", "NAME,BACK-FILE"])
            .output()
            .expect("losetup");
        let prefix = self.0.to_string_lossy().into_owned();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter(|(_, f)| f.trim().starts_with(&prefix))
            .map(|(d, _)| d.trim().to_owned())
            .collect()
    }
}

impl Drop for Loops {
    fn drop(&mut self) {
        for d in self.list() {
            quiet(&["losetup", "-d", &d]);
        }
    }
}

/// Starts `cmd` with its output in `log`, and waits for a line matching `marker`; returns
/// the text after the marker.
fn start(daemons: &mut Daemons, mut cmd: Command, log: &Path, marker: &str) -> String {
    let f = std::fs::File::create(log).unwrap();
    cmd.stdout(f.try_clone().unwrap()).stderr(f);
    daemons.0.push(cmd.spawn().expect("start daemon"));
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(rest) = text.lines().find_map(|l| l.split_once(marker)) {
            return rest.1.split_whitespace().next().unwrap_or("").to_owned();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{marker:?} not in {log:?}:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

fn bins() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_linstor-satellite"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The cluster under test.
struct Cluster {
    rest: String,
    dir: PathBuf,
    nodes: Vec<String>,
}

impl Cluster {
    fn ok(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let (status, v) = common::call(&self.rest, method, path, body)
            .unwrap_or_else(|| panic!("{method} {path}: no answer"));
        assert!(status < 300, "{method} {path}: {status} {v}");
        v
    }

    fn wait(&self, secs: u64, what: &str, mut cond: impl FnMut(&Cluster) -> bool) -> Duration {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(secs) {
            if cond(self) {
                return start.elapsed();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = std::fs::read_to_string(self.dir.join("controller.log")).unwrap_or_default();
        panic!("timed out after {secs} s waiting for {what}\n{log}");
    }

    fn state_dir(&self, i: usize) -> PathBuf {
        self.dir.join(&self.nodes[i]).join("state")
    }

    /// The resource as node `i`'s simulated kernel holds it (its state file).
    fn sim(&self, i: usize) -> Option<linstor_satellite::sim_drbd::SimResource> {
        SimKernel::load(&self.state_dir(i)).ok()?.get(RSC).cloned()
    }

    fn resources(&self) -> Vec<Value> {
        let v = self.ok("GET", &format!("/v1/view/resources?resources={RSC}"), None);
        v.as_array().cloned().unwrap_or_default()
    }

    fn online(&self) -> usize {
        let v = self.ok("GET", "/v1/nodes", None);
        let nodes = v.as_array().cloned().unwrap_or_default();
        nodes
            .iter()
            .filter(|n| n["connection_status"] == "ONLINE")
            .count()
    }
}

fn start_cluster(net: &Net, daemons: &mut Daemons, dir: &Path) -> Cluster {
    let mut ctl = Command::new(bins().join("linstor-controller"));
    ctl.arg("--data-dir")
        .arg(dir.join("controller"))
        .args(["--rest-bind", "127.0.0.1:0"]);
    let url = start(
        daemons,
        ctl,
        &dir.join("controller.log"),
        "listening on http://",
    );
    let key = dir.join("controller/cluster.key");
    let end = Instant::now() + Duration::from_secs(5);
    while !key.exists() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut c = Cluster {
        rest: url,
        dir: dir.to_path_buf(),
        nodes: Vec::new(),
    };
    for (i, ns) in net.namespaces.iter().enumerate() {
        start_satellite(&mut c, daemons, ns, i, &key);
    }
    c.wait(30, "3 nodes ONLINE", |c| c.online() == 3);
    c
}

fn start_satellite(c: &mut Cluster, daemons: &mut Daemons, ns: &str, i: usize, key: &Path) {
    let name = format!("part-{i}");
    let nd = c.dir.join(&name);
    std::fs::create_dir_all(nd.join("pool")).unwrap();
    let mut sat = Command::new("ip");
    sat.args(["netns", "exec", ns])
        .arg(bins().join("linstor-satellite"))
        .args(["--bind", &Net::addr(i), "--port", "3366", "--simulate-drbd"])
        .arg("--state-dir")
        .arg(nd.join("state"))
        .arg("--drbd-dir")
        .arg(nd.join("drbd"))
        .arg("--cluster-key")
        .arg(key);
    start(
        daemons,
        sat,
        &nd.join("satellite.log"),
        "listening on tcp://",
    );
    let node = json!({"name": name, "type": "SATELLITE", "net_interfaces": [{
        "name": "default", "address": Net::addr(i), "satellite_port": 3366,
        "satellite_encryption_type": "PLAIN"}]});
    c.ok("POST", "/v1/nodes", Some(&node));
    let pool = json!({"storage_pool_name": "filethin", "provider_kind": "FILE_THIN",
        "props": {"StorDriver/StorPoolName": nd.join("pool").to_str().unwrap()}});
    c.ok(
        "POST",
        &format!("/v1/nodes/{name}/storage-pools"),
        Some(&pool),
    );
    c.nodes.push(name);
}

fn spawn(c: &Cluster) {
    // The pools are plain directories on the host's filesystem, whatever its free space.
    let rg = json!({"name": "rgp", "select_filter": {"place_count": 2, "storage_pool": "filethin"},
        "props": {"Autoplacer/MinThinFreeSpace": "0"}});
    c.ok("POST", "/v1/resource-groups", Some(&rg));
    let vg = json!({"volume_number": 0});
    c.ok("POST", "/v1/resource-groups/rgp/volume-groups", Some(&vg));
    let sp = json!({"resource_definition_name": RSC, "volume_sizes": [10240]});
    c.ok("POST", "/v1/resource-groups/rgp/spawn", Some(&sp));
}

/// Per node: its role for the core's quorum rule.
fn members(c: &Cluster) -> Vec<Member> {
    let role = |r: &Value| {
        let flags: Vec<&str> = r["flags"]
            .as_array()
            .map(|f| f.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match (flags.contains(&"DISKLESS"), flags.contains(&"TIE_BREAKER")) {
            (false, _) => Role::Diskful,
            (true, true) => Role::TieBreaker,
            (true, false) => Role::Diskless,
        }
    };
    c.resources()
        .iter()
        .map(|r| Member {
            node: NodeName::new(r["node_name"].as_str().unwrap()).unwrap(),
            role: role(r),
        })
        .collect()
}

/// Every node's resource reports quorum, all its peers connected and its disk `UpToDate` or
/// `Diskless`.
fn converged(c: &Cluster) -> bool {
    let rs = c.resources();
    rs.len() == 3
        && rs.iter().all(|r| {
            let conns = r["layer_object"]["drbd"]["connections"].as_object();
            r["state"]["quorum"] == true
                && conns.is_some_and(|m| m.len() == 2 && m.values().all(|v| v["connected"] == true))
                && r["volumes"][0]["state"]["disk_state"]
                    .as_str()
                    .is_some_and(|d| d == "UpToDate" || d == "Diskless")
        })
}

/// Node `i` as its peers report it through the controller: not connected; they keep quorum.
fn peers_see_cut(c: &Cluster, i: usize) -> bool {
    let cut = &c.nodes[i];
    let others: Vec<Value> = c
        .resources()
        .into_iter()
        .filter(|r| r["node_name"] != cut.as_str())
        .collect();
    others.len() == 2
        && others.iter().all(|r| {
            r["state"]["quorum"] == true
                && r["layer_object"]["drbd"]["connections"][cut]["connected"] == false
        })
}

fn quorum_policy(c: &Cluster) -> QuorumPolicy {
    let rd = c.ok("GET", &format!("/v1/resource-definitions/{RSC}"), None);
    let v = rd["props"]["DrbdOptions/Resource/quorum"]
        .as_str()
        .unwrap_or("off");
    QuorumPolicy::parse(v).unwrap()
}

/// The cut: node `cut` alone, the other two together. Checks each node's simulated quorum,
/// promotion and the core's rule agree.
fn check_sides(c: &Cluster, members: &[Member], policy: QuorumPolicy, cut: usize) {
    let name = |i: usize| NodeName::new(&c.nodes[i]).unwrap();
    let alone = BTreeSet::from([name(cut)]);
    let rest: BTreeSet<NodeName> = (0..3).filter(|i| *i != cut).map(name).collect();
    assert!(
        !may_write(members, policy, &alone),
        "core: the cut node must not write"
    );
    assert!(
        may_write(members, policy, &rest),
        "core: the majority side writes"
    );
    for i in 0..3 {
        let r = c.sim(i).expect("simulated state");
        let core = may_write(members, policy, if i == cut { &alone } else { &rest });
        assert_eq!(r.has_quorum(), i != cut, "{}: simulated quorum", c.nodes[i]);
        assert_eq!(
            r.side(),
            if i == cut {
                alone.clone()
            } else {
                rest.clone()
            }
        );
        let diskful = members
            .iter()
            .any(|m| m.node == name(i) && m.role == Role::Diskful);
        if diskful {
            assert_eq!(r.has_quorum(), core, "{}: simulation vs core", c.nodes[i]);
        }
        let promote = SimKernel::load(&c.state_dir(i)).unwrap().promote(RSC);
        assert_eq!(
            promote.is_ok(),
            i != cut,
            "{}: promote {promote:?}",
            c.nodes[i]
        );
    }
}

fn diskful_index(c: &Cluster, members: &[Member]) -> usize {
    let m = members.iter().find(|m| m.role == Role::Diskful).unwrap();
    c.nodes.iter().position(|n| *n == m.node.as_str()).unwrap()
}

fn teardown(c: &Cluster, loops: &Loops) {
    c.ok("DELETE", &format!("/v1/resource-definitions/{RSC}"), None);
    c.wait(20, "the resource gone", |c| {
        c.resources().is_empty() && loops.list().is_empty() && (0..3).all(|i| c.sim(i).is_none())
    });
}

#[test]
fn real_partition_cut_diskful_node_loses_quorum_and_the_cluster_converges_after_healing() {
    if !can_run() {
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("part-test")
        .tempdir_in("/tmp")
        .unwrap();
    let dir = tmp.path().to_path_buf();
    let loops = Loops(dir.clone());
    let net = Net::new(3);
    let mut daemons = Daemons::default();
    let c = start_cluster(&net, &mut daemons, &dir);
    spawn(&c);
    let t = c.wait(60, "2 diskful + tiebreaker converged", converged);
    println!("spawned and converged in {t:?}");
    let members = members(&c);
    let policy = quorum_policy(&c);
    assert_eq!(
        policy,
        QuorumPolicy::Majority,
        "auto-quorum for 2 diskful + tiebreaker"
    );
    let cut = diskful_index(&c, &members);

    net.link(cut, false);
    let cut_at = Instant::now();
    let t_alone = c.wait(20, "the cut node without quorum", |c| {
        c.sim(cut).is_some_and(|r| !r.has_quorum())
    });
    c.wait(20, "the peers report the cut", |c| peers_see_cut(c, cut));
    let t_peers = cut_at.elapsed();
    println!(
        "cut {}: no quorum there after {t_alone:?}; the peers' reports show it after {t_peers:?}",
        c.nodes[cut]
    );
    check_sides(&c, &members, policy, cut);
    // Until the controller notices the lost node, at every look: the cut side never writes.
    c.wait(60, "the controller sees the cut node gone", |c| {
        let r = c.sim(cut).expect("simulated state");
        assert!(!r.has_quorum(), "quorum regained while cut");
        assert!(
            SimKernel::load(&c.state_dir(cut))
                .unwrap()
                .promote(RSC)
                .is_err()
        );
        c.online() == 2
    });
    println!(
        "the controller sees it OFFLINE after {:?}",
        cut_at.elapsed()
    );
    check_sides(&c, &members, policy, cut);

    net.link(cut, true);
    let t_heal = c.wait(60, "converged after healing", |c| {
        let sims_ok = (0..3).all(|i| {
            c.sim(i)
                .is_some_and(|r| r.has_quorum() && r.away.is_empty())
        });
        sims_ok && converged(c) && c.online() == 3
    });
    println!("healed: converged (every peer Connected, quorum, UpToDate, ONLINE) after {t_heal:?}");
    teardown(&c, &loops);
    drop(daemons);
    drop(net);
    drop(loops);
}
