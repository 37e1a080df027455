//! The mutating endpoints: each reads its body with `linstor-api`, maps it to core commands
//! and runs them through the engine; the answer is sent after the commit.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{delete, post, put};
use linstor_api::answer::Call;
use linstor_api::request;
use linstor_core::ResourceGroupName;
use linstor_core::cluster::{Command, NetIfSpec};

use super::{AppState, P, body, refused, run};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/nodes", post(node_create))
        .route("/v1/nodes/{node}/lost", delete(node_lost))
        .route("/v1/nodes/{node}/evict", put(node_evict))
        .route("/v1/nodes/{node}/net-interfaces", post(netif_create))
        .route("/v1/nodes/{node}/storage-pools", post(pool_create))
        .route("/v1/resource-groups", post(rg_create))
        .route("/v1/resource-groups/{rg}", put(rg_modify).delete(rg_delete))
        .route("/v1/resource-groups/{rg}/spawn", post(spawn))
        .route(
            "/v1/resource-groups/{rg}/volume-groups/{nr}",
            delete(vg_delete),
        )
        .route("/v1/resource-definitions/{rd}", delete(rd_delete))
        .route(
            "/v1/resource-definitions/{rd}/resources/{node}",
            delete(rsc_delete),
        )
        .route(
            "/v1/resource-definitions/{rd}/snapshots/{snap}",
            delete(snap_delete),
        )
        .route(
            "/v1/key-value-store/{kvs}",
            delete(kvs_delete).put(kvs_modify),
        )
        .merge(super::writes_rsc::routes())
        .route("/v1/error-reports", axum::routing::patch(reports_delete))
        .route("/v1/error-reports/{id}", delete(report_delete))
        .route("/v1/controller/properties", post(ctrl_props))
        .route("/v1/controller/properties/{key}", delete(ctrl_prop_delete))
        .route("/v1/nodes/{node}", put(node_modify).delete(node_delete))
        .route("/v1/nodes/{node}/evacuate", put(node_evacuate))
        .route("/v1/nodes/{node}/restore", put(node_restore))
        .route(
            "/v1/nodes/{node}/net-interfaces/{netif}",
            put(netif_modify).delete(netif_delete),
        )
        .route(
            "/v1/nodes/{node}/storage-pools/{pool}",
            put(pool_modify).delete(pool_delete),
        )
        .route("/v1/storage-pool-definitions", post(spd_create))
        .route(
            "/v1/storage-pool-definitions/{pool}",
            put(spd_modify).delete(spd_delete),
        )
}

async fn kvs_modify(State(st): State<AppState>, P(name): P<String>, b: Bytes) -> Response {
    mapped(
        &st,
        "a key-value store modify request",
        &b,
        Call::Other,
        |r: request::KeyValueStoreModify| Ok(vec![r.command(&name)]),
    )
    .await
}

async fn ctrl_props(State(st): State<AppState>, b: Bytes) -> Response {
    mapped(
        &st,
        "a controller properties request",
        &b,
        Call::Other,
        |r: request::ControllerPropsModify| Ok(vec![r.command()]),
    )
    .await
}

async fn ctrl_prop_delete(State(st): State<AppState>, P(key): P<String>) -> Response {
    let props = linstor_core::props::PropsModify {
        delete_props: vec![key],
        ..Default::default()
    };
    run(&st, vec![Command::CtrlPropsModify { props }], Call::Other).await
}

async fn node_modify(State(st): State<AppState>, P(node): P<String>, b: Bytes) -> Response {
    mapped(
        &st,
        "a node modify request",
        &b,
        Call::Other,
        |r: request::NodeModify| Ok(vec![r.command(&node)]),
    )
    .await
}

async fn node_evacuate(State(st): State<AppState>, P(node): P<String>, b: Bytes) -> Response {
    mapped(
        &st,
        "a node evacuate request",
        &b,
        Call::Other,
        |r: request::NodeEvacuate| Ok(vec![r.command(&node)]),
    )
    .await
}

async fn node_restore(State(st): State<AppState>, P(node): P<String>, b: Bytes) -> Response {
    mapped(
        &st,
        "a node restore request",
        &b,
        Call::Other,
        |r: request::NodeRestore| r.command(&node).map(|c| vec![c]),
    )
    .await
}

async fn netif_modify(
    State(st): State<AppState>,
    P((node, netif)): P<(String, String)>,
    b: Bytes,
) -> Response {
    let current = {
        let c = st.engine.read();
        linstor_core::NodeName::new(&node)
            .ok()
            .and_then(|n| c.state().nodes.get(&n))
            .and_then(|n| {
                n.net_interfaces
                    .values()
                    .find(|i| i.name.as_str().eq_ignore_ascii_case(&netif))
                    .cloned()
            })
    };
    mapped(
        &st,
        "a net interface modify request",
        &b,
        Call::Other,
        |r: request::NetInterfaceModify| {
            r.command(&node, &netif, current.as_ref()).map(|c| vec![c])
        },
    )
    .await
}

async fn pool_modify(
    State(st): State<AppState>,
    P((node, pool)): P<(String, String)>,
    b: Bytes,
) -> Response {
    mapped(
        &st,
        "a storage pool modify request",
        &b,
        Call::Other,
        |r: request::StoragePoolModify| Ok(vec![r.command(&node, &pool)]),
    )
    .await
}

async fn spd_create(State(st): State<AppState>, b: Bytes) -> Response {
    match body::<request::StoragePoolDefinitionCreate>(
        "a storage pool definition create request",
        &b,
    ) {
        Ok(r) => run(&st, vec![r.command()], Call::Create).await,
        Err(e) => e,
    }
}

async fn spd_modify(State(st): State<AppState>, P(pool): P<String>, b: Bytes) -> Response {
    mapped(
        &st,
        "a storage pool definition modify request",
        &b,
        Call::Other,
        |r: request::StoragePoolDefinitionModify| Ok(vec![r.command(&pool)]),
    )
    .await
}

/// Reads body `T` (an empty body is `T::default()`), maps it and runs the commands.
pub(super) async fn mapped<T, F>(
    st: &AppState,
    what: &str,
    b: &Bytes,
    call: Call,
    map: F,
) -> Response
where
    T: serde::de::DeserializeOwned + Default,
    F: FnOnce(T) -> Result<Vec<Command>, String>,
{
    let t = match super::body_or_default::<T>(what, b) {
        Ok(t) => t,
        Err(e) => return e,
    };
    match map(t) {
        Ok(cmds) => run(st, cmds, call).await,
        Err(msg) => refused(what, msg),
    }
}

/// Runs one command mapped from a body, or answers the mapping's refusal.
async fn one(st: &AppState, cmd: Result<Command, String>, field: &str, call: Call) -> Response {
    match cmd {
        Ok(c) => run(st, vec![c], call).await,
        Err(msg) => refused(field, msg),
    }
}

async fn node_create(State(st): State<AppState>, b: Bytes) -> Response {
    match body::<request::NodeCreate>("a node create request", &b) {
        Ok(r) => run(&st, vec![r.command()], Call::Create).await,
        Err(e) => e,
    }
}

async fn node_delete(State(st): State<AppState>, P(name): P<String>) -> Response {
    run(&st, vec![Command::NodeDelete { name }], Call::Other).await
}

async fn node_lost(State(st): State<AppState>, P(name): P<String>) -> Response {
    run(&st, vec![Command::NodeLost { name }], Call::Other).await
}

async fn node_evict(State(st): State<AppState>, P(name): P<String>) -> Response {
    run(&st, vec![Command::NodeEvict { name }], Call::Other).await
}

async fn netif_create(State(st): State<AppState>, P(node): P<String>, b: Bytes) -> Response {
    match body::<request::NetInterfaceCreate>("a net interface", &b) {
        Ok(r) => {
            let netif = NetIfSpec {
                name: r.name,
                address: r.address,
                satellite_port: r.satellite_port,
                encryption: r.satellite_encryption_type.unwrap_or_default(),
            };
            run(
                &st,
                vec![Command::NetIfCreate { node, netif }],
                Call::Create,
            )
            .await
        }
        Err(e) => e,
    }
}

async fn netif_delete(
    State(st): State<AppState>,
    P((node, name)): P<(String, String)>,
) -> Response {
    run(&st, vec![Command::NetIfDelete { node, name }], Call::Other).await
}

async fn pool_create(State(st): State<AppState>, P(node): P<String>, b: Bytes) -> Response {
    match body::<request::StoragePoolCreate>("a storage pool create request", &b) {
        Ok(r) => run(&st, vec![r.command(&node)], Call::Create).await,
        Err(e) => e,
    }
}

async fn pool_delete(State(st): State<AppState>, P((node, name)): P<(String, String)>) -> Response {
    run(
        &st,
        vec![Command::StorPoolDelete { node, name }],
        Call::Other,
    )
    .await
}

async fn spd_delete(State(st): State<AppState>, P(name): P<String>) -> Response {
    run(&st, vec![Command::StorPoolDfnDelete { name }], Call::Other).await
}

async fn rg_create(State(st): State<AppState>, b: Bytes) -> Response {
    match body::<request::ResourceGroupCreate>("a resource group create request", &b) {
        Ok(r) => one(&st, r.command(), "select_filter", Call::Create).await,
        Err(e) => e,
    }
}

async fn rg_modify(State(st): State<AppState>, P(name): P<String>, b: Bytes) -> Response {
    let r = match body::<request::ResourceGroupModify>("a resource group modify request", &b) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let current = {
        let c = st.engine.read();
        ResourceGroupName::new(&name)
            .ok()
            .and_then(|n| c.state().resource_groups.get(&n))
            .map(|g| g.select_filter.clone())
            .unwrap_or_default()
    };
    one(
        &st,
        r.command(&name, &current),
        "select_filter",
        Call::Other,
    )
    .await
}

async fn rg_delete(State(st): State<AppState>, P(name): P<String>) -> Response {
    run(&st, vec![Command::RscGrpDelete { name }], Call::Other).await
}

async fn spawn(State(st): State<AppState>, P(rg): P<String>, b: Bytes) -> Response {
    match body::<request::Spawn>("a spawn request", &b) {
        Ok(r) => one(&st, r.command(&rg), "select_filter", Call::Create).await,
        Err(e) => e,
    }
}

async fn vg_delete(State(st): State<AppState>, P((rsc_grp, nr)): P<(String, String)>) -> Response {
    match super::volume_number(&nr) {
        Ok(number) => {
            run(
                &st,
                vec![Command::VlmGrpDelete { rsc_grp, number }],
                Call::Other,
            )
            .await
        }
        Err(r) => r,
    }
}

async fn rd_delete(State(st): State<AppState>, P(name): P<String>) -> Response {
    run(&st, vec![Command::RscDfnDelete { name }], Call::Other).await
}

async fn rsc_delete(
    State(st): State<AppState>,
    P((rsc_dfn, node)): P<(String, String)>,
) -> Response {
    run(&st, vec![Command::RscDelete { rsc_dfn, node }], Call::Other).await
}

async fn snap_delete(
    State(st): State<AppState>,
    P((rsc_dfn, name)): P<(String, String)>,
) -> Response {
    run(
        &st,
        vec![Command::SnapshotDelete { rsc_dfn, name }],
        Call::Other,
    )
    .await
}

async fn kvs_delete(State(st): State<AppState>, P(name): P<String>) -> Response {
    run(&st, vec![Command::KvsDelete { name }], Call::Other).await
}

/// The answer to deleting error reports: one entry per report deleted, or a warning.
fn reports_deleted(ids: &[String]) -> Response {
    use linstor_core::rc::{Obj, Op, RcEntry, Severity, code};
    let entries: Vec<serde_json::Value> = if ids.is_empty() {
        vec![
            RcEntry::new(
                Severity::Warning,
                Op::Delete,
                Obj::None,
                code::WARN_NOT_FOUND,
                "No error report matched; nothing was deleted.",
            )
            .to_rest_json(),
        ]
    } else {
        ids.iter()
            .map(|id| {
                RcEntry::new(
                    Severity::Success,
                    Op::Delete,
                    Obj::None,
                    code::DELETED,
                    format!("Error report {id} deleted."),
                )
                .to_rest_json()
            })
            .collect()
    };
    super::json(200, &serde_json::Value::Array(entries))
}

async fn report_delete(State(st): State<AppState>, P(id): P<String>) -> Response {
    let gone = if st.reports.delete(&id) {
        vec![id]
    } else {
        Vec::new()
    };
    reports_deleted(&gone)
}

async fn reports_delete(State(st): State<AppState>, b: Bytes) -> Response {
    let r = match super::body_or_default::<request::ErrorReportDelete>(
        "an error report delete request",
        &b,
    ) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let time = |t: Option<u64>| t.and_then(|t| i64::try_from(t).ok());
    let (since, to) = (time(r.since), time(r.to));
    let gone = st.reports.delete_where(|id, e| {
        since.is_none_or(|s| e.error_time >= s)
            && to.is_none_or(|t| e.error_time <= t)
            && r.nodes
                .as_ref()
                .is_none_or(|n| n.iter().any(|n| n.eq_ignore_ascii_case(&e.node_name)))
            && r.exception.as_ref().is_none_or(|x| *x == e.exception)
            && r.version.as_ref().is_none_or(|v| *v == e.version)
            && r.ids.as_ref().is_none_or(|ids| ids.iter().any(|i| i == id))
    });
    reports_deleted(&gone)
}
