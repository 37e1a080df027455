//! Request bodies exactly as the real `linstor` CLI and python-linstor send them (captured in
//! `rest-client-compat.md`), their tolerance rules, and refusals that name the field.

use linstor_core::cluster::{Cluster, Command, SeededEnv};
use linstor_core::decode::DecodeErrorKind;
use linstor_core::model::{EncryptionType, NodeType, ProviderKind, SelectFilter};

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
