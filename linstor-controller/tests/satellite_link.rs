//! The controller's satellite link against a fake satellite (the real `linstor-link` handshake
//! and `linstor-proto` messages, no storage): projections are held back while the satellite
//! has not reported the one sent before, and the commits made meanwhile go out as one.

mod common;

use std::time::Duration;

use common::Controller;
use linstor_link::{ClusterKey, Link, LinkConfig};
use linstor_proto::{SatelliteReport, ToController, ToSatellite};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};

type FakeLink = Link<ToController, ToSatellite, TcpStream>;

/// The next projection's generation and the node's `Aux/step` in it; other messages are
/// skipped.
/// `None` if none arrives within `wait`.
async fn next_sync(link: &mut FakeLink, wait: Duration) -> Option<(u64, Option<String>)> {
    let end = tokio::time::Instant::now() + wait;
    loop {
        let left = end.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, link.recv()).await {
            Err(_) => return None,
            Ok(Ok(ToSatellite::Sync {
                generation,
                projection,
            })) => {
                let node = projection.state.nodes.values().next().expect("the node");
                let step = node.props.get("Aux/step").map(str::to_owned);
                return Some((generation, step));
            }
            Ok(Ok(ToSatellite::Heartbeat | ToSatellite::Request { .. })) => {}
            Ok(Err(e)) => panic!("link: {e}"),
        }
    }
}

async fn report(link: &mut FakeLink, generation: u64) {
    let r = SatelliteReport {
        generation,
        converged: true,
        ..SatelliteReport::default()
    };
    link.send(&ToController::Report(Box::new(r)))
        .await
        .expect("report");
}

#[test]
fn projections_wait_for_the_report_of_the_last_one_sent() {
    let dir = tempfile::tempdir().unwrap();
    let c = Controller::start(dir.path(), &[]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let key = ClusterKey::load(&dir.path().join("cluster.key")).expect("the controller's key");
    c.ok(
        "POST",
        "/v1/nodes",
        Some(
            &json!({"name": "n1", "type": "SATELLITE", "net_interfaces": [
            {"name": "default", "address": "127.0.0.1", "satellite_port": port}]}),
        ),
    );
    let set_step = |n: u32| {
        c.ok(
            "PUT",
            "/v1/nodes/n1",
            Some(&json!({"override_props": {"Aux/step": n.to_string()}})),
        );
    };
    rt.block_on(async {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut link: FakeLink = Link::accept(tcp, &key, &LinkConfig::default(), None)
            .await
            .expect("handshake");
        let (g1, _) = next_sync(&mut link, Duration::from_secs(10))
            .await
            .expect("the first projection");
        // Three commits that change the projection while the satellite works on g1: nothing
        // is sent.
        for n in 1..=3 {
            set_step(n);
        }
        assert_eq!(next_sync(&mut link, Duration::from_millis(500)).await, None);
        // The report of g1: the latest projection, once.
        report(&mut link, g1).await;
        let (g2, step) = next_sync(&mut link, Duration::from_secs(5))
            .await
            .expect("the projection after the report");
        assert_eq!((g2, step.as_deref()), (g1 + 1, Some("3")));
        assert_eq!(next_sync(&mut link, Duration::from_millis(300)).await, None);
        // Reported: the next commit goes out at once.
        report(&mut link, g2).await;
        set_step(4);
        let (g3, step) = next_sync(&mut link, Duration::from_secs(5))
            .await
            .expect("the next projection");
        assert_eq!((g3, step.as_deref()), (g2 + 1, Some("4")));
    });
}
