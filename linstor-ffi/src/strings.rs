//! Strings across the boundary: borrowed [`linstor_str`], owned [`linstor_string`], and the
//! checked conversion of `const char *` arguments.

use std::ffi::{CStr, CString, c_char};
use std::fmt;

use crate::error::{Failure, linstor_result};
use crate::panic::{ffi_unit, ffi_value};

/// A borrowed UTF-8 string: `len` bytes at `data`, with no interior NUL, followed by a NUL (so
/// `data` is also a C string). `data` is NULL (and `len` 0) for an absent value.
///
/// Lifetime: borrowed from the handle that returned it; valid until that handle is freed or
/// mutated. Static strings (`linstor_version`, `linstor_result_text`) are valid forever.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct linstor_str {
    /// The bytes (NUL-terminated), or NULL when absent.
    pub data: *const c_char,
    /// Length in bytes, without the terminating NUL.
    pub len: usize,
}

impl linstor_str {
    /// The absent string.
    pub(crate) const NONE: linstor_str = linstor_str {
        data: std::ptr::null(),
        len: 0,
    };

    pub(crate) fn from_static(s: &'static CStr) -> linstor_str {
        linstor_str::borrow(s)
    }

    /// Borrows a C string; the caller keeps `s` alive as long as the result is used.
    pub(crate) fn borrow(s: &CStr) -> linstor_str {
        linstor_str {
            data: s.as_ptr(),
            len: s.to_bytes().len(),
        }
    }

    pub(crate) fn borrow_opt(s: Option<&CString>) -> linstor_str {
        s.map_or(linstor_str::NONE, |s| linstor_str::borrow(s))
    }
}

impl fmt::Debug for linstor_str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

impl fmt::Display for linstor_str {
    /// Renders the string (for Rust-side tests and debugging); absent renders empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.data.is_null() {
            return Ok(());
        }
        // SAFETY: a non-NULL `linstor_str` made by this crate points to `len` initialized bytes
        // of a live CString or static CStr (the type's invariant, upheld by every constructor).
        let bytes = unsafe { std::slice::from_raw_parts(self.data.cast::<u8>(), self.len) };
        f.write_str(&String::from_utf8_lossy(bytes))
    }
}

/// Makes a C string from text, dropping interior NULs (which text from the core never has).
pub(crate) fn c_string(s: impl Into<String>) -> CString {
    let mut s: String = s.into();
    s.retain(|c| c != '\0');
    CString::new(s).unwrap_or_default()
}

/// An owned string returned by the library (JSON documents and the like).
///
/// Ownership: the caller owns it and frees it with `linstor_string_free`.
/// Thread safety: immutable; may be read from several threads at once and freed from any.
pub struct linstor_string {
    s: CString,
}

impl linstor_string {
    pub(crate) fn boxed(s: impl Into<String>) -> Box<linstor_string> {
        Box::new(linstor_string { s: c_string(s) })
    }
}

impl fmt::Debug for linstor_string {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("linstor_string")
            .field("s", &self.s)
            .finish()
    }
}

/// The text of `s`, borrowed from it (valid until `linstor_string_free(s)`).
/// Returns the absent string (`data == NULL`) if `s` is NULL.
///
/// # Safety
/// `s` is NULL or a live `linstor_string` from this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_string_get(s: *const linstor_string) -> linstor_str {
    ffi_value(linstor_str::NONE, || {
        // SAFETY: the caller passes NULL or a live handle (function contract).
        match unsafe { s.as_ref() } {
            Some(s) => linstor_str::borrow(&s.s),
            None => linstor_str::NONE,
        }
    })
}

/// Frees a string returned by this library. `linstor_string_free(NULL)` does nothing.
///
/// # Safety
/// `s` is NULL or a live `linstor_string` that is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_string_free(s: *mut linstor_string) {
    ffi_unit(|| {
        if !s.is_null() {
            // SAFETY: `s` came from `Box::into_raw` in this crate and is freed once (contract).
            drop(unsafe { Box::from_raw(s) });
        }
    });
}

/// Reads a required `const char *` argument as UTF-8.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn arg_str<'a>(p: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: non-NULL and NUL-terminated (contract).
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str().map_err(|e| {
        Failure::new(
            linstor_result::LINSTOR_INVALID_UTF8,
            format!("Argument '{what}' is not valid UTF-8: {e}"),
        )
        .correction("Pass UTF-8 text.")
    })
}

/// Reads an optional `const char *` argument (NULL means absent).
///
/// # Safety
/// As [`arg_str`].
pub(crate) unsafe fn arg_opt_str<'a>(
    p: *const c_char,
    what: &str,
) -> Result<Option<&'a str>, Failure> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { arg_str(p, what) }.map(Some)
    }
}

/// Borrows a required handle argument.
///
/// # Safety
/// `p` is NULL or points to a live `T` that outlives `'a` and is not mutated meanwhile.
pub(crate) unsafe fn arg_ref<'a, T>(p: *const T, what: &str) -> Result<&'a T, Failure> {
    // SAFETY: NULL or live (contract).
    unsafe { p.as_ref() }.ok_or_else(|| Failure::null(what))
}

/// Borrows a required handle argument mutably.
///
/// # Safety
/// `p` is NULL or points to a live `T` that outlives `'a` and is not accessed elsewhere meanwhile.
pub(crate) unsafe fn arg_mut<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: NULL or live and exclusive (contract).
    unsafe { p.as_mut() }.ok_or_else(|| Failure::null(what))
}

/// Checks that a required out-parameter is not NULL (before any work is done).
pub(crate) fn check_out<T>(p: *mut T, what: &str) -> Result<(), Failure> {
    if p.is_null() {
        Err(Failure::null(what))
    } else {
        Ok(())
    }
}

/// Writes an out-parameter if it is not NULL. Call only on success.
///
/// # Safety
/// `p` is NULL or valid for a write of `T`.
pub(crate) unsafe fn write_out<T>(p: *mut T, v: T) {
    if !p.is_null() {
        // SAFETY: non-NULL and writable (contract); `write` does not drop the old garbage.
        unsafe { p.write(v) };
    }
}
