//! Shared plumbing for the providers: running a command with the pool's environment and
//! timeout, and reporting a failed undo.

use std::sync::Arc;
use std::time::Duration;

use crate::error::BackendError;
use crate::runner::{Cmd, CmdOutput, CommandRunner};

/// A runner plus the environment and timeout a provider applies to all its commands.
#[derive(Debug, Clone)]
pub(crate) struct Exec {
    pub runner: Arc<dyn CommandRunner>,
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
}

impl Exec {
    /// Builds the command `program args…` with the pool's env and timeout.
    pub fn cmd(&self, program: &str, args: Vec<String>) -> Cmd {
        let mut cmd = Cmd::new(program).args(args).timeout(self.timeout);
        for (k, v) in &self.env {
            cmd = cmd.env(k, v);
        }
        cmd
    }

    /// Runs `program args…`, exit code 0 required.
    pub async fn run(&self, program: &str, args: Vec<String>) -> Result<CmdOutput, BackendError> {
        self.runner.run(&self.cmd(program, args)).await
    }

    /// Runs a prepared command.
    pub async fn run_cmd(&self, cmd: &Cmd) -> Result<CmdOutput, BackendError> {
        self.runner.run(cmd).await
    }
}

/// Combines the failure of an operation with the outcome of undoing it.
pub(crate) fn after_rollback(
    cause: BackendError,
    rollback: Result<(), BackendError>,
    left_behind: impl FnOnce() -> String,
) -> BackendError {
    match rollback {
        Ok(()) => cause,
        Err(rb) => {
            let left_behind = left_behind();
            tracing::error!(%cause, rollback = %rb, %left_behind, "rollback failed");
            BackendError::RollbackFailed {
                cause: Box::new(cause),
                rollback: Box::new(rb),
                left_behind,
            }
        }
    }
}
