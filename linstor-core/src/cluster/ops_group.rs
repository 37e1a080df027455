//! Commands on resource groups and volume groups — including `RscGrpSpawn` (a definition from a
//! group, deployed) and `RscGrpAdjust` (the group's definitions brought to its place count) —
//! and the objects that always exist.

use std::collections::BTreeMap;

use super::Cluster;
use super::api::{Command, NodePlacement, ObjKey};
use super::autoplace::{diskful_only, place, validate_filter};
use super::ctx::{BoxedEntry, Ctx, Res, fail};
use super::lookup::{existing_rg, found, rg_name};
use super::numbers::choose_vlm_nr;
use super::ops_pool::ensure_spd;
use super::ops_rsc::{
    RdCreateArgs, RscCreateArgs, check_size, rd_create, remove_rd, rsc_create, vd_create,
};
use super::prop_edit::{apply_modify, props_from};
use super::quorum;
use crate::model::{ResourceGroup, RscDfnFlags, SelectFilter, VlmGrpFlags, VolumeGroup};
use crate::name::{ResourceGroupName, ResourceName, StorPoolName, well_known};
use crate::placement::filter::is_live_replica;
use crate::props::{Level, PropsModify};
use crate::rc::{Obj, Op, code};
use crate::size::SizeKib;
use crate::vec_map::VecMap;

/// Runs a command on a resource group or volume group (routed here by `Cluster::dispatch`).
pub(super) fn run(c: &mut Cluster, ctx: &mut Ctx<'_>, cmd: Command) -> Res {
    use Command as C;
    match cmd {
        C::RscGrpCreate {
            name,
            description,
            props,
            select_filter,
            peer_slots,
        } => rg_create(
            c,
            ctx,
            &name,
            description,
            &props,
            select_filter,
            peer_slots,
        ),
        C::RscGrpModify {
            name,
            description,
            props,
            select_filter,
            peer_slots,
        } => rg_modify(
            c,
            ctx,
            &name,
            description,
            &props,
            select_filter,
            peer_slots,
        ),
        C::RscGrpDelete { name } => rg_delete(c, ctx, &name),
        C::RscGrpAdjust {
            name,
            select_filter,
        } => rg_adjust(c, ctx, name.as_deref(), select_filter.as_ref()),
        C::RscGrpSpawn {
            rsc_grp,
            rsc_dfn,
            external_name,
            volume_sizes,
            partial,
            nodes,
            select_filter,
            definitions_only,
            peer_slots,
            rsc_dfn_props,
        } => {
            let args = SpawnArgs {
                rsc_grp: &rsc_grp,
                rsc_dfn: &rsc_dfn,
                external_name,
                volume_sizes: &volume_sizes,
                partial,
                nodes: &nodes,
                select_filter: select_filter.as_ref(),
                definitions_only,
                peer_slots,
                rsc_dfn_props: &rsc_dfn_props,
            };
            spawn(c, ctx, args)?;
            quorum::manage(c, ctx, &rsc_dfn);
            Ok(())
        }
        C::VlmGrpCreate {
            rsc_grp,
            number,
            props,
            flags,
        } => vg_create(c, ctx, &rsc_grp, number, &props, flags),
        C::VlmGrpModify {
            rsc_grp,
            number,
            props,
            gross_size,
        } => vg_modify(c, ctx, (&rsc_grp, number), &props, gross_size),
        C::VlmGrpDelete { rsc_grp, number } => vg_delete(c, ctx, &rsc_grp, number),
        other => unreachable!("not a group command: {other:?}"),
    }
}

/// Creates `DfltRscGrp` and the `DfltDisklessStorPool` definition if missing.
pub(super) fn ensure_defaults(c: &mut Cluster, ctx: &mut Ctx<'_>) {
    let rg = ResourceGroupName::new(well_known::DFLT_RSC_GRP).expect("valid constant");
    if let std::collections::btree_map::Entry::Vacant(slot) =
        c.state.resource_groups.entry(rg.clone())
    {
        slot.insert(ResourceGroup {
            name: rg,
            description: String::new(),
            props: Default::default(),
            select_filter: SelectFilter::default(),
            peer_slots: None,
            volume_groups: VecMap::new(),
            uuid: ctx.uuid(),
        });
    }
    let dl = StorPoolName::new(well_known::DFLT_DISKLESS_STOR_POOL).expect("valid constant");
    ensure_spd(c, ctx, &dl);
}

fn check_peer_slots(op: Op, obj: Obj, p: Option<u8>) -> Res {
    match p {
        Some(n) if !(1..=31).contains(&n) => Err(fail(
            op,
            obj,
            code::INVLD_PEER_SLOTS,
            format!("Invalid peer slots {n}"),
        )
        .correction("Use 1 to 31 peer slots (default 7).")),
        _ => Ok(()),
    }
}

/// LINSTOR's `addUnknownStoragePoolWarning`: one WARN_NOT_FOUND for the pools of a group's
/// filter that no node has, or that have no pool of the expected kind (a diskless pool in
/// `storage_pool_list`, a diskful one in `storage_pool_diskless_list`). The group is kept as
/// given: the pools may be created later.
fn unknown_pool_warning(c: &Cluster, ctx: &mut Ctx<'_>, f: &SelectFilter) {
    let diskful = f
        .storage_pool
        .iter()
        .chain(f.storage_pool_list.iter().flatten());
    let diskless = f.storage_pool_diskless_list.iter().flatten();
    let (mut unknown, mut not_diskful, mut not_diskless) = (Vec::new(), Vec::new(), Vec::new());
    for (name, want_disk) in diskful
        .map(|p| (p, true))
        .chain(diskless.map(|p| (p, false)))
    {
        let kinds: Vec<bool> = c
            .state
            .nodes
            .values()
            .filter_map(|nd| nd.storage_pools.get(name))
            .map(|p| p.kind.is_diskful())
            .collect();
        let list = if kinds.is_empty() {
            &mut unknown
        } else if !kinds.contains(&want_disk) {
            if want_disk {
                &mut not_diskful
            } else {
                &mut not_diskless
            }
        } else {
            continue;
        };
        if !list.contains(&name.as_str()) {
            list.push(name.as_str());
        }
    }
    let mut parts = Vec::new();
    if !not_diskless.is_empty() {
        parts.push(format!("The following configured storage pools are diskful, but are wrongly configured to be used for diskless autoplacements: {}.", not_diskless.join(", ")));
    }
    if !not_diskful.is_empty() {
        parts.push(format!("The following configured storage pools are diskless, but are wrongly configured to be used for diskful autoplacements: {}.", not_diskful.join(", ")));
    }
    if !unknown.is_empty() {
        parts.push(format!(
            "The following configured storage pools do not exist on any node: {}.",
            unknown.join(", ")
        ));
    }
    if !parts.is_empty() {
        ctx.warn(Obj::RscGrp, code::WARN_NOT_FOUND, parts.join(" "));
    }
}

pub(super) fn rg_create(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    name: &str,
    description: String,
    props: &BTreeMap<String, String>,
    filter: SelectFilter,
    peer_slots: Option<u8>,
) -> Res {
    let op = Op::Create;
    let n = rg_name(op, name)?;
    if c.state.resource_groups.contains_key(&n) {
        return Err(fail(
            op,
            Obj::RscGrp,
            code::EXISTS_RSC_GRP,
            format!("Resource group '{n}' already exists"),
        )
        .correction("Modify it instead, or choose another name."));
    }
    c.validate_props(op, Obj::RscGrp, Level::RscGrp, props)?;
    validate_filter(op, Obj::RscGrp, &filter)?;
    check_peer_slots(op, Obj::RscGrp, peer_slots)?;
    let g = ResourceGroup {
        name: n.clone(),
        description,
        props: props_from(props, Level::RscGrp),
        select_filter: filter,
        peer_slots,
        volume_groups: VecMap::new(),
        uuid: ctx.uuid(),
    };
    unknown_pool_warning(c, ctx, &g.select_filter);
    c.state.resource_groups.insert(n.clone(), g);
    ctx.ok(
        op,
        Obj::RscGrp,
        format!("New resource group '{n}' created."),
    );
    ctx.created(ObjKey::RscGrp { rsc_grp: n });
    Ok(())
}

pub(super) fn rg_modify(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    name: &str,
    description: Option<String>,
    m: &PropsModify,
    filter: Option<SelectFilter>,
    peer_slots: Option<u8>,
) -> Res {
    let op = Op::Modify;
    let n = existing_rg(c, op, Obj::RscGrp, name)?;
    c.validate_modify(Obj::RscGrp, Level::RscGrp, m)?;
    if let Some(f) = &filter {
        validate_filter(op, Obj::RscGrp, f)?;
    }
    check_peer_slots(op, Obj::RscGrp, peer_slots)?;
    let g = c.state.resource_groups.get_mut(&n).expect("checked");
    if let Some(d) = description {
        g.description = d;
    }
    let filter_given = filter.is_some();
    if let Some(f) = filter {
        g.select_filter = f;
    }
    if peer_slots.is_some() {
        g.peer_slots = peer_slots;
    }
    apply_modify(&mut g.props, m, Level::RscGrp);
    if filter_given {
        let f = c.state.resource_groups[&n].select_filter.clone();
        unknown_pool_warning(c, ctx, &f);
    }
    ctx.ok(op, Obj::RscGrp, format!("Resource group '{n}' modified."));
    ctx.modified(ObjKey::RscGrp { rsc_grp: n });
    Ok(())
}

pub(super) fn rg_delete(c: &mut Cluster, ctx: &mut Ctx<'_>, name: &str) -> Res {
    let op = Op::Delete;
    let what = format!("resource group '{name}'");
    let Some(n) = found(
        ctx,
        Obj::RscGrp,
        &what,
        existing_rg(c, op, Obj::RscGrp, name),
    )?
    else {
        return Ok(());
    };
    if n.as_str().eq_ignore_ascii_case(well_known::DFLT_RSC_GRP) {
        return Err(fail(
            op,
            Obj::RscGrp,
            code::IN_USE,
            format!("Resource group '{n}' cannot be deleted"),
        )
        .cause("It is the default group of every resource definition created without one.")
        .correction("Nothing to do: it is built in."));
    }
    let users: Vec<String> = c
        .state
        .resource_definitions
        .values()
        .filter(|d| d.resource_group == n)
        .map(|d| d.name.to_string())
        .take(10)
        .collect();
    if !users.is_empty() {
        return Err(fail(
            op,
            Obj::RscGrp,
            code::EXISTS_RSC_DFN,
            format!(
                "Cannot delete resource group '{n}' because it has existing resource definitions"
            ),
        )
        .cause(format!("Resource definitions in it: {}.", users.join(", ")))
        .correction("Delete those resource definitions or move them to another group first."));
    }
    let g = c.state.resource_groups.remove(&n).expect("checked");
    for nr in g.volume_groups.keys() {
        ctx.deleted(ObjKey::VlmGrp {
            rsc_grp: n.clone(),
            number: *nr,
        });
    }
    ctx.ok(op, Obj::RscGrp, format!("Resource group '{n}' deleted."));
    ctx.deleted(ObjKey::RscGrp { rsc_grp: n });
    Ok(())
}

pub(super) fn vg_create(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    rg: &str,
    number: Option<u16>,
    props: &BTreeMap<String, String>,
    flags: VlmGrpFlags,
) -> Res {
    let op = Op::Create;
    let n = existing_rg(c, op, Obj::VlmGrp, rg)?;
    c.validate_props(op, Obj::VlmGrp, Level::VlmGrp, props)?;
    let g = c.state.resource_groups.get(&n).expect("checked");
    let nr = choose_vlm_nr(op, Obj::VlmGrp, number, &g.volume_groups, |nr| {
        fail(
            op,
            Obj::VlmGrp,
            code::EXISTS_VLM_GRP,
            format!("Volume group {nr} already exists in '{n}'"),
        )
        .correction("Choose another number or omit it.")
    })?;
    let vg = VolumeGroup {
        number: nr,
        props: props_from(props, Level::VlmGrp),
        flags,
        uuid: ctx.uuid(),
    };
    c.state
        .resource_groups
        .get_mut(&n)
        .expect("checked")
        .volume_groups
        .insert(nr, vg);
    ctx.ok(
        op,
        Obj::VlmGrp,
        format!("New volume group {nr} created in resource group '{n}'."),
    );
    ctx.created(ObjKey::VlmGrp {
        rsc_grp: n,
        number: nr,
    });
    Ok(())
}

/// `VlmGrpModify`: properties and the `GROSS_SIZE` flag.
pub(super) fn vg_modify(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    (rg, number): (&str, u16),
    m: &PropsModify,
    gross_size: Option<bool>,
) -> Res {
    let op = Op::Modify;
    let n = existing_rg(c, op, Obj::VlmGrp, rg)?;
    if !c.state.resource_groups[&n]
        .volume_groups
        .contains_key(&number)
    {
        return Err(fail(
            op,
            Obj::VlmGrp,
            code::NOT_FOUND_VLM_GRP,
            format!("Volume group {number} not found in '{n}'"),
        )
        .correction("Check with `linstor volume-group list`, or create it first."));
    }
    c.validate_modify(Obj::VlmGrp, Level::VlmGrp, m)?;
    let vg = c
        .state
        .resource_groups
        .get_mut(&n)
        .and_then(|g| g.volume_groups.get_mut(&number))
        .expect("checked");
    apply_modify(&mut vg.props, m, Level::VlmGrp);
    match gross_size {
        Some(true) => vg.flags.insert(VlmGrpFlags::GROSS_SIZE),
        Some(false) => vg.flags.remove(VlmGrpFlags::GROSS_SIZE),
        None => {}
    }
    ctx.ok(
        op,
        Obj::VlmGrp,
        format!("Volume group {number} of resource group '{n}' modified."),
    );
    ctx.modified(ObjKey::VlmGrp { rsc_grp: n, number });
    Ok(())
}

pub(super) fn vg_delete(c: &mut Cluster, ctx: &mut Ctx<'_>, rg: &str, number: u16) -> Res {
    let op = Op::Delete;
    let what = format!("volume group {number} of resource group '{rg}'");
    let Some(n) = found(ctx, Obj::VlmGrp, &what, existing_rg(c, op, Obj::VlmGrp, rg))? else {
        return Ok(());
    };
    let g = c.state.resource_groups.get_mut(&n).expect("checked");
    if g.volume_groups.remove(&number).is_none() {
        let missing = Err(fail(
            op,
            Obj::VlmGrp,
            code::NOT_FOUND_VLM_GRP,
            format!("Volume group {number} not found in '{n}'"),
        ));
        found::<()>(ctx, Obj::VlmGrp, &what, missing)?;
        return Ok(());
    }
    ctx.ok(
        op,
        Obj::VlmGrp,
        format!("Volume group {number} deleted from resource group '{n}'."),
    );
    ctx.deleted(ObjKey::VlmGrp { rsc_grp: n, number });
    Ok(())
}

/// `RscGrpAdjust`: every definition of the group (or of every group) gets the replicas it lacks
/// to reach the place count. Definitions are independent: a failed one is rolled back (by
/// `place`), its entries and changes are dropped, and a warning carries the reason.
pub(super) fn rg_adjust(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    name: Option<&str>,
    request: Option<&SelectFilter>,
) -> Res {
    let op = Op::Modify;
    let group = match name {
        Some(n) => Some(existing_rg(c, op, Obj::RscGrp, n)?),
        None => None,
    };
    let request = request.cloned().unwrap_or_default();
    validate_filter(op, Obj::RscGrp, &request)?;
    let todo: Vec<(crate::name::ResourceName, SelectFilter)> = c
        .state
        .resource_definitions
        .values()
        .filter(|d| group.as_ref().is_none_or(|g| &d.resource_group == g))
        .filter(|d| !d.flags.contains(RscDfnFlags::DELETE))
        .filter_map(|d| {
            let rg = c.state.resource_groups.get(&d.resource_group)?;
            let mut f = request.merged_over(&rg.select_filter);
            // Adjusting aims at the diskful place count; an additional count is a one-off
            // request.
            diskful_only(&mut f);
            let pc = f.place_count? as usize;
            let live = d
                .resources
                .values()
                .filter(|r| !r.is_diskless() && is_live_replica(&c.state, r))
                .count();
            (live < pc).then(|| (d.name.clone(), f))
        })
        .collect();
    let (mut placed, mut failed) = (0usize, 0usize);
    for (rd, filter) in &todo {
        let at = ctx.checkpoint();
        let res = c.one_pending(rd, |c| {
            place(c, ctx, rd, filter).map(|()| quorum::manage(c, ctx, rd.as_str()))
        });
        match res {
            Ok(()) => placed += 1,
            Err(e) => {
                ctx.rewind(at);
                failed += 1;
                ctx.warn_from(*e);
            }
        }
    }
    let scope = match &group {
        Some(g) => format!("Resource group '{g}'"),
        None => "Every resource group".to_string(),
    };
    let msg = match (placed, failed) {
        (0, 0) => format!("{scope}: every resource definition has its place count."),
        (p, 0) => format!("{scope} adjusted: {p} resource definition(s) got new replicas."),
        (p, f) => format!(
            "{scope} adjusted: {p} resource definition(s) got new replicas, {f} could not be placed (see the warnings)."
        ),
    };
    ctx.ok(op, Obj::RscGrp, msg);
    Ok(())
}

/// Arguments of [`spawn`].
pub(super) struct SpawnArgs<'a> {
    pub rsc_grp: &'a str,
    pub rsc_dfn: &'a str,
    pub external_name: Option<String>,
    pub volume_sizes: &'a [SizeKib],
    pub partial: bool,
    pub nodes: &'a [NodePlacement],
    pub select_filter: Option<&'a SelectFilter>,
    pub definitions_only: bool,
    pub peer_slots: Option<u8>,
    pub rsc_dfn_props: &'a BTreeMap<String, String>,
}

pub(super) fn spawn(c: &mut Cluster, ctx: &mut Ctx<'_>, a: SpawnArgs<'_>) -> Res {
    let op = Op::Create;
    let rg = existing_rg(c, op, Obj::RscDfn, a.rsc_grp)?;
    let group = &c.state.resource_groups[&rg];
    let filter = match a.select_filter {
        Some(f) => {
            validate_filter(op, Obj::RscDfn, f)?;
            f.merged_over(&group.select_filter)
        }
        None => group.select_filter.clone(),
    };
    if a.volume_sizes.is_empty() {
        return Err(fail(
            op,
            Obj::RscDfn,
            code::INVLD_VLM_SIZES,
            "No volume sizes given",
        )
        .correction("Give one size per volume group of the resource group."));
    }
    let vg_numbers: Vec<u16> = group.volume_groups.keys().copied().collect();
    let numbers: Vec<u16> = if vg_numbers.is_empty() || a.partial {
        if a.partial && a.volume_sizes.len() > vg_numbers.len() && !vg_numbers.is_empty() {
            return Err(fail(
                op,
                Obj::RscDfn,
                code::INVLD_VLM_SIZES,
                format!(
                    "{} sizes given, but the group has only {} volume groups",
                    a.volume_sizes.len(),
                    vg_numbers.len()
                ),
            )
            .correction("Give at most one size per volume group."));
        }
        if vg_numbers.is_empty() {
            (0..).take(a.volume_sizes.len()).collect()
        } else {
            vg_numbers[..a.volume_sizes.len()].to_vec()
        }
    } else if vg_numbers.len() != a.volume_sizes.len() {
        return Err(fail(
            op,
            Obj::RscDfn,
            code::INVLD_VLM_SIZES,
            format!(
                "{} sizes given for {} volume groups of '{rg}'",
                a.volume_sizes.len(),
                vg_numbers.len()
            ),
        )
        .correction("Give exactly one size per volume group, in order (or set partial)."));
    } else {
        vg_numbers
    };
    for s in a.volume_sizes {
        check_size(op, *s)?;
    }
    // From here on, a failure removes the new resource definition again (which restores the
    // state exactly: everything created below hangs off it).
    let rd_args = RdCreateArgs {
        name: a.rsc_dfn,
        rsc_grp: Some(rg.as_str()),
        external_name: a.external_name,
        props: a.rsc_dfn_props,
        secret: None,
        peer_slots: a.peer_slots,
        layer_stack: filter.layer_stack.clone(),
    };
    let n = rd_create(c, ctx, rd_args)?;
    let res = (|| -> Res {
        for (nr, size) in numbers.iter().zip(a.volume_sizes) {
            vd_create(c, ctx, n.as_str(), Some(*nr), *size, None, &BTreeMap::new())?;
        }
        for p in a.nodes {
            let args = RscCreateArgs {
                pool: p.storage_pool.as_deref(),
                diskless: p.diskless,
                client: false,
                props: &BTreeMap::new(),
            };
            rsc_create(c, ctx, n.as_str(), &p.node, args)?;
        }
        if a.nodes.is_empty() {
            if a.definitions_only || filter.place_count.is_none() {
                ctx.info(
                    Obj::RscDfn,
                    code::INFO_NO_RSC_SPAWNED,
                    format!("Resource definition '{n}' created but no resources deployed."),
                );
            } else {
                spawn_autoplace(c, ctx, &n, &filter)?;
            }
        }
        Ok(())
    })();
    if let Err(e) = res {
        remove_rd(c, ctx, &n);
        return Err(e);
    }
    Ok(())
}

/// Autoplacement for spawn: the placement engine, through `cluster::autoplace`.
fn spawn_autoplace(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    n: &ResourceName,
    filter: &SelectFilter,
) -> Res {
    place(c, ctx, n, filter)
}
