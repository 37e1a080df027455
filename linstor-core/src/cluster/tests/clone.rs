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

fn clone(src: &str, name: &str) -> serde_json::Value {
    json!({"cmd": "rsc_dfn_clone", "rsc_dfn": src, "name": name})
}

/// Three online nodes (LVM pool `data`), `r1` spawned on two with a tiebreaker, its
/// definition properties `Aux/a` and `Aux/b`, every resource reported UpToDate.
fn cloneable() -> (Cluster, SeededEnv) {
    let (mut c, mut e) = online_cluster(3);
    assert!(!spawn(&mut c, &mut e, "r1", 2, 1).is_error());
    let props = json!({"override_props": {"Aux/a": "1", "Aux/b": "2"}});
    must(
        &mut c,
        &mut e,
        cmd(json!({"cmd": "rsc_dfn_modify", "name": "r1", "props": props})),
    );
    report_all(&mut c, &mut e, &[]);
    (c, e)
}

#[test]
fn clone_refusals_change_nothing() {
    let (mut c, mut e) = online_cluster(3);
    assert!(!spawn(&mut c, &mut e, "r1", 2, 1).is_error());
    // Not reported yet: the copy would start from unknown data.
    check(
        &mut c,
        &mut e,
        cmd(clone("r1", "c1")),
        Err((code::NOT_ALL_UPTODATE, "not UpToDate")),
    );
    report_all(&mut c, &mut e, &[]);
    must(
        &mut c,
        &mut e,
        cmd(json!({"cmd": "rsc_grp_create", "name": "other",
        "select_filter": {"storage_pool_list": ["elsewhere"]}})),
    );
    let with = |extra: serde_json::Value| {
        let mut v = clone("r1", "c1");
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                clone("ghost", "c1"),
                Err((code::NOT_FOUND_RSC_DFN, "'ghost'")),
            ),
            (clone("r1", ""), Err((code::INVLD_RSC_NAME, "No name"))),
            (
                clone("r1", "-c"),
                Err((code::INVLD_RSC_NAME, "Invalid resource name")),
            ),
            (
                clone("r1", "r1"),
                Err((code::EXISTS_RSC_DFN, "already exists")),
            ),
            (
                with(json!({"props": {"override_props": {"Bogus": "1"}}})),
                Err((code::INVLD_PROP, "Bogus")),
            ),
            (
                with(json!({"props": {"override_props": {"DrbdOptions/ExactSize": "true"}}})),
                Err((code::INVLD_PROP, "ExactSize")),
            ),
            (
                with(json!({"props": {"delete_props": ["Internal/x"]}})),
                Err((code::INVLD_PROP, "reserved")),
            ),
            (
                with(json!({"rsc_grp": "nope"})),
                Err((code::NOT_FOUND_RSC_GRP, "'nope'")),
            ),
            (
                with(json!({"rsc_grp": "other"})),
                Err((code::NOT_FOUND_STOR_POOL, "elsewhere")),
            ),
            (
                with(json!({"layer_stack": ["DRBD"]})),
                Err((code::INVLD_LAYER_STACK, "lowest layer")),
            ),
        ],
    );
    // A failed disk (SkipDisk) cannot be a source.
    let skip = json!({"cmd": "rsc_modify", "rsc_dfn": "r1", "node": "n0",
        "props": {"override_props": {"DrbdOptions/SkipDisk": "True"}}});
    let (mut c2, mut e2) = (c.clone(), e.clone());
    must(&mut c2, &mut e2, cmd(skip));
    check(
        &mut c2,
        &mut e2,
        cmd(clone("r1", "c1")),
        Err((code::INVLD_RSC_STATE, "skip-disk")),
    );
    // FILE pools cannot clone.
    let (mut c, mut e) = cluster(1);
    rd_vd(&mut c, &mut e, "f1", 1);
    must(&mut c, &mut e, rsc("f1", "n1", Some("files"), false));
    report(&mut c, &mut e, "f1", "n1", true);
    check(
        &mut c,
        &mut e,
        cmd(clone("f1", "c1")),
        Err((code::INVLD_PROVIDER, "FILE_THIN")),
    );
}

#[test]
fn a_clone_copies_definitions_resources_and_properties() {
    let (mut c, mut e) = cloneable();
    let request = json!({"cmd": "rsc_dfn_clone", "rsc_dfn": "r1", "name": "c1",
        "props": {"override_props": {"Aux/a": "9"}, "delete_props": ["Aux/b"]}});
    let o = must(&mut c, &mut e, cmd(request));
    let created = crate::cluster::ObjKey::RscDfn {
        rsc_dfn: "c1".parse().unwrap(),
    };
    assert!(o.changes.created.contains(&created), "{:?}", o.changes);
    let (src, cl) = (
        &c.state().resource_definitions[&"r1".parse().unwrap()],
        &c.state().resource_definitions[&"c1".parse().unwrap()],
    );
    assert_eq!(cl.props.get("Aux/a"), Some("9"));
    assert_eq!(cl.props.get("Aux/b"), None);
    assert_eq!(cl.props.get("cloned-from"), Some("r1"));
    assert_eq!(cl.resource_group, src.resource_group);
    assert_eq!(cl.layer_stack, src.layer_stack);
    let sizes = |d: &crate::model::ResourceDefinition| -> Vec<(u16, u64)> {
        d.volume_definitions
            .values()
            .map(|v| (v.number, v.size.0))
            .collect()
    };
    assert_eq!(sizes(cl), sizes(src));
    assert_ne!(
        cl.volume_definitions[&0].minor,
        src.volume_definitions[&0].minor
    );
    let placed = |d: &crate::model::ResourceDefinition| -> Vec<(String, String, Vec<&str>)> {
        d.resources
            .values()
            .map(|r| {
                (
                    r.node.to_string(),
                    r.volumes[&0].storage_pool.to_string(),
                    r.flags.names(),
                )
            })
            .collect()
    };
    assert_eq!(placed(cl), placed(src), "same nodes, pools and flavours");
    assert!(
        flags(&c, "c1")
            .iter()
            .any(|(_, f)| f.contains(&"TIE_BREAKER"))
    );
}

#[test]
fn clone_status_follows_the_reports_of_the_clone() {
    let (mut c, mut e) = cloneable();
    must(&mut c, &mut e, cmd(clone("r1", "c1")));
    use crate::cluster::CloneStatus as S;
    assert_eq!(c.clone_status("r1", "c1").ok(), Some(S::Cloning));
    for node in ["n0", "n1", "n2"] {
        report(&mut c, &mut e, "c1", node, true);
    }
    assert_eq!(c.clone_status("R1", "C1").ok(), Some(S::Complete));
    must(&mut c, &mut e, report_node("n1", "OFFLINE"));
    assert_eq!(
        c.clone_status("r1", "c1").ok(),
        Some(S::Failed),
        "a node of the clone is offline"
    );
    let cases = [
        ("r1", "ghost", code::NOT_FOUND_RSC_DFN, "'ghost'"),
        ("ghost", "c1", code::NOT_FOUND_RSC_DFN, "'ghost'"),
        ("c1", "r1", code::NOT_FOUND_RSC_DFN, "not a clone of 'c1'"),
        ("r1", "-x", code::INVLD_RSC_NAME, "Invalid resource name"),
    ];
    for (src, cl, want, text) in cases {
        let err = c.clone_status(src, cl).expect_err(cl);
        assert_eq!(err.code, want, "{src}/{cl}: {err}");
        assert!(err.to_string().contains(text), "{src}/{cl}: {err}");
        assert!(err.correction.is_some(), "{src}/{cl}: {err}");
    }
}

#[test]
fn clones_by_external_name_into_another_group_with_zfs_clone() {
    let (mut c, mut e) = cloneable();
    must(
        &mut c,
        &mut e,
        cmd(json!({"cmd": "rsc_grp_create", "name": "g2",
        "select_filter": {"storage_pool_list": ["data"]}})),
    );
    let request = json!({"cmd": "rsc_dfn_clone", "rsc_dfn": "r1", "name": "",
        "external_name": "PVC 7", "rsc_grp": "g2", "use_zfs_clone": true});
    let o = must(&mut c, &mut e, cmd(request));
    let made: Vec<String> = o
        .changes
        .created
        .iter()
        .filter_map(|k| match k {
            crate::cluster::ObjKey::RscDfn { rsc_dfn } => Some(rsc_dfn.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(made, vec!["PVC_7".to_owned()]);
    let d = &c.state().resource_definitions[&"PVC_7".parse().unwrap()];
    assert_eq!(d.external_name.as_deref(), Some("PVC 7"));
    assert_eq!(d.resource_group.as_str(), "g2");
    assert_eq!(d.props.get("use-zfs-clone"), Some("true"));
    assert_eq!(
        c.clone_status("r1", "PVC_7").ok(),
        Some(crate::cluster::CloneStatus::Cloning)
    );
}
