//! Error reports in LINSTOR's form: every failure the controller handles (a panicking request,
//! a failed commit) gets an id like `5DF8597F-00000-000195` (start time in hex, node number,
//! sequence) and a text file `ErrorReport-<id>.log` in the data directory's `logs/`, listed by
//! `GET /v1/error-reports`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The error reports of one controller run.
#[derive(Debug)]
pub struct ErrorReports {
    dir: PathBuf,
    prefix: String,
    seq: AtomicU64,
    node: String,
}

pub use linstor_api::view::ErrorReport;

impl ErrorReports {
    /// Reports in `data_dir/logs`, numbered from this start (`boot_secs` is the start time).
    pub fn new(data_dir: &Path, boot_secs: u64, node: &str) -> ErrorReports {
        ErrorReports {
            dir: data_dir.join("logs"),
            prefix: format!("{:08X}", boot_secs & 0xFFFF_FFFF),
            seq: AtomicU64::new(0),
            node: node.to_owned(),
        }
    }

    /// Records a failure and returns its id. A report that cannot be written is logged; the id
    /// is still returned (the log line carries the same text).
    pub fn record(&self, exception: &str, message: &str) -> String {
        self.record_from(&self.node, "Controller", exception, message)
    }

    /// Records a failure a satellite reported (`node`'s, module `Satellite`).
    pub fn record_satellite(&self, node: &str, exception: &str, message: &str) -> String {
        self.record_from(node, "Satellite", exception, message)
    }

    fn record_from(&self, node: &str, module: &str, exception: &str, message: &str) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}-00000-{:06}", self.prefix, n);
        let now = now_ms();
        let text = format!(
            "ERROR REPORT {id}\n\n============================================================\n\n\
             Application:                        linstor-rs\nModule:                             {module}\n\
             Version:                            {}\nNode:                               {node}\n\
             Error time (ms since epoch):        {now}\n\n\
             Reported error:\n===============\n\nCategory:                           {exception}\n\
             Error message:                      {message}\n",
            env!("CARGO_PKG_VERSION"),
        );
        let write = std::fs::create_dir_all(&self.dir)
            .and_then(|()| std::fs::write(self.dir.join(format!("ErrorReport-{id}.log")), text));
        if let Err(e) = write {
            tracing::error!(report = %id, dir = %self.dir.display(), "cannot write the error report: {e}");
        }
        id
    }

    /// Every report on disk, oldest first; `since`/`to` in ms bound the time.
    pub fn list(
        &self,
        with_content: bool,
        since: Option<i64>,
        to: Option<i64>,
    ) -> Vec<ErrorReport> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out: Vec<ErrorReport> = entries
            .filter_map(Result::ok)
            .filter_map(|e| self.read(&e.file_name().to_string_lossy(), with_content))
            .filter(|r| {
                since.is_none_or(|s| r.error_time >= s) && to.is_none_or(|t| r.error_time <= t)
            })
            .collect();
        out.sort_by(|a, b| (a.error_time, &a.filename).cmp(&(b.error_time, &b.filename)));
        out
    }

    /// One report by id.
    pub fn get(&self, id: &str) -> Option<ErrorReport> {
        if !valid_id(id) {
            return None;
        }
        self.read(&format!("ErrorReport-{id}.log"), true)
    }

    /// Deletes one report; false if there was none.
    pub fn delete(&self, id: &str) -> bool {
        valid_id(id) && std::fs::remove_file(self.dir.join(format!("ErrorReport-{id}.log"))).is_ok()
    }

    /// Deletes every report `select` picks; returns the ids deleted.
    pub fn delete_where(&self, select: impl Fn(&str, &ErrorReport) -> bool) -> Vec<String> {
        let mut gone = Vec::new();
        for r in self.list(false, None, None) {
            let Some(id) = r
                .filename
                .strip_prefix("ErrorReport-")
                .and_then(|f| f.strip_suffix(".log"))
            else {
                continue;
            };
            if select(id, &r) && self.delete(id) {
                gone.push(id.to_owned());
            }
        }
        gone
    }

    fn read(&self, file: &str, with_content: bool) -> Option<ErrorReport> {
        file.strip_prefix("ErrorReport-")?.strip_suffix(".log")?;
        let text = std::fs::read_to_string(self.dir.join(file)).ok()?;
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_owned())
                .unwrap_or_default()
        };
        Some(ErrorReport {
            node_name: field("Node:"),
            error_time: field("Error time (ms since epoch):").parse().unwrap_or(0),
            filename: file.to_owned(),
            module: field("Module:").to_ascii_uppercase(),
            version: field("Version:"),
            exception: field("Category:"),
            exception_message: Some(field("Error message:")),
            text: with_content.then_some(text),
            peer: None,
            origin_file: None,
            origin_method: None,
            origin_line: None,
        })
    }
}

/// Ids are hex, digits and dashes only: nothing else reaches a file name.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() < 64 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

fn now_ms() -> i64 {
    linstor_core::cluster::Env::now_ms(&mut crate::engine::SystemEnv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_reports_are_listed_read_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let r = ErrorReports::new(dir.path(), 0x5DF8_597F, "ctrl");
        let a = r.record("handler panic", "index out of bounds");
        let b = r.record("commit failed", "disk full");
        assert_eq!(a, "5DF8597F-00000-000000");
        assert_eq!(b, "5DF8597F-00000-000001");
        let all = r.list(false, None, None);
        assert_eq!(all.len(), 2);
        assert!(all[0].text.is_none());
        let one = r.get(&b).unwrap();
        assert_eq!(one.exception_message.as_deref(), Some("disk full"));
        assert_eq!(one.node_name, "ctrl");
        assert!(
            one.text
                .unwrap()
                .contains("ERROR REPORT 5DF8597F-00000-000001")
        );
        assert!(r.get("../../etc/passwd").is_none());
        assert!(r.delete(&a));
        assert!(!r.delete(&a));
        assert_eq!(r.list(true, None, None).len(), 1);
        let c = r.record("other", "x");
        assert_eq!(r.delete_where(|_, e| e.exception == "other"), vec![c]);
        assert_eq!(r.delete_where(|_, _| true), vec![b]);
    }
}
