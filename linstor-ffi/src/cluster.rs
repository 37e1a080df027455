//! [`linstor_cluster`]: a cluster model and the commands that build and change it.

use std::collections::BTreeMap;
use std::ffi::c_char;
use std::sync::{Mutex, MutexGuard};

use linstor_core::SizeKib;
use linstor_core::cluster::{Cluster, Command, CoreError, NetIfSpec, Outcome, SeededEnv};
use linstor_core::model::{
    Capabilities, ConnectionStatus, LayerKind, ProviderKind, RscFlags, SelectFilter,
};
use linstor_core::name::{NodeName, ResourceName};
use linstor_core::placement::PlacementRequest;
use linstor_core::props::PropsModify;
use linstor_core::state::ClusterState;

use crate::error::{Failure, linstor_error, linstor_result};
use crate::filter::linstor_select_filter;
use crate::names::{node_type, provider_kind};
use crate::panic::{ffi_call, ffi_unit};
use crate::placement::linstor_placement;
use crate::strings::{arg_opt_str, arg_ref, arg_str, check_out, linstor_string, write_out};

/// A LINSTOR cluster model: nodes with their properties (`Aux/...` labels), storage pools with
/// their reported capacity, resource groups with select filters, volume groups, resources.
///
/// It owns a `linstor_core` `Cluster` and a deterministic environment (`SeededEnv`) seeded at
/// creation: UUIDs, DRBD secrets and timestamps derive from the seed, so the same calls with the
/// same seed give the same state.
///
/// Ownership: created by `linstor_cluster_new` or `linstor_cluster_from_json`, freed with
/// `linstor_cluster_free`. Thread safety: all functions take a `const linstor_cluster *` and
/// may be called from several threads at once; they are serialised by an internal lock. Only
/// `linstor_cluster_free` needs exclusive access. If a call panics (a bug), the cluster is
/// poisoned and every later call on it answers `LINSTOR_PANIC`.
pub struct linstor_cluster {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    cluster: Cluster,
    env: SeededEnv,
}

impl std::fmt::Debug for linstor_cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("linstor_cluster").finish_non_exhaustive()
    }
}

impl linstor_cluster {
    fn new(cluster: Cluster, env: SeededEnv) -> linstor_cluster {
        linstor_cluster {
            inner: Mutex::new(Inner { cluster, env }),
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, Failure> {
        self.inner.lock().map_err(|_| {
            Failure::new(
                linstor_result::LINSTOR_PANIC,
                "The cluster is poisoned: an earlier call on it panicked",
            )
            .correction("Free this cluster; reload it from its last JSON if needed.")
        })
    }

    /// Runs `f` on the current state (under the lock).
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&ClusterState) -> R) -> Result<R, Failure> {
        Ok(f(self.lock()?.cluster.state()))
    }

    /// Executes one command; a refusal becomes a [`Failure`] from its first error entry.
    fn run(&self, cmd: Command) -> Result<Outcome, Failure> {
        let mut g = self.lock()?;
        let Inner { cluster, env } = &mut *g;
        let out = cluster.execute(cmd, env);
        match out.rc.first_error() {
            Some(e) => Err(Failure::from_entry(e)),
            None => Ok(out),
        }
    }
}

/// The capabilities a node reports when it is set online: every provider and layer, DRBD 9.2.
fn full_capabilities() -> Capabilities {
    Capabilities {
        storage_providers: ProviderKind::ALL.to_vec(),
        resource_layers: vec![
            LayerKind::DRBD,
            LayerKind::STORAGE,
            LayerKind::LUKS,
            LayerKind::NVME,
            LayerKind::WRITECACHE,
            LayerKind::CACHE,
            LayerKind::BCACHE,
        ],
        unsupported_providers: BTreeMap::new(),
        unsupported_layers: BTreeMap::new(),
        drbd_version: Some((9, 2, 12)),
    }
}

/// Runs a body on a borrowed cluster.
///
/// # Safety
/// `cluster` is NULL or live; `err_out` is NULL or writable.
unsafe fn with_cluster(
    cluster: *const linstor_cluster,
    err_out: *mut *mut linstor_error,
    body: impl FnOnce(&linstor_cluster) -> Result<(), Failure>,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        ffi_call(err_out, || {
            let c = arg_ref(cluster, "cluster")?;
            body(c)
        })
    }
}

/// Boxes `v` and writes it to `out`, if `out` is not NULL (else drops it).
///
/// # Safety
/// `out` is NULL or writable.
unsafe fn give<T>(out: *mut *mut T, v: T) {
    if !out.is_null() {
        // SAFETY: non-NULL and writable (contract).
        unsafe { write_out(out, Box::into_raw(Box::new(v))) };
    }
}

/// Creates an empty cluster (with `DfltRscGrp` and `DfltDisklessStorPool`) whose environment
/// is seeded with `seed`. Writes `*cluster_out` only on success.
///
/// # Safety
/// `cluster_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_new(
    seed: u64,
    cluster_out: *mut *mut linstor_cluster,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        ffi_call(std::ptr::null_mut(), || {
            check_out(cluster_out, "cluster_out")?;
            let mut env = SeededEnv::new(seed);
            let cluster = Cluster::new(&mut env);
            give(cluster_out, linstor_cluster::new(cluster, env));
            Ok(())
        })
    }
}

/// Frees a cluster. `linstor_cluster_free(NULL)` does nothing.
///
/// # Safety
/// `cluster` is NULL or a live cluster that no other thread uses and that is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_free(cluster: *mut linstor_cluster) {
    ffi_unit(|| {
        if !cluster.is_null() {
            // SAFETY: from `Box::into_raw` in this crate, freed once (contract).
            drop(unsafe { Box::from_raw(cluster) });
        }
    });
}

/// Loads a cluster from the JSON written by `linstor_cluster_to_json`, with a new environment
/// seeded with `seed`. `LINSTOR_INVALID_JSON` if the text is not JSON or not a cluster state;
/// `LINSTOR_INVALID_STATE` if it reads but is inconsistent (the message says what).
///
/// # Safety
/// `json` is NULL or NUL-terminated; `cluster_out` and `err_out` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_from_json(
    json: *const c_char,
    seed: u64,
    cluster_out: *mut *mut linstor_cluster,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        ffi_call(err_out, || {
            let json = arg_str(json, "json")?;
            check_out(cluster_out, "cluster_out")?;
            let cluster = Cluster::from_json(json).map_err(|e| match e {
                CoreError::StateFormat(j) => Failure::json("a cluster state", &j),
                CoreError::StateInconsistent(why) => Failure::new(
                    linstor_result::LINSTOR_INVALID_STATE,
                    format!("The cluster state is inconsistent: {why}"),
                )
                .cause(why)
                .correction("Load a state written by linstor_cluster_to_json."),
            })?;
            give(
                cluster_out,
                linstor_cluster::new(cluster, SeededEnv::new(seed)),
            );
            Ok(())
        })
    }
}

/// Writes the whole cluster state as JSON (deterministic: maps are ordered) to a new
/// `linstor_string`.
///
/// # Safety
/// `cluster` is NULL or live; `json_out` and `err_out` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_to_json(
    cluster: *const linstor_cluster,
    json_out: *mut *mut linstor_string,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_cluster(cluster, err_out, |c| {
            check_out(json_out, "json_out")?;
            let json = c.lock()?.cluster.to_json();
            write_out(json_out, Box::into_raw(linstor_string::boxed(json)));
            Ok(())
        })
    }
}

/// Executes one command given as JSON: the `linstor_core` `Command` format, an object with
/// `"cmd"` naming the command in snake_case, e.g.
/// `{"cmd": "ctrl_props_modify", "props": {"override_props": {"Autoplacer/Strategy": "linstor"}}}`.
///
/// On success, if `outcome_out` is not NULL, writes the answer as JSON:
/// `{"entries": [<LINSTOR REST ApiCallRc entries: ret_code, message, …>], "changes": {...}}`.
/// A refused command changes nothing and fails with its first error entry.
///
/// # Safety
/// `cluster` is NULL or live; `command_json` is NULL or NUL-terminated; `outcome_out` and
/// `err_out` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_execute_json(
    cluster: *const linstor_cluster,
    command_json: *const c_char,
    outcome_out: *mut *mut linstor_string,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_cluster(cluster, err_out, |c| {
            let json = arg_str(command_json, "command_json")?;
            let cmd: Command =
                linstor_core::decode::decode_command(json).map_err(|e| Failure::decode(&e))?;
            let out = c.run(cmd)?;
            if !outcome_out.is_null() {
                let v = serde_json::json!({
                    "entries": out.rc.0.iter().map(|e| e.to_rest_json()).collect::<Vec<_>>(),
                    "changes": out.changes,
                });
                write_out(
                    outcome_out,
                    Box::into_raw(linstor_string::boxed(v.to_string())),
                );
            }
            Ok(())
        })
    }
}

/// Registers a node with one net interface `default` at `address` (IPv4 or IPv6). `address`
/// may be NULL: a unique address in 10.0.0.0/8 is made up (enough for planning).
/// `node_type` is a `linstor_node_type`. The node starts OFFLINE: call
/// `linstor_cluster_node_set_online` before placing resources on it.
///
/// # Safety
/// `cluster` is NULL or live; `name` is NULL or NUL-terminated; `address` is NULL or
/// NUL-terminated; `err_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_node_create(
    cluster: *const linstor_cluster,
    name: *const c_char,
    node_type_value: u32,
    address: *const c_char,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_cluster(cluster, err_out, |c| {
            let name = arg_str(name, "name")?;
            let address = arg_opt_str(address, "address")?;
            let nt = node_type(node_type_value)?;
            let address = match address {
                Some(a) => a.to_owned(),
                None => {
                    let n = c.lock()?.cluster.state().nodes.len() + 1;
                    format!("10.{}.{}.{}", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff)
                }
            };
            c.run(Command::NodeCreate {
                name: name.to_owned(),
                node_type: nt,
                net_interfaces: vec![NetIfSpec {
                    name: "default".into(),
                    address,
                    satellite_port: Some(3366),
                    encryption: Default::default(),
                }],
                props: BTreeMap::new(),
            })?;
            Ok(())
        })
    }
}

/// Reports a node ONLINE (with every storage provider and layer as capabilities) or OFFLINE,
/// as its satellite would. Only online nodes are autoplacement candidates.
///
/// # Safety
/// `cluster` is NULL or live; `name` is NULL or NUL-terminated; `err_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_node_set_online(
    cluster: *const linstor_cluster,
    name: *const c_char,
    online: bool,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_cluster(cluster, err_out, |c| {
            let name = arg_str(name, "name")?;
            // Capabilities come with a (re)connect only: repeating them would be a new
            // handshake, which drops the node's resource reports.
            let already_online = match linstor_core::name::NodeName::new(name) {
                Ok(n) => c.with_state(|s| {
                    s.observed
                        .nodes
                        .get(&n)
                        .is_some_and(|o| o.connection == ConnectionStatus::ONLINE)
                })?,
                Err(_) => false,
            };
            c.run(Command::NodeReport {
                node: name.to_owned(),
                connection: if online {
                    ConnectionStatus::ONLINE
                } else {
                    ConnectionStatus::OFFLINE
                },
                capabilities: (online && !already_online).then(full_capabilities),
            })?;
            Ok(())
        })
    }
}

/// Sets the label `Aux/<key>` = `value` on a node (the property select filters spread over, such
/// as `Aux/zone`). A `key` that already starts with `Aux/` is used as is. A NULL `value`
/// removes the label.
///
/// # Safety
/// `cluster` is NULL or live; `name`, `key` and `value` are NULL or NUL-terminated; `err_out`
/// is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_node_set_label(
    cluster: *const linstor_cluster,
    name: *const c_char,
    key: *const c_char,
    value: *const c_char,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_cluster(cluster, err_out, |c| {
            let name = arg_str(name, "name")?;
            let key = arg_str(key, "key")?;
            let value = arg_opt_str(value, "value")?;
            if key.is_empty() || key == "Aux/" {
                return Err(Failure::invalid("The label key is empty")
                    .correction("Give a key such as 'zone' (stored as Aux/zone)."));
            }
            let key = if key.starts_with("Aux/") {
                key.to_owned()
            } else {
                format!("Aux/{key}")
            };
            let props = match value {
                Some(v) => PropsModify::set([(key, v.to_owned())]),
                None => PropsModify {
                    delete_props: vec![key],
                    ..Default::default()
                },
            };
            c.run(Command::NodeModify {
                name: name.to_owned(),
                node_type: None,
                props,
            })?;
            Ok(())
        })
    }
}

/// Deletes a node that holds no resources (`LINSTOR_REFUSED` otherwise, with the reason).
///
/// # Safety
/// `cluster` is NULL or live; `name` is NULL or NUL-terminated; `err_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_node_delete(
    cluster: *const linstor_cluster,
    name: *const c_char,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_cluster(cluster, err_out, |c| {
            let name = arg_str(name, "name")?;
            c.run(Command::NodeDelete {
                name: name.to_owned(),
            })?;
            Ok(())
        })
    }
}

/// Declares a node lost (`linstor node lost`): it is removed with everything on it, without
/// asking its satellite. Use it to model a failed node or zone.
///
/// # Safety
/// `cluster` is NULL or live; `name` is NULL or NUL-terminated; `err_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_node_lost(
    cluster: *const linstor_cluster,
    name: *const c_char,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_cluster(cluster, err_out, |c| {
            let name = arg_str(name, "name")?;
            c.run(Command::NodeLost {
                name: name.to_owned(),
            })?;
            Ok(())
        })
    }
}

fn default_backing(kind: ProviderKind, pool: &str) -> String {
    match kind {
        ProviderKind::LVM => "linstor_vg".into(),
        ProviderKind::LVM_THIN => "linstor_vg/thinpool".into(),
        ProviderKind::ZFS | ProviderKind::ZFS_THIN => "linstor_zpool".into(),
        ProviderKind::FILE | ProviderKind::FILE_THIN => format!("/var/lib/linstor-pools/{pool}"),
        ProviderKind::DISKLESS => String::new(),
    }
}

/// Creates storage pool `pool` of `provider` (a `linstor_provider_kind`) on `node`, backed by
/// `backing` (volume group, `vg/thinpool`, zpool or directory; NULL picks a placeholder name,
/// enough for planning). If `total_kib` is not 0, the pool also reports `total_kib` free of
/// `total_kib` (as a fresh pool's satellite would); otherwise its capacity stays unknown until
/// `linstor_cluster_storage_pool_set_capacity`.
///
/// # Safety
/// `cluster` is NULL or live; `node`, `pool` and `backing` are NULL or NUL-terminated;
/// `err_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_storage_pool_create(
    cluster: *const linstor_cluster,
    node: *const c_char,
    pool: *const c_char,
    provider: u32,
    backing: *const c_char,
    total_kib: u64,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_cluster(cluster, err_out, |c| {
            let node = arg_str(node, "node")?;
            let pool = arg_str(pool, "pool")?;
            let backing = arg_opt_str(backing, "backing")?;
            let kind = provider_kind(provider)?;
            let mut props = BTreeMap::new();
            if kind.is_diskful() {
                let b = backing.map_or_else(|| default_backing(kind, pool), str::to_owned);
                props.insert("StorDriver/StorPoolName".to_owned(), b);
            }
            c.run(Command::StorPoolCreate {
                node: node.to_owned(),
                name: pool.to_owned(),
                kind,
                props,
                shared_space: None,
            })?;
            if total_kib > 0 {
                c.run(Command::StorPoolReport {
                    node: node.to_owned(),
                    pool: pool.to_owned(),
                    free: SizeKib(total_kib),
                    total: SizeKib(total_kib),
                })?;
            }
            Ok(())
        })
    }
}

/// Reports a storage pool's capacity (`free_kib` of `total_kib`), as its satellite would.
/// `LINSTOR_INVALID_ARGUMENT` if free exceeds total.
///
/// # Safety
/// `cluster` is NULL or live; `node` and `pool` are NULL or NUL-terminated; `err_out` is NULL
/// or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_storage_pool_set_capacity(
    cluster: *const linstor_cluster,
    node: *const c_char,
    pool: *const c_char,
    free_kib: u64,
    total_kib: u64,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_cluster(cluster, err_out, |c| {
            let node = arg_str(node, "node")?;
            let pool = arg_str(pool, "pool")?;
            c.run(Command::StorPoolReport {
                node: node.to_owned(),
                pool: pool.to_owned(),
                free: SizeKib(free_kib),
                total: SizeKib(total_kib),
            })?;
            Ok(())
        })
    }
}

/// Borrows an optional filter argument and copies it.
///
/// # Safety
/// `filter` is NULL or live and not mutated meanwhile.
unsafe fn opt_filter(filter: *const linstor_select_filter) -> Option<SelectFilter> {
    // SAFETY: NULL or live (contract).
    unsafe { filter.as_ref() }.map(|f| f.f.clone())
}

/// Creates a resource group with a select filter (copied; NULL means an empty filter).
///
/// # Safety
/// `cluster` is NULL or live; `name` is NULL or NUL-terminated; `filter` is NULL or live;
/// `err_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_resource_group_create(
    cluster: *const linstor_cluster,
    name: *const c_char,
    filter: *const linstor_select_filter,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_cluster(cluster, err_out, |c| {
            let name = arg_str(name, "name")?;
            let filter = opt_filter(filter).unwrap_or_default();
            c.run(Command::RscGrpCreate {
                name: name.to_owned(),
                description: String::new(),
                props: BTreeMap::new(),
                select_filter: filter,
                peer_slots: None,
            })?;
            Ok(())
        })
    }
}

/// Replaces a resource group's select filter (copied from `filter`, which is required).
///
/// # Safety
/// `cluster` is NULL or live; `name` is NULL or NUL-terminated; `filter` is NULL or live;
/// `err_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_resource_group_set_filter(
    cluster: *const linstor_cluster,
    name: *const c_char,
    filter: *const linstor_select_filter,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_cluster(cluster, err_out, |c| {
            let name = arg_str(name, "name")?;
            let filter = arg_ref(filter, "filter")?.f.clone();
            c.run(Command::RscGrpModify {
                name: name.to_owned(),
                description: None,
                props: PropsModify::default(),
                select_filter: Some(filter),
                peer_slots: None,
            })?;
            Ok(())
        })
    }
}

/// Deletes a resource group that no resource definition uses (`LINSTOR_ALREADY_EXISTS` while
/// one does: LINSTOR's FAIL_EXISTS_RSC_DFN).
///
/// # Safety
/// `cluster` is NULL or live; `name` is NULL or NUL-terminated; `err_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_resource_group_delete(
    cluster: *const linstor_cluster,
    name: *const c_char,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_cluster(cluster, err_out, |c| {
            let name = arg_str(name, "name")?;
            c.run(Command::RscGrpDelete {
                name: name.to_owned(),
            })?;
            Ok(())
        })
    }
}

/// Adds a volume group (the lowest free number) to a resource group; writes its number to
/// `*number_out` if `number_out` is not NULL. Spawning gives one volume per volume group.
///
/// # Safety
/// `cluster` is NULL or live; `resource_group` is NULL or NUL-terminated; `number_out` and
/// `err_out` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_volume_group_create(
    cluster: *const linstor_cluster,
    resource_group: *const c_char,
    number_out: *mut u16,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_cluster(cluster, err_out, |c| {
            let rg = arg_str(resource_group, "resource_group")?;
            let before = volume_group_numbers(c, rg)?;
            c.run(Command::VlmGrpCreate {
                rsc_grp: rg.to_owned(),
                number: None,
                props: BTreeMap::new(),
                flags: Default::default(),
            })?;
            let after = volume_group_numbers(c, rg)?;
            if let Some(n) = after.into_iter().find(|n| !before.contains(n)) {
                write_out(number_out, n);
            }
            Ok(())
        })
    }
}

fn volume_group_numbers(c: &linstor_cluster, rg: &str) -> Result<Vec<u16>, Failure> {
    let g = c.lock()?;
    Ok(g.cluster
        .state()
        .resource_groups
        .iter()
        .find(|(k, _)| k.as_str().eq_ignore_ascii_case(rg))
        .map(|(_, v)| v.volume_groups.keys().copied().collect())
        .unwrap_or_default())
}

/// Reads the current placement of resource `name`.
fn placement_of(c: &linstor_cluster, name: &str) -> Result<linstor_placement, Failure> {
    let rn = ResourceName::new(name).map_err(|e| Failure::from_name(&e))?;
    let g = c.lock()?;
    let rd = g
        .cluster
        .state()
        .resource_definitions
        .get(&rn)
        .ok_or_else(|| {
            Failure::new(
                linstor_result::LINSTOR_NOT_FOUND,
                format!("Resource definition '{name}' not found"),
            )
            .correction("Spawn it first, or check the name.")
        })?;
    Ok(linstor_placement::of(rd))
}

/// Spawns resource `resource` from resource group `resource_group`: one volume per volume group
/// with the sizes `sizes_kib[0..n_sizes]` (KiB), placed by the autoplacer according to the
/// group's select filter with `filter` (NULL for none) taking precedence field by field.
///
/// On success, if `placement_out` is not NULL, writes where the replicas went. If no valid
/// placement exists the spawn is refused, nothing is created, and the error
/// (`LINSTOR_PLACEMENT_REFUSED`) explains why (cause: which filters eliminated which candidates)
/// and what to change (correction). Without a place count (in `filter` or the group) only the
/// definitions are created.
///
/// # Safety
/// `cluster` is NULL or live; `resource_group` and `resource` are NULL or NUL-terminated;
/// `sizes_kib` is NULL or points to `n_sizes` values; `filter` is NULL or live;
/// `placement_out` and `err_out` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_spawn(
    cluster: *const linstor_cluster,
    resource_group: *const c_char,
    resource: *const c_char,
    sizes_kib: *const u64,
    n_sizes: usize,
    filter: *const linstor_select_filter,
    placement_out: *mut *mut linstor_placement,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_cluster(cluster, err_out, |c| {
            let rg = arg_str(resource_group, "resource_group")?;
            let name = arg_str(resource, "resource")?;
            let sizes: Vec<SizeKib> = if n_sizes == 0 {
                Vec::new()
            } else {
                if sizes_kib.is_null() {
                    return Err(Failure::null("sizes_kib"));
                }
                let s = std::slice::from_raw_parts(sizes_kib, n_sizes);
                s.iter().copied().map(SizeKib).collect()
            };
            let filter = opt_filter(filter);
            c.run(Command::RscGrpSpawn {
                rsc_grp: rg.to_owned(),
                rsc_dfn: name.to_owned(),
                external_name: None,
                volume_sizes: sizes,
                partial: false,
                nodes: Vec::new(),
                select_filter: filter,
                definitions_only: false,
                peer_slots: None,
                rsc_dfn_props: BTreeMap::new(),
            })?;
            if !placement_out.is_null() {
                let p = placement_of(c, name)?;
                give(placement_out, p);
            }
            Ok(())
        })
    }
}

/// Autoplaces more replicas of the existing resource `resource`: `filter` (NULL for none) over
/// the resource group's filter, e.g. a higher place count. Replicas already deployed count
/// (and seed the spreading rules). On success, if `placement_out` is not NULL, writes where all
/// replicas now are. If no valid placement exists nothing changes, and the error
/// (`LINSTOR_PLACEMENT_REFUSED`) explains why and what to change.
///
/// # Safety
/// `cluster` is NULL or live; `resource` is NULL or NUL-terminated; `filter` is NULL or live;
/// `placement_out` and `err_out` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_autoplace(
    cluster: *const linstor_cluster,
    resource: *const c_char,
    filter: *const linstor_select_filter,
    placement_out: *mut *mut linstor_placement,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_cluster(cluster, err_out, |c| {
            let name = arg_str(resource, "resource")?;
            let filter = opt_filter(filter).unwrap_or_default();
            c.run(Command::RscAutoplace {
                rsc_dfn: name.to_owned(),
                select_filter: filter,
            })?;
            if !placement_out.is_null() {
                give(placement_out, placement_of(c, name)?);
            }
            Ok(())
        })
    }
}

/// Reads where the replicas of resource `resource` are (`LINSTOR_NOT_FOUND` if it does not
/// exist).
///
/// # Safety
/// `cluster` is NULL or live; `resource` is NULL or NUL-terminated; `placement_out` and
/// `err_out` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_resource_placement(
    cluster: *const linstor_cluster,
    resource: *const c_char,
    placement_out: *mut *mut linstor_placement,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_cluster(cluster, err_out, |c| {
            let name = arg_str(resource, "resource")?;
            check_out(placement_out, "placement_out")?;
            let p = placement_of(c, name)?;
            give(placement_out, p);
            Ok(())
        })
    }
}

/// Deletes resource `resource` with all its replicas, at once: the two-phase deletion of
/// LINSTOR is completed as if every satellite had confirmed. (For planning "what if".)
///
/// # Safety
/// `cluster` is NULL or live; `resource` is NULL or NUL-terminated; `err_out` is NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_resource_delete(
    cluster: *const linstor_cluster,
    resource: *const c_char,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_cluster(cluster, err_out, |c| {
            let name = arg_str(resource, "resource")?;
            c.run(Command::RscDfnDelete {
                name: name.to_owned(),
            })?;
            let rn = ResourceName::new(name).map_err(|e| Failure::from_name(&e))?;
            let pending: Vec<NodeName> = {
                let g = c.lock()?;
                g.cluster
                    .state()
                    .resource_definitions
                    .get(&rn)
                    .map(|rd| {
                        rd.resources
                            .values()
                            .filter(|r| r.flags.contains(RscFlags::DELETE))
                            .map(|r| r.node.clone())
                            .collect()
                    })
                    .unwrap_or_default()
            };
            for node in pending {
                c.run(Command::RscDeleteConfirmed {
                    rsc_dfn: name.to_owned(),
                    node: node.to_string(),
                })?;
            }
            Ok(())
        })
    }
}

/// Plans a placement without changing anything: where the autoplacer would put a resource
/// `resource` of `size_kib` KiB (all volumes together) spawned from `resource_group` (NULL for
/// `DfltRscGrp`), with `filter` (NULL for none) over the group's filter. If `resource` already
/// exists, its replicas count as placed (as for adding replicas).
///
/// On success writes the planned replicas to `*placement_out` (new replicas only). A refusal
/// gives `LINSTOR_PLACEMENT_REFUSED` (or `LINSTOR_INVALID_ARGUMENT` without a place count) with
/// the explanation in the error's cause, correction and details.
///
/// # Safety
/// `cluster` is NULL or live; `resource_group` and `resource` are NULL or NUL-terminated;
/// `filter` is NULL or live; `placement_out` and `err_out` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_plan_placement(
    cluster: *const linstor_cluster,
    resource_group: *const c_char,
    resource: *const c_char,
    size_kib: u64,
    filter: *const linstor_select_filter,
    placement_out: *mut *mut linstor_placement,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_cluster(cluster, err_out, |c| {
            let rg = arg_opt_str(resource_group, "resource_group")?
                .unwrap_or(linstor_core::name::well_known::DFLT_RSC_GRP);
            let name = arg_str(resource, "resource")?;
            check_out(placement_out, "placement_out")?;
            let rn = ResourceName::new(name).map_err(|e| Failure::from_name(&e))?;
            let rgn =
                linstor_core::ResourceGroupName::new(rg).map_err(|e| Failure::from_name(&e))?;
            let request = opt_filter(filter).unwrap_or_default();
            let planned = {
                let mut g = c.lock()?;
                let cluster = &mut g.cluster;
                let group = cluster.state().resource_groups.get(&rgn).ok_or_else(|| {
                    Failure::new(
                        linstor_result::LINSTOR_NOT_FOUND,
                        format!("Resource group '{rg}' not found"),
                    )
                    .correction(
                        "Name an existing resource group (`linstor resource-group list`), or create it first.",
                    )
                })?;
                let req = PlacementRequest::new(
                    rn.clone(),
                    request.merged_over(&group.select_filter),
                    SizeKib(size_kib),
                );
                cluster
                    .plan_placement(&req)
                    .map_err(|r| Failure::from_entry(&r.to_rc()))?
            };
            give(placement_out, linstor_placement::planned(name, &planned));
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_code_and_poisons_the_cluster() {
        let mut c: *mut linstor_cluster = std::ptr::null_mut();
        // SAFETY: `c` is a valid out-parameter.
        let rc = unsafe { linstor_cluster_new(1, &raw mut c) };
        assert_eq!(rc, linstor_result::LINSTOR_OK);
        let mut err: *mut linstor_error = std::ptr::null_mut();
        // SAFETY: `c` is live (just created); `err` is a valid out-parameter.
        let rc = unsafe {
            with_cluster(c, &raw mut err, |cl| {
                let _guard = cl.lock()?;
                panic!("boom");
            })
        };
        assert_eq!(rc, linstor_result::LINSTOR_PANIC);
        // SAFETY: `err` was written by the failed call.
        let msg = unsafe { crate::error::linstor_error_message(err) }.to_string();
        assert!(msg.contains("boom"), "{msg}");
        // SAFETY: `err` is live and freed once.
        unsafe { crate::error::linstor_error_free(err) };

        let mut json: *mut linstor_string = std::ptr::null_mut();
        // SAFETY: `c` is live; out-parameters are valid; errors are not asked for.
        let rc = unsafe { linstor_cluster_to_json(c, &raw mut json, std::ptr::null_mut()) };
        assert_eq!(
            rc,
            linstor_result::LINSTOR_PANIC,
            "a poisoned cluster answers PANIC"
        );
        assert!(json.is_null(), "out-parameter untouched on failure");
        // SAFETY: `c` is live and freed once.
        unsafe { linstor_cluster_free(c) };
    }

    #[test]
    fn cluster_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<linstor_cluster>();
    }
}
