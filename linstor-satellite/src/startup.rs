//! Start-up: probe what the host can do, choose the DRBD kernel side, build the reconciler.

use std::sync::Arc;

use linstor_backends::probe::Prober;
use linstor_backends::runner::{CommandRunner, RealRunner};
use linstor_core::model::{Capabilities, LayerKind};
use linstor_drbd::DrbdVersions;
use linstor_drbd::version::{FsProc, probe};

use crate::config::Config;
use crate::drbd::{DrbdLayer, Kernel};
use crate::error::SatError;
use crate::pools::Pools;
use crate::reconcile::{Backoff, Reconciler};
use crate::sim_drbd::SimKernel;

/// The DRBD version the simulation claims (labelled simulated in every report).
pub const SIMULATED_DRBD: (u16, u16, u16) = (9, 2, 12);

/// Probes the host and builds the reconciler for `config`.
pub async fn reconciler(config: &Config) -> Result<Reconciler, SatError> {
    let runner: Arc<dyn CommandRunner> = Arc::new(RealRunner::new());
    let mut caps = Capabilities::default();
    Prober::new(runner.as_ref())
        .probe(&[])
        .await
        .apply_to(&mut caps);
    let drbd_cap = probe(runner.as_ref(), &FsProc::new()).await;
    let versions = drbd_cap.versions;
    let kernel = if config.simulate_drbd {
        let k = SimKernel::load(&config.state_dir)
            .map_err(|e| SatError::io("read", &config.state_dir, e))?;
        caps.resource_layers.push(LayerKind::DRBD);
        caps.drbd_version = Some(SIMULATED_DRBD);
        Kernel::Simulated(k)
    } else {
        drbd_cap.report_into(&mut caps);
        if drbd_cap.usable() {
            Kernel::Real
        } else {
            Kernel::Missing(drbd_cap.missing.clone())
        }
    };
    caps.resource_layers.push(LayerKind::STORAGE);
    let versions = if config.simulate_drbd {
        DrbdVersions::default()
    } else {
        versions
    };
    let drbd = DrbdLayer::new(
        runner.clone(),
        &config.drbd_dir,
        &config.state_dir,
        kernel,
        versions,
    )?;
    Ok(Reconciler::new(
        Pools::new(runner),
        drbd,
        caps,
        Backoff::default(),
    ))
}
