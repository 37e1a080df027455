//! The shared cluster fixture of the executor's tests: clusters of nodes with pools (offline,
//! or online with capacity reports and zone labels), command builders, and checks that a
//! command succeeds or is refused without changing anything.

use std::collections::BTreeMap;

use crate::cluster::{Cluster, Command, NetIfSpec, Outcome, SeededEnv};
use crate::model::{
    Capabilities, ConnectionStatus, EncryptionType, LayerKind, NodeType, ProviderKind,
    ProviderKind as PK, SelectFilter,
};
use crate::size::SizeKib;

pub(super) fn env() -> SeededEnv {
    SeededEnv::new(42)
}

/// A cluster with nodes n1..n{count} (10.0.0.i), each with an LVM pool `data` and a FILE_THIN pool `files`.
pub(super) fn cluster(count: usize) -> (Cluster, SeededEnv) {
    let mut e = env();
    let mut c = Cluster::new(&mut e);
    for i in 1..=count {
        must(
            &mut c,
            &mut e,
            node(&format!("n{i}"), &format!("10.0.0.{i}")),
        );
        must(
            &mut c,
            &mut e,
            pool(&format!("n{i}"), "data", PK::LVM, "vg0"),
        );
        must(
            &mut c,
            &mut e,
            pool(&format!("n{i}"), "files", PK::FILE_THIN, "/srv/pool"),
        );
    }
    (c, e)
}

pub(super) fn node(name: &str, ip: &str) -> Command {
    Command::NodeCreate {
        name: name.into(),
        node_type: NodeType::Satellite,
        net_interfaces: vec![NetIfSpec {
            name: "default".into(),
            address: ip.into(),
            satellite_port: Some(3366),
            encryption: EncryptionType::Plain,
        }],
        props: BTreeMap::new(),
    }
}

pub(super) fn pool(node: &str, name: &str, kind: PK, backing: &str) -> Command {
    Command::StorPoolCreate {
        node: node.into(),
        name: name.into(),
        kind,
        props: [("StorDriver/StorPoolName".to_owned(), backing.to_owned())].into(),
        shared_space: None,
    }
}

pub(super) fn rd(name: &str) -> Command {
    Command::RscDfnCreate {
        name: name.into(),
        rsc_grp: None,
        external_name: None,
        props: BTreeMap::new(),
        secret: None,
        peer_slots: None,
        layer_stack: None,
    }
}

pub(super) fn vd(rd: &str, size_gib: u64) -> Command {
    Command::VlmDfnCreate {
        rsc_dfn: rd.into(),
        number: None,
        size: SizeKib(size_gib << 20),
        minor: None,
        props: BTreeMap::new(),
    }
}

pub(super) fn rsc(rd: &str, node: &str, pool: Option<&str>, diskless: bool) -> Command {
    Command::RscCreate {
        rsc_dfn: rd.into(),
        node: node.into(),
        storage_pool: pool.map(Into::into),
        diskless,
        drbd_client: false,
        props: BTreeMap::new(),
    }
}

#[track_caller]
pub(super) fn must(c: &mut Cluster, e: &mut SeededEnv, cmd: Command) -> Outcome {
    let o = c.execute(cmd.clone(), e);
    assert!(!o.is_error(), "{cmd:?} failed: {}", o.rc);
    o
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
        let out = run(
            &mut c,
            &mut env,
            Command::NodeCreate {
                name: name.clone(),
                node_type: NodeType::Satellite,
                net_interfaces: vec![NetIfSpec {
                    name: "default".into(),
                    address: format!("10.0.0.{}", i + 1),
                    satellite_port: None,
                    encryption: Default::default(),
                }],
                props: [("Aux/zone".to_string(), zone.to_string())]
                    .into_iter()
                    .collect(),
            },
        );
        assert!(!out.is_error(), "{out:?}");
        let out = run(
            &mut c,
            &mut env,
            Command::StorPoolCreate {
                node: name.clone(),
                name: "data".into(),
                kind: ProviderKind::LVM,
                props: [("StorDriver/StorPoolName".to_string(), "vg".to_string())]
                    .into_iter()
                    .collect(),
                shared_space: None,
            },
        );
        assert!(!out.is_error(), "{out:?}");
        run(
            &mut c,
            &mut env,
            Command::NodeReport {
                node: name.clone(),
                connection: ConnectionStatus::ONLINE,
                capabilities: Some(Capabilities {
                    storage_providers: vec![ProviderKind::LVM, ProviderKind::DISKLESS],
                    resource_layers: vec![LayerKind::DRBD, LayerKind::STORAGE],
                    drbd_version: Some((9, 2, 8)),
                    ..Default::default()
                }),
            },
        );
        run(
            &mut c,
            &mut env,
            Command::StorPoolReport {
                node: name,
                pool: "data".into(),
                free: SizeKib(100 << 20),
                total: SizeKib(100 << 20),
            },
        );
    }
    (c, env)
}

pub(super) fn spawn(
    c: &mut Cluster,
    env: &mut SeededEnv,
    rd: &str,
    place: u32,
    gib: u64,
) -> crate::cluster::Outcome {
    run(
        c,
        env,
        Command::RscGrpSpawn {
            rsc_grp: "DfltRscGrp".into(),
            rsc_dfn: rd.into(),
            external_name: None,
            volume_sizes: vec![SizeKib(gib << 20)],
            partial: false,
            nodes: vec![],
            select_filter: Some(SelectFilter {
                place_count: Some(place),
                ..Default::default()
            }),
            definitions_only: false,
            peer_slots: None,
            rsc_dfn_props: Default::default(),
        },
    )
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
) -> crate::cluster::Outcome {
    run(
        c,
        env,
        Command::RscGrpSpawn {
            rsc_grp: "grp".into(),
            rsc_dfn: rd.into(),
            external_name: None,
            volume_sizes: vec![SizeKib(gib << 20)],
            partial: false,
            nodes: vec![],
            select_filter: place.map(|p| SelectFilter {
                place_count: Some(p),
                ..Default::default()
            }),
            definitions_only: place.is_none(),
            peer_slots: None,
            rsc_dfn_props: Default::default(),
        },
    )
}

/// Creates resource group `grp` with `filter`.
pub(super) fn create_group(c: &mut Cluster, env: &mut SeededEnv, filter: SelectFilter) {
    let out = run(
        c,
        env,
        Command::RscGrpCreate {
            name: "grp".into(),
            description: String::new(),
            props: Default::default(),
            select_filter: filter,
            peer_slots: None,
        },
    );
    assert!(!out.is_error(), "{out:?}");
}

/// Gives `DfltRscGrp` a place count.
pub(super) fn default_group_places(c: &mut Cluster, env: &mut SeededEnv, place: u32) {
    let out = run(
        c,
        env,
        Command::RscGrpModify {
            name: "DfltRscGrp".into(),
            description: None,
            props: Default::default(),
            select_filter: Some(SelectFilter {
                place_count: Some(place),
                ..Default::default()
            }),
            peer_slots: None,
        },
    );
    assert!(!out.is_error(), "{out:?}");
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
