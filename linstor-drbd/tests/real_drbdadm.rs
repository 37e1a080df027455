//! The real `drbdadm` accepts every rendered `.res` (`sh-nop` and `dump`), its dry-run `adjust`
//! shows the drbdsetup calls we expect, and our option validation agrees with its parser.
//!
//! drbdadm only acts on resources that have an `on` section for the local host; the tests use
//! drbd-utils' `__DRBD_NODE__` variable to make it treat the scenario's local node as this host.

mod common;

use std::path::Path;

use common::scenarios;
use linstor_drbd::{OptionValue, OptionWhitelist, Section};

fn drbdadm(test: &str) -> Option<std::path::PathBuf> {
    common::tool("drbdadm", test)
}

/// Writes `text` to `<dir>/<name>.res` and runs drbdadm on it as `local`.
fn adm(
    bin: &Path,
    dir: &Path,
    name: &str,
    text: &str,
    local: &str,
    args: &[&str],
) -> std::process::Output {
    let file = dir.join(format!("{name}.res"));
    std::fs::write(&file, text).expect("write .res");
    let file = file.to_str().expect("utf-8 path").to_owned();
    let mut argv = vec!["-c", file.as_str()];
    argv.extend_from_slice(args);
    common::run(bin, &argv, &[("__DRBD_NODE__", local)])
}

#[test]
fn real_drbdadm_accepts_every_rendered_scenario() {
    let Some(bin) = drbdadm("real_drbdadm_accepts_every_rendered_scenario") else {
        return;
    };
    let installed = linstor_drbd::version::parse_drbdadm_version(&common::stdout(&common::run(
        &bin,
        &["--version"],
        &[],
    )))
    .utils;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut checked = 0;
    for (name, config) in scenarios::all() {
        let text = config.render(OptionWhitelist::builtin()).expect("renders");
        let text = if config.versions.supports_tiebreaker()
            && installed.is_none_or(|v| v < linstor_drbd::version::TIEBREAKER_UTILS)
        {
            // This drbd-utils does not know the `tiebreaker` keyword: check everything else.
            common::skip(&format!(
                "drbdadm check of the tiebreaker lines of '{name}': they need drbd-utils >= {}, installed is {:?}; \
                 checking the file without them",
                linstor_drbd::version::TIEBREAKER_UTILS,
                installed.map(|v| v.to_string())
            ));
            let stripped: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("tiebreaker "))
                .map(|l| format!("{l}\n"))
                .collect();
            assert_ne!(stripped, text, "{name} has tiebreaker lines");
            stripped
        } else {
            text
        };
        for args in [vec!["sh-nop"], vec!["dump", config.name.as_str()]] {
            let out = adm(
                &bin,
                dir.path(),
                &config.name,
                &text,
                &config.local_node,
                &args,
            );
            assert!(
                out.status.success(),
                "drbdadm {args:?} on '{name}':\n{}\n--- file ---\n{text}",
                common::text(&out)
            );
            if args[0] == "dump" {
                let dump = common::stdout(&out);
                assert!(
                    dump.contains(&format!("resource {}", config.name)),
                    "{name}: {dump}"
                );
            }
        }
        checked += 1;
    }
    assert_eq!(checked, scenarios::all().len());
}

#[test]
fn real_drbdadm_dry_run_adjust_shows_expected_drbdsetup_calls() {
    let Some(bin) = drbdadm("real_drbdadm_dry_run_adjust_shows_expected_drbdsetup_calls") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let config = scenarios::options_at_every_level();
    let text = config.render(OptionWhitelist::builtin()).expect("renders");
    let out = adm(
        &bin,
        dir.path(),
        &config.name,
        &text,
        "alpha",
        &["-d", "adjust", &config.name],
    );
    assert!(out.status.success(), "{}", common::text(&out));
    // Tool paths differ between hosts: keep the program's base name only.
    let calls: String = common::stdout(&out)
        .lines()
        .map(|l| {
            let (prog, rest) = l.split_once(' ').unwrap_or((l, ""));
            format!("{} {rest}\n", prog.rsplit('/').next().unwrap_or(prog))
        })
        .collect();
    for expected in [
        "drbdsetup new-resource pvc-opts 0 --on-no-quorum=suspend-io --quorum=majority",
        "--protocol=A",
        "peer-device-options pvc-opts 2 0 --set-defaults --resync-rate=50M --c-max-rate=2G",
        "peer-device-options pvc-opts 1 0 --set-defaults --resync-rate=100M --c-max-rate=2G",
        "--disk-flushes=no --al-extents=6007",
        "drbdsetup connect pvc-opts 2",
    ] {
        assert!(
            calls.contains(expected),
            "missing '{expected}' in:\n{calls}"
        );
    }
    insta::assert_snapshot!(calls);
}

#[test]
fn real_invalid_option_is_refused_by_us_before_drbdadm() {
    let Some(bin) = drbdadm("real_invalid_option_is_refused_by_us_before_drbdadm") else {
        return;
    };
    let mut config = scenarios::options_at_every_level();
    config.options.set(
        Section::Resource,
        OptionValue::plain("on-no-quorum", "panic"),
    );
    let err = config
        .render(OptionWhitelist::builtin())
        .expect_err("refused");
    assert!(
        matches!(err, linstor_drbd::DrbdError::InvalidOption { .. }),
        "{err}"
    );
    // And drbdadm would have refused it too: the same file with the value forced in.
    let good = scenarios::options_at_every_level()
        .render(OptionWhitelist::builtin())
        .expect("renders");
    let bad = good.replace("on-no-quorum suspend-io;", "on-no-quorum panic;");
    assert_ne!(good, bad);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = adm(&bin, dir.path(), &config.name, &bad, "alpha", &["sh-nop"]);
    assert!(
        !out.status.success(),
        "drbdadm accepted an invalid value:\n{}",
        common::text(&out)
    );
}

/// For each (section, option, value): our validator and drbdadm's parser. Whatever we accept,
/// drbdadm must accept; whatever drbdadm refuses, we must refuse. (drbdadm does not check every
/// range, e.g. `al-extents 66`; there we are stricter, following xml-help.)
#[test]
fn real_validation_agrees_with_drbdadm() {
    let Some(bin) = drbdadm("real_validation_agrees_with_drbdadm") else {
        return;
    };
    let cases: &[(Section, &str, &str)] = &[
        (Section::PeerDevice, "resync-rate", "100M"),
        (Section::PeerDevice, "resync-rate", "8G"),
        (Section::PeerDevice, "resync-rate", "9G"),
        (Section::PeerDevice, "resync-rate", "0"),
        (Section::PeerDevice, "resync-rate", "1s"),
        (Section::PeerDevice, "resync-rate", "1S"),
        (Section::PeerDevice, "resync-rate", "1.5M"),
        (Section::PeerDevice, "c-fill-target", "512M"),
        (Section::PeerDevice, "c-max-rate", "5G"),
        (Section::Disk, "rs-discard-granularity", "1M"),
        (Section::Disk, "rs-discard-granularity", "2M"),
        (Section::Disk, "al-extents", "67"),
        (Section::Disk, "al-extents", "66"),
        (Section::Disk, "disk-barrier", "yes"),
        (Section::Disk, "disk-barrier", "true"),
        (Section::Disk, "on-io-error", "detach"),
        (Section::Disk, "on-io-error", "bogus"),
        (Section::Disk, "read-balancing", "32K-striping"),
        (Section::Disk, "resync-after", "-1"),
        (Section::Disk, "resync-after", "other/0"),
        (Section::Net, "protocol", "C"),
        (Section::Net, "protocol", "D"),
        (Section::Net, "max-buffers", "8000"),
        (Section::Net, "verify-alg", "crc32c"),
        (Section::Resource, "quorum", "majority"),
        (Section::Resource, "quorum", "2"),
        (Section::Resource, "quorum", "most"),
        (Section::Resource, "on-no-quorum", "suspend-io"),
        (Section::Resource, "auto-promote", "no"),
        (Section::Handlers, "quorum-lost", "/bin/true"),
        (Section::Handlers, "out-of-sync", "/bin/true"),
        (Section::Handlers, "unfence-peer", "/bin/true"),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let w = OptionWhitelist::builtin();
    let mut problems = Vec::new();
    let handlers: Vec<(Section, &str, &str)> = linstor_drbd::options::HANDLER_NAMES
        .iter()
        .map(|h| (Section::Handlers, *h, "/usr/lib/drbd/notify.sh root"))
        .collect();
    for (section, option, value) in cases.iter().chain(handlers.iter()) {
        let ours = w.validate(*section, option, value).is_ok();
        let mut config = scenarios::base(
            "pvc-val",
            "alpha",
            vec![
                scenarios::node(
                    "pvc-val",
                    "alpha",
                    0,
                    linstor_drbd::NodeRole::Diskful,
                    "10.0.0.1",
                    1,
                ),
                scenarios::node(
                    "pvc-val",
                    "beta",
                    1,
                    linstor_drbd::NodeRole::Diskful,
                    "10.0.0.2",
                    1,
                ),
            ],
        );
        // Render with an accepted value, then put the value under test in its place, so that
        // drbdadm sees values our validation would refuse.
        let text = {
            let ok_value = match (*section, *option) {
                (Section::Handlers, _) => "/placeholder",
                (_, "resync-rate") | (_, "c-fill-target") | (_, "c-max-rate") => "1",
                (_, "rs-discard-granularity") => "0",
                (_, "al-extents") => "67",
                (_, "disk-barrier") | (_, "auto-promote") => "no",
                (_, "on-io-error") => "detach",
                (_, "read-balancing") => "prefer-local",
                (_, "resync-after") => "-1",
                (_, "protocol") => "C",
                (_, "max-buffers") => "8000",
                (_, "verify-alg") => "crc32c",
                (_, "quorum") => "off",
                (_, "on-no-quorum") => "io-error",
                _ => "1",
            };
            config
                .options
                .set(*section, OptionValue::plain(*option, ok_value));
            let t = config.render(w).expect("renders with an accepted value");
            let quoted = w.quoted(*section, option);
            let (from, to) = if quoted {
                (
                    format!("{option} \"{ok_value}\";"),
                    format!("{option} \"{value}\";"),
                )
            } else {
                (
                    format!("{option} {ok_value};"),
                    format!("{option} {value};"),
                )
            };
            assert!(t.contains(&from), "{option}: {t}");
            t.replace(&from, &to)
        };
        let out = adm(&bin, dir.path(), "pvc-val", &text, "alpha", &["sh-nop"]);
        let theirs = out.status.success();
        if ours && !theirs {
            problems.push(format!(
                "{section}/{option} = {value}: we accept, drbdadm refuses: {}",
                common::text(&out)
            ));
        }
        if !ours && theirs && !(*option == "al-extents" && *value == "66") {
            problems.push(format!(
                "{section}/{option} = {value}: we refuse, drbdadm accepts"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
