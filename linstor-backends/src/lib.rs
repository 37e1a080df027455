//! `linstor-backends`: storage providers that run the real tools.
//!
//! * [`runner`]: the one way to run external commands. [`CommandRunner`] with the real
//!   [`RealRunner`] (absolute paths from configurable directories, argv only, timeout and
//!   kill-on-drop, a `tracing` span per command) and the test fake [`ScriptedRunner`] (ordered
//!   expected argvs with canned or fixture outputs; fails on unexpected calls and unused
//!   expectations).
//! * [`provider`]: the [`provider::StorageProvider`] trait with idempotent results
//!   ([`provider::CreateOutcome`], [`provider::DeleteOutcome`], [`provider::ResizeOutcome`]) and
//!   listings with parsed identities ([`provider::VolumeInfo::id`],
//!   [`provider::SnapshotListing`]); [`provider::observe_pool`] folds them into the core's
//!   `NodeLocal`.
//! * Providers with LINSTOR's commands and naming: [`lvm::LvmProvider`] (LVM, LVM_THIN),
//!   [`zfs::ZfsProvider`] (ZFS, ZFS_THIN), [`file::FileProvider`] (FILE, FILE_THIN),
//!   [`diskless::DisklessProvider`], and the in-memory [`sim::SimProvider`] with injectable
//!   faults.
//! * [`naming`]: [`naming::VolumeId`] (`<rsc><suffix>_<vlm:05>`), [`naming::BackingName`]
//!   (backing names read back into volume and snapshot identities, from the right) and the
//!   guards every user string passes before it reaches an argv.
//! * [`parse`]: pure parsers of `lvs`, `vgs`, `pvdisplay`, `zfs`, `zpool`, `losetup`, `df`,
//!   `blockdev` output.
//! * [`probe`]: which providers work on this host and why the others do not (LINSTOR's
//!   `unsupported_providers`).
//! * [`pool`]: pool set-up for the physical-storage API.
//! * [`wipe`]: LINSTOR's quick wipe of new devices (`wipefs`, then zeroing the DRBD metadata
//!   superblock areas at both ends with `dd`).
//! * [`hostlock`]: a host-wide `flock(2)` around racy allocations (`losetup -f`).
//! * [`error`]: the crate's one error type, [`BackendError`].
//!
//! Capability flags and pool capacities use `linstor_core::model::{ProviderKind, ProviderCaps,
//! PoolCapacity}`; names and sizes use `linstor_core::{ResourceName, SnapshotName, SizeKib}`.

#![warn(missing_docs)]

pub mod devices;
pub mod diskless;
pub mod error;
mod exec;
pub mod file;
pub mod hostlock;
pub mod lvm;
pub mod naming;
pub mod parse;
pub mod pool;
pub mod probe;
pub mod provider;
pub mod runner;
pub mod sim;
pub mod wipe;
pub mod zfs;

pub use error::{BackendError, ExitKind};
pub use runner::{Cmd, CmdOutput, CommandRunner, ExitPolicy, RealRunner, Reply, ScriptedRunner};
