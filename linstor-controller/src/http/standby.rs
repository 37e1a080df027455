//! What a controller answers while it is not the active one (`crate::ha`), and the switch to
//! the real API once it is.
//!
//! A standby forwards each request to the active controller and relays its answer, so clients
//! may name any controller (`linstor --controllers a,b,c`, a Kubernetes service over all of
//! them) and still reach the active one. When no controller is active (an election is under
//! way) or the active one cannot be reached, the answer is 503 with a LINSTOR error that says
//! which controller is active and what to do. A request that a standby already forwarded is
//! never forwarded again (header [`FORWARDED`]). `/health` answers 503 `STANDBY: …`, for load
//! balancers and readiness probes.

use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use linstor_core::rc::{Obj, Op, RcEntry, code};
use tower::ServiceExt;

use crate::ha::View;

/// Set on a request a standby forwards.
pub const FORWARDED: &str = "x-linstor-forwarded-by";

/// How long a forwarded request may take before the standby answers 503.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(120);

type Proxy = Client<HttpConnector, Body>;

/// The router of a controller on a shared database: the real API once `active` is set, the
/// standby's answers until then.
pub fn gateway(active: Arc<OnceLock<Router>>, view: Arc<RwLock<View>>) -> Router {
    let proxy: Proxy = Client::builder(TokioExecutor::new()).build_http();
    Router::new().fallback(move |req: Request| {
        let (active, view, proxy) = (active.clone(), view.clone(), proxy.clone());
        async move {
            match active.get() {
                Some(api) => api.clone().oneshot(req).await.into_response(),
                None => standby(req, &view, &proxy).await,
            }
        }
    })
}

async fn standby(req: Request, view: &RwLock<View>, proxy: &Proxy) -> Response {
    let v = view
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    if req.uri().path() == "/health" {
        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, health(&v)).into_response();
    }
    let target = v
        .leader
        .as_ref()
        .filter(|l| l.url != v.me && l.url.starts_with("http://"));
    let already = req.headers().contains_key(FORWARDED);
    match target {
        Some(l) if !already => match forward(req, &l.url, &v.me, proxy).await {
            Ok(r) => r,
            Err(why) => unavailable(&v, Some(&why)),
        },
        _ => unavailable(&v, None),
    }
}

fn health(v: &View) -> String {
    match &v.leader {
        Some(l) => format!(
            "STANDBY: store {}; the active controller is {} (term {})\n",
            v.store, l.url, l.term
        ),
        None => format!(
            "STANDBY: store {}; no controller is active yet (election under way)\n",
            v.store
        ),
    }
}

/// Sends `req` to `leader` and relays the answer.
async fn forward(
    mut req: Request,
    leader: &str,
    me: &str,
    proxy: &Proxy,
) -> Result<Response, String> {
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let uri: Uri = format!("{}{path}", leader.trim_end_matches('/'))
        .parse()
        .map_err(|e| format!("the active controller's URL {leader} is not usable: {e}"))?;
    *req.uri_mut() = uri;
    req.headers_mut().remove(axum::http::header::HOST);
    if let Ok(me) = HeaderValue::from_str(me) {
        req.headers_mut().insert(FORWARDED, me);
    }
    match tokio::time::timeout(FORWARD_TIMEOUT, proxy.request(req)).await {
        Ok(Ok(r)) => Ok(r.map(Body::new)),
        Ok(Err(e)) => Err(format!(
            "the active controller {leader} cannot be reached: {e}"
        )),
        Err(_) => Err(format!(
            "the active controller {leader} did not answer within {FORWARD_TIMEOUT:?}"
        )),
    }
}

/// 503 with a LINSTOR error naming the active controller.
fn unavailable(v: &View, why: Option<&str>) -> Response {
    let message = match &v.leader {
        Some(l) => format!(
            "This controller ({}) is a standby; the active controller is {} (term {}).",
            v.me, l.url, l.term
        ),
        None => format!(
            "This controller ({}) is a standby and no controller is active yet: an election is under way.",
            v.me
        ),
    };
    let cause = why.map_or_else(
        || {
            format!(
                "Controllers sharing {} elect one active controller; only it serves requests.",
                v.store
            )
        },
        str::to_owned,
    );
    let e = RcEntry::error(Op::None, Obj::None, code::NOT_CONNECTED, message)
        .cause(cause)
        .correction(
            "Retry in a few seconds (a standby takes over within the lease), send requests to the \
             active controller, or list every controller: linstor --controllers a,b,c.",
        );
    super::error(503, e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::lease::Leader;

    fn view(leader: Option<&str>) -> View {
        View {
            store: "etcd://e1:2379/LINSTOR/".to_owned(),
            leader: leader.map(|u| Leader {
                holder: "h".to_owned(),
                url: u.to_owned(),
                term: 7,
            }),
            me: "http://10.0.0.2:3370".to_owned(),
        }
    }

    async fn body(r: Response) -> (u16, String) {
        let status = r.status().as_u16();
        let b = axum::body::to_bytes(r.into_body(), 1 << 20)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&b).into_owned())
    }

    #[tokio::test]
    async fn a_standby_says_who_is_active_and_what_to_do() {
        let cases = [
            (
                None,
                "/v1/nodes",
                503,
                &["no controller is active yet", "linstor --controllers"][..],
            ),
            (
                Some("http://10.0.0.2:3370"),
                "/v1/nodes",
                503,
                &["standby", "only it serves requests"][..],
            ),
            (
                Some("https://10.0.0.1:3371"),
                "/v1/nodes",
                503,
                &["the active controller is https://10.0.0.1:3371 (term 7)"][..],
            ),
            (
                Some("http://10.0.0.1:3370"),
                "/health",
                503,
                &[
                    "STANDBY: store etcd://e1:2379/LINSTOR/; the active controller is http://10.0.0.1:3370 (term 7)",
                ][..],
            ),
            (None, "/health", 503, &["election under way"][..]),
        ];
        for (leader, path, status, wants) in cases {
            let app = gateway(
                Arc::new(OnceLock::new()),
                Arc::new(RwLock::new(view(leader))),
            );
            let req = Request::builder()
                .uri(path)
                .body(Body::empty())
                .expect("request");
            let (got, text) = body(app.oneshot(req).await.expect("answer")).await;
            assert_eq!(got, status, "{leader:?} {path}: {text}");
            for w in wants {
                assert!(text.contains(w), "{leader:?} {path}: {text} lacks {w}");
            }
        }
    }

    #[tokio::test]
    async fn a_forwarded_request_is_not_forwarded_again_and_the_switch_serves_the_api() {
        let active = Arc::new(OnceLock::new());
        let app = gateway(
            active.clone(),
            Arc::new(RwLock::new(view(Some("http://127.0.0.1:9")))),
        );
        let req = Request::builder()
            .uri("/v1/nodes")
            .header(FORWARDED, "http://other")
            .body(Body::empty())
            .expect("request");
        let (status, text) = body(app.clone().oneshot(req).await.expect("answer")).await;
        assert_eq!(status, 503, "{text}");
        assert!(
            text.contains("the active controller is http://127.0.0.1:9"),
            "{text}"
        );
        // Nothing listens on port 9: the forward fails and the answer says so.
        let req = Request::builder()
            .uri("/v1/nodes")
            .body(Body::empty())
            .expect("request");
        let (status, text) = body(app.clone().oneshot(req).await.expect("answer")).await;
        assert_eq!(status, 503, "{text}");
        assert!(text.contains("cannot be reached"), "{text}");
        let api = Router::new().route("/v1/nodes", axum::routing::get(|| async { "[]" }));
        assert!(active.set(api).is_ok());
        let req = Request::builder()
            .uri("/v1/nodes")
            .body(Body::empty())
            .expect("request");
        assert_eq!(
            body(app.oneshot(req).await.expect("answer")).await,
            (200, "[]".to_owned())
        );
    }
}
