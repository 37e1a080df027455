//! The cluster under test: `scripts/local-cluster` (controller, N satellites with FILE_THIN on
//! btrfs loops, DRBD SIMULATED) driven by argv, and what its hosts hold read from disk.
//! Daemons are killed and started by the script, which uses their recorded pids.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use linstor_cli::client::Client;
use serde_json::Value;

use crate::observe::{HostSeen, Observed, RestLists, sim_volumes};

/// Errors driving the cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// `scripts/local-cluster` failed.
    #[error("scripts/local-cluster {args}: {output}")]
    Script {
        /// Its arguments.
        args: String,
        /// What it printed.
        output: String,
    },
    /// The controller did not answer a read.
    #[error("GET {path}: {reason}")]
    Rest {
        /// Path.
        path: String,
        /// Why.
        reason: String,
    },
}

/// A running local cluster.
#[derive(Debug)]
pub struct Cluster {
    /// The cluster's directory (logs, pools, state).
    pub dir: PathBuf,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Number of satellites (`node-1` …).
    pub nodes: u32,
    script: PathBuf,
    bins: PathBuf,
    client: Client,
}

impl Cluster {
    /// `local-cluster up nodes DIR`, the satellites logging at debug level (every argv).
    pub fn up(script: &Path, bins: &Path, dir: &Path, nodes: u32) -> Result<Cluster, ClusterError> {
        let n = nodes.to_string();
        let out = run_script(script, bins, &["up", &n, &dir.to_string_lossy()])?;
        let url = out.lines().last().unwrap_or_default().trim().to_owned();
        Ok(Cluster {
            dir: dir.to_path_buf(),
            client: Client::new(vec![url.clone()], Duration::from_secs(30)),
            url,
            nodes,
            script: script.to_path_buf(),
            bins: bins.to_path_buf(),
        })
    }

    /// `local-cluster down DIR`: every daemon, loop device, mount and file gone.
    pub fn down(&self) -> Result<(), ClusterError> {
        run_script(
            &self.script,
            &self.bins,
            &["down", &self.dir.to_string_lossy()],
        )
        .map(drop)
    }

    /// `kill -9` of `name` (`controller` or `node-K`), waiting until it is gone.
    pub fn kill(&self, name: &str) -> Result<(), ClusterError> {
        run_script(
            &self.script,
            &self.bins,
            &["kill", &self.dir.to_string_lossy(), name],
        )
        .map(drop)
    }

    /// Starts `name` again on its port.
    pub fn start(&self, name: &str) -> Result<(), ClusterError> {
        run_script(
            &self.script,
            &self.bins,
            &["start", &self.dir.to_string_lossy(), name],
        )
        .map(drop)
    }

    /// Node names.
    pub fn node_names(&self) -> Vec<String> {
        (1..=self.nodes).map(|i| format!("node-{i}")).collect()
    }

    fn get(&self, path: &str) -> Result<Value, ClusterError> {
        let err = |reason: String| ClusterError::Rest {
            path: path.to_owned(),
            reason,
        };
        let r = self.client.get(path).map_err(|e| err(e.to_string()))?;
        if r.status >= 300 {
            return Err(err(format!("HTTP {}: {}", r.status, r.body)));
        }
        Ok(r.body)
    }

    /// The controller's view and every host's storage, read one after the other.
    pub fn observe(&self) -> Result<Observed, ClusterError> {
        let nodes = self.get("/v1/nodes")?;
        let rds = self.get("/v1/resource-definitions?with_volume_definitions=true")?;
        let resources = self.get("/v1/view/resources")?;
        let snapshots = self.get("/v1/view/snapshots")?;
        let mut o = Observed::from_rest(RestLists {
            nodes: &nodes,
            rds: &rds,
            resources: &resources,
            snapshots: &snapshots,
        });
        let loops = self.loops();
        for node in self.node_names() {
            let host = self.host(&node, &loops);
            o.hosts.insert(node, host);
        }
        Ok(o)
    }

    /// A node's pool directory.
    pub fn pool(&self, node: &str) -> PathBuf {
        self.dir.join(node).join("pool")
    }

    fn host(&self, node: &str, loops: &BTreeSet<PathBuf>) -> HostSeen {
        let pool = self.pool(node);
        let files = names_in(&pool).into_iter().collect();
        let loops = loops
            .iter()
            .filter(|f| f.parent() == Some(pool.as_path()))
            .filter_map(|f| Some(f.file_name()?.to_string_lossy().into_owned()))
            .collect();
        let sim_dir = self.dir.join(node).join("state/simulated-drbd");
        let sim = names_in(&sim_dir)
            .into_iter()
            .filter_map(|f| {
                let rsc = f.strip_suffix(".json")?.to_owned();
                let text = std::fs::read_to_string(sim_dir.join(&f)).ok()?;
                Some((rsc, sim_volumes(&text)?))
            })
            .collect::<BTreeMap<_, _>>();
        HostSeen { files, loops, sim }
    }

    /// Backing files of every loop device under this cluster's directory.
    fn loops(&self) -> BTreeSet<PathBuf> {
        let out = Command::new("losetup")
            .args(["-l", "-n", "-O", "BACK-FILE"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        out.lines()
            .map(|l| PathBuf::from(l.trim()))
            .filter(|p| p.starts_with(&self.dir))
            .collect()
    }

    /// A satellite's log.
    pub fn satellite_log(&self, node: &str) -> PathBuf {
        self.dir.join(node).join("satellite.log")
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn run_script(script: &Path, bins: &Path, args: &[&str]) -> Result<String, ClusterError> {
    let out = Command::new("bash")
        .arg(script)
        .args(args)
        .env("LINSTOR_BIN_DIR", bins)
        .env("LOCAL_CLUSTER_SATELLITE_LOG_LEVEL", "debug")
        .output()
        .map_err(|e| ClusterError::Script {
            args: args.join(" "),
            output: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(ClusterError::Script {
            args: args.join(" "),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
