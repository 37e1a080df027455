//! Outside v1: `GET /health`, `GET /metrics`, and the middleware that times every request.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
}

/// 200 when the engine answers and the store is open (LINSTOR: 200, or 500 with the reason).
async fn health(State(st): State<AppState>) -> Response {
    let nodes = st.engine.read().state().nodes.len();
    let sim = if st.simulated {
        ", satellites SIMULATED"
    } else {
        ""
    };
    let text = format!(
        "OK: store {}, {} nodes, up {} s{sim}\n",
        st.store,
        nodes,
        st.started.elapsed().as_secs()
    );
    text.into_response()
}

async fn metrics(State(st): State<AppState>) -> Response {
    let text = {
        let c = st.engine.read();
        st.metrics.render(c.state(), st.simulated)
    };
    let mut r = text.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

/// Times the request into the latency histogram, labelled by method and route template.
pub(super) async fn observe(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let resp = next.run(req).await;
    st.metrics
        .observe(&method, &route, started.elapsed().as_secs_f64());
    resp
}
