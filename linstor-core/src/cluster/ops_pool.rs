//! Commands on storage pool definitions and storage pools, and the satellites' capacity
//! reports.

use std::collections::BTreeMap;

use super::Cluster;
use super::api::{Command, ObjKey};
use super::ctx::{BoxedEntry, Ctx, Res, fail};
use super::lookup::{existing_node, existing_sp, existing_spd, found, pool_name};
use super::prop_edit::{apply_modify, props_from};
use crate::keys;
use crate::model::{NodeFlags, PoolCapacity, ProviderKind, StoragePool, StoragePoolDefinition};
use crate::name::{NodeName, StorPoolName, well_known};
use crate::props::{LEGACY_POOL_KEYS, Level, PropsModify};
use crate::rc::{Obj, Op, code};
use crate::size::SizeKib;

/// Runs a command on a storage pool definition or a storage pool (routed here by
/// `Cluster::dispatch`).
pub(super) fn run(c: &mut Cluster, ctx: &mut Ctx<'_>, cmd: Command) -> Res {
    use Command as C;
    match cmd {
        C::StorPoolDfnCreate { name, props } => spd_create(c, ctx, &name, &props),
        C::StorPoolDfnModify { name, props } => spd_modify(c, ctx, &name, &props),
        C::StorPoolDfnDelete { name } => spd_delete(c, ctx, &name),
        C::StorPoolCreate {
            node,
            name,
            kind,
            props,
            shared_space,
        } => sp_create(c, ctx, &node, &name, kind, &props, shared_space.as_deref()),
        C::StorPoolModify { node, name, props } => sp_modify(c, ctx, &node, &name, &props),
        C::StorPoolDelete { node, name } => sp_delete(c, ctx, &node, &name),
        C::StorPoolReport {
            node,
            pool,
            free,
            total,
        } => report_pool(c, ctx, &node, &pool, free, total),
        other => unreachable!("not a storage pool command: {other:?}"),
    }
}

/// The `DfltDisklessStorPool` every node gets.
pub(super) fn diskless_pool(node: &NodeName, ctx: &mut Ctx<'_>) -> StoragePool {
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
    let what = format!("storage pool definition '{name}'");
    let Some(n) = found(ctx, Obj::StorPoolDfn, &what, existing_spd(c, op, name))? else {
        return Ok(());
    };
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

/// The shared-space name of a new pool: the one given (checked), or `<node>;<pool>`.
fn shared_space_name(
    op: Op,
    nkey: &NodeName,
    pname: &StorPoolName,
    shared: Option<&str>,
) -> Res<String> {
    Ok(match shared {
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
    })
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
    let shared = shared_space_name(op, &nkey, &pname, shared)?;
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
    let what = format!("storage pool '{name}' on node '{node}'");
    let Some((nkey, pname)) = found(ctx, Obj::StorPool, &what, existing_sp(c, op, node, name))?
    else {
        return Ok(());
    };
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
