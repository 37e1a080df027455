//! The autoplacer's select filter as REST sends it (`AutoSelectFilter`), shared by resource
//! groups, spawn, adjust, autoplace and the size queries.

use std::collections::BTreeMap;

use linstor_core::model::{DisklessType, LayerKind, ProviderKind, SelectFilter};
use linstor_core::{NodeName, ResourceName, StorPoolName};
use serde::Deserialize;
use serde::de::Deserializer;

use super::{lenient_bool, lenient_int, named_opt, refuse_if};

fn diskless_type<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DisklessType>, D::Error> {
    let parse = |s: &str| match s.to_ascii_uppercase().as_str() {
        "DRBD_DISKLESS" => Some(DisklessType::DRBD_DISKLESS),
        "NVME_INITIATOR" => Some(DisklessType::NVME_INITIATOR),
        _ => None,
    };
    named_opt(d, parse, "`DRBD_DISKLESS`, `NVME_INITIATOR`")
}

/// The autoplacer's select filter as REST sends it (`AutoSelectFilter`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoSelectFilter {
    /// Diskful replicas (a number or a numeric string).
    #[serde(default, deserialize_with = "lenient_int")]
    pub place_count: Option<u32>,
    /// Replicas to add.
    #[serde(default, deserialize_with = "lenient_int")]
    pub additional_place_count: Option<u32>,
    /// Only these nodes.
    #[serde(default)]
    pub node_name_list: Option<Vec<String>>,
    /// One pool (clients below API 1.1.0).
    #[serde(default)]
    pub storage_pool: Option<String>,
    /// Pools.
    #[serde(default)]
    pub storage_pool_list: Option<Vec<String>>,
    /// Diskless pools.
    #[serde(default)]
    pub storage_pool_diskless_list: Option<Vec<String>>,
    /// Not with these resources.
    #[serde(default)]
    pub not_place_with_rsc: Option<Vec<String>>,
    /// Not with resources matching.
    #[serde(default)]
    pub not_place_with_rsc_regex: Option<String>,
    /// Same values of these keys.
    #[serde(default)]
    pub replicas_on_same: Option<Vec<String>>,
    /// Different values of these keys.
    #[serde(default)]
    pub replicas_on_different: Option<Vec<String>>,
    /// At most n replicas per value.
    #[serde(default)]
    pub x_replicas_on_different_map: Option<BTreeMap<String, u32>>,
    /// Layer stack.
    #[serde(default)]
    pub layer_stack: Option<Vec<String>>,
    /// Providers.
    #[serde(default)]
    pub provider_list: Option<Vec<String>>,
    /// Diskless peers everywhere else.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub diskless_on_remaining: Option<bool>,
    /// Diskless flavour (`DRBD_DISKLESS` or `NVME_INITIATOR`, any case; python-linstor sends
    /// it with `--diskless-type`).
    #[serde(default, deserialize_with = "diskless_type")]
    pub diskless_type: Option<DisklessType>,
    /// Multiplier of thin pools' free space (golinstor sends it from a CSI storage class's
    /// `overprovision`); refused by [`to_core`](Self::to_core): the core reads the
    /// over-subscription ratios from properties.
    #[serde(default)]
    pub overprovision: Option<f64>,
}

/// A list of names, each validated by `parse`; the error names the field and the value.
fn names<T>(
    field: &str,
    list: &Option<Vec<String>>,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<Vec<T>>, String> {
    let Some(list) = list else {
        return Ok(None);
    };
    list.iter()
        .map(|s| parse(s).ok_or_else(|| format!("'{field}' has an invalid entry '{s}'")))
        .collect::<Result<Vec<T>, String>>()
        .map(Some)
}

impl AutoSelectFilter {
    /// True if no field is set (the CLI's `"select_filter": {}`).
    pub fn is_empty(&self) -> bool {
        self == &AutoSelectFilter::default()
    }

    /// The core's filter; a name that is not valid is an error naming the field and value.
    pub fn to_core(&self) -> Result<SelectFilter, String> {
        refuse_if(
            self.overprovision.is_some(),
            "overprovision",
            "set the MaxOversubscriptionRatio property (controller, storage pool definition \
             or storage pool) instead",
        )?;
        let pool = |s: &str| StorPoolName::new(s).ok();
        let mut pools = names("storage_pool_list", &self.storage_pool_list, pool)?;
        if pools.is_none()
            && let Some(p) = &self.storage_pool
        {
            pools = names("storage_pool", &Some(vec![p.clone()]), pool)?;
        }
        Ok(SelectFilter {
            place_count: self.place_count,
            additional_place_count: self.additional_place_count,
            node_name_list: names("node_name_list", &self.node_name_list, |s| {
                NodeName::new(s).ok()
            })?,
            storage_pool: None,
            storage_pool_list: pools,
            storage_pool_diskless_list: names(
                "storage_pool_diskless_list",
                &self.storage_pool_diskless_list,
                pool,
            )?,
            not_place_with_rsc: names("not_place_with_rsc", &self.not_place_with_rsc, |s| {
                ResourceName::new(s).ok()
            })?,
            not_place_with_rsc_regex: self.not_place_with_rsc_regex.clone(),
            replicas_on_same: self.replicas_on_same.clone(),
            replicas_on_different: self.replicas_on_different.clone(),
            x_replicas_on_different_map: self.x_replicas_on_different_map.clone(),
            layer_stack: names("layer_stack", &self.layer_stack, LayerKind::parse)?,
            provider_list: names("provider_list", &self.provider_list, ProviderKind::parse)?,
            diskless_on_remaining: self.diskless_on_remaining,
            diskless_type: self.diskless_type,
        })
    }

    /// [`to_core`](Self::to_core) of a filter that may be absent; absent or empty is `None`
    /// ("nothing over the group's").
    pub fn optional(filter: &Option<AutoSelectFilter>) -> Result<Option<SelectFilter>, String> {
        match filter {
            Some(f) if !f.is_empty() => f.to_core().map(Some),
            _ => Ok(None),
        }
    }
}
