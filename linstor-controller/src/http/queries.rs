//! Size queries (CSI's GetCapacity, `linstor rg query-size-info`): answered by the core's
//! `placement::query::max_volume_size` under the shared lock, never through the write queue.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, options, post};
use linstor_api::{request, view};
use linstor_core::ResourceGroupName;
use linstor_core::model::SelectFilter;
use linstor_core::placement::query::max_volume_size;
use linstor_core::rc::{Obj, code};
use serde_json::Value;

use super::reads::{not_found, one};
use super::{AppState, P, body, body_or_default, json, refused};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/resource-groups/{rg}/query-max-volume-size",
            get(max_size),
        )
        .route("/v1/resource-groups/{rg}/query-size-info", post(size_info))
        // LINSTOR's oldest size query (python-linstor's `storage_pool_dfn_max_vlm_sizes`): the
        // select filter is the body of an OPTIONS request.
        .route("/v1/query-max-volume-size", options(max_size_of_filter))
        .route(
            "/v1/queries/resource-groups/query-all-size-info",
            post(all_size_info),
        )
}

fn group_filter(st: &AppState, rg: &str) -> Result<SelectFilter, Response> {
    let c = st.engine.read();
    ResourceGroupName::new(rg)
        .ok()
        .and_then(|n| c.state().resource_groups.get(&n))
        .map(|g| g.select_filter.clone())
        .ok_or_else(|| not_found(Obj::RscGrp, code::NOT_FOUND_RSC_GRP, "Resource group", rg))
}

async fn max_size(State(st): State<AppState>, P(rg): P<String>) -> Response {
    let filter = match group_filter(&st, &rg) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let c = st.engine.read();
    match max_volume_size(c.state(), &filter) {
        Ok(m) => one(&view::max_volume_sizes(c.state(), &m)),
        Err(r) => json(500, &Value::Array(vec![r.to_rc().to_rest_json()])),
    }
}

async fn max_size_of_filter(State(st): State<AppState>, b: Bytes) -> Response {
    let filter = match body::<request::AutoSelectFilter>("a max volume size query", &b) {
        Ok(f) => match f.to_core() {
            Ok(f) => f,
            Err(msg) => return refused("select_filter", msg),
        },
        Err(e) => return e,
    };
    let c = st.engine.read();
    match max_volume_size(c.state(), &filter) {
        Ok(m) => one(&view::max_volume_sizes(c.state(), &m)),
        Err(r) => json(500, &Value::Array(vec![r.to_rc().to_rest_json()])),
    }
}

async fn size_info(State(st): State<AppState>, P(rg): P<String>, b: Bytes) -> Response {
    let group = match group_filter(&st, &rg) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let req = match body_or_default::<request::QuerySizeInfoRequest>("a size query", &b) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let filter = match req.filter(&group) {
        Ok(f) => f,
        Err(msg) => return refused("select_filter", msg),
    };
    let c = st.engine.read();
    let m = max_volume_size(c.state(), &filter);
    one(&view::size_info(c.state(), m.as_ref()))
}

async fn all_size_info(State(st): State<AppState>, b: Bytes) -> Response {
    let req = match body_or_default::<request::QuerySizeInfoRequest>("a size query", &b) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let c = st.engine.read();
    let mut result = serde_json::Map::new();
    for g in c.state().resource_groups.values() {
        let filter = match req.filter(&g.select_filter) {
            Ok(f) => f,
            Err(msg) => return refused("select_filter", msg),
        };
        let m = max_volume_size(c.state(), &filter);
        let answer =
            serde_json::to_value(view::size_info(c.state(), m.as_ref())).unwrap_or(Value::Null);
        result.insert(g.name.to_string(), answer);
    }
    drop(c);
    json(200, &serde_json::json!({ "result": result }))
}
