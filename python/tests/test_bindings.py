"""Tests of the linstor_rs package over the real shared library."""

from __future__ import annotations

import json
import threading

import pytest

import linstor_rs as L
from conftest import build


def test_version_matches_library() -> None:
    assert L.version() == "0.1.0"


# -- names and sizes ---------------------------------------------------------------------


def test_valid_names_pass() -> None:
    L.check_name(L.NameKind.RESOURCE, "pvc-0001")
    L.check_name(L.NameKind.NODE, "node-1.example.com")


@pytest.mark.parametrize(
    ("kind", "name", "rule"),
    [
        (L.NameKind.RESOURCE, "1abc", "must start with a letter or '_'"),
        (L.NameKind.RESOURCE, "a", "must be 2 to 48 bytes long"),
        (L.NameKind.RESOURCE, "all", "reserved word"),
        (L.NameKind.RESOURCE, "ab c", "may contain only"),
        (L.NameKind.NODE, "-node", "must start with a letter or a digit"),
        (L.NameKind.STORAGE_POOL, "__", "must be 3 to 48 bytes long"),
    ],
)
def test_invalid_name_raises_with_the_broken_rule(kind: L.NameKind, name: str, rule: str) -> None:
    with pytest.raises(L.InvalidNameError) as ei:
        L.check_name(kind, name)
    e = ei.value
    assert e.code == L.Result.INVALID_NAME
    assert e.cause is not None and rule in e.cause
    assert e.correction
    assert name in e.message
    assert isinstance(e, ValueError)


def test_invalid_name_in_a_cluster_command_raises_with_rule_and_ret_code(
    cluster: L.Cluster,
) -> None:
    with pytest.raises(L.InvalidNameError) as ei:
        cluster.create_resource_group("9-group")
    e = ei.value
    assert "must start with" in (e.cause or "")
    assert e.ret_code < 0  # LINSTOR's error severity bits


def test_parse_size() -> None:
    assert L.parse_size("50G") == 50 * 1024 * 1024
    assert L.parse_size("1.5M") == 1536
    assert L.parse_size("3") == 3 * 1024 * 1024  # bare number: GiB
    with pytest.raises(L.InvalidArgumentError) as ei:
        L.parse_size("lots")
    assert ei.value.cause


def test_invalid_utf8_gives_an_error_code_not_a_crash() -> None:
    with pytest.raises(L.InvalidUtf8Error) as ei:
        L.check_name(L.NameKind.NODE, b"n\xff\xfe")
    assert ei.value.code == L.Result.INVALID_UTF8
    with L.Cluster() as c, pytest.raises(L.InvalidUtf8Error):
        c.add_node(b"bad\xc3")


def test_nul_in_a_string_is_refused_before_the_call() -> None:
    with pytest.raises(L.InvalidArgumentError):
        L.check_name(L.NameKind.NODE, "ab\0cd")


# -- building a cluster ------------------------------------------------------------------


def test_build_and_json_round_trip(cluster: L.Cluster) -> None:
    text = cluster.to_json()
    state = json.loads(text)
    assert set(state["nodes"]) == {f"node-{z}{i}" for z in "abc" for i in (1, 2)}
    assert state["nodes"]["node-a1"]["props"]["Aux/zone"] == "a"
    with L.Cluster.from_json(text, seed=3) as copy:
        assert copy.to_json() == text


def test_same_seed_same_state() -> None:
    with build() as a, build() as b:
        assert a.to_json() == b.to_json()


@pytest.mark.parametrize(
    "text",
    ["", "not json", "[1, 2]", '{"hello": "world"}', '{"nodes": 5}', "null"],
)
def test_json_that_is_not_a_cluster_state_raises(text: str) -> None:
    with pytest.raises(L.InvalidJsonError) as ei:
        L.Cluster.from_json(text)
    assert ei.value.code == L.Result.INVALID_JSON


def test_inconsistent_state_raises(cluster: L.Cluster) -> None:
    cluster.create_resource_group("rg", volume_groups=1)
    cluster.spawn("rg", "vol_a", ["1G"])
    cluster.spawn("rg", "vol_b", ["1G"])
    state = json.loads(cluster.to_json())
    rds = state["resource_definitions"]
    rds["vol_b"]["volume_definitions"]["0"]["minor"] = rds["vol_a"]["volume_definitions"]["0"][
        "minor"
    ]
    with pytest.raises(L.InvalidStateError) as ei:
        L.Cluster.from_json(json.dumps(state))
    assert "minor" in ei.value.message


def test_duplicates_and_missing_objects(cluster: L.Cluster) -> None:
    with pytest.raises(L.AlreadyExistsError):
        cluster.add_node("node-a1")
    with pytest.raises(L.NotFoundError):
        cluster.set_label("ghost", "zone", "x")
    with pytest.raises(L.NotFoundError):
        cluster.placement("nothing")
    assert not cluster.has_resource("nothing")


def test_labels_and_capacity(cluster: L.Cluster) -> None:
    cluster.set_label("node-a1", "Aux/rack", "r7")
    cluster.set_label("node-a1", "zone", None)
    props = json.loads(cluster.to_json())["nodes"]["node-a1"]["props"]
    assert props.get("Aux/rack") == "r7" and "Aux/zone" not in props
    cluster.set_capacity("node-a1", "pool_ssd", "100G", "1T")
    with pytest.raises(L.InvalidArgumentError):
        cluster.set_capacity("node-a1", "pool_ssd", "2T", "1T")


def test_storage_pool_refusal_carries_cause_and_correction() -> None:
    with L.Cluster() as c:
        c.add_node("ctrl", node_type=L.NodeType.CONTROLLER)
        with pytest.raises(L.RefusedError) as ei:
            c.add_storage_pool("ctrl", "pool_ssd", L.Provider.LVM)
        assert ei.value.cause and "Controller" in ei.value.cause
        assert ei.value.correction


def test_execute_json_command(cluster: L.Cluster) -> None:
    out = cluster.execute(
        {"cmd": "ctrl_props_modify", "props": {"override_props": {"Autoplacer/Strategy": "linstor"}}}
    )
    assert out["entries"][0]["ret_code"] > 0
    with pytest.raises(L.InvalidJsonError):
        cluster.execute({"cmd": "no_such_command"})


# -- placement ---------------------------------------------------------------------------

THREE_ZONES = L.SelectFilter(place_count=3, replicas_on_different=["Aux/zone"])


def test_plan_spreads_over_zones(cluster: L.Cluster) -> None:
    p = cluster.plan("vol_1", "50G", THREE_ZONES)
    assert len(p.diskful) == 3
    assert sorted(r.node[5] for r in p) == ["a", "b", "c"]
    assert not cluster.has_resource("vol_1")  # a plan changes nothing


def test_refused_placement_raises_with_cause_and_correction(cluster: L.Cluster) -> None:
    four = L.SelectFilter(place_count=4, replicas_on_different=["Aux/zone"])
    with pytest.raises(L.PlacementRefusedError) as ei:
        cluster.plan("vol_1", "50G", four)
    e = ei.value
    assert e.code == L.Result.PLACEMENT_REFUSED
    assert e.cause and e.correction
    assert e.ret_code < 0
    assert isinstance(e, L.RefusedError)
    assert "Cause:" in str(e) and "Correction:" in str(e)


def test_too_big_placement_names_capacity(cluster: L.Cluster) -> None:
    with pytest.raises(L.PlacementRefusedError) as ei:
        cluster.plan("vol_1", "2T", THREE_ZONES)
    assert ei.value.cause and ei.value.correction


def test_filter_validation() -> None:
    with pytest.raises(L.InvalidNameError):
        L.SelectFilter(storage_pools=["x"]).to_json()
    with pytest.raises(L.InvalidArgumentError):
        L.SelectFilter(place_count=99).to_json()
    with pytest.raises(L.InvalidJsonError):
        L.SelectFilter(extra={"place_count": "three"}).to_json()
    text = L.SelectFilter(
        place_count=2, nodes=["node-a1", "node-b1"], extra={"provider_list": ["LVM"]}
    ).to_json()
    assert json.loads(text) == {
        "place_count": 2,
        "node_name_list": ["node-a1", "node-b1"],
        "provider_list": ["LVM"],
    }


def test_spawn_and_read_back(cluster: L.Cluster) -> None:
    cluster.create_resource_group("rg", THREE_ZONES, volume_groups=1)
    p = cluster.spawn("rg", "vol_1", ["50G"])
    assert p.resource == "vol_1"
    assert cluster.placement("vol_1") == p
    assert len(p.diskful) == 3
    assert sorted(r.node[5] for r in p) == ["a", "b", "c"]
    assert all(r.storage_pool == "pool_ssd" for r in p)
    with pytest.raises(L.AlreadyExistsError):
        cluster.spawn("rg", "vol_1", ["50G"])
    with pytest.raises(L.InvalidArgumentError):
        cluster.spawn("rg", "vol_2", ["50G", "1G"])  # one volume group, two sizes
    cluster.delete_resource("vol_1")
    assert not cluster.has_resource("vol_1")
    cluster.delete_resource_group("rg")


def test_refused_spawn_raises_with_cause_and_correction(cluster: L.Cluster) -> None:
    cluster.create_resource_group("rg", THREE_ZONES, volume_groups=1)
    with pytest.raises(L.PlacementRefusedError) as ei:
        cluster.spawn("rg", "vol_big", ["2T"])  # each pool has 1 TiB
    e = ei.value
    assert e.code == L.Result.PLACEMENT_REFUSED
    assert "free space" in (e.cause or "")
    assert e.correction and "capacity" in e.correction
    assert not cluster.has_resource("vol_big")  # a refused spawn creates nothing


def test_capacity_fills_up_then_refuses(cluster: L.Cluster) -> None:
    cluster.create_resource_group("rg", THREE_ZONES, volume_groups=1)
    fitted = 0
    with pytest.raises(L.PlacementRefusedError):
        while True:
            cluster.spawn("rg", f"vol_{fitted:03d}", ["100G"])
            fitted += 1
    # Two nodes of 1 TiB per zone: 10 volumes of 100 GiB per node, 20 per zone.
    assert fitted == 20


def test_autoplace_adds_replicas_or_explains(cluster: L.Cluster) -> None:
    cluster.create_resource_group("rg", THREE_ZONES, volume_groups=1)
    cluster.spawn("rg", "vol_1", ["50G"])
    assert len(cluster.autoplace("vol_1").diskful) == 3  # already satisfied
    with pytest.raises(L.PlacementRefusedError) as ei:
        cluster.autoplace("vol_1", L.SelectFilter(place_count=4))
    assert "replicas_on_different" in (ei.value.cause or "")
    assert ei.value.correction
    cluster.create_resource_group("plain", L.SelectFilter(place_count=2), volume_groups=1)
    assert len(cluster.spawn("plain", "vol_2", ["50G"]).diskful) == 2
    assert len(cluster.autoplace("vol_2", L.SelectFilter(place_count=4)).diskful) == 4
    with pytest.raises(L.NotFoundError):
        cluster.autoplace("nothing")


def test_group_adjust_through_execute(cluster: L.Cluster) -> None:
    cluster.create_resource_group("rg", L.SelectFilter(place_count=2), volume_groups=1)
    cluster.spawn("rg", "vol_1", ["50G"])
    out = cluster.execute(
        {"cmd": "rsc_grp_adjust", "name": "rg", "select_filter": {"place_count": 3}}
    )
    assert "1 resource definition(s) got new replicas" in out["entries"][-1]["message"]
    assert len(cluster.placement("vol_1").diskful) == 3
    with pytest.raises(L.NotFoundError):
        cluster.execute({"cmd": "rsc_grp_adjust", "name": "nope"})


def test_evacuate_then_balance_moves_a_node_away(cluster: L.Cluster) -> None:
    cluster.create_resource_group("rg", THREE_ZONES, volume_groups=1)
    cluster.spawn("rg", "vol_1", ["50G"])
    node = cluster.placement("vol_1").diskful[0].node
    cluster.evacuate_node(node)
    assert len(cluster.placement("vol_1").diskful) == 4  # the original stays until in sync
    for r in cluster.placement("vol_1"):
        cluster.report_resource(r.node, "vol_1")
    cluster.set_online(node, True)  # already online: no new handshake, the reports stay
    cluster.balance()
    nodes = [r.node for r in cluster.placement("vol_1").diskful]
    assert node not in nodes and len(nodes) == 3
    with pytest.raises(L.NotFoundError):
        cluster.evacuate_node("nope")


def test_adjust_group_wrapper(cluster: L.Cluster) -> None:
    cluster.create_resource_group("rg", L.SelectFilter(place_count=1), volume_groups=1)
    cluster.spawn("rg", "vol_1", ["50G"])
    entries = cluster.adjust_group("rg", L.SelectFilter(place_count=2))
    assert "got new replicas" in entries[-1]["message"]
    assert len(cluster.placement("vol_1").diskful) == 2


# -- quorum ------------------------------------------------------------------------------


def _place(c: L.Cluster, rsc: str, *nodes: str) -> None:
    for n in nodes:
        c.execute({"cmd": "rsc_create", "rsc_dfn": rsc, "node": n, "storage_pool": "pool_ssd"})


def test_quorum_and_zone_failure(cluster: L.Cluster) -> None:
    cluster.create_resource_group("manual", volume_groups=1)
    cluster.spawn("manual", "vol_q", ["10G"])
    _place(cluster, "vol_q", "node-a1", "node-b1")
    # Two diskful replicas: the core adds the auto tiebreaker at once, and quorum is on.
    q = cluster.quorum("vol_q")
    assert (q.diskful, q.tiebreakers, q.value, q.set_by_user) == (2, 1, "majority", False)
    assert q.tiebreaker == L.TiebreakerAction.NONE
    tb = [r for r in cluster.placement("vol_q") if r.tie_breaker]
    assert len(tb) == 1 and tb[0].diskless and tb[0].node not in ("node-a1", "node-b1")

    _place(cluster, "vol_q", "node-c1")
    q = cluster.quorum("vol_q")
    assert (q.diskful, q.value, q.tiebreaker) == (3, "majority", L.TiebreakerAction.NONE)
    survivors = [f"node-{z}{i}" for z in "bc" for i in (1, 2)]
    assert cluster.may_write("vol_q", survivors)
    assert not cluster.may_write("vol_q", ["node-a1", "node-a2"])
    with pytest.raises(L.InvalidNameError):
        cluster.may_write("vol_q", ["-bad"])
    with pytest.raises(L.NotFoundError):
        cluster.quorum("nothing")


# -- lifetime and threads ----------------------------------------------------------------


def test_closed_cluster_raises_instead_of_crashing() -> None:
    c = build(1)
    c.close()
    c.close()  # idempotent
    with pytest.raises(L.NullParameterError):
        c.to_json()


def test_lost_node_disappears(cluster: L.Cluster) -> None:
    cluster.lose_node("node-c2")
    assert "node-c2" not in json.loads(cluster.to_json())["nodes"]
    cluster.delete_node("node-c2")  # deletes are idempotent (LINSTOR: WARN_NOT_FOUND)
    assert "node-c2" not in json.loads(cluster.to_json())["nodes"]


def test_concurrent_use_is_serialised(cluster: L.Cluster) -> None:
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(20):
                cluster.plan(f"vol_{k}_{i}", "10G", THREE_ZONES)
                cluster.set_label(f"node-a{1 + k % 2}", f"t{k}", str(i))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


# -- simulator ---------------------------------------------------------------------------


def test_simulate_capacity_until_refusal() -> None:
    r = L.simulate(L.SimCluster(nodes=12, zones=3, pool_gib=1024), seed=1)
    # 4 nodes × 1024 GiB per zone, 50 GiB per replica: at most 81 volumes.
    assert 70 <= r.spawned <= 81
    assert r.refusals == 1
    assert 0.8 < r.placed_fraction_of_bound <= 1.0
    assert r == L.simulate(L.SimCluster(nodes=12, zones=3, pool_gib=1024), seed=1)


def test_simulate_with_failures_and_strategy() -> None:
    w = L.SimWorkload(
        ops=300,
        stop_at_first_refusal=False,
        fail_every=50,
        delete_percent=20,
        size_min_gib=10,
        size_max_gib=100,
        strategy=L.Strategy.LINSTOR,
    )
    r = L.simulate(L.SimCluster(nodes=9), w, seed=3)
    assert r.failed_nodes > 0 and r.deleted > 0


@pytest.mark.parametrize(
    ("cluster", "workload"),
    [
        (L.SimCluster(nodes=0), None),
        (L.SimCluster(nodes=3, zones=4), None),
        (None, L.SimWorkload(replicas=0)),
        (None, L.SimWorkload(size_min_gib=10, size_max_gib=5)),
        (None, L.SimWorkload(strategy=9)),  # type: ignore[arg-type]
    ],
)
def test_simulate_rejects_bad_parameters(
    cluster: "L.SimCluster | None", workload: "L.SimWorkload | None"
) -> None:
    with pytest.raises(L.InvalidArgumentError) as ei:
        L.simulate(cluster, workload)
    assert "range" in ei.value.message or "valid" in ei.value.message


def test_simulate_python_side_range_checks() -> None:
    with pytest.raises(ValueError):
        L.simulate(L.SimCluster(nodes=-1))
    with pytest.raises(ValueError):
        L.simulate(L.SimCluster(nodes=2**40))


def test_cluster_simulate_leaves_the_model_alone(cluster: L.Cluster) -> None:
    before = cluster.to_json()
    r = cluster.simulate(L.SimWorkload(ops=50), seed=2)
    assert r.spawned > 0
    assert cluster.to_json() == before
