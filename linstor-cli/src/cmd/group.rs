//! `resource-group …` and `volume-group …`.

use serde_json::{Map, Value, json};

use crate::args::{Placement, RgCmd, VgCmd};
use crate::cmd::{Ctx, items, parse_size, props_change, props_table, s, seg, size_kib, strs};
use crate::error::CliError;
use crate::table::Table;

/// The `select_filter` of placement options (only what was given).
pub fn select_filter(p: &Placement) -> Value {
    let mut f = Map::new();
    if let Some(n) = p.place_count {
        f.insert("place_count".into(), json!(n));
    }
    let lists: [(&str, &Vec<String>); 6] = [
        ("storage_pool_list", &p.storage_pool),
        ("replicas_on_same", &p.replicas_on_same),
        ("replicas_on_different", &p.replicas_on_different),
        ("not_place_with_rsc", &p.do_not_place_with),
        ("layer_stack", &p.layer_list),
        ("provider_list", &p.providers),
    ];
    for (key, v) in lists {
        if !v.is_empty() {
            let v: Vec<String> = match key {
                "layer_stack" | "provider_list" => {
                    v.iter().map(|x| x.to_ascii_uppercase()).collect()
                }
                // LINBIT's client: a key without a namespace is an auxiliary property.
                "replicas_on_same" | "replicas_on_different" => v
                    .iter()
                    .map(|x| {
                        if x.starts_with("Aux/") {
                            x.clone()
                        } else {
                            format!("Aux/{x}")
                        }
                    })
                    .collect(),
                _ => v.clone(),
            };
            f.insert(key.into(), json!(v));
        }
    }
    if let Some(r) = &p.do_not_place_with_regex {
        f.insert("not_place_with_rsc_regex".into(), json!(r));
    }
    if p.diskless_on_remaining {
        f.insert("diskless_on_remaining".into(), json!(true));
    }
    Value::Object(f)
}

/// Runs a `resource-group` command.
pub fn run_rg(ctx: &Ctx, c: RgCmd) -> Result<i32, CliError> {
    match c {
        RgCmd::Create {
            name,
            description,
            placement,
        } => {
            let mut body = json!({ "name": name, "select_filter": select_filter(&placement) });
            if let Some(d) = description {
                body["description"] = json!(d);
            }
            ctx.print_replies(&ctx.client.post("/v1/resource-groups", &body)?)
        }
        RgCmd::List => match ctx.get_list("/v1/resource-groups")? {
            Ok(body) => Ok(ctx.print_table(&body, &rg_table(&body))),
            Err(code) => Ok(code),
        },
        RgCmd::Modify {
            name,
            description,
            placement,
        } => {
            let mut body = json!({ "select_filter": select_filter(&placement) });
            if let Some(d) = description {
                body["description"] = json!(d);
            }
            ctx.print_replies(
                &ctx.client
                    .put(&format!("/v1/resource-groups/{}", seg(&name)), &body)?,
            )
        }
        RgCmd::Adjust { group } => {
            let path = group.map_or_else(
                || "/v1/resource-groups/adjustall".to_owned(),
                |g| format!("/v1/resource-groups/{}/adjust", seg(&g)),
            );
            ctx.print_replies(&ctx.client.post(&path, &json!({}))?)
        }
        RgCmd::Spawn {
            group,
            name,
            sizes,
            definition_only,
            no_wait,
        } => {
            let sizes = sizes
                .iter()
                .map(|x| parse_size(x))
                .collect::<Result<Vec<_>, _>>()?;
            let body = json!({
                "resource_definition_name": name,
                "volume_sizes": sizes,
                "definitions_only": definition_only,
            });
            let code = ctx.print_replies(
                &ctx.client
                    .post(&format!("/v1/resource-groups/{}/spawn", seg(&group)), &body)?,
            )?;
            if code != 0 || definition_only || no_wait || ctx.machine {
                return Ok(code);
            }
            crate::cmd::progress::wait_up_to_date(ctx, &name)
        }
        RgCmd::QuerySizeInfo { group } => {
            let r = ctx.client.post(
                &format!("/v1/resource-groups/{}/query-size-info", seg(&group)),
                &json!({}),
            )?;
            if r.status >= 400 || crate::reply::is_rc_list(&r.body) {
                return ctx.print_replies(&r);
            }
            Ok(ctx.print_table(&r.body, &size_info_table(&r.body)))
        }
        RgCmd::Delete { name } => ctx.print_replies(
            &ctx.client
                .delete(&format!("/v1/resource-groups/{}", seg(&name)))?,
        ),
        RgCmd::SetProperty { name, kv } => ctx.print_replies(&ctx.client.put(
            &format!("/v1/resource-groups/{}", seg(&name)),
            &props_change(&kv),
        )?),
        RgCmd::ListProperties { name } => {
            match ctx.get_list(&format!("/v1/resource-groups/{}", seg(&name)))? {
                Ok(body) => Ok(ctx.print_table(&body, &props_table(body.get("props")))),
                Err(code) => Ok(code),
            }
        }
    }
}

/// A select filter in words, one criterion per line (`PlaceCount: 3`, `StoragePool(s): a, b`).
pub fn filter_text(f: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(n) = f.get("place_count").and_then(Value::as_u64) {
        parts.push(format!("PlaceCount: {n}"));
    }
    let named: [(&str, &str); 6] = [
        ("storage_pool_list", "StoragePool(s)"),
        ("replicas_on_same", "ReplicasOnSame"),
        ("replicas_on_different", "ReplicasOnDifferent"),
        ("not_place_with_rsc", "NotPlaceWithRsc"),
        ("layer_stack", "LayerStack"),
        ("provider_list", "ProviderList"),
    ];
    for (key, title) in named {
        let v = strs(f, key);
        if !v.is_empty() {
            parts.push(format!("{title}: {}", v.join(", ")));
        }
    }
    if parts.is_empty() {
        if let Some(p) = f.get("storage_pool").and_then(Value::as_str) {
            parts.push(format!("StoragePool(s): {p}"));
        }
    }
    if f.get("diskless_on_remaining").and_then(Value::as_bool) == Some(true) {
        parts.push("DisklessOnRemaining: True".into());
    }
    parts.join("\n")
}

/// The `resource-group list` table.
pub fn rg_table(body: &Value) -> Table {
    let mut t = Table::new(&["ResourceGroup", "SelectFilter", "Description"]);
    for g in items(body) {
        t.row(vec![
            s(g, "name").into(),
            filter_text(g.get("select_filter").unwrap_or(&Value::Null)).into(),
            s(g, "description").into(),
        ]);
    }
    t
}

/// The `resource-group query-size-info` table.
pub fn size_info_table(body: &Value) -> Table {
    let info = body.get("space_info").unwrap_or(body);
    let kib = |k: &str| {
        info.get(k)
            .and_then(Value::as_u64)
            .map(size_kib)
            .unwrap_or_default()
    };
    let next: Vec<String> = items(info.get("next_spawn_result").unwrap_or(&Value::Null))
        .iter()
        .map(|r| format!("{} on {}", s(r, "stor_pool_name"), s(r, "node_name")))
        .collect();
    let mut t = Table::new(&[
        "MaxVolumeSize",
        "AvailableSize",
        "Capacity",
        "Next Spawn Result",
    ])
    .right(&["MaxVolumeSize", "AvailableSize", "Capacity"]);
    t.row(vec![
        kib("max_vlm_size_in_kib").into(),
        kib("available_size_in_kib").into(),
        kib("capacity_in_kib").into(),
        next.join("\n").into(),
    ]);
    t
}

/// Runs a `volume-group` command.
pub fn run_vg(ctx: &Ctx, c: VgCmd) -> Result<i32, CliError> {
    match c {
        VgCmd::Create { group, vlmnr } => {
            let body = vlmnr.map_or_else(|| json!({}), |n| json!({ "volume_number": n }));
            ctx.print_replies(&ctx.client.post(
                &format!("/v1/resource-groups/{}/volume-groups", seg(&group)),
                &body,
            )?)
        }
        VgCmd::List { group } => {
            match ctx.get_list(&format!(
                "/v1/resource-groups/{}/volume-groups",
                seg(&group)
            ))? {
                Ok(body) => Ok(ctx.print_table(&body, &vg_table(&body))),
                Err(code) => Ok(code),
            }
        }
        VgCmd::Delete { group, vlmnr } => ctx.print_replies(&ctx.client.delete(&format!(
            "/v1/resource-groups/{}/volume-groups/{vlmnr}",
            seg(&group)
        ))?),
    }
}

/// The `volume-group list` table.
pub fn vg_table(body: &Value) -> Table {
    let mut t = Table::new(&["VolumeNr", "Flags"]);
    for v in items(body) {
        t.row(vec![
            v.get("volume_number")
                .and_then(Value::as_u64)
                .unwrap_or(0)
                .to_string()
                .into(),
            strs(v, "flags").join(", ").into(),
        ]);
    }
    t
}
