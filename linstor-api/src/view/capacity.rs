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
use linstor_core::placement::capacity::{Ratio, ratios};
use linstor_core::state::ClusterState;
use serde::Serialize;

non_empty! {
    /// The answer to `query-size-info`.
    pub struct QuerySizeInfoResponse {
        /// The sizes; absent when nothing can be placed.
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
