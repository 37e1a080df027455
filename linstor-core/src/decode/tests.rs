//! The bad inputs a new user tried, each answered with the field, the value and the fix, and
//! none of them changing anything.

use super::*;
use crate::cluster::{Cluster, SeededEnv};

/// (input, kind, field, value, what the correction must say)
type Case = (
    &'static str,
    DecodeErrorKind,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
);

const CASES: &[Case] = &[
    (
        r#"{"cmd": "rsc_grp_create", "name": "rg1", "select_filter": {"plac_count": 3}}"#,
        DecodeErrorKind::UnknownField,
        Some("select_filter.plac_count"),
        Some("plac_count"),
        "Did you mean 'place_count'?",
    ),
    (
        r#"{"cmd": "rsc_create", "rsc_dfn": "r1", "node": "n1", "storage_pol": "p"}"#,
        DecodeErrorKind::UnknownField,
        Some("storage_pol"),
        Some("storage_pol"),
        "Did you mean 'storage_pool'?",
    ),
    (
        r#"{"cmd": "rsc_grp_create", "name": "rg1", "select_filter": {"place_count": -1}}"#,
        DecodeErrorKind::OutOfRange,
        Some("select_filter.place_count"),
        Some("-1"),
        "value in that range",
    ),
    (
        r#"{"cmd": "spawn", "rsc_grp": "g", "rsc_dfn": "r", "volume_sizes": [-1]}"#,
        DecodeErrorKind::OutOfRange,
        Some("volume_sizes[0]"),
        Some("-1"),
        "value in that range",
    ),
    (
        r#"{"cmd": "vlm_dfn_resize", "rsc_dfn": "r", "number": 0, "size": 18446744073709551616}"#,
        DecodeErrorKind::OutOfRange,
        Some("size"),
        Some("18446744073709551616"),
        "value in that range",
    ),
    (
        r#"{"cmd": "vlm_grp_delete", "rsc_grp": "g", "number": 65536}"#,
        DecodeErrorKind::OutOfRange,
        Some("number"),
        Some("65536"),
        "value in that range",
    ),
    (
        r#"{"cmd": "no_such_command"}"#,
        DecodeErrorKind::UnknownCommand,
        Some("cmd"),
        Some("no_such_command"),
        "Use one of the names above.",
    ),
    (
        r#"{"cmd": "node_creat", "name": "n1"}"#,
        DecodeErrorKind::UnknownCommand,
        Some("cmd"),
        Some("node_creat"),
        "Did you mean 'node_create'?",
    ),
    (
        r#"{"cmd": "node_create", "name": "n1", "node_type": "Satelite", "net_interfaces": []}"#,
        DecodeErrorKind::UnknownVariant,
        Some("node_type"),
        Some("Satelite"),
        "Did you mean 'Satellite'?",
    ),
    (
        r#"{"cmd": "stor_pool_create", "node": "n1", "name": "p", "kind": "LVM", "props": {}, "shared": "x"}"#,
        DecodeErrorKind::UnknownField,
        Some("shared"),
        Some("shared"),
        "Did you mean 'shared_space'?",
    ),
    (
        r#"{"cmd": "ctrl_props_modify", "props": {"override": {"a": "b"}}}"#,
        DecodeErrorKind::UnknownField,
        Some("props.override"),
        Some("override"),
        "Did you mean 'override_props'?",
    ),
    (
        r#"{"name": "x"}"#,
        DecodeErrorKind::MissingField,
        Some("cmd"),
        None,
        "Name the command in 'cmd'",
    ),
    (
        r#"{"cmd": "node_create", "name": "n1"}"#,
        DecodeErrorKind::MissingField,
        Some("node_type"),
        None,
        "Add 'node_type'",
    ),
    (
        r#"{"cmd": "#,
        DecodeErrorKind::Syntax,
        None,
        None,
        "one JSON object",
    ),
    (
        r#"{"cmd": "rsc_create", "rsc_dfn": "r1", "node": "n1", "diskless": "yes"}"#,
        DecodeErrorKind::InvalidValue,
        Some("diskless"),
        None,
        "Give 'diskless' a boolean",
    ),
    (
        r#"{"cmd": "vlm_grp_delete", "rsc_grp": "g", "number": 1.5}"#,
        DecodeErrorKind::OutOfRange,
        Some("number"),
        Some("1.5"),
        "value in that range",
    ),
    (
        r#"{"cmd": "vlm_grp_delete", "rsc_grp": "g", "number": 70000.0}"#,
        DecodeErrorKind::OutOfRange,
        Some("number"),
        Some("70000.0"),
        "value in that range",
    ),
    (
        r#"[1, 2]"#,
        DecodeErrorKind::InvalidValue,
        None,
        Some("[1,2]"),
        "one JSON object",
    ),
    (
        r#"null"#,
        DecodeErrorKind::InvalidValue,
        None,
        Some("null"),
        "one JSON object",
    ),
];

#[test]
fn bad_inputs_name_the_field_the_value_and_the_fix() {
    for &(json, kind, field, value, fix) in CASES {
        let e = decode_command(json).expect_err(json);
        assert_eq!(e.kind, kind, "{json}: {e:?}");
        assert_eq!(e.field.as_deref(), field, "{json}: {e:?}");
        assert_eq!(e.value.as_deref(), value, "{json}: {e:?}");
        assert!(e.correction.contains(fix), "{json}: {e:?}");
        if let Some(f) = field.filter(|_| kind != DecodeErrorKind::UnknownCommand) {
            assert!(e.message.contains(f), "the message names the field: {e:?}");
        }
    }
}

#[test]
fn bad_inputs_change_nothing() {
    let mut env = SeededEnv::new(3);
    let mut c = Cluster::new(&mut env);
    let before = c.to_json();
    for &(json, ..) in CASES {
        let out = c.execute_json(json, &mut env);
        assert!(out.is_error(), "{json}");
        assert!(out.changes.is_empty());
        assert_eq!(out.rc.0[0].code, crate::rc::code::INVLD_REQUEST);
        assert_eq!(c.to_json(), before, "{json} changed the state");
    }
}

#[test]
fn rendered_errors() {
    let text: Vec<String> = CASES
        .iter()
        .map(|(json, ..)| {
            let e = decode_command(json).expect_err(json);
            format!(
                "{json}\n  {}\n  cause: {}\n  correction: {}",
                e.message, e.cause, e.correction
            )
        })
        .collect();
    insta::assert_snapshot!(text.join("\n\n"));
}

#[test]
fn valid_commands_still_decode() {
    let cmd = decode_command(
        r#"{"cmd": "rsc_grp_adjust", "name": "rg", "select_filter": {"place_count": 3}}"#,
    )
    .expect("valid");
    assert!(matches!(cmd, crate::cluster::Command::RscGrpAdjust { .. }));
}

#[test]
fn close_matches_table() {
    let valid: Vec<String> = [
        "place_count",
        "storage_pool",
        "storage_pool_list",
        "node_name_list",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for (typo, want) in [
        ("plac_count", Some("place_count")),
        ("PLACE_COUNT", Some("place_count")),
        ("storage_pol", Some("storage_pool")),
        ("node_names", Some("node_name_list")),
        ("zzz", None),
        ("x", None),
    ] {
        assert_eq!(closest(typo, &valid), want, "{typo}");
    }
}

/// Inputs that decode but that the cluster refuses: the property is named with its value and
/// what DRBD accepts, and nothing changes.
#[test]
fn drbd_options_are_validated_on_every_cluster() {
    let mut env = SeededEnv::new(3);
    let mut c = Cluster::new(&mut env);
    let before = c.to_json();
    for (key, value, allowed) in [
        ("DrbdOptions/Net/protocol", "Z", "A, B, C"),
        ("DrbdOptions/Net/nonsense", "1", "known options"),
        ("DrbdOptions/Net/max-buffers", "1", "32 to 131072"),
    ] {
        let json = serde_json::json!({"cmd": "ctrl_props_modify",
            "props": {"override_props": {key: value}}});
        let out = c.execute_json(&json.to_string(), &mut env);
        let e = out.rc.first_error().expect("refused");
        assert_eq!(e.code, crate::rc::code::INVLD_PROP, "{key}");
        assert!(
            e.message.contains(key) && e.message.contains(value),
            "{e:?}"
        );
        assert!(
            e.cause.as_deref().is_some_and(|c| c.contains(allowed)),
            "{e:?}"
        );
        assert!(e.correction.is_some(), "{e:?}");
        assert_eq!(c.to_json(), before, "{key} changed the state");
    }
}

#[test]
fn other_inputs_name_their_fields_too() {
    let e = decode::<crate::model::SelectFilter>("a select filter", r#"{"plac_count": 3}"#)
        .expect_err("unknown field");
    assert_eq!(e.field.as_deref(), Some("plac_count"), "{e:?}");
    assert_eq!(e.correction, "Did you mean 'place_count'?");
    let e =
        decode::<crate::props::PropsModify>("a property change", r#"{"override_props": {"a": 1}}"#)
            .expect_err("wrong type");
    assert_eq!(e.field.as_deref(), Some("override_props.a"), "{e:?}");
}
