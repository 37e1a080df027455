//! Quorum policy: LINSTOR's auto-quorum rule, the auto tiebreaker, and which side of a network
//! partition may write.
//!
//! Everything here is a pure function of the state; the command executor turns the decisions
//! into property changes and resource creations/deletions.
//!
//! # Auto-quorum
//!
//! Counting the DRBD resources that are neither being deleted nor inactive, split into diskful
//! and DRBD-diskless (tiebreakers included; DRBD clients too, as LINSTOR counts them):
//! `quorum=majority` if `diskful ≥ 3` or `diskful == 2 && diskless ≥ 1`, and every satellite
//! with a replica runs DRBD ≥ 9.0.18 (an unreported version is assumed recent); otherwise
//! `quorum=off`. The value goes into the resource definition's `DrbdOptions/Resource/quorum`.
//!
//! A user setting wins: when `Internal/Drbd/QuorumSetBy=user` is set on the resource definition,
//! its group or the controller, the effective value is the user's (`DrbdOptions/Resource/quorum`
//! along RD > RG > C, default `majority`) and the decision is marked [`QuorumSource::User`]. If
//! the user set it above the definition, a copy the automation left on the definition is
//! removed so that inheritance works.
//!
//! # Auto tiebreaker
//!
//! Enabled by `DrbdOptions/auto-add-quorum-tiebreaker` (RD > RG > C, default true). A tiebreaker
//! should exist when quorum is enabled (auto mode, or a user value other than `off`), the
//! diskful count is even and ≥ 2, and no *eligible* diskless peer exists (DRBD diskless, not a
//! tiebreaker, not a DRBD client). Creation prefers taking over a resource being deleted (a
//! diskless one first), then the autoplacer in diskless mode with the group's filter and every
//! spreading cap forced to 1 (a new zone), then, if that fails, without spreading constraints.
//! A tiebreaker that is no longer needed is removed once its node is online.
//!
//! # Partitions
//!
//! [`may_write`]: a side of a partition may write if it holds a diskful replica and, under
//! `majority`, strictly more than half of the voters (every member except DRBD clients). DRBD's
//! "last man standing" refinements are not modelled. Two disjoint sides cannot both hold a strict
//! majority, so at most one side writes whenever quorum is on.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::chains::Chains;
use crate::model::{LayerKind, NodeFlags, RscFlags, SelectFilter};
use crate::name::{NodeName, ResourceName, StorPoolName};
use crate::placement::filter::{is_live_replica, is_online, node_is_target};
use crate::placement::{PlacementCache, PlacementRequest, Refusal};
use crate::props::{Level, parse_bool};
use crate::state::ClusterState;

pub use crate::keys::{
    AUTO_ADD_QUORUM_TIEBREAKER as AUTO_TIEBREAKER_KEY, QUORUM as QUORUM_KEY,
    QUORUM_SET_BY as QUORUM_SET_BY_KEY,
};

/// LINSTOR's auto-quorum rule on counts alone: `"majority"` or `"off"`.
pub fn auto_quorum_rule(diskful: usize, diskless: usize) -> &'static str {
    if diskful >= 3 || (diskful == 2 && diskless >= 1) {
        "majority"
    } else {
        "off"
    }
}

/// Replica counts that quorum decisions use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Diskful DRBD resources (not deleting, not inactive).
    pub diskful: usize,
    /// DRBD-diskless resources (tiebreakers and clients included).
    pub diskless: usize,
    /// Diskless peers that make a tiebreaker unnecessary (not tiebreaker, not client).
    pub eligible_diskless: usize,
    /// Tiebreakers.
    pub tiebreakers: usize,
}

/// Counts the live DRBD resources of `rd`.
pub fn counts(state: &ClusterState, rd: &ResourceName) -> Counts {
    let mut c = Counts::default();
    let Some(rd) = state.resource_definitions.get(rd) else {
        return c;
    };
    for r in rd.resources.values() {
        if r.flags.contains(RscFlags::DELETE) || r.flags.contains(RscFlags::INACTIVE) {
            continue;
        }
        if !r.is_diskless() {
            c.diskful += 1;
        } else if r.flags.contains(RscFlags::DRBD_DISKLESS) {
            c.diskless += 1;
            if r.flags.contains(RscFlags::TIE_BREAKER) {
                c.tiebreakers += 1;
            } else if !r.drbd_client {
                c.eligible_diskless += 1;
            }
        }
    }
    c
}

/// Who decided the quorum value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum QuorumSource {
    /// The auto-quorum rule.
    Auto,
    /// A user, at this level (where `Internal/Drbd/QuorumSetBy=user` was found).
    User(Level),
}

/// What to do with the resource definition's quorum property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum RdPropAction {
    /// Nothing.
    Keep,
    /// Set it to this value.
    Set(String),
    /// Remove the copy the automation left (the user set it higher up).
    Remove,
}

/// The quorum decision for one resource definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuorumDecision {
    /// The effective value (`majority`, `off`, or the user's value).
    pub value: String,
    /// Who decided.
    pub source: QuorumSource,
    /// What to do with the definition's property.
    pub action: RdPropAction,
    /// The counts used.
    pub counts: Counts,
}

impl QuorumDecision {
    /// True unless the effective value is `off`.
    pub fn enabled(&self) -> bool {
        self.source == QuorumSource::Auto || !self.value.eq_ignore_ascii_case("off")
    }
}

/// The quorum decision for `rd`; `None` if it does not exist or has no DRBD layer.
pub fn quorum_decision(state: &ClusterState, rd: &ResourceName) -> Option<QuorumDecision> {
    let def = state.resource_definitions.get(rd)?;
    if !def.layer_stack.contains(&LayerKind::DRBD) {
        return None;
    }
    let c = counts(state, rd);
    let current = def.props.get(QUORUM_KEY);
    let rg_props = state
        .resource_groups
        .get(&def.resource_group)
        .map(|g| &g.props);
    let is_user = |p: &crate::props::Props| {
        p.get(QUORUM_SET_BY_KEY)
            .is_some_and(|v| v.eq_ignore_ascii_case("user"))
    };
    let user_level = if is_user(&def.props) {
        Some(Level::RscDfn)
    } else if rg_props.is_some_and(is_user) {
        Some(Level::RscGrp)
    } else if is_user(&state.ctrl_props) {
        Some(Level::Controller)
    } else {
        None
    };
    if let Some(level) = user_level {
        let action = if level != Level::RscDfn && current.is_some() {
            RdPropAction::Remove
        } else {
            RdPropAction::Keep
        };
        // Without the definition's stale copy when it is to be removed.
        let chains = Chains::new(state);
        let upper = if action == RdPropAction::Keep {
            chains.rsc_dfn_policy_of(def)
        } else {
            chains.rsc_grp_policy(&def.resource_group)
        };
        let value = upper.get(QUORUM_KEY).unwrap_or("majority").to_string();
        return Some(QuorumDecision {
            value,
            source: QuorumSource::User(level),
            action,
            counts: c,
        });
    }
    let drbd_ok = def.resources.values().all(|r| {
        state
            .observed
            .nodes
            .get(&r.node)
            .and_then(|o| o.capabilities.as_ref())
            .and_then(|cap| cap.drbd_version)
            .is_none_or(|v| v >= (9, 0, 18))
    });
    let value = if drbd_ok {
        auto_quorum_rule(c.diskful, c.diskless)
    } else {
        "off"
    };
    let action = if current == Some(value) {
        RdPropAction::Keep
    } else {
        RdPropAction::Set(value.to_string())
    };
    Some(QuorumDecision {
        value: value.to_string(),
        source: QuorumSource::Auto,
        action,
        counts: c,
    })
}

/// One tiebreaker action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum TiebreakerAction {
    /// Create a `TIE_BREAKER` resource on this node, in this diskless pool.
    Create {
        /// Node.
        node: NodeName,
        /// Diskless pool.
        pool: StorPoolName,
        /// True if the strict attempt (a new zone) failed and spreading constraints were dropped.
        relaxed: bool,
    },
    /// Turn this resource, being deleted, into the tiebreaker (clear DELETE; diskful ones are
    /// toggled to diskless).
    Takeover {
        /// Node.
        node: NodeName,
        /// Whether the resource being taken over is diskful.
        diskful: bool,
    },
    /// Mark this tiebreaker for deletion.
    Remove(NodeName),
    /// A tiebreaker is needed but no node fits (`WARN_NOT_ENOUGH_NODES_FOR_TIE_BREAKER`).
    CannotPlace(Box<Refusal>),
}

/// True if the auto tiebreaker is enabled for `rd` (RD > RG > C, default true).
pub fn tiebreaker_enabled(state: &ClusterState, rd: &crate::model::ResourceDefinition) -> bool {
    Chains::new(state)
        .rsc_dfn_policy_of(rd)
        .get(AUTO_TIEBREAKER_KEY)
        .and_then(parse_bool)
        .unwrap_or(true)
}

/// The oldest DRBD a tiebreaker node may run (older versions cannot act as a diskless
/// quorum tiebreaker; LINSTOR retries its placement until the chosen node qualifies).
pub const TIEBREAKER_MIN_DRBD: (u16, u16, u16) = (9, 0, 19);

/// The tiebreaker actions for `rd` (empty: nothing to do).
pub fn tiebreaker_decision(state: &ClusterState, rd_name: &ResourceName) -> Vec<TiebreakerAction> {
    tiebreaker_decision_cached(state, &mut PlacementCache::new(state), rd_name)
}

/// [`tiebreaker_decision`] with the placer's maintained cache (see [`PlacementCache`]).
pub fn tiebreaker_decision_cached(
    state: &ClusterState,
    placer: &mut PlacementCache,
    rd_name: &ResourceName,
) -> Vec<TiebreakerAction> {
    let Some(rd) = state.resource_definitions.get(rd_name) else {
        return Vec::new();
    };
    let Some(q) = quorum_decision(state, rd_name) else {
        return Vec::new();
    };
    let c = q.counts;
    let should = tiebreaker_enabled(state, rd)
        && q.enabled()
        && c.diskful >= 2
        && c.diskful % 2 == 0
        && c.eligible_diskless == 0;
    let tbs: Vec<&NodeName> = rd
        .resources
        .values()
        // One being evacuated (or evicted) no longer counts: a new one is placed elsewhere.
        .filter(|r| r.flags.contains(RscFlags::TIE_BREAKER) && is_live_replica(state, r))
        .map(|r| &r.node)
        .collect();
    let mut out = Vec::new();
    if !should {
        for n in tbs {
            if is_online(state, n) {
                out.push(TiebreakerAction::Remove(n.clone()));
            }
        }
        return out;
    }
    if !tbs.is_empty() {
        for n in tbs.into_iter().skip(1) {
            out.push(TiebreakerAction::Remove(n.clone()));
        }
        return out;
    }
    // Takeover of a resource being deleted: diskless first, then diskful.
    let rg_filter = state
        .resource_groups
        .get(&rd.resource_group)
        .map(|g| g.select_filter.clone())
        .unwrap_or_default();
    let takeover = rd
        .resources
        .values()
        .filter(|r| r.flags.contains(RscFlags::DELETE))
        .filter(|r| {
            state.nodes.get(&r.node).is_some_and(|n| {
                !n.flags.contains(NodeFlags::EVICTED)
                    && !n.flags.contains(NodeFlags::EVACUATE)
                    && !n.flags.contains(NodeFlags::DELETE)
                    && node_is_target(state, n)
                    && rg_filter
                        .node_name_list
                        .as_ref()
                        .is_none_or(|l| l.contains(&n.name))
            }) && is_online(state, &r.node)
        })
        .min_by_key(|r| (!r.is_diskless(), r.node.clone()));
    if let Some(r) = takeover {
        out.push(TiebreakerAction::Takeover {
            node: r.node.clone(),
            diskful: !r.is_diskless(),
        });
        return out;
    }
    let mut strict = rg_filter.clone();
    strict.place_count = None;
    strict.additional_place_count = Some(1);
    strict.diskless_type = Some(crate::model::DisklessType::DRBD_DISKLESS);
    strict.diskless_on_remaining = None;
    strict.layer_stack = Some(vec![LayerKind::DRBD]);
    if let Some(m) = &mut strict.x_replicas_on_different_map {
        m.values_mut().for_each(|x| *x = 1);
    }
    let relaxed = SelectFilter {
        replicas_on_different: None,
        x_replicas_on_different_map: None,
        replicas_on_same: None,
        ..strict.clone()
    };
    let mut last = None;
    for (filter, is_relaxed) in [(strict, false), (relaxed, true)] {
        let mut req = PlacementRequest::new(rd_name.clone(), filter, rd.total_size());
        req.min_drbd_version = Some(TIEBREAKER_MIN_DRBD);
        match placer.autoplace(state, &req) {
            Ok(p) => {
                if let Some((node, pool)) = p.diskless.into_iter().next() {
                    out.push(TiebreakerAction::Create {
                        node,
                        pool,
                        relaxed: is_relaxed,
                    });
                    return out;
                }
            }
            Err(e) => last = Some(e),
        }
    }
    if let Some(e) = last {
        out.push(TiebreakerAction::CannotPlace(Box::new(e)));
    }
    out
}

/// The role of one member of a DRBD resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Role {
    /// Holds data.
    Diskful,
    /// Diskless peer (votes).
    Diskless,
    /// Diskless tiebreaker (votes).
    TieBreaker,
    /// DRBD client: diskless and non-voting.
    Client,
}

/// One member of a DRBD resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// Node.
    pub node: NodeName,
    /// Role.
    pub role: Role,
}

/// DRBD's quorum setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum QuorumPolicy {
    /// No quorum: any side with data may write.
    Off,
    /// Strictly more than half of the voters.
    Majority,
    /// Every voter.
    All,
    /// At least this many voters.
    AtLeast(u32),
}

impl QuorumPolicy {
    /// Parses DRBD's `quorum` values (`off`, `majority`, `all`, a number).
    pub fn parse(s: &str) -> Option<QuorumPolicy> {
        match s.trim().to_ascii_lowercase().as_str() {
            "off" => Some(QuorumPolicy::Off),
            "majority" => Some(QuorumPolicy::Majority),
            "all" => Some(QuorumPolicy::All),
            n => n.parse().ok().map(QuorumPolicy::AtLeast),
        }
    }
}

/// True if the nodes in `side` may write to the resource formed by `members` under `policy`.
pub fn may_write(members: &[Member], policy: QuorumPolicy, side: &BTreeSet<NodeName>) -> bool {
    let inside = |m: &&Member| side.contains(&m.node);
    if !members
        .iter()
        .filter(inside)
        .any(|m| m.role == Role::Diskful)
    {
        return false;
    }
    let voters = members.iter().filter(|m| m.role != Role::Client).count();
    let here = members
        .iter()
        .filter(inside)
        .filter(|m| m.role != Role::Client)
        .count();
    match policy {
        QuorumPolicy::Off => true,
        QuorumPolicy::Majority => here * 2 > voters,
        QuorumPolicy::All => here == voters,
        QuorumPolicy::AtLeast(n) => here >= n as usize,
    }
}

/// A question about objects that do not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// No such resource definition.
    #[error("Resource definition '{0}' not found")]
    UnknownResource(ResourceName),
    /// No such node.
    #[error("Node '{0}' not found")]
    UnknownNode(NodeName),
}

impl QueryError {
    /// What to do about it.
    pub fn correction(&self) -> String {
        match self {
            QueryError::UnknownResource(_) => {
                "Name an existing resource definition (`linstor resource-definition list`).".into()
            }
            QueryError::UnknownNode(_) => {
                "Name only existing nodes in the partition side (`linstor node list`).".into()
            }
        }
    }
}

/// Whether the nodes `side` (one side of a network partition) may write to `rd` under its
/// effective quorum policy; unknown resources and nodes are errors, not a silent `false`.
pub fn partition_may_write(
    state: &ClusterState,
    rd: &ResourceName,
    side: &BTreeSet<NodeName>,
) -> Result<bool, QueryError> {
    if !state.resource_definitions.contains_key(rd) {
        return Err(QueryError::UnknownResource(rd.clone()));
    }
    if let Some(n) = side.iter().find(|n| !state.nodes.contains_key(*n)) {
        return Err(QueryError::UnknownNode(n.clone()));
    }
    let policy = quorum_decision(state, rd)
        .and_then(|d| QuorumPolicy::parse(&d.value))
        .unwrap_or(QuorumPolicy::Off);
    Ok(may_write(&members(state, rd), policy, side))
}

/// The members of `rd` (live resources), for [`may_write`].
pub fn members(state: &ClusterState, rd: &ResourceName) -> Vec<Member> {
    let Some(rd) = state.resource_definitions.get(rd) else {
        return Vec::new();
    };
    rd.resources
        .values()
        .filter(|r| !r.flags.contains(RscFlags::DELETE) && !r.flags.contains(RscFlags::INACTIVE))
        .map(|r| Member {
            node: r.node.clone(),
            role: if !r.is_diskless() {
                Role::Diskful
            } else if r.flags.contains(RscFlags::TIE_BREAKER) {
                Role::TieBreaker
            } else if r.drbd_client {
                Role::Client
            } else {
                Role::Diskless
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placement::tests::cluster;
    use crate::placement::testutil::*;
    use proptest::prelude::*;

    /// Auto-quorum and user override: `spec` (see `placement::tests::cluster`) → decision for r0.
    fn check(spec: &str, expect: &str) {
        let st = cluster(spec);
        let d = quorum_decision(&st, &rn("r0")).unwrap();
        let got = format!("{} {:?} {:?}", d.value, d.source, d.action);
        assert_eq!(got, expect, "{spec}");
    }

    const NODES: &str = "
        n1 Aux/zone=a : data=LVM:100/100
        n2 Aux/zone=a : data=LVM:100/100
        n3 Aux/zone=b : data=LVM:100/100
        n4 Aux/zone=c : data=LVM:100/100
        n5 Aux/zone=c : data=LVM:100/100
    ";

    #[test]
    fn partition_queries_name_unknown_objects() {
        let st = cluster(&format!("{NODES}\nrd r0 1 n1=data n2=data n3=data"));
        let side = |names: &[&str]| -> BTreeSet<NodeName> {
            names.iter().map(|n| NodeName::new(n).unwrap()).collect()
        };
        assert_eq!(
            partition_may_write(&st, &rn("r0"), &side(&["n1", "n2"])),
            Ok(true)
        );
        assert_eq!(
            partition_may_write(&st, &rn("r0"), &side(&["n3"])),
            Ok(false)
        );
        let ghost = partition_may_write(&st, &rn("r0"), &side(&["n1", "ghost"]));
        assert_eq!(
            ghost,
            Err(QueryError::UnknownNode(NodeName::new("ghost").unwrap()))
        );
        assert!(ghost.unwrap_err().correction().contains("node list"));
        let none = partition_may_write(&st, &rn("r9"), &side(&["n1"]));
        assert_eq!(none, Err(QueryError::UnknownResource(rn("r9"))));
    }

    #[test]
    fn auto_quorum_table() {
        assert_eq!(auto_quorum_rule(0, 0), "off");
        assert_eq!(auto_quorum_rule(1, 5), "off");
        assert_eq!(auto_quorum_rule(2, 0), "off");
        assert_eq!(auto_quorum_rule(2, 1), "majority");
        assert_eq!(auto_quorum_rule(3, 0), "majority");
        assert_eq!(auto_quorum_rule(4, 0), "majority");
        check(
            &format!("{NODES}\nrd r0 1 n1=data n2=data"),
            "off Auto Set(\"off\")",
        );
        check(
            &format!("{NODES}\nrd r0 1 n1=data n2=data\ntb r0 n3"),
            "majority Auto Set(\"majority\")",
        );
        check(
            &format!(
                "{NODES}\nrd r0 1 n1=data n2=data n3=data DrbdOptions/Resource/quorum=majority"
            ),
            "majority Auto Keep",
        );
        check(
            &format!("{NODES}\nrd r0 1 n1=data n2=data\ndel r0 n3"),
            "off Auto Set(\"off\")",
        );
        // A user setting wins, wherever it is.
        check(
            &format!(
                "{NODES}\nrd r0 1 n1=data n2=data n3=data DrbdOptions/Resource/quorum=off Internal/Drbd/QuorumSetBy=user"
            ),
            "off User(RscDfn) Keep",
        );
        check(
            &format!(
                "{NODES}\nctrl DrbdOptions/Resource/quorum=off Internal/Drbd/QuorumSetBy=user\nrd r0 1 n1=data n2=data n3=data DrbdOptions/Resource/quorum=majority"
            ),
            "off User(Controller) Remove",
        );
        check(
            &format!("{NODES}\nctrl Internal/Drbd/QuorumSetBy=user\nrd r0 1 n1=data"),
            "majority User(Controller) Keep",
        );
    }

    /// Tiebreaker decisions: `spec` → rendered actions for r0.
    fn check_tb(spec: &str, expect: &str) {
        let st = cluster(spec);
        let got: Vec<String> = tiebreaker_decision(&st, &rn("r0"))
            .into_iter()
            .map(|a| match a {
                TiebreakerAction::Create { node, relaxed, .. } => {
                    format!("create {node}{}", if relaxed { " relaxed" } else { "" })
                }
                TiebreakerAction::Takeover { node, diskful } => {
                    format!("takeover {node}{}", if diskful { " diskful" } else { "" })
                }
                TiebreakerAction::Remove(n) => format!("remove {n}"),
                TiebreakerAction::CannotPlace(r) => {
                    format!("cannot: {}", r.cause_text().lines().next().unwrap_or(""))
                }
            })
            .collect();
        assert_eq!(got.join("; "), expect, "{spec}");
    }

    #[test]
    fn tiebreaker_table() {
        // 2 diskful, nothing else → create (MinRscCount / fewest resources, then name).
        check_tb(&format!("{NODES}\nrd r0 1 n1=data n2=data"), "create n3");
        // 3 diskful → none; 4 → one; 2 + a diskless peer → none.
        check_tb(&format!("{NODES}\nrd r0 1 n1=data n2=data n3=data"), "");
        check_tb(
            &format!("{NODES}\nrd r0 1 n1=data n2=data n3=data n4=data"),
            "create n5",
        );
        check_tb(&format!("{NODES}\nrd r0 1 n1=data n2=data\ndl r0 n3"), "");
        // No longer needed → removed; still needed → kept.
        check_tb(
            &format!("{NODES}\nrd r0 1 n1=data n2=data n3=data\ntb r0 n4"),
            "remove n4",
        );
        check_tb(&format!("{NODES}\nrd r0 1 n1=data n2=data\ntb r0 n4"), "");
        // Disabled, or quorum off by the user.
        check_tb(
            &format!(
                "{NODES}\nrd r0 1 n1=data n2=data DrbdOptions/auto-add-quorum-tiebreaker=false"
            ),
            "",
        );
        check_tb(
            &format!(
                "{NODES}\nctrl DrbdOptions/Resource/quorum=off Internal/Drbd/QuorumSetBy=user\nrd r0 1 n1=data n2=data"
            ),
            "",
        );
        // Takeover of a resource being deleted.
        check_tb(
            &format!("{NODES}\nrd r0 1 n1=data n2=data\ndel r0 n5"),
            "takeover n5",
        );
        // DRBD before 9.0.19 cannot be a tiebreaker (an unreported version is not refused).
        check_tb(
            &format!("{NODES}\nrd r0 1 n1=data n2=data")
                .replace("n3 Aux/zone=b", "n3 drbd=9.0.18 Aux/zone=b"),
            "create n4",
        );
        check_tb(
            &format!("{NODES}\nrd r0 1 n1=data n2=data")
                .replace("n3 Aux/zone=b", "n3 drbd=- Aux/zone=b"),
            "create n3",
        );
        check_tb(
            "n1 : data=LVM:1/1\n n2 : data=LVM:1/1\n n3 drbd=9.0.18 : data=LVM:1/1\n rd r0 1 n1=data n2=data",
            "cannot: Needed 1 diskless peer(s) for 'r0'; 0 of 3 candidate pool(s) on 3 node(s) passed every filter.",
        );
        let st = cluster(
            "n1 : data=LVM:1/1\n n2 : data=LVM:1/1\n n3 drbd=9.0.18 : data=LVM:1/1\n rd r0 1 n1=data n2=data",
        );
        match tiebreaker_decision(&st, &rn("r0")).as_slice() {
            [TiebreakerAction::CannotPlace(r)] => {
                assert!(
                    r.cause_text().contains("DRBD version too old"),
                    "{}",
                    r.cause_text()
                );
            }
            other => panic!("{other:?}"),
        }
        // No other node.
        check_tb(
            "n1 : data=LVM:1/1\n n2 : data=LVM:1/1\n rd r0 1 n1=data n2=data",
            "cannot: Needed 1 diskless peer(s) for 'r0'; 0 of 2 candidate pool(s) on 2 node(s) passed every filter.",
        );
    }

    #[test]
    fn tiebreaker_prefers_a_new_zone() {
        let mut st = cluster(&format!("{NODES}\nrd r0 1 n1=data n3=data"));
        let rg = st.resource_groups.values_mut().next().unwrap();
        rg.select_filter.replicas_on_different = Some(vec!["Aux/zone".into()]);
        let a = tiebreaker_decision(&st, &rn("r0"));
        assert!(
            matches!(&a[..], [TiebreakerAction::Create { node, relaxed: false, .. }] if node.as_str() == "n4"),
            "{a:?}"
        );
        // Zones a and b taken, only zone a/b nodes left → relaxed.
        let mut st = cluster(
            "n1 Aux/zone=a : data=LVM:1/1\n n2 Aux/zone=a : data=LVM:1/1\n n3 Aux/zone=b : data=LVM:1/1\n rd r0 1 n1=data n3=data",
        );
        st.resource_groups
            .values_mut()
            .next()
            .unwrap()
            .select_filter
            .replicas_on_different = Some(vec!["Aux/zone".into()]);
        let a = tiebreaker_decision(&st, &rn("r0"));
        assert!(
            matches!(&a[..], [TiebreakerAction::Create { node, relaxed: true, .. }] if node.as_str() == "n2"),
            "{a:?}"
        );
    }

    #[test]
    fn may_write_table() {
        let m = |spec: &str| -> Vec<Member> {
            spec.split_whitespace()
                .enumerate()
                .map(|(i, r)| Member {
                    node: nn(&format!("n{i}")),
                    role: match r {
                        "D" => Role::Diskful,
                        "d" => Role::Diskless,
                        "t" => Role::TieBreaker,
                        _ => Role::Client,
                    },
                })
                .collect()
        };
        let side = |ids: &[usize]| -> BTreeSet<NodeName> {
            ids.iter().map(|i| nn(&format!("n{i}"))).collect()
        };
        let check = |members: &str, policy: QuorumPolicy, s: &[usize], expect: bool| {
            assert_eq!(
                may_write(&m(members), policy, &side(s)),
                expect,
                "{members} {policy:?} {s:?}"
            );
        };
        use QuorumPolicy::*;
        check("D D t", Majority, &[0, 2], true);
        check("D D t", Majority, &[1], false);
        check("D D t", Majority, &[2], false); // no data
        check("D D", Majority, &[0], false);
        check("D D", Off, &[0], true);
        check("D D", Off, &[1], true); // split brain without quorum
        check("D D c", Majority, &[0, 2], false); // clients do not vote
        check("D D D D", Majority, &[0, 1], false);
        check("D D D", All, &[0, 1], false);
        check("D D D", AtLeast(2), &[0, 1], true);
        assert_eq!(QuorumPolicy::parse("MAJORITY"), Some(Majority));
        assert_eq!(QuorumPolicy::parse("2"), Some(AtLeast(2)));
        assert_eq!(QuorumPolicy::parse("x"), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// With the auto rules (tiebreaker, then auto-quorum), no partition lets two sides write.
        #[test]
        fn at_most_one_side_writes(diskful in 0usize..7, diskless in 0usize..3, clients in 0usize..3, assign in prop::collection::vec(0usize..3, 14)) {
            let mut members: Vec<Member> = Vec::new();
            let push = |role: Role, members: &mut Vec<Member>| {
                let i = members.len();
                members.push(Member { node: nn(&format!("n{i}")), role });
            };
            for _ in 0..diskful { push(Role::Diskful, &mut members); }
            for _ in 0..diskless { push(Role::Diskless, &mut members); }
            for _ in 0..clients { push(Role::Client, &mut members); }
            let mut dl = diskless + clients;
            if diskful >= 2 && diskful % 2 == 0 && diskless == 0 {
                push(Role::TieBreaker, &mut members);
                dl += 1;
            }
            let policy = QuorumPolicy::parse(auto_quorum_rule(diskful, dl)).unwrap();
            let sides: Vec<BTreeSet<NodeName>> = (0..3)
                .map(|s| members.iter().enumerate().filter(|(i, _)| assign[*i] == s).map(|(_, m)| m.node.clone()).collect())
                .collect();
            let writers = sides.iter().filter(|s| may_write(&members, policy, s)).count();
            prop_assert!(writers <= 1, "{members:?} {policy:?} {sides:?}");
            // And majority itself never lets two sides write, whatever the members.
            let w = sides.iter().filter(|s| may_write(&members, QuorumPolicy::Majority, s)).count();
            prop_assert!(w <= 1);
        }
    }
}
