//! [`linstor_select_filter`]: the autoplacer's select filter, built field by field or from JSON.

use std::ffi::c_char;

use linstor_core::model::SelectFilter;
use linstor_core::name::{NodeName, StorPoolName};

use crate::error::{Failure, linstor_error, linstor_result};
use crate::panic::{ffi_call, ffi_unit};
use crate::strings::{arg_mut, arg_ref, arg_str, check_out, linstor_string, write_out};

/// A select filter (LINSTOR's `AutoSelectFilter`): place count, spreading rules
/// (`replicas_on_same`, `replicas_on_different` over node properties such as `Aux/zone`), allowed
/// pools and nodes. Unset fields fall back to the resource group's filter.
///
/// Ownership: created by `linstor_select_filter_new` or `_from_json`, freed with
/// `linstor_select_filter_free`. Functions that take a filter copy it; the caller keeps
/// ownership. Thread safety: may be moved between threads; setters need exclusive access, so do
/// not use one filter from two threads at once.
#[derive(Debug, Clone, Default)]
pub struct linstor_select_filter {
    pub(crate) f: SelectFilter,
}

/// Boxes `f` and hands it to the caller.
///
/// # Safety
/// `out` is non-NULL and writable.
unsafe fn give(out: *mut *mut linstor_select_filter, f: SelectFilter) {
    let p = Box::into_raw(Box::new(linstor_select_filter { f }));
    // SAFETY: non-NULL and writable (contract).
    unsafe { write_out(out, p) };
}

/// Creates an empty filter (everything unset). Writes `*filter_out` only on success.
///
/// # Safety
/// `filter_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_select_filter_new(
    filter_out: *mut *mut linstor_select_filter,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        ffi_call(std::ptr::null_mut(), || {
            check_out(filter_out, "filter_out")?;
            give(filter_out, SelectFilter::default());
            Ok(())
        })
    }
}

/// Reads a filter from JSON in LINSTOR's REST form, e.g.
/// `{"place_count": 3, "replicas_on_different": ["Aux/zone"]}`. Unknown keys are ignored;
/// invalid names give `LINSTOR_INVALID_JSON` with the broken rule in the message.
///
/// # Safety
/// `json` is NULL or NUL-terminated; `filter_out` and `err_out` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_select_filter_from_json(
    json: *const c_char,
    filter_out: *mut *mut linstor_select_filter,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        ffi_call(err_out, || {
            let json = arg_str(json, "json")?;
            check_out(filter_out, "filter_out")?;
            let f: SelectFilter = linstor_core::decode::decode("a select filter", json)
                .map_err(|e| Failure::decode(&e))?;
            give(filter_out, f);
            Ok(())
        })
    }
}

/// Writes the filter as JSON (only the fields that are set) to a new `linstor_string`.
///
/// # Safety
/// `filter` is NULL or live; `json_out` and `err_out` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_select_filter_to_json(
    filter: *const linstor_select_filter,
    json_out: *mut *mut linstor_string,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        ffi_call(err_out, || {
            let f = arg_ref(filter, "filter")?;
            check_out(json_out, "json_out")?;
            let s = serde_json::to_string(&f.f)
                .map_err(|e| Failure::invalid(format!("Cannot serialize the filter: {e}")))?;
            write_out(json_out, Box::into_raw(linstor_string::boxed(s)));
            Ok(())
        })
    }
}

/// Frees a filter. `linstor_select_filter_free(NULL)` does nothing.
///
/// # Safety
/// `filter` is NULL or a live filter that is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_select_filter_free(filter: *mut linstor_select_filter) {
    ffi_unit(|| {
        if !filter.is_null() {
            // SAFETY: from `Box::into_raw` in this crate, freed once (contract).
            drop(unsafe { Box::from_raw(filter) });
        }
    });
}

/// Runs a setter body on a mutable filter.
///
/// # Safety
/// As every setter: `filter` NULL or live and exclusive, `err_out` NULL or writable.
unsafe fn with_filter(
    filter: *mut linstor_select_filter,
    err_out: *mut *mut linstor_error,
    body: impl FnOnce(&mut SelectFilter) -> Result<(), Failure>,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        ffi_call(err_out, || {
            let f = arg_mut(filter, "filter")?;
            body(&mut f.f)
        })
    }
}

/// Sets the number of diskful replicas wanted (1–32; 0 unsets it).
///
/// # Safety
/// `filter` is NULL or live and not used concurrently; `err_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_select_filter_set_place_count(
    filter: *mut linstor_select_filter,
    place_count: u32,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_filter(filter, err_out, |f| {
            if place_count > 32 {
                return Err(
                    Failure::invalid(format!("Invalid place count {place_count}"))
                        .correction("Use a place count from 1 to 32 (or 0 to unset it)."),
                );
            }
            f.place_count = (place_count > 0).then_some(place_count);
            Ok(())
        })
    }
}

fn check_key(key: &str) -> Result<(), Failure> {
    let k = key.split_once('=').map_or(key, |(k, _)| k);
    if k.is_empty() || k.contains(char::is_whitespace) {
        return Err(
            Failure::invalid(format!("Invalid node property key '{key}'"))
                .correction("Give a node property key such as Aux/zone, optionally with =value."),
        );
    }
    Ok(())
}

/// Adds a node property key (`Aux/zone`, or `Aux/zone=a`) on which all replicas must agree.
///
/// # Safety
/// `filter` is NULL or live and not used concurrently; `key` is NULL or NUL-terminated;
/// `err_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_select_filter_add_replicas_on_same(
    filter: *mut linstor_select_filter,
    key: *const c_char,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_filter(filter, err_out, |f| {
            let key = arg_str(key, "key")?;
            check_key(key)?;
            f.replicas_on_same
                .get_or_insert_with(Vec::new)
                .push(key.to_owned());
            Ok(())
        })
    }
}

/// Adds a node property key (`Aux/zone`) over whose values replicas must spread: no two replicas
/// share a value.
///
/// # Safety
/// `filter` is NULL or live and not used concurrently; `key` is NULL or NUL-terminated;
/// `err_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_select_filter_add_replicas_on_different(
    filter: *mut linstor_select_filter,
    key: *const c_char,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_filter(filter, err_out, |f| {
            let key = arg_str(key, "key")?;
            check_key(key)?;
            f.replicas_on_different
                .get_or_insert_with(Vec::new)
                .push(key.to_owned());
            Ok(())
        })
    }
}

/// Restricts diskful placement to storage pools of this name (may be called several times).
/// An invalid name gives `LINSTOR_INVALID_NAME` with the broken rule as cause.
///
/// # Safety
/// `filter` is NULL or live and not used concurrently; `pool` is NULL or NUL-terminated;
/// `err_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_select_filter_add_storage_pool(
    filter: *mut linstor_select_filter,
    pool: *const c_char,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_filter(filter, err_out, |f| {
            let pool = arg_str(pool, "pool")?;
            let p = StorPoolName::new(pool).map_err(|e| Failure::from_name(&e))?;
            f.storage_pool_list.get_or_insert_with(Vec::new).push(p);
            Ok(())
        })
    }
}

/// Restricts placement to this node (may be called several times).
/// An invalid name gives `LINSTOR_INVALID_NAME` with the broken rule as cause.
///
/// # Safety
/// `filter` is NULL or live and not used concurrently; `node` is NULL or NUL-terminated;
/// `err_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_select_filter_add_node(
    filter: *mut linstor_select_filter,
    node: *const c_char,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_filter(filter, err_out, |f| {
            let node = arg_str(node, "node")?;
            let n = NodeName::new(node).map_err(|e| Failure::from_name(&e))?;
            f.node_name_list.get_or_insert_with(Vec::new).push(n);
            Ok(())
        })
    }
}

/// Asks for a diskless peer on every other eligible node, besides the diskful replicas.
///
/// # Safety
/// `filter` is NULL or live and not used concurrently; `err_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_select_filter_set_diskless_on_remaining(
    filter: *mut linstor_select_filter,
    enabled: bool,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        with_filter(filter, err_out, |f| {
            f.diskless_on_remaining = Some(enabled);
            Ok(())
        })
    }
}
