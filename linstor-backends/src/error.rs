//! The crate's one error type.
//!
//! Every variant is a distinction a caller acts on: retry later (`Timeout`, `InUse`), fix the
//! request (`InvalidInput`, `InsufficientSpace`, `AlreadyExists`), fix the host (`ToolMissing`,
//! `Unsupported`), or report a tool failure with everything needed to reproduce it
//! (`CommandFailed` carries the argv, the exit code or signal, stdout and stderr).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use linstor_core::SizeKib;

/// How a process ended when it did not end the way the caller accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// It exited with this code.
    Code(i32),
    /// It was killed by this signal.
    Signal(i32),
}

impl fmt::Display for ExitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitKind::Code(c) => write!(f, "exit code {c}"),
            ExitKind::Signal(s) => write!(f, "signal {s}"),
        }
    }
}

/// Renders an argv for messages: words joined by spaces, words with blanks or quotes quoted.
pub fn display_argv(argv: &[String]) -> String {
    argv.iter()
        .map(|w| {
            if w.is_empty() || w.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"') {
                format!("{w:?}")
            } else {
                w.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn trim_output(s: &str) -> &str {
    s.trim()
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// The object does not exist (a volume, a snapshot, a pool).
    #[error("{what} '{name}' not found")]
    NotFound {
        /// What was looked for ("volume", "snapshot", "volume group", …).
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// The object exists already, with a size other than the one requested.
    #[error(
        "volume '{name}' already exists with {existing} KiB, but {requested} KiB were requested; \
         delete it or resize it instead"
    )]
    AlreadyExists {
        /// The volume's name.
        name: String,
        /// Its current size in KiB.
        existing: u64,
        /// The size requested in KiB.
        requested: u64,
    },
    /// A caller-supplied value is unusable; nothing was run.
    #[error("invalid {field} '{value}': {correction}")]
    InvalidInput {
        /// Which input.
        field: &'static str,
        /// The value as given.
        value: String,
        /// How to fix it.
        correction: String,
    },
    /// External programs are not installed in any of the searched directories.
    #[error(
        "missing tool(s) {}: not found as executables in {}; install them (e.g. lvm2, zfsutils-linux, util-linux)",
        tools.join(", "),
        searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":")
    )]
    ToolMissing {
        /// The bare program names that were not found.
        tools: Vec<String>,
        /// The directories searched.
        searched: Vec<PathBuf>,
    },
    /// A program could not be started at all.
    #[error("could not start `{}`: {source}", display_argv(argv))]
    Spawn {
        /// The full argv (program resolved).
        argv: Vec<String>,
        /// The OS error.
        source: std::io::Error,
    },
    /// A program ended with an exit code the caller does not accept, or by a signal.
    #[error(
        "command `{}` failed with {exit}: {}",
        display_argv(argv),
        if trim_output(stderr).is_empty() { trim_output(stdout) } else { trim_output(stderr) }
    )]
    CommandFailed {
        /// The full argv (program as resolved).
        argv: Vec<String>,
        /// Exit code or signal.
        exit: ExitKind,
        /// Its standard output (lossy UTF-8).
        stdout: String,
        /// Its standard error (lossy UTF-8).
        stderr: String,
    },
    /// A program did not finish within its timeout and was killed.
    #[error(
        "command `{}` timed out after {timeout:?} and was killed",
        display_argv(argv)
    )]
    Timeout {
        /// The full argv.
        argv: Vec<String>,
        /// The timeout that expired.
        timeout: Duration,
    },
    /// A tool's output could not be understood.
    #[error("cannot parse {tool} output, line {line_no} {line:?}: {reason}")]
    ParseError {
        /// Which tool produced it (`lvs`, `zfs list`, …).
        tool: &'static str,
        /// 1-based line number (0: the output as a whole).
        line_no: usize,
        /// The offending line (truncated to 200 bytes).
        line: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The pool has not enough free space; nothing was created.
    #[error(
        "storage pool '{pool}' has {free} KiB free, but {requested} KiB were requested; \
         choose a smaller size or another pool"
    )]
    InsufficientSpace {
        /// The pool (VG, zpool, directory).
        pool: String,
        /// KiB requested.
        requested: u64,
        /// KiB free.
        free: u64,
    },
    /// The provider cannot do this (per LINSTOR's capability matrix, or on this host).
    #[error("{provider} does not support {operation}: {reason}")]
    Unsupported {
        /// The provider kind, as LINSTOR names it.
        provider: &'static str,
        /// The operation.
        operation: &'static str,
        /// Why.
        reason: String,
    },
    /// The object is in use and cannot be changed now (e.g. a volume with snapshots on ZFS).
    #[error("{what} '{name}' is in use: {reason}")]
    InUse {
        /// What.
        what: &'static str,
        /// Its name.
        name: String,
        /// Why it is in use and what to do.
        reason: String,
    },
    /// A file-system operation done in-process failed.
    #[error("could not {action} '{}': {source}", path.display())]
    Io {
        /// The action as a verb phrase ("remove the volume file", …).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// An operation failed midway and undoing its first steps failed too: `left_behind` says
    /// exactly what is still there.
    #[error("{cause}; cleaning up failed too ({rollback}), left behind: {left_behind}")]
    RollbackFailed {
        /// The original failure.
        cause: Box<BackendError>,
        /// The failure of the cleanup.
        rollback: Box<BackendError>,
        /// What is left on the host.
        left_behind: String,
    },
    /// A fault injected into the simulated provider (never produced by real providers).
    #[error("simulated fault injected into {operation} of '{target}'")]
    SimulatedFault {
        /// The operation that was made to fail.
        operation: &'static str,
        /// The volume or pool.
        target: String,
    },
}

impl BackendError {
    /// Shorthand for [`BackendError::InvalidInput`].
    pub fn invalid(
        field: &'static str,
        value: impl Into<String>,
        correction: impl Into<String>,
    ) -> Self {
        BackendError::InvalidInput {
            field,
            value: value.into(),
            correction: correction.into(),
        }
    }

    /// Shorthand for [`BackendError::ParseError`]; the line is truncated to 200 bytes.
    pub fn parse(
        tool: &'static str,
        line_no: usize,
        line: &str,
        reason: impl Into<String>,
    ) -> Self {
        let mut end = line.len().min(200);
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        BackendError::ParseError {
            tool,
            line_no,
            line: line[..end].to_owned(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`BackendError::InsufficientSpace`].
    pub fn no_space(pool: impl Into<String>, requested: SizeKib, free: SizeKib) -> Self {
        BackendError::InsufficientSpace {
            pool: pool.into(),
            requested: requested.kib(),
            free: free.kib(),
        }
    }

    /// The argv of the command involved, if any.
    pub fn argv(&self) -> Option<&[String]> {
        match self {
            BackendError::Spawn { argv, .. }
            | BackendError::CommandFailed { argv, .. }
            | BackendError::Timeout { argv, .. } => Some(argv),
            _ => None,
        }
    }
}
