//! Lookups: names parsed with LINSTOR's invalid-name codes, and existing objects found or
//! refused with its not-found codes. Every command module finds its objects here.

use super::Cluster;
use super::ctx::{BoxedEntry, Ctx, Res, fail};
use crate::model::{Node, ResourceDefinition, RscDfnFlags};
use crate::name::{KvsName, NodeName, ResourceGroupName, ResourceName, SnapshotName, StorPoolName};
use crate::rc::{Obj, Op, RcEntry, Severity, code};

/// Parses a name of type `T`, mapping a failure to LINSTOR's invalid-name code.
pub(crate) fn parse_name<T>(
    op: Op,
    obj: Obj,
    invalid_code: u16,
    value: &str,
    parse: impl FnOnce(&str) -> Result<T, crate::name::NameError>,
) -> Res<T> {
    parse(value).map_err(|e| {
        let rule = e.rule.to_string();
        fail(
            op,
            obj,
            invalid_code,
            format!("Invalid {} '{value}'", e.kind.label()),
        )
        .cause(format!("The {} {rule}.", e.kind.label()))
        .correction(format!(
            "Choose a {} that follows the rule above.",
            e.kind.label()
        ))
    })
}

/// For deletes, which are idempotent as in LINSTOR: a lookup refused because something does not
/// exist (a `NOT_FOUND` code) becomes the warning `WARN_NOT_FOUND` "Deletion of {what} had no
/// effect." and `None` (the command succeeds and changes nothing); other refusals (an invalid
/// name) stay refusals.
pub(super) fn found<T>(
    ctx: &mut Ctx<'_>,
    obj: Obj,
    what: &str,
    looked_up: Res<T>,
) -> Res<Option<T>> {
    match looked_up {
        Ok(v) => Ok(Some(v)),
        Err(e) if (300..400).contains(&e.code) => {
            let mut w = RcEntry::new(
                Severity::Warning,
                Op::Delete,
                obj,
                code::WARN_NOT_FOUND,
                format!("Deletion of {what} had no effect."),
            );
            w.cause = Some(format!("{}: it does not exist.", e.message));
            w.correction =
                Some("Nothing to do; check the name if you expected it to exist.".to_owned());
            w.obj_refs = e.obj_refs;
            ctx.rc.push(w);
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

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

pub(super) fn existing_spd(c: &Cluster, op: Op, name: &str) -> Res<StorPoolName> {
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

pub(super) fn existing_sp(
    c: &Cluster,
    op: Op,
    node: &str,
    name: &str,
) -> Res<(NodeName, StorPoolName)> {
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

pub(super) fn rd_name(op: Op, s: &str) -> Res<ResourceName> {
    parse_name(op, Obj::RscDfn, code::INVLD_RSC_NAME, s, ResourceName::new)
}

/// The resource definition named `s` (one lookup; callers take `.name` when they need it).
pub(super) fn existing_rd<'c>(
    c: &'c Cluster,
    op: Op,
    obj: Obj,
    s: &str,
) -> Res<&'c ResourceDefinition> {
    let n = rd_name(op, s)?;
    c.state.resource_definitions.get(&n).ok_or_else(|| {
        fail(
            op,
            obj,
            code::NOT_FOUND_RSC_DFN,
            format!("Resource definition '{s}' not found"),
        )
        .correction("Check the name with `linstor resource-definition list`, or create it first.")
        .obj_ref("RscDfn", s)
    })
}

/// [`existing_rd`], refused while it is being deleted.
pub(super) fn live_rd<'c>(
    c: &'c Cluster,
    op: Op,
    obj: Obj,
    s: &str,
) -> Res<&'c ResourceDefinition> {
    let d = existing_rd(c, op, obj, s)?;
    let n = &d.name;
    if d.flags.contains(RscDfnFlags::DELETE) {
        return Err(fail(
            op,
            obj,
            code::IN_USE,
            format!("Resource definition '{n}' is being deleted"),
        )
        .cause("Its deletion was requested; its resources are being removed.")
        .correction("Wait until it is gone, then create it again if needed.")
        .obj_ref("RscDfn", n));
    }
    Ok(d)
}

pub(super) fn existing_rsc(
    c: &Cluster,
    op: Op,
    rd: &str,
    node: &str,
) -> Res<(ResourceName, NodeName)> {
    let d = existing_rd(c, op, Obj::Rsc, rd)?;
    let n = d.name.clone();
    let nk = parse_name(op, Obj::Rsc, code::INVLD_NODE_NAME, node, NodeName::new)?;
    if !d.resources.contains_key(&nk) {
        return Err(fail(
            op,
            Obj::Rsc,
            code::NOT_FOUND_RSC,
            format!("Resource '{n}' not found on node '{node}'"),
        )
        .correction("Check with `linstor resource list`.")
        .obj_ref("RscDfn", &n)
        .obj_ref("Node", node));
    }
    Ok((n, nk))
}

pub(super) fn rg_name(op: Op, s: &str) -> Res<ResourceGroupName> {
    parse_name(
        op,
        Obj::RscGrp,
        code::INVLD_RSC_GRP_NAME,
        s,
        ResourceGroupName::new,
    )
}

pub(super) fn existing_rg(c: &Cluster, op: Op, obj: Obj, s: &str) -> Res<ResourceGroupName> {
    let n = rg_name(op, s)?;
    if !c.state.resource_groups.contains_key(&n) {
        return Err(fail(
            op,
            obj,
            code::NOT_FOUND_RSC_GRP,
            format!("Resource group '{s}' not found"),
        )
        .correction("Check the name with `linstor resource-group list`, or create it first.")
        .obj_ref("RscGrp", s));
    }
    Ok(n)
}

pub(super) fn snap_name(op: Op, s: &str) -> Res<SnapshotName> {
    parse_name(
        op,
        Obj::Snapshot,
        code::INVLD_SNAPSHOT_NAME,
        s,
        SnapshotName::new,
    )
}

pub(super) fn existing_snap(
    c: &Cluster,
    op: Op,
    rd: &str,
    name: &str,
) -> Res<(crate::name::ResourceName, SnapshotName)> {
    let d = existing_rd(c, op, Obj::Snapshot, rd)?;
    let n = d.name.clone();
    let sn = snap_name(op, name)?;
    if !d.snapshots.contains_key(&sn) {
        return Err(fail(
            op,
            Obj::Snapshot,
            code::NOT_FOUND_SNAPSHOT_DFN,
            format!("Snapshot '{name}' of '{n}' not found"),
        )
        .correction("Check with `linstor snapshot list`."));
    }
    Ok((n, sn))
}

pub(super) fn kvs_name(op: Op, s: &str) -> Res<KvsName> {
    parse_name(op, Obj::Kvs, code::INVLD_KVS_NAME, s, KvsName::new)
}

/// The resource definitions with a resource on `node`.
pub(super) fn rscs_on(c: &Cluster, node: &NodeName) -> Vec<ResourceName> {
    c.idx
        .rscs_on_node
        .get(node)
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default()
}

/// True if the satellite of `node` reported its resource of `rd` in use (Primary).
pub(super) fn in_use(c: &Cluster, rd: &ResourceName, node: &NodeName) -> bool {
    c.state
        .observed
        .nodes
        .get(node)
        .and_then(|o| o.resources.get(rd))
        .is_some_and(|s| s.in_use)
}

/// Refuses while a resource of `rd` is in use (LINSTOR's `FAIL_IN_USE`, its words).
pub(super) fn none_in_use(c: &Cluster, op: Op, obj: Obj, rd: &ResourceDefinition) -> Res {
    let n = &rd.name;
    match rd.resources.keys().find(|nk| in_use(c, n, nk)) {
        Some(nk) => Err(fail(
            op,
            obj,
            code::IN_USE,
            format!("Resource '{n}' on node '{nk}' is still in use."),
        )
        .cause("Resource is mounted/in use.")
        .correction(format!("Un-mount resource '{n}' on the node '{nk}'."))),
        None => Ok(()),
    }
}
