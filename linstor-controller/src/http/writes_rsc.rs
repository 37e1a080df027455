//! Mutating endpoints of groups, definitions, resources and snapshots.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{post, put};
use linstor_api::answer::Call;
use linstor_api::request;
use linstor_core::cluster::Command;

use super::writes::mapped;
use super::{AppState, P, body, refused, run};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/resource-groups/{rg}/volume-groups", post(vg_create))
        .route("/v1/resource-groups/{rg}/adjust", post(rg_adjust))
        .route("/v1/resource-groups/adjustall", post(rg_adjust_all))
        .route("/v1/resource-definitions", post(rd_create))
        .route("/v1/resource-definitions/{rd}", put(rd_modify))
        .route(
            "/v1/resource-definitions/{rd}/volume-definitions",
            post(vd_create),
        )
        .route(
            "/v1/resource-definitions/{rd}/volume-definitions/{nr}",
            put(vd_modify),
        )
        .route("/v1/resource-definitions/{rd}/resources", post(rsc_create))
        .route("/v1/resource-definitions/{rd}/autoplace", post(autoplace))
        .route("/v1/resource-definitions/{rd}/snapshots", post(snap_create))
        .route(
            "/v1/resource-definitions/{rd}/snapshot-restore-resource/{snap}",
            post(snap_restore),
        )
}

async fn vg_create(State(st): State<AppState>, P(rg): P<String>, b: Bytes) -> Response {
    mapped(
        &st,
        "a volume group create request",
        &b,
        Call::Create,
        |r: request::VolumeGroupCreate| r.command(&rg).map(|c| vec![c]),
    )
    .await
}

async fn rg_adjust(State(st): State<AppState>, P(rg): P<String>, b: Bytes) -> Response {
    mapped(
        &st,
        "a resource group adjust request",
        &b,
        Call::Other,
        |r: request::ResourceGroupAdjust| r.command(Some(&rg)).map(|c| vec![c]),
    )
    .await
}

async fn rg_adjust_all(State(st): State<AppState>, b: Bytes) -> Response {
    mapped(
        &st,
        "a resource group adjust request",
        &b,
        Call::Other,
        |r: request::ResourceGroupAdjust| r.command(None).map(|c| vec![c]),
    )
    .await
}

async fn rd_create(State(st): State<AppState>, b: Bytes) -> Response {
    match body::<request::ResourceDefinitionCreate>("a resource definition create request", &b) {
        Ok(r) => match r.command() {
            Ok(c) => run(&st, vec![c], Call::Create).await,
            Err(msg) => refused("resource_definition", msg),
        },
        Err(e) => e,
    }
}

async fn rd_modify(State(st): State<AppState>, P(rd): P<String>, b: Bytes) -> Response {
    mapped(
        &st,
        "a resource definition modify request",
        &b,
        Call::Other,
        |r: request::ResourceDefinitionModify| r.command(&rd).map(|c| vec![c]),
    )
    .await
}

async fn vd_create(State(st): State<AppState>, P(rd): P<String>, b: Bytes) -> Response {
    match body::<request::VolumeDefinitionCreate>("a volume definition create request", &b) {
        Ok(r) => match r.command(&rd) {
            Ok(c) => run(&st, vec![c], Call::Create).await,
            Err(msg) => refused("volume_definition", msg),
        },
        Err(e) => e,
    }
}

async fn vd_modify(
    State(st): State<AppState>,
    P((rd, nr)): P<(String, String)>,
    b: Bytes,
) -> Response {
    let nr = match super::volume_number(&nr) {
        Ok(n) => n,
        Err(r) => return r,
    };
    mapped(
        &st,
        "a volume definition modify request",
        &b,
        Call::Other,
        |r: request::VolumeDefinitionModify| {
            if !r.flags().is_empty() {
                return Err(
                    "volume definition flags cannot be changed here; leave 'flags' out".into(),
                );
            }
            let size = r.resize_command(&rd, nr).and_then(|c| match c {
                Command::VlmDfnResize { size, .. } => Some(size),
                _ => None,
            });
            Ok(vec![Command::VlmDfnModify {
                rsc_dfn: rd,
                number: nr,
                props: r.props(),
                size,
            }])
        },
    )
    .await
}

async fn rsc_create(State(st): State<AppState>, P(rd): P<String>, b: Bytes) -> Response {
    let text = match std::str::from_utf8(&b) {
        Ok(t) => t,
        Err(_) => {
            return refused(
                "body",
                "The body is not UTF-8 text; send UTF-8 encoded JSON.",
            );
        }
    };
    match request::parse_list::<request::ResourceCreate>("a resource create request", text) {
        Ok(list) => match request::ResourceCreate::commands(&list, &rd) {
            Ok(cmds) => run(&st, cmds, Call::Create).await,
            Err(msg) => refused("resource", msg),
        },
        Err(e) => super::answer(&linstor_api::answer::bad_request(&e)),
    }
}

async fn autoplace(State(st): State<AppState>, P(rd): P<String>, b: Bytes) -> Response {
    mapped(
        &st,
        "an autoplace request",
        &b,
        Call::Other,
        |r: request::AutoPlaceRequest| r.command(&rd).map(|c| vec![c]),
    )
    .await
}

async fn snap_create(State(st): State<AppState>, P(rd): P<String>, b: Bytes) -> Response {
    match body::<request::SnapshotCreate>("a snapshot create request", &b) {
        Ok(r) => match r.command(&rd) {
            Ok(c) => run(&st, vec![c], Call::Create).await,
            Err(msg) => refused("snapshot", msg),
        },
        Err(e) => e,
    }
}

async fn snap_restore(
    State(st): State<AppState>,
    P((rd, snap)): P<(String, String)>,
    b: Bytes,
) -> Response {
    match body::<request::SnapshotRestore>("a snapshot restore request", &b) {
        Ok(r) => match r.command(&rd, &snap) {
            Ok(c) => run(&st, vec![c], Call::Other).await,
            Err(msg) => refused("to_resource", msg),
        },
        Err(e) => e,
    }
}
