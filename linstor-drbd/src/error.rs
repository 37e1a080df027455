//! The crate's one error type.
//!
//! Each variant is something a caller acts on: fix a property (`InvalidOption`), fix the input to
//! the renderer (`InvalidConfig`), look at drbdadm's complaint about a rendered file
//! (`ConfigRejected`), report a failed tool run (`Command`, which keeps the argv, exit status and
//! output), fix the host (`Io` on the config directory), or report a broken events2 line
//! (`Parse`).

use std::path::PathBuf;

use linstor_backends::BackendError;

/// Everything that can go wrong in `linstor-drbd`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DrbdError {
    /// A `DrbdOptions/…` property names an unknown option or has a value DRBD does not accept.
    #[error("invalid DRBD option '{key}' = '{value}': allowed: {allowed}")]
    InvalidOption {
        /// The full property key (`DrbdOptions/Net/protocol`) or `<section>/<option>`.
        key: String,
        /// The value as given.
        value: String,
        /// What would be accepted (a list of values, a range with its unit, or the known options).
        allowed: String,
    },
    /// The renderer's input cannot be turned into a valid `.res` file (nothing was written).
    #[error("cannot render DRBD resource '{resource}': {reason}")]
    InvalidConfig {
        /// The resource.
        resource: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// `drbdadm` refused a rendered configuration; the previous file is still in place.
    #[error("drbdadm rejected the configuration of '{resource}': {stderr}")]
    ConfigRejected {
        /// The resource.
        resource: String,
        /// drbdadm's complaint (stderr, trimmed).
        stderr: String,
    },
    /// An external command failed, timed out or is missing (argv, exit status and output inside).
    #[error(transparent)]
    Command(#[from] BackendError),
    /// A file operation on the configuration directory failed.
    #[error("{action} '{path}': {source}")]
    Io {
        /// What was being done, as a verb phrase ("write", "rename", …).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Applying a new configuration failed and restoring the last good one failed as well.
    #[error("{cause}; restoring the previous configuration also failed: {rollback}")]
    Rollback {
        /// Why applying failed.
        cause: Box<DrbdError>,
        /// Why the restore failed.
        rollback: Box<DrbdError>,
    },
    /// A line of `drbdsetup events2` (or other tool output) could not be understood.
    #[error("cannot parse '{line}': {reason}")]
    Parse {
        /// The offending line.
        line: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl From<linstor_core::drbd_options::OptionsError> for DrbdError {
    fn from(e: linstor_core::drbd_options::OptionsError) -> Self {
        use linstor_core::drbd_options::OptionsError as O;
        match e {
            O::InvalidOption {
                key,
                value,
                allowed,
            } => DrbdError::InvalidOption {
                key,
                value,
                allowed,
            },
            O::Parse { line, reason } => DrbdError::Parse { line, reason },
        }
    }
}

impl DrbdError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        DrbdError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = DrbdError> = std::result::Result<T, E>;
