//! Names, sizes and the enums passed in as `uint32_t`.

use std::ffi::c_char;

use linstor_core::SizeKib;
use linstor_core::model::{NodeType, ProviderKind};
use linstor_core::name::{NameKind, check_name};

use crate::error::{Failure, linstor_error, linstor_result};
use crate::panic::ffi_call;
use crate::strings::{arg_str, check_out, write_out};

/// Which naming rules to check (the argument of `linstor_name_check`, passed as `uint32_t`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum linstor_name_kind {
    /// A node name (hostname rules, 2–255 bytes).
    LINSTOR_NAME_NODE = 0,
    /// A resource (definition) name.
    LINSTOR_NAME_RESOURCE = 1,
    /// A resource group name.
    LINSTOR_NAME_RESOURCE_GROUP = 2,
    /// A storage pool name.
    LINSTOR_NAME_STORAGE_POOL = 3,
    /// A snapshot name.
    LINSTOR_NAME_SNAPSHOT = 4,
    /// A net interface name.
    LINSTOR_NAME_NET_INTERFACE = 5,
    /// A key-value store name.
    LINSTOR_NAME_KEY_VALUE_STORE = 6,
}

/// Node types (passed as `uint32_t`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum linstor_node_type {
    /// A storage node.
    LINSTOR_NODE_SATELLITE = 0,
    /// Controller and storage node.
    LINSTOR_NODE_COMBINED = 1,
    /// Runs only the controller; no storage.
    LINSTOR_NODE_CONTROLLER = 2,
    /// Not managed; no storage.
    LINSTOR_NODE_AUXILIARY = 3,
}

/// Storage provider kinds (passed as `uint32_t`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum linstor_provider_kind {
    /// No storage (diskless peers).
    LINSTOR_PROVIDER_DISKLESS = 0,
    /// LVM thick.
    LINSTOR_PROVIDER_LVM = 1,
    /// LVM thin.
    LINSTOR_PROVIDER_LVM_THIN = 2,
    /// ZFS thick.
    LINSTOR_PROVIDER_ZFS = 3,
    /// ZFS thin.
    LINSTOR_PROVIDER_ZFS_THIN = 4,
    /// Preallocated file on a loop device.
    LINSTOR_PROVIDER_FILE = 5,
    /// Sparse file on a loop device.
    LINSTOR_PROVIDER_FILE_THIN = 6,
}

pub(crate) fn name_kind(v: u32) -> Result<NameKind, Failure> {
    Ok(match v {
        0 => NameKind::Node,
        1 => NameKind::ResourceDefinition,
        2 => NameKind::ResourceGroup,
        3 => NameKind::StoragePool,
        4 => NameKind::Snapshot,
        5 => NameKind::NetInterface,
        6 => NameKind::KeyValueStore,
        _ => return Err(bad_enum("linstor_name_kind", v)),
    })
}

pub(crate) fn node_type(v: u32) -> Result<NodeType, Failure> {
    Ok(match v {
        0 => NodeType::Satellite,
        1 => NodeType::Combined,
        2 => NodeType::Controller,
        3 => NodeType::Auxiliary,
        _ => return Err(bad_enum("linstor_node_type", v)),
    })
}

pub(crate) fn provider_kind(v: u32) -> Result<ProviderKind, Failure> {
    Ok(match v {
        0 => ProviderKind::DISKLESS,
        1 => ProviderKind::LVM,
        2 => ProviderKind::LVM_THIN,
        3 => ProviderKind::ZFS,
        4 => ProviderKind::ZFS_THIN,
        5 => ProviderKind::FILE,
        6 => ProviderKind::FILE_THIN,
        _ => return Err(bad_enum("linstor_provider_kind", v)),
    })
}

fn bad_enum(ty: &str, v: u32) -> Failure {
    Failure::invalid(format!("{v} is not a valid {ty}"))
        .correction(format!("Pass one of the {ty} constants from linstor.h."))
}

/// Checks `name` against LINSTOR's rules for `kind` (a `linstor_name_kind`).
///
/// Returns `LINSTOR_OK` if valid, `LINSTOR_INVALID_NAME` if not: the error's cause is the broken
/// rule ("must start with a letter or '_', not '1'"). Thread-safe; touches no handle.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `err_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_name_check(
    kind: u32,
    name: *const c_char,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        ffi_call(err_out, || {
            let kind = name_kind(kind)?;
            let name = arg_str(name, "name")?;
            check_name(kind, name).map_err(|e| Failure::from_name(&e))
        })
    }
}

/// Parses a size as the LINSTOR client does ("50G", "1.5TiB", "4096K"; a bare number is GiB)
/// into KiB, rounding up. Writes `*kib_out` only on success. Thread-safe.
///
/// # Safety
/// `text` is NULL or a NUL-terminated string; `kib_out` is NULL or writable; `err_out` is NULL
/// or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_size_parse(
    text: *const c_char,
    kib_out: *mut u64,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`, `give`) need.
    unsafe {
        ffi_call(err_out, || {
            let text = arg_str(text, "text")?;
            check_out(kib_out, "kib_out")?;
            let size = SizeKib::parse(text).map_err(|e| {
                Failure::invalid(format!("Invalid size '{text}'"))
                    .cause(e.to_string())
                    .correction(e.correction())
            })?;
            write_out(kib_out, size.kib());
            Ok(())
        })
    }
}
