//! The DRBD option whitelist and `DrbdOptions/*` validation: the core's
//! [`linstor_core::drbd_options`], re-exported here where the renderer uses it (the core holds it
//! so that every entry point validates DRBD options wherever a property is set).

pub use linstor_core::drbd_options::*;
