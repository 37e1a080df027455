//! `/v1/controller/auth/…` (LINSTOR 1.34's token authentication) and the gate every request
//! passes: [`crate::auth::check`] on the `Authorization` header, 401 with
//! `WWW-Authenticate: Bearer realm="linstor-controller"` when it refuses.

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post, put};
use linstor_core::rc::{Obj, Op, RcEntry, Severity, code};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppState, P, error, json, refused};
use crate::auth::{self, Access, AuthState};
use crate::store::auth::AuthStore;

/// Token auth of one controller: the stored tables and their current content.
#[derive(Debug)]
pub struct Gate {
    store: Option<Box<dyn AuthStore>>,
    state: RwLock<AuthState>,
}

impl Gate {
    /// Reads the stored state.
    pub fn open(store: Box<dyn AuthStore>) -> Result<Gate, crate::store::StoreError> {
        let state = store.load()?;
        Ok(Gate {
            store: Some(store),
            state: RwLock::new(state),
        })
    }

    /// Token auth that is off and cannot be turned on (no database).
    pub fn disabled() -> Gate {
        Gate {
            store: None,
            state: RwLock::default(),
        }
    }

    fn state(&self) -> std::sync::RwLockReadGuard<'_, AuthState> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn reload(&self, store: &dyn AuthStore) -> Result<(), crate::store::StoreError> {
        let fresh = store.load()?;
        *self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        Ok(())
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/controller/auth/initialize-token-auth",
            post(initialize),
        )
        .route("/v1/controller/auth/token", get(list).post(create))
        .route("/v1/controller/auth/token/{id}", put(modify).delete(revoke))
}

/// The gate: requests pass when token auth is off, the path is open, or the token is valid.
pub(super) async fn gate(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let access = auth::check(
        &st.auth.state(),
        req.uri().path(),
        req.headers()
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes),
        now(),
    );
    let message = match access {
        Access::Open | Access::Granted(_) => return next.run(req).await,
        Access::Missing => {
            "Unauthorized: this controller requires a token, and the request has none."
        }
        Access::Invalid => {
            "Unauthorized: the token of this request is unknown, disabled, revoked or expired."
        }
    };
    let e = RcEntry::error(Op::None, Obj::None, ACC_DENIED_COMMAND, message)
        .cause("Token authentication is enabled on this controller (POST /v1/controller/auth/initialize-token-auth).")
        .correction("Send the header 'Authorization: Bearer <token>' with a token from initialize-token-auth or POST /v1/controller/auth/token (python-linstor reads it from /var/lib/linstor.d/auth.json {\"token\": …}).")
        .details("field: Authorization");
    let mut r = error(401, e);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"linstor-controller\""),
    );
    r
}

/// LINSTOR's FAIL_ACC_DENIED_COMMAND, the code of its 401 answers.
const ACC_DENIED_COMMAND: u16 = 403;

fn store_failed(e: &crate::store::StoreError) -> Response {
    error(
        500,
        RcEntry::error(
            Op::None,
            Obj::CtrlConf,
            100,
            "The token change could not be saved.",
        )
        .cause(e.to_string())
        .correction("Check the database's disk and permissions, then retry."),
    )
}

fn no_store() -> Response {
    refused(
        "auth",
        "This controller has no database for tokens; token authentication is not available.",
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct InitRequest {
    #[serde(default)]
    only_satellites: Option<bool>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    no_https: Option<bool>,
}

async fn initialize(State(st): State<AppState>, b: Bytes) -> Response {
    let req: InitRequest = match super::body_or_default("initialize-token-auth", &b) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let Some(store) = &st.auth.store else {
        return no_store();
    };
    if req.only_satellites == Some(true) {
        let e = RcEntry::new(
            Severity::Warning,
            Op::Modify,
            Obj::CtrlConf,
            code::WARN_NO_EFFECT,
            "Satellite tokens are not used: satellites prove the cluster key on every connection.",
        )
        .correction("Nothing to do; rotate the cluster key to lock a satellite out.");
        return json(200, &Value::Array(vec![e.to_rest_json()]));
    }
    let token = match auth::new_token() {
        Ok(t) => t,
        Err(e) => return random_failed(&e),
    };
    let description = req.description.unwrap_or_else(|| "init-client".into());
    match store.add_token(&auth::hash(&token), &description, now(), None, true) {
        Err(e) => store_failed(&e),
        Ok(None) => {
            let e = RcEntry::new(
                Severity::Warning,
                Op::Create,
                Obj::CtrlConf,
                code::WARN_NO_EFFECT,
                "Token authentication is already enabled.",
            )
            .correction("Create more tokens with POST /v1/controller/auth/token.");
            json(201, &Value::Array(vec![e.to_rest_json()]))
        }
        Ok(Some(id)) => {
            if let Err(e) = st.auth.reload(store.as_ref()) {
                return store_failed(&e);
            }
            tracing::info!(id, "token authentication initialized");
            let mut out = vec![RcEntry::new(Severity::Success, Op::Create, Obj::CtrlConf, code::CREATED,
                format!("Token authentication initialized successfully. Init token {token}"))
                .obj_ref("token", &token)
                .correction("Keep the token: it is shown only now. Clients send it as 'Authorization: Bearer <token>'.")
                .to_rest_json()];
            if req.no_https != Some(true) {
                out.push(
                    RcEntry::new(
                        Severity::Warning,
                        Op::Create,
                        Obj::CtrlConf,
                        code::WARN_NO_EFFECT,
                        "HTTPS was not switched on: this controller does not create certificates.",
                    )
                    .correction(
                        "Configure [https] in linstor.toml so tokens do not travel in clear text.",
                    )
                    .to_rest_json(),
                );
            }
            json(201, &Value::Array(out))
        }
    }
}

fn random_failed(e: &getrandom::Error) -> Response {
    error(
        500,
        RcEntry::error(
            Op::None,
            Obj::CtrlConf,
            code::UNKNOWN_ERROR,
            "No token could be generated.",
        )
        .cause(format!("The operating system's randomness failed: {e}"))
        .correction("Check the host's random source, then retry."),
    )
}

async fn list(State(st): State<AppState>) -> Response {
    let state = st.auth.state();
    let list: Vec<Value> = state
        .tokens
        .iter()
        .filter(|t| t.deleted_at.is_none())
        .map(|t| {
            let mut v = json!({
                "id": t.id,
                "created_at": auth::iso_utc(t.created_at),
                "description": t.description,
                "is_active": t.is_active,
                "is_user_token": true,
            });
            if let Some(e) = t.expires_at {
                v["expires_at"] = Value::from(auth::iso_utc(e));
            }
            v
        })
        .collect();
    json(200, &json!({"count": list.len(), "list": list}))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRequest {
    description: String,
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    ip_filter: Option<String>,
}

async fn create(State(st): State<AppState>, b: Bytes) -> Response {
    let req: CreateRequest = match super::body("token create", &b) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if req.ip_filter.as_deref().is_some_and(|f| !f.is_empty()) {
        return refused(
            "ip_filter",
            "Tokens bound to an IP address (ip_filter) are not supported by this controller; leave ip_filter out.",
        );
    }
    let expires_at = match req.expires_at.as_deref().filter(|e| !e.is_empty()) {
        None => None,
        Some(text) => match auth::parse_date(text) {
            Some(t) => Some(t),
            None => {
                return refused(
                    "expires_at",
                    format!(
                        "expires_at {text:?} does not begin with a date; give e.g. \"2026-12-31\"."
                    ),
                );
            }
        },
    };
    let Some(store) = &st.auth.store else {
        return no_store();
    };
    let token = match auth::new_token() {
        Ok(t) => t,
        Err(e) => return random_failed(&e),
    };
    match store.add_token(
        &auth::hash(&token),
        &req.description,
        now(),
        expires_at,
        false,
    ) {
        Err(e) => store_failed(&e),
        Ok(id) => {
            if let Err(e) = st.auth.reload(store.as_ref()) {
                return store_failed(&e);
            }
            let mut e = RcEntry::new(
                Severity::Success,
                Op::Create,
                Obj::CtrlConf,
                code::CREATED,
                format!("Auth token created successfully: {token}"),
            )
            .obj_ref("token", &token)
            .correction("Keep the token: it is shown only now.");
            if let Some(id) = id {
                e = e.obj_ref("id", id);
            }
            json(201, &Value::Array(vec![e.to_rest_json()]))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModifyRequest {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    ip_filter: Option<String>,
    #[serde(default)]
    is_active: Option<bool>,
}

fn token_id(id: &str) -> Result<i64, Response> {
    id.parse().map_err(|_| {
        refused(
            "authtokenid",
            format!(
                "Token id '{id}' is not a number; GET /v1/controller/auth/token lists the ids."
            ),
        )
    })
}

async fn modify(State(st): State<AppState>, P(id): P<String>, b: Bytes) -> Response {
    let id = match token_id(&id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let req: ModifyRequest = match super::body("token modify", &b) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if req.ip_filter.as_deref().is_some_and(|f| !f.is_empty()) {
        return refused(
            "ip_filter",
            "Tokens bound to an IP address (ip_filter) are not supported by this controller; leave ip_filter out.",
        );
    }
    let Some(store) = &st.auth.store else {
        return no_store();
    };
    match store.modify(id, req.description.as_deref(), req.is_active) {
        Err(e) => store_failed(&e),
        Ok(false) => error(
            404,
            RcEntry::error(
                Op::Modify,
                Obj::CtrlConf,
                code::NOT_FOUND_NODE,
                format!("Auth token {id} not found."),
            )
            .cause("No token has this id, or it was revoked.")
            .correction("GET /v1/controller/auth/token lists the tokens."),
        ),
        Ok(true) => match st.auth.reload(store.as_ref()) {
            Err(e) => store_failed(&e),
            Ok(()) => json(
                200,
                &Value::Array(vec![
                    RcEntry::new(
                        Severity::Success,
                        Op::Modify,
                        Obj::CtrlConf,
                        code::MODIFIED,
                        "Auth token modified successfully",
                    )
                    .to_rest_json(),
                ]),
            ),
        },
    }
}

async fn revoke(State(st): State<AppState>, P(id): P<String>) -> Response {
    let id = match token_id(&id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let Some(store) = &st.auth.store else {
        return no_store();
    };
    match store.revoke(id, now()) {
        Err(e) => store_failed(&e),
        Ok(false) => json(
            200,
            &Value::Array(vec![
                RcEntry::new(
                    Severity::Warning,
                    Op::Delete,
                    Obj::CtrlConf,
                    code::WARN_NOT_FOUND,
                    format!("Auth token {id} not found or already revoked."),
                )
                .to_rest_json(),
            ]),
        ),
        Ok(true) => match st.auth.reload(store.as_ref()) {
            Err(e) => store_failed(&e),
            Ok(()) => json(
                200,
                &Value::Array(vec![
                    RcEntry::new(
                        Severity::Success,
                        Op::Delete,
                        Obj::CtrlConf,
                        code::DELETED,
                        "Auth token revoked successfully",
                    )
                    .to_rest_json(),
                ]),
            ),
        },
    }
}

/// The gate of an `AppState`, shared.
pub type SharedGate = Arc<Gate>;
