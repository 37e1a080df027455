//! A resource definition's data: `POST …/{rd}/clone` (the core's `RscDfnClone`),
//! `GET …/{rd}/clone/{clone}` and `GET …/{rd}/sync-status`, the last two answered from the
//! state the engine holds (the core's `Cluster::clone_status` and `Cluster::synced_on_all`:
//! the satellites' reports decide).
//!
//! The clone request is answered with LINSTOR's `ResourceDefinitionCloneStarted` object also
//! when it is refused (the entries in `messages`, the status as for any other request):
//! python-linstor reads that object and nothing else.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use linstor_api::answer::{self, Answer, Call};
use linstor_api::request::{self, ResourceDefinitionCloneRequest};
use linstor_api::view;
use linstor_core::cluster::{Command, ObjKey, Outcome};
use serde_json::Value;

use super::reads::one;
use super::{AppState, P, json, refusal, refused_read, submit};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/resource-definitions/{rd}/clone", post(clone_rd))
        .route(
            "/v1/resource-definitions/{rd}/clone/{clone}",
            get(clone_status),
        )
        .route(
            "/v1/resource-definitions/{rd}/sync-status",
            get(sync_status),
        )
}

async fn clone_rd(State(st): State<AppState>, P(rd): P<String>, b: Bytes) -> Response {
    let (a, clone) = match clone_command(&rd, &b) {
        Err(a) => (a, String::new()),
        Ok((cmd, name)) => match submit(&st, vec![cmd]).await {
            Ok(out) => {
                let clone = created_rd(&out).unwrap_or(name);
                (answer::from_outcome(&out, Call::Create), clone)
            }
            Err(a) => (a, name),
        },
    };
    let messages = match a.body {
        Value::Array(entries) => entries,
        other => vec![other],
    };
    let started = view::clone_started(&rd, &clone, messages);
    json(
        a.status,
        &serde_json::to_value(started).unwrap_or(Value::Null),
    )
}

/// The command of a clone request's body and the clone's requested name (or external name),
/// or the answer to a body that cannot be read or mapped.
fn clone_command(rd: &str, b: &Bytes) -> Result<(Command, String), Answer> {
    let what = "a resource definition clone request";
    let text = std::str::from_utf8(b).map_err(|_| {
        let e = refusal(
            "body",
            "The body is not UTF-8 text; send UTF-8 encoded JSON.",
        );
        answer_of(400, e.to_rest_json())
    })?;
    let text = if text.trim().is_empty() { "{}" } else { text };
    let r: ResourceDefinitionCloneRequest =
        request::parse(what, text).map_err(|e| answer::bad_request(&e))?;
    let name = r.name.clone().or_else(|| r.external_name.clone());
    let cmd = r
        .command(rd)
        .map_err(|msg| answer_of(400, refusal(what, msg).to_rest_json()))?;
    Ok((cmd, name.unwrap_or_default()))
}

fn answer_of(status: u16, entry: Value) -> Answer {
    Answer {
        status,
        body: Value::Array(vec![entry]),
    }
}

/// The definition a successful clone created.
fn created_rd(out: &Outcome) -> Option<String> {
    out.changes.created.iter().find_map(|k| match k {
        ObjKey::RscDfn { rsc_dfn } => Some(rsc_dfn.to_string()),
        _ => None,
    })
}

async fn clone_status(State(st): State<AppState>, P((rd, clone)): P<(String, String)>) -> Response {
    let status = st.engine.read().clone_status(&rd, &clone);
    match status {
        Ok(status) => one(&view::CloneStatusView { status }),
        Err(e) => refused_read(*e),
    }
}

async fn sync_status(State(st): State<AppState>, P(rd): P<String>) -> Response {
    let synced = st.engine.read().synced_on_all(&rd);
    match synced {
        Ok(synced_on_all) => one(&view::SyncStatus { synced_on_all }),
        Err(e) => refused_read(*e),
    }
}
