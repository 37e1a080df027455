//! Tests of the handshake: version negotiation (table), wrong keys on both sides, a replayed
//! connector hello, downgrades and other tampering by a man in the middle, a keyed connector
//! that chooses a lower version, node names, non-linstor peers, the timeout, and proptest
//! fuzzing of both roles with arbitrary bytes.

use std::time::Duration;

use proptest::prelude::*;
use serde_json::Value;
use tokio::io::{AsyncWriteExt, DuplexStream};

use super::*;
use crate::testutil::{Side, Tap, TestLink, pair};
use crate::{Link, LinkError};

fn versions(r: &Result<TestLink, LinkError>) -> Result<u32, String> {
    r.as_ref().map(Link::version).map_err(ToString::to_string)
}

/// Acceptor range, connector range → the version both settle on, or both fail naming the
/// two ranges.
async fn check_versions(a: (u32, u32), c: (u32, u32), want: Option<u32>) {
    let (acc, con) = pair(&Side::new(1, a.0, a.1), &Side::new(1, c.0, c.1), None, "n1").await;
    let (va, vc) = (versions(&acc), versions(&con));
    match want {
        Some(v) => assert_eq!((va, vc), (Ok(v), Ok(v)), "{a:?} {c:?}"),
        None => {
            for (side, got, ours, theirs) in [("acceptor", va, a, c), ("connector", vc, c, a)] {
                let msg = got.unwrap_err();
                let o = format!("this side speaks versions {}..={}", ours.0, ours.1);
                let t = format!("the peer speaks versions {}..={}", theirs.0, theirs.1);
                assert!(msg.contains(&o) && msg.contains(&t), "{side}: {msg}");
            }
            assert!(matches!(acc, Err(LinkError::VersionMismatch { .. })));
            assert!(matches!(con, Err(LinkError::VersionMismatch { .. })));
        }
    }
}

#[tokio::test]
async fn versions_settle_on_the_highest_common_one() {
    check_versions((1, 1), (1, 1), Some(1)).await;
    check_versions((1, 3), (2, 5), Some(3)).await;
    check_versions((2, 5), (1, 3), Some(3)).await;
    check_versions((1, 9), (4, 4), Some(4)).await;
    check_versions((1, 2), (3, 4), None).await;
    check_versions((5, 6), (1, 4), None).await;
}

#[tokio::test]
async fn a_handshake_settles_name_version_and_roles() {
    let side = Side::new(1, 1, 2);
    let (acc, con) = pair(&side, &side, Some("alpha"), "Alpha").await;
    let (acc, con) = (acc.unwrap(), con.unwrap());
    assert_eq!((acc.node_name(), acc.version()), ("Alpha", 2));
    assert_eq!((con.node_name(), con.version()), ("Alpha", 2));
    assert_eq!(acc.info().role, crate::Role::Acceptor);
    assert_eq!(con.info().role, crate::Role::Connector);
}

#[tokio::test]
async fn a_wrong_key_is_refused_on_both_sides_with_the_fix() {
    let (acc, con) = pair(&Side::new(1, 1, 1), &Side::new(2, 1, 1), None, "n1").await;
    for (side, r, says) in [
        ("acceptor", acc, "the controller's proof"),
        ("connector", con, "the peer refused this side's proof"),
    ] {
        let err = r.unwrap_err();
        assert!(
            matches!(err, LinkError::AuthFailed { .. }),
            "{side}: {err:?}"
        );
        let msg = err.to_string();
        for part in [says, "cluster key does not match", "same cluster key file"] {
            assert!(msg.contains(part), "{side}: {msg:?} lacks {part:?}");
        }
    }
}

#[tokio::test]
async fn a_node_name_other_than_the_satellites_own_is_refused() {
    let side = Side::new(1, 1, 1);
    let (acc, con) = pair(&side, &side, Some("alpha"), "beta").await;
    for r in [acc, con] {
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.contains("\"alpha\"") && msg.contains("\"beta\""),
            "{msg}"
        );
        assert!(msg.contains("fix:"), "{msg}");
    }
}

/// The bytes a connector wrote in a successful handshake.
async fn recorded_connector_bytes(side: &Side) -> Vec<u8> {
    let (a, c) = tokio::io::duplex(64 * 1024);
    let (tap, written) = Tap::new(c);
    let (acc, con) = tokio::join!(
        Link::<(), (), _>::accept(a, &side.key, &side.config, None),
        Link::<(), (), _>::connect(tap, &side.key, &side.config, "n1"),
    );
    assert!(acc.is_ok() && con.is_ok(), "{acc:?} {con:?}");
    written.lock().unwrap().clone()
}

#[tokio::test]
async fn a_replayed_connector_hello_is_refused() {
    let side = Side::new(1, 1, 1);
    let recorded = recorded_connector_bytes(&side).await;
    let (a, mut attacker) = tokio::io::duplex(64 * 1024);
    let replay = async {
        attacker.write_all(&recorded).await.unwrap();
        attacker
    };
    let (acc, _attacker) = tokio::join!(
        Link::<(), (), _>::accept(a, &side.key, &side.config, None),
        replay
    );
    let err = acc.unwrap_err();
    assert!(matches!(err, LinkError::AuthFailed { .. }), "{err:?}");
}

/// A change a man in the middle makes to a handshake message.
type Tamper = fn(&mut Value);

/// A man in the middle that relays the three handshake frames, changing each with `tamper`.
async fn relay(mut from_acc: DuplexStream, mut from_con: DuplexStream, tamper: Tamper) {
    let hop = async |src: &mut DuplexStream, dst: &mut DuplexStream| {
        let mut r = FrameReader::new(src, HANDSHAKE_MAX_FRAME);
        let mut v: Value = r.next().await.ok()?;
        tamper(&mut v);
        FrameWriter::new(dst, HANDSHAKE_MAX_FRAME)
            .send(&v)
            .await
            .ok()
    };
    let _ = async {
        hop(&mut from_acc, &mut from_con).await?;
        hop(&mut from_con, &mut from_acc).await?;
        hop(&mut from_acc, &mut from_con).await
    }
    .await;
}

/// Both sides' results when a man in the middle applies `tamper`; both speak 1..=3.
async fn tampered(tamper: Tamper) -> [Result<u32, String>; 2] {
    let side = Side::new(1, 1, 3);
    let (a, ma) = tokio::io::duplex(64 * 1024);
    let (c, mc) = tokio::io::duplex(64 * 1024);
    let (acc, con, ()) = tokio::join!(
        Link::<(), (), _>::accept(a, &side.key, &side.config, None),
        Link::<(), (), _>::connect(c, &side.key, &side.config, "n1"),
        relay(ma, mc, tamper),
    );
    [acc, con].map(|r| r.map(|l| l.version()).map_err(|e| e.to_string()))
}

fn set(v: &mut Value, kind: &str, field: &str, to: Value) {
    if v["handshake"] == kind {
        v[field] = to;
    }
}

#[tokio::test]
async fn tampering_in_transit_is_refused() {
    let untouched = tampered(|_| {}).await;
    assert_eq!(untouched, [Ok(3), Ok(3)], "the relay itself works");
    let cases: [(&str, Tamper); 6] = [
        ("acceptor max lowered", |v| {
            set(v, "acceptor_hello", "max_version", 1.into());
        }),
        ("connector max lowered", |v| {
            set(v, "connector_hello", "max_version", 1.into());
            set(v, "connector_hello", "chosen_version", 1.into());
        }),
        ("chosen lowered", |v| {
            set(v, "connector_hello", "chosen_version", 2.into());
        }),
        ("node renamed", |v| {
            set(v, "connector_hello", "node_name", "n2".into());
        }),
        ("acceptor nonce replaced", |v| {
            set(v, "acceptor_hello", "nonce", "00".repeat(32).into());
        }),
        ("welcome forged", |v| {
            set(v, "welcome", "proof", "00".repeat(32).into());
        }),
    ];
    for (what, tamper) in cases {
        let [acc, con] = tampered(tamper).await;
        let con = con.expect_err(what);
        assert!(
            con.contains("authentication failed"),
            "{what}: connector: {con}"
        );
        if what != "welcome forged" {
            let acc = acc.expect_err(what);
            assert!(
                acc.contains("authentication failed"),
                "{what}: acceptor: {acc}"
            );
        }
    }
}

#[tokio::test]
async fn a_keyed_connector_choosing_a_lower_version_is_refused() {
    let side = Side::new(1, 1, 3);
    let (a, c) = tokio::io::duplex(64 * 1024);
    let downgrader = async {
        let (r, w) = tokio::io::split(c);
        let (mut r, mut w) = (FrameReader::new(r, 1 << 16), FrameWriter::new(w, 1 << 16));
        let Handshake::AcceptorHello(hello) = r.next().await.unwrap() else {
            panic!("no hello")
        };
        let t = Transcript {
            acceptor_nonce: hello.nonce,
            connector_nonce: [5; 32],
            acceptor_versions: VersionRange::new(1, 3),
            connector_versions: VersionRange::new(1, 3),
            chosen_version: 1,
            node_name: "n1",
        };
        let msg = Handshake::ConnectorHello(connector_hello(&side.key, &t));
        w.send(&msg).await.unwrap();
        r.next::<Handshake>().await
    };
    let (acc, answer) = tokio::join!(
        Link::<(), (), _>::accept(a, &side.key, &side.config, None),
        downgrader
    );
    let err = acc.unwrap_err();
    assert!(
        matches!(&err, LinkError::Protocol(m) if m.contains("chose version 1")),
        "{err:?}"
    );
    let refused = matches!(
        answer,
        Ok(Handshake::Refused(Refusal {
            code: RefusalCode::Protocol,
            ..
        }))
    );
    assert!(refused, "{answer:?}");
}

/// The acceptor's result when the peer writes `bytes` and then shuts its sending side.
async fn acceptor_fed(bytes: &[u8]) -> Result<TestLink, LinkError> {
    let side = Side::new(1, 1, 1);
    let (a, mut peer) = tokio::io::duplex(64 * 1024);
    peer.write_all(bytes).await.unwrap();
    peer.shutdown().await.unwrap();
    Link::accept(a, &side.key, &side.config, None).await
}

/// The connector's result when the peer writes `bytes` and then shuts its sending side.
async fn connector_fed(bytes: &[u8]) -> Result<TestLink, LinkError> {
    let side = Side::new(1, 1, 1);
    let (c, mut peer) = tokio::io::duplex(64 * 1024);
    peer.write_all(bytes).await.unwrap();
    peer.shutdown().await.unwrap();
    Link::connect(c, &side.key, &side.config, "n1").await
}

fn hs_frame(v: &Value) -> Vec<u8> {
    crate::encode_frame(v, u32::MAX).unwrap()
}

#[tokio::test]
async fn non_linstor_peers_are_refused() {
    let err = acceptor_fed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            LinkError::FrameTooLarge {
                max: HANDSHAKE_MAX_FRAME,
                ..
            }
        ),
        "{err:?}"
    );
    let err = acceptor_fed(b"").await.unwrap_err();
    assert!(matches!(err, LinkError::Closed), "{err:?}");
    let hello = serde_json::json!({"handshake": "acceptor_hello", "magic": "drbd",
        "min_version": 1, "max_version": 1, "nonce": "00".repeat(32)});
    let err = connector_fed(&hs_frame(&hello)).await.unwrap_err();
    assert!(
        matches!(&err, LinkError::Protocol(m) if m.contains("not a linstor-link peer")),
        "{err:?}"
    );
    let mut empty = hello.clone();
    empty["magic"] = MAGIC.into();
    empty["min_version"] = 2.into();
    let err = connector_fed(&hs_frame(&empty)).await.unwrap_err();
    assert!(
        matches!(&err, LinkError::Protocol(m) if m.contains("empty version range")),
        "{err:?}"
    );
    let noisy = serde_json::json!({"handshake": "refused", "code": "node_name",
        "reason": format!("line\nbreak{}", "x".repeat(5000))});
    let err = connector_fed(&hs_frame(&noisy)).await.unwrap_err();
    let LinkError::Refused { reason } = &err else {
        panic!("{err:?}")
    };
    assert!(
        reason.starts_with("linebreakxx") && reason.len() == MAX_PEER_REASON,
        "{reason}"
    );
    let welcome = serde_json::json!({"handshake": "welcome", "proof": "00".repeat(32)});
    let err = acceptor_fed(&hs_frame(&welcome)).await.unwrap_err();
    assert!(
        matches!(&err, LinkError::Protocol(m) if m.contains("got a welcome")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_silent_peer_times_the_handshake_out() {
    let mut side = Side::new(1, 1, 1);
    side.config.handshake_timeout = Duration::from_millis(50);
    let (a, _silent) = tokio::io::duplex(64 * 1024);
    let err = Link::<(), (), _>::accept(a, &side.key, &side.config, None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            LinkError::Timeout {
                what: "handshake",
                ..
            }
        ),
        "{err:?}"
    );
}

/// Arbitrary input: raw bytes, or frames of JSON-ish text, or handshake-shaped JSON.
fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
    let raw = prop::collection::vec(any::<u8>(), 0..300);
    let framed = prop::collection::vec("[\\[\\]{}\":,a-z_0-9 ]{0,40}", 1..4)
        .prop_map(|fs| fs.iter().flat_map(|f| hs_frame_raw(f.as_bytes())).collect());
    let shaped = (
        prop::sample::select(vec![
            "acceptor_hello",
            "connector_hello",
            "welcome",
            "refused",
        ]),
        any::<u32>(),
        any::<u32>(),
        "[0-9a-f]{0,70}",
        ".{0,20}",
    )
        .prop_map(|(kind, min, max, hex, name)| {
            hs_frame(&serde_json::json!({"handshake": kind, "magic": MAGIC,
                "min_version": min, "max_version": max, "nonce": hex, "proof": hex,
                "chosen_version": max, "node_name": name, "code": "key_mismatch",
                "reason": name}))
        });
    prop_oneof![raw, framed, shaped]
}

fn hs_frame_raw(payload: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(payload.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_bytes_never_pass_the_acceptor(bytes in hostile_bytes()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let got = rt.block_on(acceptor_fed(&bytes));
        prop_assert!(got.is_err(), "accepted {:?}", bytes);
    }

    #[test]
    fn arbitrary_bytes_never_pass_the_connector(bytes in hostile_bytes()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let got = rt.block_on(connector_fed(&bytes));
        prop_assert!(got.is_err(), "connected {:?}", bytes);
    }
}

/// The bytes an acceptor wrote in a successful handshake.
async fn recorded_acceptor_bytes(side: &Side) -> Vec<u8> {
    let (a, c) = tokio::io::duplex(64 * 1024);
    let (tap, written) = Tap::new(a);
    let (acc, con) = tokio::join!(
        Link::<(), (), _>::accept(tap, &side.key, &side.config, None),
        Link::<(), (), _>::connect(c, &side.key, &side.config, "n1"),
    );
    assert!(acc.is_ok() && con.is_ok(), "{acc:?} {con:?}");
    written.lock().unwrap().clone()
}

/// One side's result when the peer writes `bytes` (however many; written while the side
/// reads) and then shuts its sending side.
async fn fed(acceptor: bool, bytes: &[u8]) -> Result<TestLink, LinkError> {
    let side = Side::new(1, 1, 1);
    let (ours, mut peer) = tokio::io::duplex(64 * 1024);
    let write = async move {
        // The side may stop reading early (a refusal); the rest is then not written.
        let _ = peer.write_all(bytes).await;
        let _ = peer.shutdown().await;
        peer
    };
    let handshake = async {
        if acceptor {
            Link::accept(ours, &side.key, &side.config, None).await
        } else {
            Link::connect(ours, &side.key, &side.config, "n1").await
        }
    };
    let (got, _peer) = tokio::join!(handshake, write);
    got
}

const HANDSHAKE_WORDS: &[&str] = &[
    "\"handshake\":",
    "\"acceptor_hello\"",
    "\"connector_hello\"",
    "\"welcome\"",
    "\"refused\"",
    "\"min_version\":",
    "\"max_version\":",
    "\"chosen_version\":",
    "\"nonce\":",
    "\"proof\":",
    "\"node_name\":",
    "\"reason\":",
    "4294967295",
    "\0\0\0\0",
    "\0\x01\0\0",
    "\0\x01\0\x01",
];

#[test]
fn fuzz_handshake_for_a_fixed_time() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let side = Side::new(1, 1, 1);
    let samples = vec![
        rt.block_on(recorded_connector_bytes(&side)),
        rt.block_on(recorded_acceptor_bytes(&side)),
    ];
    let strategy = prop_oneof![
        4 => linstor_fuzz::mutate::inputs(samples, HANDSHAKE_WORDS),
        1 => hostile_bytes().prop_map(linstor_fuzz::mutate::Bytes),
    ];
    linstor_fuzz::fuzz("link handshake", strategy, |bytes| {
        // Without the cluster key nobody gets a link, whatever the bytes; each side ends.
        for acceptor in [true, false] {
            let got = rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(5), fed(acceptor, &bytes)).await
            });
            match got {
                Err(_) => return Err(TestCaseError::fail("the handshake did not end")),
                Ok(Ok(_)) => return Err(TestCaseError::fail("a link without the key")),
                Ok(Err(_)) => {}
            }
        }
        Ok(())
    });
}
