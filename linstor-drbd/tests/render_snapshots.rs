//! insta snapshots of every `.res` scenario (see `common/scenarios.rs`), and the renderer's
//! refusals.

mod common;

use common::scenarios;
use linstor_drbd::{DrbdError, NodeRole, OptionValue, OptionWhitelist, Section};

#[test]
fn snapshots_of_every_scenario() {
    for (name, config) in scenarios::all() {
        let text = config
            .render(OptionWhitelist::builtin())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        insta::assert_snapshot!(name, text);
    }
}

#[test]
fn rendering_is_deterministic_whatever_the_input_order() {
    for (name, mut config) in scenarios::all() {
        let a = config.render(OptionWhitelist::builtin()).expect("renders");
        config.nodes.reverse();
        for n in &mut config.nodes {
            n.volumes.reverse();
        }
        config.connections.reverse();
        let b = config.render(OptionWhitelist::builtin()).expect("renders");
        assert_eq!(a, b, "{name}");
    }
}

/// Each broken input is refused before anything reaches drbdadm.
#[test]
fn invalid_input_is_refused() {
    let ok = || scenarios::options_at_every_level();
    let cases: Vec<(&str, linstor_drbd::ResConfig)> = vec![
        ("bad option value", {
            let mut c = ok();
            c.options
                .set(Section::Net, OptionValue::plain("max-buffers", "1"));
            c
        }),
        ("unknown option", {
            let mut c = ok();
            c.options
                .set(Section::Disk, OptionValue::plain("no-such-option", "1"));
            c
        }),
        ("bad enum in connection", {
            let mut c = ok();
            c.connections[0].net[0].value = "D".into();
            c
        }),
        ("secret as option", {
            let mut c = ok();
            c.options
                .set(Section::Net, OptionValue::plain("shared-secret", "x"));
            c
        }),
        ("quote in secret", {
            let mut c = ok();
            c.secret = "a\"b".into();
            c
        }),
        ("local node missing", {
            let mut c = ok();
            c.local_node = "zeta".into();
            c
        }),
        ("duplicate node id", {
            let mut c = ok();
            c.nodes[1].node_id = 0;
            c
        }),
        ("node id too large", {
            let mut c = ok();
            c.nodes[1].node_id = 32;
            c
        }),
        ("uname with blank", {
            let mut c = ok();
            c.nodes[1].uname = "be ta".into();
            c
        }),
        ("relative disk", {
            let mut c = ok();
            c.nodes[0].volumes[0].disk = Some("dev/sdb".into());
            c
        }),
        ("two settings for one peer", {
            let mut c = ok();
            let again = c.connections[0].clone();
            c.connections.push(again);
            c
        }),
        ("duplicate connection option", {
            let mut c = ok();
            c.connections[0]
                .net
                .push(OptionValue::plain("protocol", "B"));
            c
        }),
        ("duplicate volume option", {
            let mut c = ok();
            let o = OptionValue::plain("al-extents", "100");
            c.nodes[0].volumes[0].disk_options = vec![o.clone(), o];
            c
        }),
        ("connection to unknown peer", {
            let mut c = ok();
            c.connections[0].peer = "omega".into();
            c
        }),
    ];
    let mut report = String::new();
    for (what, config) in cases {
        let err = config.render(OptionWhitelist::builtin()).expect_err(what);
        let kind = match err {
            DrbdError::InvalidOption { .. } => "InvalidOption",
            DrbdError::InvalidConfig { .. } => "InvalidConfig",
            _ => "other",
        };
        report.push_str(&format!("{what}: {kind}: {err}\n"));
    }
    insta::assert_snapshot!(report);
}

#[test]
fn diskless_pairs_get_no_connection() {
    let c = scenarios::all()
        .into_iter()
        .find(|(n, _)| *n == "client_view_no_diskless_connection")
        .expect("scenario")
        .1;
    let peers: Vec<_> = c
        .connected_peers()
        .expect("peers")
        .iter()
        .map(|n| n.uname.clone())
        .collect();
    assert_eq!(peers, ["alpha", "beta"]);
    assert!(
        c.nodes
            .iter()
            .any(|n| n.role == NodeRole::TieBreaker && n.uname == "gamma")
    );
}
