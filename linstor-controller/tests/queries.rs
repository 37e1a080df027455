//! Size queries on the real binary, in the shapes python-linstor reads: `space_info` is always
//! answered (size 0 when nothing can be placed), and LINSTOR's oldest query,
//! `OPTIONS /v1/query-max-volume-size` with the select filter as its body.

mod common;

use common::{Controller, seed_cluster};
use serde_json::json;

#[test]
fn size_info_answers_its_sizes_when_nothing_can_be_placed() {
    let dir = tempfile::tempdir().unwrap();
    let c = Controller::start(dir.path(), &[]);
    seed_cluster(&c, 3); // OFFLINE: the placer has no candidate
    let v = c.ok(
        "POST",
        "/v1/resource-groups/rg3/query-size-info",
        Some(&json!({})),
    );
    assert_eq!(v["space_info"]["max_vlm_size_in_kib"], 0, "{v}");
    assert!(v["reports"][0]["ret_code"].as_i64().unwrap() < 0, "{v}");
}

#[test]
fn max_volume_size_of_a_filter_in_an_options_request() {
    let dir = tempfile::tempdir().unwrap();
    let c = Controller::start(dir.path(), &["--simulate-satellites"]);
    seed_cluster(&c, 3);
    // python-linstor's storage_pool_dfn_max_vlm_sizes(2, storage_pool_name="thin")
    let filter = json!({"place_count": 2, "storage_pool": "thin"});
    let v = c.ok("OPTIONS", "/v1/query-max-volume-size", Some(&filter));
    let candidates = v["candidates"].as_array().expect("candidates");
    assert_eq!(candidates.len(), 1, "{v}");
    assert_eq!(candidates[0]["storage_pool"], "thin");
    assert_eq!(
        candidates[0]["node_names"].as_array().unwrap().len(),
        2,
        "{v}"
    );
    assert!(
        candidates[0]["max_volume_size_kib"].as_u64().unwrap() > 0,
        "{v}"
    );
    // More replicas than nodes: LINSTOR's refusal, 500 with the entry.
    let (status, v) = c.call(
        "OPTIONS",
        "/v1/query-max-volume-size",
        Some(&json!({"place_count": 4})),
    );
    assert_eq!(status, 500, "{v}");
    assert!(v[0]["ret_code"].as_i64().unwrap() < 0, "{v}");
    // An unreadable filter names its field.
    let (status, v) = c.call(
        "OPTIONS",
        "/v1/query-max-volume-size",
        Some(&json!({"place_count": "many"})),
    );
    assert_eq!(status, 400, "{v}");
}

/// `linstor advise`: fit and failure questions on the live state change nothing, and bad
/// questions name the field.
#[test]
fn advise_fit_and_failure() {
    let dir = tempfile::tempdir().unwrap();
    let c = Controller::start(dir.path(), &["--simulate-satellites"]);
    seed_cluster(&c, 3); // zones z0 z1 z2, rg3 places 3 in "thin"
    c.ok(
        "POST",
        "/v1/resource-groups/rg3/spawn",
        Some(&common::spawn_body("r1", 1 << 20)),
    );
    let before = c.ok("GET", "/v1/view/resources", None);

    let v = c.ok(
        "GET",
        "/v1/advise/fit?resource_group=rg3&size=1GiB&limit=5",
        None,
    );
    assert_eq!(
        (v["count"].as_u64(), v["capped"].as_bool()),
        (Some(5), Some(true)),
        "{v}"
    );
    assert_eq!(v["first"].as_array().map(Vec::len), Some(3), "{v}");

    // Two of three nodes down: quorum lost, one diskful left, nowhere to rebuild.
    let v = c.ok(
        "GET",
        "/v1/advise/failure?nodes=node-000&nodes=node-001",
        None,
    );
    let i = &v["affected"][0];
    assert_eq!(i["resource"], "r1", "{v}");
    assert_eq!(i["diskful_left"], 1, "{v}");
    assert_eq!(i["quorum_kept"], false, "{v}");
    assert!(
        i["cannot_rebuild"]["cause"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{v}"
    );
    // A failure domain by property.
    let v = c.ok("GET", "/v1/advise/failure?property=Aux/zone&value=z2", None);
    assert_eq!(v["failed"], json!(["node-002"]), "{v}");
    assert_eq!(v["affected"][0]["quorum_kept"], true, "{v}");

    for (path, status, field) in [
        ("/v1/advise/fit?size=1GiB", 400, "resource_group"),
        ("/v1/advise/fit?resource_group=rg3", 400, "size"),
        ("/v1/advise/fit?resource_group=rg3&size=lots", 400, "size"),
        (
            "/v1/advise/fit?resource_group=rg3&size=1G&limit=0",
            400,
            "limit",
        ),
        ("/v1/advise/fit?resource_group=nope&size=1G", 404, "nope"),
        ("/v1/advise/failure", 400, "nodes"),
        ("/v1/advise/failure?nodes=ghost", 404, "ghost"),
        ("/v1/advise/failure?property=Aux/zone", 400, "property"),
        (
            "/v1/advise/failure?property=Aux/zone&value=z9",
            400,
            "property",
        ),
    ] {
        let (s, v) = c.call("GET", path, None);
        assert_eq!(s, status, "{path}: {v}");
        assert!(v.to_string().contains(field), "{path}: {v}");
    }
    assert_eq!(
        c.ok("GET", "/v1/view/resources", None),
        before,
        "questions change nothing"
    );
}
