//! Commands on resource groups and volume groups, and the objects that always exist.

use std::collections::BTreeMap;

use super::{BoxedEntry, Cluster, Ctx, ObjKey, Res, apply_modify, fail, parse_name, props_from};
use crate::model::{ResourceGroup, SelectFilter, VlmGrpFlags, VolumeGroup};
use crate::name::{ResourceGroupName, StorPoolName, well_known};
use crate::props::{Level, PropsModify};
use crate::rc::{Obj, Op, code};

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
            volume_groups: BTreeMap::new(),
            uuid: ctx.uuid(),
        });
    }
    let dl = StorPoolName::new(well_known::DFLT_DISKLESS_STOR_POOL).expect("valid constant");
    super::ops_node::ensure_spd(c, ctx, &dl);
}

/// Checks a select filter's own consistency (not whether it can be satisfied).
pub(crate) fn validate_filter(op: Op, obj: Obj, f: &SelectFilter) -> Res {
    let bad = |what: String, fix: &str| {
        Err(fail(op, obj, code::INVLD_PLACE_COUNT, what).correction(fix.to_owned()))
    };
    if let Some(n) = f.place_count {
        if !(1..=32).contains(&n) {
            return bad(
                format!("Invalid place count {n}"),
                "Use a place count from 1 to 32 (one replica per node, at most 32 DRBD peers).",
            );
        }
    }
    if let Some(n) = f.additional_place_count {
        if n > 31 {
            return bad(
                format!("Invalid additional place count {n}"),
                "Add at most 31 replicas.",
            );
        }
    }
    for key in f
        .replicas_on_same
        .iter()
        .flatten()
        .chain(f.replicas_on_different.iter().flatten())
    {
        let k = key.split_once('=').map_or(key.as_str(), |(k, _)| k);
        if k.is_empty() || k.contains(char::is_whitespace) {
            return Err(fail(
                op,
                obj,
                code::INVLD_PROP,
                format!("Invalid replicas-on key '{key}'"),
            )
            .correction("Give a node property key such as Aux/zone, optionally with =value."));
        }
    }
    for (k, v) in f.x_replicas_on_different_map.iter().flatten() {
        if k.is_empty() || *v == 0 {
            return Err(fail(
                op,
                obj,
                code::INVLD_PROP,
                format!("Invalid x-replicas-on-different entry '{k}' = {v}"),
            )
            .correction("Give a node property key and a count of at least 1."));
        }
    }
    if let Some(re) = &f.not_place_with_rsc_regex {
        if let Err(e) = regex::RegexBuilder::new(re)
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
        {
            return Err(fail(
                op,
                obj,
                code::INVLD_REQUEST,
                format!("Invalid regular expression '{re}'"),
            )
            .cause(e.to_string())
            .correction("Fix the regular expression."));
        }
    }
    Ok(())
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
        volume_groups: BTreeMap::new(),
        uuid: ctx.uuid(),
    };
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
    if let Some(f) = filter {
        g.select_filter = f;
    }
    if peer_slots.is_some() {
        g.peer_slots = peer_slots;
    }
    apply_modify(&mut g.props, m, Level::RscGrp);
    ctx.ok(op, Obj::RscGrp, format!("Resource group '{n}' modified."));
    ctx.modified(ObjKey::RscGrp { rsc_grp: n });
    Ok(())
}

pub(super) fn rg_delete(c: &mut Cluster, ctx: &mut Ctx<'_>, name: &str) -> Res {
    let op = Op::Delete;
    let n = existing_rg(c, op, Obj::RscGrp, name)?;
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
            code::IN_USE,
            format!("Resource group '{n}' is in use"),
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
    let nr = match number {
        Some(nr) if nr > super::numbers::MAX_VLM_NR => {
            return Err(fail(
                op,
                Obj::VlmGrp,
                code::INVLD_VLM_NR,
                format!("Invalid volume number {nr}"),
            )
            .correction("Use 0 to 65534."));
        }
        Some(nr) if g.volume_groups.contains_key(&nr) => {
            return Err(fail(
                op,
                Obj::VlmGrp,
                code::EXISTS_VLM_GRP,
                format!("Volume group {nr} already exists in '{n}'"),
            )
            .correction("Choose another number or omit it."));
        }
        Some(nr) => nr,
        None => (0..=super::numbers::MAX_VLM_NR)
            .find(|nr| !g.volume_groups.contains_key(nr))
            .ok_or_else(|| {
                fail(
                    op,
                    Obj::VlmGrp,
                    code::POOL_EXHAUSTED_VLM_NR,
                    "No free volume number",
                )
            })?,
    };
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

pub(super) fn vg_delete(c: &mut Cluster, ctx: &mut Ctx<'_>, rg: &str, number: u16) -> Res {
    let op = Op::Delete;
    let n = existing_rg(c, op, Obj::VlmGrp, rg)?;
    let g = c.state.resource_groups.get_mut(&n).expect("checked");
    if g.volume_groups.remove(&number).is_none() {
        return Err(fail(
            op,
            Obj::VlmGrp,
            code::NOT_FOUND_VLM_GRP,
            format!("Volume group {number} not found in '{n}'"),
        )
        .correction("Check with `linstor volume-group list`."));
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
        .filter(|d| !d.flags.contains(crate::model::RscDfnFlags::DELETE))
        .filter_map(|d| {
            let rg = c.state.resource_groups.get(&d.resource_group)?;
            let mut f = request.merged_over(&rg.select_filter);
            // Adjusting aims at the diskful place count; an additional count is a one-off
            // request.
            super::ops_node::diskful_only(&mut f);
            let pc = f.place_count? as usize;
            let live = d
                .resources
                .values()
                .filter(|r| {
                    !r.is_diskless() && crate::placement::filter::is_live_replica(&c.state, r)
                })
                .count();
            (live < pc).then(|| (d.name.clone(), f))
        })
        .collect();
    let (mut placed, mut failed) = (0usize, 0usize);
    for (rd, filter) in &todo {
        let at = ctx.checkpoint();
        let res = c.one_pending(rd, |c| {
            super::autoplace::place(c, ctx, rd, filter)
                .map(|()| super::quorum::manage(c, ctx, rd.as_str()))
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
