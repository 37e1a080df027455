//! Starting the real `linstor-controller` binary and talking HTTP/1.1 to it, for end-to-end
//! tests and the benchmark. The controller is stopped by its pid (SIGTERM or SIGKILL), never by
//! name; its temp data directory goes when the `Controller` is dropped, unless kept.

#![allow(dead_code, clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running controller.
pub struct Controller {
    child: Option<Child>,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// When `start` was called.
    pub started: Instant,
    /// Time from spawn to the "listening" line.
    pub ready_after: Duration,
}

/// The binary under test.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_linstor-controller"))
}

impl Controller {
    /// Starts the binary on `data_dir` (127.0.0.1, a free port) and waits until it listens.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Controller {
        Controller::start_bin(&binary(), data_dir, extra)
    }

    /// Starts a given binary (the benchmark runs the release build).
    pub fn start_bin(bin: &Path, data_dir: &Path, extra: &[&str]) -> Controller {
        Controller::start_with_stderr(bin, data_dir, extra, Stdio::inherit())
    }

    /// Starts the binary with its stderr (the log) written to `log`, for tests that read it.
    pub fn start_logged(data_dir: &Path, extra: &[&str], log: &Path) -> Controller {
        let file = std::fs::File::create(log).expect("create the controller's log file");
        Controller::start_with_stderr(&binary(), data_dir, extra, Stdio::from(file))
    }

    fn start_with_stderr(bin: &Path, data_dir: &Path, extra: &[&str], stderr: Stdio) -> Controller {
        let started = Instant::now();
        let mut child = Command::new(bin)
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--rest-bind", "127.0.0.1:0", "--log-level", "warn"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("the controller binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the listening line");
        let addr = line
            .trim()
            .rsplit("http://")
            .next()
            .filter(|a| a.starts_with("127.0.0.1:"))
            .unwrap_or_else(|| panic!("no listening line, got {line:?}"))
            .to_owned();
        Controller {
            child: Some(child),
            addr,
            data_dir: data_dir.to_owned(),
            started,
            ready_after: started.elapsed(),
        }
    }

    /// The pid.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Whether the process is still running (not exited, not killed).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// SIGTERM by pid, then waits for the exit (SIGKILL after 20 s).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the controller did not stop within 20 s of SIGTERM");
    }

    /// SIGKILL by pid (`kill -9`), and reaps it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Resident memory in KiB (`VmRSS`).
    pub fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// One request; `None` if the connection failed (controller gone).
    pub fn try_call(&self, method: &str, path: &str, body: Option<&Value>) -> Option<(u16, Value)> {
        call(&self.addr, method, path, body)
    }

    /// One request that must get an answer.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.try_call(method, path, body)
            .unwrap_or_else(|| panic!("{method} {path}: no answer"))
    }

    /// A request that must succeed (2xx).
    pub fn ok(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let (status, v) = self.call(method, path, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path} {body:?} -> {status} {v}"
        );
        v
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// One HTTP/1.1 request with `Connection: close`, body sent without a Content-Type (as
/// python-linstor does).
pub fn call(addr: &str, method: &str, path: &str, body: Option<&Value>) -> Option<(u16, Value)> {
    let (status, payload) = call_text(addr, method, path, body)?;
    let v = if payload.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&payload).ok()?
    };
    Some((status, v))
}

/// [`call`], with the answer's body as text (`/health`, `/metrics`).
pub fn call_text(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n")?;
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let payload = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    Some((status, payload))
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

/// `n` nodes `node-000…` with a FILE_THIN pool `thin` each, and resource group `rg3` with
/// place count 3 over that pool.
pub fn seed_cluster(c: &Controller, n: usize) {
    for i in 0..n {
        let name = format!("node-{i:03}");
        c.ok("POST", "/v1/nodes", Some(&serde_json::json!({
            "name": name, "type": "satellite",
            "net_interfaces": [{"name": "default", "address": format!("10.0.{}.{}", i / 250, i % 250 + 1), "satellite_port": 3366, "satellite_encryption_type": "plain", "is_active": true}],
            "props": {"Aux/zone": format!("z{}", i % 3)}
        })));
        c.ok(
            "POST",
            &format!("/v1/nodes/{name}/storage-pools"),
            Some(&serde_json::json!({
                "storage_pool_name": "thin", "provider_kind": "FILE_THIN",
                "props": {"StorDriver/StorPoolName": "/var/lib/linstor-pools/thin"}
            })),
        );
    }
    c.ok(
        "POST",
        "/v1/resource-groups",
        Some(&serde_json::json!({
            "name": "rg3", "select_filter": {"place_count": "3", "storage_pool_list": ["thin"]}
        })),
    );
}

/// A spawn body for `name` with one volume of `kib`.
pub fn spawn_body(name: &str, kib: u64) -> Value {
    serde_json::json!({"resource_definition_name": name, "volume_sizes": [kib], "partial": false, "definitions_only": false, "select_filter": {}})
}
