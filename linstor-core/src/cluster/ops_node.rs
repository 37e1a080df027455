//! Commands on the controller's properties, nodes and their net interfaces, and the
//! satellites' connection reports.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::Cluster;
use super::api::{Command, NetIfSpec, ObjKey};
use super::ctx::{BoxedEntry, Ctx, Res, fail};
use super::lookup::{existing_node, found, node_name, parse_name};
use super::ops_pool::diskless_pool;
use super::ops_rsc::remove_rd;
use super::prop_edit::{apply_modify, props_from};
use crate::keys;
use crate::model::{
    Capabilities, ConnectionStatus, NetInterface, Node, NodeFlags, NodeType, RscDfnFlags,
};
use crate::name::{NetIfName, NodeName, ResourceName};
use crate::props::{Level, PropsModify};
use crate::rc::{Obj, Op, RcEntry, Severity, code};
use crate::vec_map::VecMap;

/// Runs a command on the controller's properties, a node or a net interface (routed here by
/// `Cluster::dispatch`).
pub(super) fn run(c: &mut Cluster, ctx: &mut Ctx<'_>, cmd: Command) -> Res {
    use Command as C;
    match cmd {
        C::CtrlPropsModify { props } => ctrl_props_modify(c, ctx, &props),
        C::NodeCreate {
            name,
            node_type,
            net_interfaces,
            props,
        } => node_create(c, ctx, &name, node_type, &net_interfaces, &props),
        C::NodeModify {
            name,
            node_type,
            props,
        } => node_modify(c, ctx, &name, node_type, &props),
        C::NodeDelete { name } => node_delete(c, ctx, &name, false),
        C::NodeLost { name } => node_delete(c, ctx, &name, true),
        C::NetIfCreate { node, netif } => netif_create(c, ctx, &node, &netif),
        C::NetIfModify { node, netif } => netif_modify(c, ctx, &node, &netif),
        C::NetIfDelete { node, name } => netif_delete(c, ctx, &node, &name),
        C::NodeReport {
            node,
            connection,
            capabilities,
        } => report_node(c, ctx, &node, connection, capabilities),
        C::NodeReconnect { name } => node_reconnect(c, ctx, &name),
        other => unreachable!("not a node command: {other:?}"),
    }
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
    let mut ifs = VecMap::new();
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
    let what = format!("node '{name}'");
    let Some(node) = found(ctx, Obj::Node, &what, existing_node(c, op, Obj::Node, name))? else {
        return Ok(());
    };
    let key = node.name.clone();
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
    drop_node_resources(c, ctx, &key, &rscs);
    drop_node_snapshots(c, ctx, &key);
    for (a, b) in crate::model::remove_connections_of(&mut c.state.node_connections, &key) {
        ctx.deleted(ObjKey::NodeConn {
            node_a: a,
            node_b: b,
        });
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

/// Removes the resources of a node that goes (`rscs`: the definitions with one there), with
/// their connections; a definition marked for deletion goes with its last resource.
fn drop_node_resources(c: &mut Cluster, ctx: &mut Ctx<'_>, key: &NodeName, rscs: &[ResourceName]) {
    for rd_name in rscs {
        let rd = c
            .state
            .resource_definitions
            .get_mut(rd_name)
            .expect("index is consistent");
        if let Some(r) = rd.resources.remove(key) {
            if let Some(o) = c.state.observed.nodes.get_mut(key) {
                o.resources.remove(rd_name);
            }
            if let Some(ports) = c.idx.ports.get_mut(key) {
                for p in &r.tcp_ports {
                    ports.remove(p);
                }
            }
            for (a, b) in crate::model::remove_connections_of(&mut rd.resource_connections, key) {
                ctx.deleted(ObjKey::RscConn {
                    rsc_dfn: rd_name.clone(),
                    node_a: a,
                    node_b: b,
                });
            }
            ctx.deleted(ObjKey::Rsc {
                rsc_dfn: rd_name.clone(),
                node: key.clone(),
            });
        }
        let rd_gone = rd.flags.contains(RscDfnFlags::DELETE) && rd.resources.is_empty();
        if rd_gone {
            remove_rd(c, ctx, rd_name);
        }
    }
}

/// Removes a node's snapshots from their definitions (the node goes).
fn drop_node_snapshots(c: &mut Cluster, ctx: &mut Ctx<'_>, key: &NodeName) {
    for rd in c.state.resource_definitions.values_mut() {
        for sd in rd.snapshots.values_mut() {
            if sd.snapshots.remove(key).is_some() {
                ctx.changes.modified.push(ObjKey::SnapshotDfn {
                    rsc_dfn: rd.name.clone(),
                    snapshot: sd.name.clone(),
                });
            }
        }
    }
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
    let nif = parse_name(op, Obj::NetIf, code::INVLD_NET_NAME, name, NetIfName::new)?;
    let what = format!("net interface '{name}' of node '{node}'");
    let Some(nd) = found(
        ctx,
        Obj::NetIf,
        &what,
        existing_node(c, op, Obj::NetIf, node),
    )?
    else {
        return Ok(());
    };
    let key = nd.name.clone();
    let n = c.state.nodes.get(&key).expect("checked");
    if !n.net_interfaces.contains_key(&nif) {
        let missing = Err(fail(
            op,
            Obj::NetIf,
            code::NOT_FOUND_NET_IF,
            format!("Net interface '{name}' not found on node '{key}'"),
        ));
        found::<()>(ctx, Obj::NetIf, &what, missing)?;
        return Ok(());
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

/// `NodeReconnect`: nothing of the state changes; the answer says whether the controller is to
/// reconnect (an evicted node is not reconnected: `node restore` does that).
pub(super) fn node_reconnect(c: &Cluster, ctx: &mut Ctx<'_>, name: &str) -> Res {
    let node = existing_node(c, Op::Modify, Obj::Node, name)?;
    let key = &node.name;
    if node.flags.contains(NodeFlags::EVICTED) {
        let mut w = RcEntry::new(
            Severity::Warning,
            Op::Modify,
            Obj::Node,
            code::WARN_NODE_EVICTED,
            format!("Node '{key}' is evicted and will not be reconnected."),
        );
        w.correction = Some(format!("Use `linstor node restore {key}` to reconnect it."));
        ctx.rc.push(w);
        return Ok(());
    }
    let mut e = RcEntry::new(
        Severity::Success,
        Op::Modify,
        Obj::Node,
        0,
        format!("Node '{key}' will be reconnected."),
    );
    e.obj_refs.insert("Node".into(), key.to_string());
    ctx.rc.push(e);
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
        o.snapshots.clear();
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
