//! Views of a sample cluster: no `null`, no empty collection anywhere, the fields clients
//! index always there, and the JSON pinned by snapshots.

use linstor_core::NodeName;
use linstor_core::cluster::{Cluster, SeededEnv};
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
    }
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
    let c = sample();
    let mut found = Vec::new();
    for (name, v) in all_views(&c) {
        empties(&v, &name, &mut found);
    }
    assert!(found.is_empty(), "NON_EMPTY violated at: {found:?}");
}

#[test]
fn fields_clients_index_are_always_there() {
    let c = sample();
    // (view name prefix, required fields) from rest-client-compat.md.
    let required: &[(&str, &[&str])] = &[
        ("node ", &["name", "type"]),
        ("pool ", &["storage_pool_name", "node_name"]),
        ("group ", &["name"]),
        ("vg ", &["volume_number"]),
        ("rd ", &["name"]),
        ("rsc ", &["name", "node_name", "layer_object"]),
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
