//! The answers of a resource definition's data questions: `GET …/{rd}/sync-status`
//! (`ResourceDefinitionSyncStatus`).

use serde::Serialize;

/// `GET /v1/resource-definitions/{rd}/sync-status` (`ResourceDefinitionSyncStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    /// Every diskful resource is UpToDate (always present: clients index it).
    pub synced_on_all: bool,
}
