//! Capability probing on this host, with the real runner and the real `/proc`, `/sys`, `/dev`.

#![allow(clippy::print_stderr, reason = "prints the host's report")]

mod common;

use std::path::Path;

use common::rt;
use linstor_backends::RealRunner;
use linstor_backends::probe::Prober;
use linstor_core::model::ProviderKind;

#[test]
fn real_probe_this_host() {
    let runner = RealRunner::new();
    let report = rt().block_on(Prober::new(&runner).probe(&[]));
    eprintln!("supported: {:?}", report.storage_providers);
    for (k, why) in &report.unsupported_providers {
        eprintln!("unsupported {k}: {why:?}");
    }
    assert!(report.storage_providers.contains(&ProviderKind::DISKLESS));
    for (kind, why) in &report.unsupported_providers {
        assert!(!why.is_empty(), "{kind} is unsupported without a reason");
        assert!(!report.storage_providers.contains(kind));
    }
    assert_eq!(
        report.storage_providers.len() + report.unsupported_providers.len(),
        ProviderKind::ALL.len()
    );
    // What we know about the host decides the answer for LVM, ZFS and FILE.
    let misc = std::fs::read_to_string("/proc/misc").unwrap_or_default();
    let dm = misc.contains("device-mapper") || Path::new("/sys/module/dm_mod").exists();
    if !dm {
        assert!(
            report.unsupported_providers[&ProviderKind::LVM]
                .iter()
                .any(|w| w.contains("device-mapper"))
        );
    }
    if !Path::new("/sys/module/zfs").exists() {
        assert!(
            report.unsupported_providers[&ProviderKind::ZFS]
                .iter()
                .any(|w| w.contains("ZFS kernel module"))
        );
    }
    let have_file_tools = runner
        .check_tools(linstor_backends::probe::FILE_TOOLS)
        .is_ok();
    if have_file_tools && (misc.contains("loop-control") || Path::new("/sys/module/loop").exists())
    {
        assert!(report.storage_providers.contains(&ProviderKind::FILE));
        assert!(report.storage_providers.contains(&ProviderKind::FILE_THIN));
    }
}
