//! The DRBD layer of one node: `.res` files, metadata, and the kernel — real, missing, or
//! SIMULATED ([`crate::sim_drbd`]).
//!
//! Files and metadata are always real: `.res` files are rendered by `linstor-drbd` from the
//! projection and installed only after `drbdadm sh-nop` accepts them; metadata is written by
//! `drbdadm create-md` / `drbdmeta` on the backing device with LINSTOR's day-0 generation ids.
//! Only what needs the kernel module (`adjust`, `down`, `resize`, the state) depends on
//! [`Kernel`]: the real module, the simulation, or nothing — then those actions fail on their
//! resource with the reason and the fix.
//!
//! What was written and applied is remembered in memory only (digests per resource): after a
//! restart the plan writes and adjusts again, which finds everything in place (idempotent).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use linstor_backends::runner::{Cmd, CommandRunner};
use linstor_core::keys;
use linstor_core::model::ProviderKind;
use linstor_core::plan::{Copies, LocalDrbd};
use linstor_core::projection::NodeProjection;
use linstor_core::{ResourceName, StorPoolName};
use linstor_drbd::commands::{AdjustOpts, Drbd, Gi, InitialGi, MetaDev, VolumeInit};
use linstor_drbd::events2::DiskState;
use linstor_drbd::files::ResFileStore;
use linstor_drbd::state::{ResourceStatus, Tracker};
use linstor_drbd::{DrbdVersion, DrbdVersions, NodeRole, OptionWhitelist, ResConfig};

use crate::error::SatError;
use crate::sim_drbd::{SimKernel, SimLocal, SimPeer, SimStart};
use crate::sim_net::SimNet;
use crate::startup::SIMULATED_DRBD;

/// Who runs the DRBD resources of this node.
#[derive(Debug)]
pub enum Kernel {
    /// The DRBD 9 kernel module.
    Real,
    /// The simulation (`--simulate-drbd`).
    Simulated(SimKernel),
    /// Neither: why the module cannot be used.
    Missing(Vec<String>),
}

/// The DRBD layer (see the module docs).
#[derive(Debug)]
pub struct DrbdLayer {
    runner: Arc<dyn CommandRunner>,
    conf: PathBuf,
    store: ResFileStore,
    /// The kernel side.
    pub kernel: Kernel,
    versions: DrbdVersions,
    written: BTreeMap<ResourceName, u64>,
    applied: BTreeMap<ResourceName, u64>,
    metadata: BTreeMap<(ResourceName, u16), (StorPoolName, InitialGi)>,
    tracker: Tracker,
    sim_net: SimNet,
}

/// One local volume as the DRBD layer needs it.
#[derive(Debug, Clone)]
pub struct LocalDisk {
    /// Backing block device.
    pub device: PathBuf,
    /// Its pool.
    pub pool: StorPoolName,
    /// Its pool's kind.
    pub kind: ProviderKind,
}

impl DrbdLayer {
    /// The layer with `.res` files in `drbd_dir` and drbdadm's configuration
    /// (`include "<drbd_dir>/*.res";`) written to `state_dir/drbd.conf`.
    pub fn new(
        runner: Arc<dyn CommandRunner>,
        drbd_dir: &Path,
        state_dir: &Path,
        kernel: Kernel,
        versions: DrbdVersions,
    ) -> Result<DrbdLayer, SatError> {
        let conf = state_dir.join("drbd.conf");
        let text = format!("include \"{}/*.res\";\n", drbd_dir.display());
        std::fs::create_dir_all(drbd_dir).map_err(|e| SatError::io("create", drbd_dir, e))?;
        std::fs::create_dir_all(state_dir).map_err(|e| SatError::io("create", state_dir, e))?;
        std::fs::write(&conf, text).map_err(|e| SatError::io("write", &conf, e))?;
        Ok(DrbdLayer {
            runner,
            conf,
            store: ResFileStore::new(drbd_dir),
            kernel,
            versions,
            written: BTreeMap::new(),
            applied: BTreeMap::new(),
            metadata: BTreeMap::new(),
            tracker: Tracker::new(),
            sim_net: SimNet::default(),
        })
    }

    /// True if the kernel side is simulated.
    pub fn simulated(&self) -> bool {
        matches!(self.kernel, Kernel::Simulated(_))
    }

    /// drbd-utils acting as the projection's node (`__DRBD_NODE__` = its uname).
    /// Without the kernel module the tools skip their kernel queries
    /// ([`Drbd::without_kernel`], [`Drbd::simulating_kernel`]).
    fn tools(&self, p: &NodeProjection) -> Drbd {
        let mut tools = Drbd::new(self.runner.clone())
            .with_config(&self.conf)
            .with_env("__DRBD_NODE__", uname(p));
        if let Some(state_dir) = self.conf.parent() {
            tools = tools.with_scratch_dir(state_dir);
        }
        match self.kernel {
            Kernel::Real => tools,
            Kernel::Simulated(_) => {
                let (major, minor, patch) = SIMULATED_DRBD;
                tools.simulating_kernel(DrbdVersion::new(major.into(), minor.into(), patch.into()))
            }
            Kernel::Missing(_) => tools.without_kernel(),
        }
    }

    fn config(
        &self,
        p: &NodeProjection,
        rsc: &ResourceName,
        disks: &BTreeMap<u16, LocalDisk>,
    ) -> Result<ResConfig, SatError> {
        let devs = disks.iter().map(|(n, d)| (*n, d.device.clone())).collect();
        let generator = format!("linstor-satellite {}", env!("CARGO_PKG_VERSION"));
        Ok(ResConfig::from_projection(
            p,
            rsc,
            &devs,
            &generator,
            None,
            self.versions,
        )?)
    }

    /// Writes the resource's `.res` (checked by `drbdadm sh-nop` before it replaces the old).
    pub async fn write_res(
        &mut self,
        p: &NodeProjection,
        rsc: &ResourceName,
        digest: u64,
        disks: &BTreeMap<u16, LocalDisk>,
    ) -> Result<(), SatError> {
        let text = self
            .config(p, rsc, disks)?
            .render(OptionWhitelist::builtin())?;
        let tools = self.tools(p);
        self.store.install(rsc.as_str(), &text, &tools).await?;
        self.written.insert(rsc.clone(), digest);
        Ok(())
    }

    /// Removes the `.res` file (and forgets what this process knew of the resource).
    pub fn remove_res(&mut self, rsc: &ResourceName) -> Result<(), SatError> {
        self.store.remove(rsc.as_str())?;
        self.written.remove(rsc);
        self.metadata.retain(|(r, _), _| r != rsc);
        Ok(())
    }

    /// Writes metadata with LINSTOR's day-0 generation ids on a new backing volume (kept if
    /// it is already there).
    pub async fn create_md(
        &mut self,
        p: &NodeProjection,
        rsc: &ResourceName,
        vlm: u16,
        disks: &BTreeMap<u16, LocalDisk>,
    ) -> Result<(), SatError> {
        let cfg = self.config(p, rsc, disks)?;
        let disk = disks.get(&vlm).ok_or_else(|| SatError::Missing {
            what: format!("backing device of volume {vlm} of {rsc}"),
        })?;
        let init = volume_init(p, rsc, vlm, &cfg, disk)?;
        self.tools(p).ensure_metadata(rsc.as_str(), &init).await?;
        self.metadata
            .insert((rsc.clone(), vlm), (disk.pool.clone(), init.rule));
        Ok(())
    }

    /// Forgets the metadata of a deleted backing volume.
    pub fn volume_deleted(&mut self, rsc: &ResourceName, vlm: u16) {
        self.metadata.remove(&(rsc.clone(), vlm));
    }
}

/// The node's uname as the `.res` file names it.
pub fn uname(p: &NodeProjection) -> String {
    p.state
        .nodes
        .get(&p.node)
        .and_then(|n| n.props.get(keys::NODE_UNAME))
        .map(str::to_owned)
        .unwrap_or_else(|| p.node.to_string())
}

/// The metadata parameters of one local volume, LINSTOR's day-0 rules included: thin-backed
/// volumes get the definition's day-0 GI (no initial sync); on thick pools the diskful node
/// with the lowest node id is the initial-sync winner and the others sync from it.
fn volume_init(
    p: &NodeProjection,
    rsc: &ResourceName,
    vlm: u16,
    cfg: &ResConfig,
    disk: &LocalDisk,
) -> Result<VolumeInit, SatError> {
    let local = cfg
        .nodes
        .iter()
        .find(|n| n.uname == cfg.local_node)
        .ok_or_else(|| SatError::Missing {
            what: format!("this node in the configuration of {rsc}"),
        })?;
    let minor = local
        .volumes
        .iter()
        .find(|v| v.nr == vlm)
        .map(|v| v.minor)
        .ok_or_else(|| SatError::Missing {
            what: format!("minor of volume {vlm} of {rsc}"),
        })?;
    let rd = p.state.resource_definitions.get(rsc);
    let day0 = rd
        .and_then(|d| d.volume_definitions.get(&vlm))
        .and_then(|v| v.props.get(keys::DRBD_CURRENT_GI))
        .and_then(Gi::parse)
        .unwrap_or(Gi(0x5EED_0000_0000_0001));
    let winner = cfg
        .nodes
        .iter()
        .filter(|n| n.role == NodeRole::Diskful)
        .map(|n| n.node_id)
        .min()
        == Some(local.node_id);
    let new_current = Gi(day0.0.rotate_left(17) ^ u64::from(local.node_id) ^ 0x9E37_79B9);
    Ok(VolumeInit {
        vol: vlm,
        meta: MetaDev {
            minor,
            device: disk.device.clone(),
            internal: true,
        },
        max_peers: rd.map(|d| d.drbd.peer_slots).unwrap_or(7),
        rule: InitialGi::choose(winner, false, disk.kind.caps().thin, false, new_current),
        own_node_id: local.node_id,
        day0,
        // Derived like `new_current`: unique per definition (day0 is random), node and volume.
        device_uuid: Gi(day0.0.rotate_left(31) ^ (u64::from(local.node_id) << 40) ^ u64::from(vlm)),
    })
}

/// Whether a local disk in this state is attached: DRBD read its metadata.
fn attached(disk: &DiskState) -> bool {
    matches!(
        disk,
        DiskState::Negotiating
            | DiskState::Inconsistent
            | DiskState::Outdated
            | DiskState::Consistent
            | DiskState::UpToDate
    )
}

impl DrbdLayer {
    fn no_kernel(&self, rsc: &ResourceName) -> SatError {
        let why = match &self.kernel {
            Kernel::Missing(w) => w.join("; "),
            _ => String::new(),
        };
        SatError::NoDrbd {
            rsc: rsc.to_string(),
            why,
        }
    }

    /// `drbdadm adjust` (brings the resource up with its written configuration).
    pub async fn adjust(
        &mut self,
        p: &NodeProjection,
        rsc: &ResourceName,
        digest: u64,
        disks: &BTreeMap<u16, LocalDisk>,
    ) -> Result<(), SatError> {
        match &self.kernel {
            Kernel::Real => {
                let opts = AdjustOpts::from_projection(p, rsc);
                self.tools(p).adjust(rsc.as_str(), opts).await?;
            }
            Kernel::Simulated(_) => {
                let cfg = self.config(p, rsc, disks)?;
                let (vols, peers, local) = self.sim_inputs(rsc, &cfg, disks);
                if let Kernel::Simulated(k) = &mut self.kernel {
                    k.adjust_with(rsc.as_str(), digest, &vols, peers, local)
                        .map_err(|e| {
                            SatError::io("write", Path::new(crate::sim_drbd::STATE_DIR), e)
                        })?;
                }
            }
            Kernel::Missing(_) => return Err(self.no_kernel(rsc)),
        }
        self.applied.insert(rsc.clone(), digest);
        Ok(())
    }

    fn sim_inputs(
        &self,
        rsc: &ResourceName,
        cfg: &ResConfig,
        disks: &BTreeMap<u16, LocalDisk>,
    ) -> (BTreeMap<u16, (u32, SimStart)>, Vec<SimPeer>, SimLocal) {
        let local = cfg.nodes.iter().find(|n| n.uname == cfg.local_node);
        let sim_local = SimLocal {
            node: cfg.local_node.clone(),
            client: local.is_some_and(|n| n.role == NodeRole::Client),
            address: local.map(|n| std::net::SocketAddr::new(n.address, n.port)),
            quorum: cfg
                .options
                .get(linstor_drbd::Section::Resource, "quorum")
                .map(|o| o.value.clone()),
        };
        let mut vols = BTreeMap::new();
        for v in local.map(|n| n.volumes.as_slice()).unwrap_or_default() {
            let start = match (disks.get(&v.nr), self.metadata.get(&(rsc.clone(), v.nr))) {
                (None, _) => SimStart::Diskless,
                (Some(_), Some((_, InitialGi::ThickLoser))) => SimStart::Sync,
                (Some(_), _) => SimStart::UpToDate,
            };
            vols.insert(v.nr, (v.minor, start));
        }
        let peers = cfg
            .nodes
            .iter()
            .filter(|n| n.uname != cfg.local_node)
            .map(|n| SimPeer {
                node_id: n.node_id,
                name: n.uname.clone(),
                diskless: n.role != NodeRole::Diskful,
                client: n.role == NodeRole::Client,
                address: Some(std::net::SocketAddr::new(n.address, n.port)),
            })
            .collect();
        (vols, peers, sim_local)
    }

    /// `drbdsetup down`.
    pub async fn down(&mut self, p: &NodeProjection, rsc: &ResourceName) -> Result<(), SatError> {
        match &mut self.kernel {
            Kernel::Real => self.tools(p).down(rsc.as_str()).await?,
            Kernel::Simulated(k) => k
                .down(rsc.as_str())
                .map_err(|e| SatError::io("write", Path::new(crate::sim_drbd::STATE_DIR), e))?,
            // Nothing can be up without the module.
            Kernel::Missing(_) => {}
        }
        self.applied.remove(rsc);
        Ok(())
    }

    /// `drbdadm resize` of one volume after its backing device grew.
    pub async fn resize(
        &mut self,
        p: &NodeProjection,
        rsc: &ResourceName,
        vlm: u16,
        thin: bool,
    ) -> Result<(), SatError> {
        match &self.kernel {
            Kernel::Real => {
                let wfc = std::time::Duration::from_secs(60);
                let tools = self.tools(p);
                for c in tools.resize_cmds(rsc.as_str(), vlm, thin, wfc) {
                    self.runner.run(&c).await?;
                }
                Ok(())
            }
            Kernel::Simulated(_) => Ok(()),
            Kernel::Missing(_) => Err(self.no_kernel(rsc)),
        }
    }
}

impl DrbdLayer {
    /// Refreshes the kernel state: the simulation's events2 dump, or the real module's
    /// (`drbdsetup events2 --now`), through the events2 tracker.
    pub async fn refresh(&mut self) -> Result<(), SatError> {
        let lines = match &self.kernel {
            Kernel::Simulated(k) => k.events2(),
            Kernel::Real => {
                let cmd = Cmd::new("drbdsetup").arg("events2").arg("--now").arg("all");
                let out = self.runner.run(&cmd).await?;
                out.stdout.lines().map(str::to_owned).collect()
            }
            Kernel::Missing(_) => vec!["exists -".to_owned()],
        };
        let mut t = Tracker::new();
        for l in &lines {
            // A malformed line is counted by the tracker, never fatal.
            let _ = t.feed_line(l);
        }
        self.tracker = t;
        Ok(())
    }

    /// Advances the simulation (a no-op otherwise); true if any state changed.
    pub fn tick(&mut self) -> bool {
        match &mut self.kernel {
            Kernel::Simulated(k) => k.tick().unwrap_or(false),
            _ => false,
        }
    }

    /// Probes the simulated resources' peers over the network when a probe is due (see
    /// [`crate::sim_net`]); true if any peer's reachability changed.
    pub async fn probe(&mut self) -> bool {
        match &mut self.kernel {
            Kernel::Simulated(k) => self.sim_net.probe(k).await,
            _ => false,
        }
    }

    /// True if some simulated resource has peers to probe over the network.
    pub fn probing(&self) -> bool {
        matches!(&self.kernel, Kernel::Simulated(k) if SimNet::wanted(k))
    }

    /// True while the simulated DRBD syncs (then the satellite reports progress as it goes).
    pub fn syncing(&self) -> bool {
        matches!(&self.kernel, Kernel::Simulated(k) if k.syncing())
    }

    /// The status of a resource that is up, from the last [`refresh`](Self::refresh).
    pub fn status(&self, rsc: &ResourceName) -> Option<ResourceStatus> {
        self.tracker.resource(rsc.as_str()).map(ResourceStatus::of)
    }

    /// What the plan needs to know of a resource's DRBD side (`None`: nothing there), given
    /// the resource's backing volumes found in the pools (`volumes`).
    ///
    /// Metadata is known for the volumes this process set up, and for every volume the kernel
    /// has attached (DRBD reads the metadata to attach, so it is there) whose backing volume
    /// was found in exactly one pool: after a restart those are not checked again with
    /// `drbdmeta`, one process per volume.
    pub fn local(
        &self,
        rsc: &ResourceName,
        volumes: Option<&BTreeMap<u16, Copies>>,
    ) -> Option<LocalDrbd> {
        let file = self.store.read(rsc.as_str()).ok().flatten().is_some();
        let tracked = self.tracker.resource(rsc.as_str());
        let lo = (rsc.clone(), 0);
        let hi = (rsc.clone(), u16::MAX);
        let mut metadata: BTreeMap<u16, StorPoolName> = self
            .metadata
            .range(lo..=hi)
            .map(|((_, n), (pool, _))| (*n, pool.clone()))
            .collect();
        let attached = tracked
            .into_iter()
            .flat_map(|r| r.devices.values())
            .filter(|d| attached(&d.disk));
        for d in attached {
            let mut pools = volumes
                .and_then(|v| v.get(&d.volume))
                .into_iter()
                .flat_map(|c| c.keys());
            if let (Some(pool), None) = (pools.next(), pools.next()) {
                metadata.entry(d.volume).or_insert_with(|| pool.clone());
            }
        }
        if !file && tracked.is_none() && metadata.is_empty() {
            return None;
        }
        Some(LocalDrbd {
            // 0: a file this process did not write; the plan rewrites it (idempotent).
            res_file: file.then(|| self.written.get(rsc).copied().unwrap_or(0)),
            up: tracked.is_some().then(|| self.up_digest(rsc)),
            metadata,
        })
    }

    fn up_digest(&self, rsc: &ResourceName) -> u64 {
        match &self.kernel {
            Kernel::Simulated(k) => k.get(rsc.as_str()).map(|r| r.digest).unwrap_or(0),
            _ => self.applied.get(rsc).copied().unwrap_or(0),
        }
    }

    /// Every resource with a `.res` file or up in the kernel.
    pub fn names(&self) -> Vec<ResourceName> {
        let mut out: Vec<ResourceName> = self
            .store
            .list()
            .unwrap_or_default()
            .iter()
            .chain(self.tracker.resources().keys())
            .filter_map(|n| ResourceName::new(n).ok())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim_drbd::SimKernel;
    use linstor_backends::runner::ScriptedRunner;
    use linstor_core::SizeKib;

    fn pool(name: &str) -> StorPoolName {
        StorPoolName::new(name).unwrap()
    }

    /// After a restart nothing is remembered; a volume the kernel has attached has metadata
    /// (in the one pool its backing volume was found in), a diskless one has none, and an
    /// ambiguous one (copies in two pools) is left to `drbdmeta`.
    #[test]
    fn attached_volumes_have_metadata_after_a_restart() {
        let tmp = tempfile::tempdir().unwrap();
        let state = tmp.path().join("state");
        let mut kernel = SimKernel::load(&state).unwrap();
        let vols = BTreeMap::from([
            (0, (1000, SimStart::UpToDate)),
            (1, (1001, SimStart::Diskless)),
            (2, (1002, SimStart::Sync)),
            (3, (1003, SimStart::UpToDate)),
        ]);
        kernel.adjust("r0", 7, &vols, Vec::new()).unwrap();
        let runner = Arc::new(ScriptedRunner::new());
        let mut layer = DrbdLayer::new(
            runner.clone(),
            &tmp.path().join("drbd"),
            &state,
            Kernel::Simulated(kernel),
            DrbdVersions::default(),
        )
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(layer.refresh()).unwrap();
        let rsc = ResourceName::new("r0").unwrap();
        let copies =
            |pools: &[&str]| -> Copies { pools.iter().map(|p| (pool(p), SizeKib(8192))).collect() };
        let found = BTreeMap::from([
            (0, copies(&["thin"])),
            (1, copies(&["thin"])),
            (2, copies(&["thin"])),
            (3, copies(&["thin", "other"])),
        ]);
        let local = layer.local(&rsc, Some(&found)).unwrap();
        assert_eq!(local.up, Some(7));
        assert_eq!(local.res_file, None);
        assert_eq!(
            local.metadata,
            BTreeMap::from([(0, pool("thin")), (2, pool("thin"))])
        );
        // Without the pools' listing nothing is inferred.
        let local = layer.local(&rsc, None).unwrap();
        assert!(local.metadata.is_empty());
        assert_eq!(layer.local(&ResourceName::new("r1").unwrap(), None), None);
        runner.finish();
    }
}
