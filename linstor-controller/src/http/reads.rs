//! The GET endpoints of lists and objects: lists with LINSTOR's filters and `offset`/`limit`,
//! and single objects (404 with an `ApiCallRc` when absent); the status questions are in
//! `http::clones`. Each answer is built in memory under the shared
//! lock and sent after the lock is released.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use linstor_api::query::ListQuery;
use linstor_api::view;
use linstor_core::model::ResourceDefinition;
use linstor_core::rc::{Obj, Op, RcEntry, code};
use linstor_core::state::ClusterState;
use linstor_core::{NodeName, ResourceGroupName, ResourceName, StorPoolName};
use serde::Serialize;
use serde_json::Value;

use super::{AppState, P, Q, json};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/controller/version", get(version))
        .route("/v1/controller/properties", get(ctrl_props))
        .route("/v1/nodes", get(nodes))
        .route("/v1/nodes/{node}", get(node))
        .route("/v1/nodes/{node}/net-interfaces", get(netifs))
        .route("/v1/nodes/{node}/net-interfaces/{netif}", get(netif))
        .route("/v1/nodes/{node}/storage-pools", get(node_pools))
        .route("/v1/nodes/{node}/storage-pools/{pool}", get(node_pool))
        .route("/v1/view/storage-pools", get(pools))
        .route("/v1/resource-groups", get(rsc_grps))
        .route("/v1/resource-groups/{rg}", get(rsc_grp))
        .route("/v1/resource-groups/{rg}/volume-groups", get(vlm_grps))
        .route("/v1/resource-groups/{rg}/volume-groups/{nr}", get(vlm_grp))
        .route("/v1/resource-definitions", get(rsc_dfns))
        .route("/v1/resource-definitions/{rd}", get(rsc_dfn))
        .route(
            "/v1/resource-definitions/{rd}/volume-definitions",
            get(vlm_dfns),
        )
        .route(
            "/v1/resource-definitions/{rd}/volume-definitions/{nr}",
            get(vlm_dfn),
        )
        .route("/v1/resource-definitions/{rd}/resources", get(rscs_of))
        .route("/v1/resource-definitions/{rd}/resources/{node}", get(rsc))
        .route(
            "/v1/resource-definitions/{rd}/resources/{node}/volumes",
            get(vlms),
        )
        .route(
            "/v1/resource-definitions/{rd}/resources/{node}/volumes/{nr}",
            get(vlm),
        )
        .route("/v1/view/resources", get(view_rscs))
        .merge(more_routes())
}

fn more_routes() -> Router<AppState> {
    Router::new()
        .route("/v1/controller/properties/info", get(props_info))
        .route("/v1/controller/properties/info/all", get(props_info_all))
        .route("/v1/storage-pool-definitions", get(spds))
        .route("/v1/storage-pool-definitions/{pool}", get(spd))
        .route("/v1/resource-definitions/{rd}/snapshots", get(snaps_of))
        .route("/v1/resource-definitions/{rd}/snapshots/{snap}", get(snap))
        .route("/v1/view/snapshots", get(view_snaps))
        .route("/v1/key-value-store", get(kvss))
        .route("/v1/key-value-store/{kvs}", get(kvs))
        .route("/v1/error-reports", get(error_reports))
        .route("/v1/error-reports/{id}", get(error_report))
        .route("/v1/node-connections", get(node_conns))
        .route(
            "/v1/resource-definitions/{rd}/resource-connections",
            get(rsc_conns),
        )
        .route(
            "/v1/resource-definitions/{rd}/resource-connections/{a}/{b}",
            get(rsc_conn),
        )
}

/// A connection as LINSTOR lists it (`NodeConnection`, `ResourceConnection`).
fn conn_view(c: &linstor_core::model::Connection, rsc: Option<&str>) -> Value {
    let mut v = serde_json::json!({
        "node_a": c.node_a.as_str(),
        "node_b": c.node_b.as_str(),
        "uuid": c.uuid.to_string(),
    });
    if !c.props.is_empty() {
        let props: serde_json::Map<String, Value> = c
            .props
            .iter()
            .map(|(k, v)| (k.to_owned(), Value::from(v)))
            .collect();
        v["props"] = Value::Object(props);
    }
    if let Some(r) = rsc {
        v["resource_name"] = Value::from(r);
    }
    v
}

fn conns(
    c: &linstor_core::model::Connections,
) -> impl Iterator<Item = &linstor_core::model::Connection> {
    c.values().flat_map(|m| m.values())
}

async fn node_conns(State(st): State<AppState>, q: Q) -> Response {
    let (a, b) = (
        q.first("node_a").map(str::to_owned),
        q.first("node_b").map(str::to_owned),
    );
    let hit = |n: &linstor_core::NodeName, want: &Option<String>| {
        want.as_ref()
            .is_none_or(|w| n.as_str().eq_ignore_ascii_case(w))
    };
    let c = st.engine.read();
    let items: Vec<Value> = conns(&c.state().node_connections)
        .filter(|x| {
            (hit(&x.node_a, &a) && hit(&x.node_b, &b)) || (hit(&x.node_b, &a) && hit(&x.node_a, &b))
        })
        .map(|x| conn_view(x, None))
        .collect();
    drop(c);
    list(items)
}

async fn rsc_conns(State(st): State<AppState>, P(rd): P<String>) -> Response {
    let c = st.engine.read();
    match rd_of(c.state(), &rd) {
        Ok(d) => list(
            conns(&d.resource_connections)
                .map(|x| conn_view(x, Some(d.name.as_str())))
                .collect(),
        ),
        Err(r) => r,
    }
}

async fn rsc_conn(
    State(st): State<AppState>,
    P((rd, a, b)): P<(String, String, String)>,
) -> Response {
    let c = st.engine.read();
    let d = match rd_of(c.state(), &rd) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let found = conns(&d.resource_connections).find(|x| {
        (x.node_a.as_str().eq_ignore_ascii_case(&a) && x.node_b.as_str().eq_ignore_ascii_case(&b))
            || (x.node_a.as_str().eq_ignore_ascii_case(&b)
                && x.node_b.as_str().eq_ignore_ascii_case(&a))
    });
    // A pair without properties has no stored connection; LINSTOR still lists the pair.
    let v = found.map_or_else(
        || serde_json::json!({"node_a": a, "node_b": b, "resource_name": d.name.as_str()}),
        |x| conn_view(x, Some(d.name.as_str())),
    );
    list(vec![v])
}

async fn props_info() -> Response {
    one(&view::props_info(linstor_core::props::Level::Controller))
}

async fn props_info_all() -> Response {
    one(&view::props_info_all())
}

async fn spds(State(st): State<AppState>, q: Q) -> Response {
    let lq = match q.list("storage_pools") {
        Ok(l) => l,
        Err(r) => return r,
    };
    let c = st.engine.read();
    let items: Vec<_> = c
        .state()
        .storage_pool_definitions
        .values()
        .filter(|d| lq.wants_name(d.name.as_str()) && lq.wants_props(&d.props))
        .skip(lq.offset)
        .take(lq.limit.unwrap_or(usize::MAX))
        .map(view::storage_pool_definition)
        .collect();
    drop(c);
    list(items)
}

async fn spd(State(st): State<AppState>, P(name): P<String>) -> Response {
    let c = st.engine.read();
    StorPoolName::new(&name)
        .ok()
        .and_then(|n| c.state().storage_pool_definitions.get(&n))
        .map_or_else(
            || {
                not_found(
                    Obj::StorPoolDfn,
                    code::NOT_FOUND_STOR_POOL_DFN,
                    "Storage pool definition",
                    &name,
                )
            },
            |d| one(&view::storage_pool_definition(d)),
        )
}

async fn snaps_of(State(st): State<AppState>, P(name): P<String>) -> Response {
    let c = st.engine.read();
    match rd_of(c.state(), &name) {
        Ok(d) => list(d.snapshots.values().map(|s| view::snapshot(d, s)).collect()),
        Err(r) => r,
    }
}

async fn snap(State(st): State<AppState>, P((name, snap)): P<(String, String)>) -> Response {
    let c = st.engine.read();
    let d = match rd_of(c.state(), &name) {
        Ok(d) => d,
        Err(r) => return r,
    };
    linstor_core::SnapshotName::new(&snap)
        .ok()
        .and_then(|n| d.snapshots.get(&n))
        .map_or_else(
            || {
                not_found(
                    Obj::Snapshot,
                    code::NOT_FOUND_SNAPSHOT_DFN,
                    "Snapshot",
                    &snap,
                )
            },
            |s| one(&view::snapshot(d, s)),
        )
}

async fn view_snaps(State(st): State<AppState>, q: Q) -> Response {
    let lq = match q.list("resources") {
        Ok(l) => l,
        Err(r) => return r,
    };
    let nodes = q.all("nodes");
    let c = st.engine.read();
    let items: Vec<_> = c
        .state()
        .resource_definitions
        .values()
        .filter(|d| lq.wants_name(d.name.as_str()))
        .flat_map(|d| d.snapshots.values().map(move |s| view::snapshot(d, s)))
        .filter(|v| {
            nodes.is_empty()
                || v.nodes
                    .iter()
                    .any(|n| nodes.iter().any(|w| w.eq_ignore_ascii_case(n)))
        })
        .skip(lq.offset)
        .take(lq.limit.unwrap_or(usize::MAX))
        .collect();
    drop(c);
    list(items)
}

async fn kvss(State(st): State<AppState>, q: Q) -> Response {
    let lq = match q.list("instances") {
        Ok(l) => l,
        Err(r) => return r,
    };
    let c = st.engine.read();
    let items: Vec<_> = c
        .state()
        .key_value_stores
        .values()
        .filter(|k| lq.wants_name(k.name.as_str()) && lq.wants_props(&k.props))
        .skip(lq.offset)
        .take(lq.limit.unwrap_or(usize::MAX))
        .map(view::key_value_store)
        .collect();
    drop(c);
    list(items)
}

async fn kvs(State(st): State<AppState>, P(name): P<String>) -> Response {
    let c = st.engine.read();
    let found = linstor_core::KvsName::new(&name)
        .ok()
        .and_then(|n| c.state().key_value_stores.get(&n))
        .map(view::key_value_store);
    drop(c);
    // LINSTOR lists one instance as a one-element array; an unknown one is empty.
    list(found.into_iter().collect())
}

async fn error_reports(State(st): State<AppState>, q: Q) -> Response {
    let lq = match q.list("node") {
        Ok(l) => l,
        Err(r) => return r,
    };
    let num = |k: &str| q.first(k).and_then(|v| v.parse::<i64>().ok());
    let items = st
        .reports
        .list(q.flag("withContent"), num("since"), num("to"));
    list(lq.page(items))
}

async fn error_report(State(st): State<AppState>, P(id): P<String>) -> Response {
    match st.reports.get(&id) {
        Some(r) => list(vec![r]),
        None => not_found(Obj::None, code::UNKNOWN_ERROR, "Error report", &id),
    }
}

/// 200 with `items` as a JSON array.
pub(super) fn list<T: Serialize>(items: Vec<T>) -> Response {
    json(
        200,
        &serde_json::to_value(items).unwrap_or(Value::Array(Vec::new())),
    )
}

/// 200 with one object.
pub(super) fn one<T: Serialize>(item: &T) -> Response {
    json(200, &serde_json::to_value(item).unwrap_or(Value::Null))
}

/// 404 for `what` `name` of kind `obj`.
pub(super) fn not_found(obj: Obj, code: u16, what: &str, name: &str) -> Response {
    let e = RcEntry::error(Op::None, obj, code, format!("{what} '{name}' not found.")).correction(
        format!("Check the name (list them with GET); {what} names are case-insensitive."),
    );
    super::error(404, e)
}

async fn version(State(st): State<AppState>) -> Response {
    let v = view::ControllerVersion {
        version: env!("CARGO_PKG_VERSION").into(),
        git_hash: option_env!("LINSTOR_GIT_HASH").unwrap_or("unknown").into(),
        build_time: option_env!("LINSTOR_BUILD_TIME")
            .unwrap_or("unknown")
            .into(),
        rest_api_version: linstor_api::REST_API_VERSION.into(),
    };
    let mut body = serde_json::to_value(v).unwrap_or(Value::Null);
    if st.simulated {
        body["satellites"] = Value::from("SIMULATED");
    }
    json(200, &body)
}

async fn ctrl_props(State(st): State<AppState>) -> Response {
    let c = st.engine.read();
    let props: serde_json::Map<String, Value> = c
        .state()
        .ctrl_props
        .iter()
        .map(|(k, v)| (k.to_owned(), Value::from(v)))
        .collect();
    drop(c);
    json(200, &Value::Object(props))
}

fn node_of<'a>(s: &'a ClusterState, name: &str) -> Result<&'a linstor_core::model::Node, Response> {
    NodeName::new(name)
        .ok()
        .and_then(|n| s.nodes.get(&n))
        .ok_or_else(|| not_found(Obj::Node, code::NOT_FOUND_NODE, "Node", name))
}

fn rd_of<'a>(s: &'a ClusterState, name: &str) -> Result<&'a ResourceDefinition, Response> {
    ResourceName::new(name)
        .ok()
        .and_then(|n| s.resource_definitions.get(&n))
        .ok_or_else(|| {
            not_found(
                Obj::RscDfn,
                code::NOT_FOUND_RSC_DFN,
                "Resource definition",
                name,
            )
        })
}

fn rg_of<'a>(
    s: &'a ClusterState,
    name: &str,
) -> Result<&'a linstor_core::model::ResourceGroup, Response> {
    ResourceGroupName::new(name)
        .ok()
        .and_then(|n| s.resource_groups.get(&n))
        .ok_or_else(|| not_found(Obj::RscGrp, code::NOT_FOUND_RSC_GRP, "Resource group", name))
}

async fn nodes(State(st): State<AppState>, q: Q) -> Response {
    let lq = match q.list("nodes") {
        Ok(l) => l,
        Err(r) => return r,
    };
    let c = st.engine.read();
    let s = c.state();
    let items: Vec<_> = s
        .nodes
        .values()
        .filter(|n| lq.wants_name(n.name.as_str()) && lq.wants_props(&n.props))
        .skip(lq.offset)
        .take(lq.limit.unwrap_or(usize::MAX))
        .map(|n| view::node(s, n))
        .collect();
    drop(c);
    list(items)
}

async fn node(State(st): State<AppState>, P(name): P<String>) -> Response {
    let c = st.engine.read();
    node_of(c.state(), &name).map_or_else(|r| r, |n| one(&view::node(c.state(), n)))
}

async fn netifs(State(st): State<AppState>, P(name): P<String>) -> Response {
    let c = st.engine.read();
    match node_of(c.state(), &name) {
        Ok(n) => list(view::node(c.state(), n).net_interfaces),
        Err(r) => r,
    }
}

async fn netif(State(st): State<AppState>, P((name, netif)): P<(String, String)>) -> Response {
    let c = st.engine.read();
    let n = match node_of(c.state(), &name) {
        Ok(n) => n,
        Err(r) => return r,
    };
    view::node(c.state(), n)
        .net_interfaces
        .into_iter()
        .find(|i| i.name.eq_ignore_ascii_case(&netif))
        .map_or_else(
            || not_found(Obj::NetIf, code::NOT_FOUND_NET_IF, "Net interface", &netif),
            |i| one(&i),
        )
}

fn pool_list(s: &ClusterState, nodes: &ListQuery, pools: &[String]) -> Vec<view::StoragePoolView> {
    s.storage_pools()
        .filter(|p| nodes.wants_name(p.node.as_str()))
        .filter(|p| {
            pools.is_empty()
                || pools
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(p.name.as_str()))
        })
        .filter(|p| nodes.wants_props(&p.props))
        .map(|p| view::storage_pool(s, p))
        .collect()
}

async fn pools(State(st): State<AppState>, q: Q) -> Response {
    let lq = match q.list("nodes") {
        Ok(l) => l,
        Err(r) => return r,
    };
    let c = st.engine.read();
    let items = pool_list(c.state(), &lq, &q.all("storage_pools"));
    drop(c);
    list(lq.page(items))
}

async fn node_pools(State(st): State<AppState>, P(name): P<String>, q: Q) -> Response {
    let mut lq = match q.list("nodes") {
        Ok(l) => l,
        Err(r) => return r,
    };
    let c = st.engine.read();
    let n = match node_of(c.state(), &name) {
        Ok(n) => n,
        Err(r) => return r,
    };
    lq.names = vec![n.name.to_string()];
    let items = pool_list(c.state(), &lq, &q.all("storage_pools"));
    drop(c);
    list(lq.page(items))
}

async fn node_pool(State(st): State<AppState>, P((name, pool)): P<(String, String)>) -> Response {
    let c = st.engine.read();
    let n = match node_of(c.state(), &name) {
        Ok(n) => n,
        Err(r) => return r,
    };
    StorPoolName::new(&pool)
        .ok()
        .and_then(|p| n.storage_pools.get(&p))
        .map_or_else(
            || {
                not_found(
                    Obj::StorPool,
                    code::NOT_FOUND_STOR_POOL,
                    "Storage pool",
                    &pool,
                )
            },
            |p| list(vec![view::storage_pool(c.state(), p)]),
        )
}

async fn rsc_grps(State(st): State<AppState>, q: Q) -> Response {
    let lq = match q.list("resource_groups") {
        Ok(l) => l,
        Err(r) => return r,
    };
    let c = st.engine.read();
    let items: Vec<_> = c
        .state()
        .resource_groups
        .values()
        .filter(|g| lq.wants_name(g.name.as_str()) && lq.wants_props(&g.props))
        .skip(lq.offset)
        .take(lq.limit.unwrap_or(usize::MAX))
        .map(view::resource_group)
        .collect();
    drop(c);
    list(items)
}

async fn rsc_grp(State(st): State<AppState>, P(name): P<String>) -> Response {
    let c = st.engine.read();
    rg_of(c.state(), &name).map_or_else(|r| r, |g| one(&view::resource_group(g)))
}

async fn vlm_grps(State(st): State<AppState>, P(name): P<String>) -> Response {
    let c = st.engine.read();
    match rg_of(c.state(), &name) {
        Ok(g) => list(g.volume_groups.values().map(view::volume_group).collect()),
        Err(r) => r,
    }
}

async fn vlm_grp(State(st): State<AppState>, P((name, nr)): P<(String, String)>) -> Response {
    let nr = match super::volume_number(&nr) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let c = st.engine.read();
    let g = match rg_of(c.state(), &name) {
        Ok(g) => g,
        Err(r) => return r,
    };
    g.volume_groups.get(&nr).map_or_else(
        || {
            not_found(
                Obj::VlmGrp,
                code::NOT_FOUND_VLM_GRP,
                "Volume group",
                &nr.to_string(),
            )
        },
        |v| one(&view::volume_group(v)),
    )
}

async fn rsc_dfns(State(st): State<AppState>, q: Q) -> Response {
    let lq = match q.list("resource_definitions") {
        Ok(l) => l,
        Err(r) => return r,
    };
    let groups = q.all("resource_groups");
    let with_vds = q.flag("with_volume_definitions");
    let c = st.engine.read();
    let items: Vec<_> = c
        .state()
        .resource_definitions
        .values()
        .filter(|d| lq.wants_name(d.name.as_str()) && lq.wants_props(&d.props))
        .filter(|d| {
            groups.is_empty()
                || groups
                    .iter()
                    .any(|g| g.eq_ignore_ascii_case(d.resource_group.as_str()))
        })
        .skip(lq.offset)
        .take(lq.limit.unwrap_or(usize::MAX))
        .map(|d| view::resource_definition(d, with_vds))
        .collect();
    drop(c);
    list(items)
}

async fn rsc_dfn(State(st): State<AppState>, P(name): P<String>) -> Response {
    let c = st.engine.read();
    rd_of(c.state(), &name).map_or_else(|r| r, |d| one(&view::resource_definition(d, true)))
}

async fn vlm_dfns(State(st): State<AppState>, P(name): P<String>) -> Response {
    let c = st.engine.read();
    match rd_of(c.state(), &name) {
        Ok(d) => list(
            d.volume_definitions
                .values()
                .map(|v| view::volume_definition(d, v))
                .collect(),
        ),
        Err(r) => r,
    }
}

async fn vlm_dfn(State(st): State<AppState>, P((name, nr)): P<(String, String)>) -> Response {
    let nr = match super::volume_number(&nr) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let c = st.engine.read();
    let d = match rd_of(c.state(), &name) {
        Ok(d) => d,
        Err(r) => return r,
    };
    d.volume_definitions.get(&nr).map_or_else(
        || {
            not_found(
                Obj::VlmDfn,
                code::NOT_FOUND_VLM_DFN,
                "Volume definition",
                &nr.to_string(),
            )
        },
        |v| one(&view::volume_definition(d, v)),
    )
}

async fn rscs_of(State(st): State<AppState>, P(name): P<String>, q: Q) -> Response {
    let lq = match q.list("nodes") {
        Ok(l) => l,
        Err(r) => return r,
    };
    let c = st.engine.read();
    let s = c.state();
    let d = match rd_of(s, &name) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let items: Vec<_> = d
        .resources
        .values()
        .filter(|r| lq.wants_name(r.node.as_str()) && lq.wants_props(&r.props))
        .skip(lq.offset)
        .take(lq.limit.unwrap_or(usize::MAX))
        .map(|r| view::resource(s, d, r))
        .collect();
    drop(c);
    list(items)
}

fn rsc_view(s: &ClusterState, rd: &str, node: &str) -> Result<view::ResourceView, Response> {
    let d = rd_of(s, rd)?;
    NodeName::new(node)
        .ok()
        .and_then(|n| d.resources.get(&n))
        .map(|r| view::resource(s, d, r))
        .ok_or_else(|| {
            not_found(
                Obj::Rsc,
                code::NOT_FOUND_RSC,
                &format!("Resource '{rd}' on node"),
                node,
            )
        })
}

async fn rsc(State(st): State<AppState>, P((rd, node)): P<(String, String)>) -> Response {
    let c = st.engine.read();
    rsc_view(c.state(), &rd, &node).map_or_else(|r| r, |v| one(&v))
}

async fn vlms(State(st): State<AppState>, P((rd, node)): P<(String, String)>, q: Q) -> Response {
    let lq = match q.list("volumes") {
        Ok(l) => l,
        Err(r) => return r,
    };
    let c = st.engine.read();
    rsc_view(c.state(), &rd, &node).map_or_else(|r| r, |v| list(lq.page(v.volumes)))
}

/// One volume (LINSTOR answers the object, not a list), 404 `FAIL_NOT_FOUND_VLM` without it.
async fn vlm(
    State(st): State<AppState>,
    P((rd, node, nr)): P<(String, String, String)>,
) -> Response {
    let nr = match super::volume_number(&nr) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let c = st.engine.read();
    let v = match rsc_view(c.state(), &rd, &node) {
        Ok(v) => v,
        Err(r) => return r,
    };
    drop(c);
    v.volumes
        .into_iter()
        .find(|x| x.volume_number == nr)
        .map_or_else(
            || {
                let what = format!("Volume of resource '{rd}' on node '{node}' with number");
                not_found(Obj::Vlm, code::NOT_FOUND_VLM, &what, &nr.to_string())
            },
            |x| one(&x),
        )
}

async fn view_rscs(State(st): State<AppState>, q: Q) -> Response {
    let lq = match q.list("resources") {
        Ok(l) => l,
        Err(r) => return r,
    };
    let nodes = ListQuery {
        names: q.all("nodes"),
        ..ListQuery::default()
    };
    let pools = q.all("storage_pools");
    let c = st.engine.read();
    let s = c.state();
    let items: Vec<_> = s
        .resource_definitions
        .values()
        .filter(|d| lq.wants_name(d.name.as_str()))
        .flat_map(|d| d.resources.values().map(move |r| (d, r)))
        .filter(|(_, r)| nodes.wants_name(r.node.as_str()) && lq.wants_props(&r.props))
        .filter(|(_, r)| {
            pools.is_empty()
                || r.volumes.values().any(|v| {
                    pools
                        .iter()
                        .any(|p| p.eq_ignore_ascii_case(v.storage_pool.as_str()))
                })
        })
        .skip(lq.offset)
        .take(lq.limit.unwrap_or(usize::MAX))
        .map(|(d, r)| view::resource(s, d, r))
        .collect();
    drop(c);
    list(items)
}
