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
