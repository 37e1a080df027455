//! The resource-definition and resource actions on the real binary: volume modify and the
//! volume reads, sync-status, in the shapes python-linstor sends and reads, with their
//! refusals (status, code, and nothing changed).

mod common;

use common::{Controller, seed_cluster};
use serde_json::{Value, json};

/// The code bits of the first entry of an `ApiCallRc` answer.
fn code(v: &Value) -> i64 {
    v[0]["ret_code"].as_i64().expect("an ApiCallRc array") & 0x7FFF
}

/// `rd` with one 1 GiB volume and a diskful resource on `node-000` (pool `thin`).
fn one_resource(c: &Controller, rd: &str) {
    let spawn = json!({"resource_definition_name": rd, "volume_sizes": [1_048_576],
        "definitions_only": true});
    c.ok("POST", "/v1/resource-groups/rg3/spawn", Some(&spawn));
    let create =
        json!([{"resource": {"node_name": "node-000", "props": {"StorPoolName": "thin"}}}]);
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
