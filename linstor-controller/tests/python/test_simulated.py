"""Placement over ONLINE nodes, with the controller's `--simulate-satellites` (every node reports
ONLINE, every pool a fixed capacity; nothing touches a disk): spawn places replicas and a
tiebreaker, and the client parses resources, volumes and free space as it would in production."""

import linstor
import pytest
from linstor import consts

from support import Controller, assert_error, assert_ok, matches, uniq

SIM = ["--simulate-satellites"]


@pytest.fixture(scope="module")
def sim():
    c = Controller(extra_args=SIM).start()
    yield c
    try:
        c.stop()
    finally:
        c.remove()


@pytest.fixture(scope="module")
def slin(sim):
    lin = sim.client()
    for i in range(3):
        assert_ok(lin.node_create(f"sim{i}", "Satellite", f"127.0.9.{i + 1}"))
        assert_ok(lin.storage_pool_create(f"sim{i}", "pool_thin", "LVM_THIN", "vg0/thin"))
    assert_ok(lin.resource_group_create("rg_sim", place_count=2, storage_pool="pool_thin"))
    return lin


def rscs(lin, rd):
    return {r.node_name: r for r in lin.resource_list_raise(filter_by_resources=[rd]).resources}


def test_nodes_are_online(slin):
    assert {n.connection_status for n in slin.node_list_raise().nodes} == {"ONLINE"}


def test_free_space_of_pools(slin):
    for sp in slin.storage_pool_list_raise(filter_by_stor_pools=["pool_thin"]).storage_pools:
        fs = sp.free_space
        assert fs is not None and 0 < fs.free_capacity <= fs.total_capacity
        str(fs)  # the client's __str__ subtracts: both fields must be there


def test_spawn_places_replicas_and_a_tiebreaker(slin):
    rd = uniq("rdsim")
    replies = assert_ok(slin.resource_group_spawn("rg_sim", rd, ["1GiB"]))
    assert any(matches(r, consts.INFO_TIE_BREAKER_CREATED) for r in replies), replies
    placed = rscs(slin, rd)
    assert len(placed) == 3
    diskful = {n for n, r in placed.items() if "DISKLESS" not in r.flags}
    [tiebreaker] = set(placed) - diskful
    assert len(diskful) == 2
    assert {"DISKLESS", "DRBD_DISKLESS", "TIE_BREAKER"} <= set(placed[tiebreaker].flags)
    for node in diskful:
        [vol] = placed[node].volumes
        assert (vol.number, vol.storage_pool_name, vol.storage_pool_driver_name) == (0, "pool_thin", "LVM_THIN")
        assert vol.usable_size >= 1048576 and vol.allocated_size > 0
        assert vol.device_path.startswith("/dev/drbd")
        assert vol.drbd_data.drbd_volume_definition.minor >= 1000
    states = slin.resource_list_raise(filter_by_resources=[rd]).resource_states
    assert {s.node_name for s in states} == set(placed)
    [resp] = slin.volume_list(filter_by_stor_pools=["pool_thin"], filter_by_resources=[rd])
    assert {r.node_name for r in resp.resources} == diskful


@pytest.mark.parametrize("case,kwargs,expected", [
    ("more replicas than nodes", {"place_count": 4}, consts.FAIL_NOT_ENOUGH_NODES),
    ("unknown pool", {"storage_pool": ["nosuchpool"]}, consts.FAIL_NOT_ENOUGH_NODES),
], ids=lambda v: v if isinstance(v, str) else None)
def test_spawn_refusals_leave_nothing(slin, case, kwargs, expected):
    rd = uniq("rdsimx")
    assert_error(slin.resource_group_spawn("rg_sim", rd, ["1GiB"], **kwargs), expected)
    assert slin.resource_dfn_list_raise(filter_by_resource_definitions=[rd]).resource_definitions == []
    assert rscs(slin, rd) == {}


def test_spawn_diskless_on_remaining(slin):
    rd = uniq("rdsimd")
    assert_ok(slin.resource_group_spawn("rg_sim", rd, ["64MiB"], place_count=1, diskless_on_remaining=True))
    placed = rscs(slin, rd)
    assert len(placed) == 3
    assert sum("DISKLESS" not in r.flags for r in placed.values()) == 1


def test_resource_delete_of_one_of_two(slin):
    rd = uniq("rdsimdel")
    assert_ok(slin.resource_group_spawn("rg_sim", rd, ["64MiB"]))
    node = next(n for n, r in rscs(slin, rd).items() if "DISKLESS" not in r.flags)
    assert_ok(slin.resource_delete(node, rd))
    assert node not in rscs(slin, rd)  # the simulated satellite confirms at once


def test_resource_delete_of_one_of_three_takes_over_as_tiebreaker(slin):
    """LINSTOR keeps the deleted replica as a diskless tiebreaker when quorum needs one."""
    rd = uniq("rdsimtk")
    assert_ok(slin.resource_group_spawn("rg_sim", rd, ["64MiB"], place_count=3))
    replies = assert_ok(slin.resource_delete("sim0", rd))
    assert any(matches(r, consts.INFO_TIE_BREAKER_TAKEOVER) for r in replies), replies
    left = rscs(slin, rd)
    assert {"DISKLESS", "TIE_BREAKER"} <= set(left["sim0"].flags)
    assert sum("DISKLESS" not in r.flags for r in left.values()) == 2


def test_definition_delete_with_resources(slin):
    rd = uniq("rdsimrd")
    assert_ok(slin.resource_group_spawn("rg_sim", rd, ["64MiB"]))
    assert_ok(slin.resource_dfn_delete(rd))
    assert slin.resource_dfn_list_raise(filter_by_resource_definitions=[rd]).resource_definitions == []
    assert rscs(slin, rd) == {}


def test_placed_resources_survive_a_restart():
    c = Controller(extra_args=SIM).start()
    try:
        lin = c.client()
        for i in range(3):
            assert_ok(lin.node_create(f"p{i}", "Satellite", f"127.0.9.{i + 10}"))
            assert_ok(lin.storage_pool_create(f"p{i}", "pool_lvm", "LVM", "vg0"))
        assert_ok(lin.resource_group_create("rg_p", place_count=2, storage_pool="pool_lvm"))
        for i in range(3):
            assert_ok(lin.resource_group_spawn("rg_p", f"rdp{i}", ["1GiB", "2GiB"]))
        paths = ["/v1/view/resources", "/v1/resource-definitions?with_volume_definitions=true",
                 "/v1/view/storage-pools", "/v1/nodes"]
        before = {p: c.get_json(p) for p in paths}
        assert len(before["/v1/view/resources"]) == 9  # 2 replicas + 1 tiebreaker each
        c.restart()
        assert {p: c.get_json(p) for p in paths} == before
    finally:
        c.stop()
        c.remove()


def test_autoplace(slin):
    rd = uniq("rdsimap")
    assert_ok(slin.resource_group_spawn("rg_sim", rd, ["64MiB"], definitions_only=True))
    assert_ok(slin.resource_auto_place(rd, 2, storage_pool="pool_thin"))
    assert sum("DISKLESS" not in r.flags for r in rscs(slin, rd).values()) == 2


def test_explicit_create_on_online_node(slin):
    rd = uniq("rdsimex")
    assert_ok(slin.resource_group_spawn("rg_sim", rd, ["64MiB"], definitions_only=True))
    assert_ok(slin.resource_create([linstor.ResourceData("sim0", rd, storage_pool="pool_thin")]))
    assert set(rscs(slin, rd)) == {"sim0"}


def test_snapshot_create_list_delete(slin):
    rd = uniq("rdsimsn")
    assert_ok(slin.resource_group_spawn("rg_sim", rd, ["64MiB"]))
    assert_ok(slin.snapshot_create([], rd, "snap1"))
    [snap] = slin.snapshot_dfn_list_raise(filter_by_resources=[rd]).snapshots
    assert snap.snapshot_name == "snap1" and snap.rsc_name == rd
    assert [v.size for v in snap.snapshot_volume_definitions] == [65536]
    assert_error(slin.resource_dfn_delete(rd), consts.FAIL_EXISTS_SNAPSHOT_DFN)
    assert_ok(slin.snapshot_delete(rd, "snap1"))


def test_high_level_resource_by_external_name(sim, slin):
    """linstor.Resource (plugins) creates its definition by external name only and learns the
    generated name from obj_refs["RscDfn"]; a second object finds it by the external name."""
    r = linstor.Resource("PVC 42 ü", uri=sim.url)
    r.volumes[0] = linstor.Volume("64 MiB")
    r.placement.storage_pool = "pool_thin"
    r.diskful("sim0")
    assert r.linstor_name == "PVC_42_JQ"  # LINSTOR's ExternalNameConverter: punctuation '_', bytes letters
    again = linstor.Resource("PVC 42 ü", uri=sim.url)
    assert again.linstor_name == r.linstor_name and again.is_diskful("sim0")
    [d] = slin.resource_dfn_list_raise(filter_by_resource_definitions=[r.linstor_name]).resource_definitions
    assert d.external_name == "PVC 42 ü"
    assert r.delete()
    assert slin.resource_dfn_list_raise(filter_by_resource_definitions=[r.linstor_name]).resource_definitions == []


def test_max_volume_size_of_a_pool(slin):
    """storage_pool_dfn_max_vlm_sizes: LINSTOR's OPTIONS /v1/query-max-volume-size."""
    [resp] = slin.storage_pool_dfn_max_vlm_sizes(2, storage_pool_name="pool_thin")
    [cand] = resp.candidates
    assert cand.storage_pool == "pool_thin" and len(cand.node_names) == 2 and cand.max_volume_size > 0
