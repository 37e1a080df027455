//! Quorum helpers inside the command executor: auto-quorum and the auto tiebreaker, run after
//! every resource create/delete, spawn and autoplace.
//!
//! The decisions are [`crate::quorum`]'s; this module applies them: it sets or removes the
//! definition's `DrbdOptions/Resource/quorum` (never when a user owns it:
//! `Internal/Drbd/QuorumSetBy=user`), creates the `TIE_BREAKER` resource (or takes over a
//! resource being deleted), and marks a tiebreaker that is no longer needed for deletion.
//! Helpers never refuse the command that triggered them: problems become warnings.

use std::collections::BTreeMap;

use super::Cluster;
use super::api::ObjKey;
use super::ctx::Ctx;
use super::indexes::with_placer;
use super::ops_rsc::{self, RscCreateArgs};
use crate::keys;
use crate::model::RscFlags;
use crate::name::ResourceName;
use crate::quorum::{
    QUORUM_KEY, RdPropAction, TiebreakerAction, quorum_decision, tiebreaker_decision_cached,
};
use crate::rc::{Obj, code};

/// Runs the tiebreaker and auto-quorum helpers for `rd` (no-op if it does not exist).
pub(super) fn manage(c: &mut Cluster, ctx: &mut Ctx<'_>, rd: &str) {
    let Ok(n) = rd.parse::<ResourceName>() else {
        return;
    };
    if !c.state.resource_definitions.contains_key(&n) {
        return;
    }
    let actions = with_placer(c, &n, |state, placer| {
        tiebreaker_decision_cached(state, placer, &n)
    });
    for action in actions {
        apply_tiebreaker(c, ctx, &n, action);
    }
    let Some(d) = quorum_decision(&c.state, &n) else {
        return;
    };
    let def = c.state.resource_definitions.get_mut(&n).expect("checked");
    match d.action {
        RdPropAction::Keep => {}
        RdPropAction::Set(v) => {
            def.props.set(QUORUM_KEY, v.as_str());
            ctx.info(
                Obj::RscDfn,
                code::INFO_PROP_SET,
                format!("'{QUORUM_KEY}' of '{n}' updated to '{v}' by AutoQuorum."),
            );
            ctx.modified(ObjKey::RscDfn { rsc_dfn: n });
        }
        RdPropAction::Remove => {
            def.props.remove(QUORUM_KEY);
            ctx.info(
                Obj::RscDfn,
                code::INFO_PROP_REMOVED,
                format!("'{QUORUM_KEY}' of '{n}' removed: the user's setting above it applies."),
            );
            ctx.modified(ObjKey::RscDfn { rsc_dfn: n });
        }
    }
}

fn apply_tiebreaker(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    n: &ResourceName,
    action: TiebreakerAction,
) {
    match action {
        TiebreakerAction::Create {
            node,
            pool,
            relaxed,
        } => {
            // rsc_create validates everything before it changes anything: on Err nothing changed.
            let empty = BTreeMap::new();
            let args = RscCreateArgs::in_pool(pool.as_str(), true, &empty);
            let res = ops_rsc::rsc_create(c, ctx, n.as_str(), node.as_str(), args);
            match res {
                Ok(()) => {
                    if let Some(r) = c
                        .state
                        .resource_definitions
                        .get_mut(n)
                        .and_then(|d| d.resources.get_mut(&node))
                    {
                        r.flags.insert(RscFlags::TIE_BREAKER);
                    }
                    let where_ = if relaxed {
                        " (no node in a new zone was available)"
                    } else {
                        ""
                    };
                    ctx.info(
                        Obj::Rsc,
                        code::INFO_TIE_BREAKER_CREATED,
                        format!("Tie breaker resource '{n}' created on {node}{where_}."),
                    );
                }
                Err(e) => {
                    ctx.warn(
                        Obj::Rsc,
                        code::WARN_NOT_ENOUGH_NODES_FOR_TIE_BREAKER,
                        format!(
                            "Could not create the tie breaker for '{n}' on {node}: {}",
                            e.message
                        ),
                    );
                }
            }
        }
        TiebreakerAction::Takeover { node, diskful } => {
            let dl_pool = c
                .state
                .nodes
                .get(&node)
                .and_then(|nd| crate::placement::filter::diskless_pool_for(nd, None));
            let Some(r) = c
                .state
                .resource_definitions
                .get_mut(n)
                .and_then(|d| d.resources.get_mut(&node))
            else {
                return;
            };
            r.flags.remove(RscFlags::DELETE);
            r.flags.insert(RscFlags::TIE_BREAKER);
            if diskful && let Some(p) = dl_pool {
                for v in r.volumes.values_mut() {
                    v.storage_pool = p.clone();
                }
                r.props.set(keys::STOR_POOL_NAME, p.as_str());
            }
            ctx.info(
                Obj::Rsc,
                code::INFO_TIE_BREAKER_TAKEOVER,
                format!(
                    "The resource '{n}' on {node} being deleted was taken over as tie breaker."
                ),
            );
            ctx.modified(ObjKey::Rsc {
                rsc_dfn: n.clone(),
                node,
            });
        }
        TiebreakerAction::Remove(node) => {
            if let Some(r) = c
                .state
                .resource_definitions
                .get_mut(n)
                .and_then(|d| d.resources.get_mut(&node))
            {
                r.flags.insert(RscFlags::DELETE);
                ctx.info(
                    Obj::Rsc,
                    code::INFO_TIE_BREAKER_DELETING,
                    format!("Tie breaker resource '{n}' on {node} is no longer needed and is being deleted."),
                );
                ctx.modified(ObjKey::Rsc {
                    rsc_dfn: n.clone(),
                    node,
                });
            }
        }
        TiebreakerAction::CannotPlace(refusal) => {
            ctx.warn(
                Obj::Rsc,
                code::WARN_NOT_ENOUGH_NODES_FOR_TIE_BREAKER,
                format!(
                    "Not enough nodes to place a tie breaker for '{n}': {}",
                    refusal.cause_text().lines().next().unwrap_or("")
                ),
            );
        }
    }
}
