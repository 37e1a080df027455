"""linstor_rs: Python bindings over ``liblinstor_ffi``, the C ABI of linstor-rs.

A LINSTOR-compatible cluster model with its autoplacer, usable for capacity planning and
what-if analysis::

    from linstor_rs import Cluster, SelectFilter, Provider, PlacementRefusedError

    with Cluster(seed=1) as c:
        for i, zone in enumerate("abc"):
            c.add_node(f"node-{zone}", labels={"zone": zone})
            c.add_storage_pool(f"node-{zone}", "pool_ssd", Provider.LVM, capacity="1T")
        c.create_resource_group("rg", SelectFilter(place_count=3,
                                                   replicas_on_different=["Aux/zone"]))
        placement = c.spawn("rg", "vol_1", ["50G"])

The shared library is found through ``LINSTOR_FFI_LIB`` or a ``target/{release,debug}`` build
of the checkout (see :mod:`linstor_rs._ffi`). Pure Python (ctypes); no compiled extension.
"""

from .cluster import (
    Cluster,
    NameKind,
    NodeType,
    Placement,
    Provider,
    QuorumDecision,
    Replica,
    SelectFilter,
    SimCluster,
    SimReport,
    SimWorkload,
    Size,
    Strategy,
    TiebreakerAction,
    check_name,
    parse_size,
    simulate,
    version,
)
from .errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    InvalidJsonError,
    InvalidNameError,
    InvalidStateError,
    InvalidUtf8Error,
    LibraryPanicError,
    LinstorError,
    NotFoundError,
    NullParameterError,
    OutOfRangeError,
    PlacementRefusedError,
    RefusedError,
    Result,
)

__all__ = [
    "AlreadyExistsError",
    "Cluster",
    "InvalidArgumentError",
    "InvalidJsonError",
    "InvalidNameError",
    "InvalidStateError",
    "InvalidUtf8Error",
    "LibraryPanicError",
    "LinstorError",
    "NameKind",
    "NodeType",
    "NotFoundError",
    "NullParameterError",
    "OutOfRangeError",
    "Placement",
    "PlacementRefusedError",
    "Provider",
    "QuorumDecision",
    "RefusedError",
    "Replica",
    "Result",
    "SelectFilter",
    "SimCluster",
    "SimReport",
    "SimWorkload",
    "Size",
    "Strategy",
    "TiebreakerAction",
    "check_name",
    "parse_size",
    "simulate",
    "version",
]
