//! Quorum and tiebreaker decisions ([`linstor_quorum`]) and partition write permission.

use std::collections::BTreeSet;
use std::ffi::{CString, c_char};

use linstor_core::name::{NodeName, ResourceName};
use linstor_core::quorum::{
    QuorumSource, TiebreakerAction, partition_may_write, quorum_decision, tiebreaker_decision,
};

use crate::cluster::linstor_cluster;
use crate::error::{Failure, linstor_error, linstor_result};
use crate::panic::{ffi_call, ffi_unit, ffi_value};
use crate::strings::{arg_ref, arg_str, c_string, check_out, linstor_str, write_out};

/// What the auto tiebreaker would do for a resource (passed out as `uint32_t`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum linstor_tiebreaker_action {
    /// Nothing to do.
    LINSTOR_TIEBREAKER_NONE = 0,
    /// Create a diskless tiebreaker on `node`.
    LINSTOR_TIEBREAKER_CREATE = 1,
    /// Turn the resource being deleted on `node` into the tiebreaker.
    LINSTOR_TIEBREAKER_TAKEOVER = 2,
    /// Remove the tiebreaker on `node`; it is no longer needed.
    LINSTOR_TIEBREAKER_REMOVE = 3,
    /// A tiebreaker is needed but no node fits; `explanation` says why.
    LINSTOR_TIEBREAKER_CANNOT_PLACE = 4,
}

/// Replica counts of a resource as the quorum rules count them.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct linstor_quorum_counts {
    /// Diskful DRBD replicas (not being deleted, not inactive).
    pub diskful: usize,
    /// DRBD-diskless replicas (tiebreakers and clients included).
    pub diskless: usize,
    /// Tiebreakers.
    pub tiebreakers: usize,
}

/// The quorum and tiebreaker decision for one resource, as LINSTOR's controller would take it
/// now: the effective `quorum` value (`majority`, `off`, or a user's value), whether a user set
/// it, the counts it was based on, and what the auto tiebreaker would do.
///
/// Ownership: returned by `linstor_cluster_quorum`, freed with `linstor_quorum_free`. It is a
/// snapshot. Thread safety: immutable; may be read from several threads at once.
pub struct linstor_quorum {
    value: CString,
    user: bool,
    counts: linstor_quorum_counts,
    tiebreaker: u32,
    tiebreaker_node: Option<CString>,
    explanation: Option<CString>,
}

impl std::fmt::Debug for linstor_quorum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("linstor_quorum")
            .field("value", &self.value)
            .field("user", &self.user)
            .field("counts", &self.counts)
            .field("tiebreaker", &self.tiebreaker)
            .finish_non_exhaustive()
    }
}

fn resource_name(name: &str) -> Result<ResourceName, Failure> {
    ResourceName::new(name).map_err(|e| Failure::from_name(&e))
}

fn not_found(name: &str) -> Failure {
    Failure::new(
        linstor_result::LINSTOR_NOT_FOUND,
        format!("Resource definition '{name}' not found"),
    )
    .correction("Name an existing resource definition (`linstor resource-definition list`).")
}

/// Computes the quorum and tiebreaker decision for resource `resource`.
/// `LINSTOR_NOT_FOUND` if it does not exist; `LINSTOR_INVALID_ARGUMENT` if it has no DRBD layer.
///
/// # Safety
/// `cluster` is NULL or live; `resource` is NULL or NUL-terminated; `quorum_out` and `err_out`
/// are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_quorum(
    cluster: *const linstor_cluster,
    resource: *const c_char,
    quorum_out: *mut *mut linstor_quorum,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`) need.
    unsafe {
        ffi_call(err_out, || {
            let c = arg_ref(cluster, "cluster")?;
            let name = arg_str(resource, "resource")?;
            check_out(quorum_out, "quorum_out")?;
            let rn = resource_name(name)?;
            let q = c.with_state(|state| {
                if !state.resource_definitions.contains_key(&rn) {
                    return Err(not_found(name));
                }
                let d = quorum_decision(state, &rn).ok_or_else(|| {
                    Failure::invalid(format!("Resource '{name}' has no DRBD layer"))
                        .cause("Quorum applies to DRBD resources only.")
                })?;
                let (action, node, explanation) = match tiebreaker_decision(state, &rn).first() {
                    None => (
                        linstor_tiebreaker_action::LINSTOR_TIEBREAKER_NONE,
                        None,
                        None,
                    ),
                    Some(TiebreakerAction::Create { node, relaxed, .. }) => (
                        linstor_tiebreaker_action::LINSTOR_TIEBREAKER_CREATE,
                        Some(node.to_string()),
                        relaxed.then(|| {
                            "no node in a new zone fits; spreading constraints were relaxed"
                                .to_owned()
                        }),
                    ),
                    Some(TiebreakerAction::Takeover { node, .. }) => (
                        linstor_tiebreaker_action::LINSTOR_TIEBREAKER_TAKEOVER,
                        Some(node.to_string()),
                        None,
                    ),
                    Some(TiebreakerAction::Remove(node)) => (
                        linstor_tiebreaker_action::LINSTOR_TIEBREAKER_REMOVE,
                        Some(node.to_string()),
                        None,
                    ),
                    Some(TiebreakerAction::CannotPlace(r)) => (
                        linstor_tiebreaker_action::LINSTOR_TIEBREAKER_CANNOT_PLACE,
                        None,
                        Some(format!(
                            "{}\nCorrection: {}",
                            r.cause_text(),
                            r.correction_text()
                        )),
                    ),
                };
                Ok(linstor_quorum {
                    value: c_string(d.value.clone()),
                    user: matches!(d.source, QuorumSource::User(_)),
                    counts: linstor_quorum_counts {
                        diskful: d.counts.diskful,
                        diskless: d.counts.diskless,
                        tiebreakers: d.counts.tiebreakers,
                    },
                    tiebreaker: action as u32,
                    tiebreaker_node: node.map(c_string),
                    explanation: explanation.map(c_string),
                })
            })??;
            write_out(quorum_out, Box::into_raw(Box::new(q)));
            Ok(())
        })
    }
}

/// The effective `quorum` value (`majority`, `off`, or a user's value such as `2`); absent if
/// `quorum` is NULL.
///
/// # Safety
/// `quorum` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_quorum_value(quorum: *const linstor_quorum) -> linstor_str {
    ffi_value(linstor_str::NONE, || {
        // SAFETY: NULL or live (contract).
        unsafe { quorum.as_ref() }.map_or(linstor_str::NONE, |q| linstor_str::borrow(&q.value))
    })
}

/// True if a user set the quorum value (`Internal/Drbd/QuorumSetBy=user`), false if the
/// auto-quorum rule decided (or `quorum` is NULL).
///
/// # Safety
/// `quorum` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_quorum_set_by_user(quorum: *const linstor_quorum) -> bool {
    ffi_value(false, || {
        // SAFETY: NULL or live (contract).
        unsafe { quorum.as_ref() }.is_some_and(|q| q.user)
    })
}

/// The replica counts the decision was based on (all 0 if `quorum` is NULL).
///
/// # Safety
/// `quorum` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_quorum_get_counts(
    quorum: *const linstor_quorum,
) -> linstor_quorum_counts {
    ffi_value(linstor_quorum_counts::default(), || {
        // SAFETY: NULL or live (contract).
        unsafe { quorum.as_ref() }.map_or_else(linstor_quorum_counts::default, |q| q.counts)
    })
}

/// What the auto tiebreaker would do: a `linstor_tiebreaker_action` value
/// (`LINSTOR_TIEBREAKER_NONE` if `quorum` is NULL).
///
/// # Safety
/// `quorum` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_quorum_tiebreaker(quorum: *const linstor_quorum) -> u32 {
    ffi_value(0, || {
        // SAFETY: NULL or live (contract).
        unsafe { quorum.as_ref() }.map_or(0, |q| q.tiebreaker)
    })
}

/// The node of the tiebreaker action (create, takeover, remove), or the absent string.
///
/// # Safety
/// `quorum` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_quorum_tiebreaker_node(
    quorum: *const linstor_quorum,
) -> linstor_str {
    ffi_value(linstor_str::NONE, || {
        // SAFETY: NULL or live (contract).
        unsafe { quorum.as_ref() }.map_or(linstor_str::NONE, |q| {
            linstor_str::borrow_opt(q.tiebreaker_node.as_ref())
        })
    })
}

/// Why a needed tiebreaker cannot be placed (cause and correction), or a note when spreading
/// constraints had to be relaxed; otherwise the absent string.
///
/// # Safety
/// `quorum` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_quorum_tiebreaker_explanation(
    quorum: *const linstor_quorum,
) -> linstor_str {
    ffi_value(linstor_str::NONE, || {
        // SAFETY: NULL or live (contract).
        unsafe { quorum.as_ref() }.map_or(linstor_str::NONE, |q| {
            linstor_str::borrow_opt(q.explanation.as_ref())
        })
    })
}

/// Frees a quorum decision. `linstor_quorum_free(NULL)` does nothing.
///
/// # Safety
/// `quorum` is NULL or live and not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_quorum_free(quorum: *mut linstor_quorum) {
    ffi_unit(|| {
        if !quorum.is_null() {
            // SAFETY: from `Box::into_raw` in this crate, freed once (contract).
            drop(unsafe { Box::from_raw(quorum) });
        }
    });
}

/// Decides whether the nodes `side_nodes[0..n_side]` (one side of a network partition, e.g.
/// every node outside a failed zone) may write to resource `resource`: the side must hold a
/// diskful replica and, under the resource's effective quorum policy, enough voters (a strict
/// majority for `majority`). Writes `*may_write_out` on success.
///
/// # Safety
/// `cluster` is NULL or live; `resource` is NULL or NUL-terminated; `side_nodes` is NULL or
/// points to `n_side` pointers, each NULL or NUL-terminated; `may_write_out` and `err_out` are
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_partition_may_write(
    cluster: *const linstor_cluster,
    resource: *const c_char,
    side_nodes: *const *const c_char,
    n_side: usize,
    may_write_out: *mut bool,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`) need.
    unsafe {
        ffi_call(err_out, || {
            let c = arg_ref(cluster, "cluster")?;
            let name = arg_str(resource, "resource")?;
            check_out(may_write_out, "may_write_out")?;
            let mut side = BTreeSet::new();
            if n_side > 0 {
                if side_nodes.is_null() {
                    return Err(Failure::null("side_nodes"));
                }
                for p in std::slice::from_raw_parts(side_nodes, n_side) {
                    let n = arg_str(*p, "side_nodes[i]")?;
                    side.insert(NodeName::new(n).map_err(|e| Failure::from_name(&e))?);
                }
            }
            let rn = resource_name(name)?;
            let ok = c
                .with_state(|state| partition_may_write(state, &rn, &side))?
                .map_err(|e| {
                    Failure::new(linstor_result::LINSTOR_NOT_FOUND, e.to_string())
                        .correction(e.correction())
                })?;
            write_out(may_write_out, ok);
            Ok(())
        })
    }
}
