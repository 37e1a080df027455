//! The balance task (`RscBalance`): replicas added and removed toward the place count, and the
//! definitions it leaves alone.

use super::fixture::*;
use crate::cluster::{Cluster, Command, SeededEnv};
use crate::rc::code;
use serde_json::json;

#[test]
fn balance_adds_and_removes_toward_the_place_count_once_replicas_settled() {
    use crate::cluster::balance::{Balance, balance_decision};
    let (mut c, mut env) = online_cluster(4);
    create_group(&mut c, &mut env, place_count(2));
    assert!(!spawn_in(&mut c, &mut env, "r1", Some(4), 10).is_error());
    assert!(!spawn_in(&mut c, &mut env, "r2", Some(1), 10).is_error());
    let balance = |rd: Option<&str>| Command::RscBalance {
        rsc_dfn: rd.map(str::to_string),
    };
    let r1: crate::name::ResourceName = "r1".parse().unwrap();
    let decide = |c: &Cluster, env: &mut SeededEnv| {
        balance_decision(c.state(), &r1, crate::cluster::Env::now_ms(env))
    };

    // Fresh replicas: within the grace period nothing happens.
    assert!(matches!(decide(&c, &mut env), Balance::Skip(w) if w.contains("GracePeriod")));
    let out = run(&mut c, &mut env, balance(None));
    assert!(!out.is_error() && out.changes.is_empty(), "{out:?}");
    // Later, but nothing reported: still nothing.
    env.advance(2 * 3_600_000);
    assert!(
        matches!(decide(&c, &mut env), Balance::Skip(w) if w.contains("not reported")),
        "{:?}",
        decide(&c, &mut env)
    );
    // Reported settled, with r1 in use on n0: r1 gives up two replicas (never n0), r2 gets one.
    report_all(&mut c, &mut env, &[("r1", "n0")]);
    must(&mut c, &mut env, balance(None));
    let r1_nodes = nodes_of(&c, "r1");
    assert_eq!(r1_nodes.len(), 2, "{r1_nodes:?}");
    assert!(r1_nodes.contains(&"n0".to_string()), "{r1_nodes:?}");
    assert_eq!(nodes_of(&c, "r2").len(), 2);
    c.check_invariants().unwrap();
    // The removed ones are marked for deletion; until the satellites confirm, r1 is in flux.
    assert!(
        matches!(decide(&c, &mut env), Balance::Skip(w) if w.contains("being deleted")),
        "{:?}",
        decide(&c, &mut env)
    );
    // Turned off on the definition: left alone, and an explicit request says why.
    let off = json!({"cmd": "rsc_dfn_modify", "name": "r2",
        "props": {"override_props": {"BalanceResourcesEnabled": "false"}}});
    must(&mut c, &mut env, cmd(off));
    let out = must(&mut c, &mut env, balance(Some("r2")));
    assert!(
        out.rc.0.iter().any(
            |e| e.code == code::WARN_NO_EFFECT && e.message.contains("BalanceResourcesEnabled")
        ),
        "{out:?}"
    );
    // An unknown definition is refused.
    let out = run(&mut c, &mut env, balance(Some("nope")));
    assert_eq!(
        out.rc.first_error().map(|e| e.code),
        Some(code::NOT_FOUND_RSC_DFN)
    );
}

#[test]
fn balance_skips_failed_disks_and_unsettled_replicas() {
    use crate::cluster::balance::{Balance, balance_decision};
    let (mut c, mut env) = online_cluster(3);
    assert!(!spawn(&mut c, &mut env, "r1", 3, 10).is_error());
    let r1: crate::name::ResourceName = "r1".parse().unwrap();
    env.advance(2 * 3_600_000);
    report_all(&mut c, &mut env, &[]);
    // DfltRscGrp has no place count.
    let d = balance_decision(c.state(), &r1, crate::cluster::Env::now_ms(&mut env));
    assert!(
        matches!(&d, Balance::Skip(w) if w.contains("no place count")),
        "{d:?}"
    );
    default_group_places(&mut c, &mut env, 2);
    let now = crate::cluster::Env::now_ms(&mut env);
    assert!(matches!(balance_decision(c.state(), &r1, now), Balance::Remove(n) if n.len() == 1));
    // A resync running on one replica: nothing is removed.
    let resync = json!({"cmd": "report_resource", "node": "n1", "rsc_dfn": "r1",
        "state": {"in_use": false, "up_to_date": false, "established": false}});
    must(&mut c, &mut env, cmd(resync));
    let d = balance_decision(c.state(), &r1, now);
    assert!(
        matches!(&d, Balance::Skip(w) if w.contains("n1") && w.contains("UpToDate")),
        "{d:?}"
    );
    report_all(&mut c, &mut env, &[]);
    // A failed disk (SkipDisk on the node): nothing is touched.
    let skip = json!({"cmd": "node_modify", "name": "n2",
        "props": {"override_props": {"DrbdOptions/SkipDisk": "True"}}});
    must(&mut c, &mut env, cmd(skip));
    let d = balance_decision(c.state(), &r1, now);
    assert!(
        matches!(&d, Balance::Skip(w) if w.contains("SkipDisk")),
        "{d:?}"
    );
}

#[test]
fn balance_leaves_undeployed_and_offline_definitions_alone() {
    use crate::cluster::balance::{Balance, balance_decision};
    let (mut c, mut env) = online_cluster(3);
    default_group_places(&mut c, &mut env, 2);
    assert!(!spawn(&mut c, &mut env, "r1", 3, 10).is_error());
    must(&mut c, &mut env, rd("r2"));
    env.advance(2 * 3_600_000);
    report_all(&mut c, &mut env, &[]);
    let now = crate::cluster::Env::now_ms(&mut env);
    let decide = |c: &Cluster, rd: &str| balance_decision(c.state(), &rd.parse().unwrap(), now);
    assert!(matches!(decide(&c, "r2"), Balance::Skip(w) if w.contains("not deployed")));
    assert!(matches!(decide(&c, "r1"), Balance::Remove(n) if n.len() == 1));
    must(&mut c, &mut env, report_node("n1", "OFFLINE"));
    let d = decide(&c, "r1");
    assert!(
        matches!(&d, Balance::Skip(w) if w.contains("n1") && w.contains("online")),
        "{d:?}"
    );
    let out = run(&mut c, &mut env, Command::RscBalance { rsc_dfn: None });
    assert!(!out.is_error() && out.changes.is_empty(), "{out:?}");
}

#[test]
fn stale_reports_and_resources_without_drbd_are_never_acted_on() {
    use crate::cluster::balance::{Balance, balance_decision};
    let (mut c, mut env) = online_cluster(3);
    assert!(!spawn(&mut c, &mut env, "r1", 3, 10).is_error());
    env.advance(2 * 3_600_000);
    report_all(&mut c, &mut env, &[]);
    // A reconnect makes the node's reports stale.
    for conn in ["OFFLINE", "ONLINE"] {
        must(&mut c, &mut env, report_node("n1", conn));
    }
    let now = crate::cluster::Env::now_ms(&mut env);
    default_group_places(&mut c, &mut env, 2);
    let d = balance_decision(c.state(), &"r1".parse().unwrap(), now);
    assert!(
        matches!(&d, Balance::Skip(w) if w.contains("n1") && w.contains("not reported")),
        "{d:?}"
    );
    // A definition without DRBD: its replicas are not copies of each other.
    let plain = json!({"cmd": "rsc_dfn_create", "name": "plain", "layer_stack": ["STORAGE"]});
    must(&mut c, &mut env, cmd(plain));
    must(&mut c, &mut env, vd("plain", 1));
    must(&mut c, &mut env, rsc("plain", "n0", Some("data"), false));
    let d = balance_decision(c.state(), &"plain".parse().unwrap(), now);
    assert!(
        matches!(&d, Balance::Skip(w) if w.contains("DRBD")),
        "{d:?}"
    );
    let before = c.to_json();
    let out = run(&mut c, &mut env, evacuate("n0", &[]));
    assert_eq!(
        out.rc.first_error().map(|e| e.code),
        Some(code::INVLD_LAYER_STACK),
        "{out:?}"
    );
    assert_eq!(c.to_json(), before);
}
