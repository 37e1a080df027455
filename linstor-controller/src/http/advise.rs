//! What-if questions (`linstor advise`), answered by the core's `advise` on the current state
//! under the shared lock; nothing changes. Not part of LINSTOR's API (its clients never ask):
//!
//! * `GET /v1/advise/fit?resource_group=RG&size=SIZE[&limit=N]`: how many volumes of SIZE the
//!   group's filter can still place, where the first goes, and what stops the next one;
//! * `GET /v1/advise/failure?nodes=A&nodes=B` or `?property=Aux/zone&value=b`: what a failure
//!   of those nodes does to every resource.

use std::collections::BTreeSet;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use linstor_core::advise::{failure, fit, nodes_with};
use linstor_core::rc::{Obj, code};
use linstor_core::{NodeName, ResourceGroupName, SizeKib};

use super::reads::{not_found, one};
use super::{AppState, Q, refused};

/// Most volumes a fit question counts (each is a full placement).
const MAX_LIMIT: usize = 10_000;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/advise/fit", get(fit_q))
        .route("/v1/advise/failure", get(failure_q))
}

async fn fit_q(State(st): State<AppState>, q: Q) -> Response {
    let Some(rg) = q.first("resource_group") else {
        return refused(
            "resource_group",
            "name the resource group: ?resource_group=RG",
        );
    };
    let size = match q.first("size").map(SizeKib::parse) {
        Some(Ok(s)) if s.kib() > 0 => s,
        Some(Ok(_)) => return refused("size", "the size must be more than 0"),
        Some(Err(e)) => return refused("size", format!("size: {e}")),
        None => return refused("size", "give the volume size: ?size=10GiB"),
    };
    let limit = match q.first("limit").map(str::parse::<usize>) {
        None => 1000,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            return refused(
                "limit",
                format!("limit must be a number from 1 to {MAX_LIMIT}"),
            );
        }
    };
    let c = st.engine.read();
    let group = ResourceGroupName::new(rg)
        .ok()
        .and_then(|n| c.state().resource_groups.get(&n));
    let Some(group) = group else {
        return not_found(Obj::RscGrp, code::NOT_FOUND_RSC_GRP, "Resource group", rg);
    };
    one(&fit(c.state(), &group.select_filter, size, limit))
}

async fn failure_q(State(st): State<AppState>, q: Q) -> Response {
    let c = st.engine.read();
    let s = c.state();
    let mut failed = BTreeSet::new();
    for n in q.all("nodes") {
        match NodeName::new(&n).ok().filter(|n| s.nodes.contains_key(n)) {
            Some(name) => {
                failed.insert(name);
            }
            None => return not_found(Obj::Node, code::NOT_FOUND_NODE, "Node", &n),
        }
    }
    match (q.first("property"), q.first("value")) {
        (Some(k), Some(v)) => {
            let domain = nodes_with(s, k, v);
            if domain.is_empty() {
                return refused(
                    "property",
                    format!(
                        "no node has {k}={v}; list the nodes' properties with `linstor node list --show-aux-props`"
                    ),
                );
            }
            failed.extend(domain);
        }
        (None, None) => {}
        _ => return refused("property", "give both ?property=KEY and ?value=VALUE"),
    }
    if failed.is_empty() {
        return refused(
            "nodes",
            "name the failed nodes (?nodes=A&nodes=B) or a failure domain (?property=Aux/zone&value=b)",
        );
    }
    one(&failure(s, &failed))
}
