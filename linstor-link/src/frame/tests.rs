//! Tests of the frame codec and the buffered stream halves: tables of malformed input,
//! cancel-safety, refusal before allocation, and proptests (no panic on any bytes,
//! encode → decode is the identity however the stream splits the bytes).

use std::time::Duration;

use proptest::prelude::*;
use tokio::io::AsyncWriteExt;

use super::*;
use crate::testutil::{Msg, Rsc, any_msg};

fn frame(payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap();
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

fn sample() -> Msg {
    Msg::FullSync {
        generation: 7,
        resources: vec![Rsc {
            name: "r1".into(),
            size_kib: Some(1024),
            props: [("p_DrbdOptions/auto-quorum".into(), "io-error".into())].into(),
        }],
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// `decode_frame` of `bytes` with a 1000-byte maximum: the message, or the error's text.
fn check_decode(bytes: &[u8], want: Result<Msg, &str>) {
    let got = decode_frame::<Msg>(bytes, 1000).map_err(|e| e.to_string());
    match (&got, &want) {
        (Ok(g), Ok(w)) => assert_eq!(g, w),
        (Err(g), Err(w)) => assert!(g.contains(w), "{bytes:?}: {g:?} lacks {w:?}"),
        _ => panic!("{bytes:?}: got {got:?}, want {want:?}"),
    }
}

#[test]
fn decode_frame_cases() {
    let good = encode_frame(&sample(), 1000).unwrap();
    check_decode(&good, Ok(sample()));
    check_decode(&frame(br#"{"type":"heartbeat"}"#), Ok(Msg::Heartbeat));
    check_decode(b"", Err("middle of a frame (0 of 4 bytes)"));
    check_decode(&[0, 0, 1], Err("(3 of 4 bytes)"));
    check_decode(&good[..good.len() - 1], Err("middle of a frame"));
    check_decode(
        &[0, 0, 3, 233],
        Err("frame of 1001 bytes, over the maximum of 1000"),
    );
    check_decode(&[0xff; 4], Err("4294967295 bytes"));
    check_decode(&frame(b"{not json"), Err("undecodable frame"));
    check_decode(&frame(br#"{"type":"nope"}"#), Err("unknown variant"));
    check_decode(&frame(b""), Err("undecodable frame"));
    let mut trailing = good.clone();
    trailing.push(0);
    check_decode(&trailing, Err("1 bytes after the end"));
}

#[test]
fn encoding_refuses_messages_over_the_maximum() {
    let len = encode_frame(&sample(), DEFAULT_MAX).unwrap().len() - HEADER_LEN;
    let max = u32::try_from(len).unwrap();
    assert!(encode_frame(&sample(), max).is_ok(), "exactly the maximum");
    let err = encode_frame(&sample(), max - 1).unwrap_err();
    assert!(
        matches!(err, LinkError::MessageTooLarge { len: l, max: m } if l == len as u64 && m == max - 1),
        "{err:?}"
    );
    let bad_key = std::collections::HashMap::from([((1, 2), 3)]);
    assert!(matches!(
        encode_frame(&bad_key, DEFAULT_MAX),
        Err(LinkError::Encode(_))
    ));
}

const DEFAULT_MAX: u32 = crate::DEFAULT_MAX_FRAME;

/// Everything `bytes` decodes to through a `FrameReader`, up to the terminal error.
async fn read_all(bytes: &[u8], max: u32) -> (Vec<Result<Msg, String>>, LinkError) {
    let mut r = FrameReader::new(bytes, max);
    let mut out = Vec::new();
    loop {
        match r.next::<Msg>().await {
            Ok(m) => out.push(Ok(m)),
            Err(LinkError::Decode(e)) => out.push(Err(e.to_string())),
            Err(e) => return (out, e),
        }
    }
}

#[tokio::test]
async fn the_reader_ends_with_closed_truncated_or_too_large() {
    let good = encode_frame(&sample(), DEFAULT_MAX).unwrap();
    let (msgs, end) = read_all(&good, DEFAULT_MAX).await;
    assert_eq!(msgs, [Ok(sample())]);
    assert!(matches!(end, LinkError::Closed), "{end:?}");

    let cut = &good[..good.len() - 3];
    let (msgs, end) = read_all(cut, DEFAULT_MAX).await;
    let want = good.len() as u64;
    assert!(msgs.is_empty());
    assert!(
        matches!(end, LinkError::Truncated { got, want: w } if got == want - 3 && w == want),
        "{end:?}"
    );

    let (_, end) = read_all(&good[..2], DEFAULT_MAX).await;
    assert!(
        matches!(end, LinkError::Truncated { got: 2, want: 4 }),
        "{end:?}"
    );

    let (_, end) = read_all(&[0, 0, 4, 0], 1000).await;
    assert!(
        matches!(
            end,
            LinkError::FrameTooLarge {
                len: 1024,
                max: 1000
            }
        ),
        "{end:?}"
    );
}

#[tokio::test]
async fn a_bad_frame_is_skipped_and_the_next_one_read() {
    let mut bytes = frame(b"garbage");
    bytes.extend(frame(br#"{"type":"report","generation":"x"}"#));
    bytes.extend(encode_frame(&Msg::Heartbeat, DEFAULT_MAX).unwrap());
    let (msgs, end) = read_all(&bytes, DEFAULT_MAX).await;
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert!(
        msgs[0]
            .as_ref()
            .is_err_and(|e| e.contains("expected value"))
    );
    assert!(msgs[1].as_ref().is_err_and(|e| e.contains("invalid type")));
    assert_eq!(msgs[2], Ok(Msg::Heartbeat));
    assert!(matches!(end, LinkError::Closed));
}

#[tokio::test]
async fn an_oversized_prefix_is_refused_before_allocating_or_waiting_for_the_body() {
    let (mut peer, ours) = tokio::io::duplex(1024);
    peer.write_all(&[0xff, 0xff, 0xff, 0xf0]).await.unwrap();
    // The peer stays open: the reader must not wait for 4 GiB that never come.
    let mut r = FrameReader::new(ours, DEFAULT_MAX);
    let err = r.next::<Msg>().await.unwrap_err();
    assert!(
        matches!(
            err,
            LinkError::FrameTooLarge {
                len: 0xffff_fff0,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        r.buffer_capacity() <= 2 * READ_CHUNK,
        "{}",
        r.buffer_capacity()
    );
}

/// Found by fuzzing: a length prefix under the maximum made the reader reserve the whole
/// announced frame (up to 64 MiB) before a byte of it arrived.
#[tokio::test]
async fn a_large_announced_frame_is_not_allocated_before_it_arrives() {
    for (prefix, body) in [
        (0x03ff_ffffu32, 0usize),
        (0x03ff_ffff, 100),
        (DEFAULT_MAX, 3 * READ_CHUNK),
        (30_331, 145),
    ] {
        let (mut peer, ours) = tokio::io::duplex(64 * 1024);
        peer.write_all(&prefix.to_be_bytes()).await.unwrap();
        peer.write_all(&vec![b' '; body]).await.unwrap();
        let mut r = FrameReader::new(ours, DEFAULT_MAX);
        let pending = tokio::time::timeout(Duration::from_millis(20), r.next::<Msg>()).await;
        assert!(pending.is_err(), "the frame is not complete");
        assert!(
            r.buffer_capacity() <= 2 * (HEADER_LEN + body) + 2 * READ_CHUNK,
            "{prefix} announced, {body} sent: {} reserved",
            r.buffer_capacity()
        );
    }
}

#[tokio::test]
async fn recv_is_cancel_safe_mid_frame() {
    let (mut peer, ours) = tokio::io::duplex(1024);
    let mut r = FrameReader::new(ours, DEFAULT_MAX);
    let bytes = encode_frame(&sample(), DEFAULT_MAX).unwrap();
    for half in [&bytes[..2], &bytes[2..10], &bytes[10..]] {
        let pending = tokio::time::timeout(Duration::from_millis(20), r.next::<Msg>()).await;
        assert!(pending.is_err(), "nothing complete yet");
        peer.write_all(half).await.unwrap();
    }
    assert_eq!(r.next::<Msg>().await.unwrap(), sample());
}

#[tokio::test]
async fn a_cancelled_send_poisons_the_writer() {
    // A 16-byte pipe nobody reads: the frame cannot be written whole.
    let (_peer, ours) = tokio::io::duplex(16);
    let mut w = FrameWriter::new(ours, DEFAULT_MAX);
    let cut = tokio::time::timeout(Duration::from_millis(20), w.send(&sample())).await;
    assert!(cut.is_err(), "the send cannot finish");
    let err = w.send(&Msg::Heartbeat).await.unwrap_err();
    assert!(matches!(err, LinkError::Interrupted), "{err:?}");
}

#[tokio::test]
async fn a_message_too_large_is_not_sent_and_the_writer_stays_usable() {
    let (peer, ours) = tokio::io::duplex(64 * 1024);
    let mut w = FrameWriter::new(ours, 40);
    let err = w.send(&sample()).await.unwrap_err();
    assert!(err.link_usable(), "{err:?}");
    w.send(&Msg::Heartbeat).await.unwrap();
    drop(w);
    let mut r = FrameReader::new(peer, 40);
    assert_eq!(r.next::<Msg>().await.unwrap(), Msg::Heartbeat);
    assert!(matches!(r.next::<Msg>().await, Err(LinkError::Closed)));
}

#[tokio::test]
async fn a_large_frame_is_read_whole_and_the_buffer_shrinks_after() {
    let big = Msg::Report {
        generation: 1,
        extra: [("p_blob".into(), "x".repeat(3 * KEEP_CAPACITY))].into(),
    };
    let mut bytes = encode_frame(&big, DEFAULT_MAX).unwrap();
    bytes.extend(encode_frame(&Msg::Heartbeat, DEFAULT_MAX).unwrap());
    let mut r = FrameReader::new(&bytes[..], DEFAULT_MAX);
    assert_eq!(r.next::<Msg>().await.unwrap(), big);
    assert!(
        r.buffer_capacity() <= KEEP_CAPACITY,
        "{}",
        r.buffer_capacity()
    );
    assert_eq!(r.next::<Msg>().await.unwrap(), Msg::Heartbeat);
}

/// Writes `bytes` in `chunk`-sized writes through a small pipe while reading frames.
async fn read_in_chunks(bytes: Vec<u8>, chunk: usize) -> Vec<Msg> {
    let (mut peer, ours) = tokio::io::duplex(chunk.max(8));
    let writer = async move {
        for c in bytes.chunks(chunk) {
            peer.write_all(c).await.unwrap();
        }
    };
    let reader = async {
        let mut r = FrameReader::new(ours, DEFAULT_MAX);
        let mut out = Vec::new();
        loop {
            match r.next::<Msg>().await {
                Ok(m) => out.push(m),
                Err(LinkError::Closed) => return out,
                Err(e) => panic!("{e}"),
            }
        }
    };
    tokio::join!(writer, reader).1
}

proptest! {
    #[test]
    fn decode_frame_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_frame::<Msg>(&bytes, 1000);
        let _ = decode_frame::<serde_json::Value>(&bytes, DEFAULT_MAX);
    }

    #[test]
    fn the_reader_never_panics_and_always_ends(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        framed in prop::collection::vec("[\\[\\]{}\":,a-z0-9 ]{0,24}", 0..6),
    ) {
        let mut all = bytes;
        for f in framed {
            all.extend(frame(f.as_bytes()));
        }
        let (_, end) = rt().block_on(read_all(&all, 1000));
        let terminal = matches!(
            end,
            LinkError::Closed | LinkError::Truncated { .. } | LinkError::FrameTooLarge { .. }
        );
        prop_assert!(terminal, "{:?}", end);
    }

    #[test]
    fn encode_then_decode_is_the_identity(msg in any_msg()) {
        let bytes = encode_frame(&msg, DEFAULT_MAX).unwrap();
        prop_assert_eq!(decode_frame::<Msg>(&bytes, DEFAULT_MAX).unwrap(), msg);
    }

    #[test]
    fn frames_survive_any_split_of_the_stream(
        msgs in prop::collection::vec(any_msg(), 0..5),
        chunk in 1usize..64,
    ) {
        let mut bytes = Vec::new();
        for m in &msgs {
            bytes.extend(encode_frame(m, DEFAULT_MAX).unwrap());
        }
        prop_assert_eq!(rt().block_on(read_in_chunks(bytes, chunk)), msgs);
    }
}

/// What the fuzz target's reader saw: the frames it handed out and its largest buffer.
async fn read_all_watching_capacity(bytes: &[u8], max: u32) -> (LinkError, usize) {
    let mut r = FrameReader::new(bytes, max);
    let mut largest = 0;
    loop {
        let got = r.next::<Msg>().await;
        largest = largest.max(r.buffer_capacity());
        match got {
            Ok(_) | Err(LinkError::Decode(_)) => {}
            Err(e) => return (e, largest),
        }
    }
}

const FRAME_WORDS: &[&str] = &[
    "\0\0\0\0",
    "\0\0\x03\x7f",
    "\x03\x7f\x7f\x7f",
    "\x04\0\0\0",
    "\x04\0\0\x01",
    "{\"type\":\"heartbeat\"}",
    "{\"type\":\"full_sync\",\"generation\":",
    "\"resources\":[",
    "\"size_kib\":",
    "null",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    "\"\\ud800\"",
];

#[test]
fn fuzz_frame_decoder_for_a_fixed_time() {
    let rt = rt();
    let mut two = encode_frame(&sample(), DEFAULT_MAX).unwrap();
    two.extend(encode_frame(&Msg::Heartbeat, DEFAULT_MAX).unwrap());
    let samples = vec![
        encode_frame(&sample(), DEFAULT_MAX).unwrap(),
        encode_frame(&Msg::Heartbeat, DEFAULT_MAX).unwrap(),
        two,
    ];
    let encoded = prop::collection::vec(any_msg(), 1..4)
        .prop_map(|ms| {
            linstor_fuzz::mutate::Bytes(
                ms.iter()
                    .flat_map(|m| encode_frame(m, DEFAULT_MAX).unwrap())
                    .collect(),
            )
        })
        .boxed();
    let strategy = prop_oneof![
        4 => linstor_fuzz::mutate::inputs(samples, FRAME_WORDS),
        1 => encoded.clone(),
        2 => (encoded, prop::collection::vec(linstor_fuzz::mutate::mutation(FRAME_WORDS), 1..4))
            .prop_map(|(mut b, ms)| {
                for m in &ms {
                    m.apply(&mut b.0);
                }
                b
            }),
    ];
    linstor_fuzz::fuzz(
        "link frames",
        strategy,
        |bytes: linstor_fuzz::mutate::Bytes| {
            // The pure decoder: an error or a message that encodes and decodes to itself.
            if let Ok(m) = decode_frame::<Msg>(&bytes, 1000) {
                let again = encode_frame(&m, DEFAULT_MAX).unwrap();
                prop_assert_eq!(decode_frame::<Msg>(&again, DEFAULT_MAX).unwrap(), m);
            }
            let _ = decode_frame::<serde_json::Value>(&bytes, DEFAULT_MAX);
            // The stream reader ends, and its buffer grows with what arrived, not with what a
            // length prefix announced (up to 64 MiB here).
            let (end, largest) = rt.block_on(read_all_watching_capacity(&bytes, DEFAULT_MAX));
            prop_assert!(
                matches!(
                    end,
                    LinkError::Closed
                        | LinkError::Truncated { .. }
                        | LinkError::FrameTooLarge { .. }
                ),
                "{:?}",
                end
            );
            prop_assert!(
                largest <= 2 * bytes.len() + 2 * READ_CHUNK,
                "a buffer of {} bytes for {} bytes of input",
                largest,
                bytes.len()
            );
            Ok(())
        },
    );
}
