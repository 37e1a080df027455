//! Building a [`ResConfig`] from the core's per-node projection.
//!
//! [`ResConfig::from_projection`] reads one resource definition of a node's
//! [`NodeProjection`] (what the controller sends that node's satellite, never the whole
//! cluster state) and resolves everything the renderer needs:
//! * options from the core's chains: resource level `Chains::drbd_resource` (R > RD > RG > N >
//!   C); per-volume `disk` options from `Chains::drbd_volume`, keeping only values that come
//!   from a volume, volume definition or volume group (the others already sit in the
//!   resource-level `disk` section);
//! * `DrbdOptions/ExactSize` (RD > RG > C) writes each volume definition's size;
//! * the uname is the node's `NodeUname` property, else the node name;
//! * the address is the net interface named by `PrefNic` (storage pools > R > RD > RG > N > C),
//!   else `default`, else the first interface; the port is the resource's first TCP port;
//! * roles come from the resource flags (`TIE_BREAKER`, `drbd_client`, `DISKLESS`);
//! * resources flagged `DELETE` are left out.
//!
//! Not covered because the model has no such objects yet: resource and node connections, so
//! no per-connection options and no `Paths/*` (every connection uses the nodes' addresses).
//! Backing device paths are not in the model either; the caller (the satellite's storage layer)
//! passes them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use linstor_core::cluster::Chains;
use linstor_core::keys;
use linstor_core::model::{Node, RscFlags};
use linstor_core::projection::NodeProjection;
use linstor_core::{NetIfName, NodeName, ResourceName, SizeKib};

use crate::error::{DrbdError, Result};
use crate::options::Section;
use crate::resfile::{Header, MetaDisk, NodeRole, ResConfig, ResNode, ResVolume};
use crate::resolve::resolve_chain;
use crate::version::DrbdVersions;

/// Labels (from `linstor_core::props::Level::label`) of the volume-specific levels.
const VOLUME_LEVELS: &[&str] = &["volume", "volume definition", "volume group"];

fn is_true(v: Option<&str>) -> bool {
    v.is_some_and(|v| v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("yes"))
}

impl ResConfig {
    /// The projection's node's view of one of its resource definitions.
    ///
    /// `disks` maps the local volume numbers to their backing devices (volumes without one are
    /// `disk none`); `generator`, `generated_at` and `versions` go into the header and decide
    /// the tiebreaker lines.
    pub fn from_projection(
        projection: &NodeProjection,
        rd_name: &ResourceName,
        disks: &BTreeMap<u16, PathBuf>,
        generator: &str,
        generated_at: Option<String>,
        versions: DrbdVersions,
    ) -> Result<ResConfig> {
        let (state, local) = (&projection.state, &projection.node);
        let invalid = |reason: String| DrbdError::InvalidConfig {
            resource: rd_name.to_string(),
            reason,
        };
        let rd = state
            .resource_definitions
            .get(rd_name)
            .ok_or_else(|| invalid("no such resource definition".into()))?;
        match rd.resources.get(local) {
            Some(r) if !r.is_deleting() => {}
            _ => {
                return Err(invalid(format!(
                    "node '{local}' has no (live) resource of it"
                )));
            }
        }
        let chains = Chains::new(state);
        let node_of = |name: &NodeName| -> Result<&Node> {
            state
                .nodes
                .get(name)
                .ok_or_else(|| invalid(format!("node '{name}' is unknown")))
        };
        let uname = |n: &Node| {
            n.props
                .get(keys::NODE_UNAME)
                .map_or_else(|| n.name.to_string(), str::to_owned)
        };
        let exact_size = is_true(chains.rsc_dfn_policy(rd_name).get(keys::EXACT_SIZE));

        let mut nodes = Vec::new();
        for r in rd.live_resources() {
            let node = node_of(&r.node)?;
            let role = if r.flags.contains(RscFlags::TIE_BREAKER) {
                NodeRole::TieBreaker
            } else if r.drbd_client {
                NodeRole::Client
            } else if r.is_diskless() {
                NodeRole::Diskless
            } else {
                NodeRole::Diskful
            };
            let pref = chains
                .pref_nic(rd_name, &r.node)
                .get(keys::PREF_NIC)
                .map(str::to_owned);
            let by_name = |name: &str| {
                NetIfName::new(name)
                    .ok()
                    .and_then(|n| node.net_interfaces.get(&n))
            };
            let netif = pref
                .as_deref()
                .and_then(by_name)
                .or_else(|| by_name("default"))
                .or_else(|| node.net_interfaces.values().next())
                .ok_or_else(|| invalid(format!("node '{}' has no net interface", node.name)))?;
            let port = *r.tcp_ports.first().ok_or_else(|| {
                invalid(format!("the resource on '{}' has no TCP port", node.name))
            })?;
            let is_local = &r.node == local;
            let volumes = rd
                .volume_definitions
                .values()
                .map(|vd| {
                    let mut v = ResVolume::new(vd.number, vd.minor);
                    if is_local {
                        v.disk = disks.get(&vd.number).cloned();
                        v.meta_disk = MetaDisk::Internal;
                        let vol_opts =
                            resolve_chain(&chains.drbd_volume(rd_name, local, vd.number));
                        v.disk_options = vol_opts
                            .section(Section::Disk)
                            .iter()
                            .filter(|o| {
                                o.source
                                    .as_deref()
                                    .is_some_and(|s| VOLUME_LEVELS.contains(&s))
                            })
                            .cloned()
                            .collect();
                        if exact_size {
                            v.exact_size = Some(SizeKib(vd.size.0));
                        }
                    }
                    v
                })
                .collect();
            nodes.push(ResNode {
                uname: uname(node),
                node_id: r.node_id,
                role,
                address: netif.address,
                port,
                volumes,
            });
        }
        let local_node = node_of(local)?;
        Ok(ResConfig {
            name: rd_name.to_string(),
            local_node: uname(local_node),
            header: Header {
                generator: generator.to_owned(),
                node_name: local.to_string(),
                generated_at,
            },
            secret: rd.drbd.secret.to_string(),
            cram_hmac_alg: "sha1".to_owned(),
            options: resolve_chain(&chains.drbd_resource(rd_name, local)),
            nodes,
            connections: Vec::new(),
            versions,
        })
    }
}

impl crate::commands::AdjustOpts {
    /// The adjust flags the projection asks for on its node: `--skip-disk` when
    /// `DrbdOptions/SkipDisk` (resource > storage pools > node > RD > controller) is true.
    pub fn from_projection(projection: &NodeProjection, rd: &ResourceName) -> Self {
        crate::commands::AdjustOpts {
            skip_disk: is_true(
                Chains::new(&projection.state)
                    .skip_disk(rd, &projection.node)
                    .get(keys::SKIP_DISK),
            ),
            ..Self::default()
        }
    }
}
