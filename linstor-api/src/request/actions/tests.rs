//! The bodies of resource modify, volume modify, make-available, toggle-disk, volume group modify,
//! connections, rollback, volume-definition restore and multi-snapshots as the clients send
//! them: their commands, the refusals that name the field, and a run on a cluster.

use std::collections::BTreeMap;

use linstor_core::cluster::{Cluster, Command, SeededEnv, SnapshotSpec, ToggleDiskOp};
use linstor_core::decode::{DecodeErrorKind, decode_command};
use linstor_core::model::LayerKind;
use linstor_core::props::PropsModify;
use serde::de::DeserializeOwned;

use super::super::{parse, parse_or_default};
use super::*;

/// Parses `body` as `T` and maps it with `to`.
fn map<T: DeserializeOwned>(
    body: &str,
    to: impl Fn(&T) -> Result<Command, String>,
) -> Result<Command, String> {
    let t: T = parse("a request", body).unwrap_or_else(|e| panic!("{body}: {e:?}"));
    to(&t)
}

fn set(k: &str, v: &str) -> PropsModify {
    PropsModify::set([(k, v)])
}

#[test]
fn bodies_as_the_clients_send_them_map_to_commands() {
    let rm = |b: &ResourceModify| Ok(b.command("r1", "n1"));
    let vg = |b: &VolumeGroupModify| b.command("g1", 0);
    let vm = |b: &VolumeModify| Ok(b.command("r1", "n1", 3));
    let avail = |b: &ResourceMakeAvailable| b.command("r1", "n1");
    let toggle = |b: &ToggleDiskRequest| b.command("r1", "n1");
    let nconn = |b: &NodeConnectionModify| Ok(b.node_command("n1", "n2"));
    let rconn = |b: &ResourceConnectionModify| Ok(b.rsc_command("r1", "n1", "n2"));
    let rvd = |b: &SnapshotVolumeDefinitionRestore| b.command("r1", "s1");
    let multi = |b: &CreateMultiSnapshotRequest| Ok(b.command());
    let toggle_cmd = |operation, pool: Option<&str>| Command::RscToggleDisk {
        rsc_dfn: "r1".into(),
        node: "n1".into(),
        operation,
        storage_pool: pool.map(str::to_owned),
        migrate_from: None,
    };
    let migrate_cmd = |pool: Option<&str>| Command::RscToggleDisk {
        rsc_dfn: "r1".into(),
        node: "n1".into(),
        operation: ToggleDiskOp::IntoDrbdDiskful,
        storage_pool: pool.map(str::to_owned),
        migrate_from: Some("n2".into()),
    };
    let migrate = |b: &ToggleDiskDiskful| b.command(("r1", "n1", "n2"), None);
    let cases: Vec<(&str, Result<Command, String>, Command)> = vec![
        (
            "python-linstor resource_modify",
            map(
                r#"{"override_props": {"Aux/a": "1"}, "delete_props": ["Aux/b"]}"#,
                rm,
            ),
            Command::RscModify {
                rsc_dfn: "r1".into(),
                node: "n1".into(),
                props: PropsModify {
                    delete_props: vec!["Aux/b".into()],
                    ..set("Aux/a", "1")
                },
                drbd_tiebreaker: None,
                drbd_client: None,
            },
        ),
        (
            "golinstor tiebreaker off",
            map(r#"{"drbd_tiebreaker": false, "drbd_client": null}"#, rm),
            Command::RscModify {
                rsc_dfn: "r1".into(),
                node: "n1".into(),
                props: PropsModify::default(),
                drbd_tiebreaker: Some(false),
                drbd_client: None,
            },
        ),
        (
            "python-linstor volume_modify",
            map(
                r#"{"override_props": {"Aux/v": "2"}, "delete_props": ["Aux/w"]}"#,
                vm,
            ),
            Command::VlmModify {
                rsc_dfn: "r1".into(),
                node: "n1".into(),
                number: 3,
                props: PropsModify {
                    delete_props: vec!["Aux/w".into()],
                    ..set("Aux/v", "2")
                },
            },
        ),
        (
            "volume modify, every field null",
            map(
                r#"{"override_props": null, "delete_props": null, "delete_namespaces": null}"#,
                vm,
            ),
            Command::VlmModify {
                rsc_dfn: "r1".into(),
                node: "n1".into(),
                number: 3,
                props: PropsModify::default(),
            },
        ),
        (
            "volume_group_modify gross",
            map(
                r#"{"override_props": {"Aux/a": "1"}, "flags": ["gross_size"]}"#,
                vg,
            ),
            Command::VlmGrpModify {
                rsc_grp: "g1".into(),
                number: 0,
                props: set("Aux/a", "1"),
                gross_size: Some(true),
            },
        ),
        (
            "volume_group_modify net again",
            map(r#"{"flags": ["-GROSS_SIZE"]}"#, vg),
            Command::VlmGrpModify {
                rsc_grp: "g1".into(),
                number: 0,
                props: PropsModify::default(),
                gross_size: Some(false),
            },
        ),
        (
            "linstor-csi attach",
            map(r#"{"diskful": false}"#, avail),
            Command::RscMakeAvailable {
                rsc_dfn: "r1".into(),
                node: "n1".into(),
                diskful: false,
                layer_list: None,
            },
        ),
        (
            "python-linstor make-available",
            map(
                r#"{"diskful": true, "layer_list": ["drbd", "storage"]}"#,
                avail,
            ),
            Command::RscMakeAvailable {
                rsc_dfn: "r1".into(),
                node: "n1".into(),
                diskful: true,
                layer_list: Some(vec![LayerKind::DRBD, LayerKind::STORAGE]),
            },
        ),
        (
            "toggle-disk 1.28",
            map(
                r#"{"operation": "INTO_DRBD_DISKFUL", "storage_pool": "data"}"#,
                toggle,
            ),
            toggle_cmd(ToggleDiskOp::IntoDrbdDiskful, Some("data")),
        ),
        (
            "toggle-disk client, any case",
            map(
                r#"{"operation": "into_drbd_client", "migrate_from": null}"#,
                toggle,
            ),
            toggle_cmd(ToggleDiskOp::IntoDrbdClient, None),
        ),
        (
            "python-linstor toggle-disk with migrate_from (1.28)",
            map(
                r#"{"operation": "INTO_DRBD_DISKFUL", "migrate_from": "n2", "storage_pool": "data"}"#,
                toggle,
            ),
            migrate_cmd(Some("data")),
        ),
        (
            "toggle-disk with an empty migrate_from",
            map(
                r#"{"operation": "INTO_DRBD_DISKFUL", "migrate_from": ""}"#,
                toggle,
            ),
            toggle_cmd(ToggleDiskOp::IntoDrbdDiskful, None),
        ),
        (
            "migrate-disk before 1.28, no body",
            map("{}", migrate),
            migrate_cmd(None),
        ),
        (
            "migrate-disk with a pool in the path",
            ToggleDiskDiskful::default().command(("r1", "n1", "n2"), Some("data")),
            migrate_cmd(Some("data")),
        ),
        (
            "toggle-disk before 1.28",
            Ok(legacy_toggle_disk(
                ("r1", "n1"),
                ToggleDiskOp::IntoDrbdDiskless,
                Some(""),
            )),
            toggle_cmd(ToggleDiskOp::IntoDrbdDiskless, None),
        ),
        (
            "node connection",
            map(r#"{"override_props": {"Paths/p1/n1": "eth1"}}"#, nconn),
            Command::NodeConnModify {
                node_a: "n1".into(),
                node_b: "n2".into(),
                props: set("Paths/p1/n1", "eth1"),
            },
        ),
        (
            "resource connection",
            map(r#"{"delete_namespaces": ["Paths"]}"#, rconn),
            Command::RscConnModify {
                rsc_dfn: "r1".into(),
                node_a: "n1".into(),
                node_b: "n2".into(),
                props: PropsModify {
                    delete_namespaces: vec!["Paths".into()],
                    ..PropsModify::default()
                },
            },
        ),
        (
            "restore volume definitions",
            map(r#"{"to_resource": "r2"}"#, rvd),
            Command::SnapshotRestoreVlmDfn {
                rsc_dfn: "r1".into(),
                snapshot: "s1".into(),
                target: "r2".into(),
            },
        ),
        (
            "python-linstor snapshot_create_multi",
            map(
                r#"{"snapshots": [{"name": "s1", "resource_name": "r1", "nodes": ["n1"]},
                    {"name": "s1", "resource_name": "r2", "props": {"Aux/a": "1"},
                     "snapshot_definition_props": {"Aux/b": "2"}}]}"#,
                multi,
            ),
            Command::SnapshotCreateMulti {
                snapshots: vec![
                    SnapshotSpec {
                        rsc_dfn: "r1".into(),
                        name: "s1".into(),
                        nodes: vec!["n1".into()],
                        props: BTreeMap::new(),
                    },
                    SnapshotSpec {
                        rsc_dfn: "r2".into(),
                        name: "s1".into(),
                        nodes: vec![],
                        props: [("Aux/a", "1"), ("Aux/b", "2")]
                            .map(|(k, v)| (k.to_owned(), v.to_owned()))
                            .into(),
                    },
                ],
            },
        ),
    ];
    for (what, got, want) in cases {
        assert_eq!(got, Ok(want), "{what}");
    }
    let rollback: SnapshotRollback = parse_or_default("a rollback", "").expect("no body");
    assert_eq!(
        rollback.command("r1", "s1"),
        Command::SnapshotRollback {
            rsc_dfn: "r1".into(),
            snapshot: "s1".into(),
        }
    );
    let rollback: SnapshotRollback =
        parse("a rollback", r#"{"zfs_rollback_strategy": "Dynamic"}"#).expect("accepted");
    assert_eq!(
        rollback.zfs_rollback_strategy,
        Some(ZfsRollbackStrategy::Dynamic)
    );
}

#[test]
fn fields_the_core_cannot_honour_are_refused_by_name() {
    let vg = |b: &VolumeGroupModify| b.command("g1", 0);
    let avail = |b: &ResourceMakeAvailable| b.command("r1", "n1");
    let toggle = |b: &ToggleDiskRequest| b.command("r1", "n1");
    let rvd = |b: &SnapshotVolumeDefinitionRestore| b.command("r1", "s1");
    let cases: Vec<(Result<Command, String>, &str)> = vec![
        (
            map(r#"{"flags": ["ENCRYPTED"]}"#, vg),
            "'flags' has an unknown flag 'ENCRYPTED'",
        ),
        (
            map(r#"{"flags": ["GROSS_SIZE", "-GROSS_SIZE"]}"#, vg),
            "both sets and clears",
        ),
        (
            map(r#"{"drbd_tcp_ports": [7010]}"#, avail),
            "'drbd_tcp_ports'",
        ),
        (map(r#"{"snap_names": ["s1"]}"#, avail), "'snap_names'"),
        (
            map(r#"{"copy_all_snaps": true}"#, avail),
            "'copy_all_snaps'",
        ),
        (
            map(
                r#"{"layer_list": ["drbd", "storage"]}"#,
                |b: &ToggleDiskDiskful| b.command(("r1", "n1", "n2"), None),
            ),
            "'layer_list'",
        ),
        (
            map(
                r#"{"operation": "INTO_DRBD_DISKFUL", "layer_list": ["DRBD"]}"#,
                toggle,
            ),
            "'layer_list'",
        ),
        (
            map(
                r#"{"to_resource": "r2", "stor_pool_rename": {"a": "b"}}"#,
                rvd,
            ),
            "'stor_pool_rename'",
        ),
    ];
    for (got, want) in cases {
        let err = got.expect_err(want);
        assert!(err.contains(want), "{err:?} lacks {want:?}");
    }
    // Empty lists and `null` are "not given".
    let ok = map(
        r#"{"drbd_tcp_ports": [], "snap_names": null, "copy_all_snaps": false}"#,
        avail,
    );
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn unreadable_bodies_name_the_field() {
    fn field<T: DeserializeOwned + std::fmt::Debug>(body: &str) -> (String, DecodeErrorKind) {
        let e = parse::<T>("a request", body).expect_err(body);
        (e.field.clone().unwrap_or_default(), e.kind)
    }
    use DecodeErrorKind as K;
    let cases = [
        (
            field::<ToggleDiskRequest>(r#"{"operation": "INTO_DISKFUL"}"#),
            ("operation", K::UnknownVariant),
        ),
        (
            field::<ToggleDiskRequest>(r#"{"storage_pool": "data"}"#),
            ("operation", K::MissingField),
        ),
        (
            field::<ResourceModify>(r#"{"drbd_tiebreakr": true}"#),
            ("drbd_tiebreakr", K::UnknownField),
        ),
        (
            field::<VolumeModify>(r#"{"override_prop": {"Aux/v": "1"}}"#),
            ("override_prop", K::UnknownField),
        ),
        (
            field::<ResourceMakeAvailable>(r#"{"diskful": "yes"}"#),
            ("diskful", K::InvalidValue),
        ),
        (
            field::<ResourceMakeAvailable>(r#"{"layer_list": ["drdb"]}"#),
            ("layer_list", K::UnknownVariant),
        ),
        (
            field::<SnapshotRollback>(r#"{"zfs_rollback_strategy": "fast"}"#),
            ("zfs_rollback_strategy", K::UnknownVariant),
        ),
        (
            field::<SnapshotVolumeDefinitionRestore>(r#"{"to_rsc": "r2"}"#),
            ("to_rsc", K::UnknownField),
        ),
        (
            field::<CreateMultiSnapshotRequest>(r#"{"snapshots": [{"name": "s1"}]}"#),
            ("snapshots[0].resource_name", K::MissingField),
        ),
        (
            field::<ConnectionModify>(r#"{"override_props": {"a": 1}}"#),
            ("override_props.a", K::InvalidValue),
        ),
    ];
    for ((got_field, got_kind), (field, kind)) in cases {
        assert_eq!((got_field.as_str(), got_kind), (field, kind));
    }
}

/// Runs `cmd` on `c`; it must succeed.
#[track_caller]
fn must(c: &mut Cluster, e: &mut SeededEnv, what: &str, cmd: Command) {
    let out = c.execute(cmd, e);
    assert!(!out.is_error(), "{what}: {}", out.rc);
}

#[test]
fn the_bodies_map_to_commands_the_cluster_runs() {
    let mut e = SeededEnv::new(5);
    let mut c = Cluster::new(&mut e);
    for (i, n) in ["n1", "n2", "n3"].iter().enumerate() {
        let setup = [
            format!(
                r#"{{"cmd": "node_create", "name": "{n}", "node_type": "Satellite",
                "net_interfaces": [{{"name": "default", "address": "10.0.0.{}"}}]}}"#,
                i + 1
            ),
            format!(
                r#"{{"cmd": "stor_pool_create", "node": "{n}", "name": "data",
                "kind": "FILE_THIN", "props": {{"StorDriver/StorPoolName": "/srv/pool"}}}}"#
            ),
        ];
        for s in setup {
            must(&mut c, &mut e, "setup", decode_command(&s).unwrap());
        }
    }
    for s in [
        r#"{"cmd": "rsc_grp_create", "name": "g1"}"#,
        r#"{"cmd": "vlm_grp_create", "rsc_grp": "g1"}"#,
        r#"{"cmd": "rsc_dfn_create", "name": "r1", "rsc_grp": "g1"}"#,
        r#"{"cmd": "vlm_dfn_create", "rsc_dfn": "r1", "size": 1048576}"#,
        r#"{"cmd": "rsc_create", "rsc_dfn": "r1", "node": "n1", "storage_pool": "data"}"#,
        r#"{"cmd": "rsc_create", "rsc_dfn": "r1", "node": "n2", "storage_pool": "data"}"#,
        r#"{"cmd": "report_node", "node": "n1", "connection": "ONLINE"}"#,
        r#"{"cmd": "report_node", "node": "n2", "connection": "ONLINE"}"#,
        r#"{"cmd": "snapshot_create", "rsc_dfn": "r1", "name": "s1"}"#,
        r#"{"cmd": "rsc_dfn_create", "name": "r2"}"#,
    ] {
        must(&mut c, &mut e, s, decode_command(s).unwrap());
    }
    let ok = |r: Result<Command, String>| r.expect("mapped");
    let steps: Vec<(&str, Command)> = vec![
        (
            "vg modify",
            ok(map(
                r#"{"flags": ["GROSS_SIZE"]}"#,
                |b: &VolumeGroupModify| b.command("g1", 0),
            )),
        ),
        (
            "make available",
            ok(map(r#"{"diskful": false}"#, |b: &ResourceMakeAvailable| {
                b.command("r1", "n3")
            })),
        ),
        (
            "modify",
            map(r#"{"drbd_client": true}"#, |b: &ResourceModify| {
                Ok(b.command("r1", "n3"))
            })
            .unwrap(),
        ),
        (
            "volume modify",
            map(
                r#"{"override_props": {"Aux/v": "1"}}"#,
                |b: &VolumeModify| Ok(b.command("r1", "n3", 0)),
            )
            .unwrap(),
        ),
        (
            "toggle",
            ok(map(
                r#"{"operation": "INTO_DRBD_DISKFUL", "storage_pool": "data"}"#,
                |b: &ToggleDiskRequest| b.command("r1", "n3"),
            )),
        ),
        (
            "node connection",
            map(
                r#"{"override_props": {"Paths/p/n1": "default", "Paths/p/n2": "default"}}"#,
                |b: &NodeConnectionModify| Ok(b.node_command("n1", "n2")),
            )
            .unwrap(),
        ),
        (
            "resource connection",
            map(
                r#"{"override_props": {"Aux/a": "1"}}"#,
                |b: &ResourceConnectionModify| Ok(b.rsc_command("r1", "n1", "n3")),
            )
            .unwrap(),
        ),
        (
            "restore volume definitions",
            ok(map(
                r#"{"to_resource": "r2"}"#,
                |b: &SnapshotVolumeDefinitionRestore| b.command("r1", "s1"),
            )),
        ),
        (
            "multi snapshot",
            map(
                r#"{"snapshots": [{"name": "m1", "resource_name": "r1"}]}"#,
                |b: &CreateMultiSnapshotRequest| Ok(b.command()),
            )
            .unwrap(),
        ),
    ];
    for (what, cmd) in steps {
        must(&mut c, &mut e, what, cmd);
    }
    // Rollback needs a SUCCESSFUL snapshot (flagged when the satellites confirm it): refused.
    let rollback: SnapshotRollback = parse_or_default("r", "{}").unwrap();
    let out = c.execute(rollback.command("r1", "s1"), &mut e);
    let err = out.rc.first_error().expect("refused");
    assert!(
        err.message.contains("Unable to use failed snapshot"),
        "{err}"
    );
}
