//! `linstor-core`: the pure LINSTOR domain model.
//!
//! No IO, no processes, no files, no clock, no global randomness: every decision is a function from
//! state (plus a request, plus explicit inputs for time and entropy) to a new state, an answer in
//! LINSTOR's result format and the set of changed objects. See `ARCHITECTURE.md`.

pub mod advise;
pub mod chains;
pub mod cluster;
pub mod decode;
pub mod drbd_options;
pub mod keys;
pub mod model;
pub mod name;
pub mod placement;
pub mod plan;
pub mod projection;
pub mod props;
pub mod quorum;
pub mod rc;
pub mod size;
pub mod state;
pub mod vec_map;

pub use name::{
    KvsName, NameError, NameKind, NetIfName, NodeName, ResourceGroupName, ResourceName,
    SnapshotName, StorPoolName,
};
pub use rc::{ApiCallRc, RcEntry, Severity};
pub use size::{SizeError, SizeKib};
