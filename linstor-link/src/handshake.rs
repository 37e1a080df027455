//! The handshake, both roles. The acceptor (satellite) speaks first:
//!
//! ```text
//! acceptor  -> AcceptorHello  {magic, min_version, max_version, nonce_a}
//! connector -> ConnectorHello {magic, min_version, max_version, nonce_c,
//!                              chosen_version, node_name, proof_c}     (or Refused)
//! acceptor  -> Welcome {proof_a}                                       (or Refused)
//! ```
//!
//! Each proof is an HMAC under the cluster key over the whole transcript (`proof`). The
//! acceptor checks the connector's proof before anything else it received is trusted, then
//! that the chosen version is the highest common one and, if it was told its name, the node
//! name; the connector checks the acceptor's proof. Handshake frames are limited to
//! `HANDSHAKE_MAX_FRAME` bytes, so an unauthenticated peer cannot make either side allocate
//! more.

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::config::{LinkConfig, VersionRange};
use crate::error::LinkError;
use crate::frame::{FrameReader, FrameWriter};
use crate::key::{ClusterKey, fill_random};
use crate::proof::{self, Nonce, Proof, Prover, Transcript};

/// The first field of every hello: tells a linstor-link peer from anything else.
pub(crate) const MAGIC: &str = "linstor-link";

/// The largest handshake frame accepted (the real ones are a few hundred bytes).
pub(crate) const HANDSHAKE_MAX_FRAME: u32 = 64 * 1024;

/// The most characters of a peer's refusal reason kept.
const MAX_PEER_REASON: usize = 400;

/// The longest node name accepted in a hello.
const MAX_NODE_NAME: usize = 255;

/// A handshake message on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "handshake", rename_all = "snake_case")]
pub(crate) enum Handshake {
    AcceptorHello(AcceptorHello),
    ConnectorHello(ConnectorHello),
    Welcome {
        #[serde(with = "hex_bytes")]
        proof: Proof,
    },
    Refused(Refusal),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AcceptorHello {
    pub(crate) magic: String,
    pub(crate) min_version: u32,
    pub(crate) max_version: u32,
    #[serde(with = "hex_bytes")]
    pub(crate) nonce: Nonce,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ConnectorHello {
    pub(crate) magic: String,
    pub(crate) min_version: u32,
    pub(crate) max_version: u32,
    #[serde(with = "hex_bytes")]
    pub(crate) nonce: Nonce,
    pub(crate) chosen_version: u32,
    pub(crate) node_name: String,
    #[serde(with = "hex_bytes")]
    pub(crate) proof: Proof,
}

/// Why a side refuses; unauthenticated (a refusal only ever ends a handshake).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Refusal {
    pub(crate) code: RefusalCode,
    pub(crate) reason: String,
    /// The refusing side's versions (with `VersionMismatch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) versions: Option<VersionRange>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RefusalCode {
    KeyMismatch,
    VersionMismatch,
    NodeName,
    Protocol,
    #[serde(other)]
    Other,
}

/// What a successful handshake settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settled {
    pub(crate) node_name: String,
    pub(crate) version: u32,
}

/// The acceptor's side: hello, check the connector's hello, welcome.
pub(crate) async fn accept<R, W>(
    r: &mut FrameReader<R>,
    w: &mut FrameWriter<W>,
    key: &ClusterKey,
    config: &LinkConfig,
    expect_node: Option<&str>,
) -> Result<Settled, LinkError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let ours = config.versions;
    let nonce = nonce()?;
    let hello = AcceptorHello {
        magic: MAGIC.into(),
        min_version: ours.min,
        max_version: ours.max,
        nonce,
    };
    w.send(&Handshake::AcceptorHello(hello)).await?;
    let c = recv_connector_hello(r, w, ours).await?;
    let theirs = check_hello(w, &c.magic, c.min_version, c.max_version).await?;
    let t = Transcript {
        acceptor_nonce: nonce,
        connector_nonce: c.nonce,
        acceptor_versions: ours,
        connector_versions: theirs,
        chosen_version: c.chosen_version,
        node_name: &c.node_name,
    };
    check_connector(w, key, &t, &c.proof, expect_node).await?;
    let proof = proof::prove(key, Prover::Acceptor, &t);
    w.send(&Handshake::Welcome { proof }).await?;
    Ok(Settled {
        node_name: c.node_name,
        version: c.chosen_version,
    })
}

async fn recv_connector_hello<R, W>(
    r: &mut FrameReader<R>,
    w: &mut FrameWriter<W>,
    ours: VersionRange,
) -> Result<ConnectorHello, LinkError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    match r.next::<Handshake>().await? {
        Handshake::ConnectorHello(c) => Ok(c),
        Handshake::Refused(x) => Err(refused(x, ours)),
        other => refuse_protocol(w, &format!("expected a connector hello, got {other}")).await,
    }
}

/// The acceptor's checks of a connector hello, the proof first: only a proven hello's choice
/// and name are looked at.
async fn check_connector<W: AsyncWrite + Unpin>(
    w: &mut FrameWriter<W>,
    key: &ClusterKey,
    t: &Transcript<'_>,
    proof: &Proof,
    expect_node: Option<&str>,
) -> Result<(), LinkError> {
    if !proof::verify(key, Prover::Connector, t, proof) {
        let reason = "the controller's proof of the cluster key does not verify";
        send_refusal(w, RefusalCode::KeyMismatch, reason, None).await;
        return Err(LinkError::AuthFailed {
            detail: reason.into(),
        });
    }
    let highest = t.acceptor_versions.highest_common(t.connector_versions);
    if highest != Some(t.chosen_version) {
        let why = format!(
            "the controller chose version {} where {} and {} have {highest:?} as highest common",
            t.chosen_version, t.acceptor_versions, t.connector_versions
        );
        return refuse_protocol(w, &why).await;
    }
    check_node_name(w, t.node_name, expect_node).await
}

async fn check_node_name<W: AsyncWrite + Unpin>(
    w: &mut FrameWriter<W>,
    got: &str,
    expect: Option<&str>,
) -> Result<(), LinkError> {
    if got.is_empty() || got.len() > MAX_NODE_NAME {
        return refuse_protocol(w, &format!("node name of {} bytes", got.len())).await;
    }
    match expect {
        Some(want) if !want.eq_ignore_ascii_case(got) => {
            let reason = format!(
                "this satellite is node {want:?} but the controller connected to it as {got:?}; \
                 fix: correct the node's name or address on the controller, or the satellite's \
                 node name"
            );
            send_refusal(w, RefusalCode::NodeName, &reason, None).await;
            Err(LinkError::Refused { reason })
        }
        _ => Ok(()),
    }
}

/// The connector's side: read the hello, choose, prove, check the welcome.
pub(crate) async fn connect<R, W>(
    r: &mut FrameReader<R>,
    w: &mut FrameWriter<W>,
    key: &ClusterKey,
    config: &LinkConfig,
    node_name: &str,
) -> Result<Settled, LinkError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let ours = config.versions;
    let a = recv_acceptor_hello(r, w, ours).await?;
    let theirs = check_hello(w, &a.magic, a.min_version, a.max_version).await?;
    let chosen = choose(w, ours, theirs).await?;
    let t = Transcript {
        acceptor_nonce: a.nonce,
        connector_nonce: nonce()?,
        acceptor_versions: theirs,
        connector_versions: ours,
        chosen_version: chosen,
        node_name,
    };
    w.send(&Handshake::ConnectorHello(connector_hello(key, &t)))
        .await?;
    await_welcome(r, key, &t).await?;
    Ok(Settled {
        node_name: node_name.into(),
        version: chosen,
    })
}

async fn recv_acceptor_hello<R, W>(
    r: &mut FrameReader<R>,
    w: &mut FrameWriter<W>,
    ours: VersionRange,
) -> Result<AcceptorHello, LinkError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    match r.next::<Handshake>().await? {
        Handshake::AcceptorHello(a) => Ok(a),
        Handshake::Refused(x) => Err(refused(x, ours)),
        other => refuse_protocol(w, &format!("expected an acceptor hello, got {other}")).await,
    }
}

fn connector_hello(key: &ClusterKey, t: &Transcript<'_>) -> ConnectorHello {
    ConnectorHello {
        magic: MAGIC.into(),
        min_version: t.connector_versions.min,
        max_version: t.connector_versions.max,
        nonce: t.connector_nonce,
        chosen_version: t.chosen_version,
        node_name: t.node_name.into(),
        proof: proof::prove(key, Prover::Connector, t),
    }
}

/// The highest common version, or a refusal naming both ranges.
async fn choose<W: AsyncWrite + Unpin>(
    w: &mut FrameWriter<W>,
    ours: VersionRange,
    theirs: VersionRange,
) -> Result<u32, LinkError> {
    if let Some(v) = ours.highest_common(theirs) {
        return Ok(v);
    }
    let err = LinkError::VersionMismatch { ours, theirs };
    send_refusal(
        w,
        RefusalCode::VersionMismatch,
        &err.to_string(),
        Some(ours),
    )
    .await;
    Err(err)
}

async fn await_welcome<R: AsyncRead + Unpin>(
    r: &mut FrameReader<R>,
    key: &ClusterKey,
    t: &Transcript<'_>,
) -> Result<(), LinkError> {
    match r.next::<Handshake>().await? {
        Handshake::Welcome { proof } if proof::verify(key, Prover::Acceptor, t, &proof) => Ok(()),
        Handshake::Welcome { .. } => Err(LinkError::AuthFailed {
            detail: "the satellite's proof of the cluster key does not verify".into(),
        }),
        Handshake::Refused(x) => Err(refused(x, t.connector_versions)),
        other => Err(LinkError::Protocol(format!(
            "expected a welcome or refusal, got {other}"
        ))),
    }
}

/// A hello's magic and range, checked; a bad one is refused.
async fn check_hello<W: AsyncWrite + Unpin>(
    w: &mut FrameWriter<W>,
    magic: &str,
    min: u32,
    max: u32,
) -> Result<VersionRange, LinkError> {
    if magic != MAGIC {
        let why = format!("not a linstor-link peer (magic {magic:?}, expected {MAGIC:?})");
        return refuse_protocol(w, &why).await;
    }
    let range = VersionRange::new(min, max);
    if !range.is_valid() {
        return refuse_protocol(w, &format!("empty version range {min}..={max}")).await;
    }
    Ok(range)
}

/// The error for a refusal the peer sent (its unauthenticated reason shortened and stripped
/// of control characters before it reaches a log).
fn refused(mut x: Refusal, ours: VersionRange) -> LinkError {
    x.reason = x
        .reason
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_PEER_REASON)
        .collect();
    match (x.code, x.versions) {
        (RefusalCode::KeyMismatch, _) => LinkError::AuthFailed {
            detail: format!("the peer refused this side's proof ({})", x.reason),
        },
        (RefusalCode::VersionMismatch, Some(theirs)) => LinkError::VersionMismatch { ours, theirs },
        (RefusalCode::Protocol, _) => {
            LinkError::Protocol(format!("the peer refused the handshake: {}", x.reason))
        }
        _ => LinkError::Refused { reason: x.reason },
    }
}

/// Tells the peer why (best effort: the handshake fails either way) and fails.
async fn refuse_protocol<W: AsyncWrite + Unpin, T>(
    w: &mut FrameWriter<W>,
    why: &str,
) -> Result<T, LinkError> {
    send_refusal(w, RefusalCode::Protocol, why, None).await;
    Err(LinkError::Protocol(why.into()))
}

async fn send_refusal<W: AsyncWrite + Unpin>(
    w: &mut FrameWriter<W>,
    code: RefusalCode,
    reason: &str,
    versions: Option<VersionRange>,
) {
    let refusal = Refusal {
        code,
        reason: reason.into(),
        versions,
    };
    if let Err(e) = w.send(&Handshake::Refused(refusal)).await {
        tracing::debug!("could not send the handshake refusal: {e}");
    }
}

fn nonce() -> Result<Nonce, LinkError> {
    let mut n = [0u8; proof::NONCE_LEN];
    fill_random(&mut n)?;
    Ok(n)
}

impl std::fmt::Display for Handshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::AcceptorHello(_) => "an acceptor hello",
            Self::ConnectorHello(_) => "a connector hello",
            Self::Welcome { .. } => "a welcome",
            Self::Refused(_) => "a refusal",
        })
    }
}

/// Fixed-size byte arrays as hex strings.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(crate) fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let mut out = [0u8; N];
        hex::decode_to_slice(text.as_bytes(), &mut out)
            .map_err(|e| D::Error::custom(format!("expected {} hex digits: {e}", 2 * N)))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
