//! `startup`: how long `linstor node list` takes, wall clock from spawn to exit, with our native
//! binary and with LINBIT's Python client, against the same controller (SIMULATED satellites,
//! 3 nodes). The runs are interleaved (ours, LINBIT's, ours, …) so that both see the same
//! machine; one untimed run of each comes first (page cache). Prints median and p90 of both and
//! the ratio LINBIT's/ours.
//!
//! `cargo bench -p linstor-cli --bench startup`: 20 runs each (env `BENCH_RUNS`), our release
//! binary `target/release/linstor` (built first with `cargo build --release -p linstor-cli`
//! unless `BENCH_NO_BUILD` is set), the release controller if built, else the debug one.
//! Under `cargo test --all-targets` (a debug build) it is a smoke run: 3 runs each with the
//! debug binary, still asserting that every run exits 0.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{Controller, Linbit, Output};

/// Our binary: the release build under `cargo bench`, the one cargo built for this target
/// otherwise.
fn our_binary(smoke: bool) -> PathBuf {
    if smoke {
        return PathBuf::from(env!("CARGO_BIN_EXE_linstor"));
    }
    if std::env::var_os("BENCH_NO_BUILD").is_none() {
        common::cargo_build(&["--release", "-p", "linstor-cli"]);
    }
    let bin = common::target_dir().join("release/linstor");
    assert!(
        bin.is_file(),
        "{} is missing: build it with cargo build --release -p linstor-cli",
        bin.display()
    );
    bin
}

/// The median (mean of the middle two for an even count).
fn median(sorted: &[Duration]) -> Duration {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

/// The 90th percentile, nearest rank.
fn p90(sorted: &[Duration]) -> Duration {
    let rank = (sorted.len() * 9).div_ceil(10).max(1);
    sorted[rank - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The time of one `node list`, which must have exited 0 and listed the nodes.
fn node_list(who: &str, out: &Output) -> Duration {
    assert!(out.ok(), "{who}: node list failed:\n{out}");
    assert!(
        out.stdout.contains("n3"),
        "{who}: node list without n3:\n{out}"
    );
    out.elapsed
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let smoke = cfg!(debug_assertions);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(if smoke { 3 } else { 20 });
    let linbit = match Linbit::find() {
        Ok(l) => l,
        Err(why) => {
            println!("SKIP startup bench: {why}");
            return;
        }
    };
    let ours = our_binary(smoke);
    let controller_bin = common::controller_binary(true);
    let ctl = Controller::start(&controller_bin);
    for i in 1..=3 {
        let name = format!("n{i}");
        let args = ["node", "create", &name, "127.0.0.1", "--port", "3366"];
        let out = common::run_ours(&ours, &ctl.addr, &args);
        assert!(out.ok(), "node create failed:\n{out}");
    }
    let list = ["node", "list"];
    // Untimed: the first start of each reads its files from disk.
    node_list("ours", &common::run_ours(&ours, &ctl.addr, &list));
    node_list("LINBIT's", &linbit.run(&ctl.addr, &list));

    let mut t_ours = Vec::with_capacity(runs);
    let mut t_theirs = Vec::with_capacity(runs);
    for _ in 0..runs {
        t_ours.push(node_list(
            "ours",
            &common::run_ours(&ours, &ctl.addr, &list),
        ));
        t_theirs.push(node_list("LINBIT's", &linbit.run(&ctl.addr, &list)));
    }
    t_ours.sort();
    t_theirs.sort();
    let (m_ours, m_theirs) = (median(&t_ours), median(&t_theirs));
    let (p_ours, p_theirs) = (p90(&t_ours), p90(&t_theirs));
    println!(
        "startup: `linstor node list`, 3 nodes, SIMULATED satellites, {runs} runs each, interleaved{}",
        if smoke {
            " (smoke run: debug build)"
        } else {
            ""
        }
    );
    println!("  controller: {}", controller_bin.display());
    println!(
        "  ours     median {:8.2} ms   p90 {:8.2} ms   ({})",
        ms(m_ours),
        ms(p_ours),
        ours.display()
    );
    println!(
        "  LINBIT's median {:8.2} ms   p90 {:8.2} ms   ({} {})",
        ms(m_theirs),
        ms(p_theirs),
        linbit.python.display(),
        linbit.dir.join("linstor_client_main.py").display()
    );
    println!(
        "  ratio LINBIT's/ours: median {:.1}x, p90 {:.1}x",
        m_theirs.as_secs_f64() / m_ours.as_secs_f64(),
        p_theirs.as_secs_f64() / p_ours.as_secs_f64()
    );
    drop(ctl);
}
