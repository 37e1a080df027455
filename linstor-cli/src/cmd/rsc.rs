//! `resource-definition …`, `volume-definition …`, `resource …` and `volume list`.

use serde_json::{Value, json};

use crate::args::{RdCmd, RscCmd, RscCreate, RscList, VdCmd, VolumeCmd};
use crate::cmd::group::select_filter;
use crate::cmd::{
    Ctx, items, parse_size, props_change, props_table, query, s, seg, size_kib, state_cell, strs,
};
use crate::error::CliError;
use crate::table::Table;

/// Runs a `resource-definition` command.
pub fn run_rd(ctx: &Ctx, c: RdCmd) -> Result<i32, CliError> {
    match c {
        RdCmd::Create {
            name,
            resource_group,
            layer_list,
        } => {
            let mut rd = json!({ "name": name });
            if let Some(g) = resource_group {
                rd["resource_group_name"] = json!(g);
            }
            if !layer_list.is_empty() {
                let layers: Vec<Value> = layer_list
                    .iter()
                    .map(|l| json!({ "type": l.to_ascii_uppercase() }))
                    .collect();
                rd["layer_data"] = json!(layers);
            }
            ctx.print_replies(&ctx.client.post(
                "/v1/resource-definitions",
                &json!({ "resource_definition": rd }),
            )?)
        }
        RdCmd::List { names } => {
            let path = format!(
                "/v1/resource-definitions{}",
                query(&[("resource_definitions", &names)])
            );
            match ctx.get_list(&path)? {
                Ok(body) => Ok(ctx.print_table(&body, &rd_table(&body))),
                Err(code) => Ok(code),
            }
        }
        RdCmd::Delete { name } => ctx.print_replies(
            &ctx.client
                .delete(&format!("/v1/resource-definitions/{}", seg(&name)))?,
        ),
        RdCmd::SetProperty { name, kv } => ctx.print_replies(&ctx.client.put(
            &format!("/v1/resource-definitions/{}", seg(&name)),
            &props_change(&kv),
        )?),
        RdCmd::ListProperties { name } => {
            match ctx.get_list(&format!("/v1/resource-definitions/{}", seg(&name)))? {
                Ok(body) => Ok(ctx.print_table(&body, &props_table(body.get("props")))),
                Err(code) => Ok(code),
            }
        }
    }
}

fn layers(list: Option<&Value>) -> String {
    items(list.unwrap_or(&Value::Null))
        .iter()
        .map(|l| s(l, "type"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The `resource-definition list` table.
pub fn rd_table(body: &Value) -> Table {
    let mut t = Table::new(&["ResourceName", "ResourceGroup", "Layers", "State"]);
    for d in items(body) {
        let state = if strs(d, "flags").contains(&"DELETE") {
            "DELETING"
        } else {
            "ok"
        };
        t.row(vec![
            s(d, "name").into(),
            s(d, "resource_group_name").into(),
            layers(d.get("layer_data")).into(),
            state_cell(state),
        ]);
    }
    t
}

/// Runs a `volume-definition` command.
pub fn run_vd(ctx: &Ctx, c: VdCmd) -> Result<i32, CliError> {
    match c {
        VdCmd::Create { name, size, vlmnr } => {
            let mut vd = json!({ "size_kib": parse_size(&size)?, "flags": [] });
            if let Some(n) = vlmnr {
                vd["volume_number"] = json!(n);
            }
            ctx.print_replies(&ctx.client.post(
                &format!("/v1/resource-definitions/{}/volume-definitions", seg(&name)),
                &json!({ "volume_definition": vd }),
            )?)
        }
        VdCmd::List { names } => {
            let path = format!(
                "/v1/resource-definitions?with_volume_definitions=true{}",
                query(&[("resource_definitions", &names)]).replacen('?', "&", 1)
            );
            match ctx.get_list(&path)? {
                Ok(body) => Ok(ctx.print_table(&body, &vd_table(&body))),
                Err(code) => Ok(code),
            }
        }
        VdCmd::SetSize { name, vlmnr, size } => ctx.print_replies(&ctx.client.put(
            &format!(
                "/v1/resource-definitions/{}/volume-definitions/{vlmnr}",
                seg(&name)
            ),
            &json!({ "size_kib": parse_size(&size)? }),
        )?),
        VdCmd::Delete { name, vlmnr } => ctx.print_replies(&ctx.client.delete(&format!(
            "/v1/resource-definitions/{}/volume-definitions/{vlmnr}",
            seg(&name)
        ))?),
    }
}

/// The DRBD minor of a volume definition (from its layer data).
fn minor(vd: &Value) -> String {
    items(vd.get("layer_data").unwrap_or(&Value::Null))
        .iter()
        .find(|l| s(l, "type") == "DRBD")
        .and_then(|l| l.get("data"))
        .and_then(|d| d.get("minor_number"))
        .and_then(Value::as_u64)
        .map(|m| m.to_string())
        .unwrap_or_default()
}

/// The `volume-definition list` table.
pub fn vd_table(body: &Value) -> Table {
    let mut t = Table::new(&["ResourceName", "VolumeNr", "VolumeMinor", "Size", "State"]);
    for d in items(body) {
        for v in items(d.get("volume_definitions").unwrap_or(&Value::Null)) {
            let state = if strs(v, "flags").contains(&"DELETE") {
                "DELETING"
            } else {
                "ok"
            };
            t.row(vec![
                s(d, "name").into(),
                v.get("volume_number")
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
                    .to_string()
                    .into(),
                minor(v).into(),
                v.get("size_kib")
                    .and_then(Value::as_u64)
                    .map(size_kib)
                    .unwrap_or_default()
                    .into(),
                state_cell(state),
            ]);
        }
    }
    t
}

/// Runs a `resource` command.
pub fn run_rsc(ctx: &Ctx, c: RscCmd) -> Result<i32, CliError> {
    match c {
        RscCmd::Create(a) => create(ctx, &a),
        RscCmd::List(a) => list(ctx, &a, false),
        RscCmd::ListVolumes(a) => list(ctx, &a, true),
        RscCmd::Delete { nodes_and_name } => {
            let (name, nodes) = split_name(&nodes_and_name, false)?;
            let mut code = 0;
            for n in nodes {
                let r = ctx.client.delete(&format!(
                    "/v1/resource-definitions/{}/resources/{}",
                    seg(&name),
                    seg(&n)
                ))?;
                code = code.max(ctx.print_replies(&r)?);
            }
            Ok(code)
        }
        RscCmd::ToggleDisk {
            node,
            name,
            storage_pool,
            diskless,
        } => {
            let mut body =
                json!({ "operation": if diskless { "REMOVE_DISK" } else { "ADD_DISK" } });
            if let Some(p) = storage_pool {
                body["storage_pool"] = json!(p);
            }
            ctx.print_replies(&ctx.client.put(
                &format!(
                    "/v1/resource-definitions/{}/resources/{}/toggle-disk",
                    seg(&name),
                    seg(&node)
                ),
                &body,
            )?)
        }
        RscCmd::MakeAvailable {
            node,
            name,
            diskful,
        } => ctx.print_replies(&ctx.client.post(
            &format!(
                "/v1/resource-definitions/{}/resources/{}/make-available",
                seg(&name),
                seg(&node)
            ),
            &json!({ "diskful": diskful }),
        )?),
    }
}

/// `NODE… NAME`: the last word is the resource, the others nodes (at least one unless
/// `name_only` is allowed).
fn split_name(words: &[String], name_only: bool) -> Result<(String, Vec<String>), CliError> {
    let Some((name, nodes)) = words.split_last() else {
        return Err(CliError::Usage {
            message: "no resource name given".into(),
            correction: "write the node names, then the resource name".into(),
        });
    };
    if nodes.is_empty() && !name_only {
        return Err(CliError::Usage {
            message: format!("no node given for resource '{name}'"),
            correction: format!(
                "name the nodes before the resource: linstor resource … NODE {name}"
            ),
        });
    }
    Ok((name.clone(), nodes.to_vec()))
}

fn create(ctx: &Ctx, a: &RscCreate) -> Result<i32, CliError> {
    let auto = a.auto_place.is_some() || a.placement.place_count.is_some();
    let (name, nodes) = split_name(&a.nodes_and_name, auto)?;
    if auto {
        if !nodes.is_empty() {
            return Err(CliError::Usage {
                message: format!("--auto-place with node names ({})", nodes.join(", ")),
                correction: "either name the nodes or let --auto-place N choose them".into(),
            });
        }
        let mut filter = select_filter(&a.placement);
        if let Some(n) = a.auto_place {
            filter["place_count"] = json!(n);
        }
        return ctx.print_replies(&ctx.client.post(
            &format!("/v1/resource-definitions/{}/autoplace", seg(&name)),
            &json!({ "select_filter": filter }),
        )?);
    }
    let body: Vec<Value> = nodes
        .iter()
        .map(|n| {
            let mut r = json!({ "node_name": n });
            if let Some(p) = a.placement.storage_pool.first() {
                r["props"] = json!({ "StorPoolName": p });
            }
            if a.diskless {
                r["flags"] = json!(["DRBD_DISKLESS"]);
            }
            json!({ "resource": r })
        })
        .collect();
    ctx.print_replies(&ctx.client.post(
        &format!("/v1/resource-definitions/{}/resources", seg(&name)),
        &json!(body),
    )?)
}

fn list(ctx: &Ctx, a: &RscList, volumes: bool) -> Result<i32, CliError> {
    let path = format!(
        "/v1/view/resources{}",
        query(&[("nodes", &a.nodes), ("resources", &a.resources)])
    );
    match ctx.get_list(&path)? {
        Ok(body) => {
            let t = if volumes {
                volume_table(&body)
            } else {
                rsc_table(&body)
            };
            Ok(ctx.print_table(&body, &t))
        }
        Err(code) => Ok(code),
    }
}

/// The layer names of a resource's layer tree, top down (`DRBD,STORAGE`).
fn layer_names(obj: Option<&Value>) -> String {
    let mut names = Vec::new();
    let mut cur = obj;
    while let Some(o) = cur {
        let t = s(o, "type");
        if t.is_empty() {
            break;
        }
        names.push(t.to_owned());
        cur = o
            .get("children")
            .and_then(Value::as_array)
            .and_then(|c| c.first());
    }
    names.join(",")
}

/// A resource's state word: the worst disk state of its volumes, or its role.
fn rsc_state(r: &Value) -> String {
    let flags = strs(r, "flags");
    if flags.contains(&"DELETE") {
        return "DELETING".into();
    }
    if flags.contains(&"TIE_BREAKER") {
        return "TieBreaker".into();
    }
    let states: Vec<&str> = items(r.get("volumes").unwrap_or(&Value::Null))
        .iter()
        .filter_map(|v| v.get("state").map(|st| s(st, "disk_state")))
        .filter(|st| !st.is_empty())
        .collect();
    if states.is_empty() {
        return "Unknown".into();
    }
    states
        .iter()
        .find(|st| **st != "UpToDate")
        .unwrap_or(&states[0])
        .to_string()
}

fn usage(r: &Value) -> &'static str {
    match r
        .get("state")
        .and_then(|st| st.get("in_use"))
        .and_then(Value::as_bool)
    {
        Some(true) => "InUse",
        Some(false) => "Unused",
        None => "",
    }
}

/// The `resource list` table.
pub fn rsc_table(body: &Value) -> Table {
    let mut t = Table::new(&[
        "ResourceName",
        "Node",
        "Layers",
        "Usage",
        "State",
        "CreatedOn",
    ]);
    for r in items(body) {
        let created = r
            .get("create_timestamp")
            .and_then(Value::as_i64)
            .filter(|ms| *ms > 0)
            .map(utc)
            .unwrap_or_default();
        t.row(vec![
            s(r, "name").into(),
            s(r, "node_name").into(),
            layer_names(r.get("layer_object")).into(),
            usage(r).into(),
            state_cell(&rsc_state(r)),
            created.into(),
        ]);
    }
    t
}

/// The `volume list` (and `resource list-volumes`) table.
pub fn volume_table(body: &Value) -> Table {
    let mut t = Table::new(&[
        "Resource",
        "Node",
        "StoragePool",
        "VolNr",
        "MinorNr",
        "DeviceName",
        "Allocated",
        "InUse",
        "State",
    ]);
    for r in items(body) {
        for v in items(r.get("volumes").unwrap_or(&Value::Null)) {
            let minor = items(v.get("layer_data_list").unwrap_or(&Value::Null))
                .iter()
                .find(|l| s(l, "type") == "DRBD")
                .and_then(|l| l.get("data"))
                .and_then(|d| d.get("drbd_volume_definition"))
                .and_then(|d| d.get("minor_number"))
                .and_then(Value::as_u64)
                .map(|m| m.to_string())
                .unwrap_or_default();
            let state = v
                .get("state")
                .map(|st| s(st, "disk_state"))
                .filter(|st| !st.is_empty())
                .unwrap_or("Unknown");
            t.row(vec![
                s(r, "name").into(),
                s(r, "node_name").into(),
                s(v, "storage_pool_name").into(),
                v.get("volume_number")
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
                    .to_string()
                    .into(),
                minor.into(),
                s(v, "device_path").into(),
                v.get("allocated_size_kib")
                    .and_then(Value::as_u64)
                    .map(size_kib)
                    .unwrap_or_default()
                    .into(),
                usage(r).into(),
                state_cell(state),
            ]);
        }
    }
    t
}

/// Runs a `volume` command.
pub fn run_volume(ctx: &Ctx, c: VolumeCmd) -> Result<i32, CliError> {
    match c {
        VolumeCmd::List(a) => list(ctx, &a, true),
    }
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(1_796_427_222_000), "2026-12-04 23:33:42");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00");
    }

    #[test]
    fn names_after_nodes() {
        let w = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            split_name(&w(&["n1", "n2", "r"]), false).expect("ok"),
            ("r".into(), w(&["n1", "n2"]))
        );
        assert!(split_name(&w(&["r"]), false).is_err());
        assert_eq!(
            split_name(&w(&["r"]), true).expect("ok").1,
            Vec::<String>::new()
        );
    }
}
