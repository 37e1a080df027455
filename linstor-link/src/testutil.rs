//! Test helpers: message types shaped like the controller's and satellite's (serde `tag` and
//! `flatten`), their proptest strategies, linked pairs over `tokio::io::duplex`, and `Tap`, a
//! stream that records what is written through it.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};

use crate::{ClusterKey, Link, LinkConfig, LinkError, VersionRange};

/// A message like the controller's pushes and the satellite's reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Msg {
    FullSync {
        generation: u64,
        resources: Vec<Rsc>,
    },
    Report {
        generation: u64,
        #[serde(flatten)]
        extra: BTreeMap<String, String>,
    },
    Heartbeat,
}

/// A resource with flattened properties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Rsc {
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) size_kib: Option<u64>,
    #[serde(flatten)]
    pub(crate) props: BTreeMap<String, String>,
}

/// Arbitrary messages (property keys prefixed so they never collide with field names).
pub(crate) fn any_msg() -> impl Strategy<Value = Msg> {
    let props = || prop::collection::btree_map("p_[a-z0-9/]{0,12}", any::<String>(), 0..4);
    let rsc =
        (any::<String>(), any::<Option<u64>>(), props()).prop_map(|(name, size_kib, props)| Rsc {
            name,
            size_kib,
            props,
        });
    prop_oneof![
        (any::<u64>(), prop::collection::vec(rsc, 0..4)).prop_map(|(generation, resources)| {
            Msg::FullSync {
                generation,
                resources,
            }
        }),
        (any::<u64>(), props()).prop_map(|(generation, extra)| Msg::Report { generation, extra }),
        Just(Msg::Heartbeat),
    ]
}

pub(crate) fn key(byte: u8) -> ClusterKey {
    ClusterKey::from_bytes(&[byte; 32]).expect("32 bytes")
}

pub(crate) fn config(min: u32, max: u32) -> LinkConfig {
    LinkConfig {
        versions: VersionRange::new(min, max),
        ..LinkConfig::default()
    }
}

pub(crate) type TestLink = Link<Msg, Msg, DuplexStream>;

/// One side's setup for `pair`.
#[derive(Debug, Clone)]
pub(crate) struct Side {
    pub(crate) key: ClusterKey,
    pub(crate) config: LinkConfig,
}

impl Side {
    pub(crate) fn new(key_byte: u8, min: u32, max: u32) -> Self {
        Self {
            key: key(key_byte),
            config: config(min, max),
        }
    }
}

/// An acceptor and a connector handshaking over an in-memory duplex.
pub(crate) async fn pair(
    acceptor: &Side,
    connector: &Side,
    expect_node: Option<&str>,
    node_name: &str,
) -> (Result<TestLink, LinkError>, Result<TestLink, LinkError>) {
    let (a, c) = tokio::io::duplex(64 * 1024);
    tokio::join!(
        Link::accept(a, &acceptor.key, &acceptor.config, expect_node),
        Link::connect(c, &connector.key, &connector.config, node_name)
    )
}

/// A stream that records every byte written through it.
#[derive(Debug)]
pub(crate) struct Tap<S> {
    pub(crate) inner: S,
    pub(crate) written: Arc<Mutex<Vec<u8>>>,
}

impl<S> Tap<S> {
    pub(crate) fn new(inner: S) -> (Self, Arc<Mutex<Vec<u8>>>) {
        let written = Arc::new(Mutex::new(Vec::new()));
        let tap = Self {
            inner,
            written: Arc::clone(&written),
        };
        (tap, written)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &polled {
            self.written
                .lock()
                .expect("tap")
                .extend_from_slice(&buf[..*n]);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
