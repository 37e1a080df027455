//! What exists on this node: every pool's volumes (and snapshots) and every resource's DRBD
//! side, as the core's [`NodeLocal`], plus each pool's capacity for the report.
//!
//! Only the pools the controller configured for this node are looked at; within them, only
//! volumes with LINSTOR's name shape (the providers' listings) count.

use linstor_backends::provider::observe_pool;
use linstor_core::StorPoolName;
use linstor_core::model::PoolCapacity;
use linstor_core::plan::NodeLocal;

use crate::drbd::DrbdLayer;
use crate::pools::Pools;

/// One pool's capacity, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolState {
    /// Pool.
    pub pool: StorPoolName,
    /// Capacity, or the error.
    pub capacity: Result<PoolCapacity, String>,
}

/// What was found: the local objects, each pool's state, and listing errors (a pool whose
/// listing failed contributes nothing, so nothing in it is planned for deletion).
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Local objects.
    pub local: NodeLocal,
    /// Per pool.
    pub pools: Vec<PoolState>,
}

/// Looks at every pool and the DRBD layer (refresh the latter first).
pub async fn observe(pools: &Pools, drbd: &DrbdLayer) -> Found {
    let mut found = Found::default();
    for (name, pool) in pools.iter() {
        let prov = match &pool.provider {
            Ok(p) => p,
            Err(e) => {
                found.pools.push(PoolState {
                    pool: name.clone(),
                    capacity: Err(e.clone()),
                });
                continue;
            }
        };
        let capacity = prov.capacity().await.map_err(|e| e.to_string());
        found.pools.push(PoolState {
            pool: name.clone(),
            capacity,
        });
        // A pool whose listing fails contributes nothing, so nothing in it is deleted.
        if let Err(e) = observe_pool(prov.as_ref(), name, &mut found.local).await {
            tracing::warn!(pool = %name, "cannot list the pool: {e}");
        }
    }
    for rsc in drbd.names() {
        if let Some(d) = drbd.local(&rsc) {
            found.local.resources.entry(rsc).or_default().drbd = Some(d);
        }
    }
    found
}
