//! `linstor-cli`: the `linstor` command, a native client with LINSTOR's grammar over the
//! controller's REST API v1 (`linstor-api`'s shapes), and nothing else: it never links the
//! controller.
//!
//! * [`args`]: the command line (clap), LINSTOR's object/verb names and abbreviations;
//! * [`conf`]: which controllers (`--controllers`, `LS_CONTROLLERS`, `linstor-client.conf`);
//! * [`client`]: REST over HTTP/1.1, trying the controllers in order;
//! * [`cmd`]: the commands, with their tables built by pure functions of the JSON;
//! * [`table`]: LINSTOR-style tables (UTF-8 or ASCII frames, colours on terminals);
//! * [`reply`]: the controller's answer entries as SUCCESS/WARNING/ERROR blocks;
//! * [`error`]: [`CliError`](error::CliError) and LINSTOR's exit codes.

pub mod args;
pub mod client;
pub mod cmd;
pub mod conf;
pub mod error;
pub mod reply;
pub mod table;
