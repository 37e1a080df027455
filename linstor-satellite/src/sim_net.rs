//! The network side of the SIMULATED DRBD kernel ([`crate::sim_drbd`]): which peers this node
//! reaches, found over the real network.
//!
//! For every simulated resource that is up and has peers on other IP addresses, the node
//! listens on its own DRBD address:port for the resource (accepting and closing, as a port
//! that answers), and every [`PROBE_EVERY`] tries a TCP connect to each such peer's
//! address:port (at most [`PROBE_TIMEOUT`]). A peer that answers is reached; the set of
//! peers reached goes into [`SimKernel::set_reachable`] (a pure state update that decides the
//! connection states and quorum). Peers on the node's own IP address are not probed: on one
//! host there is no network between them to cut (and their ports may coincide).
//!
//! A listener that cannot bind (the address is not on this host, the port is taken) is
//! retried at the next probe; then the peers see this node as away, as they would a DRBD
//! that cannot listen.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::sim_drbd::SimKernel;

/// How often peers are probed.
pub const PROBE_EVERY: Duration = Duration::from_millis(500);
/// How long one connect may take before the peer counts as away.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(300);

/// The listeners and the time of the last probe.
#[derive(Debug, Default)]
pub struct SimNet {
    listeners: BTreeMap<String, (SocketAddr, JoinHandle<()>)>,
    last: Option<Instant>,
}

impl Drop for SimNet {
    fn drop(&mut self) {
        for (_, (_, task)) in std::mem::take(&mut self.listeners) {
            task.abort();
        }
    }
}

/// Per resource: its own address and the peers to reach (name, address).
pub type Targets = BTreeMap<String, (SocketAddr, Vec<(String, SocketAddr)>)>;

/// What to probe.
pub fn targets(k: &SimKernel) -> Targets {
    let mut out = BTreeMap::new();
    for name in k.names() {
        let Some(r) = k.get(name) else { continue };
        let peers: Vec<(String, SocketAddr)> =
            r.probed_peers().map(|(n, a)| (n.to_owned(), a)).collect();
        if let (Some(own), false) = (r.local.address, peers.is_empty()) {
            out.insert(name.clone(), (own, peers));
        }
    }
    out
}

impl SimNet {
    /// True if some resource of `k` has peers to probe.
    pub fn wanted(k: &SimKernel) -> bool {
        !targets(k).is_empty()
    }

    /// Probes when a probe is due; true if any peer's reachability changed.
    pub async fn probe(&mut self, k: &mut SimKernel) -> bool {
        if self.last.is_some_and(|t| t.elapsed() < PROBE_EVERY) {
            return false;
        }
        self.last = Some(Instant::now());
        let targets = targets(k);
        self.listen(&targets);
        let reached = reach(&targets).await;
        let mut changed = false;
        for name in targets.keys() {
            let empty = BTreeSet::new();
            let set = reached.get(name).unwrap_or(&empty);
            match k.set_reachable(name, set) {
                Ok(c) => changed |= c,
                Err(e) => tracing::warn!(rsc = %name, "cannot save the simulated state: {e}"),
            }
        }
        changed
    }

    /// Keeps one listener per resource to probe, on its own address.
    fn listen(&mut self, targets: &Targets) {
        self.listeners.retain(|name, (addr, task)| {
            let keep = targets.get(name).is_some_and(|(own, _)| own == addr) && !task.is_finished();
            if !keep {
                task.abort();
            }
            keep
        });
        for (name, (own, _)) in targets {
            if self.listeners.contains_key(name) {
                continue;
            }
            match std::net::TcpListener::bind(own).and_then(|l| {
                l.set_nonblocking(true)?;
                TcpListener::from_std(l)
            }) {
                Ok(l) => {
                    let task = tokio::spawn(accept_loop(l));
                    self.listeners.insert(name.clone(), (*own, task));
                }
                Err(e) => {
                    tracing::debug!(rsc = %name, "simulated DRBD cannot listen on {own}: {e}")
                }
            }
        }
    }
}

/// Accepts and closes: the port answers, nothing is exchanged.
async fn accept_loop(l: TcpListener) {
    while let Ok((s, _)) = l.accept().await {
        drop(s);
    }
}

/// Connects to every peer at once; per resource, the names of the peers that answered.
async fn reach(targets: &Targets) -> BTreeMap<String, BTreeSet<String>> {
    let mut set = JoinSet::new();
    for (rsc, (_, peers)) in targets {
        for (peer, addr) in peers {
            let (rsc, peer, addr) = (rsc.clone(), peer.clone(), *addr);
            set.spawn(async move {
                let ok = tokio::time::timeout(PROBE_TIMEOUT, TcpStream::connect(addr))
                    .await
                    .is_ok_and(|r| r.is_ok());
                (rsc, peer, ok)
            });
        }
    }
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    while let Some(r) = set.join_next().await {
        if let Ok((rsc, peer, true)) = r {
            out.entry(rsc).or_default().insert(peer);
        }
    }
    out
}
