//! Time-bounded fuzzing (`linstor-fuzz`; `FUZZ_SECONDS`, `FUZZ_SEED`) of what linstor-drbd
//! reads from DRBD: `drbdsetup events2` lines through the parser and the tracker, and the
//! output of `drbdmeta get-gi`, `drbdmeta dump-md`, `drbdadm --version` and `/proc/drbd`.
//! Inputs are the recorded fixtures mutated, arbitrary bytes, and generated event lines.

use linstor_drbd::commands::{Gi, GiRecord, InitialGi};
use linstor_drbd::events2::{Event, parse_line};
use linstor_drbd::state::Tracker;
use linstor_drbd::version::{DrbdVersion, parse_drbdadm_version, parse_proc_drbd};
use linstor_fuzz::fuzz;
use linstor_fuzz::mutate::{Bytes, inputs, lines_of, lossy};
use proptest::prelude::*;

fn fixture(path: &str) -> Vec<u8> {
    let p = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// The events2 fixtures without their `#` test markers.
fn events2_samples() -> Vec<Vec<u8>> {
    ["lifecycle.txt", "restart.txt", "malformed.txt"]
        .iter()
        .map(|f| {
            let text = String::from_utf8(fixture(&format!("events2/{f}"))).unwrap();
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .map(|l| format!("{l}\n"))
                .collect::<String>()
                .into_bytes()
        })
        .collect()
}

const EVENTS2_WORDS: &[&str] = &[
    "exists",
    "create",
    "change",
    "destroy",
    "rename",
    "call",
    "response",
    "resource",
    "connection",
    "device",
    "peer-device",
    "path",
    "helper",
    " - ",
    "exists -\n",
    "name:",
    " name:r",
    " new_name:",
    " peer-node-id:",
    " peer-node-id:32",
    " volume:",
    " minor:",
    " done:",
    " done:100.00",
    " done:100.01",
    " done:.5",
    " replication:SyncTarget",
    " replication:",
    " role:",
    " suspended:",
    " suspended:,",
    " may_promote:maybe",
    " conn-name:",
    " disk:UpToDate",
    "2026-11-22T03:10:00.100012+00:00 ",
    "0000000000T",
    "::",
];

/// A generated line: an optional timestamp, an action, an object and fields from the
/// grammar's words with values that are sometimes wrong.
fn event_line() -> impl Strategy<Value = Vec<u8>> {
    let field = (
        prop::sample::select(vec![
            "name",
            "new_name",
            "peer-node-id",
            "volume",
            "minor",
            "done",
            "role",
            "disk",
            "replication",
            "connection",
            "peer-disk",
            "client",
            "peer-client",
            "quorum",
            "suspended",
            "may_promote",
            "promotion_score",
            "conn-name",
        ]),
        prop_oneof![
            prop::sample::select(vec![
                "",
                "0",
                "1",
                "31",
                "32",
                "255",
                "65535",
                "65536",
                "yes",
                "no",
                "r0",
                "pvc-1",
                "Primary",
                "UpToDate",
                "SyncTarget",
                "Connected",
                "42.17",
                "100.00",
                "user,quorum",
            ])
            .prop_map(str::to_owned),
            "[a-zA-Z0-9.:,_-]{0,12}",
        ],
    )
        .prop_map(|(k, v)| format!("{k}:{v}"));
    (
        proptest::option::of(Just("2026-11-22T03:10:00.100012+00:00")),
        prop::sample::select(vec![
            "exists", "create", "change", "destroy", "rename", "call",
        ]),
        prop::sample::select(vec![
            "resource",
            "connection",
            "device",
            "peer-device",
            "path",
            "helper",
            "-",
        ]),
        prop::collection::vec(field, 0..8),
    )
        .prop_map(|(ts, action, object, fields)| {
            let mut line = ts.map(|t| format!("{t} ")).unwrap_or_default();
            line.push_str(&format!("{action} {object}"));
            for f in fields {
                line.push(' ');
                line.push_str(&f);
            }
            line.push('\n');
            line.into_bytes()
        })
}

fn one_event(line: &str) -> Result<Option<Event>, TestCaseError> {
    Ok(parse_line(line).ok().flatten())
}

/// A parsed line prints as one line that parses back to the same event.
fn round_trips(e: &Event) -> Result<(), TestCaseError> {
    let text = e.to_string();
    prop_assert!(!text.contains('\n'), "{text:?}");
    let again = parse_line(&text);
    prop_assert!(
        matches!(&again, Ok(Some(a)) if a == e),
        "{e:?} prints as {text:?}, which parses as {again:?}"
    );
    Ok(())
}

#[test]
fn fuzz_events2_parser_for_a_fixed_time() {
    let samples = events2_samples();
    let mut line_samples = lines_of(&samples);
    line_samples.extend(samples.iter().cloned());
    let strategy = prop_oneof![
        4 => inputs(samples, EVENTS2_WORDS),
        2 => inputs(line_samples, EVENTS2_WORDS),
        2 => prop::collection::vec(event_line(), 1..12).prop_map(|ls| Bytes(ls.concat())),
    ];
    fuzz("events2", strategy, |bytes| {
        let text = lossy(&bytes);
        let mut t = Tracker::new();
        for line in text.lines() {
            if let Some(e) = one_event(line)? {
                round_trips(&e)?;
            }
            let fed = t.feed_line(line);
            prop_assert_eq!(fed.is_ok(), parse_line(line).is_ok());
            if let Err(why) = t.check_consistency() {
                return Err(TestCaseError::fail(format!("after {line:?}: {why}")));
            }
        }
        // The tracker's dump, printed and read back by a fresh tracker, is the same state.
        let mut fresh = Tracker::new();
        for e in t.dump() {
            let line = e.to_string();
            prop_assert!(
                fresh.feed_line(&line).is_ok(),
                "dump line {line:?} does not parse"
            );
        }
        if t.is_ready() {
            prop_assert_eq!(fresh.resources(), t.resources());
        }
        Ok(())
    });
}

const DRBDMETA_WORDS: &[&str] = &[
    "peer[32] {\n",
    "peer[0] {\n",
    "}\n",
    "current-uuid 0x",
    "flags 0x",
    "flags 0xFFFFFFFFF;",
    "bitmap-uuid ",
    ";",
    ":",
    ":1",
    ":2",
    "DRBDADM_VERSION=",
    "DRBD_KERNEL_VERSION=",
    "version: ",
    "0x",
    "FFFFFFFFFFFFFFFFF",
];

#[test]
fn fuzz_drbd_tool_output_for_a_fixed_time() {
    let dump = fixture("drbdmeta/dump-md-fresh-7-peers.txt");
    let samples = vec![
        dump.clone(),
        fixture("proc/drbd-9.2.12"),
        fixture("proc/drbd-8.4.11"),
        b"AAAAAAAAAAAAAAAA:CCCCCCCCCCCCCCCC:0000000000000000:0000000000000000:1:1:0:0:1:0:0:0\n"
            .to_vec(),
        b"DRBDADM_BUILDTAG=GIT-hash:\\ 1\nDRBDADM_API_VERSION=2\nDRBD_KERNEL_VERSION_CODE=0x09020c\nDRBD_KERNEL_VERSION=9.2.12\nDRBDADM_VERSION_CODE=0x091d00\nDRBDADM_VERSION=9.29.0\n"
            .to_vec(),
    ];
    // The dump with more peer slots than a u8 counts (a counter that overflowed would wrap
    // back to the expected 32).
    let mut many = Vec::new();
    let peer = b"peer[0] {\n    bitmap-uuid 0x0000000000000000;\n}\n";
    many.extend_from_slice(&dump);
    for _ in 0..(256 - 32) {
        many.extend_from_slice(peer);
    }
    let mut samples_all = samples;
    samples_all.push(many);
    fuzz(
        "drbd tool output",
        inputs(samples_all, DRBDMETA_WORDS),
        |bytes| {
            let text = lossy(&bytes);
            let day0 = Gi(0x1234);
            for rule in [
                InitialGi::Winner {
                    new_current: Gi(0xABCD),
                },
                InitialGi::ThinLoser,
            ] {
                if let Ok(Some(out)) = rule.rewrite_fresh_dump(day0, &text) {
                    // Rewriting is idempotent, and the rewritten dump still has 32 slots.
                    let again = rule.rewrite_fresh_dump(day0, &out);
                    prop_assert!(
                        matches!(&again, Ok(Some(a)) if *a == out),
                        "rewrite is not idempotent: {again:?}"
                    );
                    let slots = out
                        .lines()
                        .filter(|l| l.trim().starts_with("peer[") && l.trim().ends_with('{'))
                        .count();
                    prop_assert_eq!(slots, 32);
                }
            }
            if let Ok(r) = GiRecord::parse(&text) {
                // A record prints back (upper-case hex, 0/1 flags) to the same record.
                let mut line = format!(
                    "{}:{}:{}:{}",
                    r.current, r.bitmap, r.history[0], r.history[1]
                );
                for f in &r.flags {
                    line.push_str(if *f { ":1" } else { ":0" });
                }
                prop_assert_eq!(GiRecord::parse(&line).ok(), Some(r));
            }
            for word in text.split([':', '\n', ' ']) {
                if let Some(g) = Gi::parse(word) {
                    prop_assert_eq!(Gi::parse(&g.to_string()), Some(g));
                }
                if let Some(v) = DrbdVersion::parse(word) {
                    prop_assert_eq!(DrbdVersion::parse(&v.to_string()), Some(v));
                }
            }
            let _ = parse_drbdadm_version(&text);
            let _ = parse_proc_drbd(&text);
            Ok(())
        },
    );
}
