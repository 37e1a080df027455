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
//! * peers named in the configuration are connected and Established (peer disks UpToDate or
//!   Diskless), except while the local volume syncs (SyncTarget);
//! * quorum holds while the resource is up (partitions are not simulated here);
//! * `down` removes the resource; `resize` keeps the states.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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

    /// `drbdadm adjust`: up with `digest`; volumes not up yet start as `start` says.
    pub fn adjust(
        &mut self,
        rsc: &str,
        digest: u64,
        volumes: &BTreeMap<u16, (u32, SimStart)>,
        peers: Vec<SimPeer>,
    ) -> std::io::Result<()> {
        let old = self.resources.remove(rsc);
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

    /// Advances every running sync by [`SYNC_STEP`]; true if anything changed.
    pub fn tick(&mut self) -> std::io::Result<bool> {
        let mut changed = Vec::new();
        for (name, r) in &mut self.resources {
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

fn resource_lines(name: &str, r: &SimResource, out: &mut Vec<String>) {
    let syncing = r.volumes.values().any(|v| v.done.is_some());
    out.push(format!(
        "exists resource name:{name} role:Secondary suspended:no force-io-failures:no \
         may_promote:{} promotion_score:10102",
        if syncing { "no" } else { "yes" }
    ));
    for (nr, v) in &r.volumes {
        out.push(format!(
            "exists device name:{name} volume:{nr} minor:{} disk:{} client:no quorum:yes",
            v.minor, v.disk,
        ));
    }
    for p in &r.peers {
        out.push(format!(
            "exists connection name:{name} peer-node-id:{} conn-name:{} connection:Connected \
             role:Secondary",
            p.node_id, p.name
        ));
        for (nr, v) in &r.volumes {
            let (repl, done) = match v.done {
                Some(d) if !p.diskless => ("SyncTarget", format!(" done:{d:.2}")),
                _ => ("Established", String::new()),
            };
            let peer_disk = if p.diskless { "Diskless" } else { "UpToDate" };
            out.push(format!(
                "exists peer-device name:{name} peer-node-id:{} conn-name:{} volume:{nr} \
                 replication:{repl} peer-disk:{peer_disk} peer-client:{} \
                 resync-suspended:no{done}",
                p.node_id,
                p.name,
                if p.diskless { "yes" } else { "no" },
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
}
