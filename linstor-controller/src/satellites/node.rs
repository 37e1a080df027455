//! One node's link: connect, authenticate, send projections, apply reports, reconnect.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use linstor_core::NodeName;
use linstor_core::cluster::Command;
use linstor_core::model::ConnectionStatus;
use linstor_core::projection::NodeProjection;
use linstor_link::{ClusterKey, Link, LinkConfig, LinkError};
use linstor_proto::{SatelliteReport, ToController, ToSatellite};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

use crate::engine::Engine;

/// Heartbeat interval when nothing else is sent.
const HEARTBEAT: Duration = Duration::from_secs(2);
/// A satellite silent this long is gone.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connect timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Back-off between connection attempts.
const RETRY_MIN: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(5);
/// Commits arriving within this window are sent as one projection.
const COALESCE: Duration = Duration::from_millis(2);

/// A byte stream (TCP or TLS).
pub trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

type Stream = Box<dyn Io>;
type CtlLink = Link<ToSatellite, ToController, Stream>;

/// One node's link task.
pub struct NodeLink {
    /// The cluster's owner.
    pub engine: Engine,
    /// Where questions for the node arrive.
    pub hub: Arc<super::hub::Hub>,
    /// Where the node's failures are recorded.
    pub reports: Arc<crate::reports::ErrorReports>,
    /// The cluster key.
    pub key: Arc<ClusterKey>,
    /// The node.
    pub node: NodeName,
    /// Its satellite's address.
    pub addr: SocketAddr,
    /// `Some` if the node's net interface says SSL: then the CA's connector, if configured.
    pub tls: Option<Option<Arc<linstor_link::TlsConnector>>>,
    /// The status last reported to the core (`None` before the first).
    pub status: Option<ConnectionStatus>,
}

impl std::fmt::Debug for NodeLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeLink")
            .field("node", &self.node)
            .field("addr", &self.addr)
            .field("tls", &self.tls.is_some())
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl NodeLink {
    /// Connects and serves until aborted.
    pub async fn run(mut self, changes: watch::Receiver<u64>) {
        let mut delay = RETRY_MIN;
        loop {
            match self.connect().await {
                Ok(link) => {
                    delay = RETRY_MIN;
                    self.set_status(ConnectionStatus::CONNECTED).await;
                    let why = Session::new(&self, link, changes.clone()).run().await;
                    tracing::warn!(node = %self.node, "satellite link lost: {why}");
                }
                Err(
                    e @ (LinkError::Tls(_)
                    | LinkError::AuthFailed { .. }
                    | LinkError::Refused { .. }
                    | LinkError::VersionMismatch { .. }),
                ) => {
                    tracing::warn!(node = %self.node, addr = %self.addr, "satellite link refused: {e}");
                }
                Err(e) => {
                    tracing::debug!(node = %self.node, addr = %self.addr, "cannot reach the satellite: {e}");
                }
            }
            self.set_status(ConnectionStatus::OFFLINE).await;
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(RETRY_MAX);
        }
    }

    async fn connect(&self) -> Result<CtlLink, LinkError> {
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(self.addr))
            .await
            .map_err(|_| {
                LinkError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "connect timed out",
                ))
            })??;
        let _ = tcp.set_nodelay(true);
        let cfg = LinkConfig::default();
        let stream: Stream = match &self.tls {
            None => Box::new(tcp),
            Some(None) => {
                return Err(LinkError::Tls(format!(
                    "node '{}' is reached over SSL, but the controller has no CA for satellite \
                     certificates: start it with --satellite-ca FILE",
                    self.node
                )));
            }
            Some(Some(c)) => {
                let host = self.addr.ip().to_string();
                let t = linstor_link::connect_tls(c, &host, tcp, cfg.handshake_timeout).await?;
                Box::new(t)
            }
        };
        Link::connect(stream, &self.key, &cfg, self.node.as_str()).await
    }

    async fn set_status(&mut self, s: ConnectionStatus) {
        if self.status == Some(s) {
            return;
        }
        self.status = Some(s);
        let cmd = Command::NodeReport {
            node: self.node.to_string(),
            connection: s,
            capabilities: None,
        };
        let _ = self.engine.submit(vec![cmd]).await;
    }
}

/// One connected link.
struct Session<'a> {
    link: &'a NodeLink,
    writer: linstor_link::LinkWriter<ToSatellite, tokio::io::WriteHalf<Stream>>,
    inbox: mpsc::Receiver<Result<ToController, LinkError>>,
    reader: tokio::task::JoinHandle<()>,
    changes: watch::Receiver<u64>,
    generation: u64,
    sent: Option<NodeProjection>,
    last: Option<SatelliteReport>,
    asks: mpsc::Receiver<super::hub::Ask>,
    pending: BTreeMap<u64, tokio::sync::oneshot::Sender<linstor_proto::SatAnswer>>,
    next_id: u64,
    failed: BTreeSet<(String, String)>,
    /// The generation the satellite reported last.
    reported: u64,
    /// Commits arrived while the satellite still worked on the projection sent.
    held: bool,
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        self.reader.abort();
        self.link.hub.unregister(&self.link.node);
    }
}

impl<'a> Session<'a> {
    fn new(link: &'a NodeLink, l: CtlLink, changes: watch::Receiver<u64>) -> Self {
        let (mut reader, writer) = l.into_split();
        let (tx, inbox) = mpsc::channel(16);
        let reader = tokio::spawn(async move {
            loop {
                let m = reader.recv_timeout(IDLE_TIMEOUT).await;
                let stop = m.is_err();
                if tx.send(m).await.is_err() || stop {
                    return;
                }
            }
        });
        let (ask_tx, asks) = mpsc::channel(8);
        link.hub.register(&link.node, ask_tx);
        Session {
            link,
            writer,
            inbox,
            reader,
            changes,
            generation: 0,
            sent: None,
            last: None,
            asks,
            pending: BTreeMap::new(),
            next_id: 0,
            failed: BTreeSet::new(),
            reported: 0,
            held: false,
        }
    }

    /// True while the satellite has not yet reported the projection last sent: it works on
    /// it, and takes only the latest of several anyway, so later commits wait and go out as
    /// one projection with its report (a thousand spawns during one long pass cost one
    /// projection, not a thousand).
    fn busy(&self) -> bool {
        self.sent.is_some() && self.reported < self.generation
    }

    /// Serves until the link fails; returns why.
    async fn run(mut self) -> LinkError {
        if let Err(e) = self.push().await {
            return e;
        }
        loop {
            tokio::select! {
                c = self.changes.changed() => {
                    if c.is_err() {
                        return LinkError::Closed;
                    }
                    tokio::time::sleep(COALESCE).await;
                    self.changes.borrow_and_update();
                    if self.busy() {
                        self.held = true;
                    } else if let Err(e) = self.push().await {
                        return e;
                    }
                }
                a = self.asks.recv() => {
                    let Some(a) = a else { return LinkError::Closed };
                    self.next_id += 1;
                    let msg = ToSatellite::Request { id: self.next_id, request: a.request };
                    if let Err(e) = self.writer.send(&msg).await {
                        return e;
                    }
                    self.pending.insert(self.next_id, a.reply);
                }
                m = self.inbox.recv() => match m {
                    Some(Ok(ToController::Report(r))) => {
                        self.reported = self.reported.max(r.generation);
                        self.apply(*r).await;
                        if self.held && !self.busy() {
                            self.held = false;
                            if let Err(e) = self.push().await {
                                return e;
                            }
                        }
                    }
                    Some(Ok(ToController::Answer { id, answer })) => {
                        if let Some(reply) = self.pending.remove(&id) {
                            let _ = reply.send(answer);
                        }
                    }
                    Some(Ok(ToController::Heartbeat)) => {}
                    Some(Err(e)) => return e,
                    None => return LinkError::Closed,
                },
                () = tokio::time::sleep(HEARTBEAT) => {
                    if let Err(e) = self.writer.send(&ToSatellite::Heartbeat).await {
                        return e;
                    }
                }
            }
        }
    }

    /// Sends the node's projection if it differs from what was sent.
    async fn push(&mut self) -> Result<(), LinkError> {
        let p = {
            let c = self.link.engine.read();
            c.state().for_node(&self.link.node)
        };
        let Some(p) = p else {
            return Ok(());
        };
        if self.sent.as_ref() == Some(&p) {
            return Ok(());
        }
        self.generation += 1;
        let msg = ToSatellite::Sync {
            generation: self.generation,
            projection: Box::new(p.clone()),
        };
        self.writer.send(&msg).await?;
        self.sent = Some(p);
        Ok(())
    }

    /// Definitions the balance step may now finish, among those this report is about:
    /// reported UpToDate here while the resource on this node migrated its disk from another
    /// node (`MigrateFrom`), or with a replica anywhere being evacuated (its replacement may
    /// be in sync now; a diskless one, a tiebreaker, never reports UpToDate).
    fn balance_after(&self, cmds: &[Command]) -> Vec<String> {
        let c = self.link.engine.read();
        let state = c.state();
        let mut out: Vec<String> = cmds
            .iter()
            .filter_map(|cmd| match cmd {
                Command::RscReport {
                    rsc_dfn, state: o, ..
                } => Some((rsc_dfn, o.up_to_date)),
                _ => None,
            })
            .filter(|(rd, up_to_date)| {
                let Some(d) = linstor_core::ResourceName::new(rd)
                    .ok()
                    .and_then(|n| state.resource_definitions.get(&n))
                else {
                    return false;
                };
                let migrated_here = d
                    .resources
                    .get(&self.link.node)
                    .is_some_and(|r| r.props.get(linstor_core::keys::MIGRATE_FROM).is_some());
                let evacuating = d.resources.values().any(|r| {
                    r.flags.contains(linstor_core::model::RscFlags::EVACUATE) && !r.is_deleting()
                });
                (migrated_here && *up_to_date) || evacuating
            })
            .map(|(rd, _)| rd.clone())
            .collect();
        out.dedup();
        out
    }

    async fn apply(&mut self, r: SatelliteReport) {
        // Each failure gets one error report, when this link first sees it (later reports
        // carry it with a growing attempt count until it succeeds or is no longer wanted).
        let now: BTreeSet<(String, String)> = r
            .failures
            .iter()
            .map(|f| (f.rsc.to_string(), f.action.to_string()))
            .collect();
        self.failed.retain(|k| now.contains(k));
        for f in &r.failures {
            if !self
                .failed
                .insert((f.rsc.to_string(), f.action.to_string()))
            {
                continue;
            }
            tracing::warn!(node = %self.link.node, rsc = %f.rsc, "satellite action failed: {}", f.message);
            let mut text = format!("{} (resource '{}', action {})", f.message, f.rsc, f.action);
            if !f.command.is_empty() {
                let exit = f
                    .exit_code
                    .map_or_else(|| "a signal".to_owned(), |c| c.to_string());
                text.push_str(&format!(
                    "; command `{}`, exit {exit}, stderr: {}",
                    f.command.join(" "),
                    f.stderr.trim()
                ));
            }
            self.link
                .reports
                .record_satellite(self.link.node.as_str(), "action failed", &text);
        }
        let held = {
            let c = self.link.engine.read();
            c.state()
                .observed
                .nodes
                .get(&self.link.node)
                .map(|o| o.resources.clone())
                .unwrap_or_default()
        };
        let cmds = super::report::commands(&self.link.node, self.last.as_ref(), &r, &held);
        self.last = Some(r);
        if cmds.is_empty() {
            return;
        }
        let _ = self.link.engine.submit(cmds.clone()).await;
        // A disk that migrated here and is now UpToDate, or an evacuation's replacement now in
        // sync, lets the balance step delete the old replica (LINSTOR does this on the same
        // event). Read after the reports are applied, so the step sees them.
        let finish = self.balance_after(&cmds);
        if !finish.is_empty() {
            let balance = finish
                .into_iter()
                .map(|rd| Command::RscBalance { rsc_dfn: Some(rd) })
                .collect();
            let _ = self.link.engine.submit(balance).await;
        }
    }
}
