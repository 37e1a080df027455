//! Decoding JSON inputs (commands, select filters) into core types, with errors that name the
//! field, the value and the fix.
//!
//! Nothing is accepted silently: every input type denies unknown fields, and an unknown field
//! or command answers with the close match when there is one ("did you mean 'place_count'?")
//! and the valid names once. Numbers out of their type's range are named as such (a negative
//! `place_count` is "negative", not a wrapped-around 4294967295). Every entry point (the JSON
//! command path of the C ABI and Python, later the REST API) decodes through here.

use serde::de::DeserializeOwned;

use crate::cluster::Command;
use crate::rc::{Obj, Op, RcEntry, code};

/// Why an input could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// Not JSON at all (or truncated).
    Syntax,
    /// A field the input type does not have.
    UnknownField,
    /// A `cmd` that is not a command.
    UnknownCommand,
    /// An enum value that does not exist (`"kind": "LVMX"`).
    UnknownVariant,
    /// A required field is missing.
    MissingField,
    /// A number outside its type's range (negative, or too large).
    OutOfRange,
    /// A value of the wrong JSON type, or otherwise invalid.
    InvalidValue,
}

/// An input that could not be decoded; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DecodeError {
    /// What went wrong.
    pub kind: DecodeErrorKind,
    /// The field's path (`select_filter.place_count`), when one is to blame.
    pub field: Option<String>,
    /// The offending value or name, when there is one.
    pub value: Option<String>,
    /// One line: what was refused.
    pub message: String,
    /// Why.
    pub cause: String,
    /// What to do instead.
    pub correction: String,
}

impl DecodeError {
    /// The error as a LINSTOR result entry (`INVLD_REQUEST`).
    pub fn to_entry(&self) -> RcEntry {
        let mut e = RcEntry::error(Op::None, Obj::None, code::INVLD_REQUEST, &self.message);
        e.cause = Some(self.cause.clone());
        e.correction = Some(self.correction.clone());
        e
    }
}

/// Decodes one command (`{"cmd": "node_create", …}`).
pub fn decode_command(json: &str) -> Result<Command, Box<DecodeError>> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| Box::new(syntax("a command", &e)))?;
    let cmd = value
        .get("cmd")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    let what = match &cmd {
        Some(c) => format!("command '{c}'"),
        None => "a command".to_owned(),
    };
    decode_value(&what, value)
}

impl crate::cluster::Cluster {
    /// Decodes and executes one command in its JSON form. An input that cannot be decoded is
    /// answered like a refused command (an `INVLD_REQUEST` error entry naming the field, the
    /// value and the fix) and changes nothing.
    pub fn execute_json(
        &mut self,
        json: &str,
        env: &mut dyn crate::cluster::Env,
    ) -> crate::cluster::Outcome {
        match decode_command(json) {
            Ok(cmd) => self.execute(cmd, env),
            Err(e) => crate::cluster::Outcome {
                rc: crate::rc::ApiCallRc(vec![e.to_entry()]),
                changes: crate::cluster::ChangeSet::default(),
            },
        }
    }
}

/// Decodes any input type `T`; `what` names it in messages ("a select filter").
pub fn decode<T: DeserializeOwned>(what: &str, json: &str) -> Result<T, Box<DecodeError>> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| Box::new(syntax(what, &e)))?;
    decode_value(what, value)
}

fn decode_value<T: DeserializeOwned>(
    what: &str,
    value: serde_json::Value,
) -> Result<T, Box<DecodeError>> {
    if !value.is_object() {
        return Err(Box::new(DecodeError {
            kind: DecodeErrorKind::InvalidValue,
            field: None,
            value: Some(value.to_string().chars().take(64).collect()),
            message: format!("{} must be one JSON object", capitalized(what)),
            cause: format!("A {} was given.", json_kind(&value)),
            correction: format!("Send {what} as one JSON object: {{\"field\": value, …}}."),
        }));
    }
    serde_path_to_error::deserialize(&value).map_err(|e| {
        let msg = e.inner().to_string();
        let path = Some(e.path().to_string())
            .filter(|p| !p.is_empty() && p != ".")
            // For an unknown field serde's path ends with the field itself: keep its parent,
            // as `explain` names the field below it.
            .map(
                |p| match between(strip_location(&msg), "unknown field `", "`") {
                    Some(f) if p == f => String::new(),
                    Some(f) => p
                        .strip_suffix(&format!(".{f}"))
                        .map_or(p.clone(), str::to_owned),
                    None => p,
                },
            )
            // Inside an internally tagged enum (`Command`) serde buffers the content and the
            // path is lost: find the culprit in the document instead.
            .or_else(|| locate(&value, strip_location(&msg)));
        Box::new(explain(what, path, &msg))
    })
}

/// The path of what serde's message complains about, found in the document (first in
/// document order): the object with the unknown key, the unknown enum value or the
/// out-of-range integer.
fn locate(doc: &serde_json::Value, msg: &str) -> Option<String> {
    use serde_json::Value as V;
    if let Some(key) = between(msg, "unknown field `", "`") {
        return find(doc, "", &|k, _| k == Some(key)).map(|p| parent(&p));
    }
    if let Some(word) = between(msg, "unknown variant `", "`") {
        return find(doc, "", &|_, v| v.as_str() == Some(word));
    }
    if let Some(num) = between(msg, "invalid value: integer `", "`") {
        return find(
            doc,
            "",
            &|_, v| matches!(v, V::Number(n) if n.to_string() == num),
        );
    }
    if let Some(text) = between(msg, "invalid type: string \"", "\"") {
        return find(doc, "", &|_, v| v.as_str() == Some(text));
    }
    for (prefix, kind) in [
        ("invalid type: integer `", "n"),
        ("invalid type: boolean `", "b"),
    ] {
        if let Some(word) = between(msg, prefix, "`") {
            return find(doc, "", &|_, v| match kind {
                "n" => matches!(v, V::Number(n) if n.to_string() == word),
                _ => v.as_bool().is_some_and(|b| b.to_string() == word),
            });
        }
    }
    if let Some(num) = between(msg, "invalid type: floating point `", "`") {
        let x: f64 = num.parse().ok()?;
        // The same text parsed twice: exact equality is right.
        #[allow(clippy::float_cmp)]
        let same = move |n: &serde_json::Number| n.as_f64() == Some(x);
        return find(doc, "", &|_, v| matches!(v, V::Number(n) if same(n)));
    }
    None
}

/// Tests one entry of the document: its key (`None` in arrays) and its value.
type Match<'a> = &'a dyn Fn(Option<&str>, &serde_json::Value) -> bool;

/// The path of the first entry (depth first, document order) that `hit` matches.
fn find(v: &serde_json::Value, path: &str, hit: Match<'_>) -> Option<String> {
    use serde_json::Value as V;
    let visit = |p: String, key: Option<&str>, child: &serde_json::Value| {
        if hit(key, child) {
            Some(p)
        } else {
            find(child, &p, hit)
        }
    };
    match v {
        V::Object(m) => m.iter().find_map(|(k, child)| {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            visit(p, Some(k), child)
        }),
        V::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, child)| visit(format!("{path}[{i}]"), None, child)),
        _ => None,
    }
}

/// `a.b.c` → `a.b`; `c` → ``.
fn parent(path: &str) -> String {
    path.rsplit_once('.')
        .map(|(p, _)| p.to_owned())
        .unwrap_or_default()
}

/// `a command` → `A command`.
fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// What kind of JSON value `v` is, in words.
fn json_kind(v: &serde_json::Value) -> &'static str {
    use serde_json::Value as V;
    match v {
        V::Null => "null",
        V::Bool(_) => "boolean",
        V::Number(_) => "number",
        V::String(_) => "string",
        V::Array(_) => "list",
        V::Object(_) => "object",
    }
}

fn syntax(what: &str, e: &serde_json::Error) -> DecodeError {
    DecodeError {
        kind: DecodeErrorKind::Syntax,
        field: None,
        value: None,
        message: format!("Cannot read {what}: it is not valid JSON"),
        cause: e.to_string(),
        correction: format!("Send {what} as one JSON object."),
    }
}

/// Turns serde's message into an error naming the field, the value and the fix.
fn explain(what: &str, path: Option<String>, msg: &str) -> DecodeError {
    let msg = strip_location(msg);
    let mut err = DecodeError {
        kind: DecodeErrorKind::InvalidValue,
        field: path.clone(),
        value: None,
        message: String::new(),
        cause: msg.to_owned(),
        correction: format!("Correct the field; see the documented format of {what}."),
    };
    let at = |field: &str| match &path {
        Some(p) if !p.is_empty() => format!("{p}.{field}"),
        _ => field.to_owned(),
    };
    if let Some((name, expected)) = unknown(msg, "unknown field `") {
        err.kind = DecodeErrorKind::UnknownField;
        err.field = Some(at(&name));
        err.message = format!("Unknown field '{}' in {what}", at(&name));
        err.cause = names_cause(what, path.as_deref(), &expected);
        err.correction = did_you_mean(&name, &expected, "Remove the field or correct its name.");
        err.value = Some(name);
    } else if let Some((name, expected)) = unknown(msg, "unknown variant `") {
        let is_cmd = path.as_deref() == Some("cmd");
        err.kind = if is_cmd {
            DecodeErrorKind::UnknownCommand
        } else {
            DecodeErrorKind::UnknownVariant
        };
        err.message = if is_cmd {
            format!("Unknown command '{name}'")
        } else {
            format!(
                "Unknown value '{name}' for '{}' in {what}",
                path.as_deref().unwrap_or("")
            )
        };
        err.cause = format!(
            "Valid {}: {}.",
            if is_cmd { "commands" } else { "values" },
            expected.join(", ")
        );
        err.correction = did_you_mean(&name, &expected, "Use one of the names above.");
        err.value = Some(name);
    } else if let Some(field) = between(msg, "missing field `", "`") {
        err.kind = DecodeErrorKind::MissingField;
        err.field = Some(at(field));
        err.message = format!("Missing field '{}' in {what}", at(field));
        err.cause = format!("'{field}' is required.");
        err.correction = if field == "cmd" {
            "Name the command in 'cmd', e.g. {\"cmd\": \"node_create\", …}.".to_owned()
        } else {
            format!("Add '{}' to {what}.", at(field))
        };
    } else if let Some((v, ty, fraction)) = out_of_range(msg) {
        let field = path.clone().unwrap_or_default();
        err.kind = DecodeErrorKind::OutOfRange;
        let v = whole(v);
        err.value = Some(v.clone());
        let sign = if fraction {
            "not a whole number"
        } else if v.starts_with('-') && ty != "i64" {
            "negative"
        } else if v.starts_with('-') {
            "too small"
        } else {
            "too large"
        };
        err.message = format!("'{field}' = {v} is {sign} in {what}");
        err.cause = format!("'{field}' takes {}.", range_of(ty));
        err.correction = format!("Give '{field}' a value in that range.");
    } else if let Some(got) = between(msg, "invalid type: ", ", expected") {
        let field = path.clone().unwrap_or_default();
        let expected = msg.rsplit(", expected ").next().unwrap_or("");
        err.message = format!("'{field}' has the wrong type in {what}: {got}");
        err.cause = format!("'{field}' takes {expected}.");
        err.correction = format!("Give '{field}' {expected}.");
    } else {
        let field = path.clone().unwrap_or_default();
        err.message = if field.is_empty() {
            format!("Invalid {what}: {msg}")
        } else {
            format!("Invalid value for '{field}' in {what}: {msg}")
        };
    }
    err
}

/// The number and the integer type of an "out of range" message: serde's own, or a float where
/// an integer is expected (how serde_json reads integers beyond 64 bits; the type is empty when
/// the float has a fraction and is in range).
fn out_of_range(msg: &str) -> Option<(&str, &str, bool)> {
    let ty = msg.rsplit("expected ").next().unwrap_or("");
    if let Some(v) = between(msg, "invalid value: integer `", "`") {
        return Some((v, ty, false));
    }
    let v = between(msg, "invalid type: floating point `", "`")?;
    if !matches!(ty, "u8" | "u16" | "u32" | "u64" | "i64") {
        return None;
    }
    let fraction = v.parse::<f64>().is_ok_and(|x| x.fract() != 0.0);
    Some((v, ty, fraction))
}

/// A float that serde printed in exponent form, as the whole number it is (`2^64` reads as
/// `18446744073709551616`, not `1.8446744073709552e19`).
fn whole(v: &str) -> String {
    match v.parse::<f64>() {
        Ok(x) if v.contains('e') && x.fract() == 0.0 && x.abs() < 1e30 => format!("{x:.0}"),
        _ => v.to_owned(),
    }
}

/// `msg` without serde_json's " at line L column C".
fn strip_location(msg: &str) -> &str {
    match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains(" column ") => &msg[..i],
        _ => msg,
    }
}

fn between<'a>(msg: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = msg.strip_prefix(start)?;
    Some(&rest[..rest.find(end)?])
}

/// Parses "unknown field `x`, expected one of `a`, `b`" into ("x", ["a", "b"]).
fn unknown(msg: &str, start: &str) -> Option<(String, Vec<String>)> {
    let name = between(msg, start, "`")?;
    let rest = &msg[start.len() + name.len() + 1..];
    let expected = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    Some((name.to_owned(), expected))
}

fn names_cause(what: &str, path: Option<&str>, expected: &[String]) -> String {
    let place = match path {
        Some(p) if !p.is_empty() => format!("'{p}'"),
        _ => what.to_owned(),
    };
    if expected.is_empty() {
        format!("{place} has no fields.")
    } else {
        format!("The fields of {place} are: {}.", expected.join(", "))
    }
}

/// "Did you mean 'place_count'?" when a valid name is close, else `otherwise`.
fn did_you_mean(name: &str, valid: &[String], otherwise: &str) -> String {
    match closest(name, valid) {
        Some(m) => format!("Did you mean '{m}'?"),
        None => otherwise.to_owned(),
    }
}

/// The valid name closest to `name`, if it is close enough to be a typo (or a prefix).
pub fn closest<'a>(name: &str, valid: &'a [String]) -> Option<&'a str> {
    // No name is that long: a huge key is not a typo, and the distance would cost its square.
    if name.len() > 64 {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    valid
        .iter()
        .map(|v| (edit_distance(&lower, &v.to_ascii_lowercase()), v))
        .filter(|(d, v)| *d <= (v.len() / 3).max(2) || (lower.len() >= 3 && v.starts_with(&lower)))
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v.as_str())
}

/// Levenshtein distance over bytes.
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = (diag + usize::from(ca != *cb)).min(up + 1).min(row[j] + 1);
            diag = up;
        }
    }
    row[b.len()]
}

/// What an integer type accepts, in words.
fn range_of(ty: &str) -> String {
    let max = match ty.trim() {
        "u8" => u64::from(u8::MAX),
        "u16" => u64::from(u16::MAX),
        "u32" => u64::from(u32::MAX),
        "u64" => u64::MAX,
        "i64" => return "a whole number".to_owned(),
        other => return format!("a value of type {other}"),
    };
    format!("a whole number from 0 to {max}")
}

#[cfg(test)]
mod tests;
