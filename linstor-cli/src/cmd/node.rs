//! `node …`: create, list, delete, lost, evacuate, restore, properties.

use serde_json::{Value, json};

use crate::args::{IfCmd, NodeCmd, NodeCreate};
use crate::cmd::{Ctx, items, props_change, props_table, query, s, seg, state_cell, strs};
use crate::error::CliError;
use crate::table::{Cell, Table};

/// Runs a `node` command.
pub fn run(ctx: &Ctx, c: NodeCmd) -> Result<i32, CliError> {
    match c {
        NodeCmd::Create(a) => {
            let body = create_body(&a)?;
            ctx.print_replies(&ctx.client.post("/v1/nodes", &body)?)
        }
        NodeCmd::List(a) => {
            let path = format!("/v1/nodes{}", query(&[("nodes", &a.nodes)]));
            match ctx.get_list(&path)? {
                Ok(body) => Ok(ctx.print_table(&body, &table(&body, a.show_aux_props))),
                Err(code) => Ok(code),
            }
        }
        NodeCmd::Delete { node } => {
            ctx.print_replies(&ctx.client.delete(&format!("/v1/nodes/{}", seg(&node)))?)
        }
        NodeCmd::Lost { node } => ctx.print_replies(
            &ctx.client
                .delete(&format!("/v1/nodes/{}/lost", seg(&node)))?,
        ),
        NodeCmd::Evacuate { node, no_wait } => {
            let code = ctx.print_replies(
                &ctx.client
                    .put(&format!("/v1/nodes/{}/evacuate", seg(&node)), &json!({}))?,
            )?;
            if code != 0 || no_wait || ctx.machine {
                return Ok(code);
            }
            crate::cmd::progress::wait_evacuated(ctx, &node)
        }
        NodeCmd::Restore { node } => ctx.print_replies(
            &ctx.client
                .put(&format!("/v1/nodes/{}/restore", seg(&node)), &json!({}))?,
        ),
        NodeCmd::SetProperty { node, kv } => ctx.print_replies(
            &ctx.client
                .put(&format!("/v1/nodes/{}", seg(&node)), &props_change(&kv))?,
        ),
        NodeCmd::Interface(c) => interface(ctx, c),
        NodeCmd::ListProperties { node } => {
            match ctx.get_list(&format!("/v1/nodes/{}", seg(&node)))? {
                Ok(body) => Ok(ctx.print_table(&body, &props_table(body.get("props")))),
                Err(code) => Ok(code),
            }
        }
    }
}

/// The `POST /v1/nodes` body, as LINSTOR's client sends it.
pub fn create_body(a: &NodeCreate) -> Result<Value, CliError> {
    let comm = a.communication_type.to_ascii_uppercase();
    if comm != "PLAIN" && comm != "SSL" {
        return Err(CliError::Usage {
            message: format!(
                "--communication-type '{}' is not PLAIN or SSL",
                a.communication_type
            ),
            correction: "use --communication-type PLAIN (port 3366) or SSL (port 3367)".into(),
        });
    }
    let port = a.port.unwrap_or(if comm == "SSL" { 3367 } else { 3366 });
    Ok(json!({
        "name": a.node,
        "type": a.node_type,
        "net_interfaces": [{
            "name": a.interface_name,
            "address": a.ip,
            "satellite_port": port,
            "satellite_encryption_type": comm,
            "is_active": true,
        }],
    }))
}

/// The `node list` table.
pub fn table(body: &Value, aux: bool) -> Table {
    let mut header = vec!["Node", "NodeType", "Addresses", "State"];
    if aux {
        header.push("AuxProps");
    }
    let mut t = Table::new(&header);
    for n in items(body) {
        let addrs: Vec<String> = items(n.get("net_interfaces").unwrap_or(&Value::Null))
            .iter()
            .filter(|i| i.get("satellite_port").is_some())
            .map(|i| {
                format!(
                    "{}:{} ({})",
                    s(i, "address"),
                    i.get("satellite_port").and_then(Value::as_u64).unwrap_or(0),
                    s(i, "satellite_encryption_type")
                )
            })
            .collect();
        let mut row: Vec<Cell> = vec![
            s(n, "name").into(),
            s(n, "type").to_ascii_uppercase().into(),
            addrs.join(", ").into(),
            state_cell(&state(n)),
        ];
        if aux {
            let props = n
                .get("props")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter(|(k, _)| k.starts_with("Aux/"))
                        .map(|(k, v)| format!("{}={}", k, v.as_str().unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            row.push(props.into());
        }
        t.row(row);
    }
    t
}

/// A node's state word: its connection status as LINSTOR's client words it, with flags.
fn state(n: &Value) -> String {
    let flags = strs(n, "flags");
    let status = match s(n, "connection_status") {
        "ONLINE" => "Online".to_owned(),
        "" => "Unknown".to_owned(),
        other => other.to_owned(),
    };
    let shown: Vec<&str> = flags
        .into_iter()
        .filter(|f| ["EVICTED", "EVACUATE", "DELETE", "QIGNORE"].contains(f))
        .collect();
    if shown.is_empty() {
        status
    } else {
        format!("{status} ({})", shown.join(", "))
    }
}

fn netif_body(
    ip: Option<&str>,
    port: Option<u16>,
    comm: Option<&str>,
    active: bool,
) -> Result<Value, CliError> {
    let mut body = json!({});
    if let Some(ip) = ip {
        body["address"] = json!(ip);
    }
    if let Some(p) = port {
        body["satellite_port"] = json!(p);
    }
    if let Some(c) = comm {
        let c = c.to_ascii_uppercase();
        if c != "PLAIN" && c != "SSL" {
            return Err(CliError::Usage {
                message: format!("--communication-type '{c}' is not PLAIN or SSL"),
                correction: "use --communication-type PLAIN or SSL".into(),
            });
        }
        body["satellite_encryption_type"] = json!(c);
    }
    if active {
        body["is_active"] = json!(true);
    }
    Ok(body)
}

fn interface(ctx: &Ctx, c: IfCmd) -> Result<i32, CliError> {
    match c {
        IfCmd::List { node } => {
            match ctx.get_list(&format!("/v1/nodes/{}/net-interfaces", seg(&node)))? {
                Ok(body) => Ok(ctx.print_table(&body, &netif_table(&body))),
                Err(code) => Ok(code),
            }
        }
        IfCmd::Create {
            node,
            name,
            ip,
            port,
            communication_type,
            active,
        } => {
            let mut body = netif_body(Some(&ip), port, communication_type.as_deref(), active)?;
            body["name"] = json!(name);
            ctx.print_replies(
                &ctx.client
                    .post(&format!("/v1/nodes/{}/net-interfaces", seg(&node)), &body)?,
            )
        }
        IfCmd::Modify {
            node,
            name,
            ip,
            port,
            communication_type,
            active,
        } => {
            let mut body = netif_body(ip.as_deref(), port, communication_type.as_deref(), active)?;
            body["name"] = json!(name);
            ctx.print_replies(&ctx.client.put(
                &format!("/v1/nodes/{}/net-interfaces/{}", seg(&node), seg(&name)),
                &body,
            )?)
        }
        IfCmd::Delete { node, name } => ctx.print_replies(&ctx.client.delete(&format!(
            "/v1/nodes/{}/net-interfaces/{}",
            seg(&node),
            seg(&name)
        ))?),
    }
}

/// The `node interface list` table.
pub fn netif_table(body: &Value) -> Table {
    let mut t = Table::new(&["Name", "IP", "Port", "EncryptionType", "Active"]).right(&["Port"]);
    for i in items(body) {
        t.row(vec![
            s(i, "name").into(),
            s(i, "address").into(),
            i.get("satellite_port")
                .and_then(Value::as_u64)
                .map(|p| p.to_string())
                .unwrap_or_default()
                .into(),
            s(i, "satellite_encryption_type").into(),
            (if i.get("is_active").and_then(Value::as_bool) == Some(true) {
                "yes"
            } else {
                ""
            })
            .into(),
        ]);
    }
    t
}
