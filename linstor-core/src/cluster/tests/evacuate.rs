//! Evacuation, eviction and restore of nodes, and the replacements they place.

use super::fixture::*;
use crate::cluster::{Cluster, Command};
use crate::model::{Capabilities, ConnectionStatus, ProviderKind, SelectFilter};
use crate::rc::code;
use serde_json::json;

#[test]
fn evacuation_places_replacements_then_deletes_the_originals_once_synced() {
    let (mut c, mut env) = online_cluster(4);
    assert!(!spawn(&mut c, &mut env, "r1", 2, 10).is_error());
    assert!(!spawn(&mut c, &mut env, "r2", 3, 10).is_error());
    let before: Vec<usize> = ["r1", "r2"].iter().map(|r| diskful(&c, r)).collect();
    // n0 carries both (the placer fills n0 first on equal pools).
    assert_eq!(on(&c, "n0").len(), 2, "{:?}", on(&c, "n0"));
    assert!(crate::cluster::balance::unfinished_moves(c.state()).is_empty());
    must(&mut c, &mut env, evacuate("n0", &[]));
    c.check_invariants().unwrap();
    assert!(on(&c, "n0").iter().all(|(_, f)| f.contains(&"EVACUATE")));
    let moving: Vec<String> = crate::cluster::balance::unfinished_moves(c.state())
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(moving, ["r1", "r2"]);
    for (rd, n) in ["r1", "r2"].iter().zip(&before) {
        // The originals stay until the replacements are in sync: one more diskful each.
        assert_eq!(diskful(&c, rd), n + 1, "{rd}: {:?}", flags(&c, rd));
    }
    // Not reported yet: nothing is deleted.
    let balance = Command::RscBalance { rsc_dfn: None };
    let out = run(&mut c, &mut env, balance.clone());
    assert!(!out.is_error() && out.changes.is_empty(), "{out:?}");
    report_all(&mut c, &mut env, &[]);
    must(&mut c, &mut env, balance);
    assert!(
        on(&c, "n0").iter().all(|(_, f)| f.contains(&"DELETE")),
        "{:?}",
        on(&c, "n0")
    );
    for (rd, n) in ["r1", "r2"].iter().zip(&before) {
        assert_eq!(nodes_of(&c, rd).len(), *n, "{rd}");
        assert!(!nodes_of(&c, rd).contains(&"n0".to_string()));
    }
    // Deleting replicas are no move under way any more.
    assert!(crate::cluster::balance::unfinished_moves(c.state()).is_empty());
    // The satellite confirms; the node can go.
    for (rd, _) in on(&c, "n0") {
        let confirmed = json!({"cmd": "resource_deleted", "rsc_dfn": rd, "node": "n0"});
        must(&mut c, &mut env, cmd(confirmed));
    }
    must(
        &mut c,
        &mut env,
        cmd(json!({"cmd": "node_delete", "name": "n0"})),
    );
    c.check_invariants().unwrap();
}

#[test]
fn evacuation_is_all_or_nothing_and_can_be_cancelled() {
    let (mut c, mut env) = online_cluster(3);
    let restore = |delete: bool| {
        cmd(json!({"cmd": "node_restore", "name": "n0", "delete_resources": delete}))
    };
    assert!(!spawn(&mut c, &mut env, "r1", 1, 10).is_error());
    assert!(!spawn(&mut c, &mut env, "r2", 3, 10).is_error());
    let before = c.to_json();
    let out = run(&mut c, &mut env, evacuate("n0", &[]));
    let e = out.rc.first_error().unwrap_or_else(|| panic!("{out:?}"));
    assert_eq!(e.code, code::NOT_ENOUGH_NODES);
    assert!(e.message.contains("'r2'"), "{e}");
    assert!(e.cause.is_some() && e.correction.is_some(), "{e}");
    assert_eq!(c.to_json(), before, "a refused evacuation changes nothing");
    assert!(out.changes.is_empty());
    c.check_invariants().unwrap();
    // Without r2 it works; restore cancels it (the replacement stays).
    let out = run(&mut c, &mut env, evacuate("n0", &["n1"]));
    assert!(out.is_error(), "r2 still blocks: {out:?}");
    must(
        &mut c,
        &mut env,
        cmd(json!({"cmd": "rsc_dfn_delete", "name": "r2"})),
    );
    for n in ["n0", "n1", "n2"] {
        let confirmed = json!({"cmd": "resource_deleted", "rsc_dfn": "r2", "node": n});
        run(&mut c, &mut env, cmd(confirmed));
    }
    must(&mut c, &mut env, evacuate("n0", &["n1"]));
    assert_eq!(
        nodes_of(&c, "r1"),
        ["n0", "n2"],
        "do_not_target kept n1 out"
    );
    let on_n0 =
        &c.state().resource_definitions[&"r1".parse().unwrap()].resources[&"n0".parse().unwrap()];
    assert_eq!(
        on_n0.props.get(crate::keys::EVACUATION_DO_NOT_TARGET),
        Some("n1"),
        "kept for a replacement placed again"
    );
    must(&mut c, &mut env, restore(false));
    assert!(on(&c, "n0").iter().all(|(_, f)| !f.contains(&"EVACUATE")));
    assert_eq!(c.state().nodes[&"n0".parse().unwrap()].flags.0, 0);
    c.check_invariants().unwrap();
}

#[test]
fn eviction_replaces_an_offline_node_and_restore_reactivates_or_deletes() {
    let (mut c, mut env) = online_cluster(4);
    assert!(!spawn(&mut c, &mut env, "r1", 2, 10).is_error());
    assert!(!spawn(&mut c, &mut env, "r2", 3, 10).is_error());
    let evict = Command::NodeEvict { name: "n0".into() };
    let restore = |delete: bool| {
        cmd(json!({"cmd": "node_restore", "name": "n0", "delete_resources": delete}))
    };
    // Online: refused, nothing changes.
    let before = c.to_json();
    let out = run(&mut c, &mut env, evict.clone());
    assert_eq!(
        out.rc.first_error().map(|e| e.code),
        Some(code::INVLD_REQUEST)
    );
    assert_eq!(c.to_json(), before);
    must(&mut c, &mut env, report_node("n0", "OFFLINE"));
    let out = run(&mut c, &mut env, evict.clone());
    assert!(!out.is_error(), "{out:?}");
    c.check_invariants().unwrap();
    assert!(
        on(&c, "n0").iter().all(|(_, f)| f.contains(&"EVICTED")),
        "{:?}",
        on(&c, "n0")
    );
    // r1 is back to 2 live diskful replicas elsewhere; r2 (3 on 4 nodes) too.
    let live = |c: &Cluster, rd: &str| nodes_of(c, rd).into_iter().filter(|n| n != "n0").count();
    assert_eq!((live(&c, "r1"), live(&c, "r2")), (2, 3));
    // Twice: no effect.
    let out = run(&mut c, &mut env, evict);
    assert!(
        out.rc.0.iter().any(|e| e.code == code::WARN_NO_EFFECT),
        "{out:?}"
    );
    // Restore: reactivated (the replacements stay; the balance task trims surplus).
    must(&mut c, &mut env, restore(false));
    assert!(
        on(&c, "n0")
            .iter()
            .all(|(_, f)| !f.contains(&"EVICTED") && !f.contains(&"DELETE"))
    );
    c.check_invariants().unwrap();
    // Evicted again and restored with delete_resources: marked for deletion.
    run(&mut c, &mut env, report_node("n0", "OFFLINE"));
    assert!(!run(&mut c, &mut env, Command::NodeEvict { name: "n0".into() }).is_error());
    must(&mut c, &mut env, restore(true));
    assert!(
        on(&c, "n0")
            .iter()
            .all(|(_, f)| f.contains(&"DELETE") && !f.contains(&"EVICTED")),
        "{:?}",
        on(&c, "n0")
    );
    c.check_invariants().unwrap();
}

#[test]
fn evacuating_a_tiebreaker_moves_it_and_keeps_automatic_tiebreakers_on() {
    let (mut c, mut env) = online_cluster(4);
    assert!(!spawn(&mut c, &mut env, "r1", 2, 10).is_error());
    let tb = |c: &Cluster| -> Vec<String> {
        flags(c, "r1")
            .into_iter()
            .filter(|(_, f)| f.contains(&"TIE_BREAKER") && !f.contains(&"DELETE"))
            .map(|(n, _)| n)
            .collect()
    };
    let first = tb(&c);
    assert_eq!(first.len(), 1, "{:?}", flags(&c, "r1"));
    must(&mut c, &mut env, evacuate(&first[0], &[]));
    // A second tiebreaker is placed elsewhere while the first waits to be removed.
    let now = tb(&c);
    assert_eq!(now.len(), 2, "{:?}", flags(&c, "r1"));
    report_all(&mut c, &mut env, &[]);
    must(&mut c, &mut env, Command::RscBalance { rsc_dfn: None });
    let after = tb(&c);
    assert_eq!(after.len(), 1, "{:?}", flags(&c, "r1"));
    assert_ne!(after[0], first[0]);
    let rd = &c.state().resource_definitions[&"r1".parse().unwrap()];
    assert_eq!(rd.props.get("DrbdOptions/auto-add-quorum-tiebreaker"), None);
    c.check_invariants().unwrap();
}

#[test]
fn a_replacement_must_mix_with_the_replica_it_copies() {
    let (mut c, mut env) = online_cluster(3);
    let zfs = ("zfs", ProviderKind::ZFS, "tank");
    online_pool(
        &mut c,
        &mut env,
        "n0",
        zfs,
        &[ProviderKind::LVM, ProviderKind::ZFS],
    );
    let filter = SelectFilter {
        storage_pool: Some("zfs".parse().unwrap()),
        ..place_count(1)
    };
    let out = spawn_with(&mut c, &mut env, ("DfltRscGrp", "r1"), 10, Some(filter));
    assert!(!out.is_error(), "{out:?}");
    // Only LVM elsewhere: the ZFS replica on n0 cannot be copied there.
    let out = run(&mut c, &mut env, evacuate("n0", &[]));
    let e = out.rc.first_error().unwrap_or_else(|| panic!("{out:?}"));
    assert_eq!(e.code, code::NOT_ENOUGH_NODES, "{e}");
    assert!(format!("{e}").contains("mix"), "{e}");
    // A new handshake makes earlier resource reports stale.
    report_all(&mut c, &mut env, &[]);
    let n0: crate::name::NodeName = "n0".parse().unwrap();
    assert!(!c.state().observed.nodes[&n0].resources.is_empty());
    run(
        &mut c,
        &mut env,
        Command::NodeReport {
            node: "n0".into(),
            connection: ConnectionStatus::ONLINE,
            capabilities: Some(Capabilities::default()),
        },
    );
    assert!(c.state().observed.nodes[&n0].resources.is_empty());
}
