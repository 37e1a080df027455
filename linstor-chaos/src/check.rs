//! The rules a converged cluster keeps, as pure functions of [`Observed`]:
//!
//! * [`pending`]: what is not settled yet (a node not ONLINE, a replica not UpToDate, anything
//!   still DELETING, a snapshot not SUCCESSFUL, an evacuated node still holding replicas). The
//!   round waits for this to be empty; what is still listed at the deadline is **stuck**.
//! * [`host_rules`]: every pool file belongs to a live volume or snapshot (else an **orphan**),
//!   every live volume has its file and its loop device (else **missing**), and each
//!   satellite's SIMULATED DRBD state says what the controller reports (else they
//!   **disagree**).
//! * [`argv_rules`]: every external command the satellites ran, from their debug logs: none is
//!   a shell.

use std::collections::{BTreeMap, BTreeSet};

use crate::ledger::Violation;
use crate::observe::{Observed, RdSeen};

/// Programs that would interpret their arguments as shell code.
pub const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "busybox", "env", "su", "sudo",
];

/// What is not settled yet, one line each (empty: converged). `replicas` holds the diskful
/// replica count of the definitions that have a fixed one; every other needs at least one.
pub fn pending(o: &Observed, replicas: &BTreeMap<String, usize>) -> Vec<String> {
    let mut out = Vec::new();
    for (name, n) in &o.nodes {
        if n.status != "ONLINE" {
            out.push(format!("node {name} is {}", n.status));
        }
        if n.flags.iter().any(|f| f == "EVACUATE") {
            let held: Vec<&String> = o
                .rds
                .iter()
                .filter(|(_, rd)| rd.resources.contains_key(name))
                .map(|(rd, _)| rd)
                .collect();
            if !held.is_empty() {
                out.push(format!("node {name} is evacuated but still holds {held:?}"));
            }
        }
    }
    for (name, rd) in &o.rds {
        rd_pending(name, rd, replicas.get(name).copied(), &mut out);
    }
    out
}

fn rd_pending(name: &str, rd: &RdSeen, want: Option<usize>, out: &mut Vec<String>) {
    if rd.flags.iter().any(|f| f == "DELETE") {
        out.push(format!("{name} is DELETING"));
    }
    let diskful = rd.resources.values().filter(|r| !r.diskless()).count();
    match want {
        Some(n) if diskful != n => {
            out.push(format!("{name} has {diskful} diskful replicas, not {n}"));
        }
        None if diskful == 0 => out.push(format!("{name} has no diskful replica")),
        _ => {}
    }
    for (node, r) in &rd.resources {
        if r.flags.iter().any(|f| f == "DELETE") {
            out.push(format!("{name} on {node} is DELETING"));
        }
        if !r.errors.is_empty() {
            out.push(format!("{name} on {node} reports {:?}", r.errors));
        }
        if r.disks.len() != rd.sizes.len() {
            out.push(format!(
                "{name} on {node} reports {} of {} volumes",
                r.disks.len(),
                rd.sizes.len()
            ));
        }
        let want = if r.diskless() { "Diskless" } else { "UpToDate" };
        for (nr, d) in &r.disks {
            if d != want {
                out.push(format!("{name}/{nr} on {node} is {d}, not {want}"));
            }
        }
    }
    for (snap, sn) in &rd.snapshots {
        if !sn.flags.iter().any(|f| f == "SUCCESSFUL") || sn.flags.iter().any(|f| f == "DELETE") {
            out.push(format!("snapshot {name}/{snap} is {:?}", sn.flags));
        }
    }
}

/// `{rd}_{nr:05}.img`, the FILE_THIN name of a volume.
pub fn volume_file(rd: &str, nr: usize) -> String {
    format!("{rd}_{nr:05}.img")
}

/// `{rd}_{nr:05}_{snap}.img`, the FILE_THIN name of a snapshot volume.
pub fn snapshot_file(rd: &str, nr: u16, snap: &str) -> String {
    format!("{rd}_{nr:05}_{snap}.img")
}

/// Pool files and loop devices each node should hold: (files, loop-attached files).
fn expected_storage(o: &Observed) -> BTreeMap<&str, (BTreeSet<String>, BTreeSet<String>)> {
    let mut want: BTreeMap<&str, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for (name, rd) in &o.rds {
        for (node, _) in rd.resources.iter().filter(|(_, r)| !r.diskless()) {
            let e = want.entry(node.as_str()).or_default();
            for nr in 0..rd.sizes.len() {
                e.0.insert(volume_file(name, nr));
                e.1.insert(volume_file(name, nr));
            }
        }
        for (snap, sn) in &rd.snapshots {
            for node in &sn.nodes {
                let e = want.entry(node.as_str()).or_default();
                for &nr in &sn.volumes {
                    e.0.insert(snapshot_file(name, nr, snap));
                }
            }
        }
    }
    want
}

/// Orphans, missing backing and disagreement between the controller and the satellites.
pub fn host_rules(o: &Observed) -> Vec<Violation> {
    let mut out = Vec::new();
    let want = expected_storage(o);
    let none = (BTreeSet::new(), BTreeSet::new());
    for (node, host) in &o.hosts {
        let (files, loops) = want.get(node.as_str()).unwrap_or(&none);
        diff(&mut out, node, "pool file", files, &host.files);
        diff(&mut out, node, "loop device for", loops, &host.loops);
        sim_rules(o, node, &host.sim, &mut out);
    }
    out
}

fn diff(
    out: &mut Vec<Violation>,
    node: &str,
    what: &str,
    want: &BTreeSet<String>,
    got: &BTreeSet<String>,
) {
    for f in got.difference(want) {
        out.push(Violation::new(
            "orphan",
            format!("{node}: {what} {f} belongs to no live volume"),
        ));
    }
    for f in want.difference(got) {
        out.push(Violation::new(
            "missing",
            format!("{node}: {what} {f} of a live volume is missing"),
        ));
    }
}

/// The satellite's SIMULATED DRBD state against the controller's report for `node`.
fn sim_rules(
    o: &Observed,
    node: &str,
    sim: &BTreeMap<String, BTreeMap<u16, String>>,
    out: &mut Vec<Violation>,
) {
    let reported: BTreeMap<&str, &BTreeMap<u16, String>> = o
        .rds
        .iter()
        .filter_map(|(name, rd)| Some((name.as_str(), &rd.resources.get(node)?.disks)))
        .collect();
    for (rsc, vols) in sim {
        match reported.get(rsc.as_str()) {
            None => out.push(Violation::new(
                "disagree",
                format!("{node}: DRBD has {rsc} up, the controller has no such replica"),
            )),
            Some(disks) if *disks != vols => out.push(Violation::new(
                "disagree",
                format!("{node}: {rsc} is {vols:?} in DRBD, {disks:?} at the controller"),
            )),
            Some(_) => {}
        }
    }
    for rsc in reported.keys().filter(|r| !sim.contains_key(**r)) {
        out.push(Violation::new(
            "disagree",
            format!("{node}: the controller reports {rsc}, DRBD does not have it up"),
        ));
    }
}

/// The argv of every external command in a satellite's debug log (the runner's `cmd` span).
pub fn logged_argvs(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("started"))
        .filter_map(|l| {
            let rest = &l[l.find("cmd{argv=")? + "cmd{argv=".len()..];
            Some(&rest[..rest.find("}:")?])
        })
        .collect()
}

/// Programs run (by name) and violations: a shell run, or an argument carrying `marker` (a
/// property value that must never reach a command line).
pub fn argv_rules(argvs: &[&str], marker: &str) -> (BTreeMap<String, usize>, Vec<Violation>) {
    let mut programs = BTreeMap::new();
    let mut out = Vec::new();
    for argv in argvs {
        let prog = argv.split_whitespace().next().unwrap_or_default();
        let base = prog.rsplit('/').next().unwrap_or(prog).to_owned();
        if SHELLS.contains(&base.as_str()) {
            out.push(Violation::new("shell", format!("a shell was run: {argv}")));
        }
        if argv.contains(marker) {
            out.push(Violation::new(
                "shell",
                format!("a property value reached argv: {argv}"),
            ));
        }
        *programs.entry(base).or_insert(0) += 1;
    }
    (programs, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::{HostSeen, NodeSeen, RscSeen, SnapSeen};

    fn rsc(flags: &[&str], disks: &[&str]) -> RscSeen {
        RscSeen {
            flags: flags.iter().map(|f| (*f).to_owned()).collect(),
            disks: disks
                .iter()
                .enumerate()
                .map(|(i, d)| (u16::try_from(i).unwrap(), (*d).to_owned()))
                .collect(),
            errors: Vec::new(),
        }
    }

    /// `r` with 2 volumes: UpToDate on node-1 and node-2, a tiebreaker on node-3, snapshot
    /// `s` on node-1 and node-2; hosts holding exactly that.
    fn converged() -> Observed {
        let mut o = Observed::default();
        for n in ["node-1", "node-2", "node-3"] {
            let node = NodeSeen {
                status: "ONLINE".into(),
                flags: vec![],
            };
            o.nodes.insert(n.into(), node);
        }
        let mut rd = RdSeen {
            sizes: vec![8192, 4096],
            ..RdSeen::default()
        };
        rd.resources
            .insert("node-1".into(), rsc(&[], &["UpToDate", "UpToDate"]));
        rd.resources
            .insert("node-2".into(), rsc(&[], &["UpToDate", "UpToDate"]));
        rd.resources.insert(
            "node-3".into(),
            rsc(&["TIE_BREAKER"], &["Diskless", "Diskless"]),
        );
        let snap = SnapSeen {
            flags: vec!["SUCCESSFUL".into()],
            nodes: vec!["node-1".into(), "node-2".into()],
            size0: 8192,
            volumes: vec![0, 1],
        };
        rd.snapshots.insert("s".into(), snap);
        o.rds.insert("r".into(), rd);
        for n in ["node-1", "node-2"] {
            let files = [
                "r_00000.img",
                "r_00001.img",
                "r_00000_s.img",
                "r_00001_s.img",
            ];
            let vols = BTreeMap::from([(0, "UpToDate".into()), (1, "UpToDate".into())]);
            let host = HostSeen {
                files: files.iter().map(|f| (*f).to_owned()).collect(),
                loops: ["r_00000.img", "r_00001.img"]
                    .iter()
                    .map(|f| (*f).to_owned())
                    .collect(),
                sim: BTreeMap::from([("r".into(), vols)]),
            };
            o.hosts.insert(n.into(), host);
        }
        let dl = BTreeMap::from([(0, "Diskless".into()), (1, "Diskless".into())]);
        let host3 = HostSeen {
            sim: BTreeMap::from([("r".into(), dl)]),
            ..HostSeen::default()
        };
        o.hosts.insert("node-3".into(), host3);
        o
    }

    fn two() -> BTreeMap<String, usize> {
        BTreeMap::from([("r".to_owned(), 2)])
    }

    #[test]
    fn a_restored_definition_needs_one_replica_a_spawned_one_its_place_count() {
        let mut o = converged();
        o.rds.get_mut("r").unwrap().resources.remove("node-2");
        assert_eq!(pending(&o, &two()), ["r has 1 diskful replicas, not 2"]);
        assert_eq!(pending(&o, &BTreeMap::new()), Vec::<String>::new());
        o.rds.get_mut("r").unwrap().resources.remove("node-1");
        assert_eq!(pending(&o, &BTreeMap::new()), ["r has no diskful replica"]);
    }

    #[test]
    fn a_converged_cluster_passes_every_rule() {
        let o = converged();
        assert_eq!(pending(&o, &two()), Vec::<String>::new());
        assert_eq!(host_rules(&o), Vec::new());
    }

    #[test]
    fn what_is_not_settled() {
        type Change = fn(&mut Observed);
        let cases: Vec<(&str, Change, &str)> = vec![
            (
                "node offline",
                |o| o.nodes.get_mut("node-2").unwrap().status = "OFFLINE".into(),
                "node node-2 is OFFLINE",
            ),
            (
                "deleting",
                |o| o.rds.get_mut("r").unwrap().flags.push("DELETE".into()),
                "r is DELETING",
            ),
            (
                "syncing",
                |o| {
                    let r = o
                        .rds
                        .get_mut("r")
                        .unwrap()
                        .resources
                        .get_mut("node-2")
                        .unwrap();
                    r.disks.insert(1, "Inconsistent".into());
                },
                "r/1 on node-2 is Inconsistent, not UpToDate",
            ),
            (
                "replica missing",
                |o| {
                    o.rds.get_mut("r").unwrap().resources.remove("node-2");
                },
                "r has 1 diskful replicas, not 2",
            ),
            (
                "snapshot not done",
                |o| {
                    o.rds
                        .get_mut("r")
                        .unwrap()
                        .snapshots
                        .get_mut("s")
                        .unwrap()
                        .flags
                        .clear()
                },
                "snapshot r/s is []",
            ),
            (
                "evacuated node still used",
                |o| {
                    o.nodes
                        .get_mut("node-1")
                        .unwrap()
                        .flags
                        .push("EVACUATE".into())
                },
                "node node-1 is evacuated but still holds [\"r\"]",
            ),
            (
                "error reported",
                |o| {
                    o.rds
                        .get_mut("r")
                        .unwrap()
                        .resources
                        .get_mut("node-1")
                        .unwrap()
                        .errors
                        .push("boom".into());
                },
                "r on node-1 reports [\"boom\"]",
            ),
        ];
        for (name, change, want) in cases {
            let mut o = converged();
            change(&mut o);
            assert_eq!(pending(&o, &two()), vec![want.to_owned()], "{name}");
        }
    }

    #[test]
    fn orphans_losses_and_disagreements() {
        type Change = fn(&mut Observed);
        let cases: Vec<(&str, Change, &str)> = vec![
            (
                "orphan file",
                |o| {
                    o.hosts
                        .get_mut("node-3")
                        .unwrap()
                        .files
                        .insert("x_00000.img".into());
                },
                "orphan: node-3: pool file x_00000.img belongs to no live volume",
            ),
            (
                "orphan loop",
                |o| {
                    o.hosts
                        .get_mut("node-1")
                        .unwrap()
                        .loops
                        .insert("r_00000_s.img".into());
                },
                "orphan: node-1: loop device for r_00000_s.img belongs to no live volume",
            ),
            (
                "lost file",
                |o| {
                    o.hosts
                        .get_mut("node-2")
                        .unwrap()
                        .files
                        .remove("r_00001.img");
                },
                "missing: node-2: pool file r_00001.img of a live volume is missing",
            ),
            (
                "lost snapshot file",
                |o| {
                    o.hosts
                        .get_mut("node-1")
                        .unwrap()
                        .files
                        .remove("r_00000_s.img");
                },
                "missing: node-1: pool file r_00000_s.img of a live volume is missing",
            ),
            (
                "DRBD has more",
                |o| {
                    o.hosts
                        .get_mut("node-3")
                        .unwrap()
                        .sim
                        .insert("z".into(), BTreeMap::new());
                },
                "disagree: node-3: DRBD has z up, the controller has no such replica",
            ),
            (
                "DRBD has less",
                |o| {
                    o.hosts.get_mut("node-3").unwrap().sim.clear();
                },
                "disagree: node-3: the controller reports r, DRBD does not have it up",
            ),
            (
                "states differ",
                |o| {
                    o.hosts
                        .get_mut("node-1")
                        .unwrap()
                        .sim
                        .get_mut("r")
                        .unwrap()
                        .insert(1, "Outdated".into());
                },
                "disagree: node-1: r is {0: \"UpToDate\", 1: \"Outdated\"} in DRBD, {0: \"UpToDate\", 1: \"UpToDate\"} at the controller",
            ),
        ];
        for (name, change, want) in cases {
            let mut o = converged();
            change(&mut o);
            let got: Vec<String> = host_rules(&o).iter().map(ToString::to_string).collect();
            assert_eq!(got, vec![want.to_owned()], "{name}");
        }
    }

    #[test]
    fn argv_from_debug_logs() {
        let log = "\
2026-12-05T01:00:00Z DEBUG cmd{argv=losetup -f --show /p/r_00000.img}: linstor_backends::runner: started pid=7
2026-12-05T01:00:00Z DEBUG cmd{argv=losetup -f --show /p/r_00000.img}: linstor_backends::runner: finished exit=0
2026-12-05T01:00:01Z DEBUG reconcile{n=1}:cmd{argv=/bin/sh -c \"x\"}: linstor_backends::runner: started pid=8
2026-12-05T01:00:01Z DEBUG cmd{argv=truncate -s 1 \"/p/$(touch /tmp/c)\"}: linstor_backends::runner: started pid=9
";
        let argvs = logged_argvs(log);
        assert_eq!(argvs.len(), 3);
        let (programs, bad) = argv_rules(&argvs, "$(touch /tmp/c)");
        assert_eq!(programs.get("losetup"), Some(&1));
        let kinds: Vec<&str> = bad.iter().map(|v| v.kind).collect();
        assert_eq!(kinds, ["shell", "shell"]);
    }
}
