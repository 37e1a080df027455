//! The running satellite binary refuses what it must: a handshake recorded from a successful
//! connection and replayed on a new one (its nonce is fresh, so the old proof fails), and a
//! controller with another cluster key.

mod common;

use std::time::Duration;

use common::{Cluster, can_run};
use linstor_link::{ClusterKey, Link, LinkConfig, LinkError};
use linstor_proto::{ToController, ToSatellite};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type Ctl = Link<ToSatellite, ToController, TcpStream>;

/// A proxy to `target` that records what the client sends; returns its address and the bytes.
async fn recording_proxy(target: String) -> (String, tokio::task::JoinHandle<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        let (mut client, _) = l.accept().await.unwrap();
        let mut server = TcpStream::connect(target).await.unwrap();
        let mut recorded = Vec::new();
        let (mut buf_c, mut buf_s) = ([0u8; 4096], [0u8; 4096]);
        loop {
            tokio::select! {
                n = client.read(&mut buf_c) => {
                    let n = n.unwrap_or(0);
                    if n == 0 { break; }
                    recorded.extend_from_slice(&buf_c[..n]);
                    if server.write_all(&buf_c[..n]).await.is_err() { break; }
                }
                n = server.read(&mut buf_s) => {
                    let n = n.unwrap_or(0);
                    if n == 0 { break; }
                    if client.write_all(&buf_s[..n]).await.is_err() { break; }
                }
            }
        }
        recorded
    });
    (addr, task)
}

fn refusals(c: &Cluster) -> usize {
    std::fs::read_to_string(c.dir.join("node-1/satellite.log"))
        .unwrap_or_default()
        .matches("refused a connection")
        .count()
}

#[test]
fn real_satellite_refuses_a_replayed_handshake_and_a_wrong_key() {
    if !can_run("real_satellite_refuses_a_replayed_handshake_and_a_wrong_key") {
        return;
    }
    let c = Cluster::up(1);
    let port = std::fs::read_to_string(c.dir.join("node-1/port")).unwrap();
    let sat = format!("127.0.0.1:{}", port.trim());
    let key = ClusterKey::load(&c.dir.join("controller/cluster.key")).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // A genuine handshake through the recording proxy succeeds.
        let (proxy, recorded) = recording_proxy(sat.clone()).await;
        let tcp = TcpStream::connect(&proxy).await.unwrap();
        let link: Ctl = Link::connect(tcp, &key, &LinkConfig::default(), "node-1")
            .await
            .expect("the right key is accepted");
        drop(link);
        let bytes = tokio::time::timeout(Duration::from_secs(5), recorded)
            .await
            .expect("proxy ends")
            .unwrap();
        assert!(!bytes.is_empty());
        // Replayed on a new connection: refused.
        let before = refusals(&c);
        let mut tcp = TcpStream::connect(&sat).await.unwrap();
        tcp.write_all(&bytes).await.unwrap();
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut sink)).await;
        // Another key: refused on both sides.
        let wrong = ClusterKey::from_bytes(&[7u8; 32]).unwrap();
        let tcp = TcpStream::connect(&sat).await.unwrap();
        let r: Result<Ctl, LinkError> =
            Link::connect(tcp, &wrong, &LinkConfig::default(), "node-1").await;
        assert!(r.is_err(), "a wrong key must fail");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let after = refusals(&c);
        assert!(
            after >= before + 2,
            "replay and wrong key refused: {before} → {after}"
        );
    });
}
