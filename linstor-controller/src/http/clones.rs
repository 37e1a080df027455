//! A resource definition's data: `GET …/{rd}/sync-status`, answered from the state the engine
//! holds (the core's `Cluster::synced_on_all`: reports of the satellites decide).

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use linstor_api::view;
use linstor_core::rc::RcEntry;

use super::reads::one;
use super::{AppState, P};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(
        "/v1/resource-definitions/{rd}/sync-status",
        get(sync_status),
    )
}

/// An entry of a read that the core refused (unknown or invalid name), with its status.
fn refused(e: RcEntry) -> Response {
    let status = linstor_core::rc::ApiCallRc(vec![e.clone()]).http_status(200);
    super::error(status, e)
}

async fn sync_status(State(st): State<AppState>, P(rd): P<String>) -> Response {
    let synced = st.engine.read().synced_on_all(&rd);
    match synced {
        Ok(synced_on_all) => one(&view::SyncStatus { synced_on_all }),
        Err(e) => refused(*e),
    }
}
