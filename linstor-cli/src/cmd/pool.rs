//! `storage-pool …`: create (per provider), list, delete, properties.

use serde_json::{Value, json};

use crate::args::{PoolCmd, PoolCreate, PoolOn};
use crate::cmd::{Ctx, items, props_change, props_table, query, s, seg, size_kib, state_cell};
use crate::error::CliError;
use crate::table::Table;

/// Runs a `storage-pool` command.
pub fn run(ctx: &Ctx, c: PoolCmd) -> Result<i32, CliError> {
    match c {
        PoolCmd::Create(kind) => {
            let (node, body) = create_body(&kind);
            ctx.print_replies(
                &ctx.client
                    .post(&format!("/v1/nodes/{}/storage-pools", seg(&node)), &body)?,
            )
        }
        PoolCmd::List(a) => {
            let path = format!(
                "/v1/view/storage-pools{}",
                query(&[("nodes", &a.nodes), ("storage_pools", &a.pools)])
            );
            match ctx.get_list(&path)? {
                Ok(body) => Ok(ctx.print_table(&body, &table(&body))),
                Err(code) => Ok(code),
            }
        }
        PoolCmd::Delete { node, pool } => ctx.print_replies(&ctx.client.delete(&format!(
            "/v1/nodes/{}/storage-pools/{}",
            seg(&node),
            seg(&pool)
        ))?),
        PoolCmd::SetProperty { node, pool, kv } => ctx.print_replies(&ctx.client.put(
            &format!("/v1/nodes/{}/storage-pools/{}", seg(&node), seg(&pool)),
            &props_change(&kv),
        )?),
        PoolCmd::ListProperties { node, pool } => match ctx.get_list(&format!(
            "/v1/nodes/{}/storage-pools/{}",
            seg(&node),
            seg(&pool)
        ))? {
            Ok(body) => Ok(ctx.print_table(&body, &props_table(body.get("props")))),
            Err(code) => Ok(code),
        },
    }
}

/// The node and the `POST …/storage-pools` body of a create.
pub fn create_body(kind: &PoolCreate) -> (String, Value) {
    let on = |provider: &str, p: &PoolOn| {
        let mut body = json!({
            "storage_pool_name": p.name,
            "provider_kind": provider,
            "props": { "StorDriver/StorPoolName": p.driver_pool_name },
        });
        if let Some(shared) = &p.shared_space {
            body["free_space_mgr_name"] = json!(shared);
        }
        (p.node.clone(), body)
    };
    match kind {
        PoolCreate::Lvm(p) => on("LVM", p),
        PoolCreate::Lvmthin(p) => on("LVM_THIN", p),
        PoolCreate::Zfs(p) => on("ZFS", p),
        PoolCreate::Zfsthin(p) => on("ZFS_THIN", p),
        PoolCreate::File(p) => on("FILE", p),
        PoolCreate::Filethin(p) => on("FILE_THIN", p),
        PoolCreate::Diskless { node, name } => (
            node.clone(),
            json!({ "storage_pool_name": name, "provider_kind": "DISKLESS" }),
        ),
    }
}

/// The `storage-pool list` table.
pub fn table(body: &Value) -> Table {
    let mut t = Table::new(&[
        "StoragePool",
        "Node",
        "Driver",
        "PoolName",
        "FreeCapacity",
        "TotalCapacity",
        "CanSnapshots",
        "State",
        "SharedName",
    ])
    .right(&["FreeCapacity", "TotalCapacity"]);
    for p in items(body) {
        let diskless = s(p, "provider_kind") == "DISKLESS";
        let cap = |key: &str| match p.get(key).and_then(Value::as_u64) {
            Some(kib) if !diskless => size_kib(kib),
            _ => String::new(),
        };
        let errors = items(p.get("reports").unwrap_or(&Value::Null))
            .iter()
            .any(|r| {
                crate::reply::Level::of(r.get("ret_code").unwrap_or(&Value::Null))
                    == crate::reply::Level::Error
            });
        let snaps = p
            .get("supports_snapshots")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        t.row(vec![
            s(p, "storage_pool_name").into(),
            s(p, "node_name").into(),
            s(p, "provider_kind").into(),
            p.get("props")
                .map(|pr| s(pr, "StorDriver/StorPoolName"))
                .unwrap_or_default()
                .into(),
            cap("free_capacity").into(),
            cap("total_capacity").into(),
            (if snaps { "True" } else { "False" }).into(),
            state_cell(if errors { "Error" } else { "Ok" }),
            s(p, "free_space_mgr_name").into(),
        ]);
    }
    t
}
