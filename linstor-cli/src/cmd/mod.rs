//! The commands: each builds its REST request from the arguments, sends it, and prints the
//! answer (a table, a property list, or the entries of a change). Tables are built by pure
//! functions of the JSON (`*_table`), so they are tested on recorded answers.

pub mod advise;
pub mod ctrl;
pub mod group;
pub mod node;
pub mod pool;
pub mod progress;
pub mod rsc;
pub mod snap;

use std::collections::BTreeMap;
use std::io::Write as _;

use serde_json::{Value, json};

use crate::args::{KeyValue, Object};
use crate::client::{Client, Reply};
use crate::error::{CliError, exit};
use crate::reply;
use crate::table::{Cell, Color, Style, Table};

/// What every command needs.
#[derive(Debug)]
pub struct Ctx {
    /// The REST client.
    pub client: Client,
    /// Print the JSON as answered.
    pub machine: bool,
    /// How tables and replies look.
    pub style: Style,
}

impl Ctx {
    /// Prints text as is.
    pub fn print(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        // A closed pipe (`linstor n l | head`) is not an error worth a panic.
        let _ = out.write_all(text.as_bytes());
    }

    /// Prints the JSON (for `-m`), pretty as LINSTOR's client does.
    pub fn print_json(&self, v: &Value) {
        let text = serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
        self.print(&format!("{text}\n"));
    }

    /// Prints a table (or the JSON with `-m`).
    pub fn print_table(&self, body: &Value, table: &Table) -> i32 {
        if self.machine {
            self.print_json(body);
        } else {
            self.print(&table.render(self.style));
        }
        exit::OK
    }

    /// Prints a change's answer and returns its exit code.
    pub fn print_replies(&self, r: &Reply) -> Result<i32, CliError> {
        if self.machine {
            self.print_json(&r.body);
            return Ok(if reply::is_rc_list(&r.body) {
                reply::render(&r.body, false).1
            } else if r.status >= 400 {
                exit::API_ERROR
            } else {
                exit::OK
            });
        }
        if reply::is_rc_list(&r.body) {
            let (text, code) = reply::render(&r.body, self.style.color);
            self.print(&text);
            Ok(code)
        } else if r.status >= 400 {
            Err(CliError::UnexpectedReply {
                url: String::new(),
                reason: format!("HTTP {} without LINSTOR's answer entries", r.status),
            })
        } else {
            Ok(exit::OK)
        }
    }

    /// `GET` of a list: the body, or the controller's error entries printed (exit code).
    pub fn get_list(&self, path: &str) -> Result<Result<Value, i32>, CliError> {
        let r = self.client.get(path)?;
        if r.status >= 400 || reply::is_rc_list(&r.body) {
            return self.print_replies(&r).map(Err);
        }
        Ok(Ok(r.body))
    }
}

/// Runs one command line's object command.
pub fn run(ctx: &Ctx, object: Object) -> Result<i32, CliError> {
    match object {
        Object::Controller(c) => ctrl::run(ctx, c),
        Object::Node(c) => node::run(ctx, c),
        Object::StoragePool(c) => pool::run(ctx, c),
        Object::ResourceGroup(c) => group::run_rg(ctx, c),
        Object::VolumeGroup(c) => group::run_vg(ctx, c),
        Object::ResourceDefinition(c) => rsc::run_rd(ctx, c),
        Object::VolumeDefinition(c) => rsc::run_vd(ctx, c),
        Object::Resource(c) => rsc::run_rsc(ctx, c),
        Object::Volume(c) => rsc::run_volume(ctx, c),
        Object::Advise(c) => advise::run(ctx, c),
        Object::Snapshot(c) => snap::run(ctx, c),
        Object::KeyValueStore(c) => snap::run_kv(ctx, c),
        Object::ErrorReports(c) => snap::run_err(ctx, c),
        Object::PhysicalStorage(c) => snap::run_ps(ctx, c),
    }
}

/// A path segment, percent-encoded (names are checked by the controller, not here).
pub fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `?key=a&key=b` for list filters (empty without values).
pub fn query(pairs: &[(&str, &[String])]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .flat_map(|(k, vs)| vs.iter().map(move |v| format!("{k}={}", seg(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// The body of a property change: `override_props` or `delete_props`.
pub fn props_change(kv: &KeyValue) -> Value {
    match &kv.value {
        Some(v) => json!({ "override_props": { kv.key.clone(): v } }),
        None => json!({ "delete_props": [kv.key.clone()] }),
    }
}

/// A `Key | Value` table of a property map.
pub fn props_table(props: Option<&Value>) -> Table {
    let mut t = Table::new(&["Key", "Value"]);
    let map: BTreeMap<&str, &str> = props
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    for (k, v) in map {
        t.row(vec![k.into(), v.into()]);
    }
    t
}

/// A string field (empty if missing).
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The string items of an array field.
pub fn strs<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The items of an array body (or field).
pub fn items(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// A size in KiB as LINSTOR's client prints it: the largest unit that keeps the number at
/// least 1, without decimals when exact, else two ("1.95 GiB").
pub fn size_kib(kib: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut unit = 0;
    let mut div = 1u64;
    while unit + 1 < UNITS.len() && kib >= div * 1024 {
        div *= 1024;
        unit += 1;
    }
    if kib % div == 0 {
        format!("{} {}", kib / div, UNITS[unit])
    } else {
        #[allow(clippy::cast_precision_loss)]
        let v = kib as f64 / div as f64;
        format!("{v:.2} {}", UNITS[unit])
    }
}

/// A colour for a state word.
pub fn state_color(state: &str) -> Option<Color> {
    match state {
        "Online" | "UpToDate" | "Ok" | "Created" | "Diskless" | "TieBreaker" | "Successful"
        | "InUse" | "Unused" => Some(Color::Green),
        "Connecting" | "SyncTarget" | "SyncSource" | "Inconsistent" | "Outdated" | "Attaching"
        | "Negotiating" | "Incomplete" | "DELETING" | "Unknown" => Some(Color::Yellow),
        "" => None,
        _ => Some(Color::Red),
    }
}

/// A state cell.
pub fn state_cell(state: &str) -> Cell {
    Cell::colored(state, state_color(state))
}

/// Parses a size as LINSTOR's client does: a bare number is GiB.
pub fn parse_size(input: &str) -> Result<u64, CliError> {
    linstor_core::size::SizeKib::parse_with_default(input, linstor_core::size::Unit::GiB)
        .map(|s| s.kib())
        .map_err(|e| CliError::Usage {
            message: format!("size '{input}': {e}"),
            correction: "write a size as a number with an optional unit: 10G, 512MiB, 1T (a bare number is GiB)".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_like_linstor() {
        let cases = [
            (0, "0 KiB"),
            (512, "512 KiB"),
            (1024, "1 MiB"),
            (1536, "1.50 MiB"),
            (1024 * 1024, "1 GiB"),
            (2_044_928, "1.95 GiB"),
            (5 * 1024 * 1024 * 1024, "5 TiB"),
        ];
        for (kib, want) in cases {
            assert_eq!(size_kib(kib), want, "{kib}");
        }
    }

    #[test]
    fn segments_and_queries_are_encoded() {
        assert_eq!(seg("a b/c"), "a%20b%2Fc");
        assert_eq!(
            query(&[("nodes", &["n1".into(), "n 2".into()]), ("x", &[])]),
            "?nodes=n1&nodes=n%202"
        );
        assert_eq!(query(&[("nodes", &[])]), "");
    }

    #[test]
    fn sizes_parse_with_gib_default() {
        assert_eq!(parse_size("1").expect("ok"), 1024 * 1024);
        assert_eq!(parse_size("512MiB").expect("ok"), 512 * 1024);
        let e = parse_size("ten").expect_err("bad");
        assert!(e.to_string().contains("'ten'"), "{e}");
    }
}
