//! [`linstor_placement`]: where a resource's replicas are (read back after spawn or autoplace).

use std::ffi::CString;

use linstor_core::model::{ResourceDefinition, RscFlags};
use linstor_core::name::{NodeName, StorPoolName, well_known};
use linstor_core::placement::Placement;

use crate::error::{Failure, linstor_result};
use crate::panic::{ffi_call, ffi_unit, ffi_value};
use crate::strings::{arg_ref, c_string, check_out, linstor_str, write_out};

/// One replica of a resource, borrowed from its `linstor_placement`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct linstor_replica {
    /// The node it is on.
    pub node: linstor_str,
    /// The storage pool of its first volume (`DfltDisklessStorPool` for diskless replicas).
    pub storage_pool: linstor_str,
    /// True for a diskless replica (a DRBD client or a tiebreaker).
    pub diskless: bool,
    /// True for a diskless tiebreaker that only adds a quorum vote.
    pub tie_breaker: bool,
}

struct Replica {
    node: CString,
    pool: CString,
    diskless: bool,
    tie_breaker: bool,
}

/// The replicas of one resource: as deployed when the placement was read (replicas being
/// deleted left out; ordered by node name), or as planned by `linstor_cluster_plan_placement`
/// (new replicas only; diskful first, in the autoplacer's preference order).
///
/// Ownership: returned through a `linstor_placement **`; freed with `linstor_placement_free`.
/// It is a snapshot: later changes to the cluster do not change it.
/// Thread safety: immutable; may be read from several threads at once.
pub struct linstor_placement {
    resource: CString,
    replicas: Vec<Replica>,
}

impl std::fmt::Debug for linstor_placement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("linstor_placement")
            .field("resource", &self.resource)
            .field("replicas", &self.replicas.len())
            .finish()
    }
}

impl linstor_placement {
    pub(crate) fn of(rd: &ResourceDefinition) -> linstor_placement {
        let replicas = rd
            .resources
            .values()
            .filter(|r| !r.is_deleting())
            .map(|r| {
                let pool = r.volumes.values().next().map_or_else(
                    || well_known::DFLT_DISKLESS_STOR_POOL.to_owned(),
                    |v| v.storage_pool.to_string(),
                );
                Replica {
                    node: c_string(r.node.to_string()),
                    pool: c_string(pool),
                    diskless: r.flags.contains(RscFlags::DISKLESS),
                    tie_breaker: r.flags.contains(RscFlags::TIE_BREAKER),
                }
            })
            .collect();
        linstor_placement {
            resource: c_string(rd.name.to_string()),
            replicas,
        }
    }

    /// The new replicas of a planned placement.
    pub(crate) fn planned(resource: &str, p: &Placement) -> linstor_placement {
        let mk = |(n, sp): &(NodeName, StorPoolName), diskless: bool| Replica {
            node: c_string(n.to_string()),
            pool: c_string(sp.to_string()),
            diskless,
            tie_breaker: false,
        };
        let replicas = p
            .diskful
            .iter()
            .map(|x| mk(x, false))
            .chain(p.diskless.iter().map(|x| mk(x, true)))
            .collect();
        linstor_placement {
            resource: c_string(resource),
            replicas,
        }
    }

    /// Number of diskful replicas.
    pub(crate) fn diskful(&self) -> usize {
        self.replicas.iter().filter(|r| !r.diskless).count()
    }
}

/// The name of the resource this placement belongs to (borrowed; absent if `placement` is NULL).
///
/// # Safety
/// `placement` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_placement_resource(
    placement: *const linstor_placement,
) -> linstor_str {
    ffi_value(linstor_str::NONE, || {
        // SAFETY: NULL or live (contract).
        unsafe { placement.as_ref() }
            .map_or(linstor_str::NONE, |p| linstor_str::borrow(&p.resource))
    })
}

/// The number of replicas (diskful and diskless); 0 if `placement` is NULL.
///
/// # Safety
/// `placement` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_placement_len(placement: *const linstor_placement) -> usize {
    ffi_value(0, || {
        // SAFETY: NULL or live (contract).
        unsafe { placement.as_ref() }.map_or(0, |p| p.replicas.len())
    })
}

/// The number of diskful replicas; 0 if `placement` is NULL.
///
/// # Safety
/// `placement` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_placement_diskful_count(
    placement: *const linstor_placement,
) -> usize {
    ffi_value(0, || {
        // SAFETY: NULL or live (contract).
        unsafe { placement.as_ref() }.map_or(0, linstor_placement::diskful)
    })
}

/// Reads replica `index` into `*replica_out` (strings borrowed from `placement`).
/// `LINSTOR_OUT_OF_RANGE` if `index >= linstor_placement_len(placement)`.
///
/// # Safety
/// `placement` is NULL or live; `replica_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_placement_get(
    placement: *const linstor_placement,
    index: usize,
    replica_out: *mut linstor_replica,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        ffi_call(std::ptr::null_mut(), || {
            let p = arg_ref(placement, "placement")?;
            check_out(replica_out, "replica_out")?;
            let r = p.replicas.get(index).ok_or_else(|| {
                Failure::new(
                    linstor_result::LINSTOR_OUT_OF_RANGE,
                    format!("Index {index} is past the {} replicas", p.replicas.len()),
                )
            })?;
            let out = linstor_replica {
                node: linstor_str::borrow(&r.node),
                storage_pool: linstor_str::borrow(&r.pool),
                diskless: r.diskless,
                tie_breaker: r.tie_breaker,
            };
            write_out(replica_out, out);
            Ok(())
        })
    }
}

/// Frees a placement. `linstor_placement_free(NULL)` does nothing.
///
/// # Safety
/// `placement` is NULL or a live placement that is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_placement_free(placement: *mut linstor_placement) {
    ffi_unit(|| {
        if !placement.is_null() {
            // SAFETY: from `Box::into_raw` in this crate, freed once (contract).
            drop(unsafe { Box::from_raw(placement) });
        }
    });
}
