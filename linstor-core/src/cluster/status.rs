//! Read-only questions about a resource definition, answered from the state (desired and
//! observed) without changing it: whether its data is in sync on every node
//! ([`Cluster::synced_on_all`], REST `GET …/{rd}/sync-status`).
//!
//! Fail closed: a resource whose satellite has not reported counts as not in sync (LINSTOR
//! counts an unknown state as in sync; without satellites that would answer `true` for data
//! that was never written anywhere).

use super::Cluster;
use super::lookup::existing_rd;
use crate::model::{LayerKind, Resource, RscFlags};
use crate::name::ResourceName;
use crate::rc::{Obj, Op, RcEntry};

impl Cluster {
    /// LINSTOR's sync status of `rd`: `true` once every diskful resource of a DRBD definition
    /// (not being deleted, not evicted) is reported UpToDate; `true` for a definition without
    /// DRBD (nothing replicates). An unknown definition is LINSTOR's `FAIL_NOT_FOUND_RSC_DFN`.
    pub fn synced_on_all(&self, rd: &str) -> Result<bool, Box<RcEntry>> {
        let d = existing_rd(self, Op::None, Obj::RscDfn, rd)?;
        if !d.layer_stack.contains(&LayerKind::DRBD) {
            return Ok(true);
        }
        Ok(d.resources
            .values()
            .filter(|r| counts_for_sync(r))
            .all(|r| self.reported_up_to_date(&d.name, r)))
    }

    /// True if the satellite of `r`'s node reported it UpToDate.
    pub(super) fn reported_up_to_date(&self, rd: &ResourceName, r: &Resource) -> bool {
        self.state
            .observed
            .nodes
            .get(&r.node)
            .and_then(|o| o.resources.get(rd))
            .is_some_and(|s| s.up_to_date)
    }
}

/// A diskful replica that holds (or is to hold) the data: not diskless, not being deleted,
/// not evicted.
fn counts_for_sync(r: &Resource) -> bool {
    !r.is_diskless() && !r.is_deleting() && !r.flags.contains(RscFlags::EVICTED)
}
