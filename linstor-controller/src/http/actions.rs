//! Endpoints that act on existing objects: resource and volume modify, make-available,
//! toggle-disk (1.28 body and the legacy paths, migrate-disk among them), activate/deactivate,
//! volume group and volume definition modify/delete, node reconnect, connections, rollback, volume-definition restore and
//! multi-snapshots.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{delete, post, put};
use linstor_api::answer::Call;
use linstor_api::request;
use linstor_core::cluster::{Command, ToggleDiskOp};

use super::writes::mapped;
use super::{AppState, P, body, refused, run};

type Rsc = P<(String, String)>;

pub(super) fn routes() -> Router<AppState> {
    const RSC: &str = "/v1/resource-definitions/{rd}/resources/{node}";
    Router::new()
        .route(RSC, put(rsc_modify))
        .route(&format!("{RSC}/volumes/{{nr}}"), put(vlm_modify))
        .route(&format!("{RSC}/make-available"), post(make_available))
        .route(&format!("{RSC}/toggle-disk"), put(toggle_disk))
        .route(&format!("{RSC}/toggle-disk/diskful"), put(legacy_diskful))
        .route(
            &format!("{RSC}/toggle-disk/diskful/{{pool}}"),
            put(legacy_diskful_pool),
        )
        .route(&format!("{RSC}/toggle-disk/diskless"), put(legacy_diskless))
        .route(
            &format!("{RSC}/toggle-disk/diskless/{{pool}}"),
            put(legacy_diskless_pool),
        )
        .route(&format!("{RSC}/migrate-disk/{{from}}"), put(migrate_disk))
        .route(
            &format!("{RSC}/migrate-disk/{{from}}/{{pool}}"),
            put(migrate_disk_pool),
        )
        .route(&format!("{RSC}/activate"), post(activate))
        .route(&format!("{RSC}/deactivate"), post(deactivate))
        .route(
            "/v1/resource-groups/{rg}/volume-groups/{nr}",
            put(vg_modify),
        )
        .route(
            "/v1/resource-definitions/{rd}/volume-definitions/{nr}",
            delete(vd_delete),
        )
        .route("/v1/nodes/{node}/reconnect", put(reconnect))
        .route("/v1/node-connections/{a}/{b}", put(node_conn))
        .route(
            "/v1/resource-definitions/{rd}/resource-connections/{a}/{b}",
            put(rsc_conn),
        )
        .route(
            "/v1/resource-definitions/{rd}/snapshot-rollback/{snap}",
            post(rollback),
        )
        .route(
            "/v1/resource-definitions/{rd}/snapshot-restore-volume-definition/{snap}",
            post(restore_vd),
        )
        .route("/v1/actions/snapshot/multi", post(multi_snapshot))
}

async fn rsc_modify(State(st): State<AppState>, P((rd, node)): Rsc, b: Bytes) -> Response {
    mapped(
        &st,
        "a resource modify request",
        &b,
        Call::Other,
        |r: request::ResourceModify| Ok(vec![r.command(&rd, &node)]),
    )
    .await
}

async fn vlm_modify(
    State(st): State<AppState>,
    P((rd, node, nr)): P<(String, String, String)>,
    b: Bytes,
) -> Response {
    let nr = match super::volume_number(&nr) {
        Ok(n) => n,
        Err(r) => return r,
    };
    mapped(
        &st,
        "a volume modify request",
        &b,
        Call::Other,
        |r: request::VolumeModify| Ok(vec![r.command(&rd, &node, nr)]),
    )
    .await
}

async fn make_available(State(st): State<AppState>, P((rd, node)): Rsc, b: Bytes) -> Response {
    mapped(
        &st,
        "a make-available request",
        &b,
        Call::Other,
        |r: request::ResourceMakeAvailable| r.command(&rd, &node).map(|c| vec![c]),
    )
    .await
}

async fn toggle_disk(State(st): State<AppState>, P((rd, node)): Rsc, b: Bytes) -> Response {
    match body::<request::ToggleDiskRequest>("a toggle-disk request", &b) {
        Ok(r) => match r.command(&rd, &node) {
            Ok(c) => run(&st, vec![c], Call::Other).await,
            Err(msg) => refused("layer_list", msg),
        },
        Err(e) => e,
    }
}

async fn legacy(
    st: &AppState,
    rd: &str,
    node: &str,
    op: ToggleDiskOp,
    pool: Option<&str>,
) -> Response {
    run(
        st,
        vec![request::legacy_toggle_disk((rd, node), op, pool)],
        Call::Other,
    )
    .await
}

async fn legacy_diskful(State(st): State<AppState>, P((rd, node)): Rsc) -> Response {
    legacy(&st, &rd, &node, ToggleDiskOp::IntoDrbdDiskful, None).await
}

async fn legacy_diskful_pool(
    State(st): State<AppState>,
    P((rd, node, pool)): P<(String, String, String)>,
) -> Response {
    legacy(&st, &rd, &node, ToggleDiskOp::IntoDrbdDiskful, Some(&pool)).await
}

async fn legacy_diskless(State(st): State<AppState>, P((rd, node)): Rsc) -> Response {
    legacy(&st, &rd, &node, ToggleDiskOp::IntoDrbdDiskless, None).await
}

async fn legacy_diskless_pool(
    State(st): State<AppState>,
    P((rd, node, pool)): P<(String, String, String)>,
) -> Response {
    legacy(&st, &rd, &node, ToggleDiskOp::IntoDrbdDiskless, Some(&pool)).await
}

/// The deprecated migrate-disk path (python-linstor before REST 1.28; no body, or
/// `ToggleDiskDiskful`): toggle-disk into a disk that replaces the one on `from`.
async fn migrate(
    st: &AppState,
    (rd, node, from): (&str, &str, &str),
    pool: Option<&str>,
    b: &Bytes,
) -> Response {
    mapped(
        st,
        "a migrate-disk request",
        b,
        Call::Other,
        |r: request::ToggleDiskDiskful| r.command((rd, node, from), pool).map(|c| vec![c]),
    )
    .await
}

async fn migrate_disk(
    State(st): State<AppState>,
    P((rd, node, from)): P<(String, String, String)>,
    b: Bytes,
) -> Response {
    migrate(&st, (&rd, &node, &from), None, &b).await
}

async fn migrate_disk_pool(
    State(st): State<AppState>,
    P((rd, node, from, pool)): P<(String, String, String, String)>,
    b: Bytes,
) -> Response {
    migrate(&st, (&rd, &node, &from), Some(&pool), &b).await
}

async fn activate(State(st): State<AppState>, P((rsc_dfn, node)): Rsc) -> Response {
    run(
        &st,
        vec![Command::RscActivate { rsc_dfn, node }],
        Call::Other,
    )
    .await
}

async fn deactivate(State(st): State<AppState>, P((rsc_dfn, node)): Rsc) -> Response {
    run(
        &st,
        vec![Command::RscDeactivate { rsc_dfn, node }],
        Call::Other,
    )
    .await
}

async fn vg_modify(
    State(st): State<AppState>,
    P((rg, n)): P<(String, String)>,
    b: Bytes,
) -> Response {
    let n = match super::volume_number(&n) {
        Ok(n) => n,
        Err(r) => return r,
    };
    mapped(
        &st,
        "a volume group modify request",
        &b,
        Call::Other,
        |r: request::VolumeGroupModify| r.command(&rg, n).map(|c| vec![c]),
    )
    .await
}

async fn vd_delete(State(st): State<AppState>, P((rsc_dfn, n)): P<(String, String)>) -> Response {
    match super::volume_number(&n) {
        Ok(number) => {
            run(
                &st,
                vec![Command::VlmDfnDelete { rsc_dfn, number }],
                Call::Other,
            )
            .await
        }
        Err(r) => r,
    }
}

async fn reconnect(State(st): State<AppState>, P(name): P<String>) -> Response {
    run(&st, vec![Command::NodeReconnect { name }], Call::Other).await
}

async fn node_conn(
    State(st): State<AppState>,
    P((a, b2)): P<(String, String)>,
    b: Bytes,
) -> Response {
    mapped(
        &st,
        "a node connection modify request",
        &b,
        Call::Other,
        |r: request::ConnectionModify| Ok(vec![r.node_command(&a, &b2)]),
    )
    .await
}

async fn rsc_conn(
    State(st): State<AppState>,
    P((rd, a, b2)): P<(String, String, String)>,
    b: Bytes,
) -> Response {
    mapped(
        &st,
        "a resource connection modify request",
        &b,
        Call::Other,
        |r: request::ConnectionModify| Ok(vec![r.rsc_command(&rd, &a, &b2)]),
    )
    .await
}

async fn rollback(
    State(st): State<AppState>,
    P((rd, snap)): P<(String, String)>,
    b: Bytes,
) -> Response {
    mapped(
        &st,
        "a snapshot rollback request",
        &b,
        Call::Other,
        |r: request::SnapshotRollback| Ok(vec![r.command(&rd, &snap)]),
    )
    .await
}

async fn restore_vd(
    State(st): State<AppState>,
    P((rd, snap)): P<(String, String)>,
    b: Bytes,
) -> Response {
    match body::<request::SnapshotVolumeDefinitionRestore>(
        "a volume definition restore request",
        &b,
    ) {
        Ok(r) => match r.command(&rd, &snap) {
            Ok(c) => run(&st, vec![c], Call::Other).await,
            Err(msg) => refused("to_resource", msg),
        },
        Err(e) => e,
    }
}

async fn multi_snapshot(State(st): State<AppState>, b: Bytes) -> Response {
    match body::<request::CreateMultiSnapshotRequest>("a multi-snapshot request", &b) {
        Ok(r) => run(&st, vec![r.command()], Call::Create).await,
        Err(e) => e,
    }
}
