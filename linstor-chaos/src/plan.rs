//! Which operation a client does next and when the killer strikes: pure functions of a seeded
//! random stream and the client's own ledger, so a seed replays the same choices.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;

use crate::ledger::Ledger;

/// Size of volume 1 of every spawned definition (KiB); only volume 0 is resized.
pub const SIZE1_KIB: u64 = 4096;
/// How much a resize grows volume 0 (KiB).
pub const GROW_KIB: u64 = 4096;
/// Most definitions one client keeps at a time.
pub const MAX_RDS_PER_CLIENT: usize = 5;

/// One client operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `POST /v1/resource-groups/{rg}/spawn`.
    Spawn {
        /// New definition.
        rd: String,
        /// Size of volume 0 (KiB).
        size0: u64,
    },
    /// `PUT …/volume-definitions/0` with a larger size.
    Resize {
        /// Definition.
        rd: String,
        /// New size of volume 0 (KiB).
        size0: u64,
    },
    /// `PUT /v1/resource-definitions/{rd}` setting `Aux/chaos-note`.
    Note {
        /// Definition.
        rd: String,
        /// New value.
        value: String,
    },
    /// `POST …/snapshots`.
    Snapshot {
        /// Definition.
        rd: String,
        /// New snapshot.
        snap: String,
    },
    /// A new definition from a snapshot (create, restore volume definitions, restore resources).
    Restore {
        /// Source definition.
        from: String,
        /// Its snapshot.
        snap: String,
        /// New definition.
        to: String,
    },
    /// `DELETE …/snapshots/{snap}`.
    DeleteSnapshot {
        /// Definition.
        rd: String,
        /// Snapshot.
        snap: String,
    },
    /// The definition's snapshots, then the definition.
    Delete {
        /// Definition.
        rd: String,
    },
}

impl Op {
    /// Short name for the figures.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Spawn { .. } => "spawn",
            Op::Resize { .. } => "resize",
            Op::Note { .. } => "note",
            Op::Snapshot { .. } => "snapshot",
            Op::Restore { .. } => "restore",
            Op::DeleteSnapshot { .. } => "delete-snapshot",
            Op::Delete { .. } => "delete",
        }
    }
}

/// The random stream of `(seed, round, stream)`: clients are streams 0…, the killer 1000.
pub fn rng(seed: u64, round: u32, stream: u32) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(u64::from(round) << 32 | u64::from(stream));
    r
}

/// Names a client makes: `c{client}x{n}` for definitions, `s{n}` for snapshots.
#[derive(Debug, Clone)]
pub struct Namer {
    client: u32,
    next: u64,
}

impl Namer {
    /// Names of client `client`, starting after `start` (a round number times a stride keeps
    /// names unique across rounds without shared state).
    pub fn new(client: u32, start: u64) -> Self {
        Namer {
            client,
            next: start,
        }
    }

    fn take(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// A new definition name.
    pub fn rd(&mut self) -> String {
        let n = self.take();
        format!("c{}x{n}", self.client)
    }

    /// A new snapshot name.
    pub fn snap(&mut self) -> String {
        let n = self.take();
        format!("s{n}")
    }
}

/// The client's next operation.
pub fn next_op(r: &mut ChaCha8Rng, ledger: &Ledger, names: &mut Namer, note: &str) -> Op {
    let live: Vec<&String> = ledger
        .rds
        .iter()
        .filter(|(_, rd)| rd.may_exist())
        .map(|(n, _)| n)
        .collect();
    if live.is_empty() || (live.len() < MAX_RDS_PER_CLIENT && r.random_bool(0.3)) {
        let size0 = 8192 + 4096 * r.random_range(0..3u64);
        return Op::Spawn {
            rd: names.rd(),
            size0,
        };
    }
    let rd = live[r.random_range(0..live.len())].clone();
    let exp = &ledger.rds[&rd];
    let snaps: Vec<&String> = exp
        .snaps
        .iter()
        .filter(|(_, s)| s.exists.allows(&true))
        .map(|(n, _)| n)
        .collect();
    let pick = r.random_range(0..100u32);
    match pick {
        0..20 => {
            let size0 = exp.size0.values().max().copied().unwrap_or(8192) + GROW_KIB;
            Op::Resize { rd, size0 }
        }
        20..35 => Op::Note {
            rd,
            value: format!("{note} {}", r.random_range(0..1000u32)),
        },
        35..55 if snaps.len() < 2 => Op::Snapshot {
            rd,
            snap: names.snap(),
        },
        55..70 if !snaps.is_empty() && live.len() < MAX_RDS_PER_CLIENT => Op::Restore {
            snap: snaps[r.random_range(0..snaps.len())].clone(),
            from: rd,
            to: names.rd(),
        },
        70..80 if !snaps.is_empty() => Op::DeleteSnapshot {
            snap: snaps[r.random_range(0..snaps.len())].clone(),
            rd,
        },
        _ => Op::Delete { rd },
    }
}

/// What the killer does in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillPlan {
    /// `(delay before the kill in ms, daemon, ms it stays down)`, in order.
    pub kills: Vec<(u64, String, u64)>,
    /// A node to evacuate, and the delay (ms) before it.
    pub evacuate: Option<(u64, String)>,
}

/// The killer's plan: `kills` kills within `window_ms`, the controller one time in three; an
/// evacuation in one round of four when `nodes` leave room for it.
pub fn kill_plan(
    r: &mut ChaCha8Rng,
    kills: u32,
    nodes: u32,
    place_count: u32,
    window_ms: u64,
) -> KillPlan {
    let kills = (0..kills)
        .map(|_| {
            let target = if r.random_bool(1.0 / 3.0) {
                "controller".to_owned()
            } else {
                format!("node-{}", r.random_range(1..=nodes))
            };
            (
                r.random_range(0..window_ms),
                target,
                r.random_range(100..1500u64),
            )
        })
        .collect();
    let evacuate = (nodes > place_count + 1 && r.random_bool(0.25)).then(|| {
        (
            r.random_range(0..window_ms),
            format!("node-{}", r.random_range(1..=nodes)),
        )
    });
    KillPlan { kills, evacuate }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Exp, RdExp};

    #[test]
    fn a_seed_replays_the_same_choices() {
        let plan = |seed| kill_plan(&mut rng(seed, 3, 1000), 3, 4, 2, 5000);
        assert_eq!(plan(7), plan(7));
        assert_ne!(plan(7), plan(8));
        let ops = |seed| {
            let mut r = rng(seed, 1, 0);
            let mut names = Namer::new(0, 0);
            let mut l = Ledger::default();
            let mut rd = RdExp::new(Exp::is(8192), SIZE1_KIB);
            rd.exists.acked(true);
            l.rds.insert("c0x0".into(), rd);
            (0..20)
                .map(|_| next_op(&mut r, &l, &mut names, "n"))
                .collect::<Vec<_>>()
        };
        assert_eq!(ops(1), ops(1));
    }

    #[test]
    fn an_empty_ledger_spawns_and_kills_stay_in_the_window() {
        let mut r = rng(1, 0, 0);
        let op = next_op(&mut r, &Ledger::default(), &mut Namer::new(2, 100), "n");
        assert!(
            matches!(op, Op::Spawn { ref rd, .. } if rd == "c2x101"),
            "{op:?}"
        );
        let p = kill_plan(&mut rng(1, 0, 1000), 50, 4, 2, 1000);
        assert_eq!(p.kills.len(), 50);
        assert!(p.kills.iter().all(|(at, t, down)| *at < 1000
            && (100..1500).contains(down)
            && (t == "controller" || t.starts_with("node-"))));
        assert!(p.kills.iter().any(|(_, t, _)| t == "controller"));
        assert_eq!(
            kill_plan(&mut rng(1, 0, 1000), 1, 3, 2, 1000).evacuate,
            None,
            "no room"
        );
    }
}
