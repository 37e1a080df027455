//! Views of a sample cluster: no `null`, no empty collection anywhere, the fields clients
//! index always there, and the JSON pinned by snapshots.

use linstor_core::NodeName;
use linstor_core::cluster::{Cluster, SeededEnv};
use linstor_core::drbd_options::DrbdOptionsValidator;
use linstor_core::model::SnapshotDfnFlags;
use linstor_core::props::{KEYS, Level, validate_user_prop};
use serde_json::{Value, json};

use super::*;

/// Two nodes with LVM pools, a group, a definition with one volume on both nodes and a
/// diskless replica on a third node, a reported capacity and an online node.
fn sample() -> Cluster {
    let mut e = SeededEnv::new(5);
    let mut c = Cluster::new(&mut e);
    let mut run = |cmd: Value| {
        let out = c.execute_json(&cmd.to_string(), &mut e);
        assert!(!out.is_error(), "{cmd}: {:?}", out.rc);
    };
    for (i, n) in ["alpha", "beta", "gamma"].iter().enumerate() {
        run(
            json!({"cmd": "node_create", "name": n, "node_type": "Satellite",
            "net_interfaces": [{"name": "default", "address": format!("10.0.0.{}", i + 1), "satellite_port": 3366}],
            "props": {"Aux/zone": "a"}}),
        );
        run(
            json!({"cmd": "stor_pool_create", "node": n, "name": "data", "kind": "LVM",
            "props": {"StorDriver/StorPoolName": "vg0"}}),
        );
    }
    run(json!({"cmd": "report_node", "node": "alpha", "connection": "ONLINE"}));
    run(
        json!({"cmd": "report_pool_capacity", "node": "alpha", "pool": "data", "free": 1000, "total": 4000}),
    );
    run(json!({"cmd": "rsc_grp_create", "name": "fast", "select_filter": {"place_count": 2}}));
    run(json!({"cmd": "vlm_grp_create", "rsc_grp": "fast"}));
    run(
        json!({"cmd": "spawn", "rsc_grp": "fast", "rsc_dfn": "pvc-1", "volume_sizes": [1_048_576],
        "nodes": [{"node": "alpha", "storage_pool": "data"}, {"node": "beta", "storage_pool": "data"}]}),
    );
    run(json!({"cmd": "rsc_create", "rsc_dfn": "pvc-1", "node": "gamma", "diskless": true}));
    c
}

/// The sample with thin pools on alpha and beta, a definition there with a snapshot, a
/// key-value store, storage pool definition properties and a controller property.
fn extended() -> Cluster {
    let mut c = sample();
    let mut e = SeededEnv::new(6);
    let mut run = |cmd: Value| {
        let out = c.execute_json(&cmd.to_string(), &mut e);
        assert!(!out.is_error(), "{cmd}: {:?}", out.rc);
    };
    for n in ["alpha", "beta"] {
        run(
            json!({"cmd": "stor_pool_create", "node": n, "name": "thin", "kind": "LVM_THIN",
            "props": {"StorDriver/StorPoolName": "vg0/thin"}}),
        );
    }
    run(
        json!({"cmd": "spawn", "rsc_grp": "fast", "rsc_dfn": "db", "volume_sizes": [4096],
        "nodes": [{"node": "alpha", "storage_pool": "thin"}, {"node": "beta", "storage_pool": "thin"}]}),
    );
    // Satellites take snapshots: beta is connected for it, and offline again afterwards.
    run(json!({"cmd": "report_node", "node": "beta", "connection": "ONLINE"}));
    run(json!({"cmd": "snapshot_create", "rsc_dfn": "db", "name": "snap1"}));
    run(json!({"cmd": "report_node", "node": "beta", "connection": "OFFLINE"}));
    run(
        json!({"cmd": "kvs_modify", "name": "csi", "props": {"override_props": {"csi/volume": "pvc-1"}}}),
    );
    run(
        json!({"cmd": "stor_pool_dfn_modify", "name": "thin", "props": {"override_props": {"MaxOversubscriptionRatio": "4"}}}),
    );
    run(json!({"cmd": "ctrl_props_modify", "props": {"override_props": {"Aux/site": "berlin"}}}));
    c
}

/// Every view of the sample, as JSON.
fn all_views(c: &Cluster) -> Vec<(String, Value)> {
    let s = c.state();
    let mut out = Vec::new();
    let mut add = |name: String, v: Value| out.push((name, v));
    for n in s.nodes.values() {
        add(
            format!("node {}", n.name),
            serde_json::to_value(node(s, n)).unwrap(),
        );
        for p in n.storage_pools.values() {
            let v = serde_json::to_value(storage_pool(s, p)).unwrap();
            add(format!("pool {}/{}", n.name, p.name), v);
        }
    }
    for g in s.resource_groups.values() {
        add(
            format!("group {}", g.name),
            serde_json::to_value(resource_group(g)).unwrap(),
        );
        for v in g.volume_groups.values() {
            add(
                format!("vg {}", g.name),
                serde_json::to_value(volume_group(v)).unwrap(),
            );
        }
    }
    for d in s.resource_definitions.values() {
        let v = serde_json::to_value(resource_definition(d, true)).unwrap();
        add(format!("rd {}", d.name), v);
        for r in d.resources.values() {
            let v = serde_json::to_value(resource(s, d, r)).unwrap();
            add(format!("rsc {}/{}", d.name, r.node), v);
        }
        for sd in d.snapshots.values() {
            let v = serde_json::to_value(snapshot(d, sd)).unwrap();
            add(format!("snapshot {}/{}", d.name, sd.name), v);
        }
    }
    for k in s.key_value_stores.values() {
        let v = serde_json::to_value(key_value_store(k)).unwrap();
        add(format!("kvs {}", k.name), v);
    }
    for p in s.storage_pool_definitions.values() {
        let v = serde_json::to_value(storage_pool_definition(p)).unwrap();
        add(format!("spd {}", p.name), v);
    }
    add("ctrl props".into(), json!(controller_props(s)));
    add("props info all".into(), json!(props_info_all()));
    out
}

/// Paths of `null`s and empty collections in `v`.
fn empties(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Null => out.push(path.to_owned()),
        Value::Array(a) if a.is_empty() => out.push(path.to_owned()),
        Value::Object(m) if m.is_empty() => out.push(path.to_owned()),
        Value::String(s) if s.is_empty() => out.push(path.to_owned()),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                empties(x, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                empties(x, &format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn no_view_sends_null_or_an_empty_collection() {
    let c = extended();
    let mut found = Vec::new();
    for (name, v) in all_views(&c) {
        empties(&v, &name, &mut found);
    }
    assert!(found.is_empty(), "NON_EMPTY violated at: {found:?}");
}

#[test]
fn fields_clients_index_are_always_there() {
    let c = extended();
    // (view name prefix, required fields) from rest-client-compat.md.
    let required: &[(&str, &[&str])] = &[
        ("node ", &["name", "type"]),
        ("pool ", &["storage_pool_name", "node_name"]),
        ("group ", &["name"]),
        ("vg ", &["volume_number"]),
        ("rd ", &["name"]),
        ("rsc ", &["name", "node_name", "layer_object"]),
        (
            "snapshot ",
            &["name", "resource_name", "volume_definitions"],
        ),
        ("kvs ", &["name"]),
        ("spd ", &["storage_pool_name"]),
    ];
    for (name, v) in all_views(&c) {
        for (prefix, fields) in required {
            if name.starts_with(prefix) {
                for f in *fields {
                    assert!(v.get(*f).is_some(), "{name} lacks {f}: {v}");
                }
            }
        }
        if let Some(vols) = v.get("volumes").and_then(Value::as_array) {
            for vol in vols {
                for f in [
                    "volume_number",
                    "provider_kind",
                    "allocated_size_kib",
                    "usable_size_kib",
                ] {
                    assert!(vol.get(f).is_some(), "{name} volume lacks {f}");
                }
                for l in vol["layer_data_list"].as_array().unwrap() {
                    assert!(l.get("type").is_some() && l.get("data").is_some());
                }
            }
        }
        if let Some(vds) = v.get("volume_definitions").and_then(Value::as_array) {
            for vd in vds {
                assert!(vd.get("volume_number").is_some() && vd.get("size_kib").is_some());
                if name.starts_with("snapshot ") {
                    continue;
                }
                let drbd = &vd["layer_data"][0];
                assert_eq!(drbd["type"], "DRBD");
                assert!(drbd["data"]["minor_number"].is_u64(), "{vd}");
            }
        }
    }
}

#[test]
fn a_diskless_replica_lists_every_bit_subset_flag_and_a_reported_pool_both_capacities() {
    let c = sample();
    let s = c.state();
    let d = s.resource_definitions.values().next().unwrap();
    let gamma = &d.resources[&NodeName::new("gamma").unwrap()];
    let flags = resource(s, d, gamma).flags;
    assert!(
        flags.contains(&"DISKLESS") && flags.contains(&"DRBD_DISKLESS"),
        "{flags:?}"
    );
    let alpha = &s.nodes[&NodeName::new("alpha").unwrap()];
    let data = linstor_core::StorPoolName::new("data").unwrap();
    let pool = storage_pool(s, &alpha.storage_pools[&data]);
    assert_eq!(
        (pool.free_capacity, pool.total_capacity),
        (Some(1000), Some(4000))
    );
    assert_eq!(node(s, alpha).connection_status, "ONLINE");
    let beta = &s.nodes[&NodeName::new("beta").unwrap()];
    assert_eq!(node(s, beta).connection_status, "OFFLINE");
}

#[test]
fn views_of_the_sample() {
    let c = sample();
    let text: Vec<String> = all_views(&c)
        .into_iter()
        .filter(|(n, _)| {
            n.starts_with("node alpha")
                || n.starts_with("rd ")
                || n.starts_with("rsc pvc-1/gamma")
                || n.starts_with("rsc pvc-1/alpha")
                || n.starts_with("group fast")
        })
        .map(|(n, v)| format!("{n}\n{}", serde_json::to_string_pretty(&v).unwrap()))
        .collect();
    insta::assert_snapshot!(text.join("\n\n"));
}

#[test]
fn a_snapshot_lists_its_volumes_nodes_and_state() {
    let c = extended();
    let mut s = c.state().clone();
    let d = s
        .resource_definitions
        .get_mut(&linstor_core::ResourceName::new("db").unwrap())
        .unwrap();
    let sd = d.snapshots.values_mut().next().unwrap();
    sd.flags.insert(SnapshotDfnFlags::SUCCESSFUL);
    let v = snapshot(d, &d.snapshots.values().next().unwrap().clone());
    assert_eq!(v.flags, ["SUCCESSFUL"]);
    assert_eq!(v.nodes, ["alpha", "beta"], "diskful replicas only");
    assert_eq!(
        v.volume_definitions,
        [SnapshotVolumeDefinitionView {
            volume_number: 0,
            size_kib: 4096
        }]
    );
    assert!(v.snapshots.iter().all(|n| n.flags.is_empty()));
    let sd = d.snapshots.values_mut().next().unwrap();
    sd.flags.insert(SnapshotDfnFlags::DELETE);
    let v = snapshot(d, &d.snapshots.values().next().unwrap().clone());
    assert_eq!(v.flags, ["SUCCESSFUL", "DELETE"]);
    assert!(v.snapshots.iter().all(|n| n.flags == ["DELETE"]));
}

/// A value the key's type accepts, from its `PropsInfo` (for keys whose value does not matter
/// to the level check, any).
fn some_value(key: &str, i: &PropsInfo) -> String {
    if key.starts_with("DrbdOptions/Handlers/") {
        return "/bin/true".into();
    }
    let range_min = |v: &str| {
        v.trim_start_matches('(')
            .split(' ')
            .next()
            .unwrap()
            .to_owned()
    };
    match i.prop_type {
        "boolean" => "yes".into(),
        "boolean_true_false" => "true".into(),
        "range" | "range_float" | "numeric_or_symbol" => range_min(i.value.as_deref().unwrap()),
        "symbol" => i.value.as_deref().unwrap()[3..]
            .split(['|', ')'])
            .next()
            .unwrap()
            .to_owned(),
        _ => i.dflt.clone().unwrap_or_else(|| "x".into()),
    }
}

#[test]
fn the_property_whitelist_lists_exactly_what_the_core_accepts_per_level() {
    let drbd = DrbdOptionsValidator::builtin();
    for (level, name) in LEVEL_NAMES {
        let info = props_info(*level);
        for (key, i) in &info {
            // Listed: the key may be set at this level (its value's type aside).
            if let Err(e) = validate_user_prop(*level, key, &some_value(key, i), Some(&drbd)) {
                assert!(
                    !e.reason.contains("cannot be set on")
                        && !e.reason.contains("unknown property key")
                        && !e.reason.contains("cannot be set on a"),
                    "{name} lists {key}, which the core refuses there: {e:?}"
                );
                assert!(
                    !key.starts_with("DrbdOptions/") || KEYS.iter().any(|k| k.key == key),
                    "{name}: DRBD option {key} refused with a listed value: {e:?}"
                );
            }
        }
        // Not listed: refused (but in the free-form key-value stores).
        let free_form = *level == Level::Kvs;
        for k in KEYS
            .iter()
            .filter(|k| !free_form && !info.contains_key(k.key))
        {
            let e = validate_user_prop(*level, k.key, "x", Some(&drbd));
            assert!(e.is_err(), "{name} does not list {} but accepts it", k.key);
        }
        let protocol = validate_user_prop(*level, "DrbdOptions/Net/protocol", "C", Some(&drbd));
        assert_eq!(
            protocol.is_ok(),
            free_form || info.contains_key("DrbdOptions/Net/protocol"),
            "{name}: {protocol:?}"
        );
    }
    assert!(props_info(Level::Kvs).is_empty(), "free-form");
    assert!(!props_info_all().contains_key("KVS"));
}

#[test]
fn views_of_snapshots_stores_properties_and_events() {
    let c = extended();
    let s = c.state();
    let mut text: Vec<String> = all_views(&c)
        .into_iter()
        .filter(|(n, _)| {
            n.starts_with("snapshot ")
                || n.starts_with("kvs ")
                || n.starts_with("spd ")
                || n == "ctrl props"
        })
        .map(|(n, v)| format!("{n}\n{}", serde_json::to_string_pretty(&v).unwrap()))
        .collect();
    let info = props_info(Level::Controller);
    let picked: BTreeMap<&String, &PropsInfo> = info
        .iter()
        .filter(|(k, _)| {
            [
                "MaxOversubscriptionRatio",
                "Autoplacer/MinThinFreeSpace",
                "TcpPortAutoRange",
                "BalanceResourcesEnabled",
                "DrbdOptions/Net/protocol",
                "DrbdOptions/Resource/on-no-quorum",
                "DrbdOptions/Resource/quorum",
                "DrbdOptions/Net/allow-two-primaries",
                "DrbdOptions/PeerDevice/c-plan-ahead",
                "DrbdOptions/Handlers/split-brain",
            ]
            .contains(&k.as_str())
        })
        .collect();
    text.push(format!(
        "props info CTRL (excerpt)\n{}",
        serde_json::to_string_pretty(&picked).unwrap()
    ));
    let alpha = &s.nodes[&NodeName::new("alpha").unwrap()];
    let mut modified = node(s, alpha);
    modified.props.insert("Aux/rack".into(), "7".into());
    let events = json!({
        NodeEvent::Create.name(): EventNode { node: node(s, alpha) },
        NodeEvent::Modified.name(): EventNodeModified { old_node: node(s, alpha), new_node: modified },
        MAY_PROMOTE_CHANGE: EventMayPromoteChange {
            resource_name: "pvc-1".into(),
            node_name: "alpha".into(),
            may_promote: false,
        },
    });
    text.push(format!(
        "events\n{}",
        serde_json::to_string_pretty(&events).unwrap()
    ));
    let data = linstor_core::StorPoolName::new("data").unwrap();
    let spawn = spawn_result(s, &alpha.storage_pools[&data]);
    let size = QuerySizeInfoResponse {
        space_info: Some(SpaceInfo {
            max_vlm_size_in_kib: 1000,
            available_size_in_kib: Some(1000),
            capacity_in_kib: Some(4000),
            default_max_oversubscription_ratio: Some(20.0),
            max_oversubscription_ratio: None,
            max_free_capacity_oversubscription_ratio: None,
            max_total_capacity_oversubscription_ratio: None,
            next_spawn_result: vec![spawn],
        }),
        reports: vec![],
    };
    text.push(format!(
        "query-size-info\n{}",
        serde_json::to_string_pretty(&size).unwrap()
    ));
    let report = ErrorReport {
        node_name: "Controller".into(),
        error_time: 1_536_827_504_594,
        filename: "ErrorReport-5B9A15B7-00000-000000.log".into(),
        text: None,
        module: "CONTROLLER".into(),
        version: "0.1.0".into(),
        peer: None,
        exception: "ImplementationError".into(),
        exception_message: Some("unexpected".into()),
        origin_file: None,
        origin_method: None,
        origin_line: None,
    };
    text.push(format!(
        "error report\n{}",
        serde_json::to_string_pretty(&report).unwrap()
    ));
    let mut found = Vec::new();
    for (i, t) in text.iter().enumerate() {
        let json_part = t.split_once('\n').unwrap().1;
        empties(
            &serde_json::from_str(json_part).unwrap(),
            &i.to_string(),
            &mut found,
        );
    }
    assert!(found.is_empty(), "NON_EMPTY violated at: {found:?}");
    insta::assert_snapshot!(text.join("\n\n"));
}

#[test]
fn a_size_query_that_places_nothing_still_answers_its_sizes() {
    // LINSTOR always answers `space_info` (size 0 when the placer refuses); python-linstor's
    // `QuerySizeInfoResponse.space_info` indexes it.
    let c = sample();
    let filter = linstor_core::model::SelectFilter {
        place_count: Some(3),
        ..Default::default()
    };
    let m = linstor_core::placement::query::max_volume_size(c.state(), &filter);
    assert!(m.is_err(), "only alpha is online: {m:?}");
    let v = serde_json::to_value(size_info(c.state(), m.as_ref())).unwrap();
    assert_eq!(v["space_info"]["max_vlm_size_in_kib"], 0, "{v}");
    assert_eq!(v["space_info"]["default_max_oversubscription_ratio"], 20.0);
    assert!(v["space_info"].get("next_spawn_result").is_none(), "{v}");
    assert!(v["reports"][0]["ret_code"].as_i64().unwrap() < 0, "{v}");
}

/// A resync a satellite reports shows as LINSTOR's `replication_states` with
/// `done_percentage`; without one the field is absent.
#[test]
fn a_reported_resync_shows_its_peers_and_percentage() {
    let mut c = sample();
    let mut e = SeededEnv::new(9);
    let out = c.execute_json(
        &json!({"cmd": "report_node", "node": "beta", "connection": "ONLINE"}).to_string(),
        &mut e,
    );
    assert!(!out.is_error(), "{:?}", out.rc);
    let mut observed = linstor_core::model::RscObserved {
        established: true,
        ..Default::default()
    };
    let mut vol = linstor_core::model::VlmObserved {
        disk_state: "Inconsistent".into(),
        usable_kib: 1 << 20,
        ..Default::default()
    };
    vol.replication.insert(
        "alpha".into(),
        linstor_core::model::ReplicationObserved {
            state: "SyncTarget".into(),
            done_hundredths: Some(4217),
        },
    );
    observed.volumes.insert(0, vol);
    let out = c.execute(
        linstor_core::cluster::Command::RscReport {
            node: "beta".into(),
            rsc_dfn: "pvc-1".into(),
            state: observed,
        },
        &mut e,
    );
    assert!(!out.is_error(), "{:?}", out.rc);
    let s = c.state();
    let d = s.resource_definitions.values().next().unwrap();
    let beta = &d.resources[&NodeName::new("beta").unwrap()];
    let v = serde_json::to_value(resource(s, d, beta)).unwrap();
    let state = &v["volumes"][0]["state"];
    assert_eq!(state["disk_state"], "Inconsistent", "{v}");
    assert_eq!(
        state["replication_states"]["alpha"],
        json!({"replication_state": "SyncTarget", "done_percentage": 42.17}),
        "{v}"
    );
    let alpha = &d.resources[&NodeName::new("alpha").unwrap()];
    let v = serde_json::to_value(resource(s, d, alpha)).unwrap();
    assert!(v["volumes"][0].get("state").is_none(), "{v}");
}
