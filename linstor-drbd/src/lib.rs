//! `linstor-drbd`: everything this project knows about DRBD.
//!
//! * [`options`]: the option whitelist generated from `drbdsetup xml-help` (checked in as
//!   `data/drbd-options.json`) and the validation of `DrbdOptions/*` properties, plugged into the
//!   core through [`options::DrbdOptionsValidator`];
//! * [`resolve`]: picking option values from ordered priority levels;
//! * [`resfile`]: rendering one node's view of a resource as a `.res` file from a plain,
//!   fully resolved [`resfile::ResConfig`];
//! * [`files`]: writing `.res` files atomically (`.res_tmp`, `drbdadm sh-nop`, rename, backup,
//!   restore) and removing those of resources the node no longer has;
//! * [`commands`]: the drbdadm / drbdsetup / drbdmeta command sequences, run through
//!   `linstor_backends`' command runner, including day-0 generation ids;
//! * [`events2`] and [`state`]: a pure parser for `drbdsetup events2` lines and a state tracker
//!   with a per-resource status summary;
//! * [`version`]: DRBD versions and host probing;
//! * [`cluster`]: [`ResConfig::from_projection`], the adapter from the core's per-node projection.
//!
//! Architecture invariant: only this crate knows the `.res` syntax and DRBD's command lines;
//! names reach external tools only as argv words, never through a shell.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cluster;
pub mod commands;
pub mod error;
pub mod events2;
pub mod files;
pub mod options;
pub mod resfile;
pub mod resolve;
pub mod state;
pub mod version;

pub use error::{DrbdError, Result};
pub use options::{DrbdOptionsValidator, OptionWhitelist, Section};
pub use resfile::{
    Header, MetaDisk, NodeRole, ResConfig, ResConnection, ResNode, ResPath, ResVolume,
};
pub use resolve::{
    OptionValue, PropLevel, ResolvedOptions, resolve_chain, resolve_options, resolve_paths,
};
pub use version::{DrbdCapability, DrbdVersion, DrbdVersions};
