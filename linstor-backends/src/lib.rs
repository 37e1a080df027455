//! `linstor-backends`: storage providers that run the real tools.
//!
//! * [`runner`]: the one way to run external commands ([`runner::CommandRunner`], with
//!   [`runner::RealRunner`] and the test fake [`runner::ScriptedRunner`]).
//! * [`error`]: the crate's one error type, [`BackendError`].

pub mod diskless;
pub mod error;
mod exec;
pub mod file;
pub mod lvm;
pub mod naming;
pub mod parse;
pub mod pool;
pub mod probe;
pub mod provider;
pub mod runner;
pub mod sim;
pub mod zfs;

pub use error::{BackendError, ExitKind};
pub use runner::{Cmd, CmdOutput, CommandRunner, ExitPolicy, RealRunner, Reply, ScriptedRunner};
