//! What mutating endpoints answer: an HTTP status and a JSON array of LINSTOR `ApiCallRc`
//! entries (never a bare object, never empty: clients index `replies[0]`).
//!
//! Statuses as LINSTOR maps them: a create answers 201, other calls 200; the first error
//! decides otherwise (invalid input → 400, NOT_FOUND codes → 404, access denied → 403, everything
//! else → 500). A
//! body that cannot be read at all is 400, with an entry that names the field and the fix.

use linstor_core::cluster::Outcome;
use linstor_core::decode::DecodeError;
use linstor_core::rc::{Obj, Op, RcEntry, Severity, code};
use serde_json::Value;

/// An HTTP answer: status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The JSON array of entries.
    pub body: Value,
}

/// Whether the call creates something (success is 201 instead of 200).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `POST` that creates.
    Create,
    /// Anything else.
    Other,
}

/// The answer to a command's outcome.
pub fn from_outcome(out: &Outcome, call: Call) -> Answer {
    let success = match call {
        Call::Create => 201,
        Call::Other => 200,
    };
    let mut entries: Vec<Value> = out.rc.0.iter().map(RcEntry::to_rest_json).collect();
    if entries.is_empty() {
        // Clients index the first reply: an empty success still says something.
        let done = RcEntry::new(
            Severity::Success,
            Op::None,
            Obj::None,
            code::MODIFIED,
            "Done.",
        );
        entries.push(done.to_rest_json());
    }
    Answer {
        status: out.rc.http_status(success),
        body: Value::Array(entries),
    }
}

/// LINSTOR's `UNKNOWN_API_CALL` (`0x0FFF_FFFF_FFFF_FFFF | MASK_ERROR`): no such endpoint.
pub const UNKNOWN_API_CALL: i64 = special(0x0FFF_FFFF_FFFF_FFFF);
/// LINSTOR's `API_CALL_PARSE_ERROR` (`0x0FFF_FFFF_FFFF_FFFD | MASK_ERROR`): unreadable body.
pub const API_CALL_PARSE_ERROR: i64 = special(0x0FFF_FFFF_FFFF_FFFD);

const fn special(code: u64) -> i64 {
    i64::from_ne_bytes((code | 0xC000_0000_0000_0000).to_ne_bytes())
}

/// `entry` rendered with one of the special ret_codes above (they do not fit the
/// type/op/object/code layout of ordinary entries).
pub fn with_special_code(entry: &RcEntry, ret_code: i64) -> Value {
    let mut v = entry.to_rest_json();
    v["ret_code"] = Value::from(ret_code);
    v
}

/// The answer to a body that could not be decoded: 400 with one `API_CALL_PARSE_ERROR` entry
/// that names the field, the value and the fix.
pub fn bad_request(e: &DecodeError) -> Answer {
    Answer {
        status: 400,
        body: Value::Array(vec![with_special_code(&e.to_entry(), API_CALL_PARSE_ERROR)]),
    }
}

#[cfg(test)]
mod tests {
    use linstor_core::cluster::{Cluster, SeededEnv};

    use super::*;
    use crate::request::{self, NodeCreate};

    fn run(c: &mut Cluster, e: &mut SeededEnv, body: &str) -> Answer {
        match request::parse::<NodeCreate>("a node create request", body) {
            Ok(n) => from_outcome(&c.execute(n.command(), e), Call::Create),
            Err(err) => bad_request(&err),
        }
    }

    #[test]
    fn statuses_and_bodies_as_linstor_answers() {
        let mut e = SeededEnv::new(2);
        let mut c = Cluster::new(&mut e);
        let ok = r#"{"name": "alpha", "type": "Satellite", "net_interfaces": [{"name": "default", "address": "10.0.0.1"}]}"#;
        let a = run(&mut c, &mut e, ok);
        assert_eq!(a.status, 201);
        let first = &a.body[0];
        assert!(first["ret_code"].as_i64().is_some_and(|r| r > 0), "{first}");
        // Again: exists → 500 with a negative ret_code (errors have both type bits set).
        let a = run(&mut c, &mut e, ok);
        assert_eq!(a.status, 500);
        assert!(a.body[0]["ret_code"].as_i64().is_some_and(|r| r < 0));
        // Unreadable: 400, naming the field.
        let a = run(
            &mut c,
            &mut e,
            r#"{"name": "beta", "type": "Satelite", "net_interfaces": []}"#,
        );
        assert_eq!(a.status, 400);
        assert!(
            a.body[0]["message"].as_str().unwrap().contains("'type'"),
            "{}",
            a.body
        );
        assert!(
            a.body[0]["correction"]
                .as_str()
                .unwrap()
                .contains("Satellite")
        );
        // A definition that does not exist: 404.
        let resize = r#"{"cmd": "vlm_dfn_resize", "rsc_dfn": "ghost", "number": 0, "size": 1}"#;
        let out = c.execute_json(resize, &mut e);
        assert_eq!(from_outcome(&out, Call::Other).status, 404);
    }

    #[test]
    fn an_empty_outcome_still_answers_one_entry() {
        let a = from_outcome(&Outcome::default(), Call::Other);
        assert_eq!(a.status, 200);
        assert_eq!(a.body.as_array().map(Vec::len), Some(1));
    }
}
