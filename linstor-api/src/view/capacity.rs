//! Size queries: `POST /v1/resource-groups/{rg}/query-size-info` (`QuerySizeInfoResponse`)
//! and `GET /v1/resource-groups/{rg}/query-max-volume-size` (`MaxVolumeSizes`).
//!
//! The core has no size query yet: LINSTOR answers them by running the autoplacer with size 0
//! (the chosen pools give `max_vlm_size_in_kib`, the smallest estimated free space among them)
//! and by filtering every pool the filter allows (`available_size_in_kib` and
//! `capacity_in_kib` simulate placing `place_count` replicas over their free and total space).
//! These are the answer's types; the numbers come from such a core function.
//! [`spawn_result`] maps one chosen pool with the core's over-subscription ratios.

use linstor_core::model::StoragePool;
use linstor_core::placement::Refusal;
use linstor_core::placement::capacity::{Ratio, ratios};
use linstor_core::placement::query::MaxSize;
use linstor_core::state::ClusterState;
use serde::Serialize;

non_empty! {
    /// The answer to `query-size-info`.
    pub struct QuerySizeInfoResponse {
        /// The sizes (`max_vlm_size_in_kib` 0 when nothing can be placed: LINSTOR always
        /// answers them, and python-linstor's `QuerySizeInfoResponse.space_info` indexes them).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub space_info: Option<SpaceInfo>,
        /// `ApiCallRc` entries (as `RcEntry::to_rest_json` renders them), e.g. why nothing fits.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub reports: Vec<serde_json::Value>,
    }

    /// `QuerySizeInfoResponseSpaceInfo`.
    pub struct SpaceInfo {
        /// The largest volume a spawn could create now, KiB.
        pub max_vlm_size_in_kib: u64,
        /// Space left for volumes of the filter's place count, KiB.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub available_size_in_kib: Option<u64>,
        /// Capacity for volumes of the filter's place count, KiB.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub capacity_in_kib: Option<u64>,
        /// The default `MaxOversubscriptionRatio`.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub default_max_oversubscription_ratio: Option<f64>,
        /// `MaxOversubscriptionRatio` in effect.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub max_oversubscription_ratio: Option<f64>,
        /// `MaxFreeCapacityOversubscriptionRatio` in effect.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub max_free_capacity_oversubscription_ratio: Option<f64>,
        /// `MaxTotalCapacityOversubscriptionRatio` in effect.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub max_total_capacity_oversubscription_ratio: Option<f64>,
        /// The pools a spawn would choose now.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub next_spawn_result: Vec<SpawnResult>,
    }

    /// One pool a spawn would choose (`QuerySizeInfoSpawnResult`).
    pub struct SpawnResult {
        /// Node.
        pub node_name: String,
        /// Pool.
        pub stor_pool_name: String,
        /// Its `MaxOversubscriptionRatio`.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub stor_pool_oversubscription_ratio: Option<f64>,
        /// Its `MaxFreeCapacityOversubscriptionRatio`.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub stor_pool_free_capacity_oversubscription_ratio: Option<f64>,
        /// Its `MaxTotalCapacityOversubscriptionRatio`.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub stor_pool_total_capacity_oversubscription_ratio: Option<f64>,
    }

    /// The answer to `query-max-volume-size` (`MaxVolumeSizes`).
    pub struct MaxVolumeSizes {
        /// One entry per pool name that fits.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub candidates: Vec<Candidate>,
        /// The default `MaxOversubscriptionRatio`.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub default_max_oversubscription_ratio: Option<f64>,
    }

    /// One candidate of [`MaxVolumeSizes`].
    pub struct Candidate {
        /// Pool name.
        pub storage_pool: String,
        /// The largest volume, KiB.
        pub max_volume_size_kib: u64,
        /// The nodes it would go to.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub node_names: Vec<String>,
        /// True if every pool is thin.
        pub all_thin: bool,
    }
}

/// A ratio as JSON can carry it: a diskless pool's unbounded ratio is left out (JSON has no
/// infinity; serde would write `null`).
fn finite(r: Ratio) -> Option<f64> {
    r.value.is_finite().then_some(r.value)
}

/// Pool `p` as one entry of `next_spawn_result`, with the ratios the core applies to it
/// (SP > SPD > C, provider defaults where unset).
pub fn spawn_result(state: &ClusterState, p: &StoragePool) -> SpawnResult {
    let r = ratios(state, p);
    SpawnResult {
        node_name: p.node.to_string(),
        stor_pool_name: p.name.to_string(),
        stor_pool_oversubscription_ratio: finite(r.max),
        stor_pool_free_capacity_oversubscription_ratio: finite(r.free),
        stor_pool_total_capacity_oversubscription_ratio: finite(r.total),
    }
}

/// The pools of `placement` (diskful), as the state has them.
fn placed_pools<'a>(
    state: &'a ClusterState,
    m: &'a MaxSize,
) -> impl Iterator<Item = &'a StoragePool> {
    m.placement
        .diskful
        .iter()
        .filter_map(|(node, pool)| state.storage_pool(node, pool))
}

/// `GET …/query-max-volume-size`: one candidate per pool name of the largest placement.
pub fn max_volume_sizes(state: &ClusterState, m: &MaxSize) -> MaxVolumeSizes {
    let mut by_name: std::collections::BTreeMap<String, Candidate> =
        std::collections::BTreeMap::new();
    for p in placed_pools(state, m) {
        let c = by_name
            .entry(p.name.to_string())
            .or_insert_with(|| Candidate {
                storage_pool: p.name.to_string(),
                max_volume_size_kib: m.size.0,
                node_names: Vec::new(),
                all_thin: true,
            });
        c.node_names.push(p.node.to_string());
        c.all_thin &= p.kind.caps().thin;
    }
    MaxVolumeSizes {
        candidates: by_name.into_values().collect(),
        default_max_oversubscription_ratio: Some(DEFAULT_MAX_OVERSUBSCRIPTION_RATIO),
    }
}

/// `POST …/query-size-info`: the largest volume and where the next spawn would go; when the
/// placer refuses, size 0 and no pools (as LINSTOR's `CtrlQuerySizeInfoHelper` answers), with
/// the refusal as a report.
pub fn size_info(state: &ClusterState, m: Result<&MaxSize, &Refusal>) -> QuerySizeInfoResponse {
    let space_info = |max: u64, next_spawn_result: Vec<SpawnResult>| SpaceInfo {
        max_vlm_size_in_kib: max,
        available_size_in_kib: None,
        capacity_in_kib: None,
        default_max_oversubscription_ratio: Some(DEFAULT_MAX_OVERSUBSCRIPTION_RATIO),
        max_oversubscription_ratio: None,
        max_free_capacity_oversubscription_ratio: None,
        max_total_capacity_oversubscription_ratio: None,
        next_spawn_result,
    };
    match m {
        Ok(m) => QuerySizeInfoResponse {
            space_info: Some(space_info(
                m.size.0,
                placed_pools(state, m)
                    .map(|p| spawn_result(state, p))
                    .collect(),
            )),
            reports: Vec::new(),
        },
        Err(r) => QuerySizeInfoResponse {
            space_info: Some(space_info(0, Vec::new())),
            reports: vec![r.to_rc().to_rest_json()],
        },
    }
}

/// LINSTOR's default `MaxOversubscriptionRatio`.
const DEFAULT_MAX_OVERSUBSCRIPTION_RATIO: f64 = 20.0;
