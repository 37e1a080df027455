//! The node's storage pools, opened as `linstor-backends` providers from the projection.
//!
//! A pool is opened from its kind and `StorDriver/StorPoolName` (the volume group, thin pool,
//! zpool or directory), once, and reopened only when either changes. A pool that cannot be
//! opened (bad configuration, missing tool) is kept as an error: its volumes' actions fail with
//! it and its capacity report carries it.

use std::collections::BTreeMap;
use std::sync::Arc;

use linstor_backends::provider::{StorageProvider, open_provider};
use linstor_backends::runner::CommandRunner;
use linstor_core::StorPoolName;
use linstor_core::keys::STOR_DRIVER_STOR_POOL_NAME;
use linstor_core::model::ProviderKind;
use linstor_core::projection::NodeProjection;

/// One pool: how it is configured and what opening it gave.
#[derive(Debug, Clone)]
pub struct Pool {
    /// Provider kind.
    pub kind: ProviderKind,
    /// `StorDriver/StorPoolName` (empty for DISKLESS).
    pub source: String,
    /// The provider, or why there is none.
    pub provider: Result<Arc<dyn StorageProvider>, String>,
}

/// The pools of the node, by name.
#[derive(Debug)]
pub struct Pools {
    runner: Arc<dyn CommandRunner>,
    open: BTreeMap<StorPoolName, Pool>,
}

impl Pools {
    /// No pools yet; providers will run their tools through `runner`.
    pub fn new(runner: Arc<dyn CommandRunner>) -> Self {
        Pools {
            runner,
            open: BTreeMap::new(),
        }
    }

    /// Opens the pools the projection's node has (keeping those already open unchanged),
    /// and forgets the others.
    pub fn sync(&mut self, p: &NodeProjection) {
        let Some(node) = p.state.nodes.get(&p.node) else {
            self.open.clear();
            return;
        };
        let mut next = BTreeMap::new();
        for sp in node.storage_pools.values() {
            let source = sp
                .props
                .get(STOR_DRIVER_STOR_POOL_NAME)
                .unwrap_or_default()
                .to_owned();
            let keep = self
                .open
                .remove(&sp.name)
                .filter(|o| o.kind == sp.kind && o.source == source);
            let pool = keep.unwrap_or_else(|| Pool {
                kind: sp.kind,
                provider: open_provider(sp.kind, &source, self.runner.clone())
                    .map(Arc::from)
                    .map_err(|e| e.to_string()),
                source,
            });
            next.insert(sp.name.clone(), pool);
        }
        self.open = next;
    }

    /// The pool named `name`.
    pub fn get(&self, name: &StorPoolName) -> Option<&Pool> {
        self.open.get(name)
    }

    /// The runner the providers use.
    pub fn runner(&self) -> &Arc<dyn CommandRunner> {
        &self.runner
    }

    /// Directories of FILE and FILE_THIN pools.
    pub fn file_dirs(&self) -> Vec<std::path::PathBuf> {
        self.open
            .values()
            .filter(|p| matches!(p.kind, ProviderKind::FILE | ProviderKind::FILE_THIN))
            .map(|p| p.source.clone().into())
            .collect()
    }

    /// Every pool.
    pub fn iter(&self) -> impl Iterator<Item = (&StorPoolName, &Pool)> {
        self.open.iter()
    }
}
