//! `linstor-link`: the controller–satellite transport.
//!
//! - Frames: a `u32` big-endian length and a JSON payload over any
//!   `AsyncRead + AsyncWrite + Unpin` stream (TCP, TLS, `tokio::io::duplex`), with a maximum
//!   frame size checked before allocating (`frame`).
//! - A handshake that proves the shared cluster key in both directions, bound to both sides'
//!   fresh nonces, version ranges, the chosen version and the node name: replayed and
//!   downgraded handshakes fail (`handshake`, `proof`, `key`).
//! - `Link<Tx, Rx, S>`: typed `send`/`recv` of the caller's message enums after the handshake,
//!   cancel-safe `recv`, `recv_timeout` as the heartbeat check, split halves (`link`).
//! - Optional TLS under it all (`tls`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), linstor_link::LinkError> {
//! use linstor_link::{ClusterKey, Link, LinkConfig};
//! let key = ClusterKey::load("/etc/linstor/cluster.key".as_ref())?;
//! let tcp = tokio::net::TcpStream::connect("10.0.0.2:3366").await?;
//! let mut link: Link<String, String, _> =
//!     Link::connect(tcp, &key, &LinkConfig::default(), "node-a").await?;
//! link.send(&"hello".to_string()).await?;
//! let answer = link.recv().await?;
//! # let _ = answer; Ok(()) }
//! ```

pub mod config;
pub mod error;
pub mod frame;
mod handshake;
pub mod key;
pub mod link;
mod proof;
pub mod tls;

pub use config::{DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_FRAME, LinkConfig, VersionRange};
pub use error::LinkError;
pub use frame::{decode_frame, encode_frame};
pub use key::{ClusterKey, MIN_KEY_LEN};
pub use link::{Link, LinkInfo, LinkReader, LinkWriter, Role};
pub use tls::{TlsAcceptor, TlsConnector, accept_tls, connect_tls, tls_acceptor, tls_connector};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;
