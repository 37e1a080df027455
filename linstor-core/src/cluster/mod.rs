//! `Cluster`: the state of one LINSTOR cluster and the commands that change it.
//!
//! A command is plain data ([`Command`]). [`Cluster::execute`] validates it completely, then
//! applies it, and answers with an [`Outcome`]: LINSTOR-style result entries plus the
//! [`ChangeSet`] of objects created, modified and deleted (what the controller's database writes
//! and what satellites are told). A refused command changes nothing at all.
//!
//! Deletion of deployed objects is two-phase, as in LINSTOR: `RscDelete` records the intent
//! (flag `DELETE`); the resource disappears (and its numbers are freed) when its satellite
//! confirms with `RscDeleteConfirmed`. A resource definition marked `DELETE` disappears with its
//! last resource.
//!
//! Deletes are idempotent, as in LINSTOR: deleting something that does not exist succeeds with
//! the warning `WARN_NOT_FOUND` ("had no effect") and changes nothing.
//!
//! What is refused because something depends on it, and what cascades:
//!
//! | command                     | refused while …                                              | cascades to …                                   |
//! |-----------------------------|--------------------------------------------------------------|-------------------------------------------------|
//! | node delete                 | it holds resources or snapshots                              | its storage pools, net interfaces, node connections, observed state |
//! | node lost                   | —                                                            | its resources (numbers freed, their connections), snapshots, pools, node connections |
//! | net interface delete        | it is the node's last one                                    | —                                               |
//! | storage pool delete         | a volume or snapshot uses it; it is `DfltDisklessStorPool`   | —                                               |
//! | storage pool definition del | a node still has a pool of that name                         | —                                               |
//! | resource group delete       | a resource definition uses it; it is `DfltRscGrp`            | its volume groups                               |
//! | resource definition delete  | it has snapshots                                             | its resources (marked DELETE), then itself      |
//! | volume definition delete    | a resource of the definition has a disk, or is in use        | the volumes of its (diskless) resources         |
//! | resource delete             | its provider keeps snapshots dependent (ZFS) and some exist  | its volumes; on confirmation its connections    |
//! | toggle-disk (remove a disk) | no other active resource has a disk; ZFS snapshots depend on it | its volumes move to the diskless pool        |
//! | migrate-disk (`migrate_from`) | the target has a disk; the source is the target, being deleted, has snapshots, or is in use | the source replica, by the balance step once the new disk is in sync |
//! | resource definition clone   | an active diskful source replica is not reported UpToDate, has SkipDisk, or is on FILE | — (all or nothing)                        |
//! | snapshot delete             | —                                                            | its per-node snapshots                          |
//! | snapshot rollback           | not `SUCCESSFUL`; a disk's node or a volume is not in it; a rollback is pending; in use | — (each resource records `RollbackTarget`) |
//! | key-value store delete      | —                                                            | its properties                                  |
//!
//! Connections (node and resource) exist while they have properties: the first one creates
//! them, removing the last one deletes them. Multi-snapshots, restores, clones and spawn are
//! all or nothing.

mod api;
mod autoplace;
pub mod balance;
mod ctx;
mod env;
mod indexes;
mod invariants;
mod lookup;
mod numbers;
mod ops_clone;
mod ops_conn;
mod ops_evacuate;
mod ops_group;
mod ops_node;
mod ops_pool;
mod ops_replica;
mod ops_rsc;
mod ops_snap;
mod prop_edit;
mod quorum;
mod status;
#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use api::{
    ChangeSet, CloneStatus, Command, CoreError, NetIfSpec, NodePlacement, ObjKey, Outcome,
    SnapshotSpec, ToggleDiskOp,
};
pub use env::{Env, SeededEnv, base64};
pub use numbers::{BitPool, DEFAULT_MINOR_RANGE, DEFAULT_PORT_RANGE, MAX_MINOR, MAX_NODE_ID};

pub use crate::chains::Chains;
use crate::props::DrbdOptionValidator;
use crate::rc::ApiCallRc;
use crate::state::ClusterState;
use ctx::{Ctx, Res};
use indexes::Indexes;

/// One cluster: its state, the derived indexes and the optional DRBD option validator.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub(crate) state: ClusterState,
    pub(crate) idx: Indexes,
    drbd_validator: Option<Arc<dyn DrbdOptionValidator>>,
}

impl PartialEq for Cluster {
    fn eq(&self, other: &Self) -> bool {
        self.state == other.state
    }
}

impl Cluster {
    /// A new cluster with `DfltRscGrp` and the `DfltDisklessStorPool` definition.
    pub fn new(env: &mut dyn Env) -> Cluster {
        let mut c = Cluster {
            state: ClusterState::default(),
            idx: Indexes::build(&ClusterState::default()).expect("empty state is consistent"),
            drbd_validator: Some(default_drbd_validator()),
        };
        let mut ctx = Ctx {
            env,
            rc: ApiCallRc::default(),
            changes: ChangeSet::default(),
        };
        ops_group::ensure_defaults(&mut c, &mut ctx);
        c
    }

    /// Rebuilds a cluster from a state (checks its consistency: every invariant of
    /// [`Cluster::check_invariants`]; the indexes are the ones just built from it).
    pub fn from_state(state: ClusterState) -> Result<Cluster, CoreError> {
        let idx = Indexes::build(&state).map_err(CoreError::StateInconsistent)?;
        invariants::check_state(&state).map_err(CoreError::StateInconsistent)?;
        Ok(Cluster {
            state,
            idx,
            drbd_validator: Some(default_drbd_validator()),
        })
    }

    /// Reads a cluster from JSON.
    pub fn from_json(json: &str) -> Result<Cluster, CoreError> {
        Cluster::from_state(serde_json::from_str(json)?)
    }

    /// The state as JSON (deterministic: every map is ordered).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.state).expect("the state always serializes")
    }

    /// Installs the validator for `DrbdOptions/<section>/<option>` properties.
    pub fn set_drbd_option_validator(&mut self, v: Arc<dyn DrbdOptionValidator>) {
        self.drbd_validator = Some(v);
    }

    /// The whole state.
    pub fn state(&self) -> &ClusterState {
        &self.state
    }

    /// Property chains per consumer.
    pub fn chains(&self) -> Chains<'_> {
        Chains::new(&self.state)
    }

    /// Executes one command. Refused commands change nothing.
    pub fn execute(&mut self, cmd: Command, env: &mut dyn Env) -> Outcome {
        let mut ctx = Ctx {
            env,
            rc: ApiCallRc::default(),
            changes: ChangeSet::default(),
        };
        // A definition named by its external name only gets its name first: the command then
        // names what it touches, as every other one does.
        let cmd = ops_rsc::named_from_external(self, cmd);
        // Keep the pool usage current: take out the definitions this command may change, and
        // put them back (as they are afterwards) when it is done.
        let pending = self.rds_touched_by(&cmd);
        for n in &pending {
            if let Some(rd) = self.state.resource_definitions.get(n) {
                self.idx.placer.apply_rd(rd, false);
            }
        }
        self.idx.usage_pending = pending;
        // Marked before (a decision inside the command sees the change) and after (the change
        // itself may come after such a decision).
        let marks = self.placement_marks(&cmd);
        self.mark_placement(&marks);
        let res = self.dispatch(cmd, &mut ctx);
        self.mark_placement(&marks);
        for n in std::mem::take(&mut self.idx.usage_pending) {
            if let Some(rd) = self.state.resource_definitions.get(&n) {
                self.idx.placer.apply_rd(rd, true);
            }
        }
        match res {
            Ok(()) => Outcome {
                rc: ctx.rc,
                changes: ctx.changes,
            },
            Err(e) => Outcome {
                rc: ApiCallRc(vec![*e]),
                changes: ChangeSet::default(),
            },
        }
    }

    /// Routes a command to the module of its object family. Commands that deploy or delete
    /// replicas are followed by the quorum helpers (auto-quorum, the tiebreaker); those that
    /// place replicas themselves run them inside.
    fn dispatch(&mut self, cmd: Command, ctx: &mut Ctx<'_>) -> Res {
        use Command as C;
        match cmd {
            C::CtrlPropsModify { .. }
            | C::NodeCreate { .. }
            | C::NodeModify { .. }
            | C::NodeDelete { .. }
            | C::NodeLost { .. }
            | C::NetIfCreate { .. }
            | C::NetIfModify { .. }
            | C::NetIfDelete { .. }
            | C::NodeReport { .. }
            | C::NodeReconnect { .. } => ops_node::run(self, ctx, cmd),
            C::NodeConnModify { .. } | C::RscConnModify { .. } => ops_conn::run(self, ctx, cmd),
            C::NodeEvacuate { .. } | C::NodeEvict { .. } | C::NodeRestore { .. } => {
                ops_evacuate::run(self, ctx, cmd)
            }
            C::StorPoolDfnCreate { .. }
            | C::StorPoolDfnModify { .. }
            | C::StorPoolDfnDelete { .. }
            | C::StorPoolCreate { .. }
            | C::StorPoolModify { .. }
            | C::StorPoolDelete { .. }
            | C::StorPoolReport { .. } => ops_pool::run(self, ctx, cmd),
            C::RscGrpCreate { .. }
            | C::RscGrpModify { .. }
            | C::RscGrpDelete { .. }
            | C::RscGrpAdjust { .. }
            | C::RscGrpSpawn { .. }
            | C::VlmGrpCreate { .. }
            | C::VlmGrpModify { .. }
            | C::VlmGrpDelete { .. } => ops_group::run(self, ctx, cmd),
            C::RscDfnCreate { .. }
            | C::RscDfnModify { .. }
            | C::RscDfnDelete { .. }
            | C::VlmDfnCreate { .. }
            | C::VlmDfnResize { .. }
            | C::VlmDfnModify { .. }
            | C::VlmDfnDelete { .. }
            | C::RscReport { .. } => ops_rsc::run(self, ctx, cmd),
            C::RscCreate { .. } | C::RscDelete { .. } | C::RscDeleteConfirmed { .. } => {
                if let Some(rd) = ops_rsc::run_replica(self, ctx, cmd)? {
                    quorum::manage(self, ctx, &rd);
                }
                Ok(())
            }
            C::RscModify { .. }
            | C::VlmModify { .. }
            | C::RscMakeAvailable { .. }
            | C::RscToggleDisk { .. }
            | C::RscActivate { .. }
            | C::RscDeactivate { .. } => {
                if let Some(rd) = ops_replica::run(self, ctx, cmd)? {
                    quorum::manage(self, ctx, &rd);
                }
                Ok(())
            }
            C::RscDfnClone { .. } => {
                let rd = ops_clone::run(self, ctx, cmd)?;
                quorum::manage(self, ctx, &rd);
                Ok(())
            }
            C::RscAutoplace {
                rsc_dfn,
                select_filter,
            } => autoplace::autoplace_cmd(self, ctx, &rsc_dfn, &select_filter),
            C::RscBalance { rsc_dfn } => balance::balance_cmd(self, ctx, rsc_dfn.as_deref()),
            C::SnapshotCreate { .. }
            | C::SnapshotDelete { .. }
            | C::SnapshotRestore { .. }
            | C::SnapshotCreateMulti { .. }
            | C::SnapshotRestoreVlmDfn { .. }
            | C::SnapshotRollback { .. }
            | C::SnapshotReport { .. }
            | C::KvsModify { .. }
            | C::KvsDelete { .. } => ops_snap::run(self, ctx, cmd),
        }
    }
}

/// The validator every new cluster starts with: the built-in DRBD option whitelist.
fn default_drbd_validator() -> Arc<dyn DrbdOptionValidator> {
    Arc::new(crate::drbd_options::DrbdOptionsValidator::builtin())
}
