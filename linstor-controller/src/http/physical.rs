//! Physical storage (`/v1/physical-storage`): questions only the nodes can answer, asked over
//! their satellite links through the hub — the devices that could become pools, and making a
//! pool of some (then, if asked, the LINSTOR storage pool on top, through the core).

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use linstor_api::answer::Call;
use linstor_api::request::PhysicalStorageCreate;
use linstor_core::NodeName;
use linstor_core::cluster::Command;
use linstor_core::keys::STOR_DRIVER_STOR_POOL_NAME;
use linstor_core::model::ProviderKind;
use linstor_core::rc::{Obj, Op, RcEntry, Severity, code};
use linstor_proto::{DevicePoolCreate, PhysicalDevice, SatAnswer, SatRequest};
use serde_json::{Value, json};

use super::{AppState, P, body, error, run};
use crate::satellites::hub::AskError;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/physical-storage", get(all_nodes))
        .route("/v1/physical-storage/{node}", get(one_node).post(create))
}

/// The node named in the path, or the 404 answer.
fn known_node(st: &AppState, op: Op, node: &str) -> Result<NodeName, Response> {
    let c = st.engine.read();
    let found = NodeName::new(node)
        .ok()
        .and_then(|n| c.state().nodes.get(&n).map(|n| n.name.clone()));
    found.ok_or_else(|| {
        let e = RcEntry::error(
            op,
            Obj::Node,
            code::NOT_FOUND_NODE,
            format!("Node '{node}' not found."),
        )
        .correction("Check the name with GET /v1/nodes.");
        error(404, e)
    })
}

fn ask_failed(op: Op, e: &AskError) -> Response {
    let entry = RcEntry::error(op, Obj::PhysicalDevice, code::NOT_CONNECTED, e.to_string())
        .cause("Only the node's satellite can look at or change its devices.")
        .correction("Start the node's satellite (or wait until the node is ONLINE) and retry.");
    error(500, entry)
}

fn devices_of(a: SatAnswer, op: Op) -> Result<Vec<PhysicalDevice>, Response> {
    match a {
        SatAnswer::Devices(d) => Ok(d),
        other => Err(satellite_failed(op, other)),
    }
}

fn satellite_failed(op: Op, a: SatAnswer) -> Response {
    let entry = match a {
        SatAnswer::Failed {
            message,
            command,
            stderr,
        } => {
            let mut e = RcEntry::error(op, Obj::PhysicalDevice, code::UNKNOWN_ERROR, message)
                .correction(
                    "Fix the cause on the node (the device may be in use or too small) and retry.",
                );
            if !command.is_empty() {
                e = e.cause(format!("`{}` failed: {}", command.join(" "), stderr.trim()));
            }
            e
        }
        other => RcEntry::error(
            op,
            Obj::PhysicalDevice,
            code::IMPL_ERROR,
            format!("unexpected answer {other:?}"),
        ),
    };
    error(500, entry)
}

async fn one_node(State(st): State<AppState>, P(node): P<String>) -> Response {
    let name = match known_node(&st, Op::None, &node) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let devices = match st.hub.ask(&name, SatRequest::ListDevices).await {
        Ok(a) => match devices_of(a, Op::None) {
            Ok(d) => d,
            Err(r) => return r,
        },
        Err(e) => return ask_failed(Op::None, &e),
    };
    let list: Vec<Value> = devices
        .iter()
        .map(|d| {
            json!({"size": d.size, "rotational": d.rotational, "device": d.device,
                "model": d.model, "serial": d.serial, "wwn": d.wwn})
        })
        .collect();
    super::json(200, &Value::Array(list))
}

/// Every connected node's devices, grouped by size and rotation as LINSTOR groups them.
async fn all_nodes(State(st): State<AppState>) -> Response {
    let nodes = st.hub.connected();
    let asks = nodes.iter().map(|n| st.hub.ask(n, SatRequest::ListDevices));
    let answers = futures_util::future::join_all(asks).await;
    let mut groups: BTreeMap<(u64, bool), BTreeMap<String, Vec<Value>>> = BTreeMap::new();
    for (node, a) in nodes.iter().zip(answers) {
        // A node that cannot answer now is left out, as LINSTOR leaves out offline nodes.
        let Ok(SatAnswer::Devices(devs)) = a else {
            continue;
        };
        for d in devs {
            groups
                .entry((d.size, d.rotational))
                .or_default()
                .entry(node.to_string())
                .or_default()
                .push(
                    json!({"device": d.device, "model": d.model, "serial": d.serial, "wwn": d.wwn}),
                );
        }
    }
    let list: Vec<Value> = groups
        .into_iter()
        .map(|((size, rotational), nodes)| json!({"size": size, "rotational": rotational, "nodes": nodes}))
        .collect();
    super::json(200, &Value::Array(list))
}

/// The refusal if `node` reported that it cannot run pools of `kind` (checked before any device
/// is touched, so a refused request changes nothing).
fn unsupported(st: &AppState, node: &NodeName, kind: ProviderKind) -> Option<Response> {
    let c = st.engine.read();
    let caps = c.state().observed.nodes.get(node)?.capabilities.as_ref()?;
    if caps.storage_providers.contains(&kind) {
        return None;
    }
    let why = caps
        .unsupported_providers
        .get(&kind)
        .map(|w| w.join("; "))
        .unwrap_or_else(|| "the node did not report it".to_owned());
    let e = RcEntry::error(Op::Create, Obj::StorPool, code::INVLD_STOR_DRIVER, format!("Node '{node}' does not support {kind:?}"))
        .cause(why)
        .correction("Install the missing tools or kernel modules on the node and reconnect it, or leave with_storage_pool out to make only the device pool.");
    Some(error(500, e))
}

async fn create(State(st): State<AppState>, P(node): P<String>, b: Bytes) -> Response {
    let op = Op::Create;
    let req = match body::<PhysicalStorageCreate>("a physical storage create request", &b) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let pool_name = match req.check() {
        Ok(n) => n,
        Err((field, value, fix)) => {
            let e = RcEntry::error(
                op,
                Obj::PhysicalDevice,
                code::INVLD_STOR_DRIVER,
                format!("{field} = {value} is not served."),
            )
            .correction(fix);
            return error(400, e);
        }
    };
    let name = match known_node(&st, op, &node) {
        Ok(n) => n,
        Err(r) => return r,
    };
    if req.with_storage_pool.is_some()
        && let Some(r) = unsupported(&st, &name, req.provider_kind)
    {
        return r;
    }
    let ask = SatRequest::CreateDevicePool(DevicePoolCreate {
        kind: req.provider_kind,
        devices: req.device_paths.clone(),
        pool_name: pool_name.clone(),
    });
    let source = match st.hub.ask(&name, ask).await {
        Ok(SatAnswer::PoolCreated { source, .. }) => source,
        Ok(other) => return satellite_failed(op, other),
        Err(e) => return ask_failed(op, &e),
    };
    let Some(sp) = req.with_storage_pool else {
        let ok = RcEntry::new(
            Severity::Success,
            op,
            Obj::PhysicalDevice,
            code::CREATED,
            format!(
                "Device pool '{source}' ({:?}) created on node '{name}'.",
                req.provider_kind
            ),
        );
        return super::json(201, &Value::Array(vec![ok.to_rest_json()]));
    };
    let mut props = sp.props.unwrap_or_default();
    props.insert(STOR_DRIVER_STOR_POOL_NAME.to_owned(), source);
    let cmd = Command::StorPoolCreate {
        node: name.to_string(),
        name: sp.name,
        kind: req.provider_kind,
        props,
        shared_space: sp.shared_space,
    };
    run(&st, vec![cmd], Call::Create).await
}
