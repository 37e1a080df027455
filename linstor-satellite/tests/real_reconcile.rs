//! The reconciler on this host's real tools with the DRBD kernel SIMULATED: FILE_THIN volumes
//! are sparse files on real loop devices, `.res` files pass the real `drbdadm sh-nop`, metadata
//! is written by the real `drbdadm create-md`/`drbdmeta`; only `adjust`/`down` and the state go
//! to the simulated kernel. A resource comes up UpToDate, a second pass changes nothing, a
//! restarted satellite finds it all in place without running a DRBD tool, a resize grows the
//! file and the loop device, and a delete removes every file and loop device.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use linstor_backends::BackendError;
use linstor_backends::runner::{Cmd, CmdOutput, CommandRunner, RealRunner};
use linstor_core::NodeName;
use linstor_core::cluster::{Cluster, SeededEnv};
use linstor_core::model::Capabilities;
use linstor_core::projection::NodeProjection;
use linstor_drbd::DrbdVersions;
use linstor_satellite::drbd::{DrbdLayer, Kernel};
use linstor_satellite::pools::Pools;
use linstor_satellite::reconcile::{Backoff, Reconciler};
use linstor_satellite::sim_drbd::SimKernel;
use serde_json::{Value, json};

fn have_tools(test: &str) -> bool {
    let tools = ["losetup", "truncate", "drbdadm", "drbdmeta", "wipefs"];
    let why = match RealRunner::new().check_tools(&tools) {
        Ok(_) if nix_root() => return true,
        Ok(_) => "not root".to_owned(),
        Err(e) => e.to_string(),
    };
    // CI provides every tool and runs as root: there a skip is a failure.
    assert!(std::env::var_os("CI").is_none(), "{test}: {why}");
    #[allow(clippy::print_stderr)]
    {
        eprintln!("SKIP {test}: {why}");
    }
    false
}

fn nix_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Detaches every loop device backed by a file under `dir` when dropped.
struct Loops(PathBuf);

impl Loops {
    fn attached(&self) -> Vec<(String, String)> {
        let out = std::process::Command::new("losetup")
            .args(["-l", "-n", "-O", "NAME,BACK-FILE"])
            .output()
            .expect("losetup");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(d, f)| (d.trim().to_owned(), f.trim().to_owned()))
            .filter(|(_, f)| f.starts_with(&*self.0.to_string_lossy()))
            .collect()
    }
}

impl Drop for Loops {
    fn drop(&mut self) {
        for (dev, _) in self.attached() {
            let _ = std::process::Command::new("losetup")
                .args(["-d", &dev])
                .status();
        }
    }
}

fn run(c: &mut Cluster, e: &mut SeededEnv, cmd: Value) {
    let rc = c.execute_json(&cmd.to_string(), e);
    assert!(!rc.is_error(), "{cmd}: {rc:?}");
}

/// n1 and n2 with a FILE_THIN pool `thin` in `dir`, definition `r0` (8 MiB) on both.
fn cluster(dir: &Path) -> (Cluster, SeededEnv) {
    let mut e = SeededEnv::new(7);
    let mut c = Cluster::new(&mut e);
    for n in ["n1", "n2"] {
        run(
            &mut c,
            &mut e,
            json!({"cmd": "node_create", "name": n, "node_type": "Satellite",
            "net_interfaces": [{"name": "default", "address": "127.0.0.1"}]}),
        );
        run(
            &mut c,
            &mut e,
            json!({"cmd": "stor_pool_create", "node": n, "name": "thin",
            "kind": "FILE_THIN", "props": {"StorDriver/StorPoolName": dir.join(n).to_str()}}),
        );
    }
    run(
        &mut c,
        &mut e,
        json!({"cmd": "rsc_dfn_create", "name": "r0"}),
    );
    run(
        &mut c,
        &mut e,
        json!({"cmd": "vlm_dfn_create", "rsc_dfn": "r0", "size": 8192}),
    );
    for n in ["n1", "n2"] {
        run(
            &mut c,
            &mut e,
            json!({"cmd": "rsc_create", "rsc_dfn": "r0", "node": n,
            "storage_pool": "thin"}),
        );
    }
    (c, e)
}

fn projection(c: &Cluster) -> NodeProjection {
    c.state().for_node(&NodeName::new("n1").unwrap()).unwrap()
}

/// The real runner, recording every argv.
#[derive(Debug, Default)]
struct Recording {
    real: RealRunner,
    argvs: Mutex<Vec<Vec<String>>>,
}

#[async_trait::async_trait]
impl CommandRunner for Recording {
    async fn run(&self, cmd: &Cmd) -> Result<CmdOutput, BackendError> {
        self.argvs.lock().unwrap().push(cmd.argv());
        self.real.run(cmd).await
    }
}

fn reconciler(dir: &Path) -> Reconciler {
    reconciler_with(dir, Arc::new(RealRunner::new()))
}

/// The satellite on `dir` (its state, `.res` files and pools), as after a start.
fn reconciler_with(dir: &Path, runner: Arc<dyn CommandRunner>) -> Reconciler {
    let state = dir.join("state");
    let kernel = Kernel::Simulated(SimKernel::load(&state).unwrap());
    let drbd = DrbdLayer::new(
        runner.clone(),
        &dir.join("drbd"),
        &state,
        kernel,
        DrbdVersions::default(),
    )
    .unwrap();
    let backoff = Backoff {
        first_ms: 10,
        max_ms: 100,
    };
    Reconciler::new(Pools::new(runner), drbd, Capabilities::default(), backoff)
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

#[test]
fn real_file_thin_with_simulated_drbd_converges_resizes_and_deletes() {
    if !have_tools("real_file_thin_with_simulated_drbd_converges_resizes_and_deletes") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("n1")).unwrap();
    let loops = Loops(dir.to_path_buf());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (mut c, mut e) = cluster(dir);
    let mut rec = reconciler(dir);
    rec.set_projection(1, projection(&c));
    let report = rt.block_on(rec.pass(0));
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert!(report.converged, "{report:?}");
    assert!(report.simulated_drbd);
    let r0 = &report.resources[&linstor_core::ResourceName::new("r0").unwrap()];
    assert!(r0.up_to_date && r0.established, "{r0:?}");
    assert_eq!(r0.volumes[&0].disk_state, "UpToDate");
    let img = dir.join("n1/r0_00000.img");
    let gross = file_len(&img);
    assert!(
        gross > 8192 * 1024,
        "gross size with DRBD metadata: {gross}"
    );
    assert_eq!(loops.attached().len(), 1, "one loop device");
    assert!(dir.join("drbd/r0.res").exists());
    // Nothing left to do: the same report again.
    let again = rt.block_on(rec.pass(1));
    assert_eq!(again.resources, report.resources);
    // A restart: nothing remembered, everything found in place; the attached volume's
    // metadata is not checked again (no drbdmeta), the `.res` is unchanged (no drbdadm).
    let recording = Arc::new(Recording::default());
    let mut restarted = reconciler_with(dir, recording.clone());
    restarted.set_projection(1, projection(&c));
    let after = rt.block_on(restarted.pass(1));
    assert!(after.converged && after.failures.is_empty(), "{after:?}");
    assert_eq!(after.resources, report.resources);
    let argvs = recording.argvs.lock().unwrap().clone();
    assert!(
        argvs
            .iter()
            .all(|a| !a[0].starts_with("drbdmeta") && !a[0].starts_with("drbdadm")),
        "{argvs:?}"
    );
    drop(restarted);
    // Grow: the file and its loop device grow.
    run(
        &mut c,
        &mut e,
        json!({"cmd": "vlm_dfn_resize", "rsc_dfn": "r0", "number": 0, "size": 16384}),
    );
    rec.set_projection(2, projection(&c));
    let grown = rt.block_on(rec.pass(2));
    assert!(grown.converged && grown.failures.is_empty(), "{grown:?}");
    assert!(file_len(&img) > 16384 * 1024);
    // Delete on n1: everything goes, and the satellite confirms.
    run(
        &mut c,
        &mut e,
        json!({"cmd": "rsc_delete", "rsc_dfn": "r0", "node": "n1"}),
    );
    rec.set_projection(3, projection(&c));
    let gone = rt.block_on(rec.pass(3));
    assert!(gone.failures.is_empty(), "{:?}", gone.failures);
    assert_eq!(gone.deleted.len(), 1, "{gone:?}");
    assert!(!img.exists());
    assert!(!dir.join("drbd/r0.res").exists());
    assert!(loops.attached().is_empty());
}
