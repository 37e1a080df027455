//! The panic boundary: no panic ever unwinds into the caller's C frames.
//!
//! Every exported function runs its body inside one of these helpers. A panic is caught and
//! turned into `LINSTOR_PANIC` (fallible functions) or the function's documented default value
//! (getters, `_free`).

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{Failure, linstor_error, linstor_result};

/// Runs `f`, returning `default` if it panics.
pub(crate) fn ffi_value<T>(default: T, f: impl FnOnce() -> T) -> T {
    // AssertUnwindSafe: after a panic we only return `default`; no state observed by `f` is
    // read again except a cluster's, which is behind a mutex that poisoning marks.
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(default)
}

/// Runs `f` for its effect, swallowing a panic.
pub(crate) fn ffi_unit(f: impl FnOnce()) {
    ffi_value((), f);
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_owned()
    }
}

/// Runs a fallible body; on failure writes a new `linstor_error` to `err_out` (if not NULL).
///
/// # Safety
/// `err_out` is NULL or valid for writing one `*mut linstor_error`.
pub(crate) unsafe fn ffi_call(
    err_out: *mut *mut linstor_error,
    f: impl FnOnce() -> Result<(), Failure>,
) -> linstor_result {
    let failure = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => return linstor_result::LINSTOR_OK,
        Ok(Err(fail)) => fail,
        Err(p) => Failure::new(
            linstor_result::LINSTOR_PANIC,
            format!("Internal error in linstor-ffi: {}", panic_message(&*p)),
        )
        .correction("This is a bug; please report it. Free the cluster handle involved."),
    };
    let code = failure.code;
    if !err_out.is_null() {
        let boxed = ffi_value(std::ptr::null_mut(), || {
            Box::into_raw(Box::new(linstor_error::from(failure)))
        });
        // SAFETY: non-NULL and writable (contract).
        unsafe { err_out.write(boxed) };
    }
    code
}
