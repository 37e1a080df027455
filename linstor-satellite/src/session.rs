//! The satellite's side of the controller link: accept, authenticate, then serve one
//! controller at a time.
//!
//! Connections are accepted and authenticated in their own tasks (a stalled or hostile peer
//! never blocks the node); an authenticated controller replaces the previous one. The main
//! loop owns the [`Reconciler`]: a new projection (only the latest of several queued counts)
//! triggers a pass and a report; failed actions are retried when their back-off ends; while the
//! simulated DRBD syncs, its progress is reported as it goes. The link's writer is a task of its
//! own that sends a heartbeat whenever nothing else went out for [`HEARTBEAT`], so a pass of
//! any length (a thousand new volumes) keeps the link alive; a controller silent for
//! [`IDLE_TIMEOUT`] is dropped.

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

/// Sends what the session queues, and a heartbeat whenever nothing went out for
/// [`HEARTBEAT`]; ends when the queue closes or a send fails.
async fn write_loop(mut w: Writer, mut queue: mpsc::Receiver<ToController>) {
    loop {
        let m = match tokio::time::timeout(HEARTBEAT, queue.recv()).await {
            Ok(Some(m)) => m,
            Ok(None) => return,
            Err(_) => ToController::Heartbeat,
        };
        if let Err(e) = w.send(&m).await {
            tracing::warn!("sending to the controller failed: {e}");
            return;
        }
    }
}

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
    /// The queue of the link's writer task.
    writer: Option<mpsc::Sender<ToController>>,
    inbox: Option<mpsc::Receiver<Result<ToSatellite, LinkError>>>,
    reader: Option<tokio::task::JoinHandle<()>>,
    dirty: bool,
    requests: Vec<(u64, linstor_proto::SatRequest)>,
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

    /// Time until the next retry or sync step (at most [`HEARTBEAT`]).
    fn delay(&self) -> Duration {
        let mut d = HEARTBEAT;
        if self.rec.drbd.syncing() {
            d = d.min(SIM_TICK);
        }
        if self.rec.drbd.probing() {
            d = d.min(crate::sim_net::PROBE_EVERY);
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
        let (queue, out) = mpsc::channel(4);
        tokio::spawn(write_loop(writer, out));
        self.writer = Some(queue);
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
        let probed = self.rec.drbd.probe().await;
        let ticked = self.rec.drbd.tick();
        if self.dirty || retry_due || ticked || probed {
            self.dirty = false;
            let report = self.rec.pass(now).await;
            self.send(ToController::Report(Box::new(report))).await;
        }
    }

    async fn send(&mut self, m: ToController) {
        let Some(w) = self.writer.as_ref() else {
            return;
        };
        if w.send(m).await.is_err() {
            // The writer task ended: its send failed (and said why).
            self.writer = None;
            self.inbox = None;
        }
    }
}
