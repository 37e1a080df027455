//! Doing one [`Op`] over REST the way a careful client (CSI) does it, and writing into the
//! ledger what the answers allow the client to believe.
//!
//! A request whose answer is lost (connection refused, reset, cut short: the controller was
//! killed) is retried until an answer comes, unless the client chose to give up. After a lost
//! attempt, "already exists" to a create and "not found" to a delete mean the lost attempt was
//! committed: acknowledged. A refusal with no lost attempt before it changes nothing.

use std::time::{Duration, Instant};

use linstor_cli::client::Client;
use serde_json::{Value, json};

use crate::ledger::{Exp, Ledger, RdExp, SnapExp};
use crate::plan::{Op, SIZE1_KIB};

/// The resource group every spawn uses.
pub const GROUP: &str = "chaos";
/// Its place count.
pub const PLACE_COUNT: u32 = 2;
/// How long a client retries a request whose answers are lost.
pub const RETRY_FOR: Duration = Duration::from_secs(60);
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// The last word on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done: committed and answered.
    Acked,
    /// Refused, nothing changed; the first error's message.
    Refused(String),
    /// Maybe done: an answer was lost (and the retries, if any, were not conclusive).
    Unknown,
}

/// The answer entries' error ret_codes (the low 15 bits), empty if none is an error.
pub fn error_codes(body: &Value) -> Vec<(u16, String)> {
    const ERROR: u64 = 0xC000_0000_0000_0000;
    body.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| {
                    let rc = e["ret_code"].as_i64()?.cast_unsigned_compat();
                    (rc & ERROR == ERROR).then(|| {
                        let code = u16::try_from(rc & 0x7FFF).unwrap_or(u16::MAX);
                        (code, e["message"].as_str().unwrap_or_default().to_owned())
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `i64 → u64` bit for bit (MSRV 1.85 has no `cast_unsigned`).
trait CastCompat {
    fn cast_unsigned_compat(self) -> u64;
}

impl CastCompat for i64 {
    fn cast_unsigned_compat(self) -> u64 {
        u64::from_ne_bytes(self.to_ne_bytes())
    }
}

/// What the request does, for reading "already done" answers after a lost attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// EXISTS (500–599) after a lost attempt means done.
    Create,
    /// NOT_FOUND (300–399) after a lost attempt means done.
    Delete,
    /// Setting a value again is harmless; no code means done.
    Modify,
}

/// Figures of the requests a client sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Operations.
    pub ops: usize,
    /// Requests acknowledged.
    pub acked: usize,
    /// Requests refused.
    pub refused: usize,
    /// Requests whose outcome stayed unknown.
    pub unknown: usize,
    /// Attempts whose answer was lost.
    pub lost_answers: usize,
}

/// One client of the chaos run.
#[derive(Debug)]
pub struct Actor {
    /// REST client.
    pub client: Client,
    /// Whether requests are retried after a lost answer (else given up at once).
    pub retry: bool,
    /// Figures.
    pub tally: Tally,
}

impl Actor {
    /// A client of the controller at `url`.
    pub fn new(url: &str, retry: bool) -> Actor {
        Actor {
            client: Client::new(vec![url.to_owned()], Duration::from_secs(30)),
            retry,
            tally: Tally::default(),
        }
    }

    /// One request, retried while its answers are lost.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        kind: Kind,
    ) -> Outcome {
        let deadline = Instant::now() + RETRY_FOR;
        let mut lost = false;
        let outcome = loop {
            let reply = match (method, body) {
                ("POST", Some(b)) => self.client.post(path, b),
                ("PUT", Some(b)) => self.client.put(path, b),
                ("DELETE", _) => self.client.delete(path),
                _ => self.client.get(path),
            };
            let reply = match reply {
                Ok(r) => r,
                Err(_) => {
                    lost = true;
                    self.tally.lost_answers += 1;
                    if !self.retry || Instant::now() > deadline {
                        break Outcome::Unknown;
                    }
                    std::thread::sleep(RETRY_PAUSE);
                    continue;
                }
            };
            break judge(reply.status, &reply.body, lost, kind);
        };
        match outcome {
            Outcome::Acked => self.tally.acked += 1,
            Outcome::Refused(_) => self.tally.refused += 1,
            Outcome::Unknown => self.tally.unknown += 1,
        }
        outcome
    }
}

/// Reads an answer: `lost` says an earlier attempt of the same request lost its answer.
pub fn judge(status: u16, body: &Value, lost: bool, kind: Kind) -> Outcome {
    let errors = error_codes(body);
    let Some((code, message)) = errors.first() else {
        if status < 300 {
            return Outcome::Acked;
        }
        // An error status without a LINSTOR error entry: not a LINSTOR refusal.
        return if lost {
            Outcome::Unknown
        } else {
            Outcome::Refused(format!("HTTP {status}: {body}"))
        };
    };
    let already = match kind {
        Kind::Create => (500..600).contains(code),
        Kind::Delete => (300..400).contains(code),
        Kind::Modify => false,
    };
    match (lost, already) {
        (true, true) => Outcome::Acked,
        // The lost attempt may have been committed; this answer cannot say.
        (true, false) => Outcome::Unknown,
        (false, _) => Outcome::Refused(format!("{code}: {message}")),
    }
}

fn apply<T: Ord + Clone + std::fmt::Debug>(exp: &mut Exp<T>, outcome: &Outcome, v: T) {
    match outcome {
        Outcome::Acked => exp.acked(v),
        Outcome::Unknown => exp.maybe(v),
        Outcome::Refused(_) => {}
    }
}

/// Does `op` and records in `ledger` what the answers allow.
pub fn run(a: &mut Actor, ledger: &mut Ledger, op: &Op) {
    a.tally.ops += 1;
    match op {
        Op::Spawn { rd, size0 } => {
            let body = json!({"resource_definition_name": rd, "volume_sizes": [size0, SIZE1_KIB]});
            let o = a.request(
                "POST",
                &format!("/v1/resource-groups/{GROUP}/spawn"),
                Some(&body),
                Kind::Create,
            );
            let e = ledger
                .rds
                .entry(rd.clone())
                .or_insert_with(|| RdExp::new(Exp::is(*size0), SIZE1_KIB));
            apply(&mut e.exists, &o, true);
        }
        Op::Resize { rd, size0 } => {
            let path = format!("/v1/resource-definitions/{rd}/volume-definitions/0");
            let o = a.request(
                "PUT",
                &path,
                Some(&json!({"size_kib": size0})),
                Kind::Modify,
            );
            if let Some(e) = ledger.rds.get_mut(rd) {
                apply(&mut e.size0, &o, *size0);
            }
        }
        Op::Note { rd, value } => {
            let body = json!({"override_props": {crate::observe::NOTE_KEY: value}});
            let o = a.request(
                "PUT",
                &format!("/v1/resource-definitions/{rd}"),
                Some(&body),
                Kind::Modify,
            );
            if let Some(e) = ledger.rds.get_mut(rd) {
                apply(&mut e.note, &o, Some(value.clone()));
            }
        }
        Op::Snapshot { rd, snap } => {
            let path = format!("/v1/resource-definitions/{rd}/snapshots");
            let o = a.request("POST", &path, Some(&json!({"name": snap})), Kind::Create);
            if let Some(e) = ledger.rds.get_mut(rd) {
                let s = e.snaps.entry(snap.clone()).or_insert_with(|| SnapExp {
                    exists: Exp::is(false),
                    size0: e.size0.clone(),
                });
                apply(&mut s.exists, &o, true);
            }
        }
        Op::Restore { from, snap, to } => restore(a, ledger, from, snap, to),
        Op::DeleteSnapshot { rd, snap } => delete_snapshot(a, ledger, rd, snap),
        Op::Delete { rd } => {
            let snaps: Vec<String> = ledger
                .rds
                .get(rd)
                .map(|e| e.snaps.keys().cloned().collect())
                .unwrap_or_default();
            for snap in snaps {
                delete_snapshot(a, ledger, rd, &snap);
            }
            delete_rd(a, ledger, rd);
        }
    }
}

fn delete_snapshot(a: &mut Actor, ledger: &mut Ledger, rd: &str, snap: &str) {
    let o = a.request(
        "DELETE",
        &format!("/v1/resource-definitions/{rd}/snapshots/{snap}"),
        None,
        Kind::Delete,
    );
    if let Some(s) = ledger.rds.get_mut(rd).and_then(|e| e.snaps.get_mut(snap)) {
        apply(&mut s.exists, &o, false);
    }
}

fn delete_rd(a: &mut Actor, ledger: &mut Ledger, rd: &str) {
    let o = a.request(
        "DELETE",
        &format!("/v1/resource-definitions/{rd}"),
        None,
        Kind::Delete,
    );
    if let Some(e) = ledger.rds.get_mut(rd) {
        apply(&mut e.exists, &o, false);
    }
}

/// Create `to`, restore its volume definitions and resources from `from`/`snap`; if a step
/// is refused, delete `to` again, so it ends whole or gone.
fn restore(a: &mut Actor, ledger: &mut Ledger, from: &str, snap: &str, to: &str) {
    let Some(src) = ledger.rds.get(from) else {
        return;
    };
    let Some(s) = src.snaps.get(snap) else { return };
    let mut exp = RdExp::new(s.size0.clone(), src.size1);
    let body = json!({"resource_definition": {"name": to}});
    let o = a.request(
        "POST",
        "/v1/resource-definitions",
        Some(&body),
        Kind::Create,
    );
    apply(&mut exp.exists, &o, true);
    ledger.rds.insert(to.to_owned(), exp);
    if o != Outcome::Acked {
        return;
    }
    let target = json!({"to_resource": to});
    for step in [
        "snapshot-restore-volume-definition",
        "snapshot-restore-resource",
    ] {
        let path = format!("/v1/resource-definitions/{from}/{step}/{snap}");
        match a.request("POST", &path, Some(&target), Kind::Create) {
            Outcome::Acked => {}
            // Whole or gone: a half-restored definition is removed.
            Outcome::Refused(_) | Outcome::Unknown => {
                delete_rd(a, ledger, to);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_and_what_they_let_the_client_believe() {
        let ok = json!([{"ret_code": 0x4000_0000_0000_0001_i64, "message": "created"}]);
        let exists = json!([{"ret_code": -4_611_686_018_427_387_403_i64, "message": "exists"}]);
        let not_found = json!([{"ret_code": -4_611_686_018_427_387_603_i64, "message": "gone"}]);
        let cases = [
            ("ok", 201, &ok, false, Kind::Create, Outcome::Acked),
            (
                "exists, first try",
                500,
                &exists,
                false,
                Kind::Create,
                Outcome::Refused("501: exists".into()),
            ),
            (
                "exists after a lost try",
                500,
                &exists,
                true,
                Kind::Create,
                Outcome::Acked,
            ),
            (
                "exists to a modify after a lost try",
                500,
                &exists,
                true,
                Kind::Modify,
                Outcome::Unknown,
            ),
            (
                "not found after a lost delete",
                404,
                &not_found,
                true,
                Kind::Delete,
                Outcome::Acked,
            ),
            (
                "not found, first try",
                404,
                &not_found,
                false,
                Kind::Delete,
                Outcome::Refused("301: gone".into()),
            ),
            (
                "5xx without entries after a lost try",
                503,
                &Value::Null,
                true,
                Kind::Create,
                Outcome::Unknown,
            ),
        ];
        for (name, status, body, lost, kind, want) in cases {
            assert_eq!(judge(status, body, lost, kind), want, "{name}");
        }
    }

    #[test]
    fn error_codes_are_the_low_bits_of_error_entries() {
        let body = json!([
            {"ret_code": 0x4000_0000_0000_0001_i64, "message": "info"},
            {"ret_code": -4_611_686_018_427_387_403_i64, "message": "exists"}
        ]);
        assert_eq!(error_codes(&body), vec![(501, "exists".to_owned())]);
    }
}
