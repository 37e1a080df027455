//! Hostile input over every REST endpoint of the real controller binary.
//!
//! A seeded generator (fixed seed, bounded by a request count and a wall time) sends requests
//! built from the OpenAPI spec's method and path templates (`fixtures/openapi-endpoints.txt`)
//! with valid and hostile names, random methods and paths, and bodies of wrong types, huge,
//! deeply nested, invalid UTF-8, truncated; raw malformed HTTP over TCP; a slow dribbler and
//! idle connections alongside. Checks: the process lives, `/health` answers, its log has no
//! panic, no 5xx is a server fault (a 5xx is tolerated only as LINSTOR's answer to input or
//! state — an `ApiCallRc` array whose first error has such a code), no request hangs, a refused
//! mutating request changes nothing (sampled: the main lists before and after), and resident
//! memory stays bounded. `HOSTILE_REQUESTS` and `HOSTILE_SECONDS` make a longer run.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use common::Controller;
use serde_json::{Value, json};

/// The spec's endpoints, plus ours outside it.
const SPEC: &str = include_str!("fixtures/openapi-endpoints.txt");
const EXTRA: &[&str] = &[
    "GET /health",
    "GET /metrics",
    "POST /v1/advise/fit",
    "POST /v1/advise/failure",
    "POST /v1/nodes/{node}/evict",
    "POST /v1/query-max-volume-size",
];

/// Turns token auth on, after which every request of the run would be 401: left out here,
/// `tests/auth.rs` covers it.
const INITIALIZE: &str = "/v1/controller/auth/initialize-token-auth";

/// Largest body the controller accepts (`http::MAX_BODY`); the huge bodies go beyond it.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// LINSTOR codes that say the server failed (not the input): FAIL_SQL, UNKNOWN_ERROR,
/// IMPL_ERROR.
const SERVER_FAULT_CODES: &[u64] = &[100, 998, 999];

/// splitmix64: small, seeded, good enough to pick cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// One answer: the status (0 when the connection closed without one) and the body.
#[derive(Debug, Default)]
struct Reply {
    status: u16,
    body: Vec<u8>,
    /// No answer within the deadline although the request was complete.
    hung: bool,
}

/// Sends `bytes` on a new connection and reads the answer (until the body is complete, EOF, or
/// an event stream's head). `half_close` shuts the write side after sending.
fn exchange(addr: &str, bytes: &[u8], half_close: bool, deadline: Duration) -> Reply {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return Reply::default();
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = s.set_write_timeout(Some(Duration::from_secs(10)));
    // The server may answer (413, 400) and close before the whole body is written.
    let _ = s.write_all(bytes);
    if half_close {
        let _ = s.shutdown(Shutdown::Write);
    }
    read_reply(&mut s, deadline)
}

fn read_reply(s: &mut TcpStream, deadline: Duration) -> Reply {
    let started = Instant::now();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        if let Some(done) = complete(&buf) {
            return done;
        }
        if started.elapsed() > deadline {
            let mut r = parse_head(&buf).unwrap_or_default();
            r.hung = r.status == 0;
            return r;
        }
        match s.read(&mut chunk) {
            Ok(0) => return parse_head(&buf).unwrap_or_default(),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return parse_head(&buf).unwrap_or_default(),
        }
    }
}

fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

fn parse_head(buf: &[u8]) -> Option<Reply> {
    let end = head_end(buf)?;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let rest = &buf[end..];
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Some(Reply {
        status,
        body,
        hung: false,
    })
}

/// The reply, once `buf` holds all of it.
fn complete(buf: &[u8]) -> Option<Reply> {
    let end = head_end(buf)?;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    if head.contains("text/event-stream") {
        return parse_head(buf);
    }
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let done = match len {
        Some(n) => buf.len() >= end + n,
        None if head.contains("transfer-encoding: chunked") => buf.ends_with(b"0\r\n\r\n"),
        None => false,
    };
    if done { parse_head(buf) } else { None }
}

fn dechunk(mut s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(p) = s.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(String::from_utf8_lossy(&s[..p]).trim(), 16).unwrap_or(0);
        let rest = &s[p + 2..];
        if n == 0 || rest.len() < n {
            break;
        }
        out.extend_from_slice(&rest[..n]);
        s = rest.get(n + 2..).unwrap_or_default();
    }
    out
}

/// A well-formed HTTP/1.1 request with `Connection: close`.
fn wire(addr: &str, method: &str, target: &str, headers: &[String], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut v = out.into_bytes();
    v.extend_from_slice(body);
    v
}

/// Names that exist after seeding, per path parameter.
fn valid_names(param: &str) -> &'static [&'static str] {
    match param {
        "node" | "node_a" | "node_b" | "fromnode" => &["node-000", "node-001", "node-002"],
        "resource" | "rscName" | "resourceClone" => &["res-a", "res-b", "res-c"],
        "storagepool" | "disklesspool" => &["thin", "DfltDisklessStorPool"],
        "resource_group" => &["rg3", "DfltRscGrp"],
        "snapshot" => &["snap1"],
        "volume_number" => &["0", "1"],
        "instance" => &["kv1"],
        "netinterface" => &["default"],
        "key" => &["Aux/a"],
        "authtokenid" => &["1"],
        _ => &["x1"],
    }
}

/// Path segments a hostile client sends (already in the form that goes on the wire: some
/// percent-encoded, some raw).
fn hostile_segment(rng: &mut Rng) -> String {
    let fixed: &[&str] = &[
        "",
        "..",
        "%2e%2e",
        "%2F",
        "a%2Fb",
        "%00",
        "a%00b",
        "%ff%fe",
        "%",
        "%zz",
        "%E3%83%8E%E3%83%BC%E3%83%89",
        "%E2%80%AE",
        "ノード",
        "$(reboot)",
        "%60id%60",
        "%3Brm%20-rf%20%2F",
        "a%7Cb",
        "a b",
        "-bad",
        "0",
        "-1",
        "65536",
        "99999999999999999999999",
        "{node}",
        "..%2F..%2Fetc%2Fpasswd",
        "null",
        "true",
        "NODE-000",
        "\u{0}",
        "%0d%0aX-Injected:%201",
    ];
    match rng.below(4) {
        0 => "a".repeat(1 + rng.below(40_000)),
        1 => format!("{}{}", "x".repeat(rng.below(60)), rng.next()),
        _ => (*rng.pick(fixed)).to_owned(),
    }
}

/// A path from a template: each parameter a valid name (mostly) or a hostile one.
fn fill(template: &str, rng: &mut Rng) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
        let param = &rest[open + 1..close];
        if rng.chance(65) {
            let name: &&str = rng.pick(valid_names(param));
            out.push_str(name);
        } else {
            out.push_str(&hostile_segment(rng));
        }
        rest = rest.get(close + 1..).unwrap_or("");
    }
    out.push_str(rest);
    if rng.chance(15) {
        let query: &&str = rng.pick(&[
            "?nodes=node-000&nodes=%00",
            "?limit=-1",
            "?offset=99999999999999999999999&limit=1",
            "?limit=0&offset=18446744073709551615",
            "?props=Aux/a=b&props==",
            "?resources=%ff",
            "?storage_pools=thin&cached=maybe",
            "?a=%zz&&&=&b",
            "?nodes=",
        ]);
        out.push_str(query);
    }
    out
}

/// Field names real bodies use, for random objects that look almost right.
const FIELDS: &[&str] = &[
    "name",
    "node_name",
    "storage_pool_name",
    "provider_kind",
    "props",
    "override_props",
    "delete_props",
    "delete_namespaces",
    "select_filter",
    "place_count",
    "volume_sizes",
    "size_kib",
    "volume_number",
    "resource_definition_name",
    "resource_definition",
    "resource",
    "net_interfaces",
    "address",
    "satellite_port",
    "type",
    "flags",
    "layer_list",
    "external_name",
    "diskless_on_remaining",
    "storage_pool_list",
    "definitions_only",
    "partial",
    "only_satellites",
    "description",
    "is_active",
];

fn random_value(rng: &mut Rng, depth: u32) -> Value {
    let leaf = depth >= 3 || rng.chance(50);
    if leaf {
        return match rng.below(12) {
            0 => Value::Null,
            1 => json!(rng.chance(50)),
            2 => json!(rng.next()),
            3 => json!(-(rng.below(1000) as i64)),
            4 => json!(1e308),
            5 => json!(0.5),
            6 => json!("3"),
            7 => json!("-1"),
            8 => json!("x".repeat(rng.below(70_000))),
            9 => json!("ノード\u{0}$(id)"),
            10 => json!(""),
            _ => json!(format!("n{}", rng.below(5))),
        };
    }
    if rng.chance(50) {
        let n = rng.below(6);
        Value::Array((0..n).map(|_| random_value(rng, depth + 1)).collect())
    } else {
        let n = rng.below(6);
        let mut m = serde_json::Map::new();
        for _ in 0..n {
            let k = if rng.chance(85) {
                (*rng.pick(FIELDS)).to_owned()
            } else {
                format!("f{}", rng.below(1000))
            };
            m.insert(k, random_value(rng, depth + 1));
        }
        Value::Object(m)
    }
}

/// Valid-shaped bodies with one field of a wrong type (or dropped, or renamed).
fn shaped_body(rng: &mut Rng) -> Value {
    let shapes = [
        json!({"name": "hn1", "type": "satellite", "net_interfaces": [{"name": "default", "address": "10.9.0.1", "satellite_port": 3366}]}),
        json!({"storage_pool_name": "thin", "provider_kind": "FILE_THIN", "props": {"StorDriver/StorPoolName": "/tmp/x"}}),
        json!({"name": "rgx", "select_filter": {"place_count": "2", "storage_pool_list": ["thin"]}}),
        json!({"resource_definition": {"name": "rdx"}}),
        json!({"volume_definition": {"size_kib": 1024}}),
        json!({"resource_definition_name": "spx", "volume_sizes": [1024], "select_filter": {}}),
        json!({"override_props": {"Aux/a": "1"}, "delete_props": ["Aux/b"]}),
        json!([{"resource": {"node_name": "node-000", "props": {"StorPoolName": "thin"}}}]),
        json!({"select_filter": {"place_count": 2}}),
        json!({"name": "snapx"}),
        json!({"only_satellites": false, "description": "x"}),
    ];
    let mut v = rng.pick(&shapes).clone();
    let target = match &mut v {
        Value::Array(a) => a.first_mut(),
        other => Some(other),
    };
    if let Some(Value::Object(m)) = target {
        let keys: Vec<String> = m.keys().cloned().collect();
        let k = rng.pick(&keys).clone();
        match rng.below(4) {
            0 => {
                m.remove(&k);
            }
            1 => {
                let val = m.remove(&k).unwrap_or(Value::Null);
                m.insert(format!("{k}x"), val);
            }
            _ => {
                m.insert(k, random_value(rng, 2));
            }
        }
    }
    v
}

/// A body: empty, JSON of all sorts, or bytes that are not JSON.
fn body(rng: &mut Rng) -> Vec<u8> {
    match rng.below(100) {
        0..=14 => Vec::new(),
        15..=44 => shaped_body(rng).to_string().into_bytes(),
        45..=69 => random_value(rng, 0).to_string().into_bytes(),
        70..=74 => b"{\"name\": \"a\", ".to_vec(),
        75..=78 => vec![b'"', 0xff, 0xfe, b'"'],
        79..=81 => b"{\"name\": \"\xc3\x28\"}".to_vec(),
        82..=84 => b"null".to_vec(),
        85..=86 => "[".repeat(100_000).into_bytes(),
        87 => "{\"a\":".repeat(50_000).into_bytes(),
        88 => {
            let mut v = b"{\"name\": \"".to_vec();
            v.resize(MAX_BODY + 1024, b'a');
            v.extend_from_slice(b"\"}");
            v
        }
        89..=90 => {
            // Many small entries, under the limit.
            let items: Vec<String> = (0..100_000).map(|i| i.to_string()).collect();
            format!("[{}]", items.join(",")).into_bytes()
        }
        91..=93 => b"1e999999".to_vec(),
        94..=95 => b"{\"props\": {\"Aux/\\u0000\": \"\\ud800\"}}".to_vec(),
        _ => {
            let n = rng.below(300);
            (0..n).map(|_| rng.next().to_le_bytes()[0]).collect()
        }
    }
}

fn headers(rng: &mut Rng) -> Vec<String> {
    let mut h = Vec::new();
    if rng.chance(40) {
        h.push(format!(
            "Content-Type: {}",
            rng.pick(&[
                "application/json",
                "text/plain",
                "multipart/form-data; boundary=zz",
                "application/x-www-form-urlencoded",
                "application/json; charset=latin1",
                "image/png",
            ])
        ));
    }
    if rng.chance(10) {
        h.push("Accept-Encoding: gzip".into());
    }
    if rng.chance(5) {
        h.push(format!("X-Filler: {}", "f".repeat(rng.below(20_000))));
    }
    h
}

/// Raw HTTP that is malformed in some way; `half_close` is set where the client stops early.
fn malformed(addr: &str, rng: &mut Rng) -> (Vec<u8>, bool) {
    let big = "a".repeat(200_000);
    let many: String = (0..300).map(|i| format!("X-H{i}: v\r\n")).collect();
    let cases: Vec<(Vec<u8>, bool)> = vec![
        (b"GARBAGE\r\n\r\n".to_vec(), false),
        (b"\r\n\r\n\r\n".to_vec(), true),
        (b"GET /v1/nodes\r\n\r\n".to_vec(), true),
        (format!("GET /{big} HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes(), false),
        (format!("GET /v1/nodes HTTP/1.1\r\nHost: {addr}\r\nX-Big: {big}\r\n\r\n").into_bytes(), false),
        (format!("GET /v1/nodes HTTP/1.1\r\nHost: {addr}\r\n{many}\r\n").into_bytes(), false),
        // Content-Length larger than what is sent, then the client closes.
        (format!("POST /v1/nodes HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 1000\r\n\r\n{{\"name\":").into_bytes(), true),
        (format!("PUT /v1/resource-definitions/res-a HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 99999999\r\n\r\n{{}}").into_bytes(), true),
        (format!("POST /v1/nodes HTTP/1.1\r\nHost: {addr}\r\nContent-Length: -5\r\n\r\n").into_bytes(), false),
        (format!("POST /v1/nodes HTTP/1.1\r\nHost: {addr}\r\nContent-Length: abc\r\n\r\n").into_bytes(), false),
        (format!("POST /v1/nodes HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 18446744073709551616\r\n\r\n").into_bytes(), false),
        (format!("POST /v1/nodes HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{{}}").into_bytes(), false),
        (format!("POST /v1/nodes HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").into_bytes(), false),
        (format!("POST /v1/nodes HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n").into_bytes(), false),
        (format!("POST /v1/nodes HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n{{}}").into_bytes(), true),
        (format!("POST /v1/nodes HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n{{}}\r\n0\r\n\r\n").into_bytes(), false),
        (format!("POST /v1/nodes HTTP/1.1\r\nHost: {addr}\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n").into_bytes(), true),
        (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(), true),
        (format!("GET http://{addr}/v1/nodes HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").into_bytes(), false),
        (format!("OPTIONS * HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").into_bytes(), false),
        (format!("CONNECT {addr} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").into_bytes(), false),
        (b"GET /v1/nodes HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec(), false),
        ([b"GET /v1/n\xc3\x28odes HTTP/1.1\r\nHost: ".as_slice(), addr.as_bytes(), b"\r\nConnection: close\r\n\r\n"].concat(), false),
        (b"GET /v1/nodes\x00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), false),
        (format!("GET /v1/nodes HTTP/1.1\r\nHost: {addr}\r\nX-Bad: a\x01b\r\nConnection: close\r\n\r\n").into_bytes(), false),
        (format!("GET /v1/nodes HTTP/9.9\r\nHost: {addr}\r\nConnection: close\r\n\r\n").into_bytes(), false),
        (format!("get /v1/nodes HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").into_bytes(), false),
        // Pipelined: three requests in one write, the last closes.
        (format!("GET /health HTTP/1.1\r\nHost: {addr}\r\n\r\nPOST /v1/nodes HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 2\r\n\r\n{{}}GET /v1/nodes HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").into_bytes(), false),
    ];
    let (mut bytes, half) = rng.pick(&cases).clone();
    if rng.chance(10) {
        // Cut anywhere.
        let cut = rng.below(bytes.len());
        bytes.truncate(cut);
        return (bytes, true);
    }
    (bytes, half)
}

const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "FOO",
];

/// What the test counts.
#[derive(Debug, Default)]
struct Tally {
    sent: u64,
    by_class: BTreeMap<u16, u64>,
    no_answer: u64,
    tolerated_5xx: u64,
    faults: Vec<String>,
    hangs: Vec<String>,
    endpoints: BTreeSet<String>,
    state_checks: u64,
    state_changes: Vec<String>,
}

impl Tally {
    fn record(&mut self, what: &str, r: &Reply) {
        self.sent += 1;
        if r.hung {
            self.hangs.push(what.to_owned());
            return;
        }
        if r.status == 0 {
            self.no_answer += 1;
            return;
        }
        *self.by_class.entry(r.status / 100).or_default() += 1;
        if r.status >= 500 {
            match server_fault(r) {
                None => self.tolerated_5xx += 1,
                Some(why) => self.faults.push(format!(
                    "{what} -> {} {why}: {}",
                    r.status,
                    String::from_utf8_lossy(&r.body[..r.body.len().min(400)])
                )),
            }
        }
    }
}

/// Why a 5xx answer is a server fault, or `None` when it is LINSTOR's answer to the input or
/// the state (an `ApiCallRc` array whose first error is not an internal code).
fn server_fault(r: &Reply) -> Option<String> {
    let Ok(Value::Array(entries)) = serde_json::from_slice::<Value>(&r.body) else {
        return Some("body is not an ApiCallRc array".into());
    };
    let first_error = entries.iter().find_map(|e| {
        let rc = e
            .get("ret_code")?
            .as_i64()
            .map(|v| u64::from_ne_bytes(v.to_ne_bytes()))?;
        (rc & 0xC000_0000_0000_0000 == 0xC000_0000_0000_0000).then_some(rc)
    });
    match first_error {
        None => Some("no error entry".into()),
        Some(rc) if rc & 0x0FFF_FFFF_FFFF_FFFF == 0x0FFF_FFFF_FFFF_FFFF => {
            Some("special code (unknown call)".into())
        }
        Some(rc) if SERVER_FAULT_CODES.contains(&(rc & 0x7FFF)) => {
            Some(format!("internal code {}", rc & 0x7FFF))
        }
        Some(_) => None,
    }
}

/// Whether an answer refused the request: non-2xx, or 2xx with an error entry.
fn refused(r: &Reply) -> bool {
    if !(200..300).contains(&r.status) {
        return true;
    }
    match serde_json::from_slice::<Value>(&r.body) {
        Ok(Value::Array(entries)) => entries.iter().any(|e| {
            e.get("ret_code").and_then(Value::as_i64).is_some_and(|rc| {
                u64::from_ne_bytes(rc.to_ne_bytes()) & 0xC000_0000_0000_0000
                    == 0xC000_0000_0000_0000
            })
        }),
        _ => false,
    }
}

/// The desired state as the lists show it, without what moves on its own (times, observed
/// state).
fn snapshot(c: &Controller) -> Value {
    let mut out = serde_json::Map::new();
    for path in [
        "/v1/nodes",
        "/v1/view/storage-pools",
        "/v1/storage-pool-definitions",
        "/v1/resource-groups",
        "/v1/resource-definitions",
        "/v1/view/resources",
        "/v1/view/snapshots",
        "/v1/key-value-store",
        "/v1/controller/properties",
    ] {
        let (_, v) = c.call("GET", path, None);
        out.insert(path.to_owned(), v);
    }
    let rds: Vec<String> = out["/v1/resource-definitions"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| d["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    for rd in rds.iter().take(20) {
        let path = format!("/v1/resource-definitions/{rd}/volume-definitions");
        let (_, v) = c.call("GET", &path, None);
        out.insert(path, v);
    }
    let mut v = Value::Object(out);
    strip_moving(&mut v);
    v
}

fn strip_moving(v: &mut Value) {
    const MOVING: &[&str] = &[
        "created_at",
        "timestamp",
        "free_capacity",
        "total_capacity",
        "connection_status",
        "state",
        "reports",
    ];
    match v {
        Value::Object(m) => {
            m.retain(|k, _| !MOVING.contains(&k.as_str()));
            m.values_mut().for_each(strip_moving);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_moving),
        _ => {}
    }
}

fn seed(c: &Controller) {
    common::seed_cluster(c, 3);
    for rd in ["res-a", "res-b", "res-c"] {
        c.ok(
            "POST",
            "/v1/resource-groups/rg3/spawn",
            Some(&common::spawn_body(rd, 10_240)),
        );
    }
    c.ok(
        "POST",
        "/v1/resource-definitions/res-a/snapshots",
        Some(&json!({"name": "snap1"})),
    );
    c.ok(
        "PUT",
        "/v1/key-value-store/kv1",
        Some(&json!({"override_props": {"Aux/a": "1"}})),
    );
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn health(addr: &str) -> Reply {
    exchange(
        addr,
        &wire(addr, "GET", "/health", &[], b""),
        false,
        Duration::from_secs(10),
    )
}

/// A GET dribbled one byte at a time; its answer.
fn dribble(addr: &str, gap: Duration) -> Reply {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return Reply::default();
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let req = wire(addr, "GET", "/v1/nodes", &[], b"");
    for b in req {
        if s.write_all(&[b]).is_err() {
            return read_reply(&mut s, Duration::from_secs(5));
        }
        std::thread::sleep(gap);
    }
    read_reply(&mut s, Duration::from_secs(10))
}

#[test]
fn hostile_requests_neither_crash_nor_fault_nor_change_state() {
    let max_requests = env_u64("HOSTILE_REQUESTS", 10_000);
    let max_seconds = env_u64("HOSTILE_SECONDS", 30);
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("controller.log");
    let mut c =
        Controller::start_logged(&dir.path().join("data"), &["--simulate-satellites"], &log);
    seed(&c);
    let addr = c.addr.clone();
    let rss_before = c.rss_kib();

    let mut endpoints: Vec<(String, String)> = SPEC
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .chain(EXTRA.iter().copied())
        .filter_map(|l| l.split_once(' '))
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
        .collect();
    endpoints.sort();
    endpoints.dedup();

    // Alongside: idle connections that never send a byte, and slow dribblers.
    let idle: Vec<TcpStream> = (0..200)
        .filter_map(|_| TcpStream::connect(&addr).ok())
        .collect();
    let dribblers: Vec<_> = (0..2)
        .map(|_| {
            let a = addr.clone();
            std::thread::spawn(move || dribble(&a, Duration::from_millis(40)))
        })
        .collect();

    let mut rng = Rng(0x0001_1570_2026);
    let mut t = Tally::default();
    let started = Instant::now();
    let deadline = Duration::from_secs(max_seconds);
    let mut refused_mutations = 0u64;
    while t.sent < max_requests && started.elapsed() < deadline {
        let kind = rng.below(100);
        if kind < 8 {
            let (bytes, half) = malformed(&addr, &mut rng);
            let r = exchange(&addr, &bytes, half, Duration::from_secs(15));
            let what = format!(
                "raw {:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
            );
            t.record(&what, &r);
            continue;
        }
        let (method, path) = if kind < 80 {
            let (m, tpl) = rng.pick(&endpoints).clone();
            if tpl == INITIALIZE {
                continue;
            }
            t.endpoints.insert(format!("{m} {tpl}"));
            (m, fill(&tpl, &mut rng))
        } else if kind < 92 {
            let (_, tpl) = rng.pick(&endpoints).clone();
            if tpl == INITIALIZE {
                continue;
            }
            ((*rng.pick(METHODS)).to_owned(), fill(&tpl, &mut rng))
        } else {
            let segs: Vec<String> = (0..1 + rng.below(6))
                .map(|_| hostile_segment(&mut rng))
                .collect();
            (
                (*rng.pick(METHODS)).to_owned(),
                format!("/{}", segs.join("/")),
            )
        };
        let b = if method == "GET" && rng.chance(80) {
            Vec::new()
        } else {
            body(&mut rng)
        };
        let h = headers(&mut rng);
        let bytes = wire(&addr, &method, &path, &h, &b);
        let mutating = method != "GET" && method != "HEAD";
        // Sampled: a refused mutation must leave the state as it was.
        let check = mutating && rng.chance(8);
        let before = check.then(|| snapshot(&c));
        let mut r = exchange(&addr, &bytes, false, Duration::from_secs(20));
        if method == "HEAD" && r.status >= 500 {
            // A HEAD answer has no body to classify: the same request as GET tells.
            r = exchange(
                &addr,
                &wire(&addr, "GET", &path, &h, &b),
                false,
                Duration::from_secs(20),
            );
        }
        let what = format!(
            "{method} {} (body {} bytes)",
            &path[..path.len().min(120)],
            b.len()
        );
        t.record(&what, &r);
        if let Some(before) = before {
            if refused(&r) {
                refused_mutations += 1;
                t.state_checks += 1;
                let after = snapshot(&c);
                if after != before {
                    t.state_changes.push(format!(
                        "{what} -> {} {} changed the state",
                        r.status,
                        String::from_utf8_lossy(&r.body[..r.body.len().min(300)])
                    ));
                }
            }
        }
        if t.sent % 500 == 0 {
            assert!(c.is_running(), "the controller died after {what}");
        }
    }
    let elapsed = started.elapsed();

    let dribbled: Vec<Reply> = dribblers
        .into_iter()
        .map(|d| d.join().expect("dribbler thread"))
        .collect();
    let h = health(&addr);
    let rss_after = c.rss_kib();
    let alive = c.is_running();
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    let panics = log_text.matches("panicked").count();

    eprintln!(
        "hostile: {} requests in {:.1} s, {} distinct endpoints (of {}), 2xx {} 3xx {} 4xx {} 5xx {} \
         (tolerated input/state 5xx {}, server faults {}), no answer {}, hangs {}, panics {}, \
         refused mutations checked {} (state changes {}), RSS {} KiB -> {} KiB",
        t.sent,
        elapsed.as_secs_f64(),
        t.endpoints.len(),
        endpoints.len(),
        t.by_class.get(&2).copied().unwrap_or(0),
        t.by_class.get(&3).copied().unwrap_or(0),
        t.by_class.get(&4).copied().unwrap_or(0),
        t.by_class.get(&5).copied().unwrap_or(0),
        t.tolerated_5xx,
        t.faults.len(),
        t.no_answer,
        t.hangs.len(),
        panics,
        refused_mutations,
        t.state_changes.len(),
        rss_before,
        rss_after,
    );
    drop(idle);
    // SIGTERM must stop it although clients have held connections open.
    c.stop();
    assert!(alive, "the controller is not running any more");
    assert_eq!(h.status, 200, "/health after the run: {h:?}");
    assert_eq!(panics, 0, "the controller's log has panics:\n{log_text}");
    assert!(
        t.faults.is_empty(),
        "server faults:\n{}",
        t.faults.join("\n")
    );
    assert!(
        t.hangs.is_empty(),
        "requests without an answer:\n{}",
        t.hangs.join("\n")
    );
    assert!(
        t.state_changes.is_empty(),
        "refused requests changed the state:\n{}",
        t.state_changes.join("\n")
    );
    for d in &dribbled {
        assert_eq!(d.status, 200, "a dribbled request was not answered: {d:?}");
    }
    assert!(
        rss_after < 200 * 1024,
        "resident memory {rss_after} KiB after the run (before: {rss_before} KiB)"
    );
    assert!(
        rss_after < rss_before + 150 * 1024,
        "resident memory grew from {rss_before} KiB to {rss_after} KiB"
    );
}

/// Regression: bodies over the limit, and bodies between axum's default 2 MB and the
/// controller's limit, get JSON answers (`ApiCallRc`), not plain text.
#[test]
fn oversized_bodies_get_an_apicallrc_answer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let c = Controller::start(dir.path(), &["--simulate-satellites"]);
    let huge = vec![b' '; MAX_BODY + 1];
    let r = exchange(
        &c.addr,
        &wire(&c.addr, "POST", "/v1/nodes", &[], &huge),
        false,
        Duration::from_secs(20),
    );
    assert_eq!(r.status, 413, "{r:?}");
    let v: Value = serde_json::from_slice(&r.body).expect("a JSON body");
    assert!(v[0]["ret_code"].as_i64().is_some_and(|rc| rc < 0), "{v}");
    // 3 MiB of spaces around an object: under the limit, so the handler decides (400: no name).
    let mut mid = vec![b' '; 3 * 1024 * 1024];
    mid.extend_from_slice(b"{}");
    let r = exchange(
        &c.addr,
        &wire(&c.addr, "POST", "/v1/nodes", &[], &mid),
        false,
        Duration::from_secs(20),
    );
    assert_eq!(r.status, 400, "{r:?}");
    let v: Value = serde_json::from_slice(&r.body).expect("a JSON body");
    assert!(v.is_array(), "{v}");
}

/// Regression: SIGTERM stops the controller although a client holds an event stream open and
/// another stalls in the middle of a body.
#[test]
fn sigterm_stops_despite_open_streams_and_stalled_bodies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut c = Controller::start(dir.path(), &["--simulate-satellites"]);
    let mut sse = TcpStream::connect(&c.addr).expect("connect");
    sse.write_all(&wire(&c.addr, "GET", "/v1/events/nodes", &[], b"")[..])
        .expect("write");
    let mut stalled = TcpStream::connect(&c.addr).expect("connect");
    stalled
        .write_all(
            format!(
                "POST /v1/nodes HTTP/1.1\r\nHost: {}\r\nContent-Length: 100\r\n\r\n{{",
                c.addr
            )
            .as_bytes(),
        )
        .expect("write");
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    c.stop();
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "stopped after {:?}",
        t.elapsed()
    );
}
