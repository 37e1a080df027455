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
//! use std::time::Duration;
//! use linstor_link::{ClusterKey, Link, LinkConfig, LinkError};
//! use serde::{Deserialize, Serialize};
//! use tokio::net::{TcpListener, TcpStream};
//!
//! #[derive(Serialize, Deserialize)]
//! #[serde(tag = "type")]
//! enum ToSatellite { FullSync { generation: u64 }, Heartbeat }
//! #[derive(Serialize, Deserialize)]
//! #[serde(tag = "type")]
//! enum ToController { Report { generation: u64 }, Heartbeat }
//!
//! /// The satellite accepts; a controller that names it other than `node-a` is refused.
//! async fn satellite(key: ClusterKey) -> Result<(), LinkError> {
//!     let (tcp, _) = TcpListener::bind("0.0.0.0:3366").await?.accept().await?;
//!     let mut link: Link<ToController, ToSatellite, _> =
//!         Link::accept(tcp, &key, &LinkConfig::default(), Some("node-a")).await?;
//!     loop {
//!         let answer = match link.recv_timeout(Duration::from_secs(30)).await? {
//!             ToSatellite::FullSync { generation } => ToController::Report { generation },
//!             ToSatellite::Heartbeat => ToController::Heartbeat,
//!         };
//!         link.send(&answer).await?;
//!     }
//! }
//!
//! /// The controller connects, then writes from one task while reading in another.
//! async fn controller(key: ClusterKey) -> Result<(), LinkError> {
//!     let tcp = TcpStream::connect("10.0.0.2:3366").await?;
//!     let link: Link<ToSatellite, ToController, _> =
//!         Link::connect(tcp, &key, &LinkConfig::default(), "node-a").await?;
//!     assert_eq!(link.version(), 1);
//!     let (mut rx, mut tx) = link.into_split();
//!     tokio::spawn(async move { tx.send(&ToSatellite::FullSync { generation: 1 }).await });
//!     let ToController::Report { generation } = rx.recv().await? else { return Ok(()) };
//!     assert_eq!(generation, 1);
//!     Ok(())
//! }
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
