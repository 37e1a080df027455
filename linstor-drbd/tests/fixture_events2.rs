//! Recorded `drbdsetup events2` streams (tests/fixtures/events2) replayed through the tracker.
//!
//! In the fixture files, `# checkpoint: <name>` records the status at that point and `# restart`
//! restarts the tracker (the events2 process was restarted); other `#` lines are comments.

use linstor_drbd::events2::{ConnState, DiskState, ReplState, Role};
use linstor_drbd::state::Tracker;

/// Replays a fixture: returns the tracker and a report of checkpoints and rejected lines.
fn replay(name: &str) -> (Tracker, Vec<(String, Tracker)>, String) {
    let path = format!(
        "{}/tests/fixtures/events2/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("fixture");
    let mut t = Tracker::new();
    let mut report = String::new();
    let mut checkpoints = Vec::new();
    for line in text.lines() {
        if let Some(cp) = line.strip_prefix("# checkpoint: ") {
            report.push_str(&format!("== {cp} ==\n"));
            if !t.is_ready() {
                report.push_str("  (initial dump not complete)\n");
            }
            if t.resources().is_empty() {
                report.push_str("  (no resources)\n");
            }
            for (rsc, r) in t.resources() {
                match t.status(rsc) {
                    Some(s) => report.push_str(&format!("  {s}\n")),
                    None => report.push_str(&format!("  {rsc}: no status yet (role {})\n", r.role)),
                }
            }
            t.check_consistency().expect("consistent at checkpoint");
            checkpoints.push((cp.to_owned(), t.clone()));
        } else if line == "# restart" {
            report.push_str("-- restart --\n");
            t.restart();
        } else if line.starts_with('#') {
            continue;
        } else if let Err(e) = t.feed_line(line) {
            report.push_str(&format!("  rejected: {e}\n"));
        }
    }
    (t, checkpoints, report)
}

fn at<'a>(cps: &'a [(String, Tracker)], name: &str) -> &'a Tracker {
    &cps.iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no checkpoint {name}"))
        .1
}

#[test]
fn fixture_full_lifecycle() {
    let (end, cps, report) = replay("lifecycle.txt");
    let summary = |cp: &str| at(&cps, cp).status("pvc-1").map(|s| s.summary());
    assert_eq!(
        summary("created").as_deref(),
        Some("Inconsistent, beta: Connecting, gamma: Connecting, no quorum")
    );
    assert_eq!(
        summary("syncing").as_deref(),
        Some("SyncTarget 42.17% from beta")
    );
    assert_eq!(summary("up_to_date").as_deref(), Some("UpToDate"));
    let primary = at(&cps, "primary").resource("pvc-1").expect("resource");
    assert_eq!(primary.role, Role::Primary);
    assert_eq!(
        summary("peer_lost").as_deref(),
        Some("UpToDate, beta: Connecting")
    );
    assert_eq!(
        summary("resync_after_reconnect").as_deref(),
        Some("UpToDate, SyncSource 61.00% to beta")
    );
    assert_eq!(summary("reconnected").as_deref(), Some("UpToDate"));
    let lost = at(&cps, "quorum_lost").resource("pvc-1").expect("resource");
    assert_eq!(lost.quorum(), Some(false));
    assert!(lost.suspended.any());
    assert_eq!(
        summary("quorum_lost").as_deref(),
        Some("UpToDate, beta: Connecting, gamma: Connecting, no quorum, suspended (quorum)")
    );
    assert_eq!(
        summary("quorum_regained").as_deref(),
        Some("UpToDate, gamma: Connecting")
    );
    let disc = at(&cps, "disconnected")
        .resource("pvc-1")
        .expect("resource");
    assert!(
        disc.connections
            .values()
            .all(|c| c.state == ConnState::StandAlone)
    );
    assert!(end.resource("pvc-1").is_none());
    assert_eq!(end.status("pvc-1"), None);
    let dev = at(&cps, "up_to_date")
        .resource("pvc-1")
        .and_then(|r| r.devices.get(&0))
        .cloned()
        .expect("device");
    assert_eq!(
        (dev.minor, dev.disk, dev.client),
        (Some(1000), DiskState::UpToDate, false)
    );
    let beta = at(&cps, "syncing")
        .resource("pvc-1")
        .and_then(|r| r.connections.get(&1))
        .cloned()
        .expect("beta");
    assert_eq!(beta.peer_devices[&0].replication, ReplState::SyncTarget);
    assert_eq!(end.malformed_lines(), 0);
    insta::assert_snapshot!(report);
}

#[test]
fn fixture_restarted_stream_replaces_all_state() {
    let (end, cps, report) = replay("restart.txt");
    let first = at(&cps, "first_stream");
    assert_eq!(
        first.status("pvc-1").map(|s| s.summary()).as_deref(),
        Some("SyncTarget 73.25% from beta")
    );
    assert_eq!(
        first.status("pvc-2").map(|s| s.summary()).as_deref(),
        Some("Diskless (client)")
    );
    // During the new dump nothing is reported yet.
    assert_eq!(
        at(&cps, "restarted_before_end_of_dump").status("pvc-1"),
        None
    );
    assert!(end.is_ready());
    assert!(
        end.resource("pvc-2").is_none(),
        "a resource missing from the new dump is gone"
    );
    assert_eq!(
        end.status("pvc-1").map(|s| s.summary()).as_deref(),
        Some("UpToDate")
    );
    insta::assert_snapshot!(report);
}

#[test]
fn fixture_malformed_lines_are_reported_not_fatal() {
    let (end, _, report) = replay("malformed.txt");
    assert_eq!(end.malformed_lines(), 5);
    let r = end.resource("pvc-3").expect("resource");
    assert_eq!(
        r.role,
        Role::Secondary,
        "the broken 'Primary' lines did not apply"
    );
    assert_eq!(r.devices[&0].disk, DiskState::UpToDate);
    assert_eq!(r.devices[&1].disk, DiskState::Outdated);
    insta::assert_snapshot!(report);
}
