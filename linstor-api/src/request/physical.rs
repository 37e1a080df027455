//! Physical storage: `POST /v1/physical-storage/{node}` (`PhysicalStorageCreate`).

use std::collections::BTreeMap;

use linstor_core::model::ProviderKind;
use serde::Deserialize;

use super::{lenient_bool, provider};

/// `with_storage_pool` of a physical-storage create: the LINSTOR pool to make on top.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhysicalStorageStoragePoolCreate {
    /// Storage pool name.
    pub name: String,
    /// Its properties.
    #[serde(default)]
    pub props: Option<BTreeMap<String, String>>,
    /// Shared-space name.
    #[serde(default)]
    pub shared_space: Option<String>,
    /// External locking (accepted; matters only for shared pools).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub external_locking: Option<bool>,
}

/// `POST /v1/physical-storage/{node}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhysicalStorageCreate {
    /// LVM, LVM_THIN, ZFS or ZFS_THIN.
    #[serde(deserialize_with = "provider")]
    pub provider_kind: ProviderKind,
    /// Devices (`/dev/…`).
    pub device_paths: Vec<String>,
    /// `JBOD` only.
    #[serde(default)]
    pub raid_level: Option<String>,
    /// Name of the pool to create.
    #[serde(default)]
    pub pool_name: Option<String>,
    /// VDO (not supported).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub vdo_enable: Option<bool>,
    /// VDO slab size (not supported).
    #[serde(default)]
    pub vdo_slab_size_kib: Option<u64>,
    /// VDO logical size (not supported).
    #[serde(default)]
    pub vdo_logical_size_kib: Option<u64>,
    /// Also create this LINSTOR storage pool.
    #[serde(default)]
    pub with_storage_pool: Option<PhysicalStorageStoragePoolCreate>,
    /// Self-encrypting drives (not supported).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub sed: Option<bool>,
    /// Extra `pvcreate` arguments (not supported).
    #[serde(default)]
    pub pv_create_arguments: Option<Vec<String>>,
    /// Extra `vgcreate` arguments (not supported).
    #[serde(default)]
    pub vg_create_arguments: Option<Vec<String>>,
    /// Extra `lvcreate` arguments (not supported).
    #[serde(default)]
    pub lv_create_arguments: Option<Vec<String>>,
    /// Extra `zpool create` arguments (not supported).
    #[serde(default)]
    pub zpool_create_arguments: Option<Vec<String>>,
}

/// Why a physical-storage create cannot be served: (field, value, correction).
pub type Unsupported = (&'static str, String, String);

impl PhysicalStorageCreate {
    /// The pool name (given, else LINSTOR's default `linstor_<kind>`), or the first field this
    /// controller does not serve.
    pub fn check(&self) -> Result<String, Unsupported> {
        let kinds = [
            ProviderKind::LVM,
            ProviderKind::LVM_THIN,
            ProviderKind::ZFS,
            ProviderKind::ZFS_THIN,
        ];
        if !kinds.contains(&self.provider_kind) {
            return Err((
                "provider_kind",
                format!("{:?}", self.provider_kind),
                "use LVM, LVM_THIN, ZFS or ZFS_THIN".into(),
            ));
        }
        if self.device_paths.is_empty() {
            return Err((
                "device_paths",
                "[]".into(),
                "name at least one device".into(),
            ));
        }
        if let Some(r) = self
            .raid_level
            .as_deref()
            .filter(|r| !r.eq_ignore_ascii_case("JBOD"))
        {
            return Err(("raid_level", r.into(), "use JBOD (or leave it out)".into()));
        }
        let unsupported: [(&'static str, bool); 8] = [
            ("vdo_enable", self.vdo_enable == Some(true)),
            (
                "vdo_slab_size_kib",
                self.vdo_slab_size_kib.is_some_and(|v| v > 0),
            ),
            (
                "vdo_logical_size_kib",
                self.vdo_logical_size_kib.is_some_and(|v| v > 0),
            ),
            ("sed", self.sed == Some(true)),
            (
                "pv_create_arguments",
                self.pv_create_arguments
                    .as_ref()
                    .is_some_and(|v| !v.is_empty()),
            ),
            (
                "vg_create_arguments",
                self.vg_create_arguments
                    .as_ref()
                    .is_some_and(|v| !v.is_empty()),
            ),
            (
                "lv_create_arguments",
                self.lv_create_arguments
                    .as_ref()
                    .is_some_and(|v| !v.is_empty()),
            ),
            (
                "zpool_create_arguments",
                self.zpool_create_arguments
                    .as_ref()
                    .is_some_and(|v| !v.is_empty()),
            ),
        ];
        if let Some((field, _)) = unsupported.iter().find(|(_, set)| *set) {
            return Err((
                field,
                "set".into(),
                format!("leave {field} out: this controller does not pass it on yet"),
            ));
        }
        Ok(self
            .pool_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| format!("linstor_{:?}", self.provider_kind).to_lowercase()))
    }
}
