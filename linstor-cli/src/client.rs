//! REST over HTTP/1.1: each request goes to the first controller that answers (LINSTOR's
//! client tries `--controllers` in order too). Bodies are JSON both ways.

use std::time::Duration;

use serde_json::Value;

use crate::error::CliError;

/// A REST answer: the HTTP status and the JSON body (`Null` when empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

/// The REST client.
#[derive(Debug)]
pub struct Client {
    urls: Vec<String>,
    timeout: Duration,
    agent: ureq::Agent,
    /// The controller that answered last (tried first next time).
    preferred: std::cell::Cell<usize>,
}

impl Client {
    /// A client for these base URLs with a per-request timeout.
    pub fn new(urls: Vec<String>, timeout: Duration) -> Client {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .user_agent(concat!("linstor-rs-client/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            urls,
            timeout,
            agent: config.into(),
            preferred: std::cell::Cell::new(0),
        }
    }

    /// The per-request timeout (also how long a command waits for progress).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Result<Reply, CliError> {
        self.call("GET", path, None)
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> Result<Reply, CliError> {
        self.call("POST", path, Some(body))
    }

    /// `PUT path` with a JSON body.
    pub fn put(&self, path: &str, body: &Value) -> Result<Reply, CliError> {
        self.call("PUT", path, Some(body))
    }

    /// `PATCH path` with a JSON body.
    pub fn patch_json(&self, path: &str, body: &Value) -> Result<Reply, CliError> {
        self.call("PATCH", path, Some(body))
    }

    /// `DELETE path`.
    pub fn delete(&self, path: &str) -> Result<Reply, CliError> {
        self.call("DELETE", path, None)
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Reply, CliError> {
        let n = self.urls.len();
        let start = self.preferred.get();
        let mut tried = Vec::new();
        let mut all_timeouts = true;
        for i in (0..n).map(|k| (start + k) % n) {
            let url = format!("{}{path}", self.urls[i]);
            match self.once(method, &url, body) {
                Ok(r) => {
                    self.preferred.set(i);
                    return Ok(r);
                }
                Err(Failure::Connect(e, timeout)) => {
                    all_timeouts &= timeout;
                    tried.push(format!("{}: {e}", self.urls[i]));
                }
                Err(Failure::Reply(reason)) => {
                    return Err(CliError::UnexpectedReply { url, reason });
                }
            }
        }
        Err(CliError::Connection {
            tried: tried.join("; "),
            timeout: all_timeouts && !tried.is_empty(),
        })
    }

    fn once(&self, method: &str, url: &str, body: Option<&Value>) -> Result<Reply, Failure> {
        let result = match (method, body) {
            ("GET", _) => self.agent.get(url).call(),
            ("DELETE", _) => self.agent.delete(url).call(),
            ("POST", Some(b)) => self.agent.post(url).send_json(b),
            ("PUT", Some(b)) => self.agent.put(url).send_json(b),
            ("PATCH", Some(b)) => self.agent.patch(url).send_json(b),
            ("POST", None) => self.agent.post(url).send_empty(),
            _ => self.agent.put(url).send_empty(),
        };
        let mut resp = result.map_err(|e| {
            let timeout = matches!(e, ureq::Error::Timeout(_));
            Failure::Connect(e.to_string(), timeout)
        })?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| Failure::Reply(format!("cannot read the body: {e}")))?;
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|e| {
                let head: String = text.chars().take(80).collect();
                Failure::Reply(format!("HTTP {status}, not JSON ({e}): {head}"))
            })?
        };
        Ok(Reply { status, body })
    }
}

enum Failure {
    /// Connecting or sending failed (try the next controller); true for a timeout.
    Connect(String, bool),
    /// The controller answered nonsense.
    Reply(String),
}
