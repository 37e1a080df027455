//! The shared cluster fixture of the executor's tests: clusters of nodes with pools (offline,
//! or online with capacity reports and zone labels), command builders, and checks that a
//! command succeeds or is refused without changing anything.

use serde_json::{Value, json};

use crate::cluster::{Cluster, Command, Outcome, SeededEnv};
use crate::model::{Capabilities, ConnectionStatus, LayerKind, ProviderKind as PK, SelectFilter};
use crate::rc::{Obj, Op, Severity, code, ret_code};
use crate::size::SizeKib;

pub(super) fn env() -> SeededEnv {
    SeededEnv::new(42)
}

/// A cluster with nodes n1..n{count} (10.0.0.i), each with an LVM pool `data` and a FILE_THIN pool `files`.
pub(super) fn cluster(count: usize) -> (Cluster, SeededEnv) {
    let mut e = env();
    let mut c = Cluster::new(&mut e);
    for i in 1..=count {
        let n = format!("n{i}");
        for step in [
            node(&n, &format!("10.0.0.{i}")),
            pool(&n, "data", PK::LVM, "vg0"),
            pool(&n, "files", PK::FILE_THIN, "/srv/pool"),
        ] {
            must(&mut c, &mut e, step);
        }
    }
    (c, e)
}

/// A command in the JSON clients send.
pub(super) fn cmd(v: Value) -> Command {
    serde_json::from_value(v).expect("a valid command")
}

/// A built command in the JSON clients send (which reads back as the same command).
pub(super) fn js(c: Command) -> Value {
    let v = serde_json::to_value(&c).expect("serializes");
    assert_eq!(cmd(v.clone()), c, "{v} does not read back");
    v
}

/// A command and the answer it must get (an error's code and a word of its text).
pub(super) type Step<'a> = (Value, Result<(), (u16, &'a str)>);

/// Runs `(command, expected answer)` in order, each through [`check`].
#[track_caller]
pub(super) fn check_all(c: &mut Cluster, e: &mut SeededEnv, steps: Vec<Step<'_>>) {
    for (v, want) in steps {
        check(c, e, cmd(v), want);
    }
}

pub(super) fn node(name: &str, ip: &str) -> Command {
    cmd(
        json!({"cmd": "node_create", "name": name, "node_type": "Satellite",
        "net_interfaces": [{"name": "default", "address": ip, "satellite_port": 3366, "encryption": "Plain"}]}),
    )
}

pub(super) fn pool(node: &str, name: &str, kind: PK, backing: &str) -> Command {
    cmd(
        json!({"cmd": "stor_pool_create", "node": node, "name": name, "kind": kind,
        "props": {"StorDriver/StorPoolName": backing}}),
    )
}

pub(super) fn rd(name: &str) -> Command {
    cmd(json!({"cmd": "rsc_dfn_create", "name": name}))
}

pub(super) fn vd(rd: &str, size_gib: u64) -> Command {
    cmd(json!({"cmd": "vlm_dfn_create", "rsc_dfn": rd, "size": size_gib << 20}))
}

pub(super) fn rsc(rd: &str, node: &str, pool: Option<&str>, diskless: bool) -> Command {
    cmd(
        json!({"cmd": "rsc_create", "rsc_dfn": rd, "node": node, "storage_pool": pool, "diskless": diskless}),
    )
}

/// Creates resource definition `name` with one volume of `gib` GiB.
pub(super) fn rd_vd(c: &mut Cluster, e: &mut SeededEnv, name: &str, gib: u64) {
    must(c, e, rd(name));
    must(c, e, vd(name, gib));
}

/// A select filter with just a place count.
pub(super) fn place_count(n: u32) -> SelectFilter {
    SelectFilter {
        place_count: Some(n),
        ..Default::default()
    }
}

#[track_caller]
pub(super) fn must(c: &mut Cluster, e: &mut SeededEnv, cmd: Command) -> Outcome {
    let o = c.execute(cmd.clone(), e);
    assert!(!o.is_error(), "{cmd:?} failed: {}", o.rc);
    o
}

/// `node_evacuate` of `name`, keeping replacements off `do_not_target`.
pub(super) fn evacuate(name: &str, do_not_target: &[&str]) -> Command {
    cmd(json!({"cmd": "node_evacuate", "name": name, "do_not_target": do_not_target}))
}

/// `report_node` of `node` with `connection` (`ONLINE`, `OFFLINE`…) and no capabilities.
pub(super) fn report_node(node: &str, connection: &str) -> Command {
    cmd(json!({"cmd": "report_node", "node": node, "connection": connection}))
}

/// Runs `cmd`; on `Err(code)` expects a refusal with that code and an unchanged state, and that
/// message, cause or correction contains `text`.
#[track_caller]
pub(super) fn check(
    c: &mut Cluster,
    e: &mut SeededEnv,
    cmd: Command,
    expect: Result<(), (u16, &str)>,
) {
    let before = c.to_json();
    let o = c.execute(cmd.clone(), e);
    match expect {
        Ok(()) => assert!(!o.is_error(), "{cmd:?} failed: {}", o.rc),
        Err((code, text)) => {
            let err =
                o.rc.first_error()
                    .unwrap_or_else(|| panic!("{cmd:?} should fail with {code}, got {}", o.rc));
            assert_eq!(err.code, code, "{cmd:?}: {err}");
            let all = format!("{err}");
            assert!(all.contains(text), "{cmd:?}: {all:?} lacks {text:?}");
            assert!(err.correction.is_some(), "{cmd:?}: no correction in {err}");
            assert_eq!(before, c.to_json(), "refused {cmd:?} changed the state");
            assert!(o.changes.is_empty());
        }
    }
    c.check_invariants()
        .unwrap_or_else(|e| panic!("after {cmd:?}: {e}"));
}

/// Runs a delete of something that does not exist: it succeeds with LINSTOR's `WARN_NOT_FOUND`
/// warning of `obj` (operation delete), changes nothing, and the warning names `what`.
#[track_caller]
pub(super) fn check_gone(c: &mut Cluster, e: &mut SeededEnv, v: Value, obj: Obj, what: &str) {
    let before = c.to_json();
    let o = c.execute(cmd(v.clone()), e);
    assert!(!o.is_error(), "{v}: {}", o.rc);
    assert_eq!(before, c.to_json(), "{v} changed the state");
    assert!(o.changes.is_empty(), "{v}: {:?}", o.changes);
    let [w] = &o.rc.0[..] else {
        panic!("{v}: one warning expected, got {}", o.rc)
    };
    let want = ret_code(Severity::Warning, Op::Delete, obj, code::WARN_NOT_FOUND);
    assert_eq!(w.ret_code(), want, "{v}: {w}");
    assert!(w.message.contains(what), "{v}: {w}");
    assert!(w.cause.is_some() && w.correction.is_some(), "{v}: {w}");
}

pub(super) fn run(c: &mut Cluster, env: &mut SeededEnv, cmd: Command) -> crate::cluster::Outcome {
    c.execute(cmd, env)
}

/// A cluster of `n` online nodes with one 100 GiB LVM pool `data` each, zone labels a/b/c….
pub(super) fn online_cluster(n: usize) -> (Cluster, SeededEnv) {
    let mut env = SeededEnv::new(1);
    let mut c = Cluster::new(&mut env);
    for i in 0..n {
        let name = format!("n{i}");
        let zone = ["a", "b", "c", "d"][i % 4];
        let node = json!({"cmd": "node_create", "name": name, "node_type": "Satellite",
            "net_interfaces": [{"name": "default", "address": format!("10.0.0.{}", i + 1)}],
            "props": {"Aux/zone": zone}});
        must(&mut c, &mut env, cmd(node));
        online_pool(&mut c, &mut env, &name, ("data", PK::LVM, "vg"), &[PK::LVM]);
    }
    (c, env)
}

/// Reports `node` online (DRBD 9.2.8, the DRBD and STORAGE layers, `providers` and DISKLESS),
/// creates pool `name` of `kind` on `backing` there and reports it 100 GiB free of 100.
pub(super) fn online_pool(
    c: &mut Cluster,
    env: &mut SeededEnv,
    node: &str,
    (name, kind, backing): (&str, PK, &str),
    providers: &[PK],
) {
    let capabilities = Capabilities {
        storage_providers: [providers, &[PK::DISKLESS]].concat(),
        resource_layers: vec![LayerKind::DRBD, LayerKind::STORAGE],
        drbd_version: Some((9, 2, 8)),
        ..Default::default()
    };
    let steps = [
        Command::NodeReport {
            node: node.into(),
            connection: ConnectionStatus::ONLINE,
            capabilities: Some(capabilities),
        },
        pool(node, name, kind, backing),
        Command::StorPoolReport {
            node: node.into(),
            pool: name.into(),
            free: SizeKib(100 << 20),
            total: SizeKib(100 << 20),
        },
    ];
    for step in steps {
        must(c, env, step);
    }
}

/// Spawns `rd` with one volume of `gib` GiB from group `grp`, placed by `filter` (only the
/// definitions without one).
pub(super) fn spawn_with(
    c: &mut Cluster,
    env: &mut SeededEnv,
    (grp, rd): (&str, &str),
    gib: u64,
    filter: Option<SelectFilter>,
) -> Outcome {
    run(
        c,
        env,
        Command::RscGrpSpawn {
            rsc_grp: grp.into(),
            rsc_dfn: rd.into(),
            external_name: None,
            volume_sizes: vec![SizeKib(gib << 20)],
            partial: false,
            nodes: vec![],
            definitions_only: filter.is_none(),
            select_filter: filter,
            peer_slots: None,
            rsc_dfn_props: Default::default(),
        },
    )
}

pub(super) fn spawn(
    c: &mut Cluster,
    env: &mut SeededEnv,
    rd: &str,
    place: u32,
    gib: u64,
) -> Outcome {
    spawn_with(c, env, ("DfltRscGrp", rd), gib, Some(place_count(place)))
}

pub(super) fn flags(c: &Cluster, rd: &str) -> Vec<(String, Vec<&'static str>)> {
    let rd: crate::name::ResourceName = rd.parse().unwrap();
    c.state().resource_definitions[&rd]
        .resources
        .values()
        .map(|r| (r.node.to_string(), r.flags.names()))
        .collect()
}

pub(super) fn spawn_in(
    c: &mut Cluster,
    env: &mut SeededEnv,
    rd: &str,
    place: Option<u32>,
    gib: u64,
) -> Outcome {
    spawn_with(c, env, ("grp", rd), gib, place.map(place_count))
}

/// Creates resource group `grp` with `filter`.
pub(super) fn create_group(c: &mut Cluster, env: &mut SeededEnv, filter: SelectFilter) {
    let v = json!({"cmd": "rsc_grp_create", "name": "grp", "select_filter": filter});
    must(c, env, cmd(v));
}

/// Gives `DfltRscGrp` a place count.
pub(super) fn default_group_places(c: &mut Cluster, env: &mut SeededEnv, place: u32) {
    let v =
        json!({"cmd": "rsc_grp_modify", "name": "DfltRscGrp", "select_filter": place_count(place)});
    must(c, env, cmd(v));
}

pub(super) fn diskful(c: &Cluster, rd: &str) -> usize {
    let rd: crate::name::ResourceName = rd.parse().unwrap();
    c.state().resource_definitions[&rd]
        .resources
        .values()
        .filter(|r| !r.is_diskless())
        .count()
}

pub(super) fn report_all(c: &mut Cluster, env: &mut SeededEnv, in_use: &[(&str, &str)]) {
    let rscs: Vec<(String, String)> = c
        .state()
        .resource_definitions
        .values()
        .flat_map(|d| {
            d.resources
                .keys()
                .map(|n| (d.name.to_string(), n.to_string()))
        })
        .collect();
    for (rd, node) in rscs {
        let state = crate::model::RscObserved {
            in_use: in_use.contains(&(rd.as_str(), node.as_str())),
            up_to_date: true,
            established: true,
            ..Default::default()
        };
        let out = run(
            c,
            env,
            Command::RscReport {
                node,
                rsc_dfn: rd,
                state,
            },
        );
        assert!(!out.is_error(), "{out:?}");
    }
}

pub(super) fn nodes_of(c: &Cluster, rd: &str) -> Vec<String> {
    let rd: crate::name::ResourceName = rd.parse().unwrap();
    c.state().resource_definitions[&rd]
        .resources
        .values()
        .filter(|r| !r.is_diskless() && !r.is_deleting())
        .map(|r| r.node.to_string())
        .collect()
}

pub(super) fn on(c: &Cluster, node: &str) -> Vec<(String, Vec<&'static str>)> {
    let n: crate::name::NodeName = node.parse().unwrap();
    c.state()
        .resource_definitions
        .values()
        .filter_map(|d| {
            d.resources
                .get(&n)
                .map(|r| (d.name.to_string(), r.flags.names()))
        })
        .collect()
}
