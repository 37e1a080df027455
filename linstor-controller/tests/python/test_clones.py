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


def rscs(lin, rd):
    return {r.node_name: r for r in lin.resource_list_raise(filter_by_resources=[rd]).resources}


def errors(started):
    return [m for m in started.messages if m.is_error()]


def test_clone_is_refused_while_the_source_is_not_known_up_to_date(lin, deployed):
    clone = uniq("rdclone")
    started = lin.resource_dfn_clone(deployed, clone)
    [err] = errors(started)
    assert err.is_error(consts.FAIL_NOT_ALL_UPTODATE), started.messages
    assert err.correction and "sync-status" in err.correction
    assert started.source_name == deployed and started.clone_name == clone
    assert lin.resource_dfn_list_raise(filter_by_resource_definitions=[clone]).resource_definitions == []


def test_clone_status_of_what_is_not_a_clone(lin, deployed):
    with pytest.raises(linstor.LinstorApiCallError) as err:
        lin.resource_dfn_clone_status(deployed, uniq("ghost"))
    assert err.value.main_error.is_error(consts.FAIL_NOT_FOUND_RSC_DFN)


def test_clone_copies_and_completes_with_simulated_satellites(slin, sdeployed):
    clone = uniq("rdclone")
    started = slin.resource_dfn_clone(sdeployed, clone, property_dict={"Aux/cl": "1"})
    assert errors(started) == [] and started.messages, started.messages
    assert started.location == f"/v1/resource-definitions/{sdeployed}/clone/{clone}"
    assert slin.resource_dfn_clone_wait_complete(sdeployed, clone, wait_interval=0.1, timeout=5)
    assert slin.resource_dfn_clone_status(sdeployed, clone).status == linstor.consts.CloneStatus.COMPLETE
    src, cl = rscs(slin, sdeployed), rscs(slin, clone)
    assert set(cl) == set(src)
    for node, r in src.items():
        assert set(cl[node].flags) == set(r.flags), node
        assert [v.storage_pool_name for v in cl[node].volumes] == [v.storage_pool_name for v in r.volumes]
    [d] = slin.resource_dfn_list_raise(filter_by_resource_definitions=[clone]).resource_definitions
    assert d.properties.get("Aux/cl") == "1" and d.properties.get("cloned-from") == sdeployed
    assert [vd.size for vd in d.volume_definitions] == [65536]
    assert slin.resource_dfn_sync_status(clone).synced_on_all is True


def test_clone_by_external_name_into_another_group(slin, sdeployed):
    assert_ok(slin.resource_group_create("rg_cl2", storage_pool="thin"))
    started = slin.resource_dfn_clone(sdeployed, None, clone_external_name="My Clone 1",
                                      resource_group="rg_cl2", layer_list=["drbd", "storage"])
    assert errors(started) == [], started.messages
    assert started.clone_name == "My_Clone_1"
    [d] = slin.resource_dfn_list_raise(filter_by_resource_definitions=["My_Clone_1"]).resource_definitions
    assert d.external_name == "My Clone 1" and d.resource_group_name == "rg_cl2"


@pytest.mark.parametrize("case", ["unknown source", "existing target", "invalid property", "unknown group"])
def test_clone_refusals_name_the_problem(slin, sdeployed, case):
    clone = uniq("rdclone")
    source, target, kwargs, expected = {
        "unknown source": (uniq("ghost"), clone, {}, consts.FAIL_NOT_FOUND_RSC_DFN),
        "existing target": (sdeployed, sdeployed, {}, consts.FAIL_EXISTS_RSC_DFN),
        "invalid property": (sdeployed, clone, {"property_dict": {"Bogus": "1"}}, consts.FAIL_INVLD_PROP),
        "unknown group": (sdeployed, clone, {"resource_group": "nope"}, consts.FAIL_NOT_FOUND_RSC_GRP),
    }[case]
    started = slin.resource_dfn_clone(source, target, **kwargs)
    [err] = errors(started)
    assert err.is_error(expected), started.messages
    assert err.correction, err
    assert slin.resource_dfn_list_raise(filter_by_resource_definitions=[clone]).resource_definitions == []


def test_migrate_disk_through_toggle_disk(lin, group, cluster):
    """python-linstor's resource_toggle_disk(migrate_from=…) (REST 1.28: toggle-disk with
    `migrate_from`): the diskless resource gets a disk and records MigrateFrom; the old replica
    goes once the new disk is reported in sync (no satellite reports here, so it stays)."""
    n0, n1, n2 = cluster.nodes
    rd = uniq("rdmig")
    assert_ok(lin.resource_group_spawn(group, rd, ["1GiB"], definitions_only=True))
    assert_ok(lin.resource_create([linstor.ResourceData(n0, rd, storage_pool=cluster.lvm)]))
    assert_ok(lin.resource_create([linstor.ResourceData(n1, rd, drbd_diskless=True)]))
    replies = lin.resource_toggle_disk(n1, rd, storage_pool=cluster.lvm, migrate_from=n2)
    assert any(r.is_error(consts.FAIL_NOT_FOUND_RSC) for r in replies), replies
    assert_ok(lin.resource_toggle_disk(n1, rd, storage_pool=cluster.lvm, migrate_from=n0))
    placed = rscs(lin, rd)
    assert "DISKLESS" not in placed[n1].flags
    assert placed[n1].properties.get("MigrateFrom") == n0
    assert "DELETE" not in placed[n0].flags
    assert lin.resource_dfn_sync_status(rd).synced_on_all is False


@pytest.mark.parametrize("case", ["onto a disk", "from itself", "diskless operation"])
def test_migrate_disk_refusals(lin, deployed, cluster, case):
    n0, n1 = cluster.nodes[:2]
    node, kwargs = {
        "onto a disk": (n1, {"migrate_from": n0}),
        "from itself": (n1, {"migrate_from": n1}),
        "diskless operation": (n1, {"migrate_from": n0, "diskless": True}),
    }[case]
    replies = lin.resource_toggle_disk(node, deployed, **kwargs)
    [err] = [r for r in replies if r.is_error()]
    assert err.is_error(consts.FAIL_INVLD_REQUEST) and err.correction, replies
    assert {"MigrateFrom"} & set(rscs(lin, deployed)[n1].properties) == set()
