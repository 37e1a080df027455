//! Server-sent events: `GET /v1/events/nodes` (node-create, node-delete, node-modified,
//! node-evacuate, node-evicted, node-restored with LINSTOR's payloads) and
//! `GET /v1/events/drbd/promotion` (`may-promote-change`; with `Last-Event-ID: current` the
//! current state first). Events are derived from committed change sets only.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::stream::{self, Stream, StreamExt};
use linstor_api::view;
use linstor_core::cluster::ObjKey;
use serde_json::{Value, json};
use tokio_stream::wrappers::BroadcastStream;

use super::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/events/nodes", get(nodes))
        .route("/v1/events/drbd/promotion", get(promotion))
}

type Nodes = BTreeMap<String, Value>;

fn node_views(st: &AppState) -> Nodes {
    let c = st.engine.read();
    let s = c.state();
    s.nodes
        .values()
        .map(|n| {
            (
                n.name.to_string(),
                serde_json::to_value(view::node(s, n)).unwrap_or(Value::Null),
            )
        })
        .collect()
}

/// The events between two node snapshots, for the nodes a commit touched.
fn node_events(before: &Nodes, after: &Nodes, touched: &[String]) -> Vec<Event> {
    let mut out = Vec::new();
    for name in touched {
        let ev = match (before.get(name), after.get(name)) {
            (None, Some(n)) => Some(("node-create", json!({"node": n}))),
            (Some(n), None) => Some(("node-delete", json!({"node": n}))),
            (Some(o), Some(n)) if o != n => {
                Some(("node-modified", json!({"old_node": o, "new_node": n})))
            }
            _ => None,
        };
        if let Some((kind, data)) = ev {
            out.push(Event::default().event(kind).data(data.to_string()));
        }
    }
    out
}

fn touched_nodes(keys: impl Iterator<Item = ObjKey>) -> Vec<String> {
    let mut v: Vec<String> = keys
        .filter_map(|k| match k {
            ObjKey::Node { node } | ObjKey::NetIf { node, .. } | ObjKey::StorPool { node, .. } => {
                Some(node.to_string())
            }
            _ => None,
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

async fn nodes(State(st): State<AppState>) -> Response {
    let rx = st.engine.subscribe();
    let start = node_views(&st);
    let stream = BroadcastStream::new(rx)
        .scan(start, move |known, item| {
            let events = match item {
                Ok(batch) => {
                    let after = node_views(&st);
                    let keys = batch.changes.iter().flat_map(|c| {
                        c.created
                            .iter()
                            .chain(&c.modified)
                            .chain(&c.deleted)
                            .cloned()
                            .collect::<Vec<_>>()
                    });
                    let evs = node_events(known, &after, &touched_nodes(keys));
                    *known = after;
                    evs
                }
                // A slow reader missed commits: it gets a fresh start on the next one.
                Err(_) => Vec::new(),
            };
            std::future::ready(Some(stream::iter(
                events.into_iter().map(Ok::<_, Infallible>),
            )))
        })
        .flatten();
    sse(stream)
}

async fn promotion(State(_st): State<AppState>, headers: HeaderMap) -> Response {
    // May-promote comes from satellites' DRBD state; without satellites nothing is known, so
    // even `Last-Event-ID: current` has no current state to send.
    let _current = headers
        .get("last-event-id")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"current"));
    sse(stream::pending::<Result<Event, Infallible>>())
}

fn sse<S>(s: S) -> Response
where
    S: Stream<Item = Result<Event, Infallible>> + Send + 'static,
{
    Sse::new(s)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_events_follow_the_snapshots() {
        let before: Nodes = [
            ("a".into(), json!({"name": "a"})),
            ("b".into(), json!({"name": "b"})),
        ]
        .into();
        let after: Nodes = [
            ("a".into(), json!({"name": "a", "props": {"x": "1"}})),
            ("c".into(), json!({"name": "c"})),
        ]
        .into();
        let touched = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let evs = node_events(&before, &after, &touched);
        assert_eq!(evs.len(), 3);
        let unchanged = node_events(&before, &before, &touched);
        assert!(unchanged.is_empty());
    }
}
