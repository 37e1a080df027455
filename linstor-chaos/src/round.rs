//! One round: the clients' operations and the killer's kills at once, then convergence and the
//! checks. The decisions (which op, which kill) come from [`crate::plan`]; the verdicts from
//! [`crate::ledger`] and [`crate::check`]; this module only runs them and keeps time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;

use crate::check::{argv_rules, host_rules, logged_argvs, pending};
use crate::cluster::Cluster;
use crate::ledger::{Ledger, RdExp, Violation};
use crate::ops::{Actor, GROUP, Kind, Outcome, Tally, run};
use crate::plan::{KillPlan, Namer, kill_plan, next_op, rng};

/// Most operations of one client in one round.
pub const MAX_OPS_PER_ROUND: u32 = 60;

/// Settings of a chaos run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Seed of every random choice.
    pub seed: u64,
    /// Concurrent clients.
    pub clients: u32,
    /// Operations per client per round.
    pub ops: u32,
    /// Kills per round.
    pub kills: u32,
    /// Satellites.
    pub nodes: u32,
    /// Diskful replicas per definition.
    pub place_count: u32,
    /// Window in which kills happen (ms from the round's start).
    pub window_ms: u64,
    /// Longest wait for convergence.
    pub converge: Duration,
}

/// What one round did and found.
#[derive(Debug, Clone, Default)]
pub struct RoundReport {
    /// Requests per client, summed.
    pub tally: Tally,
    /// Operations by kind.
    pub kinds: BTreeMap<&'static str, usize>,
    /// Daemons killed, in order.
    pub killed: Vec<String>,
    /// The node evacuated (and restored after).
    pub evacuated: Option<String>,
    /// Time from the clients' end to convergence.
    pub converged_in: Duration,
    /// Facts compared with the ledger.
    pub facts: usize,
    /// Commands the satellites ran in this round.
    pub commands: usize,
    /// What was wrong.
    pub violations: Vec<Violation>,
}

/// The run's lasting state between rounds.
#[derive(Debug)]
pub struct Run {
    /// Settings.
    pub settings: Settings,
    /// The cluster.
    pub cluster: Cluster,
    /// Every client's expectations.
    pub ledger: Ledger,
    /// Bytes of each satellite log already read.
    log_offsets: BTreeMap<String, u64>,
    /// A file the property values try to create through a shell.
    pub canary: PathBuf,
}

impl Run {
    /// Sets up the resource group on a fresh cluster.
    pub fn new(settings: Settings, cluster: Cluster) -> Result<Run, String> {
        let mut a = Actor::new(&cluster.url, true);
        let group = json!({"name": GROUP, "select_filter": {"place_count": settings.place_count, "storage_pool": "filethin"}});
        expect_ok(
            a.request("POST", "/v1/resource-groups", Some(&group), Kind::Create),
            "create the resource group",
        )?;
        for nr in [0, 1] {
            let vg = json!({"volume_number": nr});
            let path = format!("/v1/resource-groups/{GROUP}/volume-groups");
            expect_ok(
                a.request("POST", &path, Some(&vg), Kind::Create),
                "create a volume group",
            )?;
        }
        let canary = cluster.dir.join("canary");
        Ok(Run {
            settings,
            cluster,
            ledger: Ledger::default(),
            log_offsets: BTreeMap::new(),
            canary,
        })
    }

    /// The value clients write into `Aux/chaos-note`: shell code that would create the canary.
    pub fn note(&self) -> String {
        format!(
            "$(touch {}); `touch {}`",
            self.canary.display(),
            self.canary.display()
        )
    }

    /// Round `round`: operations with kills, convergence, checks.
    pub fn round(&mut self, round: u32) -> RoundReport {
        let mut report = RoundReport::default();
        let plan = kill_plan(
            &mut rng(self.settings.seed, round, 1000),
            self.settings.kills,
            self.settings.nodes,
            self.settings.place_count,
            self.settings.window_ms,
        );
        let ledgers = self.split_ledger();
        let (settings, url, note) = (&self.settings, self.cluster.url.as_str(), self.note());
        let note = note.as_str();
        let this = &*self;
        let killing = AtomicBool::new(true);
        let killing = &killing;
        let (results, killed) = std::thread::scope(|s| {
            let handles: Vec<_> = ledgers
                .into_iter()
                .enumerate()
                .map(|(k, l)| {
                    let k = u32::try_from(k).unwrap_or(u32::MAX);
                    s.spawn(move || client(settings, url, note, (round, k), l, killing))
                })
                .collect();
            let killed = this.killer(&plan);
            killing.store(false, Ordering::Relaxed);
            let results: Vec<_> = handles
                .into_iter()
                .map(|h| h.join().expect("client thread"))
                .collect();
            (results, killed)
        });
        report.killed = killed;
        report.evacuated = plan.evacuate.map(|(_, n)| n);
        for (ledger, tally, kinds) in results {
            self.ledger.merge(ledger);
            add(&mut report.tally, tally);
            for (k, n) in kinds {
                *report.kinds.entry(k).or_default() += n;
            }
        }
        self.settle(&mut report);
        report
    }

    /// Each client's part of the ledger (client `k` owns names `c{k}x…`).
    fn split_ledger(&mut self) -> Vec<Ledger> {
        let mut parts: Vec<Ledger> = (0..self.settings.clients)
            .map(|_| Ledger::default())
            .collect();
        for (name, rd) in std::mem::take(&mut self.ledger.rds) {
            let k: usize = name[1..]
                .split('x')
                .next()
                .and_then(|k| k.parse().ok())
                .unwrap_or(0);
            let last = parts.len() - 1;
            parts[k.min(last)].rds.insert(name, rd);
        }
        parts
    }

    /// Kills and restarts daemons on the plan's schedule; evacuates a node if planned.
    fn killer(&self, plan: &KillPlan) -> Vec<String> {
        let start = Instant::now();
        let mut events: Vec<(u64, Option<(&str, u64)>)> = plan
            .kills
            .iter()
            .map(|(at, who, down)| (*at, Some((who.as_str(), *down))))
            .collect();
        if let Some((at, _)) = &plan.evacuate {
            events.push((*at, None));
        }
        events.sort_by_key(|e| e.0);
        let mut killed = Vec::new();
        for (at, what) in events {
            let due = start + Duration::from_millis(at);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            match what {
                Some((who, down)) => {
                    let _ = self.cluster.kill(who);
                    killed.push(who.to_owned());
                    std::thread::sleep(Duration::from_millis(down));
                    // A start that fails is retried at convergence.
                    let _ = self.cluster.start(who);
                }
                None => {
                    if let Some((_, node)) = &plan.evacuate {
                        let mut a = Actor::new(&self.cluster.url, true);
                        let _ = a.request(
                            "PUT",
                            &format!("/v1/nodes/{node}/evacuate"),
                            Some(&json!({})),
                            Kind::Modify,
                        );
                    }
                }
            }
        }
        killed
    }

    /// Waits for convergence, restores an evacuated node, then checks everything.
    fn settle(&mut self, report: &mut RoundReport) {
        let t = Instant::now();
        let mut last = self.converge(&mut report.violations);
        let flagged = |o: &Option<crate::observe::Observed>, n: &str| {
            o.as_ref()
                .and_then(|o| o.nodes.get(n))
                .is_some_and(|n| n.flags.iter().any(|f| f == "EVACUATE"))
        };
        if let Some(node) = report.evacuated.clone().filter(|n| flagged(&last, n)) {
            let mut a = Actor::new(&self.cluster.url, true);
            if let Outcome::Refused(why) = a.request(
                "PUT",
                &format!("/v1/nodes/{node}/restore"),
                Some(&json!({})),
                Kind::Modify,
            ) {
                report.violations.push(Violation::new(
                    "stuck",
                    format!("restore of {node} refused: {why}"),
                ));
            }
            last = self.converge(&mut report.violations);
        }
        report.converged_in = t.elapsed();
        if let Some(o) = last {
            report.facts = self.ledger.check(&o, &mut report.violations).facts;
        }
        self.check_argv(report);
        if self.canary.exists() {
            report.violations.push(Violation::new(
                "shell",
                "a property value was run by a shell: the canary file exists",
            ));
        }
    }

    /// Polls until nothing is pending and the hosts match; at the deadline, what is left
    /// becomes violations. Returns the last observation.
    fn converge(&self, out: &mut Vec<Violation>) -> Option<crate::observe::Observed> {
        let deadline = Instant::now() + self.settings.converge;
        let replicas = RdExp::replica_counts(&self.ledger);
        loop {
            self.restart_dead();
            let seen = self.cluster.observe();
            let (left, host) = match &seen {
                Ok(o) => (pending(o, &replicas), host_rules(o)),
                Err(e) => (vec![e.to_string()], Vec::new()),
            };
            if left.is_empty() && host.is_empty() {
                return seen.ok();
            }
            if Instant::now() > deadline {
                out.extend(left.into_iter().map(|l| Violation::new("stuck", l)));
                out.extend(host);
                return seen.ok();
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Starts any daemon whose recorded pid is gone (a start that failed during the round).
    fn restart_dead(&self) {
        let mut names = vec!["controller".to_owned()];
        names.extend(self.cluster.node_names());
        for name in names {
            let pid_file = if name == "controller" {
                self.cluster.dir.join("controller.pid")
            } else {
                self.cluster.dir.join(&name).join("pid")
            };
            let alive = std::fs::read_to_string(&pid_file)
                .ok()
                .is_some_and(|p| Path::new("/proc").join(p.trim()).exists());
            if !alive {
                let _ = self.cluster.start(&name);
            }
        }
    }

    /// Reads the satellites' new log lines and checks every command they ran.
    fn check_argv(&mut self, report: &mut RoundReport) {
        let note = self.note();
        for node in self.cluster.node_names() {
            let log = std::fs::read(self.cluster.satellite_log(&node)).unwrap_or_default();
            let from = self.log_offsets.get(&node).copied().unwrap_or(0);
            let from = usize::try_from(from).unwrap_or(0).min(log.len());
            let text = String::from_utf8_lossy(&log[from..]);
            let argvs = logged_argvs(&text);
            let (_, bad) = argv_rules(&argvs, &note);
            report.commands += argvs.len();
            report.violations.extend(bad);
            self.log_offsets.insert(node, log.len() as u64);
        }
    }
}

/// Client `k` of `round`: at least `settings.ops` operations, and more while the killer is
/// still at work (at most [`MAX_OPS_PER_ROUND`]).
fn client(
    settings: &Settings,
    url: &str,
    note: &str,
    (round, k): (u32, u32),
    mut ledger: Ledger,
    killing: &AtomicBool,
) -> (Ledger, Tally, BTreeMap<&'static str, usize>) {
    let mut r = rng(settings.seed, round, k);
    let retry = rand::Rng::random_bool(&mut r, 0.8);
    let mut actor = Actor::new(url, retry);
    let mut names = Namer::new(k, u64::from(round) * 1000);
    let mut kinds = BTreeMap::new();
    for n in 0..MAX_OPS_PER_ROUND {
        if n >= settings.ops && !killing.load(Ordering::Relaxed) {
            break;
        }
        let op = next_op(&mut r, &ledger, &mut names, note);
        *kinds.entry(op.kind()).or_default() += 1;
        run(&mut actor, &mut ledger, &op);
        // Spread over the killer's window, as independent clients would be.
        let pause = rand::Rng::random_range(&mut r, 20..120u64);
        std::thread::sleep(Duration::from_millis(pause));
    }
    (ledger, actor.tally, kinds)
}

fn expect_ok(o: Outcome, what: &str) -> Result<(), String> {
    match o {
        Outcome::Acked => Ok(()),
        other => Err(format!("{what}: {other:?}")),
    }
}

fn add(t: &mut Tally, o: Tally) {
    t.ops += o.ops;
    t.acked += o.acked;
    t.refused += o.refused;
    t.unknown += o.unknown;
    t.lost_answers += o.lost_answers;
}
