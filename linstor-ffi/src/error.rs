//! Result codes ([`linstor_result`]) and the rich error object ([`linstor_error`]).

use std::ffi::CString;

use linstor_core::rc::code;
use linstor_core::{NameError, RcEntry};

use crate::panic::{ffi_unit, ffi_value};
use crate::strings::{c_string, linstor_str};

/// What a function's call came to. `LINSTOR_OK` (0) is success; every other value is a failure
/// class a caller can act on. Details are in the `linstor_error` (when one was asked for).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum linstor_result {
    /// Success.
    LINSTOR_OK = 0,
    /// A required pointer argument was NULL.
    LINSTOR_NULL_PARAMETER = 1,
    /// A string argument was not valid UTF-8.
    LINSTOR_INVALID_UTF8 = 2,
    /// An argument was out of range or malformed (an enum value, a size, a count, a key).
    LINSTOR_INVALID_ARGUMENT = 3,
    /// A name broke LINSTOR's naming rules; the error's cause names the rule.
    LINSTOR_INVALID_NAME = 4,
    /// Text that should be JSON is not, or does not have the expected shape.
    LINSTOR_INVALID_JSON = 5,
    /// JSON that reads as a cluster state but is inconsistent (a minor used twice, …).
    LINSTOR_INVALID_STATE = 6,
    /// The object named does not exist.
    LINSTOR_NOT_FOUND = 7,
    /// The object to create already exists.
    LINSTOR_ALREADY_EXISTS = 8,
    /// The cluster refused the command (see the error's message, cause and correction).
    LINSTOR_REFUSED = 9,
    /// Autoplacement found no valid placement; the error explains why and what to change.
    LINSTOR_PLACEMENT_REFUSED = 10,
    /// An index was past the end of a list.
    LINSTOR_OUT_OF_RANGE = 11,
    /// The library panicked (a bug). The call had no effect on other handles; a cluster whose
    /// command panicked is poisoned and answers `LINSTOR_PANIC` until freed.
    LINSTOR_PANIC = 12,
}

impl linstor_result {
    fn text(self) -> &'static std::ffi::CStr {
        use linstor_result as R;
        match self {
            R::LINSTOR_OK => c"success",
            R::LINSTOR_NULL_PARAMETER => c"a required pointer argument was NULL",
            R::LINSTOR_INVALID_UTF8 => c"a string argument was not valid UTF-8",
            R::LINSTOR_INVALID_ARGUMENT => c"an argument was out of range or malformed",
            R::LINSTOR_INVALID_NAME => c"a name broke LINSTOR's naming rules",
            R::LINSTOR_INVALID_JSON => c"invalid JSON or unexpected JSON shape",
            R::LINSTOR_INVALID_STATE => c"inconsistent cluster state",
            R::LINSTOR_NOT_FOUND => c"object not found",
            R::LINSTOR_ALREADY_EXISTS => c"object already exists",
            R::LINSTOR_REFUSED => c"the cluster refused the command",
            R::LINSTOR_PLACEMENT_REFUSED => c"autoplacement found no valid placement",
            R::LINSTOR_OUT_OF_RANGE => c"index out of range",
            R::LINSTOR_PANIC => c"internal error (panic) in the library",
        }
    }

    /// Maps a LINSTOR error code (bits 14–0 of a `ret_code`) to a result class.
    pub(crate) fn from_linstor_code(c: u16) -> linstor_result {
        use linstor_result as R;
        match c {
            code::INVLD_NODE_NAME
            | code::INVLD_RSC_NAME
            | code::INVLD_STOR_POOL_NAME
            | code::INVLD_SNAPSHOT_NAME
            | code::INVLD_RSC_GRP_NAME
            | code::INVLD_KVS_NAME => R::LINSTOR_INVALID_NAME,
            200..=299 => R::LINSTOR_INVALID_ARGUMENT,
            300..=399 => R::LINSTOR_NOT_FOUND,
            500..=599 => R::LINSTOR_ALREADY_EXISTS,
            code::NOT_ENOUGH_NODES
            | code::NOT_ENOUGH_FREE_SPACE
            | code::UNDECIDABLE_AUTOPLACMENT => R::LINSTOR_PLACEMENT_REFUSED,
            _ => R::LINSTOR_REFUSED,
        }
    }
}

/// A static description of a result code (`"object not found"`, …); unknown values give
/// `"unknown result code"`. Never fails; the string is valid forever.
#[unsafe(no_mangle)]
pub extern "C" fn linstor_result_text(result: u32) -> linstor_str {
    ffi_value(linstor_str::NONE, || {
        let text = all_results()
            .iter()
            .find(|r| **r as u32 == result)
            .map_or(c"unknown result code", |r| r.text());
        linstor_str::from_static(text)
    })
}

fn all_results() -> &'static [linstor_result] {
    use linstor_result as R;
    &[
        R::LINSTOR_OK,
        R::LINSTOR_NULL_PARAMETER,
        R::LINSTOR_INVALID_UTF8,
        R::LINSTOR_INVALID_ARGUMENT,
        R::LINSTOR_INVALID_NAME,
        R::LINSTOR_INVALID_JSON,
        R::LINSTOR_INVALID_STATE,
        R::LINSTOR_NOT_FOUND,
        R::LINSTOR_ALREADY_EXISTS,
        R::LINSTOR_REFUSED,
        R::LINSTOR_PLACEMENT_REFUSED,
        R::LINSTOR_OUT_OF_RANGE,
        R::LINSTOR_PANIC,
    ]
}

/// A failure inside the library, before it becomes a [`linstor_error`].
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub code: linstor_result,
    pub ret_code: i64,
    pub message: String,
    pub cause: Option<String>,
    pub correction: Option<String>,
    pub details: Option<String>,
}

impl Failure {
    pub fn new(code: linstor_result, message: impl Into<String>) -> Failure {
        Failure {
            code,
            ret_code: 0,
            message: message.into(),
            cause: None,
            correction: None,
            details: None,
        }
    }

    pub fn null(what: &str) -> Failure {
        Failure::new(
            linstor_result::LINSTOR_NULL_PARAMETER,
            format!("Argument '{what}' is NULL"),
        )
        .correction("Pass a valid pointer.")
    }

    pub fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(linstor_result::LINSTOR_INVALID_ARGUMENT, message)
    }

    #[must_use]
    pub fn cause(mut self, c: impl Into<String>) -> Failure {
        self.cause = Some(c.into());
        self
    }

    #[must_use]
    pub fn correction(mut self, c: impl Into<String>) -> Failure {
        self.correction = Some(c.into());
        self
    }

    /// A LINSTOR result entry (an error answer of the cluster).
    pub fn from_entry(e: &RcEntry) -> Failure {
        Failure {
            code: linstor_result::from_linstor_code(e.code),
            ret_code: e.ret_code(),
            message: e.message.clone(),
            cause: e.cause.clone(),
            correction: e.correction.clone(),
            details: e.details.clone(),
        }
    }

    /// A rejected name: the cause is the rule it broke.
    pub fn from_name(e: &NameError) -> Failure {
        Failure::new(
            linstor_result::LINSTOR_INVALID_NAME,
            format!("Invalid {} '{}'", e.kind.label(), e.value),
        )
        .cause(format!("The {} {}.", e.kind.label(), e.rule))
        .correction(format!(
            "Choose a {} that follows the rule above.",
            e.kind.label()
        ))
    }

    /// An input the core could not decode: the field, the value and the fix.
    pub fn decode(e: &linstor_core::decode::DecodeError) -> Failure {
        use linstor_core::decode::DecodeErrorKind as K;
        let code = match e.kind {
            K::OutOfRange => linstor_result::LINSTOR_INVALID_ARGUMENT,
            _ => linstor_result::LINSTOR_INVALID_JSON,
        };
        Failure::new(code, e.message.clone())
            .cause(e.cause.clone())
            .correction(e.correction.clone())
    }

    pub fn json(what: &str, e: &serde_json::Error) -> Failure {
        Failure::new(
            linstor_result::LINSTOR_INVALID_JSON,
            format!("Cannot read {what}: {e}"),
        )
        .cause(e.to_string())
        .correction(format!("Pass {what} as JSON in the documented format."))
    }
}

/// A rich error: the result code, a message, and (for refusals by the cluster) LINSTOR's cause,
/// correction, details and 64-bit `ret_code`.
///
/// Ownership: returned through a `linstor_error **err_out`; the caller frees it with
/// `linstor_error_free`. Thread safety: immutable; may be read from several threads at once.
/// Strings borrowed from it live until it is freed.
pub struct linstor_error {
    code: linstor_result,
    ret_code: i64,
    message: CString,
    cause: Option<CString>,
    correction: Option<CString>,
    details: Option<CString>,
}

impl std::fmt::Debug for linstor_error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("linstor_error")
            .field("code", &self.code)
            .field("ret_code", &self.ret_code)
            .field("message", &self.message)
            .field("cause", &self.cause)
            .field("correction", &self.correction)
            .field("details", &self.details)
            .finish()
    }
}

impl From<Failure> for linstor_error {
    fn from(f: Failure) -> linstor_error {
        linstor_error {
            code: f.code,
            ret_code: f.ret_code,
            message: c_string(f.message),
            cause: f.cause.map(c_string),
            correction: f.correction.map(c_string),
            details: f.details.map(c_string),
        }
    }
}

/// The result code of `err` (`LINSTOR_NULL_PARAMETER` if `err` is NULL).
///
/// # Safety
/// `err` is NULL or a live `linstor_error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_error_code(err: *const linstor_error) -> linstor_result {
    ffi_value(linstor_result::LINSTOR_PANIC, || {
        // SAFETY: NULL or live (contract).
        unsafe { err.as_ref() }.map_or(linstor_result::LINSTOR_NULL_PARAMETER, |e| e.code)
    })
}

/// LINSTOR's 64-bit `ret_code` of the refusing entry (severity, operation, object and code bits,
/// as python-linstor and golinstor read them), or 0 if the failure did not come from the
/// cluster (a NULL argument, bad UTF-8, bad JSON, …) or `err` is NULL.
///
/// # Safety
/// `err` is NULL or a live `linstor_error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_error_ret_code(err: *const linstor_error) -> i64 {
    ffi_value(0, || {
        // SAFETY: NULL or live (contract).
        unsafe { err.as_ref() }.map_or(0, |e| e.ret_code)
    })
}

/// What happened (always present when `err` is not NULL). Borrowed from `err`.
///
/// # Safety
/// `err` is NULL or a live `linstor_error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_error_message(err: *const linstor_error) -> linstor_str {
    ffi_value(linstor_str::NONE, || {
        // SAFETY: NULL or live (contract).
        unsafe { err.as_ref() }.map_or(linstor_str::NONE, |e| linstor_str::borrow(&e.message))
    })
}

/// Why it happened (LINSTOR's "cause"; for an invalid name, the rule it broke), or the absent
/// string (`data == NULL`). Borrowed from `err`.
///
/// # Safety
/// `err` is NULL or a live `linstor_error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_error_cause(err: *const linstor_error) -> linstor_str {
    ffi_value(linstor_str::NONE, || {
        // SAFETY: NULL or live (contract).
        unsafe { err.as_ref() }.map_or(linstor_str::NONE, |e| {
            linstor_str::borrow_opt(e.cause.as_ref())
        })
    })
}

/// What to do about it (LINSTOR's "correction"), or the absent string. Borrowed from `err`.
///
/// # Safety
/// `err` is NULL or a live `linstor_error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_error_correction(err: *const linstor_error) -> linstor_str {
    ffi_value(linstor_str::NONE, || {
        // SAFETY: NULL or live (contract).
        unsafe { err.as_ref() }.map_or(linstor_str::NONE, |e| {
            linstor_str::borrow_opt(e.correction.as_ref())
        })
    })
}

/// More detail (for a refused placement: the nearest misses), or the absent string. Borrowed
/// from `err`.
///
/// # Safety
/// `err` is NULL or a live `linstor_error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_error_details(err: *const linstor_error) -> linstor_str {
    ffi_value(linstor_str::NONE, || {
        // SAFETY: NULL or live (contract).
        unsafe { err.as_ref() }.map_or(linstor_str::NONE, |e| {
            linstor_str::borrow_opt(e.details.as_ref())
        })
    })
}

/// Frees an error. `linstor_error_free(NULL)` does nothing.
///
/// # Safety
/// `err` is NULL or a live `linstor_error` that is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_error_free(err: *mut linstor_error) {
    ffi_unit(|| {
        if !err.is_null() {
            // SAFETY: from `Box::into_raw` in this crate, freed once (contract).
            drop(unsafe { Box::from_raw(err) });
        }
    });
}
