//! `Link`: an authenticated, framed connection carrying the caller's message types, set up by
//! `Link::accept` (satellite) or `Link::connect` (controller); and its halves `LinkReader` and
//! `LinkWriter` for a task that reads while another writes.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncWrite, ReadHalf, WriteHalf};

use crate::config::LinkConfig;
use crate::error::{LinkError, RECV_TIMEOUT};
use crate::frame::{FrameReader, FrameWriter};
use crate::handshake::{self, HANDSHAKE_MAX_FRAME, Settled};
use crate::key::ClusterKey;

/// Which end of the link this side is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Accepted the connection; speaks first in the handshake (the satellite).
    Acceptor,
    /// Opened the connection (the controller).
    Connector,
}

/// What the handshake settled; the same on both ends but for `role`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// The satellite's node name as the controller knows it (on the satellite: the name the
    /// controller calls it by, checked against its own if `accept` was given one).
    pub node_name: String,
    /// The negotiated message protocol version: the highest both sides speak.
    pub version: u32,
    /// This side's role.
    pub role: Role,
}

/// An authenticated link sending `Tx` and receiving `Rx` over the stream `S` (TCP, TLS, an
/// in-memory duplex: anything `AsyncRead + AsyncWrite + Unpin`).
///
/// Nothing is read from it before its handshake succeeded: the only ways to get a `Link` are
/// `accept` and `connect`, which return one only after both proofs verified.
pub struct Link<Tx, Rx, S> {
    reader: LinkReader<Rx, ReadHalf<S>>,
    writer: LinkWriter<Tx, WriteHalf<S>>,
}

/// The receiving half of a `Link`.
pub struct LinkReader<Rx, R> {
    frames: FrameReader<R>,
    info: LinkInfo,
    _rx: PhantomData<fn() -> Rx>,
}

/// The sending half of a `Link`.
pub struct LinkWriter<Tx, W> {
    frames: FrameWriter<W>,
    info: LinkInfo,
    _tx: PhantomData<fn(Tx)>,
}

impl<Tx, Rx, S> Link<Tx, Rx, S>
where
    Tx: Serialize,
    Rx: DeserializeOwned,
    S: AsyncRead + AsyncWrite + Unpin,
{
    /// Runs the acceptor's (satellite's) handshake on `stream`. With `expect_node`, a
    /// controller that calls this node by another name (case-insensitively) is refused.
    /// Everything is bounded by `config.handshake_timeout`.
    pub async fn accept(
        stream: S,
        key: &ClusterKey,
        config: &LinkConfig,
        expect_node: Option<&str>,
    ) -> Result<Self, LinkError> {
        let (mut r, mut w) = halves(stream);
        let run = handshake::accept(&mut r, &mut w, key, config, expect_node);
        let settled = within(config.handshake_timeout, run).await?;
        Ok(Self::established(r, w, config, settled, Role::Acceptor))
    }

    /// Runs the connector's (controller's) handshake on `stream`, naming the node it
    /// connects to by `node_name`. Bounded by `config.handshake_timeout`.
    pub async fn connect(
        stream: S,
        key: &ClusterKey,
        config: &LinkConfig,
        node_name: &str,
    ) -> Result<Self, LinkError> {
        let (mut r, mut w) = halves(stream);
        let run = handshake::connect(&mut r, &mut w, key, config, node_name);
        let settled = within(config.handshake_timeout, run).await?;
        Ok(Self::established(r, w, config, settled, Role::Connector))
    }

    fn established(
        mut r: FrameReader<ReadHalf<S>>,
        mut w: FrameWriter<WriteHalf<S>>,
        config: &LinkConfig,
        settled: Settled,
        role: Role,
    ) -> Self {
        r.set_max_frame(config.max_frame);
        w.set_max_frame(config.max_frame);
        let info = LinkInfo {
            node_name: settled.node_name,
            version: settled.version,
            role,
        };
        tracing::debug!(node = %info.node_name, version = info.version, ?role, "link established");
        Self {
            reader: LinkReader {
                frames: r,
                info: info.clone(),
                _rx: PhantomData,
            },
            writer: LinkWriter {
                frames: w,
                info,
                _tx: PhantomData,
            },
        }
    }

    /// Sends one message (see `LinkWriter::send`; not cancel-safe).
    pub async fn send(&mut self, msg: &Tx) -> Result<(), LinkError> {
        self.writer.send(msg).await
    }

    /// Receives one message (see `LinkReader::recv`; cancel-safe).
    pub async fn recv(&mut self) -> Result<Rx, LinkError> {
        self.reader.recv().await
    }

    /// Receives one message, or `Timeout` after `idle` without one (see
    /// `LinkReader::recv_timeout`).
    pub async fn recv_timeout(&mut self, idle: Duration) -> Result<Rx, LinkError> {
        self.reader.recv_timeout(idle).await
    }

    /// Shuts the sending direction down; the peer's `recv` then ends with `Closed`.
    pub async fn close(&mut self) -> Result<(), LinkError> {
        self.writer.close().await
    }

    /// What the handshake settled.
    pub fn info(&self) -> &LinkInfo {
        &self.reader.info
    }

    /// The satellite's node name as the controller knows it.
    pub fn node_name(&self) -> &str {
        &self.reader.info.node_name
    }

    /// The negotiated protocol version.
    pub fn version(&self) -> u32 {
        self.reader.info.version
    }

    /// The two halves, to read in one task while another writes.
    pub fn into_split(self) -> (LinkReader<Rx, ReadHalf<S>>, LinkWriter<Tx, WriteHalf<S>>) {
        (self.reader, self.writer)
    }
}

impl<Rx: DeserializeOwned, R: AsyncRead + Unpin> LinkReader<Rx, R> {
    /// The next message.
    ///
    /// Cancel-safe: dropping the future (in `select!`, or by a timeout) loses nothing; bytes
    /// of a partly received frame stay buffered and the next call completes it.
    /// `Closed` means the peer ended the link between frames; `Decode` means one frame did not
    /// decode as `Rx` and was skipped (the link stays usable, see `LinkError::link_usable`).
    pub async fn recv(&mut self) -> Result<Rx, LinkError> {
        self.frames.next().await
    }

    /// The next message, or `Timeout { what: "receive" }` when none completes within `idle`
    /// (the link stays usable: `recv` is cancel-safe). Use it as the heartbeat check: with the
    /// peer sending a heartbeat message every `idle / 3`, a timeout means the peer is gone.
    pub async fn recv_timeout(&mut self, idle: Duration) -> Result<Rx, LinkError> {
        tokio::time::timeout(idle, self.recv())
            .await
            .map_err(|_| LinkError::Timeout {
                what: RECV_TIMEOUT,
                after: idle,
            })?
    }

    /// What the handshake settled.
    pub fn info(&self) -> &LinkInfo {
        &self.info
    }
}

impl<Tx: Serialize, W: AsyncWrite + Unpin> LinkWriter<Tx, W> {
    /// Sends one message as one frame and flushes.
    ///
    /// Not cancel-safe: cancelled mid-write, part of a frame may be on the wire; every later
    /// send then fails with `Interrupted` (reconnect). So a send bounded by a timeout (a peer
    /// that stopped reading fills the socket buffer) that fires means: reconnect. A message
    /// over the maximum frame is refused with `MessageTooLarge` before anything is written.
    pub async fn send(&mut self, msg: &Tx) -> Result<(), LinkError> {
        self.frames.send(msg).await
    }

    /// Shuts the sending direction down; the peer's `recv` then ends with `Closed`.
    pub async fn close(&mut self) -> Result<(), LinkError> {
        self.frames.shutdown().await
    }

    /// What the handshake settled.
    pub fn info(&self) -> &LinkInfo {
        &self.info
    }
}

fn halves<S: AsyncRead + AsyncWrite>(
    stream: S,
) -> (FrameReader<ReadHalf<S>>, FrameWriter<WriteHalf<S>>) {
    let (r, w) = tokio::io::split(stream);
    (
        FrameReader::new(r, HANDSHAKE_MAX_FRAME),
        FrameWriter::new(w, HANDSHAKE_MAX_FRAME),
    )
}

async fn within<T>(
    limit: Duration,
    run: impl Future<Output = Result<T, LinkError>>,
) -> Result<T, LinkError> {
    tokio::time::timeout(limit, run)
        .await
        .map_err(|_| LinkError::Timeout {
            what: "handshake",
            after: limit,
        })?
}

impl<Tx, Rx, S> fmt::Debug for Link<Tx, Rx, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("info", &self.reader.info)
            .finish_non_exhaustive()
    }
}

impl<Rx, R> fmt::Debug for LinkReader<Rx, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkReader")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl<Tx, W> fmt::Debug for LinkWriter<Tx, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkWriter")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}
