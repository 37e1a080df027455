//! Every list table and the error output, rendered from answers recorded from the real
//! controller (`tests/fixtures/*.json`, a 3-node `scripts/local-cluster` with a spawned
//! 3-replica resource, a diskful + diskless resource and an offline node), in both frame
//! styles, pinned with insta.

use linstor_cli::cmd::{group, node, pool, props_table, rsc};
use linstor_cli::reply;
use linstor_cli::table::{Style, Table};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn both(t: &Table) -> String {
    let utf8 = t.render(Style {
        utf8: true,
        color: false,
    });
    let ascii = t.render(Style {
        utf8: false,
        color: false,
    });
    format!("{utf8}\n{ascii}")
}

#[test]
fn node_list() {
    insta::assert_snapshot!(both(&node::table(&fixture("nodes"), false)));
    insta::assert_snapshot!("node_list_aux", both(&node::table(&fixture("nodes"), true)));
}

#[test]
fn storage_pool_list() {
    insta::assert_snapshot!(both(&pool::table(&fixture("pools"))));
}

#[test]
fn resource_group_list_and_size_info() {
    insta::assert_snapshot!(both(&group::rg_table(&fixture("rgs"))));
    insta::assert_snapshot!("qsi", both(&group::size_info_table(&fixture("qsi"))));
}

#[test]
fn definitions() {
    insta::assert_snapshot!("rd_list", both(&rsc::rd_table(&fixture("rds"))));
    insta::assert_snapshot!("vd_list", both(&rsc::vd_table(&fixture("vds"))));
}

#[test]
fn resources_and_volumes() {
    insta::assert_snapshot!("resource_list", both(&rsc::rsc_table(&fixture("rscs"))));
    insta::assert_snapshot!("volume_list", both(&rsc::volume_table(&fixture("rscs"))));
}

#[test]
fn properties() {
    let props = fixture("ctrl-props");
    insta::assert_snapshot!(both(&props_table(Some(&props))));
}

/// An error answer as people read it: no ret_code numbers, the cause and the correction.
#[test]
fn error_output() {
    let body: Value = serde_json::json!([{
        "ret_code": -4611686018427387704_i64,
        "message": "Invalid node name 'bad-'",
        "cause": "The node name has a label that starts or ends with '-'.",
        "correction": "Choose a node name that follows the rule above.",
        "obj_refs": {"Node": "bad-"}
    }]);
    let (text, code) = reply::render(&body, false);
    assert_eq!(code, 10);
    assert!(!text.contains("4611686018427387704"), "{text}");
    insta::assert_snapshot!(text);
}

/// `linstor advise fit` and `advise failure` in words, from answers recorded from the real
/// controller (4 nodes, zones a b c a, a group placing 3 over Aux/zone, two resources).
#[test]
fn advise_texts() {
    use linstor_cli::cmd::advise;
    let ascii = Style {
        utf8: false,
        color: false,
    };
    insta::assert_snapshot!(
        "advise_fit",
        advise::fit_text(&fixture("advise-fit"), "zoned", 1 << 20, ascii)
    );
    insta::assert_snapshot!(
        "advise_failure_two_nodes",
        advise::failure_text(&fixture("advise-failure-2"), ascii)
    );
    insta::assert_snapshot!(
        "advise_failure_zone",
        advise::failure_text(&fixture("advise-failure-zone"), ascii)
    );
}

/// The remaining lists; their answers are recorded from the controller's views or written in
/// its shapes (`linstor-api`), for states a local cluster does not easily show (a failed
/// satellite action, rotational disks).
#[test]
fn snapshot_kv_error_physical_interface_and_volume_group_lists() {
    use linstor_cli::cmd::snap;
    insta::assert_snapshot!("snapshot_list", both(&snap::table(&fixture("snapshots"))));
    insta::assert_snapshot!("kv_list", both(&snap::kv_table(&fixture("kvs"))));
    insta::assert_snapshot!(
        "error_reports_list",
        both(&snap::err_table(&fixture("error-reports")))
    );
    insta::assert_snapshot!(
        "physical_storage_list",
        both(&snap::ps_table(&fixture("physical-storage")))
    );
    insta::assert_snapshot!(
        "interface_list",
        both(&node::netif_table(&fixture("netifs")))
    );
    insta::assert_snapshot!("vg_list", both(&group::vg_table(&fixture("vgs"))));
}
