//! Test helpers: a cluster builder and name shorthands.

use crate::name::{NodeName, ResourceName, StorPoolName};
pub(crate) use crate::placement::sim::{ClusterBuilder as Builder, GIB};

/// A node name.
pub(crate) fn nn(s: &str) -> NodeName {
    NodeName::new(s).unwrap()
}

/// A pool name.
pub(crate) fn sp_name(s: &str) -> StorPoolName {
    StorPoolName::new(s).unwrap()
}

/// A resource name.
pub(crate) fn rn(s: &str) -> ResourceName {
    ResourceName::new(s).unwrap()
}
