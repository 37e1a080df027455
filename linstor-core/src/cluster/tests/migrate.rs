//! migrate-disk (`RscToggleDisk` with `migrate_from`): the refusals, the new disk and its
//! `MigrateFrom`, and the balance step that deletes the old replica once the new one is in sync.

use serde_json::{Value, json};

use super::fixture::*;
use crate::cluster::balance::{Balance, balance_decision};
use crate::cluster::{Cluster, Command, SeededEnv};
use crate::name::{NodeName, ResourceName};
use crate::rc::code;

fn migrate(node: &str, from: &str, op: &str, pool: Option<&str>) -> Value {
    json!({"cmd": "rsc_toggle_disk", "rsc_dfn": "r1", "node": node, "operation": op,
        "storage_pool": pool, "migrate_from": from})
}

fn diskful(node: &str, from: &str) -> Value {
    migrate(node, from, "INTO_DRBD_DISKFUL", Some("data"))
}

/// Three online nodes (LVM pool `data`): `r1` diskful on n0, diskless on n1; n2 has none.
fn one_disk() -> (Cluster, SeededEnv) {
    let (mut c, mut e) = online_cluster(3);
    rd_vd(&mut c, &mut e, "r1", 1);
    must(&mut c, &mut e, rsc("r1", "n0", Some("data"), false));
    must(&mut c, &mut e, rsc("r1", "n1", None, true));
    (c, e)
}

fn props_of(c: &Cluster, node: &str) -> crate::props::Props {
    let rd = ResourceName::new("r1").unwrap();
    c.state().resource_definitions[&rd].resources[&NodeName::new(node).unwrap()]
        .props
        .clone()
}

fn decide(c: &Cluster) -> Balance {
    balance_decision(c.state(), &ResourceName::new("r1").unwrap(), 0)
}

#[test]
fn migrate_disk_refusals_change_nothing() {
    let (mut c, mut e) = one_disk();
    check_all(
        &mut c,
        &mut e,
        vec![
            (diskful("n2", "n0"), Err((code::NOT_FOUND_RSC, "node 'n2'"))),
            (diskful("n1", "n2"), Err((code::NOT_FOUND_RSC, "node 'n2'"))),
            (
                diskful("n1", "-x"),
                Err((code::INVLD_NODE_NAME, "Invalid node name")),
            ),
            (diskful("n1", "n1"), Err((code::INVLD_REQUEST, "to itself"))),
            (
                migrate("n1", "n0", "INTO_DRBD_DISKLESS", None),
                Err((code::INVLD_REQUEST, "gives the resource a disk")),
            ),
            (
                diskful("n0", "n1"),
                Err((code::INVLD_REQUEST, "already has a disk")),
            ),
            (
                migrate("n1", "n0", "INTO_DRBD_DISKFUL", Some("nope")),
                Err((code::NOT_FOUND_STOR_POOL_DFN, "'nope'")),
            ),
        ],
    );
    // In use on the old node: it cannot go.
    report_all(&mut c, &mut e, &[("r1", "n0")]);
    check(
        &mut c,
        &mut e,
        cmd(diskful("n1", "n0")),
        Err((code::IN_USE, "in use")),
    );
    // Snapshots there cannot move with the disk.
    let (mut c, mut e) = cluster(2);
    rd_vd(&mut c, &mut e, "r1", 1);
    must(&mut c, &mut e, rsc("r1", "n1", Some("files"), false));
    must(&mut c, &mut e, rsc("r1", "n2", None, true));
    for n in ["n1", "n2"] {
        must(&mut c, &mut e, report_node(n, "ONLINE"));
    }
    let snap = json!({"cmd": "snapshot_create", "rsc_dfn": "r1", "name": "s1"});
    must(&mut c, &mut e, cmd(snap));
    let to_n2 = migrate("n2", "n1", "INTO_DRBD_DISKFUL", Some("files"));
    check(
        &mut c,
        &mut e,
        cmd(to_n2),
        Err((code::EXISTS_SNAPSHOT, "snapshots cannot be migrated")),
    );
}

#[test]
fn the_old_replica_goes_once_the_new_disk_is_in_sync() {
    let (mut c, mut e) = one_disk();
    must(&mut c, &mut e, cmd(diskful("n1", "n0")));
    assert_eq!(props_of(&c, "n1").get("MigrateFrom"), Some("n0"));
    assert!(
        flags(&c, "r1")
            .iter()
            .all(|(_, f)| !f.contains(&"DISKLESS")),
        "{:?}",
        flags(&c, "r1")
    );
    // Asked again: the migration is under way, nothing changes.
    let o = must(&mut c, &mut e, cmd(diskful("n1", "n0")));
    assert!(
        o.changes.is_empty() && o.rc.0[0].code == code::INFO_NOOP,
        "{o:?}"
    );
    // Not reported yet: balance waits, and changes nothing.
    assert!(
        matches!(decide(&c), Balance::Skip(w) if w.contains("migration")),
        "{:?}",
        decide(&c)
    );
    let balance = Command::RscBalance {
        rsc_dfn: Some("r1".into()),
    };
    let o = must(&mut c, &mut e, balance.clone());
    assert!(o.changes.is_empty(), "{o:?}");
    // In use on n0: still waiting.
    report_all(&mut c, &mut e, &[("r1", "n0")]);
    assert!(matches!(decide(&c), Balance::Skip(_)), "{:?}", decide(&c));
    // In sync and free: the replica on n0 is deleted, MigrateFrom goes.
    report_all(&mut c, &mut e, &[]);
    let n0 = NodeName::new("n0").unwrap();
    let n1 = NodeName::new("n1").unwrap();
    assert_eq!(
        decide(&c),
        Balance::FinishMigration {
            to: n1,
            from: Some(n0)
        }
    );
    must(&mut c, &mut e, balance);
    assert_eq!(props_of(&c, "n1").get("MigrateFrom"), None);
    assert_eq!(nodes_of(&c, "r1"), vec!["n1".to_owned()]);
    assert!(
        flags(&c, "r1")
            .iter()
            .any(|(n, f)| n == "n0" && f.contains(&"DELETE"))
    );
    c.check_invariants().unwrap();
}

#[test]
fn a_migration_whose_disk_was_taken_back_is_only_cleared() {
    let (mut c, mut e) = one_disk();
    must(&mut c, &mut e, cmd(diskful("n1", "n0")));
    let back = json!({"cmd": "rsc_toggle_disk", "rsc_dfn": "r1", "node": "n1",
        "operation": "INTO_DRBD_DISKLESS"});
    must(&mut c, &mut e, cmd(back));
    let n1 = NodeName::new("n1").unwrap();
    assert_eq!(decide(&c), Balance::FinishMigration { to: n1, from: None });
    must(
        &mut c,
        &mut e,
        Command::RscBalance {
            rsc_dfn: Some("r1".into()),
        },
    );
    assert_eq!(props_of(&c, "n1").get("MigrateFrom"), None);
    assert_eq!(
        nodes_of(&c, "r1"),
        vec!["n0".to_owned()],
        "the old disk stays"
    );
}
