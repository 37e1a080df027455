//! The accept loop both REST listeners (plain and TLS) share, with the limits a hostile or
//! broken client meets: at most [`Limits::max_connections`] connections (one more is answered
//! 503 and closed), the request head within [`Limits::header_timeout`] (an idle keep-alive
//! connection is closed after it too), the TLS handshake within the same time, and on shutdown
//! the connections in flight get [`Limits::shutdown_grace`] to finish (event streams and stalled
//! uploads do not hold SIGTERM up).
//!
//! The body's own deadline is `http::read_body`'s (the router reads every body up front).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

/// The limits of one listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// Time for a request's head (and a TLS handshake), and how long an idle keep-alive
    /// connection stays open.
    pub header_timeout: Duration,
    /// How long connections in flight may take to finish once shutdown starts.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 512,
            header_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// Serves `app` on `listener` (over TLS when `tls` is given) until `stop` turns true, then lets
/// the connections in flight finish for at most `limits.shutdown_grace`.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.wait_for(|s| *s) => break,
        };
        let (tcp, peer) = match accepted {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, max = limits.max_connections, "connection refused: too many connections");
            tokio::spawn(refuse_busy(tcp, limits.max_connections));
            continue;
        };
        let (tls, app, stop) = (tls.clone(), app.clone(), stop.clone());
        tokio::spawn(async move {
            let _slot = slot;
            match tls {
                None => serve_conn(tcp, app, limits, stop).await,
                Some(acceptor) => {
                    match tokio::time::timeout(limits.header_timeout, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => serve_conn(stream, app, limits, stop).await,
                        Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    // Every connection holds a slot: all slots back means all connections ended.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.shutdown_grace, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::info!(
            open = limits.max_connections - slots.available_permits(),
            "connections still open after the shutdown grace time are closed"
        );
    }
}

/// One connection: HTTP/1.1 with the head timeout, gracefully shut down on `stop`.
async fn serve_conn<IO>(io: IO, app: Router, limits: Limits, mut stop: watch::Receiver<bool>)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let conn = builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(app));
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!("connection ended: {e}");
            }
            return;
        }
        _ = stop.wait_for(|s| *s) => conn.as_mut().graceful_shutdown(),
    }
    if let Err(e) = conn.await {
        tracing::debug!("connection ended during shutdown: {e}");
    }
}

/// The answer to a connection over the limit: 503 with an `ApiCallRc` entry, then close.
async fn refuse_busy(mut tcp: TcpStream, max: usize) {
    let body = busy_body(max);
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nRetry-After: 1\r\n\r\n",
        body.len()
    );
    let write = async {
        tcp.write_all(head.as_bytes()).await?;
        tcp.write_all(body.as_bytes()).await?;
        tcp.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}

fn busy_body(max: usize) -> String {
    use linstor_core::rc::{Obj, Op, RcEntry};
    let e = RcEntry::error(
        Op::None,
        Obj::None,
        linstor_core::rc::code::UNKNOWN_ERROR,
        format!("The controller serves {max} connections at once and has no room for this one."),
    )
    .cause("Other clients hold all connections (idle keep-alive connections close after the header timeout).")
    .correction("Retry in a moment; clients should close connections they no longer use.");
    serde_json::Value::Array(vec![e.to_rest_json()]).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::AsyncReadExt;

    /// Runs `serve` until `stop`, for tests: binds 127.0.0.1:0 and returns the address.
    async fn spawn_for_test(
        app: Router,
        limits: Limits,
        stop: watch::Receiver<bool>,
    ) -> std::io::Result<(std::net::SocketAddr, impl std::future::Future<Output = ()>)> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        Ok((addr, serve(listener, None, app, limits, stop)))
    }

    fn app() -> Router {
        Router::new().route("/", get(|| async { "ok" })).route(
            "/forever",
            get(|| async {
                let s =
                    futures_util::stream::pending::<Result<axum::body::Bytes, std::io::Error>>();
                axum::body::Body::from_stream(s)
            }),
        )
    }

    fn limits() -> Limits {
        Limits {
            max_connections: 4,
            header_timeout: Duration::from_millis(300),
            shutdown_grace: Duration::from_millis(300),
        }
    }

    async fn start(
        l: Limits,
    ) -> (
        std::net::SocketAddr,
        watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    ) {
        let (tx, rx) = watch::channel(false);
        let (addr, fut) = spawn_for_test(app(), l, rx).await.expect("bind");
        (addr, tx, tokio::spawn(fut))
    }

    async fn read_all(s: &mut TcpStream) -> String {
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
        String::from_utf8_lossy(&buf).into_owned()
    }

    #[tokio::test]
    async fn a_silent_connection_is_closed_after_the_header_timeout() {
        let (addr, _tx, _task) = start(limits()).await;
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET / HTTP/1.1\r\nHo").await.expect("write");
        let t = std::time::Instant::now();
        let got = read_all(&mut s).await;
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "closed after {:?}",
            t.elapsed()
        );
        assert!(!got.contains("200 OK"), "{got}");
    }

    #[tokio::test]
    async fn connections_over_the_limit_get_503_with_an_apicallrc_body() {
        let (addr, _tx, _task) = start(limits()).await;
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(TcpStream::connect(addr).await.expect("connect"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut s = TcpStream::connect(addr).await.expect("connect");
        let got = read_all(&mut s).await;
        assert!(got.starts_with("HTTP/1.1 503"), "{got}");
        let body = got.split("\r\n\r\n").nth(1).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(body).expect("JSON body");
        assert!(
            v[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("4 connections")),
            "{v}"
        );
        // Once the held ones time out, a new connection is served.
        drop(held);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("write");
        assert!(read_all(&mut s).await.contains("200 OK"));
    }

    #[tokio::test]
    async fn shutdown_ends_despite_a_stream_that_never_ends() {
        let (addr, tx, task) = start(limits()).await;
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET /forever HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        tokio::time::sleep(Duration::from_millis(100)).await;
        let t = std::time::Instant::now();
        tx.send(true).expect("stop");
        tokio::time::timeout(Duration::from_secs(3), task)
            .await
            .expect("serve returns within the grace time")
            .expect("serve task");
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    }
}
