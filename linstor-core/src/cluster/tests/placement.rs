//! Autoplacement through commands: spawn, `RscAutoplace`, resource-group adjust, and the
//! quorum helpers that follow them.

use super::fixture::*;
use crate::cluster::Command;
use crate::model::{RscFlags, SelectFilter};
use crate::rc::{Severity, code};
use serde_json::json;

#[test]
fn spawn_places_and_manages_quorum_and_tiebreaker() {
    let (mut c, mut env) = online_cluster(4);
    let out = spawn(&mut c, &mut env, "r1", 2, 10);
    assert!(!out.is_error(), "{out:?}");
    // 2 diskful + a tiebreaker, quorum majority.
    let f = flags(&c, "r1");
    assert_eq!(f.iter().filter(|(_, fl)| fl.is_empty()).count(), 2, "{f:?}");
    assert_eq!(
        f.iter()
            .filter(|(_, fl)| fl.contains(&"TIE_BREAKER"))
            .count(),
        1,
        "{f:?}"
    );
    let rd = &c.state().resource_definitions[&"r1".parse().unwrap()];
    assert_eq!(
        rd.props.get("DrbdOptions/Resource/quorum"),
        Some("majority")
    );
    assert!(
        out.rc
            .0
            .iter()
            .any(|e| e.code == code::INFO_TIE_BREAKER_CREATED),
        "{out:?}"
    );
    // Autoplace one more: 3 diskful → the tiebreaker goes away (marked DELETE).
    let out = run(
        &mut c,
        &mut env,
        autoplace("r1", json!({"additional_place_count": 1})),
    );
    assert!(!out.is_error(), "{out:?}");
    let f = flags(&c, "r1");
    assert_eq!(f.iter().filter(|(_, fl)| fl.is_empty()).count(), 3, "{f:?}");
    assert!(f.iter().any(|(_, fl)| fl.contains(&"DELETE")), "{f:?}");
    let rd = &c.state().resource_definitions[&"r1".parse().unwrap()];
    assert_eq!(
        rd.props.get("DrbdOptions/Resource/quorum"),
        Some("majority")
    );
}

#[test]
fn refusal_is_explained_and_changes_nothing() {
    let (mut c, mut env) = online_cluster(3);
    let before = c.state().clone();
    let out = spawn(&mut c, &mut env, "big", 2, 200);
    assert!(out.is_error());
    let e = &out.rc.0[0];
    assert_eq!(
        (e.severity, e.code),
        (Severity::Error, code::NOT_ENOUGH_NODES)
    );
    assert_eq!(e.message, "Not enough available nodes");
    assert!(
        e.cause
            .as_deref()
            .unwrap_or("")
            .contains("not enough free space: 3 pool(s)"),
        "{e:?}"
    );
    assert!(
        e.details
            .as_deref()
            .unwrap_or("")
            .contains("100 GiB free, 200 GiB needed"),
        "{e:?}"
    );
    assert_eq!(c.state(), &before);
    // Autoplace on an existing definition with too many replicas: refused, unchanged.
    assert!(!spawn(&mut c, &mut env, "r2", 1, 1).is_error());
    let before = c.state().clone();
    let out = run(&mut c, &mut env, autoplace("r2", json!({"place_count": 5})));
    assert!(out.is_error());
    assert_eq!(c.state(), &before);
}

#[test]
fn already_deployed_and_user_quorum() {
    let (mut c, mut env) = online_cluster(3);
    assert!(!spawn(&mut c, &mut env, "r1", 3, 1).is_error());
    let out = run(&mut c, &mut env, autoplace("r1", json!({"place_count": 3})));
    assert!(
        out.rc
            .0
            .iter()
            .any(|e| e.code == code::WARN_RSC_ALREADY_DEPLOYED),
        "{out:?}"
    );
    // 3 diskful: majority, no tiebreaker.
    assert!(flags(&c, "r1").iter().all(|(_, f)| f.is_empty()));
    // Deleting one replica: 2 diskful → a tiebreaker is added on the third node? No: that
    // node still holds the resource being deleted → takeover.
    must(
        &mut c,
        &mut env,
        cmd(json!({"cmd": "rsc_delete", "rsc_dfn": "r1", "node": "n2"})),
    );
    let f = flags(&c, "r1");
    assert!(
        f.iter()
            .any(|(n, fl)| n == "n2" && fl.contains(&"TIE_BREAKER") && !fl.contains(&"DELETE")),
        "{f:?}"
    );
    // A user setting wins over auto-quorum.
    let quorum = json!({"cmd": "rsc_dfn_modify", "name": "r1",
        "props": {"override_props": {"DrbdOptions/Resource/quorum": "off"}}});
    must(&mut c, &mut env, cmd(quorum));
    let rd = &c.state().resource_definitions[&"r1".parse().unwrap()];
    assert_eq!(rd.props.get("DrbdOptions/Resource/quorum"), Some("off"));
    let _ = RscFlags::TIE_BREAKER;
}

#[test]
fn group_adjust_adds_missing_replicas_and_warns_for_what_cannot_be_placed() {
    let (mut c, mut env) = online_cluster(4);
    create_group(
        &mut c,
        &mut env,
        SelectFilter {
            place_count: Some(2),
            replicas_on_different: Some(vec!["Aux/zone".into()]),
            ..Default::default()
        },
    );
    assert!(!spawn_in(&mut c, &mut env, "r1", Some(1), 10).is_error());
    assert!(!spawn_in(&mut c, &mut env, "r2", Some(2), 10).is_error());
    assert!(!spawn_in(&mut c, &mut env, "r3", None, 150).is_error());
    let before_r2 = c.state().resource_definitions[&"r2".parse().unwrap()].clone();

    let adjust = |name: Option<&str>, place: Option<u32>| Command::RscGrpAdjust {
        name: name.map(str::to_string),
        select_filter: place.map(place_count),
    };
    let out = run(&mut c, &mut env, adjust(Some("GRP"), None));
    assert!(!out.is_error(), "{out:?}");
    assert_eq!(
        (diskful(&c, "r1"), diskful(&c, "r2"), diskful(&c, "r3")),
        (2, 2, 0)
    );
    assert_eq!(
        c.state().resource_definitions[&"r2".parse().unwrap()],
        before_r2,
        "a definition at its place count is left alone"
    );
    let warn = out
        .rc
        .0
        .iter()
        .find(|e| e.severity == Severity::Warning && e.code == code::NOT_ENOUGH_NODES)
        .unwrap_or_else(|| panic!("{out:?}"));
    assert!(
        warn.cause
            .as_deref()
            .unwrap_or("")
            .contains("not enough free space"),
        "{warn:?}"
    );
    assert!(
        out.rc
            .0
            .last()
            .unwrap()
            .message
            .contains("1 resource definition(s) got new replicas, 1 could not be placed")
    );
    c.check_invariants().unwrap();

    // Nothing left to do but the one that does not fit.
    let out = run(&mut c, &mut env, adjust(Some("grp"), None));
    assert!(!out.is_error(), "{out:?}");
    assert!(out.changes.is_empty(), "{:?}", out.changes);
    // The request's place count over the group's, for every group.
    let out = run(&mut c, &mut env, adjust(None, Some(3)));
    assert!(!out.is_error(), "{out:?}");
    assert_eq!((diskful(&c, "r1"), diskful(&c, "r2")), (3, 3));
    c.check_invariants().unwrap();
    // An unknown group is refused and changes nothing.
    let before = c.to_json();
    let out = run(&mut c, &mut env, adjust(Some("nope"), None));
    assert_eq!(
        out.rc.first_error().map(|e| e.code),
        Some(code::NOT_FOUND_RSC_GRP)
    );
    assert_eq!(c.to_json(), before);
}

#[test]
fn group_adjust_sees_what_it_placed_for_the_definitions_before() {
    // n0..n2 with 100 GiB each; r1 (60 GiB) on n0, r2 (60 GiB) on n1. Adjusting to two
    // replicas puts r1's second on n2, and then r2 no longer fits there.
    let (mut c, mut env) = online_cluster(3);
    create_group(&mut c, &mut env, SelectFilter::default());
    for (rd, node) in [("r1", "n0"), ("r2", "n1")] {
        let filter = SelectFilter {
            node_name_list: Some(vec![node.parse().unwrap()]),
            ..place_count(1)
        };
        let out = spawn_with(&mut c, &mut env, ("grp", rd), 60, Some(filter));
        assert!(!out.is_error(), "{out:?}");
    }
    let adjust =
        json!({"cmd": "rsc_grp_adjust", "name": "grp", "select_filter": {"place_count": 2}});
    let out = must(&mut c, &mut env, cmd(adjust));
    assert_eq!(nodes_of(&c, "r1"), ["n0", "n2"]);
    assert_eq!(nodes_of(&c, "r2"), ["n1"], "n2 has 40 GiB left: {out:?}");
    assert!(
        out.rc
            .0
            .iter()
            .any(|e| e.severity == Severity::Warning && e.code == code::NOT_ENOUGH_NODES),
        "{out:?}"
    );
    c.check_invariants().unwrap();
}

/// `autoplace` of `rd` with `filter` (a select filter in JSON).
fn autoplace(rd: &str, filter: serde_json::Value) -> Command {
    cmd(json!({"cmd": "autoplace", "rsc_dfn": rd, "select_filter": filter}))
}
