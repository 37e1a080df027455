//! Property tests of the events2 parser and tracker over random, valid event interleavings.

use linstor_drbd::events2::{
    Action, ConnState, ConnectionEvent, DeviceEvent, DiskState, Event, Object, PeerDeviceEvent,
    Percent, ReplState, ResourceEvent, Role, Suspended, parse_line,
};
use linstor_drbd::state::Tracker;
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["pvc-a", "pvc-b", "r_3"]).prop_map(str::to_owned)
}

fn action() -> impl Strategy<Value = Action> {
    prop::sample::select(vec![
        Action::Exists,
        Action::Create,
        Action::Change,
        Action::Change,
        Action::Destroy,
    ])
}

fn role() -> impl Strategy<Value = Role> {
    prop::sample::select(vec![Role::Primary, Role::Secondary, Role::Unknown])
}

fn disk() -> impl Strategy<Value = DiskState> {
    prop::sample::select(vec![
        DiskState::Diskless,
        DiskState::Attaching,
        DiskState::Inconsistent,
        DiskState::Outdated,
        DiskState::DUnknown,
        DiskState::UpToDate,
        DiskState::Other("Frobnicated".into()),
    ])
}

fn conn_state() -> impl Strategy<Value = ConnState> {
    prop::sample::select(vec![
        ConnState::StandAlone,
        ConnState::Connecting,
        ConnState::Connected,
        ConnState::NetworkFailure,
        ConnState::Disconnecting,
    ])
}

fn repl() -> impl Strategy<Value = ReplState> {
    prop::sample::select(vec![
        ReplState::Off,
        ReplState::Established,
        ReplState::WFBitMapT,
        ReplState::SyncSource,
        ReplState::SyncTarget,
        ReplState::PausedSyncT,
        ReplState::Ahead,
    ])
}

fn suspended() -> impl Strategy<Value = Suspended> {
    prop::sample::select(vec![
        vec![],
        vec!["user"],
        vec!["quorum"],
        vec!["user", "quorum"],
    ])
    .prop_map(|v| Suspended(v.into_iter().map(str::to_owned).collect()))
}

fn object() -> impl Strategy<Value = Object> {
    prop_oneof![
        (
            name(),
            prop::option::of(role()),
            prop::option::of(suspended()),
            prop::option::of(any::<bool>()),
            prop::option::of(0u64..20000)
        )
            .prop_map(|(name, role, suspended, may_promote, promotion_score)| {
                Object::Resource(ResourceEvent {
                    name,
                    role,
                    suspended,
                    may_promote,
                    promotion_score,
                    new_name: None,
                })
            }),
        (
            name(),
            0u8..4,
            prop::option::of(conn_state()),
            prop::option::of(role())
        )
            .prop_map(
                |(name, id, connection, role)| Object::Connection(ConnectionEvent {
                    name,
                    peer_node_id: id,
                    conn_name: Some(format!("node{id}")),
                    connection,
                    role
                })
            ),
        (
            name(),
            0u16..2,
            prop::option::of(disk()),
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>())
        )
            .prop_map(
                |(name, volume, disk, client, quorum)| Object::Device(DeviceEvent {
                    name,
                    volume,
                    minor: Some(1000 + u32::from(volume)),
                    disk,
                    client,
                    quorum
                })
            ),
        (
            name(),
            0u8..4,
            0u16..2,
            prop::option::of(repl()),
            prop::option::of(disk()),
            prop::option::of(any::<bool>()),
            prop::option::of(0u16..=10000)
        )
            .prop_map(
                |(name, id, volume, replication, peer_disk, peer_client, done)| Object::PeerDevice(
                    PeerDeviceEvent {
                        name,
                        peer_node_id: id,
                        conn_name: Some(format!("node{id}")),
                        volume,
                        replication,
                        peer_disk,
                        peer_client,
                        done: done.map(Percent),
                    }
                )
            ),
    ]
}

fn event() -> impl Strategy<Value = Event> {
    (action(), object()).prop_map(|(action, object)| Event {
        timestamp: None,
        action,
        object,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Printing an event and parsing it back gives the same event.
    #[test]
    fn events_round_trip_through_the_line_format(e in event()) {
        let line = e.to_string();
        let parsed = parse_line(&line).map_err(|err| TestCaseError::fail(format!("{line}: {err}")))?;
        prop_assert_eq!(parsed, Some(e));
    }

    /// Any interleaving of valid events (with the end of the dump anywhere) keeps the tracker
    /// consistent after every step, and its own dump rebuilds exactly the same state.
    #[test]
    fn any_interleaving_keeps_the_tracker_consistent(
        events in prop::collection::vec(event(), 0..80),
        dump_end in 0usize..80,
        restart_at in prop::option::of(0usize..80),
    ) {
        let mut t = Tracker::new();
        for (i, e) in events.into_iter().enumerate() {
            if i == dump_end {
                t.feed_line("exists -").map_err(|err| TestCaseError::fail(err.to_string()))?;
            }
            if restart_at == Some(i) {
                t.restart();
                t.feed_line("exists -").map_err(|err| TestCaseError::fail(err.to_string()))?;
            }
            t.feed_line(&e.to_string()).map_err(|err| TestCaseError::fail(format!("{e}: {err}")))?;
            t.check_consistency().map_err(TestCaseError::fail)?;
        }
        t.feed_line("exists -").map_err(|err| TestCaseError::fail(err.to_string()))?;
        t.check_consistency().map_err(TestCaseError::fail)?;
        for name in t.resources().keys() {
            let status = t.status(name);
            prop_assert!(status.is_some());
            let _ = status.map(|s| s.summary());
        }
        let mut fresh = Tracker::new();
        for e in t.dump() {
            fresh.feed_line(&e.to_string()).map_err(|err| TestCaseError::fail(format!("{e}: {err}")))?;
        }
        prop_assert!(fresh.is_ready());
        prop_assert_eq!(fresh.resources(), t.resources());
    }

    /// Arbitrary input never panics; it is either parsed or reported.
    #[test]
    fn arbitrary_lines_never_panic(line in "\\PC{0,80}") {
        let mut t = Tracker::new();
        let _ = t.feed_line(&line);
        let _ = t.feed_line("exists -");
        let _ = t.feed_line(&line);
        t.check_consistency().map_err(TestCaseError::fail)?;
    }

    /// Lines made of events2-like tokens never panic either.
    #[test]
    fn token_soup_never_panics(tokens in prop::collection::vec(
        prop::sample::select(vec!["exists", "change", "destroy", "resource", "device", "peer-device", "connection", "-",
            "name:x", "volume:0", "volume:-1", "peer-node-id:99", "peer-node-id:1", "done:", "done:100.00", "done:1e9",
            "disk:", "role:Primary", "client:", "quorum:maybe", ":", "minor:4294967296", "2026-11-22T03:10:00.1+00:00"]),
        0..10,
    )) {
        let mut t = Tracker::new();
        let _ = t.feed_line(&tokens.join(" "));
        t.check_consistency().map_err(TestCaseError::fail)?;
    }
}
