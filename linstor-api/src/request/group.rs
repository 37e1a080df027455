//! Resource and volume groups: `POST/PUT /v1/resource-groups[/{rg}]`, `…/{rg}/spawn`,
//! `…/{rg}/adjust`, `/v1/resource-groups/adjustall`, `…/{rg}/volume-groups`,
//! `…/{rg}/query-size-info`.

use std::collections::BTreeMap;

use linstor_core::SizeKib;
use linstor_core::cluster::{Command, NodePlacement};
use linstor_core::model::{SelectFilter, VlmGrpFlags};
use linstor_core::props::PropsModify;
use serde::Deserialize;

use super::{
    AutoSelectFilter, flag_set, lenient_bool, lenient_i64, lenient_int, non_empty, refuse_if,
};

/// `POST /v1/resource-groups`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceGroupCreate {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Properties.
    #[serde(default)]
    pub props: Option<BTreeMap<String, String>>,
    /// Select filter.
    #[serde(default)]
    pub select_filter: Option<AutoSelectFilter>,
    /// Peer slots.
    #[serde(default, deserialize_with = "lenient_int")]
    pub peer_slots: Option<u8>,
}

impl ResourceGroupCreate {
    /// The core command.
    pub fn command(&self) -> Result<Command, String> {
        Ok(Command::RscGrpCreate {
            name: self.name.clone(),
            description: self.description.clone().unwrap_or_default(),
            props: self.props.clone().unwrap_or_default(),
            select_filter: self.select_filter.clone().unwrap_or_default().to_core()?,
            peer_slots: self.peer_slots,
        })
    }
}

/// `PUT /v1/resource-groups/{rg}`. The `linstor` CLI always sends `"select_filter": {}`: an
/// empty filter means "unchanged", not "reset".
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceGroupModify {
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// Properties to set.
    #[serde(default)]
    pub override_props: Option<BTreeMap<String, String>>,
    /// Properties to delete.
    #[serde(default)]
    pub delete_props: Option<Vec<String>>,
    /// Namespaces to delete.
    #[serde(default)]
    pub delete_namespaces: Option<Vec<String>>,
    /// Filter fields to change.
    #[serde(default)]
    pub select_filter: Option<AutoSelectFilter>,
    /// Peer slots.
    #[serde(default, deserialize_with = "lenient_int")]
    pub peer_slots: Option<u8>,
}

impl ResourceGroupModify {
    /// The core command for group `name` (from the path); `current` is the group's filter,
    /// which the request's set fields override.
    pub fn command(&self, name: &str, current: &SelectFilter) -> Result<Command, String> {
        let filter = AutoSelectFilter::optional(&self.select_filter)?;
        Ok(Command::RscGrpModify {
            name: name.to_owned(),
            description: self.description.clone(),
            props: PropsModify {
                override_props: self.override_props.clone().unwrap_or_default(),
                delete_props: self.delete_props.clone().unwrap_or_default(),
                delete_namespaces: self.delete_namespaces.clone().unwrap_or_default(),
            },
            select_filter: filter.map(|f| f.merged_over(current)),
            peer_slots: self.peer_slots,
        })
    }
}

/// `POST /v1/resource-groups/{rg}/spawn`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spawn {
    /// New definition's name.
    pub resource_definition_name: String,
    /// Its external name.
    #[serde(default)]
    pub resource_definition_external_name: Option<String>,
    /// One size per volume group, KiB.
    pub volume_sizes: Vec<u64>,
    /// Filter over the group's.
    #[serde(default)]
    pub select_filter: Option<AutoSelectFilter>,
    /// One volume per size even if the group has another number of volume groups.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub partial: Option<bool>,
    /// Only the definitions.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub definitions_only: Option<bool>,
    /// Peer slots.
    #[serde(default, deserialize_with = "lenient_int")]
    pub peer_slots: Option<u8>,
    /// Properties of the new definition.
    #[serde(default)]
    pub resource_definition_props: Option<BTreeMap<String, String>>,
}

impl Spawn {
    /// The core command for group `rg` (from the path).
    pub fn command(&self, rg: &str) -> Result<Command, String> {
        Ok(Command::RscGrpSpawn {
            rsc_grp: rg.to_owned(),
            rsc_dfn: self.resource_definition_name.clone(),
            external_name: self.resource_definition_external_name.clone(),
            volume_sizes: self.volume_sizes.iter().map(|s| SizeKib(*s)).collect(),
            partial: self.partial.unwrap_or(false),
            nodes: Vec::<NodePlacement>::new(),
            select_filter: AutoSelectFilter::optional(&self.select_filter)?,
            definitions_only: self.definitions_only.unwrap_or(false),
            peer_slots: self.peer_slots,
            rsc_dfn_props: self.resource_definition_props.clone().unwrap_or_default(),
        })
    }
}

/// `POST /v1/resource-groups/{rg}/volume-groups` (python-linstor: `{"volume_number"?,
/// "props"?, "flags"?: ["GROSS_SIZE"]}`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeGroupCreate {
    /// Number (lowest free when absent).
    #[serde(default, deserialize_with = "lenient_int")]
    pub volume_number: Option<u16>,
    /// Properties.
    #[serde(default)]
    pub props: Option<BTreeMap<String, String>>,
    /// Flags (`GROSS_SIZE`, any case).
    #[serde(default)]
    pub flags: Option<Vec<String>>,
}

impl VolumeGroupCreate {
    /// The core command for group `rg` (from the path); an unknown flag is an error naming it.
    pub fn command(&self, rg: &str) -> Result<Command, String> {
        let flags = flag_set(
            "flags",
            &self.flags,
            VlmGrpFlags::ALL,
            VlmGrpFlags::insert,
            VlmGrpFlags::default(),
        )?;
        Ok(Command::VlmGrpCreate {
            rsc_grp: rg.to_owned(),
            number: self.volume_number,
            props: self.props.clone().unwrap_or_default(),
            flags,
        })
    }
}

/// `POST /v1/resource-groups/{rg}/adjust` and `POST /v1/resource-groups/adjustall`
/// (python-linstor sends no body: read it with [`parse_or_default`](super::parse_or_default)).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceGroupAdjust {
    /// Overrides of the group's filter.
    #[serde(default)]
    pub select_filter: Option<AutoSelectFilter>,
    /// Snapshots to copy to new replicas (refused: new replicas start empty here).
    #[serde(default)]
    pub snap_names: Option<Vec<String>>,
    /// Copy every snapshot to new replicas (refused when true).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub copy_all_snaps: Option<bool>,
}

/// Why snapshot copies to new replicas are refused.
pub(super) const NO_SNAP_COPY: &str =
    "new replicas are created without snapshots here; leave it out";

impl ResourceGroupAdjust {
    /// The core command for group `rg` (from the path), `None` for `adjustall`.
    pub fn command(&self, rg: Option<&str>) -> Result<Command, String> {
        refuse_if(non_empty(&self.snap_names), "snap_names", NO_SNAP_COPY)?;
        refuse_if(
            self.copy_all_snaps == Some(true),
            "copy_all_snaps",
            NO_SNAP_COPY,
        )?;
        Ok(Command::RscGrpAdjust {
            name: rg.map(str::to_owned),
            select_filter: AutoSelectFilter::optional(&self.select_filter)?,
        })
    }
}

/// `POST /v1/resource-groups/{rg}/query-size-info` (python-linstor sends
/// `{"select_filter": {…}}`; no core command: the controller answers with a
/// [`QuerySizeInfoResponse`](crate::view::QuerySizeInfoResponse)).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySizeInfoRequest {
    /// Overrides of the group's filter.
    #[serde(default)]
    pub select_filter: Option<AutoSelectFilter>,
    /// A cached answer older than this many seconds is not used (`-1`, the default: any
    /// cached answer may be used).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub ignore_cache_older_than_sec: Option<i64>,
}

impl QuerySizeInfoRequest {
    /// The request's filter over `group` (the resource group's own filter).
    pub fn filter(&self, group: &SelectFilter) -> Result<SelectFilter, String> {
        Ok(match AutoSelectFilter::optional(&self.select_filter)? {
            Some(f) => f.merged_over(group),
            None => group.clone(),
        })
    }
}
