//! Answers to the controller's physical-storage requests: which devices could become a pool,
//! and making one (LINSTOR's `POST /v1/physical-storage/{node}`).
//!
//! Pool names follow LINSTOR: LVM makes volume group `<name>`; LVM_THIN makes volume group
//! `linstor_<name>` with thin pool `<name>` in it (`linstor_<name>/<name>`); ZFS and ZFS_THIN
//! make zpool `<name>`. Creation is idempotent (an existing pool of that name is reported as
//! such) and undoes its first steps when a later one fails.

use std::path::PathBuf;
use std::sync::Arc;

use linstor_backends::BackendError;
use linstor_backends::devices::unused_devices;
use linstor_backends::pool::PoolSetup;
use linstor_backends::runner::CommandRunner;
use linstor_core::model::ProviderKind;
use linstor_proto::{DevicePoolCreate, PhysicalDevice, SatAnswer, SatRequest};

/// Answers `req`; loop devices backed by files under `file_pools` are never offered.
pub async fn answer(
    req: &SatRequest,
    runner: &Arc<dyn CommandRunner>,
    file_pools: &[PathBuf],
) -> SatAnswer {
    let result = match req {
        SatRequest::ListDevices => list(runner, file_pools).await,
        SatRequest::CreateDevicePool(c) => create(runner, c).await,
    };
    result.unwrap_or_else(failed)
}

async fn list(
    runner: &Arc<dyn CommandRunner>,
    file_pools: &[PathBuf],
) -> Result<SatAnswer, BackendError> {
    let devs = unused_devices(runner, file_pools).await?;
    Ok(SatAnswer::Devices(
        devs.into_iter()
            .map(|d| PhysicalDevice {
                device: d.path,
                size: d.size,
                rotational: d.rotational,
                model: d.model,
                serial: d.serial,
                wwn: d.wwn,
            })
            .collect(),
    ))
}

async fn create(
    runner: &Arc<dyn CommandRunner>,
    c: &DevicePoolCreate,
) -> Result<SatAnswer, BackendError> {
    let setup = PoolSetup::new(runner.clone());
    let devices: Vec<PathBuf> = c.devices.iter().map(PathBuf::from).collect();
    let out = match c.kind {
        ProviderKind::LVM => setup.create_lvm_pool(&c.pool_name, &devices).await?,
        ProviderKind::LVM_THIN => {
            let vg = format!("linstor_{}", c.pool_name);
            setup
                .create_lvm_thin_pool(&vg, &c.pool_name, &devices)
                .await?
        }
        ProviderKind::ZFS | ProviderKind::ZFS_THIN => {
            setup.create_zpool(&c.pool_name, &devices).await?
        }
        other => {
            return Err(BackendError::invalid(
                "provider_kind",
                format!("{other:?}"),
                "physical storage makes LVM, LVM_THIN, ZFS or ZFS_THIN pools",
            ));
        }
    };
    let created = out.is_changed();
    Ok(SatAnswer::PoolCreated {
        source: out.into_inner(),
        created,
    })
}

fn failed(e: BackendError) -> SatAnswer {
    let (command, stderr) = match &e {
        BackendError::CommandFailed { argv, stderr, .. } => (argv.clone(), stderr.clone()),
        _ => (Vec::new(), String::new()),
    };
    SatAnswer::Failed {
        message: e.to_string(),
        command,
        stderr,
    }
}
