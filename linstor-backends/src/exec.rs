//! Shared plumbing for the providers: running a command with the pool's environment and
//! timeout, and reporting a failed undo.

use std::sync::Arc;
use std::time::Duration;

use crate::error::{BackendError, display_argv};
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

/// How often and how far apart a command is retried while its target is busy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BusyRetry {
    /// Retries after the first attempt.
    pub retries: u32,
    /// The pause before each retry.
    pub delay: Duration,
}

impl BusyRetry {
    /// Runs `attempt` until it succeeds, fails in a way `is_busy` does not recognise, or has
    /// failed busy `1 + retries` times; then the result is [`BackendError::InUse`] naming the
    /// last argv and its stderr.
    pub async fn run<F, Fut>(
        self,
        what: &'static str,
        name: &str,
        is_busy: fn(&BackendError) -> bool,
        mut attempt: F,
    ) -> Result<CmdOutput, BackendError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<CmdOutput, BackendError>>,
    {
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            match attempt().await {
                Err(e) if is_busy(&e) => {
                    if attempts > self.retries {
                        let BackendError::CommandFailed { argv, stderr, .. } = &e else {
                            return Err(e);
                        };
                        return Err(BackendError::InUse {
                            what,
                            name: name.to_owned(),
                            reason: format!(
                                "`{}` still failed after {attempts} attempts {:?} apart: {}; \
                                 close what holds it open (a mount, a DRBD resource, a process) \
                                 and delete again",
                                display_argv(argv),
                                self.delay,
                                stderr.trim()
                            ),
                        });
                    }
                    tracing::info!(error = %e, attempts, "{what} {name} busy; retrying");
                    tokio::time::sleep(self.delay).await;
                }
                other => return other,
            }
        }
    }
}
