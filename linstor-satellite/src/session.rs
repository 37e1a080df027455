//! The satellite's side of the controller link: accept, authenticate, then serve one
//! controller at a time.
//!
//! Connections are accepted and authenticated in their own tasks (a stalled or hostile peer
//! never blocks the node); an authenticated controller replaces the previous one. The main
//! loop owns the [`Reconciler`]: a new projection (only the latest of several queued counts)
//! triggers a pass and a report; failed actions are retried when their back-off ends; while the
//! simulated DRBD syncs, its progress is reported as it goes; heartbeats keep an idle link
//! alive, and a controller silent for [`IDLE_TIMEOUT`] is dropped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use linstor_link::{ClusterKey, Link, LinkConfig, LinkError, LinkWriter, TlsAcceptor};
use linstor_proto::{ToController, ToSatellite};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::reconcile::Reconciler;

/// Heartbeat interval when nothing else is sent.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// A controller silent this long is gone.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Step of the simulated DRBD sync.
pub const SIM_TICK: Duration = Duration::from_millis(50);

type Stream = Box<dyn Io>;

/// A byte stream (TCP or TLS).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

type SatLink = Link<ToController, ToSatellite, Stream>;
type Writer = LinkWriter<ToController, tokio::io::WriteHalf<Stream>>;

/// Accepts controllers on `listener` and serves them with `rec` until the task is dropped.
pub async fn serve(
    listener: TcpListener,
    key: Arc<ClusterKey>,
    tls: Option<TlsAcceptor>,
    rec: Reconciler,
) {
    let (links_tx, links_rx) = mpsc::channel::<SatLink>(4);
    tokio::spawn(accept_loop(listener, key, tls, links_tx));
    Session::new(rec).run(links_rx).await;
}

async fn accept_loop(
    listener: TcpListener,
    key: Arc<ClusterKey>,
    tls: Option<TlsAcceptor>,
    links: mpsc::Sender<SatLink>,
) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let (key, tls, links) = (key.clone(), tls.clone(), links.clone());
        tokio::spawn(async move {
            match authenticate(tcp, &key, tls.as_ref()).await {
                Ok(link) => {
                    tracing::info!(%peer, node = link.node_name(), "controller connected");
                    let _ = links.send(link).await;
                }
                Err(e) => tracing::warn!(%peer, "refused a connection: {e}"),
            }
        });
    }
}

async fn authenticate(
    tcp: tokio::net::TcpStream,
    key: &ClusterKey,
    tls: Option<&TlsAcceptor>,
) -> Result<SatLink, LinkError> {
    let cfg = LinkConfig::default();
    let stream: Stream = match tls {
        Some(acc) => Box::new(linstor_link::accept_tls(acc, tcp, cfg.handshake_timeout).await?),
        None => Box::new(tcp),
    };
    Link::accept(stream, key, &cfg, None).await
}

/// What the main loop reacts to.
enum Wake {
    Link(SatLink),
    Msg(Result<ToSatellite, LinkError>),
    Timer,
}

struct Session {
    rec: Reconciler,
    writer: Option<Writer>,
    inbox: Option<mpsc::Receiver<Result<ToSatellite, LinkError>>>,
    reader: Option<tokio::task::JoinHandle<()>>,
    dirty: bool,
    requests: Vec<(u64, linstor_proto::SatRequest)>,
    last_sent: Instant,
    started: Instant,
}

impl Session {
    fn new(rec: Reconciler) -> Self {
        Session {
            rec,
            writer: None,
            inbox: None,
            reader: None,
            dirty: false,
            requests: Vec::new(),
            last_sent: Instant::now(),
            started: Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    async fn run(mut self, mut links: mpsc::Receiver<SatLink>) {
        loop {
            let wake = self.next_wake(&mut links).await;
            match wake {
                Some(Wake::Link(l)) => self.attach(l),
                Some(Wake::Msg(m)) => self.on_message(m),
                Some(Wake::Timer) => {}
                None => return,
            }
            self.drain();
            self.work().await;
        }
    }

    async fn next_wake(&mut self, links: &mut mpsc::Receiver<SatLink>) -> Option<Wake> {
        let delay = self.delay();
        let inbox = self.inbox.as_mut();
        tokio::select! {
            l = links.recv() => l.map(Wake::Link),
            m = async { match inbox { Some(i) => i.recv().await, None => std::future::pending().await } } => {
                Some(Wake::Msg(m.unwrap_or(Err(LinkError::Closed))))
            }
            () = tokio::time::sleep(delay) => Some(Wake::Timer),
        }
    }

    /// Time until the next retry, sync step or heartbeat.
    fn delay(&self) -> Duration {
        let mut d = HEARTBEAT.saturating_sub(self.last_sent.elapsed());
        if self.rec.drbd.syncing() {
            d = d.min(SIM_TICK);
        }
        if let Some(at) = self.rec.next_retry_ms() {
            d = d.min(Duration::from_millis(at.saturating_sub(self.now_ms())));
        }
        d
    }

    fn attach(&mut self, link: SatLink) {
        if let Some(r) = self.reader.take() {
            r.abort();
        }
        let (mut reader, writer) = link.into_split();
        let (tx, rx) = mpsc::channel(16);
        self.reader = Some(tokio::spawn(async move {
            loop {
                let m = reader.recv_timeout(IDLE_TIMEOUT).await;
                let stop = m.is_err();
                if tx.send(m).await.is_err() || stop {
                    return;
                }
            }
        }));
        self.writer = Some(writer);
        self.inbox = Some(rx);
        // Nothing is reported before the controller's first projection (it sends one at once):
        // the node turns ONLINE with a report of the full sync, never of an old projection.
        self.dirty = false;
    }

    fn on_message(&mut self, m: Result<ToSatellite, LinkError>) {
        match m {
            Ok(ToSatellite::Request { id, request }) => self.requests.push((id, request)),
            Ok(ToSatellite::Sync {
                generation,
                projection,
            }) => {
                self.rec.set_projection(generation, *projection);
                self.dirty = true;
            }
            Ok(ToSatellite::Heartbeat) => {}
            Err(e) => {
                tracing::warn!("controller link lost: {e}");
                self.writer = None;
                self.inbox = None;
            }
        }
    }

    /// Takes every message already queued, so only the latest projection is worked on.
    fn drain(&mut self) {
        while let Some(m) = self.inbox.as_mut().and_then(|i| i.try_recv().ok()) {
            self.on_message(m);
        }
    }

    async fn work(&mut self) {
        for (id, request) in std::mem::take(&mut self.requests) {
            let answer = self.rec.answer(&request).await;
            self.send(ToController::Answer { id, answer }).await;
        }
        let now = self.now_ms();
        let retry_due = self.rec.next_retry_ms().is_some_and(|t| t <= now);
        let ticked = self.rec.drbd.tick();
        if self.dirty || retry_due || ticked {
            self.dirty = false;
            let report = self.rec.pass(now).await;
            self.send(ToController::Report(Box::new(report))).await;
        } else if self.last_sent.elapsed() >= HEARTBEAT {
            self.send(ToController::Heartbeat).await;
        }
    }

    async fn send(&mut self, m: ToController) {
        let Some(w) = self.writer.as_mut() else {
            return;
        };
        if let Err(e) = w.send(&m).await {
            tracing::warn!("sending to the controller failed: {e}");
            self.writer = None;
            self.inbox = None;
        }
        self.last_sent = Instant::now();
    }
}
