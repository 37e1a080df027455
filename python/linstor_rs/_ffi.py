"""Loading ``liblinstor_ffi`` and declaring the C functions (ctypes).

The library is found, in this order:

1. the path in the environment variable ``LINSTOR_FFI_LIB``;
2. ``target/release`` or ``target/debug`` of a linstor-rs checkout above this package or above
   the current directory (the newer build wins), i.e. after ``cargo build -p linstor-ffi``;
3. the system's library path (``ctypes.util.find_library("linstor_ffi")``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import Optional

from . import errors

_LIB_NAME = "liblinstor_ffi.so"


class _Str(ctypes.Structure):
    """``linstor_str``: a borrowed UTF-8 string (pointer + length); NULL pointer = absent."""

    _fields_ = [("data", ctypes.c_void_p), ("len", ctypes.c_size_t)]

    def get(self) -> Optional[str]:
        if not self.data:
            return None
        return ctypes.string_at(self.data, self.len).decode("utf-8")


class _Replica(ctypes.Structure):
    """``linstor_replica``."""

    _fields_ = [
        ("node", _Str),
        ("storage_pool", _Str),
        ("diskless", ctypes.c_bool),
        ("tie_breaker", ctypes.c_bool),
    ]


class _QuorumCounts(ctypes.Structure):
    """``linstor_quorum_counts``."""

    _fields_ = [
        ("diskful", ctypes.c_size_t),
        ("diskless", ctypes.c_size_t),
        ("tiebreakers", ctypes.c_size_t),
    ]


class _SimCluster(ctypes.Structure):
    """``linstor_sim_cluster``."""

    _fields_ = [
        ("nodes", ctypes.c_uint32),
        ("pools_per_node", ctypes.c_uint32),
        ("pool_gib", ctypes.c_uint64),
        ("pool_size_max_factor", ctypes.c_uint32),
        ("zones", ctypes.c_uint32),
        ("racks_per_zone", ctypes.c_uint32),
        ("thin", ctypes.c_bool),
    ]


class _SimWorkload(ctypes.Structure):
    """``linstor_sim_workload``."""

    _fields_ = [
        ("ops", ctypes.c_uint32),
        ("stop_at_first_refusal", ctypes.c_bool),
        ("replicas", ctypes.c_uint32),
        ("size_min_gib", ctypes.c_uint64),
        ("size_max_gib", ctypes.c_uint64),
        ("delete_percent", ctypes.c_uint32),
        ("resize_percent", ctypes.c_uint32),
        ("fail_every", ctypes.c_uint32),
        ("zone_spread", ctypes.c_bool),
        ("report_every", ctypes.c_uint32),
        ("strategy", ctypes.c_uint32),
    ]


class _SimReport(ctypes.Structure):
    """``linstor_sim_report``."""

    _fields_ = [
        ("placements", ctypes.c_uint64),
        ("refusals", ctypes.c_uint64),
        ("spawned", ctypes.c_uint64),
        ("deleted", ctypes.c_uint64),
        ("resized", ctypes.c_uint64),
        ("resize_refused", ctypes.c_uint64),
        ("failed_nodes", ctypes.c_uint64),
        ("replaced", ctypes.c_uint64),
        ("placed_before_refusal_kib", ctypes.c_uint64),
        ("bound_kib", ctypes.c_uint64),
        ("placed_fraction_of_bound", ctypes.c_double),
        ("max_over_mean", ctypes.c_double),
        ("min_over_mean", ctypes.c_double),
    ]


def _candidates() -> list[Path]:
    found: list[Path] = []
    starts = [Path(__file__).resolve().parent, Path.cwd().resolve()]
    for start in starts:
        for d in [start, *start.parents]:
            builds = [d / "target" / p / _LIB_NAME for p in ("release", "debug")]
            builds = [b for b in builds if b.is_file()]
            if builds:
                builds.sort(key=lambda p: p.stat().st_mtime, reverse=True)
                found.extend(builds)
                break
    return found


def find_library() -> str:
    """The path of the shared library that will be loaded (see the module docstring)."""
    env = os.environ.get("LINSTOR_FFI_LIB")
    if env:
        if not Path(env).is_file():
            raise OSError(f"LINSTOR_FFI_LIB={env!r} does not name a file")
        return env
    cands = _candidates()
    if cands:
        return str(cands[0])
    sys_lib = ctypes.util.find_library("linstor_ffi")
    if sys_lib:
        return sys_lib
    raise OSError(
        "liblinstor_ffi.so not found: run `cargo build -p linstor-ffi` in the linstor-rs "
        "checkout, or set LINSTOR_FFI_LIB to the library's path"
    )


_P = ctypes.c_void_p  # any handle pointer
_PP = ctypes.POINTER(ctypes.c_void_p)  # handle out-parameter / linstor_error **
_S = ctypes.c_char_p  # const char *
_U32 = ctypes.c_uint32
_U64 = ctypes.c_uint64
_RC = ctypes.c_uint32  # linstor_result

# name: (restype, argtypes)
_PROTOTYPES: dict[str, tuple[object, list[object]]] = {
    "linstor_version": (_Str, []),
    "linstor_result_text": (_Str, [_U32]),
    "linstor_error_code": (_RC, [_P]),
    "linstor_error_ret_code": (ctypes.c_int64, [_P]),
    "linstor_error_message": (_Str, [_P]),
    "linstor_error_cause": (_Str, [_P]),
    "linstor_error_correction": (_Str, [_P]),
    "linstor_error_details": (_Str, [_P]),
    "linstor_error_free": (None, [_P]),
    "linstor_string_get": (_Str, [_P]),
    "linstor_string_free": (None, [_P]),
    "linstor_name_check": (_RC, [_U32, _S, _PP]),
    "linstor_size_parse": (_RC, [_S, ctypes.POINTER(_U64), _PP]),
    "linstor_select_filter_new": (_RC, [_PP]),
    "linstor_select_filter_from_json": (_RC, [_S, _PP, _PP]),
    "linstor_select_filter_to_json": (_RC, [_P, _PP, _PP]),
    "linstor_select_filter_free": (None, [_P]),
    "linstor_select_filter_set_place_count": (_RC, [_P, _U32, _PP]),
    "linstor_select_filter_add_replicas_on_same": (_RC, [_P, _S, _PP]),
    "linstor_select_filter_add_replicas_on_different": (_RC, [_P, _S, _PP]),
    "linstor_select_filter_add_storage_pool": (_RC, [_P, _S, _PP]),
    "linstor_select_filter_add_node": (_RC, [_P, _S, _PP]),
    "linstor_select_filter_set_diskless_on_remaining": (_RC, [_P, ctypes.c_bool, _PP]),
    "linstor_placement_resource": (_Str, [_P]),
    "linstor_placement_len": (ctypes.c_size_t, [_P]),
    "linstor_placement_diskful_count": (ctypes.c_size_t, [_P]),
    "linstor_placement_get": (_RC, [_P, ctypes.c_size_t, ctypes.POINTER(_Replica)]),
    "linstor_placement_free": (None, [_P]),
    "linstor_cluster_new": (_RC, [_U64, _PP]),
    "linstor_cluster_free": (None, [_P]),
    "linstor_cluster_from_json": (_RC, [_S, _U64, _PP, _PP]),
    "linstor_cluster_to_json": (_RC, [_P, _PP, _PP]),
    "linstor_cluster_execute_json": (_RC, [_P, _S, _PP, _PP]),
    "linstor_cluster_node_create": (_RC, [_P, _S, _U32, _S, _PP]),
    "linstor_cluster_node_set_online": (_RC, [_P, _S, ctypes.c_bool, _PP]),
    "linstor_cluster_node_set_label": (_RC, [_P, _S, _S, _S, _PP]),
    "linstor_cluster_node_delete": (_RC, [_P, _S, _PP]),
    "linstor_cluster_node_lost": (_RC, [_P, _S, _PP]),
    "linstor_cluster_storage_pool_create": (_RC, [_P, _S, _S, _U32, _S, _U64, _PP]),
    "linstor_cluster_storage_pool_set_capacity": (_RC, [_P, _S, _S, _U64, _U64, _PP]),
    "linstor_cluster_resource_group_create": (_RC, [_P, _S, _P, _PP]),
    "linstor_cluster_resource_group_set_filter": (_RC, [_P, _S, _P, _PP]),
    "linstor_cluster_resource_group_delete": (_RC, [_P, _S, _PP]),
    "linstor_cluster_volume_group_create": (_RC, [_P, _S, ctypes.POINTER(ctypes.c_uint16), _PP]),
    "linstor_cluster_spawn": (
        _RC,
        [_P, _S, _S, ctypes.POINTER(_U64), ctypes.c_size_t, _P, _PP, _PP],
    ),
    "linstor_cluster_resource_placement": (_RC, [_P, _S, _PP, _PP]),
    "linstor_cluster_autoplace": (_RC, [_P, _S, _P, _PP, _PP]),
    "linstor_cluster_resource_delete": (_RC, [_P, _S, _PP]),
    "linstor_cluster_plan_placement": (_RC, [_P, _S, _S, _U64, _P, _PP, _PP]),
    "linstor_cluster_quorum": (_RC, [_P, _S, _PP, _PP]),
    "linstor_quorum_value": (_Str, [_P]),
    "linstor_quorum_set_by_user": (ctypes.c_bool, [_P]),
    "linstor_quorum_get_counts": (_QuorumCounts, [_P]),
    "linstor_quorum_tiebreaker": (_U32, [_P]),
    "linstor_quorum_tiebreaker_node": (_Str, [_P]),
    "linstor_quorum_tiebreaker_explanation": (_Str, [_P]),
    "linstor_quorum_free": (None, [_P]),
    "linstor_sim_cluster_default": (_RC, [ctypes.POINTER(_SimCluster)]),
    "linstor_sim_workload_default": (_RC, [ctypes.POINTER(_SimWorkload)]),
    "linstor_sim_run": (
        _RC,
        [ctypes.POINTER(_SimCluster), ctypes.POINTER(_SimWorkload), _U64, ctypes.POINTER(_SimReport), _PP],
    ),
    "linstor_cluster_simulate": (
        _RC,
        [_P, ctypes.POINTER(_SimWorkload), _U64, ctypes.POINTER(_SimReport), _PP],
    ),
    "linstor_cluster_partition_may_write": (
        _RC,
        [_P, _S, ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t, ctypes.POINTER(ctypes.c_bool), _PP],
    ),
}

_lib: Optional[ctypes.CDLL] = None


def lib() -> ctypes.CDLL:
    """The loaded library, with every prototype declared (loaded on first use)."""
    global _lib
    if _lib is None:
        loaded = ctypes.CDLL(find_library())
        for name, (restype, argtypes) in _PROTOTYPES.items():
            fn = getattr(loaded, name)
            fn.restype = restype
            fn.argtypes = argtypes
        _lib = loaded
    return _lib


def cstr(value: "str | bytes", what: str) -> bytes:
    """Encodes a text argument. ``bytes`` pass through unchanged (so the library can reject
    invalid UTF-8 itself); an interior NUL cannot cross the C boundary and is refused here."""
    raw = value if isinstance(value, bytes) else value.encode("utf-8", errors="surrogateescape")
    if b"\0" in raw:
        raise errors.InvalidArgumentError(
            errors.Result.INVALID_ARGUMENT,
            f"Argument '{what}' contains a NUL character",
            correction="Remove the NUL character.",
        )
    return raw


def opt_cstr(value: "str | bytes | None", what: str) -> Optional[bytes]:
    """As :func:`cstr`, with ``None`` passed as NULL."""
    return None if value is None else cstr(value, what)


def uint(name: str, value: object, bits: int, correction: str) -> int:
    """``value`` as an unsigned integer of ``bits`` bits, or an
    :class:`~linstor_rs.errors.InvalidArgumentError` that names ``name``, the value and the
    fix (ctypes would wrap -1 to 4294967295 silently)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise errors.from_parts(
            errors.Result.INVALID_ARGUMENT,
            f"{name} = {value!r} is not a whole number",
            cause=f"{name} takes a whole number from 0 to {2**bits - 1}.",
            correction=correction,
        )
    if value < 0 or value >= 2**bits:
        what = "negative" if value < 0 else "too large"
        raise errors.from_parts(
            errors.Result.INVALID_ARGUMENT,
            f"{name} = {value} is {what}",
            cause=f"{name} takes a whole number from 0 to {2**bits - 1}.",
            correction=correction,
        )
    return value


_UNSIGNED_BITS = {_U32: 32, _U64: 64}


def _check_unsigned(fn_name: str, args: tuple[object, ...]) -> None:
    """The backstop for call sites without a named check: no integer is wrapped by ctypes."""
    for i, (arg, ty) in enumerate(zip(args, _PROTOTYPES[fn_name][1])):
        bits = _UNSIGNED_BITS.get(ty)
        if bits is not None and isinstance(arg, int) and not isinstance(arg, bool):
            uint(f"argument {i + 1} of {fn_name}", arg, bits, "Pass a value in that range.")


def call(fn_name: str, *args: object) -> None:
    """Calls a fallible function whose last parameter is ``linstor_error **`` and raises the
    matching :class:`~linstor_rs.errors.LinstorError` subclass on failure."""
    _check_unsigned(fn_name, args)
    err = ctypes.c_void_p()
    rc = getattr(lib(), fn_name)(*args, ctypes.byref(err))
    if rc != 0:
        raise take_error(rc, err)


def call_noerr(fn_name: str, *args: object) -> None:
    """Calls a fallible function without an error out-parameter."""
    rc = getattr(lib(), fn_name)(*args)
    if rc != 0:
        raise errors.from_parts(rc, lib().linstor_result_text(rc).get() or "error")


def take_error(rc: int, err: ctypes.c_void_p) -> errors.LinstorError:
    """Turns (and frees) a ``linstor_error`` into an exception."""
    L = lib()
    try:
        if not err:
            return errors.from_parts(rc, L.linstor_result_text(rc).get() or "error")
        return errors.from_parts(
            L.linstor_error_code(err),
            L.linstor_error_message(err).get() or "",
            cause=L.linstor_error_cause(err).get(),
            correction=L.linstor_error_correction(err).get(),
            details=L.linstor_error_details(err).get(),
            ret_code=L.linstor_error_ret_code(err),
        )
    finally:
        L.linstor_error_free(err)


def take_string(handle: ctypes.c_void_p) -> str:
    """Reads (and frees) a ``linstor_string``."""
    L = lib()
    try:
        return L.linstor_string_get(handle).get() or ""
    finally:
        L.linstor_string_free(handle)
