//! `linstor-satellite`: one node's agent. It accepts its controller over the authenticated
//! link (`linstor-link`), receives the node's projection of the desired state, and makes it
//! real: the core's pure `plan` says what to do, `linstor-backends` and `linstor-drbd` do it,
//! and what the node then has goes back to the controller as a report.
//!
//! * [`config`]: `linstor_satellite.toml` and flags;
//! * [`pools`]: the node's storage pools opened as providers;
//! * [`drbd`]: `.res` files, metadata and the kernel (real, missing, or [`sim_drbd`], whose
//!   peers are reached over the real network by [`sim_net`]);
//! * [`observe`]: what exists, as the core's `NodeLocal`;
//! * [`exec`]: one plan action;
//! * [`physical`]: physical-storage requests (devices, device pools);
//! * [`reconcile`]: observe → plan → execute → report, with retries;
//! * [`session`]: the controller link;
//! * [`startup`]: probing the host and wiring it together.
//!
//! The satellite keeps nothing it cannot rebuild: after a restart it finds what exists and
//! waits for its controller (only the SIMULATED DRBD kernel state is kept, as a kernel would).

pub mod config;
pub mod drbd;
pub mod error;
pub mod exec;
pub mod observe;
pub mod physical;
pub mod pools;
pub mod reconcile;
pub mod session;
pub mod sim_drbd;
pub mod sim_net;
pub mod startup;

pub use error::SatError;
