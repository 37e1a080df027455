//! The controller's answers to changes (LINSTOR's `ApiCallRc` lists) in plain words: one block
//! per entry, headed SUCCESS, INFO, WARNING or ERROR, with the message, and for the entries
//! that have them the cause, the correction, the details and the error reports to read. The
//! `ret_code` numbers are not shown (`-m` prints the JSON with them).

use serde_json::Value;

use crate::error::exit;

const MASK_ERROR: u64 = 0xC000_0000_0000_0000;
const MASK_WARN: u64 = 0x8000_0000_0000_0000;
const MASK_INFO: u64 = 0x4000_0000_0000_0000;

/// What kind of entry a `ret_code` is (python-linstor's test order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Done.
    Success,
    /// For information.
    Info,
    /// Done, with something to look at.
    Warning,
    /// Not done.
    Error,
}

impl Level {
    /// The level of a `ret_code` (signed, as Java sends it, or unsigned).
    pub fn of(rc: &Value) -> Level {
        let bits = rc
            .as_i64()
            .map(|v| u64::from_ne_bytes(v.to_ne_bytes()))
            .or_else(|| rc.as_u64())
            .unwrap_or(MASK_ERROR);
        if bits & MASK_ERROR == MASK_ERROR {
            Level::Error
        } else if bits & MASK_WARN == MASK_WARN {
            Level::Warning
        } else if bits & MASK_INFO == MASK_INFO {
            Level::Info
        } else {
            Level::Success
        }
    }

    fn title(self) -> &'static str {
        match self {
            Level::Success => "SUCCESS",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
        }
    }

    fn color(self) -> &'static str {
        match self {
            Level::Success => "\x1b[1;32m",
            Level::Info => "\x1b[1;34m",
            Level::Warning => "\x1b[1;33m",
            Level::Error => "\x1b[1;31m",
        }
    }
}

/// True if `body` is a list of `ApiCallRc` entries.
pub fn is_rc_list(body: &Value) -> bool {
    body.as_array()
        .is_some_and(|a| !a.is_empty() && a.iter().all(|e| e.get("ret_code").is_some()))
}

/// The entries of an rc list rendered for people, and the exit code they mean (10 if any
/// entry is an error, 0 otherwise).
pub fn render(body: &Value, color: bool) -> (String, i32) {
    let mut out = String::new();
    let mut code = exit::OK;
    for e in body.as_array().map(Vec::as_slice).unwrap_or_default() {
        let level = Level::of(e.get("ret_code").unwrap_or(&Value::Null));
        if level == Level::Error {
            code = exit::API_ERROR;
        }
        render_entry(&mut out, e, level, color);
    }
    (out, code)
}

fn text<'a>(e: &'a Value, key: &str) -> Option<&'a str> {
    e.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn render_entry(out: &mut String, e: &Value, level: Level, color: bool) {
    if color {
        out.push_str(level.color());
        out.push_str(level.title());
        out.push_str(":\x1b[0m\n");
    } else {
        out.push_str(level.title());
        out.push_str(":\n");
    }
    let message = text(e, "message").unwrap_or("(no message)");
    let sections = [
        ("Cause", text(e, "cause")),
        ("Correction", text(e, "correction")),
        ("Details", text(e, "details")),
    ];
    let reports: Vec<String> = e
        .get("error_report_ids")
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(|id| format!("linstor error-reports show {id}"))
                .collect()
        })
        .unwrap_or_default();
    if sections.iter().all(|(_, v)| v.is_none()) && reports.is_empty() {
        push_indented(out, message);
        return;
    }
    out.push_str("Description:\n");
    push_indented(out, message);
    for (title, value) in sections {
        if let Some(v) = value {
            out.push_str(title);
            out.push_str(":\n");
            push_indented(out, v);
        }
    }
    if !reports.is_empty() {
        out.push_str("Show reports:\n");
        push_indented(out, &reports.join("\n"));
    }
}

fn push_indented(out: &mut String, text: &str) {
    for line in text.lines() {
        out.push_str("    ");
        out.push_str(line);
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn levels_by_mask() {
        let cases = [
            (json!(20_447_233), Level::Success),
            (json!(-4_611_686_018_427_387_704_i64), Level::Error),
            (json!(0xC000_0000_0000_00C8_u64), Level::Error),
            (json!(-9_223_372_036_854_775_807_i64), Level::Warning),
            (json!(0x4000_0000_0000_0001_u64), Level::Info),
            (json!("nonsense"), Level::Error),
        ];
        for (rc, want) in cases {
            assert_eq!(Level::of(&rc), want, "{rc}");
        }
    }

    #[test]
    fn blocks_for_people() {
        let body = json!([
            {"ret_code": 20447233, "message": "New resource definition 'r1' created."},
            {"ret_code": -9223372036854775807_i64, "message": "Node 'n2' is offline.",
             "details": "The resource will be created when it connects."},
            {"ret_code": -4611686018427387704_i64, "message": "Invalid node name '-bad'.",
             "cause": "A node name must start with a letter or digit.",
             "correction": "Use letters, digits, '_' and '-', starting with a letter or digit.",
             "error_report_ids": ["6930C1A2-00000-000001"]}
        ]);
        assert!(is_rc_list(&body));
        let (text, code) = render(&body, false);
        assert_eq!(code, exit::API_ERROR);
        insta::assert_snapshot!(text);
        let (ok, code) = render(&json!([{"ret_code": 1, "message": "done"}]), false);
        assert_eq!((ok.as_str(), code), ("SUCCESS:\n    done\n", exit::OK));
        let (colored, _) = render(&json!([{"ret_code": 1, "message": "done"}]), true);
        assert!(colored.starts_with("\x1b[1;32mSUCCESS:\x1b[0m\n"));
        assert!(!is_rc_list(&json!([])));
        assert!(!is_rc_list(&json!([{"name": "n1"}])));
    }
}
