//! The one way this crate (and its users) run external commands.
//!
//! * [`Cmd`] describes a command: a bare program name (resolved by the runner), argv words (never
//!   a shell line), extra environment, stdin, a timeout and the exit codes that count as success.
//! * [`CommandRunner`] runs it. [`RealRunner`] resolves the program to an absolute path in a fixed
//!   list of directories, starts it without a shell in a process group of its own, kills that
//!   whole group (so helpers it started die too) on timeout and when the future is dropped, and
//!   wraps each run in a `tracing` span named `cmd`. [`ScriptedRunner`] is the fake
//!   for tests: an ordered queue of expected argvs with canned outputs; it fails on any unexpected
//!   call and on expectations left unused.
//!
//! Both runners apply the same exit-code policy, so code under test behaves the same on either:
//! an exit code outside [`Cmd::ok_exit_codes`] becomes [`BackendError::CommandFailed`].

use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing::Instrument;

use crate::error::{BackendError, ExitKind, display_argv};

/// Timeout used when a [`Cmd`] does not set one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Directories [`RealRunner::new`] searches, in order.
pub const DEFAULT_SEARCH_DIRS: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// Which exit codes count as success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitPolicy {
    /// Only 0.
    Zero,
    /// Any of these codes.
    Codes(Vec<i32>),
    /// Any exit code (the caller inspects [`CmdOutput::status`]); a signal is still a failure.
    Any,
}

impl ExitPolicy {
    /// Whether `code` counts as success.
    pub fn accepts(&self, code: i32) -> bool {
        match self {
            ExitPolicy::Zero => code == 0,
            ExitPolicy::Codes(codes) => codes.contains(&code),
            ExitPolicy::Any => true,
        }
    }
}

/// A command to run: program, argv words, environment, stdin, timeout, accepted exit codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    /// Bare program name (`lvs`), resolved by the runner; an absolute path is used as is.
    pub program: String,
    /// Arguments, one word each; no shell ever sees them.
    pub args: Vec<OsString>,
    /// Extra environment variables (the runner's base environment is kept, plus `LC_ALL=C`).
    pub env: Vec<(OsString, OsString)>,
    /// Bytes fed to stdin (stdin is `/dev/null` when `None`).
    pub stdin: Option<Vec<u8>>,
    /// How long the command may run before it is killed.
    pub timeout: Duration,
    /// Which exit codes count as success.
    pub ok_exit: ExitPolicy,
}

impl Cmd {
    /// A command with no arguments, the default timeout and only exit code 0 accepted.
    pub fn new(program: impl Into<String>) -> Self {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
            timeout: DEFAULT_TIMEOUT,
            ok_exit: ExitPolicy::Zero,
        }
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets the bytes written to stdin.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Sets the timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Accepts these exit codes as success (instead of only 0).
    pub fn ok_exit_codes(mut self, codes: &[i32]) -> Self {
        self.ok_exit = ExitPolicy::Codes(codes.to_vec());
        self
    }

    /// Accepts any exit code; the caller looks at [`CmdOutput::status`].
    pub fn any_exit_code(mut self) -> Self {
        self.ok_exit = ExitPolicy::Any;
        self
    }

    /// The argv as strings (program as given, not resolved), lossy for non-UTF-8 words.
    pub fn argv(&self) -> Vec<String> {
        std::iter::once(self.program.clone())
            .chain(self.args.iter().map(|a| a.to_string_lossy().into_owned()))
            .collect()
    }
}

/// What a finished command produced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CmdOutput {
    /// The exit code (accepted by the command's [`ExitPolicy`]).
    pub status: i32,
    /// Standard output, lossy UTF-8.
    pub stdout: String,
    /// Standard error, lossy UTF-8.
    pub stderr: String,
}

impl CmdOutput {
    /// Exit code 0 with this stdout and an empty stderr.
    pub fn ok(stdout: impl Into<String>) -> Self {
        CmdOutput {
            status: 0,
            stdout: stdout.into(),
            stderr: String::new(),
        }
    }

    /// A given exit code, stdout and stderr.
    pub fn exit(status: i32, stdout: impl Into<String>, stderr: impl Into<String>) -> Self {
        CmdOutput {
            status,
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }
}

/// Runs commands. Implementations: [`RealRunner`], [`ScriptedRunner`].
#[async_trait]
pub trait CommandRunner: Send + Sync + std::fmt::Debug {
    /// Runs `cmd` to completion.
    ///
    /// Errors: [`BackendError::ToolMissing`] if the program cannot be resolved,
    /// [`BackendError::Spawn`] if it cannot be started, [`BackendError::Timeout`] if it ran longer
    /// than `cmd.timeout` (it has been killed), [`BackendError::CommandFailed`] if it exited with a
    /// code the command's [`ExitPolicy`] rejects or was killed by a signal.
    async fn run(&self, cmd: &Cmd) -> Result<CmdOutput, BackendError>;

    /// Which of `programs` this runner cannot run because they are not installed (for start-up
    /// checks and capability probing). The default says none are missing.
    fn missing_tools(&self, programs: &[&str]) -> Vec<String> {
        let _ = programs;
        Vec::new()
    }
}

#[async_trait]
impl<T: CommandRunner + ?Sized> CommandRunner for Arc<T> {
    async fn run(&self, cmd: &Cmd) -> Result<CmdOutput, BackendError> {
        (**self).run(cmd).await
    }

    fn missing_tools(&self, programs: &[&str]) -> Vec<String> {
        (**self).missing_tools(programs)
    }
}

/// Turns an exit code into success or [`BackendError::CommandFailed`] per the command's policy.
fn apply_policy(cmd: &Cmd, argv: Vec<String>, out: CmdOutput) -> Result<CmdOutput, BackendError> {
    if cmd.ok_exit.accepts(out.status) {
        Ok(out)
    } else {
        Err(BackendError::CommandFailed {
            argv,
            exit: ExitKind::Code(out.status),
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }
}

/// Runs real processes. See the module docs.
#[derive(Debug)]
pub struct RealRunner {
    search_dirs: Vec<PathBuf>,
    resolved: Mutex<HashMap<String, PathBuf>>,
}

impl Default for RealRunner {
    fn default() -> Self {
        Self::new()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

impl RealRunner {
    /// A runner searching [`DEFAULT_SEARCH_DIRS`].
    pub fn new() -> Self {
        Self::with_search_dirs(DEFAULT_SEARCH_DIRS.iter().map(PathBuf::from).collect())
    }

    /// A runner searching these directories, in order.
    pub fn with_search_dirs(search_dirs: Vec<PathBuf>) -> Self {
        RealRunner {
            search_dirs,
            resolved: Mutex::new(HashMap::new()),
        }
    }

    /// The directories searched.
    pub fn search_dirs(&self) -> &[PathBuf] {
        &self.search_dirs
    }

    /// Resolves a bare program name to an absolute path (cached); an absolute path must exist and
    /// be executable. Relative paths with a `/` are rejected.
    pub fn resolve(&self, program: &str) -> Result<PathBuf, BackendError> {
        if let Some(p) = lock(&self.resolved).get(program) {
            return Ok(p.clone());
        }
        let missing = || BackendError::ToolMissing {
            tools: vec![program.to_owned()],
            searched: self.search_dirs.clone(),
        };
        let found = if program.starts_with('/') {
            is_executable(Path::new(program)).then(|| PathBuf::from(program))
        } else if program.is_empty() || program.contains('/') || program.starts_with('-') {
            return Err(BackendError::invalid(
                "program",
                program,
                "give a bare program name (e.g. `lvs`) or an absolute path",
            ));
        } else {
            self.search_dirs
                .iter()
                .map(|d| d.join(program))
                .find(|p| is_executable(p))
        };
        let path = found.ok_or_else(missing)?;
        lock(&self.resolved).insert(program.to_owned(), path.clone());
        Ok(path)
    }

    /// Resolves all `programs` up front (call at start-up); every missing one is reported at once.
    pub fn check_tools(&self, programs: &[&str]) -> Result<Vec<PathBuf>, BackendError> {
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for p in programs {
            match self.resolve(p) {
                Ok(path) => found.push(path),
                Err(BackendError::ToolMissing { .. }) => missing.push((*p).to_owned()),
                Err(e) => return Err(e),
            }
        }
        if missing.is_empty() {
            Ok(found)
        } else {
            Err(BackendError::ToolMissing {
                tools: missing,
                searched: self.search_dirs.clone(),
            })
        }
    }

    async fn run_resolved(
        &self,
        cmd: &Cmd,
        path: PathBuf,
        argv: Vec<String>,
    ) -> Result<CmdOutput, BackendError> {
        let started = Instant::now();
        let mut command = tokio::process::Command::new(&path);
        command
            .args(&cmd.args)
            .env("LC_ALL", "C")
            .stdin(if cmd.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        for (k, v) in &cmd.env {
            command.env(k, v);
        }
        let mut child = command.spawn().map_err(|source| BackendError::Spawn {
            argv: argv.clone(),
            source,
        })?;
        tracing::debug!(pid = child.id(), "started");
        // Declared after `child`, so dropped before it: kills the group while the leader is
        // not yet reaped (its pid, which is the group id, cannot have been reused).
        let mut group = GroupKiller(child.id());

        let stdin = child.stdin.take();
        let input = cmd.stdin.clone();
        let mut stdout = child.stdout.take();
        let mut stderr = child.stderr.take();
        let io = async {
            let feed = async {
                if let (Some(mut pipe), Some(bytes)) = (stdin, input) {
                    // A program that exits without reading its stdin is not an error here.
                    let _ = pipe.write_all(&bytes).await;
                }
                Ok::<(), std::io::Error>(())
            };
            let read_out = async {
                let mut buf = Vec::new();
                if let Some(p) = stdout.as_mut() {
                    p.read_to_end(&mut buf).await?;
                }
                Ok::<Vec<u8>, std::io::Error>(buf)
            };
            let read_err = async {
                let mut buf = Vec::new();
                if let Some(p) = stderr.as_mut() {
                    p.read_to_end(&mut buf).await?;
                }
                Ok::<Vec<u8>, std::io::Error>(buf)
            };
            tokio::try_join!(feed, read_out, read_err, child.wait())
        };
        let result = tokio::time::timeout(cmd.timeout, io).await;
        let (_, out, err, status) = match result {
            Err(_elapsed) => {
                // Kill the group, then kill and reap the leader; if it already exited, the
                // kills fail harmlessly.
                group.kill();
                let _ = child.kill().await;
                tracing::warn!(timeout = ?cmd.timeout, "timed out, killed");
                return Err(BackendError::Timeout {
                    argv,
                    timeout: cmd.timeout,
                });
            }
            Ok(Err(source)) => {
                group.kill();
                let _ = child.kill().await;
                return Err(BackendError::Spawn { argv, source });
            }
            Ok(Ok(v)) => v,
        };
        // The leader has been reaped: its pid may be reused from now on.
        group.disarm();
        let stdout = String::from_utf8_lossy(&out).into_owned();
        let stderr = String::from_utf8_lossy(&err).into_owned();
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match status.code() {
            Some(code) => {
                tracing::debug!(exit = code, elapsed_ms, "finished");
                apply_policy(
                    cmd,
                    argv,
                    CmdOutput {
                        status: code,
                        stdout,
                        stderr,
                    },
                )
            }
            None => {
                let sig = status.signal().unwrap_or(0);
                tracing::debug!(signal = sig, elapsed_ms, "killed by signal");
                Err(BackendError::CommandFailed {
                    argv,
                    exit: ExitKind::Signal(sig),
                    stdout,
                    stderr,
                })
            }
        }
    }
}

/// Kills a command's process group with SIGKILL when dropped, unless disarmed.
#[derive(Debug)]
struct GroupKiller(Option<u32>);

impl GroupKiller {
    fn kill(&mut self) {
        if let Some(pgid) = self.0.take() {
            let pid = i32::try_from(pgid)
                .ok()
                .and_then(rustix::process::Pid::from_raw);
            if let Some(pid) = pid {
                // ESRCH (group already gone) is fine.
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
        }
    }

    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for GroupKiller {
    fn drop(&mut self) {
        self.kill();
    }
}

#[async_trait]
impl CommandRunner for RealRunner {
    async fn run(&self, cmd: &Cmd) -> Result<CmdOutput, BackendError> {
        let path = self.resolve(&cmd.program)?;
        let mut argv = cmd.argv();
        argv[0] = path.display().to_string();
        let span = tracing::debug_span!("cmd", argv = %display_argv(&argv));
        self.run_resolved(cmd, path, argv).instrument(span).await
    }

    fn missing_tools(&self, programs: &[&str]) -> Vec<String> {
        programs
            .iter()
            .filter(|p| self.resolve(p).is_err())
            .map(|p| (*p).to_owned())
            .collect()
    }
}

/// What a scripted command does to the world before it answers (a `truncate` creates its
/// file), for code that reads the result in-process.
#[derive(Clone)]
pub struct Effect(pub Arc<dyn Fn() + Send + Sync>);

impl fmt::Debug for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Effect(..)")
    }
}

/// What a [`ScriptedRunner`] expectation answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// This output; the command's exit policy is applied to its status.
    Output(CmdOutput),
    /// Runs the effect, then answers with this output as [`Reply::Output`] does.
    OutputAfter(CmdOutput, Effect),
    /// Sleeps for the command's timeout, then reports [`BackendError::Timeout`] (a hang).
    Hang,
    /// Reports the program as missing ([`BackendError::ToolMissing`]).
    Missing,
}

/// One expected call.
#[derive(Debug, Clone)]
pub struct Expectation {
    /// The exact argv (program as a bare name, then arguments).
    pub argv: Vec<String>,
    /// The answer.
    pub reply: Reply,
}

#[derive(Debug, Default)]
struct Script {
    queue: VecDeque<Expectation>,
    calls: Vec<Cmd>,
    problems: Vec<String>,
    finished: bool,
}

/// The fake runner: an ordered list of expected argvs with canned outputs.
///
/// Each [`run`](CommandRunner::run) compares the argv with the next expectation. A mismatch or a
/// call with no expectation left is recorded, answered with a `CommandFailed` (exit 127,
/// stderr explaining the mismatch), and makes [`finish`](ScriptedRunner::finish) and `Drop` panic,
/// so code that swallows the error still fails the test. Expectations never used make them panic
/// as well.
#[derive(Debug, Default)]
pub struct ScriptedRunner {
    script: Mutex<Script>,
    missing: Mutex<Vec<String>>,
}

impl ScriptedRunner {
    /// An empty script.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes [`CommandRunner::missing_tools`] report these programs as not installed.
    pub fn set_missing_tools(&self, programs: &[&str]) -> &Self {
        *lock(&self.missing) = programs.iter().map(|p| (*p).to_owned()).collect();
        self
    }

    /// Adds an expectation.
    pub fn push(&self, argv: &[&str], reply: Reply) -> &Self {
        lock(&self.script).queue.push_back(Expectation {
            argv: argv.iter().map(|s| (*s).to_owned()).collect(),
            reply,
        });
        self
    }

    /// Expects `argv`, answering exit 0 with `stdout`.
    pub fn expect_ok(&self, argv: &[&str], stdout: &str) -> &Self {
        self.push(argv, Reply::Output(CmdOutput::ok(stdout)))
    }

    /// Expects `argv`, runs `effect` (what the real command does to files), then answers exit
    /// 0 with `stdout`.
    pub fn expect_ok_after(
        &self,
        argv: &[&str],
        stdout: &str,
        effect: impl Fn() + Send + Sync + 'static,
    ) -> &Self {
        self.push(
            argv,
            Reply::OutputAfter(CmdOutput::ok(stdout), Effect(Arc::new(effect))),
        )
    }

    /// Expects `argv`, answering with `output`.
    pub fn expect(&self, argv: &[&str], output: CmdOutput) -> &Self {
        self.push(argv, Reply::Output(output))
    }

    /// Expects `argv`, answering exit 0 with the contents of a fixture file as stdout.
    ///
    /// Panics if the file cannot be read (a broken test, not a runtime condition).
    pub fn expect_fixture(&self, argv: &[&str], fixture: impl AsRef<Path>) -> &Self {
        let path = fixture.as_ref();
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
        self.expect_ok(argv, &text)
    }

    /// Expects `argv` and makes it hang until its timeout.
    pub fn expect_hang(&self, argv: &[&str]) -> &Self {
        self.push(argv, Reply::Hang)
    }

    /// Every command run so far, in order (including unexpected ones).
    pub fn calls(&self) -> Vec<Cmd> {
        lock(&self.script).calls.clone()
    }

    /// Every argv run so far, one line each (for snapshot tests).
    pub fn transcript(&self) -> String {
        lock(&self.script)
            .calls
            .iter()
            .map(|c| display_argv(&c.argv()) + "\n")
            .collect()
    }

    /// Number of expectations not yet used.
    pub fn remaining(&self) -> usize {
        lock(&self.script).queue.len()
    }

    /// Ends the script: `Err` lists unexpected calls and unused expectations. Disarms `Drop`.
    pub fn try_finish(&self) -> Result<(), String> {
        let mut s = lock(&self.script);
        s.finished = true;
        let mut problems = s.problems.clone();
        problems.extend(
            s.queue
                .iter()
                .map(|e| format!("expected but never run: {}", display_argv(&e.argv))),
        );
        s.queue.clear();
        s.problems.clear();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }

    /// Ends the script; panics on unexpected calls or unused expectations.
    pub fn finish(&self) {
        if let Err(problems) = self.try_finish() {
            panic!("scripted runner:\n{problems}");
        }
    }
}

impl Drop for ScriptedRunner {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let s = lock(&self.script);
        if s.finished && s.problems.is_empty() && s.queue.is_empty() {
            return;
        }
        drop(s);
        if let Err(problems) = self.try_finish() {
            panic!("scripted runner dropped with problems:\n{problems}");
        }
    }
}

#[async_trait]
impl CommandRunner for ScriptedRunner {
    async fn run(&self, cmd: &Cmd) -> Result<CmdOutput, BackendError> {
        let argv = cmd.argv();
        let reply = {
            let mut s = lock(&self.script);
            s.calls.push(cmd.clone());
            match s.queue.front() {
                Some(e) if e.argv == argv => s.queue.pop_front().map(|e| e.reply),
                Some(e) => {
                    let msg = format!(
                        "unexpected command\n  expected: {}\n  got:      {}",
                        display_argv(&e.argv),
                        display_argv(&argv)
                    );
                    s.problems.push(msg);
                    None
                }
                None => {
                    s.problems.push(format!(
                        "unexpected command (script empty): {}",
                        display_argv(&argv)
                    ));
                    None
                }
            }
        };
        match reply {
            None => Err(BackendError::CommandFailed {
                argv,
                exit: ExitKind::Code(127),
                stdout: String::new(),
                stderr: "scripted runner: unexpected command".to_owned(),
            }),
            Some(Reply::Output(out)) => apply_policy(cmd, argv, out),
            Some(Reply::OutputAfter(out, effect)) => {
                (effect.0)();
                apply_policy(cmd, argv, out)
            }
            Some(Reply::Hang) => {
                tokio::time::sleep(cmd.timeout).await;
                Err(BackendError::Timeout {
                    argv,
                    timeout: cmd.timeout,
                })
            }
            Some(Reply::Missing) => Err(BackendError::ToolMissing {
                tools: vec![cmd.program.clone()],
                searched: Vec::new(),
            }),
        }
    }

    fn missing_tools(&self, programs: &[&str]) -> Vec<String> {
        let missing = lock(&self.missing);
        programs
            .iter()
            .filter(|p| missing.iter().any(|m| m == *p))
            .map(|p| (*p).to_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn real_runner_captures_stdout_stderr_and_stdin() {
        let r = RealRunner::new();
        let out = rt()
            .block_on(
                r.run(
                    &Cmd::new("sh")
                        .args(["-c", "cat; echo err >&2"])
                        .stdin("hello"),
                ),
            )
            .expect("sh runs");
        assert_eq!(out, CmdOutput::exit(0, "hello", "err\n"));
    }

    #[test]
    fn real_runner_never_uses_a_shell() {
        let r = RealRunner::new();
        let out = rt()
            .block_on(r.run(&Cmd::new("echo").arg("$(id); ls")))
            .expect("echo runs");
        assert_eq!(out.stdout, "$(id); ls\n");
    }

    #[test]
    fn real_runner_sets_c_locale_and_env() {
        let r = RealRunner::new();
        let out = rt()
            .block_on(
                r.run(
                    &Cmd::new("sh")
                        .args(["-c", "echo $LC_ALL $FOO"])
                        .env("FOO", "bar"),
                ),
            )
            .expect("sh runs");
        assert_eq!(out.stdout, "C bar\n");
    }

    #[test]
    fn real_runner_reports_failure_with_argv_and_output() {
        let r = RealRunner::new();
        let err = rt()
            .block_on(r.run(&Cmd::new("sh").args(["-c", "echo out; echo bad >&2; exit 3"])))
            .expect_err("exit 3 fails");
        match &err {
            BackendError::CommandFailed {
                argv,
                exit,
                stdout,
                stderr,
            } => {
                assert!(argv[0].ends_with("/sh"), "{argv:?}");
                assert_eq!(&argv[1..], ["-c", "echo out; echo bad >&2; exit 3"]);
                assert_eq!(*exit, ExitKind::Code(3));
                assert_eq!(stdout, "out\n");
                assert_eq!(stderr, "bad\n");
            }
            other => panic!("wrong error {other:?}"),
        }
        assert!(err.to_string().contains("exit code 3: bad"), "{err}");
    }

    #[test]
    fn real_runner_accepts_listed_exit_codes() {
        let r = RealRunner::new();
        let out = rt()
            .block_on(r.run(&Cmd::new("sh").args(["-c", "exit 1"]).ok_exit_codes(&[0, 1])))
            .expect("exit 1 accepted");
        assert_eq!(out.status, 1);
        let out = rt()
            .block_on(r.run(&Cmd::new("false").any_exit_code()))
            .expect("any");
        assert_eq!(out.status, 1);
    }

    #[test]
    fn real_runner_reports_signal() {
        let r = RealRunner::new();
        let err = rt()
            .block_on(r.run(&Cmd::new("sh").args(["-c", "kill -9 $$"])))
            .expect_err("killed");
        assert!(
            matches!(
                err,
                BackendError::CommandFailed {
                    exit: ExitKind::Signal(9),
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn real_runner_kills_at_timeout() {
        let r = RealRunner::new();
        let started = Instant::now();
        let err = rt()
            .block_on(
                r.run(
                    &Cmd::new("sleep")
                        .arg("30")
                        .timeout(Duration::from_millis(200)),
                ),
            )
            .expect_err("times out");
        assert!(started.elapsed() < Duration::from_secs(5));
        match err {
            BackendError::Timeout { argv, timeout } => {
                assert!(argv[0].ends_with("/sleep"));
                assert_eq!(argv[1], "30");
                assert_eq!(timeout, Duration::from_millis(200));
            }
            other => panic!("wrong error {other:?}"),
        }
    }

    fn state_of(pid: &str) -> Option<char> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat.rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next())
    }

    #[test]
    fn real_runner_kills_the_whole_process_group_at_timeout() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pids = dir.path().join("pids");
        let script = format!("sleep 30 & echo $! > {}; wait", pids.display());
        let r = RealRunner::new();
        let err = rt()
            .block_on(
                r.run(
                    &Cmd::new("sh")
                        .args(["-c", &script])
                        .timeout(Duration::from_millis(300)),
                ),
            )
            .expect_err("times out");
        assert!(matches!(err, BackendError::Timeout { .. }), "{err:?}");
        let pid = std::fs::read_to_string(&pids).expect("pid written");
        let pid = pid.trim();
        // Give the kernel a moment to deliver SIGKILL to the background sleep.
        let mut state = state_of(pid);
        for _ in 0..50 {
            if matches!(state, None | Some('Z')) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
            state = state_of(pid);
        }
        assert!(
            matches!(state, None | Some('Z')),
            "grandchild {pid} still alive: {state:?}"
        );
    }

    #[test]
    fn real_runner_kills_the_group_when_the_future_is_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pids = dir.path().join("pids");
        let script = format!("sleep 30 & echo $! > {}; wait", pids.display());
        let r = RealRunner::new();
        let cmd = Cmd::new("sh").args(["-c", &script]);
        let rt = rt();
        let timed_out = rt.block_on(async {
            tokio::time::timeout(Duration::from_millis(300), r.run(&cmd))
                .await
                .is_err()
        });
        assert!(timed_out, "the caller's timeout dropped the future");
        let pid = std::fs::read_to_string(&pids).expect("pid written");
        let pid = pid.trim();
        let mut state = state_of(pid);
        for _ in 0..50 {
            if matches!(state, None | Some('Z')) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
            state = state_of(pid);
        }
        assert!(
            matches!(state, None | Some('Z')),
            "grandchild {pid} still alive: {state:?}"
        );
    }

    #[test]
    fn real_runner_reports_missing_tools_up_front() {
        let r = RealRunner::new();
        let err = r
            .check_tools(&["sh", "no-such-tool-x1", "no-such-tool-x2"])
            .expect_err("missing");
        match &err {
            BackendError::ToolMissing { tools, searched } => {
                assert_eq!(tools, &["no-such-tool-x1", "no-such-tool-x2"]);
                assert_eq!(searched.len(), DEFAULT_SEARCH_DIRS.len());
            }
            other => panic!("wrong error {other:?}"),
        }
        let err = rt()
            .block_on(r.run(&Cmd::new("no-such-tool-x1")))
            .expect_err("missing");
        assert!(matches!(err, BackendError::ToolMissing { .. }));
    }

    #[test]
    fn real_runner_resolves_to_absolute_paths_in_configured_dirs() {
        let r = RealRunner::with_search_dirs(vec![
            PathBuf::from("/nonexistent"),
            PathBuf::from("/bin"),
        ]);
        assert_eq!(r.resolve("sh").expect("sh"), PathBuf::from("/bin/sh"));
        let empty = RealRunner::with_search_dirs(vec![]);
        assert!(matches!(
            empty.resolve("sh"),
            Err(BackendError::ToolMissing { .. })
        ));
        for bad in ["", "./sh", "bin/sh", "-sh"] {
            assert!(
                matches!(r.resolve(bad), Err(BackendError::InvalidInput { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn scripted_runner_answers_in_order() {
        let s = ScriptedRunner::new();
        s.expect_ok(&["lvs", "-o", "lv_name"], "a\n")
            .expect(&["lvremove", "-f", "vg/a"], CmdOutput::exit(5, "", "busy"));
        let rt = rt();
        let out = rt
            .block_on(s.run(&Cmd::new("lvs").args(["-o", "lv_name"])))
            .expect("ok");
        assert_eq!(out.stdout, "a\n");
        let err = rt
            .block_on(s.run(&Cmd::new("lvremove").args(["-f", "vg/a"])))
            .expect_err("fails");
        assert!(matches!(
            err,
            BackendError::CommandFailed {
                exit: ExitKind::Code(5),
                ..
            }
        ));
        assert_eq!(s.transcript(), "lvs -o lv_name\nlvremove -f vg/a\n");
        s.finish();
    }

    #[test]
    fn scripted_runner_rejects_unexpected_argv_even_if_error_is_swallowed() {
        let s = ScriptedRunner::new();
        s.expect_ok(&["lvs", "vg"], "");
        let rt = rt();
        let err = rt
            .block_on(s.run(&Cmd::new("lvs").arg("other")))
            .expect_err("mismatch");
        assert!(matches!(
            err,
            BackendError::CommandFailed {
                exit: ExitKind::Code(127),
                ..
            }
        ));
        let problems = s.try_finish().expect_err("must report");
        assert!(problems.contains("expected: lvs vg"), "{problems}");
        assert!(problems.contains("got:      lvs other"), "{problems}");
        assert!(problems.contains("never run: lvs vg"), "{problems}");
    }

    #[test]
    fn scripted_runner_reports_unused_and_extra_calls() {
        let s = ScriptedRunner::new();
        s.expect_ok(&["true"], "");
        assert!(
            s.try_finish()
                .expect_err("unused")
                .contains("never run: true")
        );
        let s = ScriptedRunner::new();
        let _ = rt().block_on(s.run(&Cmd::new("true")));
        assert!(s.try_finish().expect_err("extra").contains("script empty"));
    }

    #[test]
    fn scripted_runner_panics_on_drop_with_unused_expectations() {
        let result = std::panic::catch_unwind(|| {
            let s = ScriptedRunner::new();
            s.expect_ok(&["true"], "");
        });
        assert!(result.is_err());
    }

    #[test]
    fn scripted_runner_hang_times_out() {
        let s = ScriptedRunner::new();
        s.expect_hang(&["sleep", "1"]);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("runtime");
        let err = rt
            .block_on(s.run(&Cmd::new("sleep").arg("1").timeout(Duration::from_secs(9))))
            .expect_err("hangs");
        assert!(
            matches!(err, BackendError::Timeout { timeout, .. } if timeout == Duration::from_secs(9))
        );
        s.finish();
    }
}
