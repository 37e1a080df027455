//! Token authentication against the binary: off by default; initialize returns a token once;
//! then no token → 401 with `WWW-Authenticate`, a wrong one → 401, the right one → 200,
//! `/health` stays open, and all of it survives a restart.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::Controller;
use serde_json::{Value, json};

/// One request with an optional bearer token: status, raw head, JSON body.
fn call(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String, Value) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read");
    let (head, rest) = raw.split_once("\r\n\r\n").expect("a head");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("status");
    (
        status,
        head.to_owned(),
        serde_json::from_str(rest).unwrap_or(Value::Null),
    )
}

#[test]
fn token_auth_refuses_without_a_valid_token_and_survives_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut c = Controller::start(dir.path(), &["--simulate-satellites"]);
    let a = c.addr.clone();
    assert_eq!(
        call(&a, "GET", "/v1/nodes", None, "").0,
        200,
        "off by default"
    );

    let (status, _, v) = call(
        &a,
        "POST",
        "/v1/controller/auth/initialize-token-auth",
        None,
        &json!({"only_satellites": false, "description": "test"}).to_string(),
    );
    assert_eq!(status, 201, "{v}");
    let token = v[0]["obj_refs"]["token"]
        .as_str()
        .expect("the token in obj_refs")
        .to_owned();
    assert_eq!(token.len(), 32);

    let (status, head, v) = call(&a, "GET", "/v1/nodes", None, "");
    assert_eq!(status, 401, "{v}");
    assert!(
        head.to_ascii_lowercase()
            .contains("www-authenticate: bearer"),
        "{head}"
    );
    assert!(
        v[0]["correction"]
            .as_str()
            .is_some_and(|c| c.contains("Authorization: Bearer")),
        "{v}"
    );
    assert_eq!(call(&a, "GET", "/v1/nodes", Some("wrong"), "").0, 401);
    assert_eq!(call(&a, "GET", "/v1/nodes", Some(&token), "").0, 200);
    assert_eq!(
        call(&a, "GET", "/health", None, "").0,
        200,
        "/health stays open"
    );
    assert_eq!(
        call(
            &a,
            "POST",
            "/v1/controller/auth/initialize-token-auth",
            None,
            "{}"
        )
        .0,
        401
    );
    let (status, _, v) = call(
        &a,
        "POST",
        "/v1/controller/auth/initialize-token-auth",
        Some(&token),
        "{}",
    );
    assert_eq!(status, 201, "{v}");
    assert!(
        v[0]["obj_refs"].get("token").is_none(),
        "a second initialize returns no token: {v}"
    );

    // A second token, listed (never its value), then revoked.
    let (status, _, v) = call(
        &a,
        "POST",
        "/v1/controller/auth/token",
        Some(&token),
        &json!({"description": "ci"}).to_string(),
    );
    assert_eq!(status, 201, "{v}");
    let second = v[0]["obj_refs"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (_, _, list) = call(&a, "GET", "/v1/controller/auth/token", Some(&second), "");
    assert_eq!(list["count"], 2, "{list}");
    assert!(!list.to_string().contains(&token), "{list}");

    c.stop();
    let c = Controller::start(dir.path(), &["--simulate-satellites"]);
    let a = c.addr.clone();
    assert_eq!(
        call(&a, "GET", "/v1/nodes", None, "").0,
        401,
        "still on after a restart"
    );
    assert_eq!(call(&a, "GET", "/v1/nodes", Some(&token), "").0, 200);
    assert_eq!(
        call(
            &a,
            "DELETE",
            "/v1/controller/auth/token/2",
            Some(&token),
            ""
        )
        .0,
        200
    );
    assert_eq!(
        call(&a, "GET", "/v1/nodes", Some(&second), "").0,
        401,
        "a revoked token"
    );
    let (status, _, v) = call(
        &a,
        "POST",
        "/v1/controller/auth/token",
        Some(&token),
        &json!({"description": "x", "ip_filter": "10.0.0.1"}).to_string(),
    );
    assert_eq!(status, 400, "{v}");
    assert!(
        v[0]["details"]
            .as_str()
            .is_some_and(|d| d.contains("ip_filter")),
        "{v}"
    );
}
