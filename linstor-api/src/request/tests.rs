//! Request bodies exactly as the real `linstor` CLI and python-linstor send them (captured in
//! `rest-client-compat.md`), their tolerance rules, and refusals that name the field.

use std::collections::BTreeMap;

use linstor_core::cluster::{Cluster, Command, NetIfSpec, SeededEnv};
use linstor_core::decode::DecodeErrorKind;
use linstor_core::model::{
    DisklessType, EncryptionType, LayerKind, NetInterface, NodeType, ProviderKind, SelectFilter,
    VlmGrpFlags,
};
use linstor_core::props::PropsModify;
use linstor_core::{NodeName, SizeKib, StorPoolName};
use serde::de::DeserializeOwned;

use super::*;

#[test]
fn the_clis_node_create_with_lowercase_enums() {
    let body = r#"{"name": "alpha", "type": "satellite", "net_interfaces": [{"name": "default",
        "address": "10.0.0.1", "satellite_port": 3366, "satellite_encryption_type": "plain",
        "is_active": true}], "props": null}"#;
    let n: NodeCreate = parse("a node create request", body).expect("accepted");
    assert_eq!(n.node_type, NodeType::Satellite);
    assert_eq!(
        n.net_interfaces[0].satellite_encryption_type,
        Some(EncryptionType::Plain)
    );
    let Command::NodeCreate {
        net_interfaces,
        props,
        ..
    } = n.command()
    else {
        panic!("not a node create")
    };
    assert_eq!(net_interfaces[0].satellite_port, Some(3366));
    assert!(props.is_empty(), "null props are no props");
}

#[test]
fn place_count_may_be_a_string_and_booleans_null() {
    let body = r#"{"name": "rg1", "select_filter": {"place_count": "3",
        "storage_pool_list": ["pool_ssd"], "diskless_on_remaining": null}}"#;
    let rg: ResourceGroupCreate = parse("a resource group create request", body).expect("accepted");
    let Command::RscGrpCreate { select_filter, .. } = rg.command().expect("valid") else {
        panic!("not a group create")
    };
    assert_eq!(select_filter.place_count, Some(3));
    assert_eq!(select_filter.diskless_on_remaining, None);
    assert_eq!(
        select_filter.storage_pool_list.unwrap()[0].as_str(),
        "pool_ssd"
    );
}

#[test]
fn an_empty_select_filter_in_a_modify_changes_nothing() {
    let current = SelectFilter {
        place_count: Some(2),
        ..SelectFilter::default()
    };
    let body = r#"{"description": "fast", "select_filter": {}}"#;
    let m: ResourceGroupModify = parse("a resource group modify request", body).expect("accepted");
    let Command::RscGrpModify {
        select_filter,
        description,
        ..
    } = m.command("rg1", &current).unwrap()
    else {
        panic!("not a group modify")
    };
    assert_eq!(select_filter, None, "unchanged, not reset");
    assert_eq!(description.as_deref(), Some("fast"));
    // A set field changes only itself.
    let m: ResourceGroupModify = parse(
        "a resource group modify request",
        r#"{"select_filter": {"replicas_on_different": ["Aux/zone"]}}"#,
    )
    .unwrap();
    let Command::RscGrpModify { select_filter, .. } = m.command("rg1", &current).unwrap() else {
        panic!("not a group modify")
    };
    let f = select_filter.expect("changed");
    assert_eq!(f.place_count, Some(2));
    assert_eq!(f.replicas_on_different, Some(vec!["Aux/zone".to_owned()]));
}

#[test]
fn spawn_and_storage_pool_bodies_map_to_commands_the_cluster_runs() {
    let mut e = SeededEnv::new(1);
    let mut c = Cluster::new(&mut e);
    let node: NodeCreate = parse(
        "n",
        r#"{"name": "alpha", "type": "Satellite",
        "net_interfaces": [{"name": "default", "address": "10.0.0.1"}]}"#,
    )
    .unwrap();
    assert!(!c.execute(node.command(), &mut e).is_error());
    let sp: StoragePoolCreate = parse(
        "p",
        r#"{"storage_pool_name": "data", "provider_kind": "lvm",
        "props": {"StorDriver/StorPoolName": "vg0"}, "external_locking": false}"#,
    )
    .unwrap();
    assert_eq!(sp.provider_kind, ProviderKind::LVM);
    assert!(!c.execute(sp.command("alpha"), &mut e).is_error());
    let spawn: Spawn = parse(
        "s",
        r#"{"resource_definition_name": "pvc-1", "volume_sizes": [1048576],
        "partial": false, "definitions_only": true, "select_filter": {}}"#,
    )
    .unwrap();
    let out = c.execute(spawn.command("DfltRscGrp").unwrap(), &mut e);
    assert!(!out.is_error(), "{:?}", out.rc);
}

/// (body, field the error names, what the correction says)
const REFUSED: &[(&str, &str, &str)] = &[
    (
        r#"{"name": "a", "type": "Satelite", "net_interfaces": []}"#,
        "type",
        "Did you mean 'Satellite'?",
    ),
    (
        r#"{"name": "a", "type": "Satellite", "net_iterfaces": []}"#,
        "net_iterfaces",
        "Did you mean 'net_interfaces'?",
    ),
    (
        r#"{"name": "a", "type": "Satellite", "net_interfaces": [{"name": "d", "address": "x", "satellite_port": "70000"}]}"#,
        "net_interfaces[0].satellite_port",
        "",
    ),
    (
        r#"{"name": "a", "type": "Satellite", "net_interfaces": [{"name": "d", "address": "x", "satellite_encryption_type": "tls"}]}"#,
        "net_interfaces[0].satellite_encryption_type",
        "",
    ),
];

#[test]
fn bad_bodies_name_the_field() {
    for (body, field, fix) in REFUSED {
        let e = parse::<NodeCreate>("a node create request", body).expect_err(body);
        assert_eq!(e.field.as_deref(), Some(*field), "{body}: {e:?}");
        assert!(e.correction.contains(fix), "{body}: {e:?}");
        assert!(e.kind != DecodeErrorKind::Syntax);
    }
    let port = parse::<NodeCreate>("a node create request", REFUSED[2].0).expect_err("too large");
    assert_eq!(
        port.message,
        "'net_interfaces[0].satellite_port' = 70000 is too large in a node create request"
    );
    assert_eq!(
        port.cause,
        "'net_interfaces[0].satellite_port' takes a whole number from 0 to 65535."
    );
    let rg = r#"{"name": "rg1", "select_filter": {"place_count": "three"}}"#;
    let e = parse::<ResourceGroupCreate>("a resource group create request", rg).expect_err(rg);
    assert_eq!(
        e.field.as_deref(),
        Some("select_filter.place_count"),
        "{e:?}"
    );
    let rg = r#"{"name": "rg1", "select_filter": {"storage_pool_list": ["bad name!"]}}"#;
    let r: ResourceGroupCreate = parse("r", rg).unwrap();
    let err = r.command().expect_err("invalid pool name");
    assert!(
        err.contains("storage_pool_list") && err.contains("bad name!"),
        "{err}"
    );
}

/// Parses `body` as `T` and maps it with `to`; panics naming the body on any error.
fn run<T: DeserializeOwned>(body: &str, to: impl Fn(&T) -> Result<Command, String>) -> Command {
    let t: T = parse("a request", body).unwrap_or_else(|e| panic!("{body}: {e:?}"));
    to(&t).unwrap_or_else(|e| panic!("{body}: {e}"))
}

/// Parses `body` as `T` and returns the mapping's refusal; panics if it is accepted.
fn refusal<T: DeserializeOwned>(body: &str, to: impl Fn(&T) -> Result<Command, String>) -> String {
    let t: T = parse("a request", body).unwrap_or_else(|e| panic!("{body}: {e:?}"));
    match to(&t) {
        Ok(c) => panic!("{body}: accepted as {c:?}"),
        Err(e) => e,
    }
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn strings(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| (*x).to_owned()).collect()
}

fn modify(set: &[(&str, &str)], delete: &[&str], namespaces: &[&str]) -> PropsModify {
    PropsModify {
        override_props: map(set),
        delete_props: strings(delete),
        delete_namespaces: strings(namespaces),
    }
}

#[test]
fn node_and_controller_bodies_as_the_clients_send_them() {
    let cases = [
        (
            run(
                r#"{"node_type": "combined", "override_props": {"Aux/rack": "7"},
                "delete_props": ["Aux/old"], "delete_namespaces": ["Aux/tmp"]}"#,
                |m: &NodeModify| Ok(m.command("alpha")),
            ),
            Command::NodeModify {
                name: "alpha".into(),
                node_type: Some(NodeType::Combined),
                props: modify(&[("Aux/rack", "7")], &["Aux/old"], &["Aux/tmp"]),
            },
        ),
        (
            run(
                r#"{"node_type": null, "delete_props": null}"#,
                |m: &NodeModify| Ok(m.command("alpha")),
            ),
            Command::NodeModify {
                name: "alpha".into(),
                node_type: None,
                props: PropsModify::default(),
            },
        ),
        (
            run(r#"{"target": ["beta", "gamma"]}"#, |m: &NodeEvacuate| {
                Ok(m.command("alpha"))
            }),
            Command::NodeEvacuate {
                name: "alpha".into(),
                target: strings(&["beta", "gamma"]),
                do_not_target: vec![],
            },
        ),
        (
            run(r#"{"delete_resources": true}"#, |m: &NodeRestore| {
                m.command("alpha")
            }),
            Command::NodeRestore {
                name: "alpha".into(),
                delete_resources: true,
            },
        ),
        (
            run(
                r#"{"override_props": {"MaxOversubscriptionRatio": "5"}}"#,
                |m: &ControllerPropsModify| Ok(m.command()),
            ),
            Command::CtrlPropsModify {
                props: modify(&[("MaxOversubscriptionRatio", "5")], &[], &[]),
            },
        ),
        (
            run(
                r#"{"delete_props": ["Aux/x"]}"#,
                |m: &ControllerPropsModify| Ok(m.command()),
            ),
            Command::CtrlPropsModify {
                props: modify(&[], &["Aux/x"], &[]),
            },
        ),
        (
            run(
                r#"{"name": "fast", "address": "10.1.0.1", "satellite_port": 3366,
                "satellite_encryption_type": "ssl", "is_active": false}"#,
                |n: &NetInterfaceCreate| Ok(n.command("alpha")),
            ),
            Command::NetIfCreate {
                node: "alpha".into(),
                netif: NetIfSpec {
                    name: "fast".into(),
                    address: "10.1.0.1".into(),
                    satellite_port: Some(3366),
                    encryption: EncryptionType::Ssl,
                },
            },
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
    // No body at all: python-linstor's evacuate and restore without options.
    let e: NodeEvacuate = parse_or_default("an evacuate request", "").unwrap();
    assert_eq!(e, NodeEvacuate::default());
    let r: NodeRestore = parse_or_default("a restore request", " null ").unwrap();
    assert_eq!(
        r.command("alpha").unwrap(),
        Command::NodeRestore {
            name: "alpha".into(),
            delete_resources: false
        }
    );
}

#[test]
fn a_net_interface_modify_keeps_what_the_body_leaves_out() {
    let current = NetInterface {
        name: linstor_core::name::NetIfName::new("default").unwrap(),
        address: "10.0.0.1".parse().unwrap(),
        satellite_port: Some(3366),
        encryption: EncryptionType::Ssl,
        uuid: linstor_core::model::Uuid::default(),
    };
    // python-linstor: a new port, type not given (null), is_active always sent.
    let body = r#"{"name": "default", "satellite_port": 3367,
        "satellite_encryption_type": null, "is_active": false}"#;
    let got = run(body, |m: &NetInterfaceModify| {
        m.command("alpha", "default", Some(&current))
    });
    let want = Command::NetIfModify {
        node: "alpha".into(),
        netif: NetIfSpec {
            name: "default".into(),
            address: "10.0.0.1".into(),
            satellite_port: Some(3367),
            encryption: EncryptionType::Ssl,
        },
    };
    assert_eq!(got, want);
    let e = refusal(r#"{"name": "other"}"#, |m: &NetInterfaceModify| {
        m.command("alpha", "default", Some(&current))
    });
    assert!(e.contains("'name'") && e.contains("default"), "{e}");
    let e = refusal(r#"{"satellite_port": 1}"#, |m: &NetInterfaceModify| {
        m.command("alpha", "default", None)
    });
    assert!(e.starts_with("'address' is required"), "{e}");
}

#[test]
fn pool_bodies_as_the_clients_send_them() {
    let cases = [
        (
            run(
                r#"{"override_props": {"MaxOversubscriptionRatio": "2"}, "delete_props": ["Aux/a"]}"#,
                |m: &StoragePoolModify| Ok(m.command("alpha", "data")),
            ),
            Command::StorPoolModify {
                node: "alpha".into(),
                name: "data".into(),
                props: modify(&[("MaxOversubscriptionRatio", "2")], &["Aux/a"], &[]),
            },
        ),
        (
            run(
                r#"{"storage_pool_name": "data"}"#,
                |m: &StoragePoolDefinitionCreate| Ok(m.command()),
            ),
            Command::StorPoolDfnCreate {
                name: "data".into(),
                props: BTreeMap::new(),
            },
        ),
        (
            run(
                r#"{"storage_pool_name": "data", "props": {"MaxOversubscriptionRatio": "3"}}"#,
                |m: &StoragePoolDefinitionCreate| Ok(m.command()),
            ),
            Command::StorPoolDfnCreate {
                name: "data".into(),
                props: map(&[("MaxOversubscriptionRatio", "3")]),
            },
        ),
        (
            run(
                r#"{"delete_namespaces": ["Aux"]}"#,
                |m: &StoragePoolDefinitionModify| Ok(m.command("data")),
            ),
            Command::StorPoolDfnModify {
                name: "data".into(),
                props: modify(&[], &[], &["Aux"]),
            },
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
}

#[test]
fn group_bodies_as_the_clients_send_them() {
    let mut gross = VlmGrpFlags::default();
    gross.insert(VlmGrpFlags::GROSS_SIZE);
    let cases = [
        (
            run(
                r#"{"volume_number": "1", "props": {"Aux/a": "b"}, "flags": ["gross_size"]}"#,
                |v: &VolumeGroupCreate| v.command("fast"),
            ),
            Command::VlmGrpCreate {
                rsc_grp: "fast".into(),
                number: Some(1),
                props: map(&[("Aux/a", "b")]),
                flags: gross,
            },
        ),
        (
            run("{}", |v: &VolumeGroupCreate| v.command("fast")),
            Command::VlmGrpCreate {
                rsc_grp: "fast".into(),
                number: None,
                props: BTreeMap::new(),
                flags: VlmGrpFlags::default(),
            },
        ),
        (
            run(r#"{"select_filter": {}}"#, |a: &ResourceGroupAdjust| {
                a.command(None)
            }),
            Command::RscGrpAdjust {
                name: None,
                select_filter: None,
            },
        ),
        (
            run(
                r#"{"select_filter": {"place_count": "3", "diskless_type": "nvme_initiator"}}"#,
                |a: &ResourceGroupAdjust| a.command(Some("fast")),
            ),
            Command::RscGrpAdjust {
                name: Some("fast".into()),
                select_filter: Some(SelectFilter {
                    place_count: Some(3),
                    diskless_type: Some(DisklessType::NVME_INITIATOR),
                    ..SelectFilter::default()
                }),
            },
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
    let adjust: ResourceGroupAdjust = parse_or_default("an adjust request", "").unwrap();
    assert_eq!(adjust, ResourceGroupAdjust::default());
    // The size query's filter over the group's.
    let group = SelectFilter {
        place_count: Some(2),
        replicas_on_different: Some(strings(&["Aux/zone"])),
        ..SelectFilter::default()
    };
    let q: QuerySizeInfoRequest = parse(
        "q",
        r#"{"select_filter": {"place_count": 3}, "ignore_cache_older_than_sec": "-1"}"#,
    )
    .unwrap();
    assert_eq!(q.ignore_cache_older_than_sec, Some(-1));
    let f = q.filter(&group).unwrap();
    assert_eq!(f.place_count, Some(3));
    assert_eq!(f.replicas_on_different, group.replicas_on_different);
    let empty: QuerySizeInfoRequest = parse("q", r#"{"select_filter": {}}"#).unwrap();
    assert_eq!(empty.filter(&group).unwrap(), group);
}

#[test]
fn definition_bodies_as_the_clients_send_them() {
    let cases = [
        (
            // python-linstor's `rd create --layer-list drbd,storage --resource-group fast`.
            run(
                r#"{"resource_definition": {"name": "r1", "layer_data": [{"type": "drbd"},
                {"type": "STORAGE"}], "resource_group_name": "fast"}, "drbd_peer_slots": 4}"#,
                ResourceDefinitionCreate::command,
            ),
            Command::RscDfnCreate {
                name: "r1".into(),
                rsc_grp: Some("fast".into()),
                external_name: None,
                props: BTreeMap::new(),
                secret: None,
                peer_slots: Some(4),
                layer_stack: Some(vec![LayerKind::DRBD, LayerKind::STORAGE]),
            },
        ),
        (
            // golinstor's ResourceDefinitionCreate with an external name and a secret.
            run(
                r#"{"resource_definition": {"name": "r2", "external_name": "Disk Two",
                "props": {"Aux/a": "b"}, "layer_data": [{"type": "STORAGE", "data": null}]},
                "drbd_secret": "s3cret", "drbd_transport_type": "ip"}"#,
                ResourceDefinitionCreate::command,
            ),
            Command::RscDfnCreate {
                name: "r2".into(),
                rsc_grp: None,
                external_name: Some("Disk Two".into()),
                props: map(&[("Aux/a", "b")]),
                secret: Some("s3cret".into()),
                peer_slots: None,
                layer_stack: Some(vec![LayerKind::STORAGE]),
            },
        ),
        (
            // python-linstor's `resource_dfn_create("", external_name=…)`: the core makes the
            // name from the external name.
            run(
                r#"{"resource_definition": {"name": "", "external_name": "Disk One"}}"#,
                ResourceDefinitionCreate::command,
            ),
            Command::RscDfnCreate {
                name: String::new(),
                rsc_grp: None,
                external_name: Some("Disk One".into()),
                props: BTreeMap::new(),
                secret: None,
                peer_slots: None,
                layer_stack: None,
            },
        ),
        (
            run(
                r#"{"drbd_peer_slots": "3", "override_props": {"Aux/a": "c"},
                "resource_group": "slow", "layer_stack": []}"#,
                |m: &ResourceDefinitionModify| m.command("r1"),
            ),
            Command::RscDfnModify {
                name: "r1".into(),
                props: modify(&[("Aux/a", "c")], &[], &[]),
                peer_slots: Some(3),
                rsc_grp: Some("slow".into()),
            },
        ),
        (
            // python-linstor's `vd create r1 1G --storage-pool data --minor 1001`.
            run(
                r#"{"volume_definition": {"size_kib": 1048576, "flags": [],
                "props": {"StorPoolName": "data"}}, "drbd_minor_number": 1001}"#,
                |v: &VolumeDefinitionCreate| v.command("r1"),
            ),
            Command::VlmDfnCreate {
                rsc_dfn: "r1".into(),
                number: None,
                size: SizeKib(1_048_576),
                minor: Some(1001),
                props: map(&[("StorPoolName", "data")]),
            },
        ),
        (
            run(
                r#"{"volume_definition": {"volume_number": "2", "size_kib": "4096"}}"#,
                |v: &VolumeDefinitionCreate| v.command("r1"),
            ),
            Command::VlmDfnCreate {
                rsc_dfn: "r1".into(),
                number: Some(2),
                size: SizeKib(4096),
                minor: None,
                props: BTreeMap::new(),
            },
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
}

#[test]
fn a_volume_definition_modify_maps_its_resize_and_says_what_else_it_asks() {
    let m: VolumeDefinitionModify = parse("m", r#"{"size_kib": 2097152}"#).unwrap();
    assert_eq!(
        m.resize_command("r1", 0),
        Some(Command::VlmDfnResize {
            rsc_dfn: "r1".into(),
            number: 0,
            size: SizeKib(2_097_152),
        })
    );
    assert!(!m.changes_more_than_size());
    let m: VolumeDefinitionModify = parse(
        "m",
        r#"{"override_props": {"Aux/a": "b"}, "flags": ["-GROSS_SIZE"]}"#,
    )
    .unwrap();
    assert_eq!(m.resize_command("r1", 0), None);
    assert!(m.changes_more_than_size());
    assert_eq!(m.props(), modify(&[("Aux/a", "b")], &[], &[]));
    assert_eq!(m.flags(), ["-GROSS_SIZE"]);
}

#[test]
fn a_resource_create_list_maps_item_by_item() {
    // python-linstor's `resource create alpha beta r1 --storage-pool data` plus a diskless
    // and a DRBD client.
    let body = r#"[
        {"resource": {"node_name": "alpha", "props": {"StorPoolName": "data"}}},
        {"resource": {"node_name": "beta", "flags": ["DRBD_DISKLESS"]}},
        {"resource": {"name": "r1", "node_name": "gamma"}, "drbd_client": true}
    ]"#;
    let list: Vec<ResourceCreate> = parse_list("a resource create request", body).unwrap();
    let got = ResourceCreate::commands(&list, "r1").unwrap();
    let rsc = |node: &str, pool: Option<&str>, diskless: bool, client: bool| Command::RscCreate {
        rsc_dfn: "r1".into(),
        node: node.into(),
        storage_pool: pool.map(str::to_owned),
        diskless,
        drbd_client: client,
        props: pool.map_or_else(BTreeMap::new, |p| map(&[("StorPoolName", p)])),
    };
    assert_eq!(
        got,
        vec![
            rsc("alpha", Some("data"), false, false),
            rsc("beta", None, true, false),
            rsc("gamma", None, true, true),
        ]
    );
    let e = ResourceCreate::commands(&[], "r1").expect_err("nothing to create");
    assert!(e.contains("no resources"), "{e}");
}

#[test]
fn autoplace_takes_the_top_level_fields_over_the_filter() {
    let place = |f: SelectFilter| Command::RscAutoplace {
        rsc_dfn: "r1".into(),
        select_filter: f,
    };
    let cases = [
        (
            // The CLI: `"diskless_on_remaining": null`, place count as a string.
            r#"{"diskless_on_remaining": null, "select_filter": {"place_count": "2",
            "storage_pool_list": ["data"]}}"#,
            SelectFilter {
                place_count: Some(2),
                storage_pool_list: Some(vec![StorPoolName::new("data").unwrap()]),
                diskless_on_remaining: Some(false),
                ..SelectFilter::default()
            },
        ),
        (
            r#"{"diskless_on_remaining": true, "layer_list": ["drbd", "storage"],
            "select_filter": {"place_count": 3, "diskless_on_remaining": false}}"#,
            SelectFilter {
                place_count: Some(3),
                diskless_on_remaining: Some(true),
                layer_stack: Some(vec![LayerKind::DRBD, LayerKind::STORAGE]),
                ..SelectFilter::default()
            },
        ),
        (
            r#"{"select_filter": {"additional_place_count": 1, "diskless_on_remaining": true}}"#,
            SelectFilter {
                additional_place_count: Some(1),
                diskless_on_remaining: Some(true),
                ..SelectFilter::default()
            },
        ),
    ];
    for (body, want) in cases {
        assert_eq!(
            run(body, |a: &AutoPlaceRequest| a.command("r1")),
            place(want),
            "{body}"
        );
    }
}

#[test]
fn snapshot_and_key_value_store_bodies_as_the_clients_send_them() {
    let cases = [
        (
            run(
                r#"{"name": "s1", "nodes": ["alpha"]}"#,
                |s: &SnapshotCreate| s.command("r1"),
            ),
            Command::SnapshotCreate {
                rsc_dfn: "r1".into(),
                name: "s1".into(),
                nodes: strings(&["alpha"]),
            },
        ),
        (
            // golinstor (linstor-csi) names the definition too.
            run(
                r#"{"name": "s2", "resource_name": "R1", "props": {}}"#,
                |s: &SnapshotCreate| s.command("r1"),
            ),
            Command::SnapshotCreate {
                rsc_dfn: "r1".into(),
                name: "s2".into(),
                nodes: vec![],
            },
        ),
        (
            run(
                r#"{"to_resource": "r2", "nodes": ["alpha", "beta"]}"#,
                |s: &SnapshotRestore| s.command("r1", "s1"),
            ),
            Command::SnapshotRestore {
                rsc_dfn: "r1".into(),
                snapshot: "s1".into(),
                target: "r2".into(),
                nodes: strings(&["alpha", "beta"]),
            },
        ),
        (
            run(
                r#"{"override_props": {"csi/x": "1"}, "delete_props": ["csi/y"]}"#,
                |k: &KeyValueStoreModify| Ok(k.command("csi")),
            ),
            Command::KvsModify {
                name: "csi".into(),
                props: modify(&[("csi/x", "1")], &["csi/y"], &[]),
            },
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
}

#[test]
fn fields_the_core_cannot_honour_are_refused_by_name() {
    let cases: Vec<(String, &str)> = vec![
        (
            refusal(r#"{"delete_snapshots": true}"#, |m: &NodeRestore| {
                m.command("a")
            }),
            "'delete_snapshots'",
        ),
        (
            refusal(
                r#"{"resource_definition": {"name": "r1"}, "drbd_port": 7000}"#,
                ResourceDefinitionCreate::command,
            ),
            "'drbd_port'",
        ),
        (
            refusal(
                r#"{"resource_definition": {"name": "", "resource_group_name": "g"}}"#,
                ResourceDefinitionCreate::command,
            ),
            "'resource_definition.name' is required",
        ),
        (
            refusal(
                r#"{"resource_definition": {"name": "r1"}, "drbd_transport_type": "RDMA"}"#,
                ResourceDefinitionCreate::command,
            ),
            "'drbd_transport_type'",
        ),
        (
            refusal(
                r#"{"resource_definition": {"name": "r1", "layer_data": [{"type": "DRBD",
                "data": {"peer_slots": 3}}, {"type": "STORAGE"}]}}"#,
                ResourceDefinitionCreate::command,
            ),
            "'resource_definition.layer_data[0].data'",
        ),
        (
            refusal(
                r#"{"resource_definition": {"name": "r1", "flags": ["DELETE"]}}"#,
                ResourceDefinitionCreate::command,
            ),
            "'resource_definition.flags'",
        ),
        (
            refusal(
                r#"{"drbd_port": "7001"}"#,
                |m: &ResourceDefinitionModify| m.command("r1"),
            ),
            "'drbd_port'",
        ),
        (
            refusal(
                r#"{"layer_stack": ["drbd", "luks", "storage"]}"#,
                |m: &ResourceDefinitionModify| m.command("r1"),
            ),
            "'layer_stack'",
        ),
        (
            refusal(
                r#"{"volume_definition": {"size_kib": 1, "flags": ["ENCRYPTED"]}}"#,
                |v: &VolumeDefinitionCreate| v.command("r1"),
            ),
            "'volume_definition.flags'",
        ),
        (
            refusal(
                r#"{"volume_definition": {"size_kib": 1}, "passphrase": "pw"}"#,
                |v: &VolumeDefinitionCreate| v.command("r1"),
            ),
            "'passphrase'",
        ),
        (
            refusal(
                r#"{"resource": {"node_name": "a", "flags": ["INACTIVE"]}}"#,
                |r: &ResourceCreate| r.command("r1"),
            ),
            "'resource.flags' has 'INACTIVE'",
        ),
        (
            refusal(
                r#"{"resource": {"node_name": "a"}, "drbd_node_id": 3}"#,
                |r: &ResourceCreate| r.command("r1"),
            ),
            "'drbd_node_id'",
        ),
        (
            refusal(
                r#"{"resource": {"node_name": "a"}, "drbd_tcp_ports": [7000]}"#,
                |r: &ResourceCreate| r.command("r1"),
            ),
            "'drbd_tcp_ports'",
        ),
        (
            refusal(
                r#"{"resource": {"node_name": "a"}, "layer_list": ["storage"]}"#,
                |r: &ResourceCreate| r.command("r1"),
            ),
            "'layer_list'",
        ),
        (
            refusal(
                r#"{"resource": {"name": "other", "node_name": "a"}}"#,
                |r: &ResourceCreate| r.command("r1"),
            ),
            "'resource.name'",
        ),
        (
            refusal(
                r#"{"select_filter": {}, "snap_names": ["s1"]}"#,
                |a: &AutoPlaceRequest| a.command("r1"),
            ),
            "'snap_names'",
        ),
        (
            refusal(r#"{"copy_all_snaps": true}"#, |a: &ResourceGroupAdjust| {
                a.command(None)
            }),
            "'copy_all_snaps'",
        ),
        (
            refusal(
                r#"{"select_filter": {"place_count": 2, "overprovision": 1.5}}"#,
                |a: &AutoPlaceRequest| a.command("r1"),
            ),
            "'overprovision'",
        ),
        (
            refusal(r#"{"flags": ["GROSS"]}"#, |v: &VolumeGroupCreate| {
                v.command("g")
            }),
            "'flags' has an unknown flag 'GROSS' (valid: GROSS_SIZE)",
        ),
        (
            refusal(
                r#"{"name": "s1", "snapshot_definition_props": {"Aux/a": "b"}}"#,
                |s: &SnapshotCreate| s.command("r1"),
            ),
            "'snapshot_definition_props'",
        ),
        (
            refusal(
                r#"{"name": "s1", "resource_name": "r9"}"#,
                |s: &SnapshotCreate| s.command("r1"),
            ),
            "'resource_name' is 'r9' but the path names 'r1'",
        ),
        (
            refusal(
                r#"{"to_resource": "r2", "stor_pool_rename": {"data": "fast"}}"#,
                |s: &SnapshotRestore| s.command("r1", "s1"),
            ),
            "'stor_pool_rename'",
        ),
    ];
    for (err, field) in cases {
        assert!(err.contains(field), "{field}: {err}");
    }
    // In a list, the item is named.
    let list: Vec<ResourceCreate> = parse_list(
        "r",
        r#"[{"resource": {"node_name": "a"}}, {"resource": {"node_name": "b", "flags": ["NVME_INITIATOR"]}}]"#,
    )
    .unwrap();
    let e = ResourceCreate::commands(&list, "r1").expect_err("nvme");
    assert!(
        e.starts_with("'[1].resource.flags' has 'NVME_INITIATOR'"),
        "{e}"
    );
}

#[test]
fn unreadable_bodies_of_the_new_requests_name_the_field() {
    fn field<T: DeserializeOwned + std::fmt::Debug>(body: &str) -> (String, DecodeErrorKind) {
        let e = parse::<T>("a request", body).expect_err(body);
        (e.field.clone().unwrap_or_default(), e.kind)
    }
    use DecodeErrorKind as K;
    let cases = [
        (
            field::<NodeModify>(r#"{"node_type": "satelite"}"#),
            ("node_type", K::UnknownVariant),
        ),
        (
            field::<NodeModify>(r#"{"overide_props": {}}"#),
            ("overide_props", K::UnknownField),
        ),
        (
            field::<NodeEvacuate>(r#"{"targets": ["b"]}"#),
            ("targets", K::UnknownField),
        ),
        (
            field::<NetInterfaceModify>(r#"{"satellite_port": "70000"}"#),
            ("satellite_port", K::OutOfRange),
        ),
        (
            field::<VolumeGroupCreate>(r#"{"volume_number": -1}"#),
            ("volume_number", K::OutOfRange),
        ),
        (
            field::<VolumeGroupCreate>(r#"{"volume_number": "-1"}"#),
            ("volume_number", K::OutOfRange),
        ),
        (
            field::<VolumeDefinitionCreate>(r#"{"volume_definition": {"size_kib": 1.5}}"#),
            ("volume_definition.size_kib", K::OutOfRange),
        ),
        (
            field::<NodeRestore>(r#"{"delete_resources": "yes"}"#),
            ("delete_resources", K::InvalidValue),
        ),
        (
            field::<ResourceDefinitionCreate>(
                r#"{"resource_definition": {"name": "r", "layer_data": [{"type": "drdb"}]}}"#,
            ),
            ("resource_definition.layer_data[0].type", K::UnknownVariant),
        ),
        (
            field::<ResourceDefinitionCreate>(r#"{"drbd_port": 7000}"#),
            ("resource_definition", K::MissingField),
        ),
        (
            field::<ResourceDefinitionModify>(r#"{"drbd_peer_slots": "many"}"#),
            ("drbd_peer_slots", K::InvalidValue),
        ),
        (
            field::<VolumeDefinitionCreate>(r#"{"volume_definition": {"size_kib": null}}"#),
            ("volume_definition.size_kib", K::InvalidValue),
        ),
        (
            field::<VolumeDefinitionCreate>(r#"{"volume_definition": {"flags": []}}"#),
            ("volume_definition.size_kib", K::MissingField),
        ),
        (
            field::<AutoPlaceRequest>(r#"{"select_filter": {"place_count": "two"}}"#),
            ("select_filter.place_count", K::InvalidValue),
        ),
        (
            field::<AutoPlaceRequest>(r#"{"layer_list": ["drbd", "zfs"]}"#),
            ("layer_list", K::UnknownVariant),
        ),
        (
            field::<AutoPlaceRequest>(r#"{"select_filter": {"diskless_type": "diskless"}}"#),
            ("select_filter.diskless_type", K::UnknownVariant),
        ),
        (
            field::<SnapshotCreate>(r#"{"nodes": ["a"]}"#),
            ("name", K::MissingField),
        ),
        (
            field::<SnapshotRestore>(r#"{"to_resource": "r2", "node": ["a"]}"#),
            ("node", K::UnknownField),
        ),
        (
            field::<KeyValueStoreModify>(r#"{"override_props": {"a": 1}}"#),
            ("override_props.a", K::InvalidValue),
        ),
        (
            field::<QuerySizeInfoRequest>(r#"{"ignore_cache_older_than_sec": "soon"}"#),
            ("ignore_cache_older_than_sec", K::InvalidValue),
        ),
        (
            field::<StoragePoolDefinitionCreate>(r#"{"name": "data"}"#),
            ("name", K::UnknownField),
        ),
    ];
    for ((got, kind), (want, want_kind)) in cases {
        assert_eq!((got.as_str(), kind), (want, want_kind));
    }
}

#[test]
fn a_list_body_must_be_an_array_and_names_the_bad_item() {
    let e = parse_list::<ResourceCreate>("a resource create request", r#"{"resource": {}}"#)
        .expect_err("not an array");
    assert_eq!(e.message, "a resource create request must be a JSON array");
    let e = parse_list::<ResourceCreate>("a resource create request", "[{").expect_err("syntax");
    assert_eq!(e.kind, DecodeErrorKind::Syntax);
    let e = parse_list::<ResourceCreate>(
        "a resource create request",
        r#"[{"resource": {"node_name": "a"}}, {"resource": {"node_name": "b", "flgs": []}}]"#,
    )
    .expect_err("unknown field");
    assert_eq!(e.field.as_deref(), Some("[1].resource.flgs"), "{e:?}");
    assert!(
        e.message.contains("item 1 of a resource create request"),
        "{}",
        e.message
    );
    assert!(e.correction.contains("flags"), "{}", e.correction);
}

#[test]
fn the_new_bodies_map_to_commands_the_cluster_runs() {
    let mut e = SeededEnv::new(3);
    let mut c = Cluster::new(&mut e);
    let mut exec = |c: &mut Cluster, what: &str, cmd: Command| {
        let out = c.execute(cmd, &mut e);
        assert!(!out.is_error(), "{what}: {:?}", out.rc);
    };
    for (i, n) in ["alpha", "beta", "gamma"].iter().enumerate() {
        let body = format!(
            r#"{{"name": "{n}", "type": "satellite", "net_interfaces": [{{"name": "default",
            "address": "10.0.0.{}", "satellite_port": 3366}}]}}"#,
            i + 1
        );
        exec(&mut c, "node", run(&body, |b: &NodeCreate| Ok(b.command())));
        let online = format!(r#"{{"cmd": "report_node", "node": "{n}", "connection": "ONLINE"}}"#);
        exec(
            &mut c,
            "online",
            linstor_core::decode::decode_command(&online).unwrap(),
        );
    }
    let spd = r#"{"storage_pool_name": "data", "props": {"MaxOversubscriptionRatio": "3"}}"#;
    exec(
        &mut c,
        "spd",
        run(spd, |b: &StoragePoolDefinitionCreate| Ok(b.command())),
    );
    for n in ["alpha", "beta", "gamma"] {
        let sp = r#"{"storage_pool_name": "data", "provider_kind": "lvm_thin",
            "props": {"StorDriver/StorPoolName": "vg0/thin"}}"#;
        exec(
            &mut c,
            "pool",
            run(sp, |b: &StoragePoolCreate| Ok(b.command(n))),
        );
        let cap = format!(
            r#"{{"cmd": "report_pool_capacity", "node": "{n}", "pool": "data", "free": 10000000, "total": 10000000}}"#
        );
        exec(
            &mut c,
            "capacity",
            linstor_core::decode::decode_command(&cap).unwrap(),
        );
    }
    let current = c.state().nodes[&NodeName::new("alpha").unwrap()].net_interfaces
        [&linstor_core::name::NetIfName::new("default").unwrap()]
        .clone();
    let steps: Vec<(&str, Command)> = vec![
        (
            "spd modify",
            run(
                r#"{"override_props": {"Aux/a": "1"}}"#,
                |b: &StoragePoolDefinitionModify| Ok(b.command("data")),
            ),
        ),
        (
            "pool modify",
            run(
                r#"{"override_props": {"Aux/a": "1"}}"#,
                |b: &StoragePoolModify| Ok(b.command("alpha", "data")),
            ),
        ),
        (
            "node modify",
            run(
                r#"{"override_props": {"Aux/rack": "1"}}"#,
                |b: &NodeModify| Ok(b.command("alpha")),
            ),
        ),
        (
            "netif modify",
            run(
                r#"{"name": "default", "satellite_port": 3367, "satellite_encryption_type": null, "is_active": false}"#,
                |b: &NetInterfaceModify| b.command("alpha", "default", Some(&current)),
            ),
        ),
        (
            "ctrl props",
            run(
                r#"{"override_props": {"Aux/site": "x"}}"#,
                |b: &ControllerPropsModify| Ok(b.command()),
            ),
        ),
        (
            "rg create",
            run(
                r#"{"name": "fast", "select_filter": {"place_count": "2"}}"#,
                |b: &ResourceGroupCreate| b.command(),
            ),
        ),
        (
            "vg create",
            run("{}", |b: &VolumeGroupCreate| b.command("fast")),
        ),
        (
            "rd create",
            run(
                r#"{"resource_definition": {"name": "r1", "resource_group_name": "fast",
                "layer_data": [{"type": "DRBD"}, {"type": "STORAGE"}]}}"#,
                ResourceDefinitionCreate::command,
            ),
        ),
        (
            "rd modify",
            run(
                r#"{"drbd_peer_slots": 5, "override_props": {"Aux/a": "b"}}"#,
                |b: &ResourceDefinitionModify| b.command("r1"),
            ),
        ),
        (
            "vd create",
            run(
                r#"{"volume_definition": {"size_kib": 1048576, "flags": []}}"#,
                |b: &VolumeDefinitionCreate| b.command("r1"),
            ),
        ),
    ];
    for (what, cmd) in steps {
        exec(&mut c, what, cmd);
    }
    let list: Vec<ResourceCreate> = parse_list(
        "r",
        r#"[{"resource": {"node_name": "alpha", "props": {"StorPoolName": "data"}}},
           {"resource": {"node_name": "beta", "flags": ["DRBD_DISKLESS"]}}]"#,
    )
    .unwrap();
    for cmd in ResourceCreate::commands(&list, "r1").unwrap() {
        exec(&mut c, "rsc create", cmd);
    }
    let steps: Vec<(&str, Command)> = vec![
        (
            "autoplace",
            run(
                r#"{"diskless_on_remaining": null, "select_filter": {"place_count": "2"}}"#,
                |b: &AutoPlaceRequest| b.command("r1"),
            ),
        ),
        (
            "resize",
            run(r#"{"size_kib": 2097152}"#, |b: &VolumeDefinitionModify| {
                b.resize_command("r1", 0)
                    .ok_or_else(|| "no size".to_owned())
            }),
        ),
        (
            "snapshot",
            run(r#"{"name": "s1"}"#, |b: &SnapshotCreate| b.command("r1")),
        ),
        (
            "restore",
            run(r#"{"to_resource": "r2"}"#, |b: &SnapshotRestore| {
                b.command("r1", "s1")
            }),
        ),
        (
            "kvs",
            run(
                r#"{"override_props": {"csi/a": "1"}}"#,
                |b: &KeyValueStoreModify| Ok(b.command("csi")),
            ),
        ),
        (
            "adjust",
            run("{}", |b: &ResourceGroupAdjust| b.command(Some("fast"))),
        ),
        (
            "evacuate",
            run(r#"{"do_not_target": ["alpha"]}"#, |b: &NodeEvacuate| {
                Ok(b.command("beta"))
            }),
        ),
        (
            "restore node",
            run("{}", |b: &NodeRestore| b.command("beta")),
        ),
    ];
    for (what, cmd) in steps {
        exec(&mut c, what, cmd);
    }
}
