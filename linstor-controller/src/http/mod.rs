//! The REST API v1 over HTTP: routing, body and path reading, and LINSTOR's answer shapes.
//!
//! Request bodies are read raw (clients send no `Content-Type`) and decoded by `linstor-api`;
//! a 2xx answer is always JSON; an error is an `ApiCallRc` array with LINSTOR's status. Paths
//! and methods nobody serves answer 404/405 with an entry that says what exists.

#![allow(
    clippy::result_large_err,
    reason = "handlers answer early with the finished Response; boxing it would only add an allocation"
)]

mod actions;
mod advise;
pub mod auth;
mod clones;
mod events;
mod ops;
mod physical;
mod queries;
mod reads;
pub mod standby;
mod writes;
mod writes_rsc;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use linstor_api::answer::{self, Answer, Call};
use linstor_core::cluster::{Command, Outcome};
use linstor_core::decode::DecodeError;
use linstor_core::rc::{ApiCallRc, Obj, Op, RcEntry};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::engine::Engine;
use crate::metrics::Metrics;
use crate::reports::ErrorReports;

/// Largest request body accepted (a resource-create array for many nodes fits easily).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// How long a request body may take to arrive in full (every body is read before routing).
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// What every handler reaches.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The cluster's owner.
    pub engine: Engine,
    /// Error reports of this controller.
    pub reports: Arc<ErrorReports>,
    /// Prometheus registry.
    pub metrics: Arc<Metrics>,
    /// When the controller started.
    pub started: Instant,
    /// The store's description, for `/health`.
    pub store: String,
    /// Satellites are simulated (`--simulate-satellites`): said in version, health, metrics.
    pub simulated: bool,
    /// The connected satellites, for questions only a node can answer.
    pub hub: Arc<crate::satellites::hub::Hub>,
    /// Token authentication (off until initialized).
    pub auth: auth::SharedGate,
}

/// The whole REST surface.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(reads::routes())
        .merge(writes::routes())
        .merge(actions::routes())
        .merge(clones::routes())
        .merge(events::routes())
        .merge(queries::routes())
        .merge(ops::routes())
        .merge(physical::routes())
        .merge(advise::routes())
        .merge(auth::routes())
        .fallback(unknown_path)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(read_body))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::gate,
        ));
    let reports = state.reports.clone();
    api.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        ops::observe,
    ))
    .layer(tower_http::catch_panic::CatchPanicLayer::custom(
        move |p: Box<dyn std::any::Any + Send>| panic_answer(&reports, p.as_ref()),
    ))
    .layer(
        tower_http::compression::CompressionLayer::new()
            .gzip(true)
            .compress_when(tower_http::compression::predicate::SizeAbove::new(1000)),
    )
    .with_state(state)
}

/// A JSON answer.
pub fn json(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn answer(a: &Answer) -> Response {
    json(a.status, &a.body)
}

/// One error entry as a LINSTOR answer.
pub fn error(status: u16, e: RcEntry) -> Response {
    json(status, &Value::Array(vec![e.to_rest_json()]))
}

async fn unknown_path(req: Request) -> Response {
    let path = req.uri().path().to_owned();
    drain(req).await;
    let e = RcEntry::error(Op::None, Obj::None, 0, format!("No REST endpoint '{path}'."))
        .cause("The path is not part of LINSTOR's REST API v1 as this controller serves it.")
        .correction("Check the path against the REST API v1 (e.g. GET /v1/nodes, GET /v1/view/resources); names in paths are percent-encoded.");
    json(
        404,
        &Value::Array(vec![answer::with_special_code(
            &e,
            answer::UNKNOWN_API_CALL,
        )]),
    )
}

async fn wrong_method(req: Request) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    drain(req).await;
    let e = RcEntry::error(Op::None, Obj::None, 0, format!("{method} is not served on '{path}'."))
        .correction("Use the method the REST API v1 defines for this path (GET lists, POST creates, PUT modifies, DELETE removes).");
    json(
        405,
        &Value::Array(vec![answer::with_special_code(
            &e,
            answer::UNKNOWN_API_CALL,
        )]),
    )
}

/// Reads every request body in full before routing, within [`MAX_BODY`] and [`BODY_TIMEOUT`]:
/// a larger body is 413, a body that does not arrive in time 408, a broken one 400 — each with
/// an `ApiCallRc` entry — so handlers only ever see complete bodies.
async fn read_body(req: Request, next: axum::middleware::Next) -> Response {
    let (parts, body) = req.into_parts();
    if let Some(len) = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > MAX_BODY as u64 {
            return body_refused(413, &format!("The request body has {len} bytes."));
        }
    }
    match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, MAX_BODY)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Ok(Err(e)) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if too_large {
                body_refused(413, "The request body is larger than the limit.")
            } else {
                body_refused(400, &format!("The request body could not be read: {e}."))
            }
        }
        Err(_) => body_refused(
            408,
            &format!(
                "The request body did not arrive within {} s.",
                BODY_TIMEOUT.as_secs()
            ),
        ),
    }
}

fn body_refused(status: u16, message: &str) -> Response {
    let e = RcEntry::error(
        Op::None,
        Obj::None,
        linstor_core::rc::code::INVLD_REQUEST,
        message.to_owned(),
    )
    .cause(format!(
        "Request bodies are read in full, up to {} bytes within {} s.",
        MAX_BODY,
        BODY_TIMEOUT.as_secs()
    ))
    .correction("Send a complete JSON body with a correct Content-Length (or chunked encoding), below the limit.")
    .details("field: body");
    let mut r = error(status, e);
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// Reads and drops the body of a request answered without it, so the connection stays usable
/// for the client's next request (keep-alive).
async fn drain(req: Request) {
    let _ = axum::body::to_bytes(req.into_body(), MAX_BODY).await;
}

fn panic_answer(reports: &ErrorReports, p: &(dyn std::any::Any + Send)) -> Response {
    let what = p
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| p.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    let id = reports.record("handler panic", what);
    tracing::error!(report = %id, "request handler panicked: {what}");
    let e = RcEntry::error(Op::None, Obj::None, linstor_core::rc::code::IMPL_ERROR, "The controller failed to handle this request.")
        .cause(format!("Internal error: {what}"))
        .correction(format!("Nothing was changed by this request. Send error report {id} (GET /v1/error-reports/{id}) to the developers."));
    let mut v = e.to_rest_json();
    v["error_report_ids"] = Value::from(vec![id]);
    json(500, &Value::Array(vec![v]))
}

/// Reads a request body as `T`; a bad body becomes the 400 answer naming the field.
pub fn body<T: DeserializeOwned>(what: &str, bytes: &Bytes) -> Result<T, Response> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let d = DecodeError {
            kind: linstor_core::decode::DecodeErrorKind::Syntax,
            field: None,
            value: None,
            message: format!(
                "The body of {what} is not UTF-8 text (bad byte at offset {}).",
                e.valid_up_to()
            ),
            cause: "REST bodies are JSON, which is UTF-8.".into(),
            correction: "Send the body as UTF-8 encoded JSON.".into(),
        };
        answer(&answer::bad_request(&d))
    })?;
    let text = if text.trim().is_empty() { "{}" } else { text };
    linstor_api::request::parse::<T>(what, text).map_err(|e| answer(&answer::bad_request(&e)))
}

/// Like [`body`], but an empty body (or `null`) is `T::default()` (python-linstor sends none
/// for restore, evacuate, adjust).
pub fn body_or_default<T: DeserializeOwned + Default>(
    what: &str,
    bytes: &Bytes,
) -> Result<T, Response> {
    match std::str::from_utf8(bytes).map(str::trim) {
        Ok("" | "null") => Ok(T::default()),
        _ => body(what, bytes),
    }
}

/// Runs `cmds` in order through the engine and answers with all their entries together.
pub async fn run(st: &AppState, cmds: Vec<Command>, call: Call) -> Response {
    match submit(st, cmds).await {
        Ok(out) => answer(&answer::from_outcome(&out, call)),
        Err(a) => answer(&a),
    }
}

/// Runs `cmds` in order through the engine: their outcomes together, or the answer that the
/// engine has stopped (503).
pub async fn submit(st: &AppState, cmds: Vec<Command>) -> Result<Outcome, Answer> {
    match st.engine.submit(cmds).await {
        Ok(outs) => Ok(merge(outs)),
        Err(stopped) => {
            let e = RcEntry::error(
                Op::None,
                Obj::None,
                linstor_core::rc::code::UNKNOWN_ERROR,
                stopped.to_string(),
            );
            Err(Answer {
                status: 503,
                body: Value::Array(vec![e.to_rest_json()]),
            })
        }
    }
}

fn merge(outs: Vec<Outcome>) -> Outcome {
    let mut rc = ApiCallRc::default();
    let mut changes = linstor_core::cluster::ChangeSet::default();
    for o in outs {
        rc.0.extend(o.rc.0);
        changes.created.extend(o.changes.created);
        changes.modified.extend(o.changes.modified);
        changes.deleted.extend(o.changes.deleted);
    }
    Outcome { rc, changes }
}

/// A request that failed before reaching the core (a bad path parameter, a body the mapping
/// refuses): 400 with the field and the fix.
pub fn refused(field: &str, message: impl Into<String>) -> Response {
    error(400, refusal(field, message))
}

/// The entry of [`refused`].
pub fn refusal(field: &str, message: impl Into<String>) -> RcEntry {
    RcEntry::error(
        Op::None,
        Obj::None,
        linstor_core::rc::code::INVLD_REQUEST,
        message,
    )
    .details(format!("field: {field}"))
}

/// A read the core refused (an unknown or invalid name): its entry with LINSTOR's status.
pub fn refused_read(e: RcEntry) -> Response {
    let status = ApiCallRc(vec![e.clone()]).http_status(200);
    error(status, e)
}

/// A volume number from a path (`…/volume-definitions/{nr}`): 0 to 65535, or the 400 answer.
pub fn volume_number(nr: &str) -> Result<u16, Response> {
    nr.parse().map_err(|_| {
        refused(
            "volume_number",
            format!("Volume number '{nr}' is not a number from 0 to 65535."),
        )
    })
}

/// Path parameters, percent-decoded; a path that cannot be decoded is a JSON 400.
#[derive(Debug)]
pub struct P<T>(pub T);

impl<T, S> FromRequestParts<S> for P<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(P(v)),
            Err(e) => Err(refused(
                "path",
                format!("The path cannot be read: {}", e.body_text()),
            )),
        }
    }
}

/// The query string as repeated `key=value` pairs (`?nodes=a&nodes=b`).
#[derive(Debug, Default, Clone)]
pub struct Q(pub Vec<(String, String)>);

impl Q {
    /// Every value of `key`.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The first value of `key`.
    pub fn first(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `key` as a boolean (`true`/`True`/`1`).
    pub fn flag(&self, key: &str) -> bool {
        self.first(key)
            .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
    }

    /// A list query: names from `names_key`, `props`, `offset`, `limit`.
    pub fn list(&self, names_key: &str) -> Result<linstor_api::query::ListQuery, Response> {
        let num = |k: &str| -> Result<Option<usize>, Response> {
            self.first(k)
                .map(|v| {
                    v.parse::<usize>().map_err(|_| {
                        refused(
                            k,
                            format!("?{k}={v:?} is not a whole number; give e.g. ?{k}=10"),
                        )
                    })
                })
                .transpose()
        };
        Ok(linstor_api::query::ListQuery {
            names: self.all(names_key),
            props: self.all("props"),
            offset: num("offset")?.unwrap_or(0),
            limit: num("limit")?.filter(|&l| l > 0),
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Q {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        Ok(Q(form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()))
    }
}
