//! The satellite library's errors: what failed, on which object, and what to do.

use std::path::{Path, PathBuf};

/// Errors of the satellite's actions and set-up.
#[derive(Debug, thiserror::Error)]
pub enum SatError {
    /// A storage tool or provider failed (the error carries the command, exit code, stderr).
    #[error(transparent)]
    Backend(#[from] linstor_backends::BackendError),
    /// A DRBD tool failed or a configuration was rejected.
    #[error(transparent)]
    Drbd(#[from] linstor_drbd::DrbdError),
    /// A local file could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was tried.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The storage pool an action needs is not usable on this node.
    #[error("storage pool '{pool}' cannot be used on this node: {reason}")]
    Pool {
        /// Pool.
        pool: String,
        /// Why.
        reason: String,
    },
    /// Something the action needs is not there (yet).
    #[error("{what} is missing; the next pass retries once it exists")]
    Missing {
        /// What.
        what: String,
    },
    /// The DRBD kernel module is not available.
    #[error(
        "resource '{rsc}' needs DRBD, which this node cannot run ({why}); load the DRBD 9 \
         kernel module (modprobe drbd), or start the satellite with --simulate-drbd to simulate it"
    )]
    NoDrbd {
        /// Resource.
        rsc: String,
        /// Why.
        why: String,
    },
}

impl SatError {
    /// An IO error on `path`.
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> SatError {
        SatError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// The command line, exit code and stderr of a failed external command, if that is what
    /// failed.
    pub fn command(&self) -> Option<(Vec<String>, Option<i32>, String)> {
        use linstor_backends::{BackendError, ExitKind};
        let be = match self {
            SatError::Backend(b) => b,
            SatError::Drbd(linstor_drbd::DrbdError::Command(b)) => b,
            _ => return None,
        };
        match be {
            BackendError::CommandFailed {
                argv, exit, stderr, ..
            } => {
                let code = match exit {
                    ExitKind::Code(c) => Some(*c),
                    _ => None,
                };
                Some((argv.clone(), code, stderr.clone()))
            }
            _ => None,
        }
    }
}
