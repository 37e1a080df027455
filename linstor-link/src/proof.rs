//! The handshake's proofs: HMAC-SHA256 under the cluster key over a transcript that binds the
//! prover's role, both nonces, both version ranges, the chosen version and the node name.
//! A proof therefore holds for one handshake only (the other side's fresh nonce), for one
//! direction only (the role label), and not for a transcript a man in the middle altered
//! (e.g. a lowered version range).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::VersionRange;
use crate::key::ClusterKey;

/// Bytes of a nonce.
pub(crate) const NONCE_LEN: usize = 32;

/// Bytes of a proof (an HMAC-SHA256 tag).
pub(crate) const PROOF_LEN: usize = 32;

/// A handshake nonce.
pub(crate) type Nonce = [u8; NONCE_LEN];

/// A proof.
pub(crate) type Proof = [u8; PROOF_LEN];

/// Which side proves: the label that starts its transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prover {
    /// The side that accepted the connection (the satellite).
    Acceptor,
    /// The side that opened it (the controller).
    Connector,
}

impl Prover {
    fn label(self) -> &'static [u8] {
        match self {
            Self::Acceptor => b"linstor-link handshake v1: acceptor proof",
            Self::Connector => b"linstor-link handshake v1: connector proof",
        }
    }
}

/// Everything both sides must agree on for the link they set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Transcript<'a> {
    pub(crate) acceptor_nonce: Nonce,
    pub(crate) connector_nonce: Nonce,
    pub(crate) acceptor_versions: VersionRange,
    pub(crate) connector_versions: VersionRange,
    pub(crate) chosen_version: u32,
    pub(crate) node_name: &'a str,
}

/// The HMAC of `prover`'s label and the transcript; every variable-length field is
/// length-prefixed so no two transcripts feed the same bytes.
fn mac(key: &ClusterKey, prover: Prover, t: &Transcript<'_>) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .expect("HMAC takes keys of any length");
    let mut field = |bytes: &[u8]| {
        let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        m.update(&len.to_be_bytes());
        m.update(bytes);
    };
    field(prover.label());
    field(&t.acceptor_nonce);
    field(&t.connector_nonce);
    for v in [
        t.acceptor_versions.min,
        t.acceptor_versions.max,
        t.connector_versions.min,
        t.connector_versions.max,
        t.chosen_version,
    ] {
        field(&v.to_be_bytes());
    }
    field(t.node_name.as_bytes());
    m
}

/// `prover`'s proof of the key for this transcript.
pub(crate) fn prove(key: &ClusterKey, prover: Prover, t: &Transcript<'_>) -> Proof {
    mac(key, prover, t).finalize().into_bytes().into()
}

/// Whether `proof` is `prover`'s proof of the key for this transcript (constant time).
pub(crate) fn verify(key: &ClusterKey, prover: Prover, t: &Transcript<'_>, proof: &[u8]) -> bool {
    mac(key, prover, t).verify_slice(proof).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript() -> Transcript<'static> {
        Transcript {
            acceptor_nonce: [1; NONCE_LEN],
            connector_nonce: [2; NONCE_LEN],
            acceptor_versions: VersionRange::new(1, 3),
            connector_versions: VersionRange::new(2, 4),
            chosen_version: 3,
            node_name: "alpha",
        }
    }

    fn key(byte: u8) -> ClusterKey {
        ClusterKey::from_bytes(&[byte; 32]).unwrap()
    }

    #[test]
    fn a_proof_verifies_only_for_its_key_role_and_transcript() {
        let t = transcript();
        let p = prove(&key(9), Prover::Connector, &t);
        assert!(verify(&key(9), Prover::Connector, &t, &p));
        assert!(!verify(&key(8), Prover::Connector, &t, &p), "other key");
        assert!(!verify(&key(9), Prover::Acceptor, &t, &p), "reflected");
        assert!(!verify(&key(9), Prover::Connector, &t, &p[..31]), "short");
        assert!(!verify(&key(9), Prover::Connector, &t, &[]), "empty");
    }

    type Change = fn(&mut Transcript<'static>);

    #[test]
    fn every_transcript_field_is_bound() {
        let base = transcript();
        let p = prove(&key(9), Prover::Acceptor, &base);
        let changes: [(&str, Change); 9] = [
            ("acceptor nonce", |t| t.acceptor_nonce[31] ^= 1),
            ("connector nonce", |t| t.connector_nonce[0] ^= 1),
            ("acceptor min", |t| t.acceptor_versions.min = 2),
            ("acceptor max", |t| t.acceptor_versions.max = 2),
            ("connector min", |t| t.connector_versions.min = 3),
            ("connector max", |t| t.connector_versions.max = 3),
            ("chosen", |t| t.chosen_version = 2),
            ("node name", |t| t.node_name = "alphb"),
            ("empty node name", |t| t.node_name = ""),
        ];
        for (what, change) in changes {
            let mut t = base.clone();
            change(&mut t);
            assert!(
                !verify(&key(9), Prover::Acceptor, &t, &p),
                "{what} not bound"
            );
        }
    }
}
