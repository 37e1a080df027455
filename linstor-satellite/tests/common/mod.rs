//! A `scripts/local-cluster` under test: brought up in a temp dir, torn down (every daemon by
//! its pid, every loop device and file) when dropped; a raw HTTP/1.1 client for its REST API;
//! the release build `satellite_bench` runs first.

#![allow(dead_code, clippy::print_stderr)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// True if this host can run the cluster (root, loop devices, btrfs, drbd-utils, curl); in CI
/// a missing piece is a failure, elsewhere a skip.
pub fn can_run(test: &str) -> bool {
    let tools = [
        "losetup",
        "mkfs.btrfs",
        "drbdadm",
        "drbdmeta",
        "curl",
        "truncate",
    ];
    let missing: Vec<&str> = tools
        .into_iter()
        .filter(|t| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {t} >/dev/null")])
                .status()
                .is_ok_and(|s| s.success())
        })
        .collect();
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if missing.is_empty() && root {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: CI must run as root with {missing:?}"
    );
    eprintln!("SKIP {test}: needs root and {missing:?}");
    false
}

/// `cargo build --release -p linstor-controller -p linstor-satellite`, from a benchmark that
/// runs both release binaries (the caller's build lock, if any, covers it).
pub fn build_release() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = Command::new(cargo);
    // What cargo sets for the running bench (ring's build script reruns when
    // CARGO_MANIFEST_DIR changes): without them the build matches a shell's, nothing rebuilds.
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "OUT_DIR",
            ]
            .contains(&k.as_ref())
        {
            build.env_remove(k.as_ref());
        }
    }
    let status = build
        .args([
            "build",
            "--release",
            "-p",
            "linstor-controller",
            "-p",
            "linstor-satellite",
        ])
        .current_dir(root())
        .status()
        .expect("run cargo build");
    assert!(status.success(), "cargo build --release failed");
}

/// A running local cluster.
pub struct Cluster {
    /// Its directory.
    pub dir: PathBuf,
    /// `127.0.0.1:PORT` of the REST API.
    pub addr: String,
    _tmp: tempfile::TempDir,
}

fn script(args: &[&str], env: &[(&str, &str)]) -> String {
    let bins = Path::new(env!("CARGO_BIN_EXE_linstor-satellite"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    assert!(
        bins.join("linstor-controller").exists(),
        "build the controller first: cargo build -p linstor-controller"
    );
    let mut c = Command::new("bash");
    c.arg(root().join("scripts/local-cluster"))
        .args(args)
        .env("LINSTOR_BIN_DIR", &bins);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run scripts/local-cluster");
    assert!(
        out.status.success(),
        "local-cluster {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl Cluster {
    /// `local-cluster up n`.
    pub fn up(n: usize) -> Cluster {
        Self::up_with_env(n, &[])
    }

    /// `local-cluster up n` with extra environment for the daemons.
    pub fn up_with_env(n: usize, env: &[(&str, &str)]) -> Cluster {
        Self::up_with(n, &[], env)
    }

    /// `local-cluster up n FLAGS…` with extra environment for the daemons.
    pub fn up_with(n: usize, flags: &[&str], env: &[(&str, &str)]) -> Cluster {
        let tmp = tempfile::Builder::new()
            .prefix("lc-test")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let dir = tmp.path().join("cluster");
        let n = n.to_string();
        let mut args = vec!["up", n.as_str(), dir.to_str().unwrap()];
        args.extend_from_slice(flags);
        let url = script(&args, env);
        let addr = url
            .lines()
            .last()
            .and_then(|l| l.strip_prefix("http://"))
            .expect("URL as the last line")
            .to_owned();
        Cluster {
            dir,
            addr,
            _tmp: tmp,
        }
    }

    /// `local-cluster kill NAME` (kill -9).
    pub fn kill(&self, name: &str) {
        script(&["kill", self.dir.to_str().unwrap(), name], &[]);
    }

    /// `local-cluster start NAME`, with another cluster key if `key` is given.
    pub fn start(&self, name: &str, key: Option<&Path>) {
        let env: Vec<(&str, &str)> = key
            .map(|k| vec![("SATELLITE_KEY", k.to_str().unwrap())])
            .unwrap_or_default();
        script(&["start", self.dir.to_str().unwrap(), name], &env);
    }

    /// A node's pool directory.
    pub fn pool(&self, node: &str) -> PathBuf {
        self.dir.join(node).join("pool")
    }

    /// A request; panics on transport errors.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        call(&self.addr, method, path, body).unwrap_or_else(|| panic!("{method} {path}: no answer"))
    }

    /// A request that must succeed.
    pub fn ok(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let (status, v) = self.call(method, path, body);
        assert!(status < 300, "{method} {path}: {status} {v}");
        v
    }

    /// Waits up to `secs` for `cond`, describing the state with `what` on timeout.
    pub fn wait(&self, secs: u64, what: &str, mut cond: impl FnMut(&Cluster) -> bool) {
        let end = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < end {
            if cond(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let logs = ["controller.log", "node-1/satellite.log"]
            .iter()
            .map(|l| std::fs::read_to_string(self.dir.join(l)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n----\n");
        panic!("timed out after {secs} s waiting for {what}\n{logs}");
    }

    /// Connection status per node.
    pub fn node_status(&self) -> Vec<(String, String)> {
        let v = self.ok("GET", "/v1/nodes", None);
        v.as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["name"].as_str().unwrap().to_owned(),
                    n["connection_status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// Loop devices backed by files of this cluster's pools.
    pub fn volume_loops(&self) -> Vec<(String, String)> {
        let out = Command::new("losetup")
            .args(["-l", "-n", "-O", "NAME,BACK-FILE"])
            .output()
            .expect("losetup");
        let prefix = self.dir.to_string_lossy().into_owned();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(d, f)| (d.trim().to_owned(), f.trim().to_owned()))
            .filter(|(_, f)| f.starts_with(&prefix) && f.contains("/pool/"))
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let bins = Path::new(env!("CARGO_BIN_EXE_linstor-satellite"))
            .parent()
            .unwrap();
        let _ = Command::new("bash")
            .arg(root().join("scripts/local-cluster"))
            .args(["down", self.dir.to_str().unwrap()])
            .env("LINSTOR_BIN_DIR", bins)
            .status();
    }
}

/// One HTTP/1.1 request with `Connection: close`, body without a Content-Type (as
/// python-linstor sends it).
pub fn call(addr: &str, method: &str, path: &str, body: Option<&Value>) -> Option<(u16, Value)> {
    let (status, payload) = call_text(addr, method, path, body)?;
    let v = if payload.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&payload).ok()?
    };
    Some((status, v))
}

/// [`call`], with the answer's body as text (`/health`).
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
    let payload = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
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
