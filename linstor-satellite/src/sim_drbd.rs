//! SIMULATED DRBD kernel state, for hosts without the DRBD module (`--simulate-drbd`).
//!
//! What the kernel would hold — which resources are up with which configuration, each local
//! volume's disk state and sync progress, the connections to peers — is kept here and written
//! to `<state dir>/simulated-drbd/<resource>.json` whenever that resource changes (one small
//! file per resource, so a change costs the same with one resource up or a thousand), so it
//! outlives a satellite restart the way kernel state does. Everything reported from it is
//! labelled simulated.
//!
//! The state is exposed as `drbdsetup events2` lines ([`SimKernel::events2`]), which the
//! satellite feeds through `linstor-drbd`'s events2 parser and tracker exactly like real
//! output: the status summary the controller sees comes out of the same code either way.
//!
//! Behaviour (modelled on DRBD 9 with LINSTOR's day-0 generation ids):
//! * `adjust` brings the resource up; a new diskful volume whose metadata carries day-0
//!   generation ids (thin-backed, or the initial-sync winner) is UpToDate at once; a thick
//!   loser starts Inconsistent and syncs from its peers, [`SYNC_STEP`] percent per
//!   [`SimKernel::tick`]; a diskless volume is Diskless;
//! * a peer named in the configuration is Connected and Established (peer disks UpToDate or
//!   Diskless; SyncTarget while the local volume syncs) unless it is *away*: then it is
//!   `Connecting` with replication `Off` and peer disk `DUnknown`, as DRBD reports a peer it
//!   cannot reach. Which peers are away is fed in by the satellite's IO layer
//!   ([`crate::sim_net`]: a TCP probe of each peer's DRBD address:port over the real network,
//!   [`SimKernel::set_reachable`]); a peer on the node's own IP address is never away (one host:
//!   no network between them to cut);
//! * quorum ([`SimResource::has_quorum`]) is the core's partition rule applied to this node's
//!   side of the network — itself and the peers it reaches — by calling
//!   [`linstor_core::quorum::may_write`], so the simulation and the core agree by construction
//!   (`quorum off`: always yes). A device without quorum reports `quorum:no`, the resource
//!   `may_promote:no`, and [`SimKernel::promote`] (the simulated `drbdsetup primary`) refuses;
//!   a resync stops while no diskful peer is reachable;
//! * `down` removes the resource; `resize` keeps the states.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use linstor_core::NodeName;
use linstor_core::quorum::{Member, QuorumPolicy, Role, may_write};
use serde::{Deserialize, Serialize};

/// Percent of a simulated resync done per tick.
pub const SYNC_STEP: f64 = 25.0;

/// One simulated peer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimPeer {
    /// DRBD node id.
    pub node_id: u8,
    /// Name (`conn-name`).
    pub name: String,
    /// Whether the peer is diskless.
    pub diskless: bool,
    /// Whether the peer is a DRBD client (diskless, no vote).
    #[serde(default)]
    pub client: bool,
    /// The peer's DRBD address:port for this resource.
    #[serde(default)]
    pub address: Option<SocketAddr>,
}

/// One simulated local volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimVolume {
    /// Minor.
    pub minor: u32,
    /// `UpToDate`, `Inconsistent` or `Diskless`.
    pub disk: String,
    /// Sync progress while Inconsistent.
    pub done: Option<f64>,
}

/// One simulated resource that is up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimResource {
    /// Digest of the configuration applied.
    pub digest: u64,
    /// Local volumes.
    pub volumes: BTreeMap<u16, SimVolume>,
    /// Peers.
    pub peers: Vec<SimPeer>,
    /// This node's side of the configuration (name, address, quorum policy).
    #[serde(default)]
    pub local: SimLocal,
    /// Names of the peers the last probe did not reach.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub away: BTreeSet<String>,
}

/// This node in a simulated resource's configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SimLocal {
    /// The node's name (uname).
    pub node: String,
    /// Whether this node is a DRBD client (no vote).
    pub client: bool,
    /// This node's DRBD address:port for the resource.
    pub address: Option<SocketAddr>,
    /// The `quorum` option as configured (`None`: off).
    pub quorum: Option<String>,
}

impl SimResource {
    /// The peers reached over the network (address on another IP); the others are never away.
    pub fn probed_peers(&self) -> impl Iterator<Item = (&str, SocketAddr)> {
        let own = self.local.address.map(|a| a.ip());
        self.peers.iter().filter_map(move |p| match p.address {
            Some(a) if Some(a.ip()) != own => Some((p.name.as_str(), a)),
            _ => None,
        })
    }

    /// True if any local volume has a disk.
    fn diskful(&self) -> bool {
        self.volumes.values().any(|v| v.disk != "Diskless")
    }

    /// The resource's members as the core's quorum rule sees them (this node included).
    pub fn members(&self) -> Vec<Member> {
        let role = |diskless: bool, client: bool| match (diskless, client) {
            (false, _) => Role::Diskful,
            (true, true) => Role::Client,
            (true, false) => Role::Diskless,
        };
        let me = (
            self.local.node.as_str(),
            role(!self.diskful(), self.local.client),
        );
        let peers = self
            .peers
            .iter()
            .map(|p| (p.name.as_str(), role(p.diskless, p.client)));
        std::iter::once(me)
            .chain(peers)
            .filter_map(|(n, role)| {
                Some(Member {
                    node: NodeName::new(n).ok()?,
                    role,
                })
            })
            .collect()
    }

    /// This node's side of the network: itself and every peer not away.
    pub fn side(&self) -> BTreeSet<NodeName> {
        std::iter::once(self.local.node.as_str())
            .chain(self.peers.iter().map(|p| p.name.as_str()))
            .filter(|n| !self.away.contains(*n))
            .filter_map(|n| NodeName::new(n).ok())
            .collect()
    }

    /// DRBD's quorum flag: the core's [`may_write`] for this node's side (`off`: yes).
    pub fn has_quorum(&self) -> bool {
        let policy = self
            .local
            .quorum
            .as_deref()
            .and_then(QuorumPolicy::parse)
            .unwrap_or(QuorumPolicy::Off);
        policy == QuorumPolicy::Off || may_write(&self.members(), policy, &self.side())
    }

    /// True if some diskful peer is reachable (a resync source).
    fn source_reachable(&self) -> bool {
        self.peers
            .iter()
            .any(|p| !p.diskless && !self.away.contains(&p.name))
    }
}

/// How a volume comes up at its first `adjust`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimStart {
    /// Day-0 generation ids: UpToDate without a sync.
    UpToDate,
    /// A full sync from the peers.
    Sync,
    /// No local disk.
    Diskless,
}

/// The simulated kernel of one node.
#[derive(Debug)]
pub struct SimKernel {
    dir: PathBuf,
    resources: BTreeMap<String, SimResource>,
}

/// The directory of the state files, under the state directory.
pub const STATE_DIR: &str = "simulated-drbd";

impl SimKernel {
    /// Loads the state kept in `state_dir` (none: nothing is up).
    pub fn load(state_dir: &Path) -> std::io::Result<SimKernel> {
        let dir = state_dir.join(STATE_DIR);
        let mut resources = BTreeMap::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => Some(e),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        for entry in entries.into_iter().flatten() {
            let path = entry?.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            // A file that does not read (cut short by a crash mid-write) is not up.
            if let Ok(r) = serde_json::from_slice(&std::fs::read(&path)?) {
                resources.insert(name.to_owned(), r);
            }
        }
        Ok(SimKernel { dir, resources })
    }

    fn file(&self, rsc: &str) -> PathBuf {
        self.dir.join(format!("{rsc}.json"))
    }

    /// Writes one resource's state (or removes it, when it is down).
    fn save(&self, rsc: &str) -> std::io::Result<()> {
        let path = self.file(rsc);
        let Some(r) = self.resources.get(rsc) else {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        };
        std::fs::create_dir_all(&self.dir)?;
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_vec(r).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)
    }

    /// The resource, if it is up.
    pub fn get(&self, rsc: &str) -> Option<&SimResource> {
        self.resources.get(rsc)
    }

    /// Names of the resources that are up.
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.resources.keys()
    }

    /// `drbdadm adjust` without network details (every peer reachable, quorum off).
    pub fn adjust(
        &mut self,
        rsc: &str,
        digest: u64,
        volumes: &BTreeMap<u16, (u32, SimStart)>,
        peers: Vec<SimPeer>,
    ) -> std::io::Result<()> {
        self.adjust_with(rsc, digest, volumes, peers, SimLocal::default())
    }

    /// `drbdadm adjust`: up with `digest`; volumes not up yet start as `start` says; peers that
    /// were away stay away until the next probe.
    pub fn adjust_with(
        &mut self,
        rsc: &str,
        digest: u64,
        volumes: &BTreeMap<u16, (u32, SimStart)>,
        peers: Vec<SimPeer>,
        local: SimLocal,
    ) -> std::io::Result<()> {
        let old = self.resources.remove(rsc);
        let mut away = old.as_ref().map(|o| o.away.clone()).unwrap_or_default();
        away.retain(|n| peers.iter().any(|p| p.name == *n));
        let mut vols = BTreeMap::new();
        for (nr, (minor, start)) in volumes {
            let kept = old.as_ref().and_then(|o| o.volumes.get(nr)).cloned();
            let fresh = || match start {
                SimStart::UpToDate => vol(*minor, "UpToDate", None),
                SimStart::Sync => vol(*minor, "Inconsistent", Some(0.0)),
                SimStart::Diskless => vol(*minor, "Diskless", None),
            };
            let v = match kept {
                Some(k) if (k.disk == "Diskless") == (*start == SimStart::Diskless) => k,
                _ => fresh(),
            };
            vols.insert(*nr, v);
        }
        let r = SimResource {
            digest,
            volumes: vols,
            peers,
            local,
            away,
        };
        self.resources.insert(rsc.to_owned(), r);
        self.save(rsc)
    }

    /// `drbdsetup down`.
    pub fn down(&mut self, rsc: &str) -> std::io::Result<()> {
        if self.resources.remove(rsc).is_some() {
            self.save(rsc)?;
        }
        Ok(())
    }

    /// Records which probed peers of `rsc` were reached (the others are away); true if that
    /// changed anything.
    pub fn set_reachable(
        &mut self,
        rsc: &str,
        reached: &BTreeSet<String>,
    ) -> std::io::Result<bool> {
        let Some(r) = self.resources.get_mut(rsc) else {
            return Ok(false);
        };
        let away: BTreeSet<String> = r
            .probed_peers()
            .map(|(n, _)| n.to_owned())
            .filter(|n| !reached.contains(n))
            .collect();
        if away == r.away {
            return Ok(false);
        }
        r.away = away;
        self.save(rsc)?;
        Ok(true)
    }

    /// The simulated `drbdsetup primary`: refused while the resource is down or without quorum
    /// (the side of a partition without quorum never writes).
    pub fn promote(&self, rsc: &str) -> Result<(), String> {
        match self.resources.get(rsc) {
            None => Err(format!("{rsc}: Unknown resource")),
            Some(r) if !r.has_quorum() => {
                Err(format!("{rsc}: State change failed: (-23) No quorum"))
            }
            Some(_) => Ok(()),
        }
    }

    /// Advances every running sync that has a reachable source by [`SYNC_STEP`]; true if
    /// anything changed.
    pub fn tick(&mut self) -> std::io::Result<bool> {
        let mut changed = Vec::new();
        for (name, r) in &mut self.resources {
            if !r.source_reachable() {
                continue;
            }
            let mut any = false;
            for v in r.volumes.values_mut() {
                if let Some(d) = v.done {
                    any = true;
                    let d = d + SYNC_STEP;
                    if d >= 100.0 {
                        v.done = None;
                        v.disk = "UpToDate".to_owned();
                    } else {
                        v.done = Some(d);
                    }
                }
            }
            if any {
                changed.push(name.clone());
            }
        }
        for name in &changed {
            self.save(name)?;
        }
        Ok(!changed.is_empty())
    }

    /// True while some volume syncs.
    pub fn syncing(&self) -> bool {
        self.resources
            .values()
            .any(|r| r.volumes.values().any(|v| v.done.is_some()))
    }

    /// The state as an `events2` initial dump (`exists …` lines, ending with `exists -`).
    pub fn events2(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, r) in &self.resources {
            resource_lines(name, r, &mut out);
        }
        out.push("exists -".to_owned());
        out
    }
}

fn vol(minor: u32, disk: &str, done: Option<f64>) -> SimVolume {
    SimVolume {
        minor,
        disk: disk.to_owned(),
        done,
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn resource_lines(name: &str, r: &SimResource, out: &mut Vec<String>) {
    let syncing = r.volumes.values().any(|v| v.done.is_some());
    let quorum = r.has_quorum();
    out.push(format!(
        "exists resource name:{name} role:Secondary suspended:no force-io-failures:no \
         may_promote:{} promotion_score:10102",
        yes_no(!syncing && quorum)
    ));
    for (nr, v) in &r.volumes {
        out.push(format!(
            "exists device name:{name} volume:{nr} minor:{} disk:{} client:no quorum:{}",
            v.minor,
            v.disk,
            yes_no(quorum),
        ));
    }
    for p in &r.peers {
        let away = r.away.contains(&p.name);
        let (conn, role) = if away {
            ("Connecting", "Unknown")
        } else {
            ("Connected", "Secondary")
        };
        out.push(format!(
            "exists connection name:{name} peer-node-id:{} conn-name:{} connection:{conn} \
             role:{role}",
            p.node_id, p.name
        ));
        for (nr, v) in &r.volumes {
            let (repl, done) = match v.done {
                _ if away => ("Off", String::new()),
                Some(d) if !p.diskless => ("SyncTarget", format!(" done:{d:.2}")),
                _ => ("Established", String::new()),
            };
            let peer_disk = match (away, p.diskless) {
                (true, _) => "DUnknown",
                (false, true) => "Diskless",
                (false, false) => "UpToDate",
            };
            out.push(format!(
                "exists peer-device name:{name} peer-node-id:{} conn-name:{} volume:{nr} \
                 replication:{repl} peer-disk:{peer_disk} peer-client:{} \
                 resync-suspended:no{done}",
                p.node_id,
                p.name,
                yes_no(p.diskless),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linstor_drbd::state::{ResourceStatus, Tracker};

    fn status(k: &SimKernel, rsc: &str) -> ResourceStatus {
        let mut t = Tracker::new();
        for l in k.events2() {
            t.feed_line(&l).unwrap();
        }
        assert!(t.is_ready());
        assert_eq!(t.malformed_lines(), 0);
        ResourceStatus::of(t.resource(rsc).unwrap())
    }

    #[test]
    fn a_thick_loser_syncs_then_is_up_to_date_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let mut k = SimKernel::load(dir.path()).unwrap();
        let vols = BTreeMap::from([(0, (1000, SimStart::Sync))]);
        let peers = vec![SimPeer {
            node_id: 1,
            name: "beta".into(),
            diskless: false,
            client: false,
            address: None,
        }];
        k.adjust("r0", 7, &vols, peers.clone()).unwrap();
        assert_eq!(status(&k, "r0").summary(), "SyncTarget 0.00% from beta");
        k.tick().unwrap();
        assert!(status(&k, "r0").summary().contains("25.00%"));
        let mut k = SimKernel::load(dir.path()).unwrap();
        for _ in 0..3 {
            k.tick().unwrap();
        }
        assert!(!k.syncing());
        assert_eq!(status(&k, "r0").summary(), "UpToDate");
        // A second adjust keeps the state; down removes it.
        k.adjust("r0", 8, &vols, peers).unwrap();
        assert_eq!(k.get("r0").unwrap().volumes[&0].disk, "UpToDate");
        k.down("r0").unwrap();
        assert!(SimKernel::load(dir.path()).unwrap().get("r0").is_none());
    }

    fn addr(ip: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip.parse().unwrap(), 7000))
    }

    fn peer(id: u8, name: &str, diskless: bool, client: bool, ip: &str) -> SimPeer {
        SimPeer {
            node_id: id,
            name: name.into(),
            diskless,
            client,
            address: addr(ip),
        }
    }

    /// alpha (diskful) with beta (diskful), gamma (tiebreaker) and delta (client), quorum
    /// `policy`; delta shares alpha's IP.
    fn four(dir: &Path, policy: Option<&str>) -> SimKernel {
        let mut k = SimKernel::load(dir).unwrap();
        let vols = BTreeMap::from([(0, (1000, SimStart::UpToDate))]);
        let peers = vec![
            peer(1, "beta", false, false, "10.9.0.2"),
            peer(2, "gamma", true, false, "10.9.0.3"),
            peer(3, "delta", true, true, "10.9.0.1"),
        ];
        let local = SimLocal {
            node: "alpha".into(),
            client: false,
            address: addr("10.9.0.1"),
            quorum: policy.map(str::to_owned),
        };
        k.adjust_with("r0", 1, &vols, peers, local).unwrap();
        k
    }

    /// For every set of reached peers: the connection states, DRBD's quorum flag, the
    /// simulated promotion and the core's partition rule agree.
    #[test]
    fn quorum_follows_the_peers_reached_and_agrees_with_the_core() {
        use linstor_core::quorum::may_write;
        let dir = tempfile::tempdir().unwrap();
        let mut k = four(dir.path(), Some("majority"));
        let probed: Vec<&str> = k
            .get("r0")
            .unwrap()
            .probed_peers()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            probed,
            ["beta", "gamma"],
            "delta is on alpha's IP: never probed"
        );
        // (reached, quorum): voters alpha, beta, gamma; a majority is 2 of 3.
        let table: [(&[&str], bool); 4] = [
            (&[], false),
            (&["beta"], true),
            (&["gamma"], true),
            (&["beta", "gamma"], true),
        ];
        for (reached, quorum) in table {
            let set = reached.iter().map(|s| (*s).to_owned()).collect();
            k.set_reachable("r0", &set).unwrap();
            let r = k.get("r0").unwrap();
            assert_eq!(r.has_quorum(), quorum, "{reached:?}");
            assert_eq!(
                may_write(&r.members(), QuorumPolicy::Majority, &r.side()),
                quorum
            );
            assert_eq!(k.promote("r0").is_ok(), quorum, "{reached:?}");
            let st = status(&k, "r0");
            assert_eq!(st.quorum, Some(quorum));
            let summary = st.summary();
            for p in ["beta", "gamma"] {
                let away = !reached.contains(&p);
                assert_eq!(
                    summary.contains(&format!("{p}: Connecting")),
                    away,
                    "{summary}"
                );
            }
            assert_eq!(summary.contains("no quorum"), !quorum, "{summary}");
        }
        // The state file keeps who is away.
        let k = SimKernel::load(dir.path()).unwrap();
        assert!(k.get("r0").unwrap().away.is_empty());
    }

    /// Quorum off: always yes; an unknown resource cannot be promoted.
    #[test]
    fn without_a_quorum_policy_an_isolated_node_keeps_quorum() {
        let dir = tempfile::tempdir().unwrap();
        let mut k = four(dir.path(), None);
        k.set_reachable("r0", &BTreeSet::new()).unwrap();
        assert!(k.get("r0").unwrap().has_quorum());
        assert!(k.promote("r0").is_ok());
        assert!(k.promote("r1").is_err());
    }

    /// A resync waits while no diskful peer is reachable.
    #[test]
    fn a_resync_waits_for_a_reachable_source() {
        let dir = tempfile::tempdir().unwrap();
        let mut k = SimKernel::load(dir.path()).unwrap();
        let vols = BTreeMap::from([(0, (1000, SimStart::Sync))]);
        let peers = vec![peer(1, "beta", false, false, "10.9.0.2")];
        let local = SimLocal {
            node: "alpha".into(),
            address: addr("10.9.0.1"),
            ..SimLocal::default()
        };
        k.adjust_with("r0", 1, &vols, peers, local).unwrap();
        k.set_reachable("r0", &BTreeSet::new()).unwrap();
        assert!(!k.tick().unwrap());
        k.set_reachable("r0", &BTreeSet::from(["beta".to_owned()]))
            .unwrap();
        assert!(k.tick().unwrap());
    }
}
