//! The placement engine: LINSTOR-compatible autoplacement that is exact, balanced, fast and
//! explains every refusal.
//!
//! # Pipeline
//!
//! [`autoplace`] is a pure function of `(&ClusterState, &PlacementRequest)`. It runs four phases,
//! each in its own module:
//!
//! 1. **Filter** ([`filter`]): a chain of named criteria ([`Criterion`]) over every (node, pool)
//!    pair: pool list / provider list, node online, node flags, `node_name_list`,
//!    `AutoplaceTarget`, "already carries this resource", `not_place_with_rsc[_regex]`,
//!    `layer_stack`, `replicas_on_same`, `replicas_on_different` (values forbidden or used up by
//!    existing replicas), pool `AutoplaceTarget`, shared space, provider mixing, capacity
//!    ([`capacity`]: LINSTOR's over-provisioning formula and `Autoplacer/MinThinFreeSpace`).
//!    Each eliminated pair is counted against the first criterion it fails.
//! 2. **Score** ([`score`]): LINSTOR's weighted strategies or our relative-fill default, as an
//!    integer score (exact sums, deterministic ties).
//! 3. **Select** ([`select`]): the best-scoring set satisfying the set constraints (one replica per
//!    node, `replicas_on_same`, `replicas_on_different` caps, the x-replicas "at most one partial
//!    group" rule, provider mixing, shared space). Exact: a greedy that is provably optimal when
//!    the spreading constraints are nested (laminar matroid: node ⊂ rack ⊂ zone), otherwise a
//!    branch-and-bound over constraint classes.
//! 4. **Explain** ([`explain`]): a refusal carries per-criterion elimination counts, the
//!    combination constraint that made the survivors insufficient and the nearest misses.
//!
//! Decisions documented here (where LINSTOR is silent or our model differs):
//! - A node with no observed entry, or not `ONLINE`, is offline and never a candidate.
//! - Nodes flagged `DELETE`, `EVACUATE` or `EVICTED` are excluded.
//! - A node that still carries any resource of this definition (even one being deleted) is
//!   excluded: the model holds one resource per node.
//! - `min_drbd_version` (set by the tiebreaker: 9.0.19): a node whose satellite reported an
//!   older DRBD is refused, where LINSTOR retries until the node it picked qualifies.
//! - `layer_stack`: a node qualifies only if its satellite reported capabilities and they contain
//!   every requested layer (`STORAGE` is implied). Without a report the node is refused with
//!   "capabilities not reported yet". DRBD diskless placement requires `DRBD`, NVMe initiators
//!   require `NVME`.
//! - `replicas_on_different` with a bare `key`: nodes without the property form one group of
//!   their own ("unset"), so unlabeled nodes cannot silently collect several replicas.
//! - Existing replicas seed every constraint. In diskful mode only diskful replicas seed; in
//!   diskless mode (tiebreakers, `diskless_type`) diskful and diskless replicas both seed.
//! - Provider mixing (`AllowMixingStoragePoolDriver`) also needs DRBD 9.1.18+ (< 9.2) or 9.2.7+
//!   on both nodes of a pair (LINSTOR). That pairwise rule is no equivalence; as mixing classes
//!   it is applied conservatively: when pools of more than one LVM/ZFS kind exist, a pool on a
//!   node without such a version (or without a reported one) mixes only with its own kind.
//! - `diskless_on_remaining` adds a diskless peer on every other online node that is not being
//!   deleted or evacuated and does not carry the resource yet.

pub mod capacity;
pub mod explain;
pub mod filter;
pub mod query;
pub mod score;
pub mod select;
pub mod sim;
pub mod unplace;
pub mod view;

#[cfg(test)]
pub(crate) mod testutil;

#[cfg(test)]
pub(crate) mod tests;

use serde::{Deserialize, Serialize};

use crate::model::{DisklessType, SelectFilter};
use crate::name::{NodeName, ResourceName, StorPoolName};
use crate::size::SizeKib;
use crate::state::ClusterState;

pub use capacity::{PoolEstimate, PoolUsage};
pub use explain::{Criterion, Elimination, NearMiss, Refusal, RefusalKind};
pub use unplace::choose_replica_to_remove;
pub use view::{PlacementCache, PlacementView};

/// How candidate pools are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Strategy {
    /// LINSTOR's weighted strategies (`Autoplacer/Weights/*`: MaxFreeSpace 1.0,
    /// MinReservedSpace 0, MinRscCount 0.00001).
    Linstor,
    /// Our default: prefer the pool with the lowest relative fill after placement
    /// (`Autoplacer/Weights/BalancedFill`, default 1.0).
    Balanced,
}

impl Strategy {
    /// The name used by `Autoplacer/Strategy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Linstor => "linstor",
            Strategy::Balanced => "balanced",
        }
    }

    /// Parses `linstor` / `balanced` (case-insensitive).
    pub fn parse(s: &str) -> Option<Strategy> {
        match s.trim().to_ascii_lowercase().as_str() {
            "linstor" => Some(Strategy::Linstor),
            "balanced" => Some(Strategy::Balanced),
            _ => None,
        }
    }

    /// The controller's `Autoplacer/Strategy`, default [`Strategy::Balanced`].
    pub fn from_ctrl(state: &ClusterState) -> Strategy {
        state
            .ctrl_props
            .get(crate::keys::AUTOPLACER_STRATEGY)
            .and_then(Strategy::parse)
            .unwrap_or(Strategy::Balanced)
    }
}

/// Whether new replicas get storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Diskful replicas on pools with a backing device.
    Diskful,
    /// Diskless peers on DISKLESS pools (`diskless_type` set).
    Diskless(DisklessType),
}

/// One autoplacement request.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacementRequest {
    /// The resource definition to place (it may not exist yet; then nothing is seeded).
    pub resource: ResourceName,
    /// The select filter, already merged request-over-group.
    pub filter: SelectFilter,
    /// Size of one replica: the sum of the volume definitions' sizes.
    pub size: SizeKib,
    /// Scoring; `None` takes `Autoplacer/Strategy` from the controller (default balanced).
    pub strategy: Option<Strategy>,
    /// Nodes that reported an older DRBD version are refused (a tiebreaker needs 9.0.19;
    /// LINSTOR retries its placement until the node qualifies). A node that reported no
    /// version is not refused by this rule.
    pub min_drbd_version: Option<(u16, u16, u16)>,
}

impl PlacementRequest {
    /// A request for `resource` with an already merged filter.
    pub fn new(resource: ResourceName, filter: SelectFilter, size: SizeKib) -> Self {
        PlacementRequest {
            resource,
            filter,
            size,
            strategy: None,
            min_drbd_version: None,
        }
    }

    /// A request for an existing resource definition: merges `request` over the definition's
    /// group filter and sums the volume sizes. `None` if the definition does not exist.
    pub fn for_existing(
        state: &ClusterState,
        resource: &ResourceName,
        request: &SelectFilter,
    ) -> Option<Self> {
        let rd = state.resource_definitions.get(resource)?;
        let filter = match state.resource_groups.get(&rd.resource_group) {
            Some(rg) => request.merged_over(&rg.select_filter),
            None => request.clone(),
        };
        Some(PlacementRequest::new(
            resource.clone(),
            filter,
            rd.total_size(),
        ))
    }

    /// The placement mode the filter asks for.
    pub fn mode(&self) -> Mode {
        match self.filter.diskless_type {
            Some(t) => Mode::Diskless(t),
            None => Mode::Diskful,
        }
    }
}

/// The answer to a successful request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placement {
    /// New diskful replicas: node and storage pool, in preference order.
    pub diskful: Vec<(NodeName, StorPoolName)>,
    /// New diskless peers (diskless mode, or `diskless_on_remaining`), with their diskless pool.
    pub diskless: Vec<(NodeName, StorPoolName)>,
    /// True if the place count was already reached (LINSTOR answers "already deployed").
    pub already_satisfied: bool,
    /// The strategy that scored the candidates.
    pub strategy: Strategy,
}

impl Placement {
    /// True if nothing is to be created.
    pub fn is_empty(&self) -> bool {
        self.diskful.is_empty() && self.diskless.is_empty()
    }
}

/// Places `req.resource` on `state`: the best set of pools satisfying every constraint, or a
/// refusal that says why none exists.
pub fn autoplace(state: &ClusterState, req: &PlacementRequest) -> Result<Placement, Refusal> {
    let usage = PoolUsage::compute(state);
    autoplace_with_usage(state, &usage, req)
}

/// [`autoplace`] with a precomputed (or incrementally maintained) [`PoolUsage`].
pub fn autoplace_with_usage(
    state: &ClusterState,
    usage: &PoolUsage,
    req: &PlacementRequest,
) -> Result<Placement, Refusal> {
    let mut view = PlacementView::build(state, usage);
    view.ensure_columns(state, &filter::rule_keys(&req.filter));
    filter::run(state, &view, req)
}

impl PlacementCache {
    /// [`autoplace`] over the cached view: refreshes the rows marked as changed, then places.
    /// The answer is the one [`autoplace`] gives for `state`, provided every change since the
    /// cache was built was reported to it.
    pub fn autoplace(
        &mut self,
        state: &ClusterState,
        req: &PlacementRequest,
    ) -> Result<Placement, Refusal> {
        self.refresh(state);
        self.view_mut()
            .ensure_columns(state, &filter::rule_keys(&req.filter));
        filter::run(state, self.view(), req)
    }
}
