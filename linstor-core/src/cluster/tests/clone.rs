//! Sync status (answered from the satellites' reports, fail closed) and resource-definition
//! clones.

use serde_json::json;

use super::fixture::*;
use crate::cluster::{Cluster, Command, SeededEnv};
use crate::model::RscObserved;
use crate::rc::code;

/// Reports the resource of `rd` on `node` UpToDate (`true`) or syncing.
fn report(c: &mut Cluster, e: &mut SeededEnv, rd: &str, node: &str, up_to_date: bool) {
    let state = RscObserved {
        in_use: false,
        up_to_date,
        established: up_to_date,
        ..RscObserved::default()
    };
    let cmd = Command::RscReport {
        node: node.into(),
        rsc_dfn: rd.into(),
        state,
    };
    must(c, e, cmd);
}

#[test]
fn sync_status_needs_every_diskful_resource_reported_up_to_date() {
    let (mut c, mut e) = cluster(3);
    rd_vd(&mut c, &mut e, "r1", 1);
    must(&mut c, &mut e, rsc("r1", "n1", Some("data"), false));
    must(&mut c, &mut e, rsc("r1", "n2", Some("data"), false));
    must(&mut c, &mut e, rsc("r1", "n3", None, true));
    let synced = |c: &Cluster| c.synced_on_all("r1").expect("r1 exists");
    // (step, expected): nothing reported is not in sync; the diskless peer does not count.
    let steps: Vec<(&str, bool, bool)> = vec![
        ("n1", true, false),
        ("n2", false, false),
        ("n2", true, true),
        ("n1", false, false),
        ("n1", true, true),
    ];
    assert!(!synced(&c), "nothing reported yet");
    for (node, up_to_date, want) in steps {
        report(&mut c, &mut e, "r1", node, up_to_date);
        assert_eq!(synced(&c), want, "after {node} reported {up_to_date}");
    }
    // A resource being deleted no longer counts; a grown volume must sync again.
    must(
        &mut c,
        &mut e,
        cmd(json!({"cmd": "rsc_delete", "rsc_dfn": "r1", "node": "n2"})),
    );
    report(&mut c, &mut e, "r1", "n2", false);
    assert!(synced(&c));
    let grow = json!({"cmd": "vlm_dfn_resize", "rsc_dfn": "r1", "number": 0, "size": 2 << 20});
    must(&mut c, &mut e, cmd(grow));
    assert!(!synced(&c), "reports are dropped when a volume grows");
}

#[test]
fn sync_status_of_what_has_nothing_to_sync_or_does_not_exist() {
    let (mut c, mut e) = cluster(1);
    rd_vd(&mut c, &mut e, "r1", 1);
    assert!(c.synced_on_all("r1").is_ok_and(|s| s), "no resources");
    let storage_only = json!({"cmd": "rsc_dfn_create", "name": "s1", "layer_stack": ["STORAGE"]});
    must(&mut c, &mut e, cmd(storage_only));
    must(&mut c, &mut e, vd("s1", 1));
    must(&mut c, &mut e, rsc("s1", "n1", Some("data"), false));
    assert_eq!(
        c.synced_on_all("s1"),
        Ok(true),
        "no DRBD: nothing replicates"
    );
    let cases = [
        ("ghost", code::NOT_FOUND_RSC_DFN),
        ("-bad", code::INVLD_RSC_NAME),
    ];
    for (rd, want) in cases {
        let e = c.synced_on_all(rd).expect_err(rd);
        assert_eq!(e.code, want, "{rd}: {e}");
        assert!(e.correction.is_some(), "{rd}: {e}");
    }
}
