//! `LinkError`, the crate's one error type: one variant per thing a caller acts on (reconnect,
//! fix the key, upgrade a side, give up on a message).

use std::path::PathBuf;
use std::time::Duration;

use crate::config::VersionRange;

/// The fix every authentication failure names.
pub(crate) const KEY_FIX: &str =
    "fix: give the controller and every satellite the same cluster key file";

/// `Timeout::what` of `recv_timeout`.
pub(crate) const RECV_TIMEOUT: &str = "receive";

/// Why a link could not be set up or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// Reading from or writing to the stream failed; reconnect.
    #[error("link I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The peer closed the stream between two frames; reconnect.
    #[error("the peer closed the link")]
    Closed,
    /// The peer closed the stream in the middle of a frame; reconnect.
    #[error("the peer closed the link in the middle of a frame ({got} of {want} bytes)")]
    Truncated {
        /// Bytes of the frame received (length prefix included).
        got: u64,
        /// Bytes the frame needs (length prefix included; 4 while the prefix is incomplete).
        want: u64,
    },
    /// The peer announced a frame larger than the configured maximum: refused from its length
    /// prefix, before anything is allocated; the link is out of sync (reconnect).
    #[error("the peer announced a frame of {len} bytes, over the maximum of {max} bytes")]
    FrameTooLarge {
        /// The announced payload length.
        len: u64,
        /// The configured maximum.
        max: u32,
    },
    /// A message to send serializes to more than the configured maximum; nothing was written
    /// and the link stays usable.
    #[error("the message serializes to {len} bytes, over the maximum frame of {max} bytes")]
    MessageTooLarge {
        /// The serialized length.
        len: u64,
        /// The configured maximum.
        max: u32,
    },
    /// A whole frame arrived but its JSON is not a message of the expected type. The frame
    /// was consumed: the link stays in sync and the next `recv` reads the next frame.
    #[error("undecodable frame: {0}")]
    Decode(#[source] serde_json::Error),
    /// A message could not be serialized (e.g. a map with non-string keys); nothing was written.
    #[error("cannot encode the message: {0}")]
    Encode(#[source] serde_json::Error),
    /// The peer did not prove the cluster key, or refused our proof.
    #[error(
        "authentication failed: {detail}: the cluster key does not match (or the handshake was \
         altered in transit); {KEY_FIX}"
    )]
    AuthFailed {
        /// Which proof failed, seen from this side.
        detail: String,
    },
    /// The two sides have no protocol version in common.
    #[error(
        "no common link protocol version: this side speaks {ours}, the peer speaks {theirs}; \
         fix: upgrade the older of controller and satellite"
    )]
    VersionMismatch {
        /// This side's range.
        ours: VersionRange,
        /// The peer's range.
        theirs: VersionRange,
    },
    /// The peer proved the key but refused the link for another reason (e.g. it is not the
    /// node the controller thinks it is).
    #[error("the peer refused the link: {reason}")]
    Refused {
        /// The peer's reason.
        reason: String,
    },
    /// Nothing arrived in time.
    #[error("{what} timed out after {after:?}")]
    Timeout {
        /// What was waited for: `handshake`, `receive`, `TLS handshake`.
        what: &'static str,
        /// The limit.
        after: Duration,
    },
    /// The peer broke the protocol (not a linstor-link peer, unexpected message, a version
    /// choice that is not the highest common one, trailing bytes).
    #[error("protocol violation: {0}")]
    Protocol(String),
    /// An earlier `send` was cancelled or failed in the middle of a frame: the peer can no
    /// longer find frame boundaries; reconnect.
    #[error("an earlier send did not finish (cancelled or failed mid-frame); reconnect")]
    Interrupted,
    /// The cluster key file is unusable.
    #[error(
        "cluster key file {path}: {reason}; fix: put the same key of at least 32 bytes (e.g. 64 hex \
         digits from `openssl rand -hex 32`) in this file on the controller and every satellite"
    )]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A TLS certificate, key or CA file is unusable, or the TLS handshake failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// The operating system's random number generator failed.
    #[error("no randomness from the operating system: {0}")]
    Random(String),
}

impl LinkError {
    /// Whether an established link can still be used after this error from `send` or `recv`:
    /// a bad frame consumed whole, a message not sent, or a receive timeout leave it in sync;
    /// everything else means reconnect.
    #[must_use]
    pub fn link_usable(&self) -> bool {
        matches!(
            self,
            Self::Decode(_)
                | Self::Encode(_)
                | Self::MessageTooLarge { .. }
                | Self::Timeout {
                    what: RECV_TIMEOUT,
                    ..
                }
        )
    }
}
