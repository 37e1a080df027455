//! Resource and volume definitions, resources and autoplace:
//! `POST/PUT /v1/resource-definitions[/{rd}]`, `…/{rd}/volume-definitions[/{nr}]`,
//! `POST …/{rd}/resources` (an array), `POST …/{rd}/autoplace`.

use std::collections::BTreeMap;

use linstor_core::SizeKib;
use linstor_core::cluster::Command;
use linstor_core::keys;
use linstor_core::model::LayerKind;
use linstor_core::props::PropsModify;
use serde::Deserialize;

use super::group::NO_SNAP_COPY;
use super::{
    AutoSelectFilter, layer, layer_list, lenient_bool, lenient_int, lenient_u64, non_empty,
    props_modify, refuse_if, same_name,
};

/// Why a preferred DRBD port is refused.
const NO_RD_PORT: &str = "DRBD ports are allocated per node from TcpPortAutoRange here, so a \
                          definition has no port of its own; leave it out";

/// `POST /v1/resource-definitions`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceDefinitionCreate {
    /// The definition.
    pub resource_definition: ResourceDefinitionBody,
    /// Preferred DRBD port (refused: ports are per node here).
    #[serde(default, deserialize_with = "lenient_int")]
    pub drbd_port: Option<u32>,
    /// DRBD shared secret (generated when absent).
    #[serde(default)]
    pub drbd_secret: Option<String>,
    /// DRBD peer slots.
    #[serde(default, deserialize_with = "lenient_int")]
    pub drbd_peer_slots: Option<u8>,
    /// DRBD transport (`IP` only, any case).
    #[serde(default)]
    pub drbd_transport_type: Option<String>,
}

/// The `resource_definition` of a [`ResourceDefinitionCreate`] (golinstor sends its whole
/// `ResourceDefinition` with empty fields left out).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceDefinitionBody {
    /// Name (absent or empty with `external_name`: the core generates it from the external
    /// name, as LINSTOR does, and answers it in the entry's `obj_refs["RscDfn"]`).
    #[serde(default)]
    pub name: Option<String>,
    /// External name.
    #[serde(default)]
    pub external_name: Option<String>,
    /// Properties.
    #[serde(default)]
    pub props: Option<BTreeMap<String, String>>,
    /// Resource group (`DfltRscGrp` when absent).
    #[serde(default)]
    pub resource_group_name: Option<String>,
    /// Layer stack, top down (python-linstor: `[{"type": "DRBD"}, {"type": "STORAGE"}]`).
    #[serde(default)]
    pub layer_data: Option<Vec<LayerDataCreate>>,
    /// Flags (none can be set on create: refused when not empty).
    #[serde(default)]
    pub flags: Option<Vec<String>>,
    /// Identity (accepted and ignored: the controller assigns it).
    #[serde(default)]
    pub uuid: Option<String>,
}

/// One entry of `resource_definition.layer_data`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerDataCreate {
    /// The layer (any case).
    #[serde(rename = "type", deserialize_with = "layer")]
    pub kind: LayerKind,
    /// Layer data (refused when given: use `drbd_peer_slots` and `drbd_secret`).
    #[serde(default)]
    pub data: Option<serde_json::Value>,
}

impl ResourceDefinitionCreate {
    /// The core command; fields the core cannot honour are refused by name.
    pub fn command(&self) -> Result<Command, String> {
        let rd = &self.resource_definition;
        let name = match (&rd.name, &rd.external_name) {
            (Some(n), _) if !n.is_empty() => n.clone(),
            (_, Some(_)) => String::new(),
            _ => {
                return Err(
                    "'resource_definition.name' is required (or 'external_name' to generate it from)"
                        .to_owned(),
                );
            }
        };
        refuse_if(self.drbd_port.is_some(), "drbd_port", NO_RD_PORT)?;
        if let Some(t) = &self.drbd_transport_type {
            refuse_if(
                !t.eq_ignore_ascii_case("IP"),
                "drbd_transport_type",
                "DRBD runs over TCP/IP only here ('IP'); leave it out",
            )?;
        }
        refuse_if(
            non_empty(&rd.flags),
            "resource_definition.flags",
            "a new resource definition has no flags; leave them out",
        )?;
        let layers = rd.layer_data.as_deref().unwrap_or_default();
        for (i, l) in layers.iter().enumerate() {
            refuse_if(
                l.data.as_ref().is_some_and(|d| !d.is_null()),
                &format!("resource_definition.layer_data[{i}].data"),
                "layer data is set through 'drbd_peer_slots' and 'drbd_secret'; give only 'type'",
            )?;
        }
        Ok(Command::RscDfnCreate {
            name,
            rsc_grp: rd.resource_group_name.clone(),
            external_name: rd.external_name.clone(),
            props: rd.props.clone().unwrap_or_default(),
            secret: self.drbd_secret.clone(),
            peer_slots: self.drbd_peer_slots,
            layer_stack: (!layers.is_empty()).then(|| layers.iter().map(|l| l.kind).collect()),
        })
    }
}

/// `PUT /v1/resource-definitions/{rd}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceDefinitionModify {
    /// Properties to set.
    #[serde(default)]
    pub override_props: Option<BTreeMap<String, String>>,
    /// Properties to delete.
    #[serde(default)]
    pub delete_props: Option<Vec<String>>,
    /// Namespaces to delete.
    #[serde(default)]
    pub delete_namespaces: Option<Vec<String>>,
    /// Preferred DRBD port (refused: ports are per node here).
    #[serde(default, deserialize_with = "lenient_int")]
    pub drbd_port: Option<u32>,
    /// New peer slots.
    #[serde(default, deserialize_with = "lenient_int")]
    pub drbd_peer_slots: Option<u8>,
    /// New layer stack (refused: a definition keeps its stack here).
    #[serde(default, deserialize_with = "layer_list")]
    pub layer_stack: Option<Vec<LayerKind>>,
    /// Move to this resource group.
    #[serde(default)]
    pub resource_group: Option<String>,
}

impl ResourceDefinitionModify {
    /// The core command for `rd` (from the path); fields the core cannot honour are refused.
    pub fn command(&self, rd: &str) -> Result<Command, String> {
        refuse_if(self.drbd_port.is_some(), "drbd_port", NO_RD_PORT)?;
        refuse_if(
            non_empty(&self.layer_stack),
            "layer_stack",
            "the layer stack of an existing definition cannot be changed here; create a new \
             definition with the stack",
        )?;
        Ok(Command::RscDfnModify {
            name: rd.to_owned(),
            props: props_modify(
                &self.override_props,
                &self.delete_props,
                &self.delete_namespaces,
            ),
            peer_slots: self.drbd_peer_slots,
            rsc_grp: self.resource_group.clone().filter(|g| !g.is_empty()),
        })
    }
}

/// `POST /v1/resource-definitions/{rd}/volume-definitions` (python-linstor:
/// `{"volume_definition": {"size_kib", "flags": [], …}, "drbd_minor_number"?}`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeDefinitionCreate {
    /// The definition.
    pub volume_definition: VolumeDefinitionBody,
    /// DRBD minor (allocated when absent).
    #[serde(default, deserialize_with = "lenient_int")]
    pub drbd_minor_number: Option<u32>,
    /// Passphrase for encrypted volumes (refused: no LUKS here).
    #[serde(default)]
    pub passphrase: Option<String>,
}

/// The `volume_definition` of a [`VolumeDefinitionCreate`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeDefinitionBody {
    /// Number (lowest free when absent).
    #[serde(default, deserialize_with = "lenient_int")]
    pub volume_number: Option<u16>,
    /// Net size, KiB.
    #[serde(deserialize_with = "lenient_u64")]
    pub size_kib: u64,
    /// Properties (`StorPoolName`, …).
    #[serde(default)]
    pub props: Option<BTreeMap<String, String>>,
    /// Flags (`ENCRYPTED`, `GROSS_SIZE`: refused when not empty; the CLI sends `[]`).
    #[serde(default)]
    pub flags: Option<Vec<String>>,
}

impl VolumeDefinitionCreate {
    /// The core command for `rd` (from the path); flags and a passphrase are refused.
    pub fn command(&self, rd: &str) -> Result<Command, String> {
        let vd = &self.volume_definition;
        refuse_if(
            non_empty(&vd.flags),
            "volume_definition.flags",
            "neither ENCRYPTED nor GROSS_SIZE volume definitions are supported here; leave \
             the flags empty",
        )?;
        refuse_if(
            self.passphrase.is_some(),
            "passphrase",
            "there is no encryption (LUKS) layer here; leave it out",
        )?;
        Ok(Command::VlmDfnCreate {
            rsc_dfn: rd.to_owned(),
            number: vd.volume_number,
            size: SizeKib(vd.size_kib),
            minor: self.drbd_minor_number,
            props: vd.props.clone().unwrap_or_default(),
        })
    }
}

/// `PUT /v1/resource-definitions/{rd}/volume-definitions/{nr}`: a resize (`size_kib`) and/or
/// property and flag changes. Only the resize maps to a core command here
/// ([`resize_command`](Self::resize_command)); the property and flag changes
/// ([`props`](Self::props), [`flags`](Self::flags)) need the volume-definition modify command,
/// so a caller that finds [`changes_more_than_size`](Self::changes_more_than_size) must route
/// them there (or refuse them). python-linstor leaves `size_kib` out for size 0.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeDefinitionModify {
    /// New net size, KiB.
    #[serde(default, deserialize_with = "lenient_int")]
    pub size_kib: Option<u64>,
    /// Properties to set.
    #[serde(default)]
    pub override_props: Option<BTreeMap<String, String>>,
    /// Properties to delete.
    #[serde(default)]
    pub delete_props: Option<Vec<String>>,
    /// Namespaces to delete.
    #[serde(default)]
    pub delete_namespaces: Option<Vec<String>>,
    /// Flags to set (`GROSS_SIZE`) or clear (`-GROSS_SIZE`).
    #[serde(default)]
    pub flags: Option<Vec<String>>,
}

impl VolumeDefinitionModify {
    /// `VlmDfnResize` of volume `nr` of `rd` (from the path) when `size_kib` is given.
    pub fn resize_command(&self, rd: &str, nr: u16) -> Option<Command> {
        self.size_kib.map(|size| Command::VlmDfnResize {
            rsc_dfn: rd.to_owned(),
            number: nr,
            size: SizeKib(size),
        })
    }

    /// The property changes (empty when none).
    pub fn props(&self) -> PropsModify {
        props_modify(
            &self.override_props,
            &self.delete_props,
            &self.delete_namespaces,
        )
    }

    /// The flag changes as sent (`GROSS_SIZE`, `-GROSS_SIZE`).
    pub fn flags(&self) -> &[String] {
        self.flags.as_deref().unwrap_or_default()
    }

    /// True if the body asks for more than a resize (properties or flags).
    pub fn changes_more_than_size(&self) -> bool {
        !self.props().is_empty() || !self.flags().is_empty()
    }
}

/// One entry of `POST /v1/resource-definitions/{rd}/resources`, whose body is a JSON array of
/// these (read it with [`parse_list`](super::parse_list)).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceCreate {
    /// The resource.
    pub resource: ResourceBody,
    /// Layer list (refused when not empty: the definition's stack applies).
    #[serde(default, deserialize_with = "layer_list")]
    pub layer_list: Option<Vec<LayerKind>>,
    /// DRBD node id (refused: allocated here).
    #[serde(default, deserialize_with = "lenient_int")]
    pub drbd_node_id: Option<u32>,
    /// DRBD TCP ports (refused when not empty: allocated here).
    #[serde(default)]
    pub drbd_tcp_ports: Option<Vec<u32>>,
    /// Number of DRBD TCP ports (refused: one per resource here).
    #[serde(default, deserialize_with = "lenient_int")]
    pub drbd_tcp_port_count: Option<u32>,
    /// A DRBD client: diskless, and not a quorum voter.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub drbd_client: Option<bool>,
    /// Snapshots to copy to the new resource (refused when not empty).
    #[serde(default)]
    pub snap_names: Option<Vec<String>>,
    /// Copy every snapshot (refused when true).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub copy_all_snaps: Option<bool>,
}

/// The `resource` of a [`ResourceCreate`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceBody {
    /// The definition's name (must be the one in the path when given).
    #[serde(default)]
    pub name: Option<String>,
    /// Node.
    pub node_name: String,
    /// Properties (`StorPoolName` chooses the pool).
    #[serde(default)]
    pub props: Option<BTreeMap<String, String>>,
    /// Flags: `DISKLESS`/`DRBD_DISKLESS` make it diskless; others are refused.
    #[serde(default)]
    pub flags: Option<Vec<String>>,
}

/// Flags a resource create may carry: both mean "DRBD diskless".
const DISKLESS_FLAGS: [&str; 2] = ["DISKLESS", "DRBD_DISKLESS"];

impl ResourceCreate {
    /// The core command for this resource of `rd` (from the path).
    pub fn command(&self, rd: &str) -> Result<Command, String> {
        self.command_at("", rd)
    }

    /// The commands for a whole `POST …/resources` body, in order; an error names the item
    /// (`[1].resource.flags`). An empty list is refused: it would create nothing.
    pub fn commands(list: &[ResourceCreate], rd: &str) -> Result<Vec<Command>, String> {
        if list.is_empty() {
            return Err("the request lists no resources to create".to_owned());
        }
        list.iter()
            .enumerate()
            .map(|(i, r)| r.command_at(&format!("[{i}]."), rd))
            .collect()
    }

    fn command_at(&self, at: &str, rd: &str) -> Result<Command, String> {
        let r = &self.resource;
        same_name(&format!("{at}resource.name"), r.name.as_deref(), rd)?;
        let mut diskless = self.drbd_client == Some(true);
        for f in r.flags.iter().flatten() {
            if !DISKLESS_FLAGS.iter().any(|d| d.eq_ignore_ascii_case(f)) {
                return Err(format!(
                    "'{at}resource.flags' has '{f}', which cannot be set on create here (only \
                     DISKLESS and DRBD_DISKLESS can)"
                ));
            }
            diskless = true;
        }
        self.refuse_unsupported(at)?;
        let props = r.props.clone().unwrap_or_default();
        Ok(Command::RscCreate {
            rsc_dfn: rd.to_owned(),
            node: r.node_name.clone(),
            storage_pool: props.get(keys::STOR_POOL_NAME).cloned(),
            diskless,
            drbd_client: self.drbd_client.unwrap_or(false),
            props,
        })
    }

    fn refuse_unsupported(&self, at: &str) -> Result<(), String> {
        let field = |f: &str| format!("{at}{f}");
        refuse_if(
            non_empty(&self.layer_list),
            &field("layer_list"),
            "a resource has its definition's layer stack here; leave it out",
        )?;
        refuse_if(
            self.drbd_node_id.is_some(),
            &field("drbd_node_id"),
            "DRBD node ids are allocated here; leave it out",
        )?;
        refuse_if(
            non_empty(&self.drbd_tcp_ports) || self.drbd_tcp_port_count.is_some(),
            &field(if self.drbd_tcp_port_count.is_some() {
                "drbd_tcp_port_count"
            } else {
                "drbd_tcp_ports"
            }),
            "DRBD ports are allocated here, one per resource; leave it out",
        )?;
        refuse_if(
            non_empty(&self.snap_names),
            &field("snap_names"),
            NO_SNAP_COPY,
        )?;
        refuse_if(
            self.copy_all_snaps == Some(true),
            &field("copy_all_snaps"),
            NO_SNAP_COPY,
        )
    }
}

/// `POST /v1/resource-definitions/{rd}/autoplace`. python-linstor sends
/// `{"diskless_on_remaining": false|null, "select_filter": {…}, "layer_list"?}`.
///
/// As LINSTOR: the top-level `diskless_on_remaining` and `layer_list` replace the filter's
/// `diskless_on_remaining` and `layer_stack`, and the group's `diskless_on_remaining` never
/// applies to autoplace (LINSTOR's top-level field is a primitive, `false` when absent). When
/// the top-level field is `null` or absent the filter's own value is used, else `false`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoPlaceRequest {
    /// The filter over the definition's group filter.
    #[serde(default)]
    pub select_filter: AutoSelectFilter,
    /// Diskless peers on every other node.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub diskless_on_remaining: Option<bool>,
    /// Layer stack the nodes must support.
    #[serde(default, deserialize_with = "layer_list")]
    pub layer_list: Option<Vec<LayerKind>>,
    /// Snapshots to copy to new replicas (refused when not empty).
    #[serde(default)]
    pub snap_names: Option<Vec<String>>,
    /// Copy every snapshot (refused when true).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub copy_all_snaps: Option<bool>,
}

impl AutoPlaceRequest {
    /// The core command for `rd` (from the path).
    pub fn command(&self, rd: &str) -> Result<Command, String> {
        refuse_if(non_empty(&self.snap_names), "snap_names", NO_SNAP_COPY)?;
        refuse_if(
            self.copy_all_snaps == Some(true),
            "copy_all_snaps",
            NO_SNAP_COPY,
        )?;
        let mut filter = self.select_filter.to_core()?;
        filter.diskless_on_remaining = Some(
            self.diskless_on_remaining
                .or(filter.diskless_on_remaining)
                .unwrap_or(false),
        );
        if let Some(layers) = self.layer_list.as_ref().filter(|l| !l.is_empty()) {
            filter.layer_stack = Some(layers.clone());
        }
        Ok(Command::RscAutoplace {
            rsc_dfn: rd.to_owned(),
            select_filter: filter,
        })
    }
}
