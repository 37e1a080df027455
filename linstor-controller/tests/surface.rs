//! The controller's surface outside the REST objects, on the real binary: `/health`,
//! `/metrics` (LINSTOR's names, SIMULATED labelled), node events over SSE, gzip for large
//! lists, and the version answer's SIMULATED label.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{Controller, seed_cluster};

fn raw(addr: &str, request: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    out
}

fn get_text(addr: &str, path: &str) -> String {
    String::from_utf8_lossy(&raw(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ))
    .into_owned()
}

#[test]
fn health_metrics_and_version_say_what_runs() {
    let dir = tempfile::tempdir().unwrap();
    let c = Controller::start(dir.path(), &["--simulate-satellites"]);
    seed_cluster(&c, 3);
    let health = get_text(&c.addr, "/health");
    assert!(
        health.starts_with("HTTP/1.1 200") && health.contains("SIMULATED"),
        "{health}"
    );
    let metrics = get_text(&c.addr, "/metrics");
    for want in [
        "linstor_node_state{node=\"node-000\",nodetype=\"SATELLITE\"} 2",
        "linstor_storage_pool_capacity_total_bytes{",
        "linstor_simulated_satellites 1",
        "linstor_rest_request_duration_seconds_count{method=\"POST\",route=\"/v1/nodes\"} 3",
    ] {
        assert!(metrics.contains(want), "metrics lack {want}:\n{metrics}");
    }
    let version = c.ok("GET", "/v1/controller/version", None);
    assert_eq!(version["satellites"], "SIMULATED");
}

#[test]
fn node_events_stream_over_sse() {
    let dir = tempfile::tempdir().unwrap();
    let c = Controller::start(dir.path(), &[]);
    let mut s = TcpStream::connect(&c.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /v1/events/nodes HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        .unwrap();
    let mut lines = BufReader::new(s).lines();
    // Headers first, then the stream.
    let status = lines.next().unwrap().unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    std::thread::sleep(Duration::from_millis(200));
    seed_cluster(&c, 1);
    let mut event = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(e) = line.strip_prefix("event: ") {
            event = Some(e.to_owned());
        }
        if line.starts_with("data: ") && event.is_some() {
            assert!(line.contains("\"name\":\"node-000\""), "{line}");
            break;
        }
    }
    assert_eq!(event.as_deref(), Some("node-create"));
}

#[test]
fn large_lists_are_gzipped_for_clients_that_ask() {
    let dir = tempfile::tempdir().unwrap();
    let c = Controller::start(dir.path(), &[]);
    seed_cluster(&c, 10);
    let answer = raw(
        &c.addr,
        "GET /v1/nodes HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n",
    );
    let head = String::from_utf8_lossy(
        &answer[..answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap()],
    )
    .to_ascii_lowercase();
    assert!(head.contains("content-encoding: gzip"), "{head}");
    let small = raw(
        &c.addr,
        "GET /v1/controller/version HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n",
    );
    let small = String::from_utf8_lossy(&small).to_ascii_lowercase();
    assert!(
        !small.contains("content-encoding: gzip"),
        "small answers stay plain: {small}"
    );
}
