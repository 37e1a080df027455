//! `linstor-chaos --rounds N --seed S`: the chaos run on a fresh `local-cluster`; one line per
//! round, then `N passed, M failed`. On a failure the cluster's directory (every log) is kept
//! and the seed that replays the choices is printed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use linstor_chaos::cluster::Cluster;
use linstor_chaos::round::{RoundReport, Run, Settings};

/// The chaos run.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Rounds.
    #[arg(long, default_value_t = 20)]
    rounds: u32,
    /// Seed of every random choice (kill times are replayed; thread timing is not).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 3)]
    clients: u32,
    /// Operations per client per round.
    #[arg(long, default_value_t = 4)]
    ops: u32,
    /// SIGKILLs per round (controller one time in three, else a random satellite).
    #[arg(long, default_value_t = 1)]
    kills: u32,
    /// Satellites.
    #[arg(long, default_value_t = 4)]
    nodes: u32,
    /// Directory for the cluster (a new one under /tmp if not given; must not exist).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Keep the cluster's directory even when every round passed.
    #[arg(long)]
    keep: bool,
    /// Directory of linstor-controller and linstor-satellite (default: beside this binary).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
}

#[allow(clippy::print_stdout)]
fn main() -> anyhow::Result<ExitCode> {
    let a = Args::parse();
    anyhow::ensure!(
        a.clients >= 1 && a.clients <= 50,
        "--clients {}: use 1 to 50",
        a.clients
    );
    anyhow::ensure!(
        a.nodes >= 3 && a.nodes <= 9,
        "--nodes {}: use 3 to 9 (2 replicas and a tiebreaker need 3)",
        a.nodes
    );
    let exe = std::env::current_exe().context("where is this binary")?;
    let bins = match a.bin_dir.clone() {
        Some(b) => b,
        None => exe.parent().context("binary directory")?.to_path_buf(),
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = root.join("scripts/local-cluster");
    let dir = match &a.dir {
        Some(d) => d.clone(),
        None => {
            std::env::temp_dir().join(format!("linstor-chaos-{}-{}", a.seed, std::process::id()))
        }
    };
    let cluster =
        Cluster::up(&script, &bins, &dir, a.nodes).context("bring up the local cluster")?;
    let settings = Settings {
        seed: a.seed,
        clients: a.clients,
        ops: a.ops,
        kills: a.kills,
        nodes: a.nodes,
        place_count: linstor_chaos::ops::PLACE_COUNT,
        window_ms: 3000,
        converge: Duration::from_secs(120),
    };
    println!(
        "chaos: seed {} · {} rounds · {} clients × {} ops · {} kill(s)/round · {} satellites · FILE_THIN, DRBD SIMULATED · {}",
        a.seed,
        a.rounds,
        a.clients,
        a.ops,
        a.kills,
        a.nodes,
        dir.display()
    );
    let mut run = match Run::new(settings, cluster) {
        Ok(r) => r,
        Err(e) => anyhow::bail!("set-up failed: {e}; logs in {}", dir.display()),
    };
    let (passed, failed) = rounds(&mut run, a.rounds);
    let keep = a.keep || failed > 0;
    if keep {
        println!(
            "logs kept in {}; replay with: scripts/chaos --rounds {} --seed {}",
            dir.display(),
            a.rounds,
            a.seed
        );
        // Daemons, loop devices and mounts go; the directory stays (local-cluster down removes
        // it, so only the daemons are stopped here and the files left).
        stop_keeping_files(&run.cluster);
    } else {
        run.cluster.down().context("tear down the local cluster")?;
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs every round, printing one line each and a summary; (passed, failed).
#[allow(clippy::print_stdout)]
fn rounds(run: &mut Run, n: u32) -> (u32, u32) {
    let (mut passed, mut failed) = (0, 0);
    let mut total = Totals::default();
    let t = Instant::now();
    for round in 1..=n {
        let started = Instant::now();
        let r = run.round(round);
        println!(
            "{} ({:.1} s)",
            line(round, n, &r),
            started.elapsed().as_secs_f64()
        );
        for v in &r.violations {
            println!("    {v}");
        }
        total.add(&r);
        if r.violations.is_empty() {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    println!(
        "totals: {} kills ({} controller), {} operations, {} requests ({} acknowledged, {} refused, {} unknown; {} answers lost), {} facts checked, {} commands checked; lost {}, stuck {}, orphans {}, missing {}, disagreements {}, shell {}; {:.0} s",
        total.kills,
        total.controller_kills,
        total.ops,
        total.requests,
        total.acked,
        total.refused,
        total.unknown,
        total.lost_answers,
        total.facts,
        total.commands,
        total.count("lost"),
        total.count("stuck"),
        total.count("orphan"),
        total.count("missing"),
        total.count("disagree"),
        total.count("shell"),
        t.elapsed().as_secs_f64()
    );
    (passed, failed)
}

fn line(round: u32, n: u32, r: &RoundReport) -> String {
    let kinds: Vec<String> = r.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let evac = r
        .evacuated
        .as_ref()
        .map(|n| format!(", evacuated {n}"))
        .unwrap_or_default();
    let verdict = if r.violations.is_empty() {
        "ok".to_owned()
    } else {
        format!("FAILED ({})", r.violations.len())
    };
    format!(
        "round {round}/{n}: {} ops [{}], killed [{}]{evac}, converged in {:.1} s, {} facts, {} commands: {verdict}",
        r.tally.ops,
        kinds.join(", "),
        r.killed.join(" "),
        r.converged_in.as_secs_f64(),
        r.facts,
        r.commands
    )
}

#[derive(Debug, Default)]
struct Totals {
    kills: usize,
    controller_kills: usize,
    ops: usize,
    requests: usize,
    acked: usize,
    refused: usize,
    unknown: usize,
    lost_answers: usize,
    facts: usize,
    commands: usize,
    violations: Vec<&'static str>,
}

impl Totals {
    fn add(&mut self, r: &RoundReport) {
        self.kills += r.killed.len();
        self.controller_kills += r.killed.iter().filter(|k| *k == "controller").count();
        self.ops += r.tally.ops;
        self.requests += r.tally.acked + r.tally.refused + r.tally.unknown;
        self.acked += r.tally.acked;
        self.refused += r.tally.refused;
        self.unknown += r.tally.unknown;
        self.lost_answers += r.tally.lost_answers;
        self.facts += r.facts;
        self.commands += r.commands;
        self.violations.extend(r.violations.iter().map(|v| v.kind));
    }

    fn count(&self, kind: &str) -> usize {
        self.violations.iter().filter(|k| **k == kind).count()
    }
}

/// Tears the cluster down (daemons by pid, loop devices, mounts) but keeps its logs, the
/// controller's database and the satellites' state for a post-mortem, in the same directory.
fn stop_keeping_files(c: &Cluster) {
    let keep = c.dir.with_extension("kept");
    let _ = std::fs::remove_dir_all(&keep);
    let mut wanted = vec![c.dir.join("controller.log"), c.dir.join("controller")];
    for node in c.node_names() {
        wanted.push(c.dir.join(&node).join("satellite.log"));
        wanted.push(c.dir.join(&node).join("state"));
        wanted.push(c.dir.join(&node).join("drbd"));
    }
    for from in wanted {
        let Ok(rel) = from.strip_prefix(&c.dir) else {
            continue;
        };
        let to = keep.join(rel);
        if let Some(parent) = to.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::process::Command::new("cp")
            .arg("-a")
            .arg(&from)
            .arg(&to)
            .status();
    }
    let _ = c.down();
    let _ = std::fs::rename(&keep, &c.dir);
}
