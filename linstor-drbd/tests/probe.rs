//! Host probing: scripted `drbdadm --version` outputs with fixture `/proc/drbd` files, and the
//! real host (drbd-utils installed, no kernel module on the test machines).

mod common;

use std::sync::Arc;

use linstor_backends::{CmdOutput, RealRunner, Reply, ScriptedRunner};
use linstor_drbd::version::{FsProc, probe};
use linstor_drbd::{DrbdCapability, DrbdVersion};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

const ADM_9_22: &str = "DRBDADM_BUILDTAG=GIT-hash:\\ 409097fe02187f83790b88ac3e0d94f3c167adab\\ reproducible\\ build\\,\\ 2023-01-09\\ 14:51:18\nDRBDADM_API_VERSION=2\nDRBD_KERNEL_VERSION_CODE=0x090212\nDRBD_KERNEL_VERSION=9.2.12\nDRBDADM_VERSION_CODE=0x091600\nDRBDADM_VERSION=9.22.0\n";

fn fixture(name: &str) -> FsProc {
    FsProc::at(format!(
        "{}/tests/fixtures/proc/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

fn probe_with(reply: Reply, proc: FsProc) -> DrbdCapability {
    let runner = Arc::new(ScriptedRunner::new());
    runner.push(&["drbdadm", "--version"], reply);
    let cap = rt().block_on(probe(runner.as_ref(), &proc));
    runner.finish();
    cap
}

#[test]
fn fixture_probe_cases() {
    let usable = probe_with(
        Reply::Output(CmdOutput::ok(ADM_9_22)),
        fixture("drbd-9.2.12"),
    );
    assert!(usable.usable(), "{usable:?}");
    assert_eq!(usable.versions.kernel, Some(DrbdVersion::new(9, 2, 12)));
    assert_eq!(usable.versions.utils, Some(DrbdVersion::new(9, 22, 0)));
    assert!(!usable.versions.supports_tiebreaker());

    let no_module = probe_with(
        Reply::Output(CmdOutput::ok(
            ADM_9_22.replace("DRBD_KERNEL_VERSION=9.2.12", "DRBD_KERNEL_VERSION=0"),
        )),
        fixture("absent"),
    );
    assert!(!no_module.usable());
    assert_eq!(
        no_module.missing,
        ["the DRBD kernel module is not loaded (no /proc/drbd)"]
    );

    let drbd8 = probe_with(
        Reply::Output(CmdOutput::ok(ADM_9_22)),
        fixture("drbd-8.4.11"),
    );
    assert_eq!(
        drbd8.missing,
        ["DRBD kernel module 8.4.11 is not DRBD 9 (need >= 9.0.0)"]
    );

    let no_utils = probe_with(Reply::Missing, fixture("drbd-9.2.12"));
    assert_eq!(
        no_utils.missing,
        ["drbd-utils are not installed (drbdadm not found)"]
    );
    assert_eq!(no_utils.versions.kernel, Some(DrbdVersion::new(9, 2, 12)));
}

#[test]
fn real_probe_of_this_host() {
    if common::tool("drbdadm", "real_probe_of_this_host").is_none() {
        return;
    }
    let cap = rt().block_on(probe(&RealRunner::new(), &FsProc::new()));
    assert!(cap.versions.utils.is_some(), "{cap:?}");
    let module = std::path::Path::new("/proc/drbd").exists();
    assert_eq!(
        cap.usable(),
        module && cap.versions.kernel.is_some_and(|k| k.major >= 9),
        "{cap:?}"
    );
    if !module {
        assert!(
            cap.missing.iter().any(|m| m.contains("kernel module")),
            "{cap:?}"
        );
    }
}
