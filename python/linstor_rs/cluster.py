"""Pythonic classes over the C API: :class:`Cluster`, :class:`SelectFilter`, :class:`Placement`."""

from __future__ import annotations

import ctypes
import enum
import json
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Optional, Sequence, Union

from . import _ffi, errors
from .errors import NotFoundError, Result

Size = Union[int, str]
"""A size: an ``int`` is KiB; a ``str`` is parsed as the LINSTOR client does ("50G", "1TiB";
a bare number is GiB)."""


class NodeType(enum.IntEnum):
    """``linstor_node_type``."""

    SATELLITE = 0
    COMBINED = 1
    CONTROLLER = 2
    AUXILIARY = 3


class Provider(enum.IntEnum):
    """``linstor_provider_kind``: storage pool drivers."""

    DISKLESS = 0
    LVM = 1
    LVM_THIN = 2
    ZFS = 3
    ZFS_THIN = 4
    FILE = 5
    FILE_THIN = 6


class NameKind(enum.IntEnum):
    """``linstor_name_kind``: which naming rules apply."""

    NODE = 0
    RESOURCE = 1
    RESOURCE_GROUP = 2
    STORAGE_POOL = 3
    SNAPSHOT = 4
    NET_INTERFACE = 5
    KEY_VALUE_STORE = 6


def version() -> str:
    """The version of the loaded C library."""
    return _ffi.lib().linstor_version().get() or ""


def check_name(kind: NameKind, name: "str | bytes") -> None:
    """Checks ``name`` against LINSTOR's rules for ``kind``.

    Raises:
        InvalidNameError: with the broken rule as ``cause``.
    """
    _ffi.call("linstor_name_check", int(kind), _ffi.cstr(name, "name"))


def parse_size(text: str) -> int:
    """Parses a size as the LINSTOR client does ("50G", "1.5TiB"; a bare number is GiB) into
    KiB.

    Raises:
        InvalidArgumentError: if ``text`` is not a size.
    """
    out = ctypes.c_uint64()
    _ffi.call("linstor_size_parse", _ffi.cstr(text, "text"), ctypes.byref(out))
    return out.value


def _kib(size: Size) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, str)):
        raise TypeError(f"a size is an int (KiB) or a str such as '50G', not {size!r}")
    if isinstance(size, str):
        return parse_size(size)
    return _ffi.uint(
        "size (KiB)",
        size,
        64,
        "Give a size in KiB from 0 to 2**64 - 1, or a string such as '50G'.",
    )


@dataclass
class SelectFilter:
    """The autoplacer's select filter. ``None`` / empty fields are unset and fall back to the
    resource group's filter.

    Attributes:
        place_count: diskful replicas wanted (1–32).
        replicas_on_same: node property keys (``"Aux/site"`` or ``"Aux/site=eu"``) all
            replicas must share.
        replicas_on_different: node property keys (``"Aux/zone"``) replicas spread over.
        storage_pools: allowed storage pools.
        nodes: allowed nodes.
        diskless_on_remaining: add a diskless peer on every other node.
        extra: further fields in LINSTOR's REST ``AutoSelectFilter`` JSON form
            (``{"provider_list": ["LVM_THIN"], "x_replicas_on_different_map": {...}}``).
    """

    place_count: Optional[int] = None
    replicas_on_same: list[str] = field(default_factory=list)
    replicas_on_different: list[str] = field(default_factory=list)
    storage_pools: list[str] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)
    diskless_on_remaining: Optional[bool] = None
    extra: dict[str, Any] = field(default_factory=dict)

    def _handle(self) -> "_FilterHandle":
        h = _FilterHandle(self.extra)
        try:
            p = h.ptr
            if self.place_count is not None:
                count = _ffi.uint(
                    "place_count", self.place_count, 32, "Use a place count from 1 to 32."
                )
                _ffi.call("linstor_select_filter_set_place_count", p, count)
            for k in self.replicas_on_same:
                _ffi.call("linstor_select_filter_add_replicas_on_same", p, _ffi.cstr(k, "key"))
            for k in self.replicas_on_different:
                _ffi.call(
                    "linstor_select_filter_add_replicas_on_different", p, _ffi.cstr(k, "key")
                )
            for sp in self.storage_pools:
                _ffi.call("linstor_select_filter_add_storage_pool", p, _ffi.cstr(sp, "pool"))
            for n in self.nodes:
                _ffi.call("linstor_select_filter_add_node", p, _ffi.cstr(n, "node"))
            if self.diskless_on_remaining is not None:
                _ffi.call(
                    "linstor_select_filter_set_diskless_on_remaining",
                    p,
                    self.diskless_on_remaining,
                )
        except BaseException:
            h.close()
            raise
        return h

    def to_json(self) -> str:
        """The filter in LINSTOR's REST JSON form, as the library sees it (validated)."""
        with self._handle() as h:
            out = ctypes.c_void_p()
            _ffi.call("linstor_select_filter_to_json", h.ptr, ctypes.byref(out))
            return _ffi.take_string(out)


class _FilterHandle:
    """Owns one ``linstor_select_filter``."""

    def __init__(self, extra: Mapping[str, Any]) -> None:
        self.ptr = ctypes.c_void_p()
        _ffi.call(
            "linstor_select_filter_from_json",
            _ffi.cstr(json.dumps(dict(extra)), "json"),
            ctypes.byref(self.ptr),
        )

    def close(self) -> None:
        if self.ptr:
            _ffi.lib().linstor_select_filter_free(self.ptr)
            self.ptr = ctypes.c_void_p()

    def __enter__(self) -> "_FilterHandle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Strategy(enum.IntEnum):
    """``linstor_strategy``: how the autoplacer scores candidates."""

    BALANCED = 0
    LINSTOR = 1


@dataclass
class SimCluster:
    """A generated cluster for :func:`simulate`. ``None`` fields take the library's default
    (12 nodes in 3 zones, one 1024 GiB thick pool each). Nodes are ``node00000…``, labelled
    ``Aux/zone`` = ``z0…`` and ``Aux/rack``."""

    nodes: Optional[int] = None
    pools_per_node: Optional[int] = None
    pool_gib: Optional[int] = None
    pool_size_max_factor: Optional[int] = None
    zones: Optional[int] = None
    racks_per_zone: Optional[int] = None
    thin: Optional[bool] = None

    def _struct(self) -> "_ffi._SimCluster":
        s = _ffi._SimCluster()
        _ffi.call_noerr("linstor_sim_cluster_default", ctypes.byref(s))
        _override(s, self)
        return s


@dataclass
class SimWorkload:
    """A workload for :func:`simulate` / :meth:`Cluster.simulate`. ``None`` fields take the
    library's default: 50 GiB resources with 3 replicas spread over zones, spawned until the
    first refusal (at most 10000), balanced strategy, fresh free-space reports."""

    ops: Optional[int] = None
    stop_at_first_refusal: Optional[bool] = None
    replicas: Optional[int] = None
    size_min_gib: Optional[int] = None
    size_max_gib: Optional[int] = None
    delete_percent: Optional[int] = None
    resize_percent: Optional[int] = None
    fail_every: Optional[int] = None
    zone_spread: Optional[bool] = None
    report_every: Optional[int] = None
    strategy: Optional[Strategy] = None

    def _struct(self) -> "_ffi._SimWorkload":
        s = _ffi._SimWorkload()
        _ffi.call_noerr("linstor_sim_workload_default", ctypes.byref(s))
        _override(s, self)
        return s


def _override(struct: ctypes.Structure, values: object) -> None:
    """Copies the set fields of ``values`` into ``struct``, each checked against its C type
    (ctypes would wrap -1 or truncate a too-large number silently)."""
    for name, ctype in struct._fields_:
        v = getattr(values, name)
        if v is None:
            continue
        if ctype is ctypes.c_bool:
            if not isinstance(v, bool):
                raise errors.from_parts(
                    Result.INVALID_ARGUMENT,
                    f"{name} = {v!r} is not a boolean",
                    correction=f"Give {name} True or False.",
                )
        else:
            v = _ffi.uint(name, v, ctypes.sizeof(ctype) * 8, f"Give {name} a value in that range.")
        setattr(struct, name, v)


@dataclass(frozen=True)
class SimReport:
    """The figures of a simulation run.

    Attributes:
        placements, refusals, spawned, deleted, resized, resize_refused, failed_nodes,
            replaced: counts.
        placed_before_refusal_kib: data (one copy) placed before the first refusal.
        bound_kib: upper bound of the data (one copy) the cluster can hold with this spread.
        placed_fraction_of_bound: their ratio (1.0 = perfect packing).
        max_over_mean, min_over_mean: fullest / emptiest pool fill over the mean fill.
    """

    placements: int
    refusals: int
    spawned: int
    deleted: int
    resized: int
    resize_refused: int
    failed_nodes: int
    replaced: int
    placed_before_refusal_kib: int
    bound_kib: int
    placed_fraction_of_bound: float
    max_over_mean: float
    min_over_mean: float

    @staticmethod
    def _from(r: "_ffi._SimReport") -> "SimReport":
        return SimReport(**{f[0]: getattr(r, f[0]) for f in r._fields_})


def simulate(
    cluster: Optional[SimCluster] = None,
    workload: Optional[SimWorkload] = None,
    seed: int = 0,
) -> SimReport:
    """Generates a cluster, replays a workload with the autoplacer, and returns the figures.
    Deterministic for a given seed.

    Raises:
        InvalidArgumentError: a parameter out of range (the message names it).
    """
    c = (cluster or SimCluster())._struct()
    w = (workload or SimWorkload())._struct()
    out = _ffi._SimReport()
    _ffi.call("linstor_sim_run", ctypes.byref(c), ctypes.byref(w), seed, ctypes.byref(out))
    return SimReport._from(out)


class TiebreakerAction(enum.IntEnum):
    """``linstor_tiebreaker_action``: what the auto tiebreaker would do."""

    NONE = 0
    CREATE = 1
    TAKEOVER = 2
    REMOVE = 3
    CANNOT_PLACE = 4


@dataclass(frozen=True)
class QuorumDecision:
    """The quorum and tiebreaker decision LINSTOR's controller would take for a resource.

    Attributes:
        value: the effective DRBD ``quorum`` value (``"majority"``, ``"off"`` or a user value).
        set_by_user: True if a user set it, False if the auto-quorum rule decided.
        diskful, diskless, tiebreakers: the replica counts the rule used.
        tiebreaker: what the auto tiebreaker would do.
        tiebreaker_node: the node it would act on, if any.
        tiebreaker_explanation: why a needed tiebreaker cannot be placed, if so.
    """

    value: str
    set_by_user: bool
    diskful: int
    diskless: int
    tiebreakers: int
    tiebreaker: TiebreakerAction
    tiebreaker_node: Optional[str]
    tiebreaker_explanation: Optional[str]


@dataclass(frozen=True)
class Replica:
    """One replica of a resource."""

    node: str
    storage_pool: str
    diskless: bool
    tie_breaker: bool


@dataclass(frozen=True)
class Placement:
    """Where the replicas of ``resource`` are (a snapshot taken when it was read)."""

    resource: str
    replicas: tuple[Replica, ...]

    @property
    def diskful(self) -> list[Replica]:
        """The replicas with storage."""
        return [r for r in self.replicas if not r.diskless]

    @property
    def nodes(self) -> list[str]:
        """The nodes of all replicas."""
        return [r.node for r in self.replicas]

    def __len__(self) -> int:
        return len(self.replicas)

    def __iter__(self) -> Iterator[Replica]:
        return iter(self.replicas)

    @staticmethod
    def _take(handle: ctypes.c_void_p) -> "Placement":
        L = _ffi.lib()
        try:
            reps = []
            for i in range(L.linstor_placement_len(handle)):
                r = _ffi._Replica()
                _ffi.call_noerr("linstor_placement_get", handle, i, ctypes.byref(r))
                reps.append(
                    Replica(
                        node=r.node.get() or "",
                        storage_pool=r.storage_pool.get() or "",
                        diskless=bool(r.diskless),
                        tie_breaker=bool(r.tie_breaker),
                    )
                )
            return Placement(L.linstor_placement_resource(handle).get() or "", tuple(reps))
        finally:
            L.linstor_placement_free(handle)


class Cluster:
    """A LINSTOR cluster model: nodes, storage pools, resource groups, resources.

    The model is deterministic: UUIDs, DRBD secrets and timestamps derive from ``seed``.
    A ``Cluster`` may be used from several threads (the library serialises calls), but must
    not be closed while another thread still uses it. Close it with :meth:`close` or a
    ``with`` block; it is also freed when garbage-collected.

    Every method raises a :class:`~linstor_rs.errors.LinstorError` subclass on failure, with
    the cause and correction LINSTOR would give.
    """

    def __init__(self, seed: int = 0, *, _ptr: Optional[ctypes.c_void_p] = None) -> None:
        if _ptr is not None:
            self._ptr = _ptr
            return
        self._ptr = ctypes.c_void_p()
        _ffi.call_noerr("linstor_cluster_new", seed, ctypes.byref(self._ptr))

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Frees the cluster; further calls raise ``NullParameterError``."""
        ptr = getattr(self, "_ptr", None)
        if ptr:
            _ffi.lib().linstor_cluster_free(ptr)
            self._ptr = ctypes.c_void_p()

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    # -- JSON -----------------------------------------------------------------------------

    @classmethod
    def from_json(cls, text: "str | bytes", seed: int = 0) -> "Cluster":
        """Loads a state written by :meth:`to_json`.

        Raises:
            InvalidJsonError: not JSON, or not a cluster state.
            InvalidStateError: a cluster state that is inconsistent.
        """
        ptr = ctypes.c_void_p()
        _ffi.call("linstor_cluster_from_json", _ffi.cstr(text, "json"), seed, ctypes.byref(ptr))
        return cls(_ptr=ptr)

    def to_json(self) -> str:
        """The whole state as deterministic JSON."""
        out = ctypes.c_void_p()
        _ffi.call("linstor_cluster_to_json", self._ptr, ctypes.byref(out))
        return _ffi.take_string(out)

    def execute(self, command: Mapping[str, Any]) -> dict[str, Any]:
        """Executes one command in the core's JSON form, e.g.
        ``{"cmd": "ctrl_props_modify", "props": {"override_props": {...}}}``, and returns
        ``{"entries": [...LINSTOR ApiCallRc entries...], "changes": {...}}``."""
        out = ctypes.c_void_p()
        _ffi.call(
            "linstor_cluster_execute_json",
            self._ptr,
            _ffi.cstr(json.dumps(dict(command)), "command"),
            ctypes.byref(out),
        )
        result: dict[str, Any] = json.loads(_ffi.take_string(out))
        return result

    # -- nodes ----------------------------------------------------------------------------

    def add_node(
        self,
        name: "str | bytes",
        *,
        labels: Optional[Mapping[str, str]] = None,
        address: Optional[str] = None,
        node_type: NodeType = NodeType.SATELLITE,
        online: bool = True,
    ) -> None:
        """Registers a node, sets its ``Aux/<key>`` labels and (by default) reports it online.

        ``address`` defaults to a made-up unique address in 10.0.0.0/8.
        """
        n = _ffi.cstr(name, "name")
        _ffi.call(
            "linstor_cluster_node_create",
            self._ptr,
            n,
            int(node_type),
            _ffi.opt_cstr(address, "address"),
        )
        for k, v in (labels or {}).items():
            self.set_label(name, k, v)
        if online:
            self.set_online(name, True)

    def set_online(self, name: "str | bytes", online: bool = True) -> None:
        """Reports a node ONLINE (with every provider and layer) or OFFLINE."""
        _ffi.call("linstor_cluster_node_set_online", self._ptr, _ffi.cstr(name, "name"), online)

    def set_label(self, node: "str | bytes", key: str, value: Optional[str]) -> None:
        """Sets the node property ``Aux/<key>`` (``key`` may include the ``Aux/`` prefix);
        ``value=None`` removes it."""
        _ffi.call(
            "linstor_cluster_node_set_label",
            self._ptr,
            _ffi.cstr(node, "node"),
            _ffi.cstr(key, "key"),
            _ffi.opt_cstr(value, "value"),
        )

    def delete_node(self, name: str) -> None:
        """Deletes a node that holds nothing."""
        _ffi.call("linstor_cluster_node_delete", self._ptr, _ffi.cstr(name, "name"))

    def lose_node(self, name: str) -> None:
        """Declares a node lost: it disappears with everything on it (a failed node)."""
        _ffi.call("linstor_cluster_node_lost", self._ptr, _ffi.cstr(name, "name"))

    # -- storage pools --------------------------------------------------------------------

    def add_storage_pool(
        self,
        node: str,
        pool: str,
        provider: Provider = Provider.LVM_THIN,
        *,
        capacity: Size = 0,
        backing: Optional[str] = None,
    ) -> None:
        """Creates a storage pool; a non-zero ``capacity`` is reported as free of total."""
        _ffi.call(
            "linstor_cluster_storage_pool_create",
            self._ptr,
            _ffi.cstr(node, "node"),
            _ffi.cstr(pool, "pool"),
            int(provider),
            _ffi.opt_cstr(backing, "backing"),
            _kib(capacity),
        )

    def set_capacity(self, node: str, pool: str, free: Size, total: Size) -> None:
        """Reports a pool's free and total capacity."""
        _ffi.call(
            "linstor_cluster_storage_pool_set_capacity",
            self._ptr,
            _ffi.cstr(node, "node"),
            _ffi.cstr(pool, "pool"),
            _kib(free),
            _kib(total),
        )

    # -- groups ---------------------------------------------------------------------------

    def create_resource_group(
        self,
        name: str,
        select_filter: Optional[SelectFilter] = None,
        *,
        volume_groups: int = 1,
    ) -> None:
        """Creates a resource group with ``select_filter`` and ``volume_groups`` volume
        groups (one volume each when spawning)."""
        if select_filter is None:
            _ffi.call(
                "linstor_cluster_resource_group_create", self._ptr, _ffi.cstr(name, "name"), None
            )
        else:
            with select_filter._handle() as h:
                _ffi.call(
                    "linstor_cluster_resource_group_create",
                    self._ptr,
                    _ffi.cstr(name, "name"),
                    h.ptr,
                )
        for _ in range(volume_groups):
            self.add_volume_group(name)

    def set_resource_group_filter(self, name: str, select_filter: SelectFilter) -> None:
        """Replaces a resource group's select filter."""
        with select_filter._handle() as h:
            _ffi.call(
                "linstor_cluster_resource_group_set_filter",
                self._ptr,
                _ffi.cstr(name, "name"),
                h.ptr,
            )

    def delete_resource_group(self, name: str) -> None:
        """Deletes an unused resource group."""
        _ffi.call("linstor_cluster_resource_group_delete", self._ptr, _ffi.cstr(name, "name"))

    def add_volume_group(self, resource_group: str) -> int:
        """Adds a volume group; returns its number."""
        nr = ctypes.c_uint16()
        _ffi.call(
            "linstor_cluster_volume_group_create",
            self._ptr,
            _ffi.cstr(resource_group, "resource_group"),
            ctypes.byref(nr),
        )
        return nr.value

    # -- resources ------------------------------------------------------------------------

    def spawn(
        self,
        resource_group: str,
        name: "str | bytes",
        sizes: Sequence[Size],
        select_filter: Optional[SelectFilter] = None,
    ) -> Placement:
        """Spawns a resource (one volume per size) and autoplaces it.

        Raises:
            PlacementRefusedError: no valid placement; ``cause`` says which filters eliminated
                which candidates, ``correction`` what to change. Nothing was created.
        """
        arr = (ctypes.c_uint64 * max(len(sizes), 1))(*[_kib(s) for s in sizes])
        out = ctypes.c_void_p()
        args = [
            self._ptr,
            _ffi.cstr(resource_group, "resource_group"),
            _ffi.cstr(name, "name"),
            arr,
            len(sizes),
        ]
        if select_filter is None:
            _ffi.call("linstor_cluster_spawn", *args, None, ctypes.byref(out))
        else:
            with select_filter._handle() as h:
                _ffi.call("linstor_cluster_spawn", *args, h.ptr, ctypes.byref(out))
        return Placement._take(out)

    def autoplace(self, name: str, select_filter: Optional[SelectFilter] = None) -> Placement:
        """Autoplaces more replicas of resource ``name`` (``select_filter`` over its group's
        filter, e.g. a higher ``place_count``); returns where all replicas now are.

        Raises:
            PlacementRefusedError: no valid placement (nothing changed); ``cause`` and
                ``correction`` explain.
        """
        out = ctypes.c_void_p()
        n = _ffi.cstr(name, "name")
        if select_filter is None:
            _ffi.call("linstor_cluster_autoplace", self._ptr, n, None, ctypes.byref(out))
        else:
            with select_filter._handle() as h:
                _ffi.call("linstor_cluster_autoplace", self._ptr, n, h.ptr, ctypes.byref(out))
        return Placement._take(out)

    def placement(self, name: str) -> Placement:
        """Where the replicas of resource ``name`` are.

        Raises:
            NotFoundError: no such resource.
        """
        out = ctypes.c_void_p()
        _ffi.call(
            "linstor_cluster_resource_placement",
            self._ptr,
            _ffi.cstr(name, "name"),
            ctypes.byref(out),
        )
        return Placement._take(out)

    def has_resource(self, name: str) -> bool:
        """True if resource ``name`` exists."""
        try:
            self.placement(name)
        except NotFoundError:
            return False
        return True

    def delete_resource(self, name: str) -> None:
        """Deletes a resource with all its replicas at once."""
        _ffi.call("linstor_cluster_resource_delete", self._ptr, _ffi.cstr(name, "name"))

    # -- maintenance ----------------------------------------------------------------------
    # Thin wrappers over ``execute``: the commands' entries come back as dicts; warnings name
    # what was left as it was, and why.

    def adjust_group(
        self, name: Optional[str] = None, select_filter: Optional[SelectFilter] = None
    ) -> list[dict[str, Any]]:
        """Resource-group adjust (``name=None``: every group): each resource definition gets
        the replicas it lacks; one that cannot be placed is left as it was, with a warning."""
        cmd: dict[str, Any] = {"cmd": "rsc_grp_adjust", "name": name}
        if select_filter is not None:
            cmd["select_filter"] = json.loads(select_filter.to_json())
        return list(self.execute(cmd)["entries"])

    def evacuate_node(
        self, name: str, *, target: Sequence[str] = (), do_not_target: Sequence[str] = ()
    ) -> None:
        """Places a replacement for every diskful replica on ``name`` (all or nothing: raises
        ``PlacementRefusedError`` naming the resource that has no place). The originals go
        once the replacements are in sync (see ``balance``)."""
        self.execute(
            {
                "cmd": "node_evacuate",
                "name": name,
                "target": list(target),
                "do_not_target": list(do_not_target),
            }
        )

    def evict_node(self, name: str) -> None:
        """Evicts an offline node: its resources stop counting and get replacements."""
        self.execute({"cmd": "node_evict", "name": name})

    def restore_node(self, name: str, *, delete_resources: bool = False) -> None:
        """Cancels an evacuation, or un-evicts (evicted resources reactivated, or deleted)."""
        self.execute(
            {"cmd": "node_restore", "name": name, "delete_resources": delete_resources}
        )

    def report_resource(
        self,
        node: str,
        resource: str,
        *,
        in_use: bool = False,
        up_to_date: bool = True,
        established: bool = True,
    ) -> None:
        """What ``node``'s satellite sees of ``resource`` (DRBD role and sync state)."""
        self.execute(
            {
                "cmd": "report_resource",
                "node": node,
                "rsc_dfn": resource,
                "state": {"in_use": in_use, "up_to_date": up_to_date, "established": established},
            }
        )

    def balance(self, resource: Optional[str] = None) -> list[dict[str, Any]]:
        """The balance task (``resource=None``: every definition): adds missing replicas,
        removes surplus and evacuated ones once every replica reports UpToDate and
        Established."""
        return list(self.execute({"cmd": "balance_resources", "rsc_dfn": resource})["entries"])

    # -- planning, quorum -----------------------------------------------------------------

    def plan(
        self,
        name: str,
        size: Size,
        select_filter: Optional[SelectFilter] = None,
        *,
        resource_group: Optional[str] = None,
    ) -> Placement:
        """Where the autoplacer would put a resource ``name`` of ``size`` (all volumes) spawned
        from ``resource_group`` (default ``DfltRscGrp``) with ``select_filter`` over the
        group's filter. Changes nothing. Returns the new replicas only.

        Raises:
            PlacementRefusedError: with the explanation (cause, correction, details).
        """
        out = ctypes.c_void_p()
        args = [
            self._ptr,
            _ffi.opt_cstr(resource_group, "resource_group"),
            _ffi.cstr(name, "name"),
            _kib(size),
        ]
        if select_filter is None:
            _ffi.call("linstor_cluster_plan_placement", *args, None, ctypes.byref(out))
        else:
            with select_filter._handle() as h:
                _ffi.call("linstor_cluster_plan_placement", *args, h.ptr, ctypes.byref(out))
        return Placement._take(out)

    def quorum(self, name: str) -> QuorumDecision:
        """The quorum and tiebreaker decision for resource ``name``."""
        L = _ffi.lib()
        out = ctypes.c_void_p()
        _ffi.call("linstor_cluster_quorum", self._ptr, _ffi.cstr(name, "name"), ctypes.byref(out))
        try:
            n = L.linstor_quorum_get_counts(out)
            return QuorumDecision(
                value=L.linstor_quorum_value(out).get() or "",
                set_by_user=bool(L.linstor_quorum_set_by_user(out)),
                diskful=n.diskful,
                diskless=n.diskless,
                tiebreakers=n.tiebreakers,
                tiebreaker=TiebreakerAction(L.linstor_quorum_tiebreaker(out)),
                tiebreaker_node=L.linstor_quorum_tiebreaker_node(out).get(),
                tiebreaker_explanation=L.linstor_quorum_tiebreaker_explanation(out).get(),
            )
        finally:
            L.linstor_quorum_free(out)

    def may_write(self, name: str, side: Sequence[str]) -> bool:
        """True if the nodes ``side`` (one side of a partition, e.g. every node outside a
        failed zone) may write to resource ``name`` under its quorum policy."""
        encoded = [_ffi.cstr(n, "node") for n in side]
        arr = (ctypes.c_char_p * max(len(encoded), 1))(*encoded)
        out = ctypes.c_bool()
        _ffi.call(
            "linstor_cluster_partition_may_write",
            self._ptr,
            _ffi.cstr(name, "name"),
            arr,
            len(encoded),
            ctypes.byref(out),
        )
        return bool(out.value)

    def simulate(self, workload: Optional[SimWorkload] = None, seed: int = 0) -> SimReport:
        """Replays ``workload`` on a copy of this model (which does not change)."""
        w = (workload or SimWorkload())._struct()
        out = _ffi._SimReport()
        _ffi.call("linstor_cluster_simulate", self._ptr, ctypes.byref(w), seed, ctypes.byref(out))
        return SimReport._from(out)
