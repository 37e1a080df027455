//! `snapshot …` (create, list, delete, rollback, restore), and the smaller objects:
//! `key-value-store`, `error-reports`, `physical-storage`.

use serde_json::{Value, json};

use crate::args::{ErrCmd, KvCmd, PsCmd, SnapCmd, SnapRestoreCmd};
use crate::cmd::rsc::utc;
use crate::cmd::{
    Ctx, items, props_change, props_table, query, s, seg, size_kib, state_cell, strs,
};
use crate::error::CliError;
use crate::table::Table;

/// Runs a `snapshot` command.
pub fn run(ctx: &Ctx, c: SnapCmd) -> Result<i32, CliError> {
    match c {
        SnapCmd::Create { words } => {
            let (snap, rest) = words.split_last().ok_or_else(no_words)?;
            let (rsc, nodes) = rest.split_last().ok_or_else(no_words)?;
            let mut body = json!({ "name": snap });
            if !nodes.is_empty() {
                body["nodes"] = json!(nodes);
            }
            ctx.print_replies(&ctx.client.post(
                &format!("/v1/resource-definitions/{}/snapshots", seg(rsc)),
                &body,
            )?)
        }
        SnapCmd::List { nodes, resources } => {
            let path = format!(
                "/v1/view/snapshots{}",
                query(&[("nodes", &nodes), ("resources", &resources)])
            );
            match ctx.get_list(&path)? {
                Ok(body) => Ok(ctx.print_table(&body, &table(&body))),
                Err(code) => Ok(code),
            }
        }
        SnapCmd::Delete { resource, name } => ctx.print_replies(&ctx.client.delete(&format!(
            "/v1/resource-definitions/{}/snapshots/{}",
            seg(&resource),
            seg(&name)
        ))?),
        SnapCmd::Rollback { resource, name } => ctx.print_replies(&ctx.client.post(
            &format!(
                "/v1/resource-definitions/{}/snapshot-rollback/{}",
                seg(&resource),
                seg(&name)
            ),
            &json!({}),
        )?),
        SnapCmd::VolumeDefinition(SnapRestoreCmd::Restore {
            from_resource,
            from_snapshot,
            to_resource,
            ..
        }) => ctx.print_replies(&ctx.client.post(
            &format!(
                "/v1/resource-definitions/{}/snapshot-restore-volume-definition/{}",
                seg(&from_resource),
                seg(&from_snapshot)
            ),
            &json!({ "to_resource": to_resource }),
        )?),
        SnapCmd::Resource(SnapRestoreCmd::Restore {
            nodes,
            from_resource,
            from_snapshot,
            to_resource,
        }) => ctx.print_replies(&ctx.client.post(
            &format!(
                "/v1/resource-definitions/{}/snapshot-restore-resource/{}",
                seg(&from_resource),
                seg(&from_snapshot)
            ),
            &json!({ "to_resource": to_resource, "nodes": nodes }),
        )?),
    }
}

fn no_words() -> CliError {
    CliError::Usage {
        message: "snapshot create needs the resource and the snapshot name".into(),
        correction: "linstor snapshot create [NODE…] RESOURCE SNAPSHOT".into(),
    }
}

/// The `snapshot list` table.
pub fn table(body: &Value) -> Table {
    let mut t = Table::new(&[
        "ResourceName",
        "SnapshotName",
        "NodeNames",
        "Volumes",
        "CreatedOn",
        "State",
    ])
    .right(&["State"]);
    for sn in items(body) {
        let volumes: Vec<String> = items(sn.get("volume_definitions").unwrap_or(&Value::Null))
            .iter()
            .map(|v| {
                format!(
                    "{}: {}",
                    v.get("volume_number").and_then(Value::as_u64).unwrap_or(0),
                    size_kib(v.get("size_kib").and_then(Value::as_u64).unwrap_or(0))
                )
            })
            .collect();
        let created = items(sn.get("snapshots").unwrap_or(&Value::Null))
            .iter()
            .filter_map(|x| x.get("create_timestamp").and_then(Value::as_i64))
            .min()
            .map(utc)
            .unwrap_or_default();
        let flags = strs(sn, "flags");
        let state = if flags.contains(&"DELETE") {
            "DELETING"
        } else if flags.contains(&"SUCCESSFUL") {
            "Successful"
        } else if flags.contains(&"FAILED_DEPLOYMENT") || flags.contains(&"FAILED_DISCONNECT") {
            "Failed"
        } else {
            "Incomplete"
        };
        t.row(vec![
            s(sn, "resource_name").into(),
            s(sn, "name").into(),
            strs(sn, "nodes").join(", ").into(),
            volumes.join(", ").into(),
            created.into(),
            state_cell(state),
        ]);
    }
    t
}

/// Runs a `key-value-store` command.
pub fn run_kv(ctx: &Ctx, c: KvCmd) -> Result<i32, CliError> {
    match c {
        KvCmd::List => match ctx.get_list("/v1/key-value-store")? {
            Ok(body) => Ok(ctx.print_table(&body, &kv_table(&body))),
            Err(code) => Ok(code),
        },
        KvCmd::Show { name } => {
            match ctx.get_list(&format!("/v1/key-value-store/{}", seg(&name)))? {
                Ok(body) => {
                    // One store, or a list holding it.
                    let store = items(&body).first().cloned().unwrap_or(body.clone());
                    Ok(ctx.print_table(&body, &props_table(store.get("props"))))
                }
                Err(code) => Ok(code),
            }
        }
        KvCmd::Modify { name, kv } => ctx.print_replies(&ctx.client.put(
            &format!("/v1/key-value-store/{}", seg(&name)),
            &props_change(&kv),
        )?),
    }
}

/// Runs an `error-reports` command.
pub fn run_err(ctx: &Ctx, c: ErrCmd) -> Result<i32, CliError> {
    match c {
        ErrCmd::List => match ctx.get_list("/v1/error-reports")? {
            Ok(body) => Ok(ctx.print_table(&body, &err_table(&body))),
            Err(code) => Ok(code),
        },
        ErrCmd::Show { id } => match ctx.get_list(&format!("/v1/error-reports/{}", seg(&id)))? {
            Ok(body) if ctx.machine => {
                ctx.print_json(&body);
                Ok(0)
            }
            Ok(body) => {
                for r in items(&body).iter().chain(body.as_object().map(|_| &body)) {
                    let text = s(r, "text");
                    if text.is_empty() {
                        ctx.print_json(r);
                    } else {
                        ctx.print(&format!("{text}\n"));
                    }
                }
                Ok(0)
            }
            Err(code) => Ok(code),
        },
        ErrCmd::Delete { ids } => ctx.print_replies(
            &ctx.client
                .patch_json("/v1/error-reports", &json!({ "ids": ids }))?,
        ),
    }
}

/// The `error-reports list` table.
pub fn err_table(body: &Value) -> Table {
    let mut t = Table::new(&["Id", "Datetime", "Node", "Exception"]);
    for r in items(body) {
        let when = r
            .get("error_time")
            .and_then(Value::as_i64)
            .map(utc)
            .unwrap_or_default();
        let node = [s(r, "node_name"), s(r, "module")]
            .into_iter()
            .find(|x| !x.is_empty())
            .unwrap_or_default();
        t.row(vec![
            s(r, "filename")
                .trim_start_matches("ErrorReport-")
                .trim_end_matches(".log")
                .into(),
            when.into(),
            node.into(),
            [s(r, "exception"), s(r, "exception_message")]
                .into_iter()
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
                .join(": ")
                .into(),
        ]);
    }
    t
}

/// Runs a `physical-storage` command.
pub fn run_ps(ctx: &Ctx, c: PsCmd) -> Result<i32, CliError> {
    match c {
        PsCmd::List => match ctx.get_list("/v1/physical-storage")? {
            Ok(body) => Ok(ctx.print_table(&body, &ps_table(&body))),
            Err(code) => Ok(code),
        },
        PsCmd::CreateDevicePool {
            kind,
            node,
            devices,
            pool_name,
            storage_pool,
        } => {
            let provider = match kind.to_ascii_uppercase().as_str() {
                "LVM" => "LVM",
                "LVMTHIN" | "LVM_THIN" => "LVM_THIN",
                "ZFS" => "ZFS",
                "ZFSTHIN" | "ZFS_THIN" => "ZFS_THIN",
                other => {
                    return Err(CliError::Usage {
                        message: format!(
                            "device pool kind '{other}' is not LVM, LVMTHIN, ZFS or ZFSTHIN"
                        ),
                        correction: "use one of: lvm, lvmthin, zfs, zfsthin".into(),
                    });
                }
            };
            let mut body = json!({
                "provider_kind": provider,
                "device_paths": devices,
                "pool_name": pool_name,
            });
            if let Some(sp) = storage_pool {
                body["with_storage_pool"] = json!({ "name": sp });
            }
            ctx.print_replies(
                &ctx.client
                    .post(&format!("/v1/physical-storage/{}", seg(&node)), &body)?,
            )
        }
    }
}

/// The `key-value-store list` table.
pub fn kv_table(body: &Value) -> Table {
    let mut t = Table::new(&["Name"]);
    for k in items(body) {
        t.row(vec![s(k, "name").into()]);
    }
    t
}

/// The `physical-storage list` table: devices grouped by size and rotation, with the nodes
/// that have them.
pub fn ps_table(body: &Value) -> Table {
    let mut t = Table::new(&["Size", "Rotational", "Nodes"]).right(&["Size"]);
    for d in items(body) {
        let nodes: Vec<String> = d
            .get("nodes")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(n, devs)| {
                        let paths: Vec<&str> = items(devs).iter().map(|x| s(x, "device")).collect();
                        format!("{n}[{}]", paths.join(","))
                    })
                    .collect()
            })
            .unwrap_or_default();
        t.row(vec![
            d.get("size")
                .and_then(Value::as_u64)
                .map(|b| size_kib(b / 1024))
                .unwrap_or_default()
                .into(),
            d.get("rotational")
                .and_then(Value::as_bool)
                .map_or("", |r| if r { "True" } else { "False" })
                .into(),
            nodes.join("\n").into(),
        ]);
    }
    t
}
