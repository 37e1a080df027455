//! What the clients were told, as the set of states each object may be in.
//!
//! Every fact a client relies on (a definition exists, volume 0 has this size, a property has
//! this value, a snapshot exists) is an [`Exp`]: the set of values an observer may find. An
//! acknowledged change leaves one value; a request whose answer was lost adds the new value to
//! the old ones (it may or may not have been committed); a refused request leaves the set as
//! it was. After a round converges, [`Ledger::check`] compares the sets with what the cluster
//! holds and then narrows each set to what was found, so the next round starts from the truth.

use std::collections::{BTreeMap, BTreeSet};

use crate::observe::{Observed, RdSeen};

/// The values a fact may have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exp<T: Ord>(BTreeSet<T>);

impl<T: Ord + Clone + std::fmt::Debug> Exp<T> {
    /// Exactly `v`.
    pub fn is(v: T) -> Self {
        Exp(BTreeSet::from([v]))
    }

    /// Any of `vs`.
    pub fn any(vs: impl IntoIterator<Item = T>) -> Self {
        Exp(vs.into_iter().collect())
    }

    /// An acknowledged change: now exactly `v`.
    pub fn acked(&mut self, v: T) {
        self.0 = BTreeSet::from([v]);
    }

    /// A change whose answer was lost: `v`, or what it was.
    pub fn maybe(&mut self, v: T) {
        self.0.insert(v);
    }

    /// Whether `v` is allowed.
    pub fn allows(&self, v: &T) -> bool {
        self.0.contains(v)
    }

    /// The one value, if certain.
    pub fn certain(&self) -> Option<&T> {
        (self.0.len() == 1).then(|| self.0.iter().next()).flatten()
    }

    /// Every allowed value.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.0.iter()
    }

    /// Narrows to what was observed.
    pub fn settle(&mut self, v: T) {
        self.0 = BTreeSet::from([v]);
    }
}

/// One snapshot a client made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapExp {
    /// Whether it exists.
    pub exists: Exp<bool>,
    /// The size volume 0 may have in it (KiB).
    pub size0: Exp<u64>,
}

/// One resource definition a client made (by spawn or by restore).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdExp {
    /// Whether it exists.
    pub exists: Exp<bool>,
    /// Size of volume 0 (KiB).
    pub size0: Exp<u64>,
    /// Size of volume 1 (KiB), never resized.
    pub size1: u64,
    /// The value of the `Aux/chaos-note` property (none: unset).
    pub note: Exp<Option<String>>,
    /// Its snapshots.
    pub snaps: BTreeMap<String, SnapExp>,
    /// Diskful replicas it must have once converged: the group's place count for a spawn;
    /// `None` for a restore, which gets one replica per node its snapshot was taken on (a
    /// snapshot skips nodes that are offline at the time, as LINSTOR's does).
    pub replicas: Option<usize>,
}

impl RdExp {
    /// A definition about to be created with these sizes (not yet known to exist).
    pub fn new(size0: Exp<u64>, size1: u64) -> Self {
        RdExp {
            exists: Exp::is(false),
            size0,
            size1,
            note: Exp::is(None),
            snaps: BTreeMap::new(),
            replicas: None,
        }
    }

    /// Diskful replicas expected of each definition that has a fixed count.
    pub fn replica_counts(ledger: &Ledger) -> BTreeMap<String, usize> {
        ledger
            .rds
            .iter()
            .filter_map(|(n, rd)| Some((n.clone(), rd.replicas?)))
            .collect()
    }

    /// True if it may exist.
    pub fn may_exist(&self) -> bool {
        self.exists.allows(&true)
    }
}

/// What one check found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Kind: `lost`, `unexpected`, `changed`, `stuck`, `orphan`, `missing`, `disagree`, `shell`.
    pub kind: &'static str,
    /// The object and what was found against what was expected.
    pub detail: String,
}

impl Violation {
    /// A violation of `kind`.
    pub fn new(kind: &'static str, detail: impl Into<String>) -> Self {
        Violation {
            kind,
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)
    }
}

/// Every client's expectations, by definition name (names are never reused).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Definitions.
    pub rds: BTreeMap<String, RdExp>,
}

/// Figures of one check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checked {
    /// Facts compared (existence, sizes, properties, snapshots).
    pub facts: usize,
}

impl Ledger {
    /// Merges another client's ledger (names are disjoint).
    pub fn merge(&mut self, other: Ledger) {
        self.rds.extend(other.rds);
    }

    /// Compares every expectation with `seen`, then narrows the expectations to it.
    pub fn check(&mut self, seen: &Observed, out: &mut Vec<Violation>) -> Checked {
        let mut n = Checked::default();
        for (name, rd) in &mut self.rds {
            n.facts += check_rd(name, rd, seen.rds.get(name), out);
        }
        // What no client made is reported once, then adopted as found, so one fault is not
        // reported again in every later round.
        for (name, got) in &seen.rds {
            let Some(rd) = self.rds.get_mut(name) else {
                out.push(Violation::new(
                    "unexpected",
                    format!("resource definition {name} exists but no client created it"),
                ));
                self.rds.insert(name.clone(), adopt(got));
                continue;
            };
            for (snap, s) in &got.snapshots {
                if !rd.snaps.contains_key(snap) {
                    out.push(Violation::new(
                        "unexpected",
                        format!("snapshot {name}/{snap} exists but no client made it"),
                    ));
                    let found = SnapExp {
                        exists: Exp::is(true),
                        size0: Exp::is(s.size0),
                    };
                    rd.snaps.insert(snap.clone(), found);
                }
            }
        }
        // Definitions known gone stay gone; drop them so the ledger does not grow.
        self.rds.retain(|_, rd| rd.exists.allows(&true));
        n
    }
}

/// Expectations equal to what was found of a definition no client made.
fn adopt(got: &RdSeen) -> RdExp {
    let mut rd = RdExp::new(
        Exp::is(got.sizes.first().copied().unwrap_or(0)),
        got.sizes.get(1).copied().unwrap_or(0),
    );
    rd.exists.settle(true);
    rd.note.settle(got.note.clone());
    for (snap, s) in &got.snapshots {
        let found = SnapExp {
            exists: Exp::is(true),
            size0: Exp::is(s.size0),
        };
        rd.snaps.insert(snap.clone(), found);
    }
    rd
}

fn check_fact<T: Ord + Clone + std::fmt::Debug>(
    what: &str,
    exp: &mut Exp<T>,
    got: T,
    kind: &'static str,
    out: &mut Vec<Violation>,
) {
    if !exp.allows(&got) {
        let allowed: Vec<&T> = exp.values().collect();
        out.push(Violation::new(
            kind,
            format!("{what}: found {got:?}, acknowledged {allowed:?}"),
        ));
    }
    exp.settle(got);
}

fn check_rd(name: &str, rd: &mut RdExp, got: Option<&RdSeen>, out: &mut Vec<Violation>) -> usize {
    let exists = got.is_some();
    let kind = if exists { "unexpected" } else { "lost" };
    check_fact(&format!("{name} exists"), &mut rd.exists, exists, kind, out);
    let Some(got) = got else {
        return 1;
    };
    let mut facts = 1;
    match got.sizes.first() {
        Some(&s0) => check_fact(
            &format!("{name} volume 0 size"),
            &mut rd.size0,
            s0,
            "changed",
            out,
        ),
        None => out.push(Violation::new("changed", format!("{name} has no volume 0"))),
    }
    if got.sizes.get(1) != Some(&rd.size1) || got.sizes.len() != 2 {
        out.push(Violation::new(
            "changed",
            format!(
                "{name} volume sizes {:?}, volume 1 acknowledged {}",
                got.sizes, rd.size1
            ),
        ));
    }
    check_fact(
        &format!("{name} Aux/chaos-note"),
        &mut rd.note,
        got.note.clone(),
        "changed",
        out,
    );
    facts += 3;
    for (snap, exp) in &mut rd.snaps {
        let found = got.snapshots.get(snap);
        let kind = if found.is_some() {
            "unexpected"
        } else {
            "lost"
        };
        check_fact(
            &format!("snapshot {name}/{snap} exists"),
            &mut exp.exists,
            found.is_some(),
            kind,
            out,
        );
        if let Some(s) = found {
            check_fact(
                &format!("snapshot {name}/{snap} volume 0 size"),
                &mut exp.size0,
                s.size0,
                "changed",
                out,
            );
        }
        facts += 2;
    }
    rd.snaps.retain(|_, s| s.exists.allows(&true));
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::SnapSeen;

    fn seen(size0: u64, note: Option<&str>, snaps: &[&str]) -> RdSeen {
        RdSeen {
            sizes: vec![size0, 4096],
            note: note.map(str::to_owned),
            snapshots: snaps
                .iter()
                .map(|s| {
                    (
                        (*s).to_owned(),
                        SnapSeen {
                            size0,
                            ..SnapSeen::default()
                        },
                    )
                })
                .collect(),
            ..RdSeen::default()
        }
    }

    fn ledger_with(rd: RdExp) -> Ledger {
        Ledger {
            rds: BTreeMap::from([("r".to_owned(), rd)]),
        }
    }

    fn kinds(l: &mut Ledger, o: &Observed) -> Vec<&'static str> {
        let mut v = Vec::new();
        l.check(o, &mut v);
        v.into_iter().map(|v| v.kind).collect()
    }

    #[test]
    fn expectations_against_what_is_found() {
        let acked = || {
            let mut rd = RdExp::new(Exp::is(8192), 4096);
            rd.exists.acked(true);
            rd
        };
        let mut lost_answer = RdExp::new(Exp::is(8192), 4096);
        lost_answer.exists.maybe(true);
        let mut resized_maybe = acked();
        resized_maybe.size0.maybe(12288);
        let mut with_snap = acked();
        with_snap.snaps.insert(
            "s".into(),
            SnapExp {
                exists: Exp::is(true),
                size0: Exp::is(8192),
            },
        );
        let mut deleted = acked();
        deleted.exists.acked(false);
        let present = |rd: RdSeen| Observed {
            rds: BTreeMap::from([("r".to_owned(), rd)]),
            ..Observed::default()
        };
        let cases: Vec<(&str, RdExp, Observed, Vec<&str>)> = vec![
            (
                "acked and there",
                acked(),
                present(seen(8192, None, &[])),
                vec![],
            ),
            ("acked and gone", acked(), Observed::default(), vec!["lost"]),
            (
                "lost answer, absent",
                lost_answer.clone(),
                Observed::default(),
                vec![],
            ),
            (
                "lost answer, present",
                lost_answer,
                present(seen(8192, None, &[])),
                vec![],
            ),
            (
                "resize maybe, old",
                resized_maybe.clone(),
                present(seen(8192, None, &[])),
                vec![],
            ),
            (
                "resize maybe, new",
                resized_maybe,
                present(seen(12288, None, &[])),
                vec![],
            ),
            (
                "size changed",
                acked(),
                present(seen(4096, None, &[])),
                vec!["changed"],
            ),
            (
                "note changed",
                acked(),
                present(seen(8192, Some("x"), &[])),
                vec!["changed"],
            ),
            (
                "snapshot lost",
                with_snap,
                present(seen(8192, None, &[])),
                vec!["lost"],
            ),
            (
                "snapshot nobody made",
                acked(),
                present(seen(8192, None, &["z"])),
                vec!["unexpected"],
            ),
            (
                "deleted but there",
                deleted,
                present(seen(8192, None, &[])),
                vec!["unexpected"],
            ),
        ];
        for (name, rd, observed, want) in cases {
            let mut l = ledger_with(rd);
            assert_eq!(kinds(&mut l, &observed), want, "{name}");
            // Narrowed to what was found: the same observation passes again.
            assert_eq!(
                kinds(&mut l, &observed),
                Vec::<&str>::new(),
                "{name}, again"
            );
        }
    }

    #[test]
    fn a_definition_no_client_made_is_unexpected() {
        let mut l = Ledger::default();
        let o = Observed {
            rds: BTreeMap::from([("x".to_owned(), seen(8192, None, &[]))]),
            ..Observed::default()
        };
        assert_eq!(kinds(&mut l, &o), vec!["unexpected"]);
        assert_eq!(kinds(&mut l, &o), Vec::<&str>::new(), "adopted");
    }
}
