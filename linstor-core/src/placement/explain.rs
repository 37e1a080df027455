//! Refusals and their explanation in LINSTOR's result format.
//!
//! A refusal of the autoplacer is LINSTOR's `FAIL_NOT_ENOUGH_NODES` (code 996,
//! "Not enough available nodes"). Unlike LINSTOR, ours says why: the cause lists how many
//! candidates each [`Criterion`] eliminated (each candidate counts against the first criterion it
//! fails, in filter order), then which combination constraint made the survivors insufficient;
//! the correction suggests what to change; the details list the nearest misses ("node c, pool
//! data: 40 GiB free, 50 GiB needed").

use std::fmt::{self, Write as _};

use serde::Serialize;

use crate::name::{NodeName, ResourceName, StorPoolName};
use crate::rc::{Obj, Op, RcEntry, code};
use crate::size::SizeKib;

/// A named filter criterion, in the order the filter applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Criterion {
    /// The pool is not in `storage_pool_list` (or the diskless list).
    StoragePoolList,
    /// The pool's provider kind is not in `provider_list`.
    ProviderList,
    /// The node is offline (no report or not ONLINE).
    NodeOffline,
    /// The node is being deleted, evacuated or is evicted.
    NodeFlags,
    /// The node is not in `node_name_list`.
    NodeNameList,
    /// `AutoplaceTarget=false` on the node (or controller).
    AutoplaceTargetNode,
    /// The node already carries this resource.
    HasReplica,
    /// The node carries a resource from `not_place_with_rsc`.
    NotPlaceWith,
    /// The node carries a resource matching `not_place_with_rsc_regex`.
    NotPlaceWithRegex,
    /// The node's satellite has not reported its capabilities yet (layers unknown).
    CapabilitiesUnknown,
    /// The node does not support every layer of the layer stack.
    LayerStack,
    /// The node's reported DRBD version is below the request's minimum (a tiebreaker needs
    /// DRBD 9.0.19).
    DrbdVersion,
    /// The node lacks the `replicas_on_same` property or has another value.
    ReplicasOnSame,
    /// The node's `replicas_on_different` value is forbidden or used up.
    ReplicasOnDifferent,
    /// `AutoplaceTarget=false` on the pool.
    AutoplaceTargetPool,
    /// The pool's shared space is already used by a replica.
    SharedSpace,
    /// The pool's provider kind does not mix with the existing replicas'.
    ProviderMixing,
    /// The pool's capacity was never reported.
    CapacityUnknown,
    /// Not enough (over-provisioned) free space.
    FreeSpace,
    /// A thin pool below `Autoplacer/MinThinFreeSpace`.
    MinThinFreeSpace,
}

impl Criterion {
    /// What eliminated the candidates, as a phrase.
    pub fn describe(self) -> &'static str {
        match self {
            Criterion::StoragePoolList => "pool not in the storage pool list",
            Criterion::ProviderList => "provider kind not in the provider list",
            Criterion::NodeOffline => "node offline",
            Criterion::NodeFlags => "node being deleted, evacuated or evicted",
            Criterion::NodeNameList => "node not in the node name list",
            Criterion::AutoplaceTargetNode => "AutoplaceTarget=false on the node",
            Criterion::HasReplica => "node already has a replica",
            Criterion::NotPlaceWith => "node carries a resource of not_place_with_rsc",
            Criterion::NotPlaceWithRegex => {
                "node carries a resource matching not_place_with_rsc_regex"
            }
            Criterion::CapabilitiesUnknown => "capabilities not reported yet",
            Criterion::LayerStack => "node does not support the layer stack",
            Criterion::DrbdVersion => "DRBD version too old",
            Criterion::ReplicasOnSame => "replicas_on_same value missing or different",
            Criterion::ReplicasOnDifferent => "replicas_on_different value forbidden or used up",
            Criterion::AutoplaceTargetPool => "AutoplaceTarget=false on the pool",
            Criterion::SharedSpace => "shared space already used by a replica",
            Criterion::ProviderMixing => "provider kind does not mix with the existing replicas",
            Criterion::CapacityUnknown => "capacity not reported yet",
            Criterion::FreeSpace => "not enough free space",
            Criterion::MinThinFreeSpace => "thin pool below Autoplacer/MinThinFreeSpace",
        }
    }

    /// What the user can do about it.
    pub fn correction(self) -> &'static str {
        match self {
            Criterion::StoragePoolList | Criterion::ProviderList => {
                "widen the storage pool or provider list"
            }
            Criterion::NodeOffline => "bring the offline satellites back online",
            Criterion::NodeFlags => "restore the evacuated or evicted nodes, or add nodes",
            Criterion::NodeNameList => "add nodes to the node name list",
            Criterion::AutoplaceTargetNode | Criterion::AutoplaceTargetPool => {
                "remove AutoplaceTarget=false where it is not wanted"
            }
            Criterion::HasReplica => "add nodes",
            Criterion::NotPlaceWith | Criterion::NotPlaceWithRegex => {
                "relax not_place_with_rsc / not_place_with_rsc_regex"
            }
            Criterion::CapabilitiesUnknown => {
                "wait for the satellites to report their capabilities"
            }
            Criterion::LayerStack => {
                "install the missing layers on the satellites or change the layer stack"
            }
            Criterion::DrbdVersion => "upgrade DRBD on those nodes",
            Criterion::ReplicasOnSame => "label more nodes or relax replicas_on_same",
            Criterion::ReplicasOnDifferent => {
                "add nodes with new values or relax replicas_on_different / x_replicas_on_different"
            }
            Criterion::SharedSpace => "use pools with distinct shared spaces",
            Criterion::ProviderMixing => {
                "use matching pools, or set AllowMixingStoragePoolDriver=true (mixing LVM and ZFS kinds also needs DRBD 9.1.18+ below 9.2, or 9.2.7+)"
            }
            Criterion::CapacityUnknown => "wait for the satellites to report their pools",
            Criterion::FreeSpace => {
                "add capacity, delete unused resources, or raise the thin over-subscription ratios"
            }
            Criterion::MinThinFreeSpace => {
                "extend the thin pools or lower Autoplacer/MinThinFreeSpace"
            }
        }
    }
}

impl fmt::Display for Criterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// How many candidates one criterion eliminated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Elimination {
    /// The criterion.
    pub criterion: Criterion,
    /// Distinct nodes whose pools it eliminated.
    pub nodes: usize,
    /// Pools it eliminated.
    pub pools: usize,
}

/// A pool that failed only on capacity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NearMiss {
    /// Node.
    pub node: NodeName,
    /// Pool.
    pub pool: StorPoolName,
    /// Estimated free space (or physical free space for `MinThinFreeSpace`).
    pub free: SizeKib,
    /// What was needed.
    pub needed: SizeKib,
    /// Why, e.g. "limited by MaxTotalCapacityOversubscriptionRatio 20 (default)".
    pub note: String,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum RefusalKind {
    /// Not enough candidates (LINSTOR `FAIL_NOT_ENOUGH_NODES`, 996).
    NotEnoughNodes,
    /// Existing replicas disagree on a `replicas_on_same` value (985).
    Undecidable(String),
    /// Neither `place_count` nor `additional_place_count` was given (219).
    MissingPlaceCount,
    /// `place_count` is below the replicas already deployed (219).
    PlaceCountBelowExisting {
        /// Requested place count.
        requested: u32,
        /// Existing replicas.
        existing: u32,
    },
    /// `not_place_with_rsc_regex` does not compile (234).
    InvalidRegex(String),
}

/// A refused placement with its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// What kind of refusal.
    pub kind: RefusalKind,
    /// The resource.
    pub resource: ResourceName,
    /// Replicas to add.
    pub needed: u32,
    /// Replica size.
    pub size: SizeKib,
    /// Whether diskless peers were asked for.
    pub diskless: bool,
    /// The explanation (boxed: a refusal travels in `Result::Err`).
    pub detail: Box<Explanation>,
}

/// How the candidates were eliminated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// Candidate pools considered (after the structural kind filter).
    pub candidates: usize,
    /// Nodes considered.
    pub nodes: usize,
    /// Candidates that passed every filter.
    pub survivors: usize,
    /// Eliminations, in filter order; zero entries omitted.
    pub eliminated: Vec<Elimination>,
    /// Combination constraints that made the survivors insufficient.
    pub shortfall: Vec<String>,
    /// Nearest capacity misses, best first (at most 5).
    pub nearest_misses: Vec<NearMiss>,
}

impl Refusal {
    pub(crate) fn simple(kind: RefusalKind, resource: ResourceName) -> Refusal {
        Refusal {
            kind,
            resource,
            needed: 0,
            size: SizeKib::ZERO,
            diskless: false,
            detail: Box::default(),
        }
    }

    /// LINSTOR's code for this refusal.
    pub fn code(&self) -> u16 {
        match self.kind {
            RefusalKind::NotEnoughNodes => code::NOT_ENOUGH_NODES,
            RefusalKind::Undecidable(_) => code::UNDECIDABLE_AUTOPLACMENT,
            RefusalKind::MissingPlaceCount | RefusalKind::PlaceCountBelowExisting { .. } => {
                code::INVLD_PLACE_COUNT
            }
            RefusalKind::InvalidRegex(_) => code::INVLD_REQUEST,
        }
    }

    /// The cause text (also used by [`to_rc`](Self::to_rc)).
    pub fn cause_text(&self) -> String {
        let mut s = String::new();
        match &self.kind {
            RefusalKind::Undecidable(why) => return why.clone(),
            RefusalKind::MissingPlaceCount => {
                return "neither place_count nor additional_place_count is set".into();
            }
            RefusalKind::PlaceCountBelowExisting {
                requested,
                existing,
            } => {
                return format!(
                    "place count {requested} is lower than the {existing} replicas already deployed"
                );
            }
            RefusalKind::InvalidRegex(e) => {
                return format!("invalid not_place_with_rsc_regex: {e}");
            }
            RefusalKind::NotEnoughNodes => {}
        }
        let what = if self.diskless {
            "diskless peer(s)"
        } else {
            "diskful replica(s)"
        };
        let _ = write!(s, "Needed {} {what} for '{}'", self.needed, self.resource);
        if !self.diskless {
            let _ = write!(s, " of {}", self.size);
        }
        let _ = write!(
            s,
            "; {} of {} candidate pool(s) on {} node(s) passed every filter.",
            self.detail.survivors, self.detail.candidates, self.detail.nodes
        );
        for e in &self.detail.eliminated {
            let _ = write!(
                s,
                "\n- {}: {} pool(s) on {} node(s)",
                e.criterion, e.pools, e.nodes
            );
        }
        for sh in &self.detail.shortfall {
            let _ = write!(s, "\n- {sh}");
        }
        s
    }

    /// The correction text.
    pub fn correction_text(&self) -> String {
        match &self.kind {
            RefusalKind::Undecidable(_) => {
                return "delete the replicas that disagree or set replicas_on_same key=value"
                    .into();
            }
            RefusalKind::MissingPlaceCount | RefusalKind::PlaceCountBelowExisting { .. } => {
                return "give a place count at least the number of existing replicas, or additional_place_count".into();
            }
            RefusalKind::InvalidRegex(_) => return "fix the regular expression".into(),
            RefusalKind::NotEnoughNodes => {}
        }
        let mut lines: Vec<String> = Vec::new();
        let mut by_count: Vec<&Elimination> = self.detail.eliminated.iter().collect();
        by_count.sort_by_key(|e| (std::cmp::Reverse(e.pools), e.criterion));
        for e in by_count.into_iter().take(3) {
            let c = e.criterion.correction().to_string();
            if !lines.contains(&c) {
                lines.push(c);
            }
        }
        if self
            .detail
            .shortfall
            .iter()
            .any(|s| !s.starts_with("only "))
        {
            lines.push("add nodes that satisfy the spreading constraints, or relax them".into());
        }
        if self.detail.shortfall.iter().any(|s| s.starts_with("only "))
            && !lines.iter().any(|l| l == "add nodes")
        {
            lines.push("add nodes".into());
        }
        if lines.is_empty() {
            lines.push("add nodes or storage pools".into());
        }
        lines.join("; ")
    }

    /// The details text (nearest misses), if any.
    pub fn details_text(&self) -> Option<String> {
        if self.detail.nearest_misses.is_empty() {
            return None;
        }
        let mut s = String::from("Nearest misses:");
        for m in &self.detail.nearest_misses {
            let _ = write!(
                s,
                "\n- node {}, pool {}: {} free, {} needed ({})",
                m.node, m.pool, m.free, m.needed, m.note
            );
        }
        Some(s)
    }

    /// The refusal as one LINSTOR result entry.
    pub fn to_rc(&self) -> RcEntry {
        let message = match self.kind {
            RefusalKind::NotEnoughNodes => "Not enough available nodes".to_string(),
            RefusalKind::Undecidable(_) => "Could not decide the placement".to_string(),
            RefusalKind::MissingPlaceCount | RefusalKind::PlaceCountBelowExisting { .. } => {
                "Invalid place count".to_string()
            }
            RefusalKind::InvalidRegex(_) => "Invalid select filter".to_string(),
        };
        let mut e = RcEntry::error(Op::Create, Obj::Rsc, self.code(), message)
            .cause(self.cause_text())
            .correction(self.correction_text())
            .obj_ref("RscDfn", &self.resource);
        if let Some(d) = self.details_text() {
            e = e.details(d);
        }
        e
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.cause_text())
    }
}
