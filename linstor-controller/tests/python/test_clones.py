"""A definition's data through python-linstor: sync status (from the satellites' reports, so
false while satellites are OFFLINE and true once simulated satellites report), clones and
their status, and migrate-disk. With `--simulate-satellites` every resource reports UpToDate
at once."""

import linstor
import pytest
from linstor import consts

from support import Controller, assert_ok, uniq

SIM = ["--simulate-satellites"]


@pytest.fixture(scope="module")
def group(lin, cluster):
    name = uniq("rgcl")
    assert_ok(lin.resource_group_create(name, place_count=2, storage_pool=cluster.lvm))
    return name


@pytest.fixture
def deployed(lin, group, cluster):
    """A definition with one 1 GiB volume, diskful on the first two (OFFLINE) nodes."""
    rd = uniq("rdcl")
    assert_ok(lin.resource_group_spawn(group, rd, ["1GiB"], definitions_only=True))
    for n in cluster.nodes[:2]:
        assert_ok(lin.resource_create([linstor.ResourceData(n, rd, storage_pool=cluster.lvm)]))
    return rd


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
        assert_ok(lin.node_create(f"cl{i}", "Satellite", f"127.0.8.{i + 1}"))
        assert_ok(lin.storage_pool_create(f"cl{i}", "thin", "LVM_THIN", "vg0/thin"))
    assert_ok(lin.resource_group_create("rg_cl", place_count=2, storage_pool="thin"))
    return lin


@pytest.fixture
def sdeployed(slin):
    """A definition spawned on the simulated satellites: 2 replicas and a tiebreaker."""
    rd = uniq("rdscl")
    assert_ok(slin.resource_group_spawn("rg_cl", rd, ["64MiB"]))
    return rd


def test_sync_status_is_false_while_satellites_are_offline(lin, deployed):
    assert lin.resource_dfn_sync_status(deployed).synced_on_all is False


def test_sync_status_of_an_unknown_definition(lin):
    with pytest.raises(linstor.LinstorApiCallError) as err:
        lin.resource_dfn_sync_status(uniq("ghost"))
    assert err.value.main_error.is_error(consts.FAIL_NOT_FOUND_RSC_DFN)


def test_sync_status_once_simulated_satellites_report(slin, sdeployed):
    assert slin.resource_dfn_sync_status(sdeployed).synced_on_all is True
    assert slin.resource_dfn_wait_synced(sdeployed, wait_interval=0.1, timeout=5)
