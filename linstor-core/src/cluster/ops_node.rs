//! Commands on the controller configuration, nodes, net interfaces, storage pool definitions,
//! storage pools, and satellite reports.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::{
    BoxedEntry, Cluster, Ctx, NetIfSpec, ObjKey, Res, apply_modify, fail, parse_name, props_from,
};
use crate::keys;
use crate::model::{
    Capabilities, ConnectionStatus, NetInterface, Node, NodeFlags, NodeType, PoolCapacity,
    ProviderKind, RscFlags, SelectFilter, StoragePool, StoragePoolDefinition,
};
use crate::name::{NetIfName, NodeName, ResourceName, StorPoolName, well_known};
use crate::props::{LEGACY_POOL_KEYS, Level, PropsModify};
use crate::rc::{Obj, Op, code};
use crate::size::SizeKib;

pub(super) fn node_name(op: Op, s: &str) -> Res<NodeName> {
    parse_name(op, Obj::Node, code::INVLD_NODE_NAME, s, NodeName::new)
}

pub(super) fn pool_name(op: Op, obj: Obj, s: &str) -> Res<StorPoolName> {
    parse_name(op, obj, code::INVLD_STOR_POOL_NAME, s, StorPoolName::new)
}

pub(super) fn existing_node<'c>(c: &'c Cluster, op: Op, obj: Obj, s: &str) -> Res<&'c Node> {
    let n = parse_name(op, obj, code::INVLD_NODE_NAME, s, NodeName::new)?;
    c.state.nodes.get(&n).ok_or_else(|| {
        fail(
            op,
            obj,
            code::NOT_FOUND_NODE,
            format!("Node '{s}' not found"),
        )
        .cause(format!("No node named '{s}' is registered."))
        .correction("Check the name with `linstor node list`, or create the node first.")
        .obj_ref("Node", s)
    })
}

pub(super) fn ctrl_props_modify(c: &mut Cluster, ctx: &mut Ctx<'_>, m: &PropsModify) -> Res {
    c.validate_modify(Obj::CtrlConf, Level::Controller, m)?;
    // A narrowed MinorNrAutoRange/TcpPortAutoRange applies to new allocations; existing numbers stay.
    apply_modify(&mut c.state.ctrl_props, m, Level::Controller);
    ctx.ok(Op::Modify, Obj::CtrlConf, "Controller properties modified.");
    ctx.modified(ObjKey::Ctrl);
    Ok(())
}

fn netif_from_spec(op: Op, node: &str, spec: &NetIfSpec, ctx: &mut Ctx<'_>) -> Res<NetInterface> {
    let name = parse_name(
        op,
        Obj::NetIf,
        code::INVLD_NET_NAME,
        &spec.name,
        NetIfName::new,
    )?;
    let address: IpAddr = spec.address.trim().parse().map_err(|_| {
        fail(
            op,
            Obj::NetIf,
            code::INVLD_NET_ADDR,
            format!(
                "Invalid address '{}' for net interface '{}' of node '{node}'",
                spec.address, spec.name
            ),
        )
        .cause("The address is neither an IPv4 nor an IPv6 address.")
        .correction("Give an address like 10.0.0.1 or fd00::1 (no host names, no port).")
    })?;
    if spec.satellite_port == Some(0) {
        return Err(fail(
            op,
            Obj::NetIf,
            code::INVLD_NET_PORT,
            "Invalid satellite port 0",
        )
        .correction("Use a port from 1 to 65535 (default 3366, 3367 for SSL)."));
    }
    Ok(NetInterface {
        name,
        address,
        satellite_port: spec.satellite_port,
        encryption: spec.encryption,
        uuid: ctx.uuid(),
    })
}

fn diskless_pool(node: &NodeName, ctx: &mut Ctx<'_>) -> StoragePool {
    let name = StorPoolName::new(well_known::DFLT_DISKLESS_STOR_POOL).expect("valid constant");
    StoragePool {
        node: node.clone(),
        free_space_mgr_name: format!("{node};{name}"),
        name,
        kind: ProviderKind::DISKLESS,
        props: Default::default(),
        uuid: ctx.uuid(),
    }
}

pub(super) fn node_create(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    name: &str,
    node_type: NodeType,
    netifs: &[NetIfSpec],
    props: &BTreeMap<String, String>,
) -> Res {
    let op = Op::Create;
    let name = node_name(op, name)?;
    if c.state.nodes.contains_key(&name) {
        return Err(fail(
            op,
            Obj::Node,
            code::EXISTS_NODE,
            format!("Node '{name}' already exists"),
        )
        .correction("Choose another name, or modify the existing node.")
        .obj_ref("Node", &name));
    }
    if netifs.is_empty() && node_type != NodeType::Auxiliary {
        return Err(fail(op, Obj::Node, code::INVLD_NET_NAME, format!("Node '{name}' has no net interface"))
            .cause("The controller needs an address to reach the satellite and DRBD needs one for replication.")
            .correction("Give at least one net interface, e.g. name 'default' with the node's IP address."));
    }
    c.validate_props(op, Obj::Node, Level::Node, props)?;
    let mut ifs = BTreeMap::new();
    for spec in netifs {
        let nif = netif_from_spec(op, name.as_str(), spec, ctx)?;
        if ifs.contains_key(&nif.name) {
            return Err(fail(
                op,
                Obj::NetIf,
                code::EXISTS_NET_IF,
                format!("Net interface '{}' is given twice", nif.name),
            )
            .correction("Give each interface a distinct name."));
        }
        ifs.insert(nif.name.clone(), nif);
    }
    // Apply.
    let mut p = props_from(props, Level::Node);
    if let Some(first) = ifs.keys().next() {
        p.set(keys::CUR_STLT_CONN_NAME, first.as_str());
    }
    if p.get(keys::NODE_UNAME).is_none() {
        p.set(keys::NODE_UNAME, name.as_str());
    }
    let dl = diskless_pool(&name, ctx);
    let node = Node {
        name: name.clone(),
        node_type,
        flags: NodeFlags::default(),
        net_interfaces: ifs,
        storage_pools: [(dl.name.clone(), dl.clone())].into_iter().collect(),
        props: p,
        uuid: ctx.uuid(),
    };
    c.state.nodes.insert(name.clone(), node);
    c.state.observed.nodes.entry(name.clone()).or_default();
    ctx.ok(op, Obj::Node, format!("New node '{name}' registered."))
        .obj_refs
        .insert("Node".into(), name.to_string());
    ctx.created(ObjKey::Node { node: name.clone() });
    ctx.created(ObjKey::StorPool {
        node: name.clone(),
        pool: dl.name,
    });
    Ok(())
}

pub(super) fn node_modify(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    name: &str,
    node_type: Option<NodeType>,
    m: &PropsModify,
) -> Res {
    let op = Op::Modify;
    let node = existing_node(c, op, Obj::Node, name)?;
    let key = node.name.clone();
    c.validate_modify(Obj::Node, Level::Node, m)?;
    if let Some(t) = node_type {
        if !t.has_storage() && node.storage_pools.values().any(|p| p.kind.is_diskful()) {
            return Err(fail(
                op,
                Obj::Node,
                code::INVLD_NODE_TYPE,
                format!("Node '{key}' cannot become a {t:?} node"),
            )
            .cause(
                "It has diskful storage pools, which only Satellite and Combined nodes may have.",
            )
            .correction("Delete its diskful storage pools first, or keep the type."));
        }
    }
    let node = c.state.nodes.get_mut(&key).expect("checked");
    if let Some(t) = node_type {
        node.node_type = t;
    }
    apply_modify(&mut node.props, m, Level::Node);
    ctx.ok(op, Obj::Node, format!("Node '{key}' modified."));
    ctx.modified(ObjKey::Node { node: key });
    Ok(())
}

pub(super) fn node_delete(c: &mut Cluster, ctx: &mut Ctx<'_>, name: &str, lost: bool) -> Res {
    let op = Op::Delete;
    let key = existing_node(c, op, Obj::Node, name)?.name.clone();
    let rscs: Vec<_> = c
        .idx
        .rscs_on_node
        .get(&key)
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default();
    let snaps: Vec<String> = c
        .state
        .resource_definitions
        .values()
        .flat_map(|rd| {
            rd.snapshots
                .values()
                .filter(|s| s.snapshots.contains_key(&key))
                .map(move |s| format!("{}/{}", rd.name, s.name))
        })
        .collect();
    if !lost && (!rscs.is_empty() || !snaps.is_empty()) {
        let list: Vec<String> = rscs.iter().map(ToString::to_string).collect();
        return Err(fail(op, Obj::Node, code::IN_USE, format!("Node '{key}' cannot be deleted: it still holds data"))
            .cause(format!(
                "Resources on it: [{}]; snapshots on it: [{}].",
                list.join(", "),
                snaps.join(", ")
            ))
            .correction("Delete or move its resources and snapshots first (or use `node lost` if the node is gone for good).")
            .obj_ref("Node", &key));
    }
    // Apply.
    for rd_name in &rscs {
        let rd = c
            .state
            .resource_definitions
            .get_mut(rd_name)
            .expect("index is consistent");
        if let Some(r) = rd.resources.remove(&key) {
            if let Some(o) = c.state.observed.nodes.get_mut(&key) {
                o.resources.remove(rd_name);
            }
            if let Some(ports) = c.idx.ports.get_mut(&key) {
                for p in &r.tcp_ports {
                    ports.remove(p);
                }
            }
            ctx.deleted(ObjKey::Rsc {
                rsc_dfn: rd_name.clone(),
                node: key.clone(),
            });
        }
        let remove_rd =
            rd.flags.contains(crate::model::RscDfnFlags::DELETE) && rd.resources.is_empty();
        if remove_rd {
            super::ops_rsc::remove_rd(c, ctx, rd_name);
        }
    }
    for rd in c.state.resource_definitions.values_mut() {
        for sd in rd.snapshots.values_mut() {
            if sd.snapshots.remove(&key).is_some() {
                ctx.changes.modified.push(ObjKey::SnapshotDfn {
                    rsc_dfn: rd.name.clone(),
                    snapshot: sd.name.clone(),
                });
            }
        }
    }
    let node = c.state.nodes.remove(&key).expect("checked");
    c.idx.rscs_on_node.remove(&key);
    c.idx.ports.remove(&key);
    c.state.observed.nodes.remove(&key);
    for pool in node.storage_pools.keys() {
        ctx.deleted(ObjKey::StorPool {
            node: key.clone(),
            pool: pool.clone(),
        });
    }
    ctx.ok(
        op,
        Obj::Node,
        if lost {
            format!(
                "Node '{key}' removed as lost, with {} resources.",
                rscs.len()
            )
        } else {
            format!("Node '{key}' deleted.")
        },
    );
    ctx.deleted(ObjKey::Node { node: key });
    Ok(())
}

pub(super) fn netif_create(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    node: &str,
    spec: &NetIfSpec,
) -> Res {
    let op = Op::Create;
    let key = existing_node(c, op, Obj::NetIf, node)?.name.clone();
    let nif = netif_from_spec(op, node, spec, ctx)?;
    let n = c.state.nodes.get_mut(&key).expect("checked");
    if n.net_interfaces.contains_key(&nif.name) {
        return Err(fail(
            op,
            Obj::NetIf,
            code::EXISTS_NET_IF,
            format!(
                "Net interface '{}' already exists on node '{key}'",
                nif.name
            ),
        )
        .correction("Modify it instead, or choose another name."));
    }
    let name = nif.name.clone();
    n.net_interfaces.insert(name.clone(), nif);
    ctx.ok(
        op,
        Obj::NetIf,
        format!("Net interface '{name}' created on node '{key}'."),
    );
    ctx.created(ObjKey::NetIf { node: key, name });
    Ok(())
}

pub(super) fn netif_modify(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    node: &str,
    spec: &NetIfSpec,
) -> Res {
    let op = Op::Modify;
    let key = existing_node(c, op, Obj::NetIf, node)?.name.clone();
    let mut nif = netif_from_spec(op, node, spec, ctx)?;
    let n = c.state.nodes.get_mut(&key).expect("checked");
    let Some(old) = n.net_interfaces.get_mut(&nif.name) else {
        return Err(fail(
            op,
            Obj::NetIf,
            code::NOT_FOUND_NET_IF,
            format!("Net interface '{}' not found on node '{key}'", spec.name),
        )
        .correction("Create it first."));
    };
    nif.uuid = old.uuid;
    let name = nif.name.clone();
    *old = nif;
    ctx.ok(
        op,
        Obj::NetIf,
        format!("Net interface '{name}' on node '{key}' modified."),
    );
    ctx.modified(ObjKey::NetIf { node: key, name });
    Ok(())
}

pub(super) fn netif_delete(c: &mut Cluster, ctx: &mut Ctx<'_>, node: &str, name: &str) -> Res {
    let op = Op::Delete;
    let key = existing_node(c, op, Obj::NetIf, node)?.name.clone();
    let nif = parse_name(op, Obj::NetIf, code::INVLD_NET_NAME, name, NetIfName::new)?;
    let n = c.state.nodes.get(&key).expect("checked");
    if !n.net_interfaces.contains_key(&nif) {
        return Err(fail(
            op,
            Obj::NetIf,
            code::NOT_FOUND_NET_IF,
            format!("Net interface '{name}' not found on node '{key}'"),
        )
        .correction("Check the name with `linstor node interface list`."));
    }
    if n.net_interfaces.len() == 1 {
        return Err(fail(
            op,
            Obj::NetIf,
            code::IN_USE,
            format!("Net interface '{name}' is the last one of node '{key}'"),
        )
        .cause(
            "Without an interface the controller cannot reach the node and DRBD cannot replicate.",
        )
        .correction("Create another interface first."));
    }
    let n = c.state.nodes.get_mut(&key).expect("checked");
    n.net_interfaces.remove(&nif);
    if n.props
        .get(keys::CUR_STLT_CONN_NAME)
        .is_some_and(|v| v.eq_ignore_ascii_case(nif.as_str()))
    {
        let first = n
            .net_interfaces
            .keys()
            .next()
            .expect("one left")
            .to_string();
        n.props.set(keys::CUR_STLT_CONN_NAME, first);
        ctx.modified(ObjKey::Node { node: key.clone() });
    }
    ctx.ok(
        op,
        Obj::NetIf,
        format!("Net interface '{nif}' deleted from node '{key}'."),
    );
    ctx.deleted(ObjKey::NetIf {
        node: key,
        name: nif,
    });
    Ok(())
}

pub(super) fn ensure_spd(c: &mut Cluster, ctx: &mut Ctx<'_>, name: &StorPoolName) {
    if !c.state.storage_pool_definitions.contains_key(name) {
        let spd = StoragePoolDefinition {
            name: name.clone(),
            props: Default::default(),
            uuid: ctx.uuid(),
        };
        c.state.storage_pool_definitions.insert(name.clone(), spd);
        ctx.created(ObjKey::StorPoolDfn { pool: name.clone() });
    }
}

pub(super) fn spd_create(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    name: &str,
    props: &BTreeMap<String, String>,
) -> Res {
    let op = Op::Create;
    let name = pool_name(op, Obj::StorPoolDfn, name)?;
    if c.state.storage_pool_definitions.contains_key(&name) {
        return Err(fail(
            op,
            Obj::StorPoolDfn,
            code::EXISTS_STOR_POOL_DFN,
            format!("Storage pool definition '{name}' already exists"),
        )
        .correction("Modify it instead."));
    }
    c.validate_props(op, Obj::StorPoolDfn, Level::StorPoolDfn, props)?;
    let spd = StoragePoolDefinition {
        name: name.clone(),
        props: props_from(props, Level::StorPoolDfn),
        uuid: ctx.uuid(),
    };
    c.state.storage_pool_definitions.insert(name.clone(), spd);
    ctx.ok(
        op,
        Obj::StorPoolDfn,
        format!("New storage pool definition '{name}' created."),
    );
    ctx.created(ObjKey::StorPoolDfn { pool: name });
    Ok(())
}

fn existing_spd(c: &Cluster, op: Op, name: &str) -> Res<StorPoolName> {
    let n = pool_name(op, Obj::StorPoolDfn, name)?;
    if !c.state.storage_pool_definitions.contains_key(&n) {
        return Err(fail(
            op,
            Obj::StorPoolDfn,
            code::NOT_FOUND_STOR_POOL_DFN,
            format!("Storage pool definition '{name}' not found"),
        )
        .correction("Check the name with `linstor storage-pool-definition list`."));
    }
    Ok(n)
}

pub(super) fn spd_modify(c: &mut Cluster, ctx: &mut Ctx<'_>, name: &str, m: &PropsModify) -> Res {
    let n = existing_spd(c, Op::Modify, name)?;
    c.validate_modify(Obj::StorPoolDfn, Level::StorPoolDfn, m)?;
    apply_modify(
        &mut c
            .state
            .storage_pool_definitions
            .get_mut(&n)
            .expect("checked")
            .props,
        m,
        Level::StorPoolDfn,
    );
    ctx.ok(
        Op::Modify,
        Obj::StorPoolDfn,
        format!("Storage pool definition '{n}' modified."),
    );
    ctx.modified(ObjKey::StorPoolDfn { pool: n });
    Ok(())
}

pub(super) fn spd_delete(c: &mut Cluster, ctx: &mut Ctx<'_>, name: &str) -> Res {
    let op = Op::Delete;
    let n = existing_spd(c, op, name)?;
    if n.as_str()
        .eq_ignore_ascii_case(well_known::DFLT_DISKLESS_STOR_POOL)
    {
        return Err(fail(
            op,
            Obj::StorPoolDfn,
            code::IN_USE,
            format!("Storage pool definition '{n}' cannot be deleted"),
        )
        .cause("Every node has this diskless pool.")
        .correction("Nothing to do: it is built in."));
    }
    let users: Vec<String> = c
        .state
        .nodes
        .values()
        .filter(|nd| nd.storage_pools.contains_key(&n))
        .map(|nd| nd.name.to_string())
        .collect();
    if !users.is_empty() {
        return Err(fail(
            op,
            Obj::StorPoolDfn,
            code::IN_USE,
            format!("Storage pool definition '{n}' is in use"),
        )
        .cause(format!(
            "Nodes with a pool of that name: {}.",
            users.join(", ")
        ))
        .correction("Delete those storage pools first."));
    }
    c.state.storage_pool_definitions.remove(&n);
    ctx.ok(
        op,
        Obj::StorPoolDfn,
        format!("Storage pool definition '{n}' deleted."),
    );
    ctx.deleted(ObjKey::StorPoolDfn { pool: n });
    Ok(())
}

/// Rewrites LINSTOR's legacy pool keys into `StorDriver/StorPoolName`.
pub(crate) fn rewrite_legacy_pool_keys(
    props: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = props
        .iter()
        .filter(|(k, _)| !LEGACY_POOL_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if out.contains_key(keys::STOR_DRIVER_STOR_POOL_NAME) {
        return out;
    }
    let get = |k: &str| props.get(k).map(String::as_str);
    let value = match (
        get(keys::STOR_DRIVER_LVM_VG),
        get(keys::STOR_DRIVER_THIN_POOL),
    ) {
        (Some(vg), Some(tp)) => Some(format!("{vg}/{tp}")),
        (Some(vg), None) => Some(vg.to_owned()),
        (None, Some(tp)) => Some(tp.to_owned()),
        (None, None) => get(keys::STOR_DRIVER_ZPOOL)
            .or(get(keys::STOR_DRIVER_ZPOOL_THIN))
            .or(get(keys::STOR_DRIVER_FILE_DIR))
            .map(str::to_owned),
    };
    if let Some(v) = value {
        out.insert(keys::STOR_DRIVER_STOR_POOL_NAME.into(), v);
    }
    out
}

/// Validates a backing pool name: `vg`, `vg/thinpool`, `zpool[/dataset…]` or an absolute directory.
fn check_backing_name(kind: ProviderKind, v: &str) -> Result<(), String> {
    let ok_part = |p: &str| {
        !p.is_empty()
            && !p.starts_with('-')
            && p != "."
            && p != ".."
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.+".contains(c))
    };
    match kind {
        ProviderKind::FILE | ProviderKind::FILE_THIN => {
            if !v.starts_with('/') || v.split('/').skip(1).any(|p| !ok_part(p)) {
                return Err(format!(
                    "'{v}' is not a clean absolute directory path (no '..', spaces or shell characters)"
                ));
            }
        }
        ProviderKind::LVM => {
            if !ok_part(v) {
                return Err(format!(
                    "'{v}' is not a volume group name (letters, digits, _-.+; no leading '-')"
                ));
            }
        }
        ProviderKind::LVM_THIN => {
            let parts: Vec<&str> = v.split('/').collect();
            if parts.len() != 2 || !parts.iter().all(|p| ok_part(p)) {
                return Err(format!("'{v}' is not '<volume group>/<thin pool>'"));
            }
        }
        ProviderKind::ZFS | ProviderKind::ZFS_THIN => {
            if v.split('/').any(|p| !ok_part(p)) {
                return Err(format!("'{v}' is not a zpool or dataset name"));
            }
        }
        ProviderKind::DISKLESS => {}
    }
    Ok(())
}

pub(super) fn sp_create(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    node: &str,
    name: &str,
    kind: ProviderKind,
    props: &BTreeMap<String, String>,
    shared: Option<&str>,
) -> Res {
    let op = Op::Create;
    let nd = existing_node(c, op, Obj::StorPool, node)?;
    let nkey = nd.name.clone();
    let pname = pool_name(op, Obj::StorPool, name)?;
    if nd.storage_pools.contains_key(&pname) {
        return Err(fail(
            op,
            Obj::StorPool,
            code::EXISTS_STOR_POOL,
            format!("Storage pool '{pname}' already exists on node '{nkey}'"),
        )
        .correction("Modify it instead, or choose another name."));
    }
    if nd.flags.contains(NodeFlags::DELETE) {
        return Err(fail(
            op,
            Obj::StorPool,
            code::IN_USE,
            format!("Node '{nkey}' is being deleted"),
        )
        .correction("Wait until it is gone, or restore it."));
    }
    if kind.is_diskful() && !nd.node_type.has_storage() {
        return Err(fail(
            op,
            Obj::StorPool,
            code::STLT_DOES_NOT_SUPPORT_PROVIDER,
            format!("Node '{nkey}' cannot have a {kind} storage pool"),
        )
        .cause(format!(
            "It is a {:?} node; only Satellite and Combined nodes have storage.",
            nd.node_type
        ))
        .correction("Change the node type to Satellite or Combined, or use another node."));
    }
    if let Some(caps) = c
        .state
        .observed
        .nodes
        .get(&nkey)
        .and_then(|o| o.capabilities.as_ref())
    {
        if kind.is_diskful() && !caps.storage_providers.contains(&kind) {
            let why = caps
                .unsupported_providers
                .get(&kind)
                .map(|r| r.join("; "))
                .unwrap_or_else(|| "not reported as supported".into());
            return Err(fail(op, Obj::StorPool, code::STLT_DOES_NOT_SUPPORT_PROVIDER, format!("Node '{nkey}' does not support {kind}"))
                .cause(why)
                .correction("Install the missing tools or kernel modules on the node and reconnect it, or choose another provider."));
        }
    }
    let props = rewrite_legacy_pool_keys(props);
    c.validate_props(op, Obj::StorPool, Level::StorPool, &props)?;
    if kind.is_diskful() {
        let Some(backing) = props.get(keys::STOR_DRIVER_STOR_POOL_NAME) else {
            return Err(fail(op, Obj::StorPool, code::MISSING_PROPS, format!("Storage pool '{pname}' needs a backing pool"))
                .cause(format!("{kind} pools need the property StorDriver/StorPoolName."))
                .correction("Set StorDriver/StorPoolName to the volume group (vg), thin pool (vg/thinpool), zpool, or directory."));
        };
        check_backing_name(kind, backing).map_err(|why| {
            fail(
                op,
                Obj::StorPool,
                code::INVLD_PROP,
                format!("Invalid StorDriver/StorPoolName '{backing}'"),
            )
            .cause(why)
            .correction("Name an existing volume group, thin pool, zpool or directory.")
        })?;
    }
    let shared = match shared {
        Some(s)
            if s.is_empty()
                || s.len() > 48
                || s.contains(char::is_whitespace)
                || s.contains(';') =>
        {
            return Err(fail(
                op,
                Obj::StorPool,
                code::INVLD_STOR_POOL_NAME,
                format!("Invalid shared space name '{s}'"),
            )
            .cause("';' joins node and pool in the default names (`<node>;<pool>`).")
            .correction("Use 1 to 48 characters without blanks or ';'."));
        }
        Some(s) => s.to_owned(),
        None => format!("{nkey};{pname}"),
    };
    // Apply.
    ensure_spd(c, ctx, &pname);
    let sp = StoragePool {
        node: nkey.clone(),
        name: pname.clone(),
        kind,
        free_space_mgr_name: shared,
        props: props_from(&props, Level::StorPool),
        uuid: ctx.uuid(),
    };
    c.state
        .nodes
        .get_mut(&nkey)
        .expect("checked")
        .storage_pools
        .insert(pname.clone(), sp);
    ctx.ok(
        op,
        Obj::StorPool,
        format!("Storage pool '{pname}' ({kind}) created on node '{nkey}'."),
    );
    ctx.created(ObjKey::StorPool {
        node: nkey,
        pool: pname,
    });
    Ok(())
}

fn existing_sp(c: &Cluster, op: Op, node: &str, name: &str) -> Res<(NodeName, StorPoolName)> {
    let nkey = existing_node(c, op, Obj::StorPool, node)?.name.clone();
    let pname = pool_name(op, Obj::StorPool, name)?;
    if c.state.storage_pool(&nkey, &pname).is_none() {
        return Err(fail(
            op,
            Obj::StorPool,
            code::NOT_FOUND_STOR_POOL,
            format!("Storage pool '{name}' not found on node '{nkey}'"),
        )
        .correction("Check the name with `linstor storage-pool list`.")
        .obj_ref("Node", &nkey)
        .obj_ref("StorPoolName", name));
    }
    Ok((nkey, pname))
}

pub(super) fn sp_modify(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    node: &str,
    name: &str,
    m: &PropsModify,
) -> Res {
    let (nkey, pname) = existing_sp(c, Op::Modify, node, name)?;
    c.validate_modify(Obj::StorPool, Level::StorPool, m)?;
    if m.delete_props
        .iter()
        .any(|k| k == keys::STOR_DRIVER_STOR_POOL_NAME)
        || m.override_props
            .contains_key(keys::STOR_DRIVER_STOR_POOL_NAME)
    {
        return Err(fail(
            Op::Modify,
            Obj::StorPool,
            code::INVLD_PROP,
            "StorDriver/StorPoolName cannot be changed",
        )
        .cause("Existing volumes live in the current backing pool.")
        .correction("Create a new storage pool instead."));
    }
    let sp = c
        .state
        .nodes
        .get_mut(&nkey)
        .expect("checked")
        .storage_pools
        .get_mut(&pname)
        .expect("checked");
    apply_modify(&mut sp.props, m, Level::StorPool);
    ctx.ok(
        Op::Modify,
        Obj::StorPool,
        format!("Storage pool '{pname}' on node '{nkey}' modified."),
    );
    ctx.modified(ObjKey::StorPool {
        node: nkey,
        pool: pname,
    });
    Ok(())
}

pub(super) fn sp_delete(c: &mut Cluster, ctx: &mut Ctx<'_>, node: &str, name: &str) -> Res {
    let op = Op::Delete;
    let (nkey, pname) = existing_sp(c, op, node, name)?;
    if pname
        .as_str()
        .eq_ignore_ascii_case(well_known::DFLT_DISKLESS_STOR_POOL)
    {
        return Err(fail(
            op,
            Obj::StorPool,
            code::IN_USE,
            format!("'{pname}' cannot be deleted from node '{nkey}'"),
        )
        .cause("Every node keeps its diskless pool; it goes away with the node.")
        .correction("Delete the node instead, if that is what you want."));
    }
    let mut users = Vec::new();
    for rd in c.state.resource_definitions.values() {
        if rd
            .resources
            .get(&nkey)
            // Through its volumes, and (before it has any) through the StorPoolName it was
            // created with, where its future volumes go.
            .is_some_and(|r| {
                r.volumes.values().any(|v| v.storage_pool == pname)
                    || r.props
                        .get(keys::STOR_POOL_NAME)
                        .is_some_and(|p| p.eq_ignore_ascii_case(pname.as_str()))
            })
        {
            users.push(format!("resource {}", rd.name));
        }
        for sd in rd.snapshots.values() {
            if sd
                .snapshots
                .get(&nkey)
                .is_some_and(|s| s.volume_pools.values().any(|p| *p == pname))
            {
                users.push(format!("snapshot {}/{}", rd.name, sd.name));
            }
        }
    }
    if !users.is_empty() {
        return Err(fail(
            op,
            Obj::StorPool,
            code::IN_USE,
            format!("Storage pool '{pname}' on node '{nkey}' is in use"),
        )
        .cause(format!("Used by: {}.", users.join(", ")))
        .correction("Delete or move those resources and snapshots first."));
    }
    c.state
        .nodes
        .get_mut(&nkey)
        .expect("checked")
        .storage_pools
        .remove(&pname);
    if let Some(o) = c.state.observed.nodes.get_mut(&nkey) {
        o.pools.remove(&pname);
    }
    ctx.ok(
        op,
        Obj::StorPool,
        format!("Storage pool '{pname}' deleted from node '{nkey}'."),
    );
    ctx.deleted(ObjKey::StorPool {
        node: nkey,
        pool: pname,
    });
    Ok(())
}

pub(super) fn report_node(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    node: &str,
    conn: ConnectionStatus,
    caps: Option<Capabilities>,
) -> Res {
    let key = existing_node(c, Op::Modify, Obj::Node, node)?.name.clone();
    let o = c.state.observed.nodes.entry(key.clone()).or_default();
    // What the satellite said of its resources is stale once the connection changes or it
    // connects afresh (it may have been promoted or started a resync meanwhile, also while a
    // controller was down): it must report them again.
    if o.connection != conn || caps.is_some() {
        // A changed connection or a new handshake (capabilities): earlier reports are stale.
        o.resources.clear();
    }
    o.connection = conn;
    if caps.is_some() {
        o.capabilities = caps;
    }
    ctx.ok(
        Op::Modify,
        Obj::Node,
        format!("Node '{key}' reported {conn:?}."),
    );
    ctx.modified(ObjKey::Observed { node: key });
    Ok(())
}

pub(super) fn report_pool(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    node: &str,
    pool: &str,
    free: SizeKib,
    total: SizeKib,
) -> Res {
    let (nkey, pname) = existing_sp(c, Op::Modify, node, pool)?;
    if free > total {
        return Err(fail(
            Op::Modify,
            Obj::StorPool,
            code::INVLD_VLM_SIZE,
            format!("Report for pool '{pname}' on '{nkey}': free {free} exceeds total {total}"),
        )
        .correction("Report free <= total."));
    }
    c.state
        .observed
        .nodes
        .entry(nkey.clone())
        .or_default()
        .pools
        .insert(pname.clone(), PoolCapacity { free, total });
    ctx.ok(
        Op::Modify,
        Obj::StorPool,
        format!("Capacity of '{pname}' on '{nkey}': {free} free of {total}."),
    );
    ctx.modified(ObjKey::Observed { node: nkey });
    Ok(())
}

/// The resource definitions with a resource on `node`.
fn rscs_on(c: &Cluster, node: &NodeName) -> Vec<ResourceName> {
    c.idx
        .rscs_on_node
        .get(node)
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default()
}

/// True if `d` has a diskful replica on `node` that is not being deleted.
fn diskful_on(d: &crate::model::ResourceDefinition, node: &NodeName) -> bool {
    d.resources
        .get(node)
        .is_some_and(|r| !r.is_deleting() && !r.is_diskless())
}

/// A group's filter used to replace diskful replicas: the place count is the request's, and
/// nothing of the group turns it into a diskless or one-off request.
pub(super) fn diskful_only(f: &mut SelectFilter) {
    f.additional_place_count = None;
    f.diskless_type = None;
    f.diskless_on_remaining = None;
}

/// The nodes a replacement may go to: `group`'s list narrowed by `targets` (if any), minus
/// `deny`; `None` when nothing narrows it. `all` are the cluster's nodes.
pub(super) fn replacement_nodes(
    group: Option<&Vec<NodeName>>,
    targets: &[NodeName],
    deny: &[NodeName],
    all: &[NodeName],
) -> Option<Vec<NodeName>> {
    if targets.is_empty() && deny.is_empty() {
        return group.cloned();
    }
    let base: Vec<NodeName> = match (targets.is_empty(), group) {
        (false, Some(g)) => targets.iter().filter(|n| g.contains(n)).cloned().collect(),
        (false, None) => targets.to_vec(),
        (true, Some(g)) => g.clone(),
        (true, None) => all.to_vec(),
    };
    Some(base.into_iter().filter(|n| !deny.contains(n)).collect())
}

/// `NodeEvacuate`: flags the node and its resources `EVACUATE` and places, for every resource
/// with a diskful replica there, a replacement elsewhere (`targets` / `do_not_target` narrow
/// the nodes). All or nothing: if one replacement cannot be placed, nothing changes and the
/// answer says which resource and why. The evacuated replicas are deleted by the balance
/// task once the replacements are in sync (`cluster::balance`).
pub(super) fn node_evacuate(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    name: &str,
    targets: &[String],
    do_not_target: &[String],
) -> Res {
    let op = Op::Modify;
    let node = existing_node(c, op, Obj::Node, name)?;
    let key = node.name.clone();
    if node.flags.contains(NodeFlags::DELETE) {
        return Err(fail(
            op,
            Obj::Node,
            code::EVACUATING,
            format!("Node '{key}' is being deleted or was evicted"),
        )
        .correction("Restore the node first, or let its deletion finish."));
    }
    if node.flags.contains(NodeFlags::EVACUATE) {
        ctx.warn(
            Obj::Node,
            code::WARN_NO_EFFECT,
            format!("Node '{key}' is already being evacuated."),
        );
        return Ok(());
    }
    let mut target_list: Vec<NodeName> = Vec::new();
    let mut deny: Vec<NodeName> = Vec::new();
    for (list, is_target) in [(targets, true), (do_not_target, false)] {
        for t in list {
            let n = existing_node(c, op, Obj::Node, t)?.name.clone();
            if is_target {
                target_list.push(n);
            } else {
                deny.push(n);
            }
        }
    }
    // The nodes a replacement may go to: the group's list narrowed by `target`, minus
    // `do_not_target`; `None` when nothing narrows it.
    let all_nodes: Vec<NodeName> = c.state.nodes.keys().cloned().collect();
    let allowed =
        |group: Option<&Vec<NodeName>>| replacement_nodes(group, &target_list, &deny, &all_nodes);
    let rds = rscs_on(c, &key);
    // Only DRBD replicates: without it a "replacement" would be an empty, unrelated volume.
    for rd in &rds {
        let d = &c.state.resource_definitions[rd];
        let diskful_here = diskful_on(d, &key);
        if diskful_here && !d.layer_stack.contains(&crate::model::LayerKind::DRBD) {
            return Err(fail(
                op,
                Obj::Node,
                code::INVLD_LAYER_STACK,
                format!("Node '{key}' cannot be evacuated: resource '{rd}' has no DRBD layer"),
            )
            .cause("Without DRBD its data cannot be copied to a replacement.")
            .correction("Move or delete that resource first."));
        }
    }
    // All or nothing: a failed replacement restores everything as it was.
    let backup = (c.state.clone(), c.idx.clone());
    let n = c.state.nodes.get_mut(&key).expect("checked");
    n.flags.insert(NodeFlags::EVACUATE);
    ctx.modified(ObjKey::Node { node: key.clone() });
    let mut moved = 0usize;
    for rd in &rds {
        let res = c.one_pending(rd, |c| -> Res<bool> {
            let d = &c.state.resource_definitions[rd];
            let has_diskful_here = diskful_on(d, &key);
            // Live diskful replicas elsewhere (the node is flagged already) plus this one.
            let diskful = d
                .resources
                .values()
                .filter(|r| {
                    !r.is_diskless() && crate::placement::filter::is_live_replica(&c.state, r)
                })
                .count()
                + usize::from(has_diskful_here);
            let group = c
                .state
                .resource_groups
                .get(&d.resource_group)
                .map(|g| g.select_filter.clone())
                .unwrap_or_default();
            let node_list = allowed(group.node_name_list.as_ref());
            let d = c.state.resource_definitions.get_mut(rd).expect("listed");
            if let Some(r) = d.resources.get_mut(&key) {
                r.flags.insert(RscFlags::EVACUATE);
                if has_diskful_here {
                    r.props.set(keys::EVACUATION_REPLICAS, diskful.to_string());
                    // Kept for a replacement placed again later (`cluster::balance`).
                    let join = |l: &[NodeName]| {
                        l.iter().map(NodeName::as_str).collect::<Vec<_>>().join(",")
                    };
                    if !target_list.is_empty() {
                        r.props.set(keys::EVACUATION_TARGET, join(&target_list));
                    }
                    if !deny.is_empty() {
                        r.props.set(keys::EVACUATION_DO_NOT_TARGET, join(&deny));
                    }
                }
            }
            ctx.modified(ObjKey::Rsc {
                rsc_dfn: rd.clone(),
                node: key.clone(),
            });
            if !has_diskful_here {
                // A diskless peer here no longer counts (a tiebreaker is placed elsewhere).
                super::quorum::manage(c, ctx, rd.as_str());
                return Ok(false);
            }
            let mut filter = SelectFilter {
                place_count: Some(u32::try_from(diskful).unwrap_or(u32::MAX)),
                node_name_list: node_list,
                ..Default::default()
            }
            .merged_over(&group);
            diskful_only(&mut filter);
            super::autoplace::place(c, ctx, rd, &filter)?;
            super::quorum::manage(c, ctx, rd.as_str());
            Ok(true)
        });
        match res {
            Ok(true) => moved += 1,
            Ok(false) => {}
            Err(e) => {
                (c.state, c.idx) = backup;
                let mut e = *e;
                e.message = format!(
                    "Node '{key}' cannot be evacuated: resource '{rd}' has no place elsewhere ({})",
                    e.message
                );
                e.op = op;
                return Err(Box::new(e));
            }
        }
    }
    ctx.ok(
        op,
        Obj::Node,
        format!(
            "Node '{key}' is being evacuated: {moved} resource(s) got a replacement replica; the replicas on '{key}' are deleted once the replacements are in sync."
        ),
    );
    Ok(())
}

/// `NodeEvict` (see `Command::NodeEvict`).
pub(super) fn node_evict(c: &mut Cluster, ctx: &mut Ctx<'_>, name: &str) -> Res {
    let op = Op::Modify;
    let node = existing_node(c, op, Obj::Node, name)?;
    let key = node.name.clone();
    if node.flags.contains(NodeFlags::EVICTED) {
        ctx.warn(
            Obj::Node,
            code::WARN_NO_EFFECT,
            format!("Node '{key}' is already evicted."),
        );
        return Ok(());
    }
    if node.flags.contains(NodeFlags::DELETE) {
        return Err(fail(
            op,
            Obj::Node,
            code::INVLD_REQUEST,
            format!("Node '{key}' is being deleted"),
        )
        .correction("Let its deletion finish, or use `node lost`."));
    }
    if c.state
        .observed
        .nodes
        .get(&key)
        .is_some_and(|o| o.connection == ConnectionStatus::ONLINE)
    {
        return Err(fail(
            op,
            Obj::Node,
            code::INVLD_REQUEST,
            format!("Node '{key}' is online and cannot be evicted"),
        )
        .cause("Eviction is for nodes whose satellite is gone; this one is connected.")
        .correction("Use node evacuate to move its resources away, or wait until it is offline."));
    }
    let rds = rscs_on(c, &key);
    let n = c.state.nodes.get_mut(&key).expect("checked");
    n.flags.insert(NodeFlags::EVICTED);
    ctx.modified(ObjKey::Node { node: key.clone() });
    let (mut replaced, mut failed) = (0usize, 0usize);
    for rd in &rds {
        let at = ctx.checkpoint();
        let res = c.one_pending(rd, |c| -> Res<bool> {
            let d = &c.state.resource_definitions[rd];
            let before = d
                .resources
                .values()
                .filter(|r| !r.is_deleting() && !r.is_diskless())
                .count();
            let has_diskful_here = diskful_on(d, &key);
            let d_has_drbd = d.layer_stack.contains(&crate::model::LayerKind::DRBD);
            let group = c.state.resource_groups.get(&d.resource_group);
            let min = super::Chains::new(&c.state)
                .rsc_dfn_policy(rd)
                .get(keys::AUTO_EVICT_MIN_REPLICA_COUNT)
                .and_then(|v| v.trim().parse::<u32>().ok())
                .or_else(|| group.and_then(|g| g.select_filter.place_count))
                .unwrap_or(u32::try_from(before).unwrap_or(u32::MAX));
            let mut filter = SelectFilter {
                place_count: Some(min),
                ..Default::default()
            }
            .merged_over(&group.map(|g| g.select_filter.clone()).unwrap_or_default());
            diskful_only(&mut filter);
            let d = c.state.resource_definitions.get_mut(rd).expect("listed");
            if let Some(r) = d.resources.get_mut(&key) {
                if r.flags.contains(RscFlags::INACTIVE) {
                    r.flags.insert(RscFlags::INACTIVE_BEFORE_EVICTION);
                }
                r.flags.insert(RscFlags::EVICTED);
            }
            ctx.modified(ObjKey::Rsc {
                rsc_dfn: rd.clone(),
                node: key.clone(),
            });
            // Only DRBD replicates; without it there is nothing to copy from.
            if !has_diskful_here || !d_has_drbd {
                // A diskless peer here no longer counts (a tiebreaker is placed elsewhere).
                super::quorum::manage(c, ctx, rd.as_str());
                return Ok(false);
            }
            // Only what the place count still lacks: a replica elsewhere may be enough.
            super::autoplace::place(c, ctx, rd, &filter)?;
            super::quorum::manage(c, ctx, rd.as_str());
            Ok(true)
        });
        match res {
            Ok(true) => replaced += 1,
            Ok(false) => {}
            Err(w) => {
                // The resource stays evicted (`place` rolled back only its own attempt); quorum
                // and tiebreakers still follow the lost replica.
                ctx.rewind(at);
                ctx.modified(ObjKey::Rsc {
                    rsc_dfn: rd.clone(),
                    node: key.clone(),
                });
                ctx.warn_from(*w);
                c.one_pending(rd, |c| super::quorum::manage(c, ctx, rd.as_str()));
                failed += 1;
            }
        }
    }
    ctx.ok(
        op,
        Obj::Node,
        format!(
            "Node '{key}' evicted: {} resource(s) evicted, {replaced} got replacements, {failed} could not be replaced (see the warnings).",
            rds.len()
        ),
    );
    Ok(())
}

/// `NodeRestore`: cancels an evacuation (the node and its resources lose `EVACUATE`;
/// replacements already placed stay, the balance task removes surplus replicas), or un-evicts
/// (evicted resources are reactivated, or marked for deletion with `delete_resources`).
pub(super) fn node_restore(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    name: &str,
    delete_resources: bool,
) -> Res {
    let op = Op::Modify;
    let key = existing_node(c, op, Obj::Node, name)?.name.clone();
    let node = c.state.nodes.get_mut(&key).expect("checked");
    let evicted = node.flags.contains(NodeFlags::EVICTED);
    if !evicted && !node.flags.contains(NodeFlags::EVACUATE) {
        ctx.warn(
            Obj::Node,
            code::WARN_NO_EFFECT,
            format!("Node '{key}' is neither evacuating nor evicted."),
        );
        return Ok(());
    }
    node.flags.remove(NodeFlags::EVACUATE);
    node.flags.remove(NodeFlags::EVICTED);
    ctx.modified(ObjKey::Node { node: key.clone() });
    if let Some(o) = c.state.observed.nodes.get_mut(&key) {
        o.resources.clear();
    }
    let rds = rscs_on(c, &key);
    let mut to_delete = Vec::new();
    for rd in &rds {
        let d = c.state.resource_definitions.get_mut(rd).expect("index");
        let Some(r) = d.resources.get_mut(&key) else {
            continue;
        };
        let mut changed = false;
        if r.flags.contains(RscFlags::EVACUATE) {
            r.flags.remove(RscFlags::EVACUATE);
            r.props.remove(keys::EVACUATION_REPLICAS);
            r.props.remove(keys::EVACUATION_TARGET);
            r.props.remove(keys::EVACUATION_DO_NOT_TARGET);
            changed = true;
        }
        if r.flags.contains(RscFlags::EVICTED) {
            r.flags.remove(RscFlags::EVICTED);
            if r.flags.contains(RscFlags::INACTIVE_BEFORE_EVICTION) {
                r.flags.remove(RscFlags::INACTIVE_BEFORE_EVICTION);
                r.flags.insert(RscFlags::INACTIVE);
            }
            changed = true;
            if delete_resources && !r.is_deleting() {
                to_delete.push(rd.clone());
            }
        }
        if changed {
            ctx.modified(ObjKey::Rsc {
                rsc_dfn: rd.clone(),
                node: key.clone(),
            });
        }
    }
    let mut deleted = 0usize;
    for rd in &to_delete {
        // A refused delete (snapshots depending on the volume) changes nothing: the resource
        // is reactivated instead, and the warning says why.
        // Marked DELETE, a resource no longer counts in the pool usage.
        match c.one_pending(rd, |c| {
            super::ops_rsc::rsc_delete_by_system(c, ctx, rd.as_str(), key.as_str())
        }) {
            Ok(()) => deleted += 1,
            Err(e) => {
                ctx.warn_from(*e);
            }
        }
    }
    // Replicas count again (or go): quorum and tiebreakers follow.
    for rd in &rds {
        c.one_pending(rd, |c| super::quorum::manage(c, ctx, rd.as_str()));
    }
    ctx.ok(
        op,
        Obj::Node,
        format!(
            "Node '{key}' restored{}.",
            if deleted == 0 {
                String::new()
            } else {
                format!("; {deleted} evicted resource(s) marked for deletion")
            }
        ),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_pool_keys_rewrite() {
        let check = |input: &[(&str, &str)], expect: Option<&str>| {
            let m: BTreeMap<String, String> = input
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect();
            let out = rewrite_legacy_pool_keys(&m);
            assert_eq!(
                out.get("StorDriver/StorPoolName").map(String::as_str),
                expect,
                "{input:?}"
            );
            assert!(LEGACY_POOL_KEYS.iter().all(|k| !out.contains_key(*k)));
        };
        check(&[("StorDriver/LvmVg", "vg0")], Some("vg0"));
        check(
            &[("StorDriver/LvmVg", "vg0"), ("StorDriver/ThinPool", "thin")],
            Some("vg0/thin"),
        );
        check(&[("StorDriver/ZPool", "tank")], Some("tank"));
        check(&[("StorDriver/ZPoolThin", "tank/thin")], Some("tank/thin"));
        check(
            &[("StorDriver/FileDir", "/var/lib/pool")],
            Some("/var/lib/pool"),
        );
        check(
            &[("StorDriver/StorPoolName", "x"), ("StorDriver/LvmVg", "y")],
            Some("x"),
        );
        check(&[("Aux/a", "b")], None);
    }

    #[test]
    fn backing_name_rules() {
        use ProviderKind::*;
        let check =
            |k, v: &str, ok: bool| assert_eq!(check_backing_name(k, v).is_ok(), ok, "{k} {v}");
        check(LVM, "vg0", true);
        check(LVM, "-vg", false);
        check(LVM, "vg;rm", false);
        check(LVM_THIN, "vg0/thin", true);
        check(LVM_THIN, "vg0", false);
        check(ZFS, "tank/data", true);
        check(ZFS, "tank/$(x)", false);
        check(FILE, "/var/lib/linstor-pools/p1", true);
        check(FILE, "relative/dir", false);
        check(FILE, "/a/../b", false);
        check(FILE_THIN, "/a b", false);
    }
}
