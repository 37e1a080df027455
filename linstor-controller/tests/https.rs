//! HTTPS end to end on the real binary: `[https]` with a PEM certificate and key serves the
//! REST API over TLS (rustls), and the plain listener answers every request with a 302 to the
//! same path on the HTTPS port, as LINSTOR does (python-linstor's HTTPS probe follows it).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

fn tls_get(addr: &str, path: &str, cert: &CertificateDer<'static>) -> String {
    let mut roots = RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tls = StreamOwned::new(conn, TcpStream::connect(addr).unwrap());
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn https_serves_the_api_and_http_redirects_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert_pem, key_pem) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_pem, key.cert.pem()).unwrap();
    std::fs::write(&key_pem, key.signing_key.serialize_pem()).unwrap();
    let toml = dir.path().join("linstor.toml");
    std::fs::write(
        &toml,
        format!(
            "[http]\nlisten_addr = \"127.0.0.1\"\nport = 0\n[https]\nenabled = true\nlisten_addr = \"127.0.0.1\"\nport = 0\ncertificate = {:?}\nprivate_key = {:?}\n",
            cert_pem, key_pem
        ),
    )
    .unwrap();
    let mut child = Command::new(common::binary())
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(&toml)
        .args(["--log-level", "warn"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let https = lines.next().unwrap().unwrap();
    let http = lines.next().unwrap().unwrap();
    let https_addr = https.rsplit("https://").next().unwrap().to_owned();
    let http_addr = http.rsplit("http://").next().unwrap().to_owned();

    let answer = tls_get(
        &https_addr,
        "/v1/controller/version",
        &key.cert.der().clone(),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("\"rest_api_version\":\"1.28.0\""),
        "{answer}"
    );

    let mut plain = TcpStream::connect(&http_addr).unwrap();
    write!(
        plain,
        "GET /v1/nodes?limit=1 HTTP/1.1\r\nHost: 127.0.0.1:1234\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut redirect = String::new();
    plain.read_to_string(&mut redirect).unwrap();
    assert!(redirect.starts_with("HTTP/1.1 302"), "{redirect}");
    let port = https_addr.rsplit(':').next().unwrap();
    let want = format!("location: https://127.0.0.1:{port}/v1/nodes?limit=1");
    assert!(redirect.to_ascii_lowercase().contains(&want), "{redirect}");

    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(child.wait().unwrap().success());
}

#[test]
fn an_unusable_certificate_stops_start_up_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("cert.pem");
    std::fs::write(&bad, "not a certificate").unwrap();
    let toml = dir.path().join("linstor.toml");
    std::fs::write(
        &toml,
        format!("[https]\nenabled = true\ncertificate = {bad:?}\nprivate_key = {bad:?}\n"),
    )
    .unwrap();
    let out = Command::new(common::binary())
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(&toml)
        .args(["--rest-bind", "127.0.0.1:0"])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[https] certificate") && err.contains("cert.pem"),
        "{err}"
    );
}
