//! Read-only questions about a resource definition, answered from the state (desired and
//! observed) without changing it: whether its data is in sync on every node
//! ([`Cluster::synced_on_all`], REST `GET …/{rd}/sync-status`) and how a clone is doing
//! ([`Cluster::clone_status`], REST `GET …/{rd}/clone/{clone}`).
//!
//! Fail closed: a resource whose satellite has not reported counts as not in sync (LINSTOR
//! counts an unknown state as in sync; without satellites that would answer `true` for data
//! that was never written anywhere), and a clone is complete only when every diskful
//! resource of it has reported its data UpToDate.

use super::Cluster;
use super::api::CloneStatus;
use super::ctx::{BoxedEntry, fail};
use super::lookup::existing_rd;
use crate::keys;
use crate::model::{LayerKind, Resource, RscDfnFlags, RscFlags};
use crate::name::ResourceName;
use crate::placement::filter::is_online;
use crate::rc::{Obj, Op, RcEntry, code};

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

    /// LINSTOR's clone status of `clone`, a clone of `source`: `FAILED` when it is flagged
    /// failed or a node of its resources is not online (the copy cannot go on; LINSTOR's
    /// rule), `COMPLETE` once every diskful resource of it is reported UpToDate, else
    /// `CLONING`. Either definition unknown, or `clone` not cloned from `source`, is
    /// `FAIL_NOT_FOUND_RSC_DFN`.
    pub fn clone_status(&self, source: &str, clone: &str) -> Result<CloneStatus, Box<RcEntry>> {
        let op = Op::None;
        let src = existing_rd(self, op, Obj::RscDfn, source)?;
        let d = existing_rd(self, op, Obj::RscDfn, clone)?;
        let from = d.props.get(keys::CLONED_FROM);
        if !from.is_some_and(|f| f.eq_ignore_ascii_case(src.name.as_str())) {
            let (sn, n) = (&src.name, &d.name);
            return Err(fail(
                op,
                Obj::RscDfn,
                code::NOT_FOUND_RSC_DFN,
                format!("Resource definition '{n}' is not a clone of '{sn}'"),
            )
            .cause(format!(
                "Its '{}' property is {}.",
                keys::CLONED_FROM,
                from.map_or("not set".to_owned(), |f| format!("'{f}'"))
            ))
            .correction("Ask for the status under the definition it was cloned from."));
        }
        let live: Vec<&Resource> = d.live_resources().collect();
        let offline = live.iter().any(|r| !is_online(&self.state, &r.node));
        if d.flags.contains(RscDfnFlags::FAILED) || offline {
            return Ok(CloneStatus::Failed);
        }
        let done = live
            .iter()
            .filter(|r| !r.is_diskless())
            .all(|r| self.reported_up_to_date(&d.name, r));
        Ok(if done {
            CloneStatus::Complete
        } else {
            CloneStatus::Cloning
        })
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
