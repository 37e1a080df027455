"""Every bad input a new user tried is refused with the field, the value and the fix, and
leaves the state byte-identical."""

from __future__ import annotations

from typing import Any, Callable

import pytest

import linstor_rs as L


def _refused(cluster: L.Cluster, action: Callable[[], Any], error: type, *words: str) -> L.LinstorError:
    before = cluster.to_json()
    with pytest.raises(error) as info:
        action()
    text = str(info.value)
    for w in words:
        assert w in text, f"{w!r} not in {text!r}"
    assert info.value.correction, text
    assert cluster.to_json() == before, "a refused input changed the state"
    return info.value


@pytest.mark.parametrize(
    "command, words",
    [
        (
            {"cmd": "rsc_grp_create", "name": "rg1", "select_filter": {"plac_count": 3}},
            ["select_filter.plac_count", "Did you mean 'place_count'?"],
        ),
        (
            {"cmd": "rsc_create", "rsc_dfn": "vol_x", "node": "node-a1", "storage_pol": "pool_ssd"},
            ["storage_pol", "Did you mean 'storage_pool'?"],
        ),
        (
            {"cmd": "rsc_grp_create", "name": "rg1", "select_filter": {"place_count": -1}},
            ["select_filter.place_count", "-1 is negative"],
        ),
        (
            {"cmd": "spawn", "rsc_grp": "DfltRscGrp", "rsc_dfn": "vol_x", "volume_sizes": [2**64]},
            ["volume_sizes[0]", "18446744073709551616 is too large"],
        ),
        (
            {"cmd": "ctrl_props_modify", "props": {"override_props": {"DrbdOptions/Net/protocol": "Z"}}},
            ["DrbdOptions/Net/protocol", "'Z'", "A, B, C"],
        ),
        (
            {"cmd": "ctrl_props_modify", "props": {"override_props": {"DrbdOptions/Net/nonsense": "1"}}},
            ["DrbdOptions/Net/nonsense", "known options"],
        ),
    ],
)
def test_bad_commands_name_field_value_and_fix(cluster: L.Cluster, command: dict, words: list[str]) -> None:
    _refused(cluster, lambda: cluster.execute(command), ValueError, *words)


def test_unknown_command_lists_the_valid_names_once(cluster: L.Cluster) -> None:
    e = _refused(cluster, lambda: cluster.execute({"cmd": "no_such_command"}), L.InvalidJsonError, "no_such_command")
    assert str(e).count("node_create") == 1, str(e)
    e = _refused(cluster, lambda: cluster.execute({"cmd": "node_creat"}), L.InvalidJsonError)
    assert e.correction == "Did you mean 'node_create'?"


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: L.SelectFilter(place_count=-1).to_json(), ["place_count = -1 is negative", "1 to 32"]),
        (lambda: L.SelectFilter(extra={"plac_count": 3}).to_json(), ["plac_count", "place_count"]),
        (lambda: L.parse_size("-5G"), ["-5G", "negative"]),
    ],
)
def test_bad_values_outside_a_cluster(make: Callable[[], Any], words: list[str]) -> None:
    with pytest.raises(ValueError) as info:
        make()
    for w in words:
        assert w in str(info.value), str(info.value)
    assert isinstance(info.value, L.LinstorError) and info.value.correction


@pytest.mark.parametrize("size, word", [(-1, "-1 is negative"), (2**64, "too large")])
def test_bad_sizes_are_named(cluster: L.Cluster, size: int, word: str) -> None:
    cluster.create_resource_group("rg", L.SelectFilter(place_count=2))
    _refused(cluster, lambda: cluster.spawn("rg", "vol_1", [size]), L.InvalidArgumentError, "size", word)


def test_may_write_with_an_unknown_node_is_an_error(cluster: L.Cluster) -> None:
    cluster.create_resource_group("rg", L.SelectFilter(place_count=2))
    cluster.spawn("rg", "vol_1", ["1G"])
    e = _refused(cluster, lambda: cluster.may_write("vol_1", ["ghost"]), L.NotFoundError, "ghost")
    assert "node list" in (e.correction or "")
    _refused(cluster, lambda: cluster.may_write("vol_none", ["node-a1"]), L.NotFoundError, "vol_none")


@pytest.mark.parametrize(
    "query",
    [
        lambda c: c.placement("nothing"),
        lambda c: c.quorum("nothing"),
        lambda c: c.autoplace("nothing"),
        lambda c: c.set_label("ghost", "zone", "x"),
        lambda c: c.evacuate_node("ghost"),
        lambda c: c.execute({"cmd": "rsc_grp_adjust", "name": "nope"}),
    ],
)
def test_unknown_objects_in_queries_are_errors_with_a_correction(cluster: L.Cluster, query: Callable[[L.Cluster], Any]) -> None:
    _refused(cluster, lambda: query(cluster), L.NotFoundError)


@pytest.mark.parametrize("value, word", [(-1, "-1 is negative"), (2**32, "4294967296 is too large")])
def test_struct_fields_are_checked_against_their_c_type(cluster: L.Cluster, value: int, word: str) -> None:
    _refused(cluster, lambda: cluster.simulate(L.SimWorkload(ops=value)), L.InvalidArgumentError, "ops", word)
