//! The resource-definition and resource actions on the real binary: volume modify and the
//! volume reads, sync-status, clone and clone status, migrate-disk (both paths), in the
//! shapes python-linstor sends and reads, with their refusals (status, code, and nothing
//! changed).

mod common;

use common::{Controller, seed_cluster};
use serde_json::{Value, json};

/// The code bits of the first entry of an `ApiCallRc` answer.
fn code(v: &Value) -> i64 {
    v[0]["ret_code"].as_i64().expect("an ApiCallRc array") & 0x7FFF
}

/// `rd` with one 1 GiB volume and a diskful resource on `node-000` (pool `thin`, FILE_THIN).
fn one_resource(c: &Controller, rd: &str) {
    resource_in(c, rd, "thin");
}

/// `rd` with one 1 GiB volume and a diskful resource on `node-000` in `pool`.
fn resource_in(c: &Controller, rd: &str, pool: &str) {
    let spawn = json!({"resource_definition_name": rd, "volume_sizes": [1_048_576],
        "definitions_only": true});
    c.ok("POST", "/v1/resource-groups/rg3/spawn", Some(&spawn));
    let create = json!([{"resource": {"node_name": "node-000", "props": {"StorPoolName": pool}}}]);
    let path = format!("/v1/resource-definitions/{rd}/resources");
    c.ok("POST", &path, Some(&create));
}

#[test]
fn volume_modify_sets_properties_and_refuses_with_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let c = Controller::start(dir.path(), &[]);
    seed_cluster(&c, 2);
    one_resource(&c, "vm1");
    let vol = "/v1/resource-definitions/vm1/resources/node-000/volumes";
    let body = json!({"override_props": {"Aux/v": "1"}, "delete_props": null});
    c.ok("PUT", &format!("{vol}/0"), Some(&body));
    let v = c.ok("GET", &format!("{vol}/0"), None);
    assert_eq!(v["props"]["Aux/v"], "1", "{v}");
    assert_eq!(v["volume_number"], 0, "{v}");
    let list = c.ok("GET", vol, None);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    // Refusals: the status, LINSTOR's code, and the volume as it was.
    let cases: Vec<(String, Value, u16, i64)> = vec![
        (
            format!("{vol}/0"),
            json!({"override_props": {"Bogus": "1"}}),
            400,
            213,
        ),
        (
            format!("{vol}/3"),
            json!({"override_props": {"Aux/v": "2"}}),
            404,
            304,
        ),
        (format!("{vol}/x"), json!({}), 400, 234),
        (
            "/v1/resource-definitions/vm1/resources/node-001/volumes/0".into(),
            json!({}),
            404,
            302,
        ),
    ];
    for (path, body, status, want) in cases {
        let (got, v) = c.call("PUT", &path, Some(&body));
        assert_eq!((got, code(&v)), (status, want), "PUT {path}: {v}");
    }
    let (status, v) = c.call(
        "PUT",
        &format!("{vol}/0"),
        Some(&json!({"overide_props": {}})),
    );
    assert_eq!(status, 400, "{v}");
    assert!(
        v[0]["message"].as_str().unwrap().contains("overide_props"),
        "{v}"
    );
    let v = c.ok("GET", &format!("{vol}/0"), None);
    assert_eq!(v["props"], json!({"Aux/v": "1"}), "{v}");
    let (status, v) = c.call("GET", &format!("{vol}/3"), None);
    assert_eq!((status, code(&v)), (404, 304), "{v}");
}

#[test]
fn sync_status_follows_the_satellites_reports() {
    // Offline satellites report nothing: not in sync (LINSTOR would say true).
    let dir = tempfile::tempdir().unwrap();
    let c = Controller::start(dir.path(), &[]);
    seed_cluster(&c, 2);
    one_resource(&c, "sy1");
    let v = c.ok("GET", "/v1/resource-definitions/sy1/sync-status", None);
    assert_eq!(v, json!({"synced_on_all": false}));
    let (status, v) = c.call("GET", "/v1/resource-definitions/ghost/sync-status", None);
    assert_eq!((status, code(&v)), (404, 301), "{v}");
    let (status, v) = c.call("GET", "/v1/resource-definitions/-bad/sync-status", None);
    assert_eq!((status, code(&v)), (400, 202), "{v}");
    // Simulated satellites report every resource UpToDate at once.
    let dir = tempfile::tempdir().unwrap();
    let c = Controller::start(dir.path(), &["--simulate-satellites"]);
    seed_cluster(&c, 2);
    one_resource(&c, "sy2");
    let v = c.ok("GET", "/v1/resource-definitions/sy2/sync-status", None);
    assert_eq!(v, json!({"synced_on_all": true}));
}

#[test]
fn clone_answers_clone_started_and_its_status_follows_the_reports() {
    // Offline satellites: the source is not known to be UpToDate, so no clone.
    let dir = tempfile::tempdir().unwrap();
    let c = Controller::start(dir.path(), &[]);
    seed_cluster(&c, 2);
    one_resource(&c, "src");
    let (status, v) = c.call(
        "POST",
        "/v1/resource-definitions/src/clone",
        Some(&json!({"name": "c1"})),
    );
    assert_eq!(status, 500, "{v}");
    assert_eq!(v["clone_name"], "c1", "{v}");
    assert_eq!(code(&v["messages"]), 974, "FAIL_NOT_ALL_UPTODATE: {v}");
    let (status, _) = c.call("GET", "/v1/resource-definitions/c1", None);
    assert_eq!(status, 404, "nothing was created");
    // Simulated satellites: the source is UpToDate, the clone is started and complete.
    let dir = tempfile::tempdir().unwrap();
    let c = Controller::start(dir.path(), &["--simulate-satellites"]);
    seed_cluster(&c, 2);
    one_resource(&c, "files");
    let (status, v) = c.call(
        "POST",
        "/v1/resource-definitions/files/clone",
        Some(&json!({"name": "c0"})),
    );
    assert_eq!(
        (status, code(&v["messages"])),
        (400, 227),
        "FILE_THIN cannot clone: {v}"
    );
    let lvm = json!({"storage_pool_name": "lvt", "provider_kind": "LVM_THIN",
        "props": {"StorDriver/StorPoolName": "vg0/thin"}});
    c.ok("POST", "/v1/nodes/node-000/storage-pools", Some(&lvm));
    resource_in(&c, "src", "lvt");
    let body = json!({"external_name": "PVC 9", "override_props": {"Aux/x": "1"}});
    let (status, v) = c.call("POST", "/v1/resource-definitions/src/clone", Some(&body));
    assert_eq!(status, 201, "{v}");
    assert_eq!(
        v["location"], "/v1/resource-definitions/src/clone/PVC_9",
        "{v}"
    );
    assert_eq!(
        (v["source_name"].as_str(), v["clone_name"].as_str()),
        (Some("src"), Some("PVC_9"))
    );
    assert!(v["messages"][0]["ret_code"].as_i64().unwrap() > 0, "{v}");
    let d = c.ok("GET", "/v1/resource-definitions/PVC_9", None);
    assert_eq!(d["props"]["cloned-from"], "src", "{d}");
    assert_eq!(d["props"]["Aux/x"], "1", "{d}");
    let st = c.ok("GET", "/v1/resource-definitions/src/clone/PVC_9", None);
    assert_eq!(st, json!({"status": "COMPLETE"}));
    let rscs = c.ok("GET", "/v1/resource-definitions/PVC_9/resources", None);
    assert_eq!(rscs[0]["node_name"], "node-000", "{rscs}");
    // Refusals: a clone that is not one, unknown names, unreadable bodies.
    let cases = [
        ("/v1/resource-definitions/PVC_9/clone/src", 404, 301),
        ("/v1/resource-definitions/src/clone/ghost", 404, 301),
        ("/v1/resource-definitions/ghost/clone/PVC_9", 404, 301),
    ];
    for (path, status, want) in cases {
        let (got, v) = c.call("GET", path, None);
        assert_eq!((got, code(&v)), (status, want), "GET {path}: {v}");
    }
    let bad = [
        (json!({"name": "c2", "nmae": "x"}), 400, "nmae"),
        (
            json!({"name": "c2", "volume_passphrases": ["secret"]}),
            400,
            "volume_passphrases",
        ),
        (json!({"name": "PVC_9"}), 500, "already exists"),
        (json!({}), 400, "No name"),
    ];
    for (body, status, text) in bad {
        let (got, v) = c.call("POST", "/v1/resource-definitions/src/clone", Some(&body));
        assert_eq!(got, status, "{body}: {v}");
        assert!(v["messages"].to_string().contains(text), "{body}: {v}");
    }
    let (status, v) = c.call("GET", "/v1/resource-definitions/c2", None);
    assert_eq!(status, 404, "{v}");
}

#[test]
fn migrate_disk_gives_the_diskless_resource_a_disk_that_replaces_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let c = Controller::start(dir.path(), &[]);
    seed_cluster(&c, 3);
    one_resource(&c, "mg1");
    let diskless = json!([{"resource": {"node_name": "node-001", "flags": ["DRBD_DISKLESS"]}}]);
    c.ok(
        "POST",
        "/v1/resource-definitions/mg1/resources",
        Some(&diskless),
    );
    let rsc = "/v1/resource-definitions/mg1/resources";
    // Refusals first: nothing changes.
    let cases: Vec<(String, Value, u16, i64)> = vec![
        (
            format!("{rsc}/node-001/migrate-disk/node-002"),
            Value::Null,
            404,
            302,
        ),
        (
            format!("{rsc}/node-000/migrate-disk/node-001"),
            Value::Null,
            400,
            234,
        ),
        (
            format!("{rsc}/node-001/migrate-disk/node-001"),
            Value::Null,
            400,
            234,
        ),
        (
            format!("{rsc}/node-001/migrate-disk/node-000"),
            json!({"layer_list": ["DRBD", "STORAGE"]}),
            400,
            234,
        ),
        (
            format!("{rsc}/node-001/toggle-disk"),
            json!({"operation": "INTO_DRBD_DISKLESS", "migrate_from": "node-000"}),
            400,
            234,
        ),
    ];
    for (path, body, status, want) in cases {
        let body = (!body.is_null()).then_some(&body);
        let (got, v) = c.call("PUT", &path, body);
        assert_eq!((got, code(&v)), (status, want), "PUT {path}: {v}");
    }
    let r = c.ok("GET", &format!("{rsc}/node-001"), None);
    assert!(r["flags"].to_string().contains("DISKLESS"), "{r}");
    // The deprecated path, with the pool.
    c.ok(
        "PUT",
        &format!("{rsc}/node-001/migrate-disk/node-000/thin"),
        None,
    );
    let r = c.ok("GET", &format!("{rsc}/node-001"), None);
    assert_eq!(r["props"]["MigrateFrom"], "node-000", "{r}");
    assert!(!r["flags"].to_string().contains("DISKLESS"), "{r}");
    assert_eq!(r["volumes"][0]["storage_pool_name"], "thin", "{r}");
    // python-linstor 1.29.1 against REST 1.28: toggle-disk with migrate_from; already under
    // way, so nothing to do.
    let again = json!({"operation": "INTO_DRBD_DISKFUL", "migrate_from": "node-000"});
    let v = c.ok("PUT", &format!("{rsc}/node-001/toggle-disk"), Some(&again));
    assert_eq!(code(&v), 10007, "INFO_NOOP: {v}");
    // The old replica stays until the new disk is reported in sync (no satellite here).
    let old = c.ok("GET", &format!("{rsc}/node-000"), None);
    assert!(!old["flags"].to_string().contains("DELETE"), "{old}");
}
