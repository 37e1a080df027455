//! `linstor-ffi`: a C ABI over `linstor-core`, shaped like rustls-ffi.
//!
//! The ABI is a thin shell: every function converts its arguments, calls `linstor-core`, and
//! converts the answer back. It has no policy of its own. The header `include/linstor.h` is
//! generated from this crate by cbindgen and committed; `tests/header.rs` fails when it drifts.
//!
//! # Conventions (the same for every function)
//!
//! - **Handles are opaque** and owned by the caller once returned: each `linstor_X_new` (or other
//!   constructor writing a `linstor_X **`) has a `linstor_X_free`, and `linstor_X_free(NULL)` does
//!   nothing. A handle is a `Box` turned into a raw pointer; `_free` turns it back and drops it.
//! - **Results**: fallible functions return a [`linstor_result`]; `LINSTOR_OK` (0) is success.
//! - **Out-parameters are written only on success.** On failure they are left untouched.
//! - **Errors**: most functions take a last `linstor_error **err_out`. It may be NULL. When the
//!   function fails and `err_out` is not NULL, `*err_out` receives a new [`linstor_error`] (free
//!   it with `linstor_error_free`) that carries the code, message and, for refusals by the
//!   cluster, LINSTOR's cause, correction, details and 64-bit `ret_code`. On success `*err_out`
//!   is not touched.
//! - **Pointers are checked**: a NULL where a value is required gives
//!   `LINSTOR_NULL_PARAMETER`. (Pointers that are not NULL must be valid: the ABI cannot check
//!   dangling pointers.)
//! - **Strings in** are NUL-terminated `const char *` and must be UTF-8
//!   (`LINSTOR_INVALID_UTF8` otherwise). **Strings out** are [`linstor_str`]: a pointer plus a
//!   length, never containing an interior NUL and always followed by a NUL, borrowed from the
//!   handle they came from.
//! - **Enums in** are passed as `uint32_t` and checked (`LINSTOR_INVALID_ARGUMENT` for unknown
//!   values), so a wrong value from C is an error, not undefined behaviour.
//! - **Panic boundary**: every exported function catches panics; a panic becomes
//!   `LINSTOR_PANIC` (or the documented default value of a getter). A cluster whose command
//!   panicked is poisoned: later calls on it give `LINSTOR_PANIC` until it is freed.
//!
//! # Thread safety and lifetimes
//!
//! Each type documents its own. In short: a `linstor_cluster` may be shared between threads
//! (calls are serialised by an internal lock); every other handle may be moved between threads
//! but must not be used from two threads at once unless its documentation says it is immutable;
//! borrowed `linstor_str`s live as long as the handle they came from and until it is next
//! mutated.
//!
//! # Determinism
//!
//! A `linstor_cluster` owns a `linstor_core::cluster::Cluster` and a `SeededEnv` seeded at
//! creation: UUIDs, DRBD secrets and timestamps come from the seed, so the same calls on the
//! same seed give the same state, byte for byte.
#![allow(
    unsafe_code,
    reason = "this crate is the C ABI: it dereferences caller pointers and exports unmangled symbols; every unsafe block carries a SAFETY comment"
)]
#![allow(
    non_camel_case_types,
    reason = "the C names of the types (linstor_cluster, …) are the Rust names, as in rustls-ffi"
)]

mod cluster;
mod error;
mod filter;
mod names;
mod panic;
mod placement;
mod quorum;
mod sim;
mod strings;

pub use cluster::*;
pub use error::*;
pub use filter::*;
pub use names::*;
pub use placement::*;
pub use quorum::*;
pub use sim::*;
pub use strings::*;

/// Major version of this library (matches `Cargo.toml`; checked by a test).
pub const LINSTOR_FFI_VERSION_MAJOR: u32 = 0;
/// Minor version of this library (matches `Cargo.toml`; checked by a test).
pub const LINSTOR_FFI_VERSION_MINOR: u32 = 1;
/// Patch version of this library (matches `Cargo.toml`; checked by a test).
pub const LINSTOR_FFI_VERSION_PATCH: u32 = 0;

/// The library's version as text (`"0.1.0"`). Static: never freed, valid forever.
#[unsafe(no_mangle)]
pub extern "C" fn linstor_version() -> linstor_str {
    const V: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
    ) {
        Ok(v) => v,
        Err(_) => c"?",
    };
    linstor_str::from_static(V)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_constants_match_cargo_toml() {
        assert_eq!(
            LINSTOR_FFI_VERSION_MAJOR.to_string(),
            env!("CARGO_PKG_VERSION_MAJOR")
        );
        assert_eq!(
            LINSTOR_FFI_VERSION_MINOR.to_string(),
            env!("CARGO_PKG_VERSION_MINOR")
        );
        assert_eq!(
            LINSTOR_FFI_VERSION_PATCH.to_string(),
            env!("CARGO_PKG_VERSION_PATCH")
        );
        assert_eq!(linstor_version().to_string(), env!("CARGO_PKG_VERSION"));
    }
}
