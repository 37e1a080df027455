"""Snapshots through python-linstor. With OFFLINE satellites LINSTOR refuses to take snapshots
(FAIL_NOT_CONNECTED), so the restore and rollback paths are exercised on their error paths."""

import linstor
import pytest
from linstor import consts

from support import assert_error, assert_ok, assert_warning, idfn, uniq


@pytest.fixture(scope="module")
def group(lin, cluster):
    name = uniq("rgsn")
    assert_ok(lin.resource_group_create(name, place_count=1, storage_pool=cluster.thin))
    return name


@pytest.fixture
def rd(lin, group):
    name = uniq("rdsn")
    assert_ok(lin.resource_group_spawn(group, name, ["1GiB"], definitions_only=True))
    return name


def test_list_empty(lin, rd):
    assert lin.snapshot_dfn_list_raise(filter_by_resources=[rd]).snapshots == []


def test_create_on_offline_node_is_not_connected(lin, rd, cluster):
    assert_ok(lin.resource_create([linstor.ResourceData(cluster.nodes[0], rd, storage_pool=cluster.thin)]))
    assert_error(lin.snapshot_create([], rd, "snap1"), consts.FAIL_NOT_CONNECTED)
    assert lin.snapshot_dfn_list_raise(filter_by_resources=[rd]).snapshots == []


@pytest.mark.parametrize("case,expected", [
    ("unknown definition", consts.FAIL_NOT_FOUND_RSC_DFN),
    ("invalid name", consts.FAIL_INVLD_SNAPSHOT_NAME),
], ids=idfn)
def test_create_errors(lin, rd, case, expected):
    if case == "unknown definition":
        replies = lin.snapshot_create([], uniq("ghost"), "snap1")
    else:
        replies = lin.snapshot_create([], rd, "-bad")
    assert_error(replies, expected)


def test_create_without_resources_is_not_connected(lin, rd):
    """LINSTOR (CtrlSnapshotCrtHelper.ensureSnapshotsViable): "No diskful connected satellite for
    snapshot or no resources"."""
    assert_error(lin.snapshot_create([], rd, "snap1"), consts.FAIL_NOT_CONNECTED)


@pytest.mark.parametrize("call", [
    pytest.param(lambda lin, rd: lin.snapshot_volume_definition_restore(rd, "nosnap", uniq("rdto")),
                 id="restore-volume-definitions"),
    pytest.param(lambda lin, rd: lin.snapshot_resource_restore([], rd, "nosnap", uniq("rdto")),
                 id="restore-resources"),
    pytest.param(lambda lin, rd: lin.snapshot_rollback(rd, "nosnap"), id="rollback"),
])
def test_restore_and_rollback_of_unknown_snapshot(lin, rd, call):
    assert_error(call(lin, rd), consts.FAIL_NOT_FOUND_SNAPSHOT_DFN)


@pytest.mark.parametrize("case", ["unknown snapshot", "unknown definition"])
def test_delete_unknown_is_a_warning(lin, rd, case):
    target = uniq("ghost") if case == "unknown definition" else rd
    assert_warning(lin.snapshot_delete(target, "nosnap"), consts.WARN_NOT_FOUND)
