//! End-to-end helpers for the `linstor` CLI: the real `linstor-controller` binary (found in the
//! workspace's target directory and built there if missing — this crate does not depend on the
//! controller) started with `--simulate-satellites` on 127.0.0.1 and a temp data dir, LINBIT's
//! Python client from its checkout with python-linstor from `scripts/pylinstor-venv`, commands
//! run with a deadline, and a raw HTTP/1.1 GET for the controller's JSON.
//!
//! A controller is stopped by its pid (the child spawned here, never by name) and its data dir
//! removed when the [`Controller`] is dropped, also when a test panics.

#![allow(dead_code, clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a build of a binary may take (a fresh clone builds the controller from scratch).
pub const BUILD_TIMEOUT: Duration = Duration::from_secs(1800);
/// How long one CLI command may take.
pub const CMD_TIMEOUT: Duration = Duration::from_secs(60);

/// The workspace root (this crate's parent).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("linstor-cli lies inside the workspace")
        .to_owned()
}

/// The workspace's target directory: `CARGO_TARGET_DIR` when set (as the builds run here use
/// it too), else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => workspace_root().join(d),
        _ => workspace_root().join("target"),
    }
}

/// The cargo that runs this test (`CARGO`), else `cargo` from `PATH`.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Builds with `cargo build -q ARGS` from the workspace root (as `scripts/local-cluster` does);
/// panics with cargo's output if that fails.
pub fn cargo_build(args: &[&str]) {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _guard = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    eprintln!("building: cargo build -q {}", args.join(" "));
    let mut cmd = cargo();
    cmd.arg("build")
        .arg("-q")
        .args(args)
        .current_dir(workspace_root());
    let out = run(&mut cmd, BUILD_TIMEOUT);
    assert!(out.ok(), "cargo build {} failed:\n{out}", args.join(" "));
}

/// The controller binary: `target/release/linstor-controller` if `prefer_release` and it
/// exists, else `target/debug/linstor-controller`, built first if missing.
pub fn controller_binary(prefer_release: bool) -> PathBuf {
    let release = target_dir().join("release/linstor-controller");
    if prefer_release && release.is_file() {
        return release;
    }
    let debug = target_dir().join("debug/linstor-controller");
    if !debug.is_file() {
        cargo_build(&["-p", "linstor-controller"]);
    }
    assert!(
        debug.is_file(),
        "{} is missing after the build",
        debug.display()
    );
    debug
}

/// A running controller with SIMULATED satellites, on its own temp data dir.
#[derive(Debug)]
pub struct Controller {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// Removed on drop, after the process is gone.
    data_dir: tempfile::TempDir,
}

impl Controller {
    /// Starts `bin` on 127.0.0.1, a free port, `--simulate-satellites`, and waits (at most 30 s)
    /// for its "listening on http://127.0.0.1:PORT" line.
    pub fn start(bin: &Path) -> Controller {
        Controller::start_with(bin, &[])
    }

    /// [`Controller::start`] with more flags (`--config FILE`).
    pub fn start_with(bin: &Path, extra: &[&str]) -> Controller {
        let data_dir = tempfile::Builder::new()
            .prefix("linstor-cli-e2e-")
            .tempdir()
            .expect("a temp data dir");
        let mut child = Command::new(bin)
            .arg("--data-dir")
            .arg(data_dir.path())
            .args(["--rest-bind", "127.0.0.1:0", "--log-level", "warn"])
            .arg("--simulate-satellites")
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        // Reads the first line for us, then drains stdout so that the controller never writes
        // into a closed pipe.
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next().and_then(Result::ok).unwrap_or_default();
            let _ = tx.send(first);
            lines.for_each(drop);
        });
        let mut c = Controller {
            child,
            addr: String::new(),
            data_dir,
        };
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the controller prints its address within 30 s");
        c.addr = line
            .trim()
            .rsplit("http://")
            .next()
            .filter(|a| a.starts_with("127.0.0.1:"))
            .unwrap_or_else(|| panic!("no listening line from the controller, got {line:?}"))
            .to_owned();
        c
    }

    /// The controller's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `GET path`, which must answer 200 with JSON.
    pub fn get(&self, path: &str) -> Value {
        http_get(&self.addr, path)
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        // SIGKILL to our own child, by its pid; the temp dir goes after this (field drop).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw HTTP/1.1 `GET` (`Connection: close`, 30 s timeouts) that must answer 200 with JSON.
pub fn http_get(addr: &str, path: &str) -> Value {
    let what = format!("GET http://{addr}{path}");
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("{what}: {e}"));
    let timeout = Some(Duration::from_secs(30));
    s.set_read_timeout(timeout).expect("read timeout");
    s.set_write_timeout(timeout).expect("write timeout");
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes())
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{what}: no HTTP head in {text:?}"));
    let status = head.split_whitespace().nth(1).unwrap_or_default();
    assert_eq!(status, "200", "{what}: {head}\n{body}");
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {body}"))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// What a finished (or killed) command left.
#[derive(Debug)]
pub struct Output {
    /// The command line, for messages.
    pub line: String,
    /// `None` if it was killed at the deadline.
    pub status: Option<ExitStatus>,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
    /// Wall-clock time from spawn to exit.
    pub elapsed: Duration,
}

impl Output {
    /// Exit code 0.
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self
            .status
            .map_or_else(|| "killed at its deadline".to_owned(), |s| s.to_string());
        write!(
            f,
            "$ {}\n[{status}]\n--- stdout\n{}--- stderr\n{}---",
            self.line, self.stdout, self.stderr
        )
    }
}

/// Runs `cmd` (stdin closed, stdout and stderr captured) and waits at most `timeout`; a command
/// still running then is killed (its own pid).
pub fn run(cmd: &mut Command, timeout: Duration) -> Output {
    let line = format!("{cmd:?}");
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {line}: {e}"));
    let out = slurp(child.stdout.take());
    let err = slurp(child.stderr.take());
    let deadline = started + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let elapsed = started.elapsed();
    Output {
        line,
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        elapsed,
    }
}

/// Reads a pipe to its end in a thread (so that neither pipe of a child fills up).
fn slurp<R: std::io::Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut r) = r {
            let _ = r.read_to_string(&mut s);
        }
        s
    })
}

/// LINBIT's Python client: its checkout and the python that has python-linstor.
#[derive(Debug, Clone)]
pub struct Linbit {
    /// The checkout (`LINSTOR_CLIENT_DIR`, default `../shared/third_party/linstor-client`
    /// beside the workspace, where CI puts it).
    pub dir: PathBuf,
    /// The venv's python, from `scripts/pylinstor-venv`.
    pub python: PathBuf,
}

impl Linbit {
    /// The client, or why it cannot run here (no python3, no venv, no checkout).
    pub fn find() -> Result<Linbit, String> {
        let dir = std::env::var_os("LINSTOR_CLIENT_DIR").map_or_else(
            || workspace_root().join("../shared/third_party/linstor-client"),
            PathBuf::from,
        );
        if !dir.join("linstor_client_main.py").is_file() {
            let why = format!(
                "no LINBIT linstor-client checkout at {} (set LINSTOR_CLIENT_DIR)",
                dir.display()
            );
            // CI has ../shared beside the clone: there the comparison must run, not skip.
            assert!(std::env::var_os("CI").is_none(), "{why}");
            return Err(why);
        }
        let py3 = run(
            Command::new("python3").arg("--version"),
            Duration::from_secs(30),
        );
        if !py3.ok() {
            return Err(format!("python3 does not run:\n{py3}"));
        }
        let root = workspace_root();
        let venv = run(
            Command::new("bash")
                .arg(root.join("scripts/pylinstor-venv"))
                .current_dir(&root),
            Duration::from_secs(600),
        );
        if !venv.ok() {
            return Err(format!("scripts/pylinstor-venv failed:\n{venv}"));
        }
        let python = PathBuf::from(venv.stdout.lines().last().unwrap_or_default().trim());
        if !python.is_file() {
            return Err(format!("scripts/pylinstor-venv printed no python:\n{venv}"));
        }
        Ok(Linbit { dir, python })
    }

    /// `linstor --controllers ADDR ARGS` with LINBIT's client.
    pub fn command(&self, addr: &str, args: &[&str]) -> Command {
        let mut c = Command::new(&self.python);
        c.env("PYTHONPATH", &self.dir)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env_remove("LS_CONTROLLERS")
            .arg(self.dir.join("linstor_client_main.py"))
            .args(["--controllers", addr])
            .args(args);
        c
    }

    /// Runs `linstor --controllers ADDR ARGS` with LINBIT's client ([`CMD_TIMEOUT`]).
    pub fn run(&self, addr: &str, args: &[&str]) -> Output {
        run(&mut self.command(addr, args), CMD_TIMEOUT)
    }
}

/// `linstor --controllers ADDR ARGS` with our binary `bin`.
pub fn ours(bin: &Path, addr: &str, args: &[&str]) -> Command {
    let mut c = Command::new(bin);
    c.env_remove("LS_CONTROLLERS")
        .args(["--controllers", addr])
        .args(args);
    c
}

/// Runs `linstor --controllers ADDR ARGS` with our binary `bin` ([`CMD_TIMEOUT`]).
pub fn run_ours(bin: &Path, addr: &str, args: &[&str]) -> Output {
    run(&mut ours(bin, addr, args), CMD_TIMEOUT)
}
