//! Tests of established links: messages both ways over a duplex and over real TCP, split
//! halves working concurrently, `recv_timeout`, closing, frame limits after the handshake,
//! and the whole stack over TLS (certificates made with rcgen).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

use crate::testutil::{Msg, Rsc, Side, pair};
use crate::{ClusterKey, Link, LinkConfig, LinkError, tls};

fn full_sync(generation: u64) -> Msg {
    Msg::FullSync {
        generation,
        resources: vec![Rsc {
            name: format!("rsc{generation}"),
            size_kib: Some(generation * 1024),
            props: [("p_Aux/site".into(), "a".into())].into(),
        }],
    }
}

fn report(generation: u64) -> Msg {
    Msg::Report {
        generation,
        extra: [("p_state".into(), "UpToDate".into())].into(),
    }
}

#[tokio::test]
async fn messages_flow_both_ways_over_a_duplex() {
    let side = Side::new(1, 1, 1);
    let (sat, ctl) = pair(&side, &side, None, "n1").await;
    let (mut sat, mut ctl) = (sat.unwrap(), ctl.unwrap());
    ctl.send(&full_sync(1)).await.unwrap();
    ctl.send(&Msg::Heartbeat).await.unwrap();
    assert_eq!(sat.recv().await.unwrap(), full_sync(1));
    assert_eq!(sat.recv().await.unwrap(), Msg::Heartbeat);
    sat.send(&report(1)).await.unwrap();
    assert_eq!(ctl.recv().await.unwrap(), report(1));
    ctl.close().await.unwrap();
    assert!(matches!(sat.recv().await, Err(LinkError::Closed)));
}

#[tokio::test]
async fn recv_timeout_leaves_the_link_usable() {
    let side = Side::new(1, 1, 1);
    let (sat, ctl) = pair(&side, &side, None, "n1").await;
    let (mut sat, mut ctl) = (sat.unwrap(), ctl.unwrap());
    let err = sat
        .recv_timeout(Duration::from_millis(30))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            LinkError::Timeout {
                what: "receive",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.link_usable());
    ctl.send(&Msg::Heartbeat).await.unwrap();
    let got = sat.recv_timeout(Duration::from_secs(5)).await.unwrap();
    assert_eq!(got, Msg::Heartbeat);
}

#[tokio::test]
async fn a_frame_of_another_shape_is_skipped() {
    let side = Side::new(1, 1, 1);
    let (a, c) = tokio::io::duplex(64 * 1024);
    let (sat, ctl) = tokio::join!(
        Link::<Msg, Msg, _>::accept(a, &side.key, &side.config, None),
        Link::<serde_json::Value, Msg, _>::connect(c, &side.key, &side.config, "n1"),
    );
    let (mut sat, mut ctl) = (sat.unwrap(), ctl.unwrap());
    ctl.send(&serde_json::json!({"type": "from_the_future"}))
        .await
        .unwrap();
    ctl.send(&serde_json::to_value(Msg::Heartbeat).unwrap())
        .await
        .unwrap();
    let err = sat.recv().await.unwrap_err();
    assert!(
        matches!(err, LinkError::Decode(_)) && err.link_usable(),
        "{err:?}"
    );
    assert_eq!(sat.recv().await.unwrap(), Msg::Heartbeat);
}

#[tokio::test]
async fn the_frame_limit_holds_after_the_handshake() {
    let mut small = Side::new(1, 1, 1);
    small.config.max_frame = 200;
    let large = Side::new(1, 1, 1);
    let (sat, ctl) = pair(&small, &large, None, "n1").await;
    let (mut sat, mut ctl) = (sat.unwrap(), ctl.unwrap());
    let big = Msg::Report {
        generation: 1,
        extra: [("p_blob".into(), "x".repeat(300))].into(),
    };
    let err = sat.send(&big).await.unwrap_err();
    assert!(
        matches!(err, LinkError::MessageTooLarge { max: 200, .. }),
        "{err:?}"
    );
    sat.send(&Msg::Heartbeat).await.unwrap();
    assert_eq!(ctl.recv().await.unwrap(), Msg::Heartbeat);
    ctl.send(&big).await.unwrap();
    let err = sat.recv().await.unwrap_err();
    assert!(
        matches!(err, LinkError::FrameTooLarge { max: 200, .. }),
        "{err:?}"
    );
    assert!(!err.link_usable());
}

/// The satellite's side of the TCP tests: accept one link, answer every full sync with a
/// report of its generation, until the controller closes.
async fn satellite(listener: TcpListener, key: ClusterKey) -> Result<u64, LinkError> {
    let (tcp, _) = listener.accept().await?;
    let link = Link::<Msg, Msg, _>::accept(tcp, &key, &LinkConfig::default(), Some("n1")).await?;
    serve(link).await
}

async fn serve<S>(link: Link<Msg, Msg, S>) -> Result<u64, LinkError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut rx, mut tx) = link.into_split();
    let mut answered = 0;
    loop {
        match rx.recv().await {
            Ok(Msg::FullSync { generation, .. }) => {
                tx.send(&report(generation)).await?;
                answered += 1;
            }
            Ok(_) => {}
            Err(LinkError::Closed) => return Ok(answered),
            Err(e) => return Err(e),
        }
    }
}

/// The controller's side: send `n` full syncs from one task while another reads the reports.
async fn controller<S>(link: Link<Msg, Msg, S>, n: u64) -> Vec<u64>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    assert_eq!((link.node_name(), link.version()), ("n1", 1));
    let (mut rx, mut tx) = link.into_split();
    let writer = tokio::spawn(async move {
        for g in 1..=n {
            tx.send(&full_sync(g)).await.unwrap();
        }
        tx
    });
    let mut got = Vec::new();
    while got.len() < usize::try_from(n).unwrap() {
        match rx.recv_timeout(Duration::from_secs(10)).await.unwrap() {
            Msg::Report { generation, .. } => got.push(generation),
            other => panic!("unexpected {other:?}"),
        }
    }
    writer.await.unwrap().close().await.unwrap();
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_over_tcp_carries_messages_both_ways_concurrently() {
    let key = ClusterKey::generate().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sat = tokio::spawn(satellite(listener, key.clone()));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let link = Link::connect(tcp, &key, &LinkConfig::default(), "n1")
        .await
        .unwrap();
    let got = controller(link, 200).await;
    assert_eq!(got, (1..=200).collect::<Vec<_>>());
    assert_eq!(sat.await.unwrap().unwrap(), 200);
}

#[tokio::test]
async fn a_wrong_key_over_tcp_fails_both_sides() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sat = tokio::spawn(satellite(listener, ClusterKey::generate().unwrap()));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let other = ClusterKey::generate().unwrap();
    let ctl = Link::<Msg, Msg, _>::connect(tcp, &other, &LinkConfig::default(), "n1").await;
    assert!(matches!(ctl, Err(LinkError::AuthFailed { .. })), "{ctl:?}");
    let sat = sat.await.unwrap();
    assert!(matches!(sat, Err(LinkError::AuthFailed { .. })), "{sat:?}");
}

/// A CA and a satellite certificate for `localhost` and 127.0.0.1 signed by it, as PEM files
/// (`ca.pem`, `sat.pem`, `sat.key`) in `dir`.
fn make_certs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let sat_key = rcgen::KeyPair::generate().unwrap();
    let sat_params =
        rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let sat = sat_params.signed_by(&sat_key, &ca).unwrap();
    let paths = (dir.join("ca.pem"), dir.join("sat.pem"), dir.join("sat.key"));
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, sat.pem()).unwrap();
    std::fs::write(&paths.2, sat_key.serialize_pem()).unwrap();
    paths
}

const TLS_LIMIT: Duration = Duration::from_secs(10);

/// A satellite over TLS: TLS first, then the link's handshake inside it.
async fn tls_satellite(
    listener: TcpListener,
    acceptor: tls::TlsAcceptor,
    key: ClusterKey,
) -> Result<u64, LinkError> {
    let (tcp, _) = listener.accept().await?;
    let stream = tls::accept_tls(&acceptor, tcp, TLS_LIMIT).await?;
    let link = Link::<Msg, Msg, _>::accept(stream, &key, &LinkConfig::default(), None).await?;
    serve(link).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_over_tls_works_and_checks_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, cert_key) = make_certs(dir.path());
    let key = ClusterKey::generate().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tls::tls_acceptor(&cert, &cert_key).unwrap();
    let sat = tokio::spawn(tls_satellite(listener, acceptor, key.clone()));
    let connector = tls::tls_connector(&ca).unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let stream = tls::connect_tls(&connector, "127.0.0.1", tcp, TLS_LIMIT)
        .await
        .unwrap();
    let link = Link::connect(stream, &key, &LinkConfig::default(), "n1")
        .await
        .unwrap();
    assert_eq!(controller(link, 20).await, (1..=20).collect::<Vec<_>>());
    assert_eq!(sat.await.unwrap().unwrap(), 20);
}

#[tokio::test]
async fn tls_refuses_a_certificate_for_another_name_or_from_another_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, cert_key) = make_certs(dir.path());
    let other_dir = tempfile::tempdir().unwrap();
    let (other_ca, _, _) = make_certs(other_dir.path());
    for (ca, host, want) in [
        (&ca, "node-x", "not valid for name"),
        (&other_ca, "localhost", "invalid peer certificate"),
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = tls::tls_acceptor(&cert, &cert_key).unwrap();
        let sat = tokio::spawn(tls_satellite(
            listener,
            acceptor,
            ClusterKey::generate().unwrap(),
        ));
        let tcp = TcpStream::connect(addr).await.unwrap();
        let connector = tls::tls_connector(ca).unwrap();
        let err = tls::connect_tls(&connector, host, tcp, TLS_LIMIT)
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, LinkError::Tls(_)) && msg.contains(want),
            "{host}: {msg}"
        );
        assert!(matches!(sat.await.unwrap(), Err(LinkError::Tls(_))));
    }
}

#[test]
fn unusable_pem_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let absent = dir.path().join("absent.pem");
    for (what, err) in [
        ("junk.pem", tls::tls_connector(&junk).err().unwrap()),
        ("absent.pem", tls::tls_connector(&absent).err().unwrap()),
        (
            "absent.pem",
            tls::tls_acceptor(&absent, &junk).err().unwrap(),
        ),
    ] {
        let msg = err.to_string();
        assert!(msg.contains(what), "{msg}");
    }
    let (_, cert, _) = make_certs(dir.path());
    let msg = tls::tls_acceptor(&cert, &junk).err().unwrap().to_string();
    assert!(
        msg.contains("junk.pem") && msg.contains("private key"),
        "{msg}"
    );
}
