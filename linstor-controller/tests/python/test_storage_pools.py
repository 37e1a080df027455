"""Storage pools and storage pool definitions through python-linstor. Pools on OFFLINE nodes are
accepted (LINSTOR may add WARN_NOT_CONNECTED; no error either way)."""

import pytest
from linstor import consts

from support import assert_error, assert_ok, assert_warning, idfn, uniq

KINDS = [
    # (provider kind, driver pool name, thin?, snapshots?) — LINSTOR's *DriverKind static traits
    ("LVM", "vg0", False, False),
    ("LVM_THIN", "vg0/thinpool", True, True),
    ("ZFS", "tank", False, True),
    ("ZFS_THIN", "tank", True, True),
    ("FILE", "/var/lib/linstor-pools/a", False, True),
    ("FILE_THIN", "/var/lib/linstor-pools/b", True, True),
    ("DISKLESS", None, None, False),
]


@pytest.fixture(scope="module")
def node(lin):
    name = uniq("spn")
    assert_ok(lin.node_create(name, "Satellite", "127.0.7.1"))
    return name


@pytest.mark.parametrize("kind,driver_pool,thin,snapshots", KINDS)
def test_create_each_kind(lin, node, kind, driver_pool, thin, snapshots):
    pool = uniq("sp" + kind.lower().replace("_", ""))
    assert_ok(lin.storage_pool_create(node, pool, kind, driver_pool))
    [sp] = lin.storage_pool_list_raise(filter_by_nodes=[node], filter_by_stor_pools=[pool]).storage_pools
    assert (sp.name, sp.node_name, sp.provider_kind) == (pool, node, kind)
    assert sp.is_diskless() == (kind == "DISKLESS")
    assert sp.supports_snapshots() == snapshots
    if kind != "DISKLESS":
        assert sp.properties["StorDriver/StorPoolName"] == driver_pool


@pytest.mark.parametrize("kind,driver_pool,thin,snapshots", [k for k in KINDS if k[2] is not None])
def test_static_traits_thin_or_fat(lin, node, kind, driver_pool, thin, snapshots):
    pool = uniq("sptr" + kind.lower().replace("_", ""))
    assert_ok(lin.storage_pool_create(node, pool, kind, driver_pool))
    [sp] = lin.storage_pool_list_raise(filter_by_nodes=[node], filter_by_stor_pools=[pool]).storage_pools
    assert sp.is_thin() == thin and sp.is_fat() == (not thin)


def test_every_satellite_gets_the_default_diskless_pool(lin, node):
    pools = lin.storage_pool_list_raise(filter_by_nodes=[node]).storage_pools
    [dflt] = [p for p in pools if p.name == "DfltDisklessStorPool"]
    assert dflt.provider_kind == "DISKLESS" and dflt.node_name == node


def test_list_filters_any_case(lin, cluster):
    pools = lin.storage_pool_list_raise(filter_by_nodes=[cluster.nodes[0].upper()],
                                        filter_by_stor_pools=[cluster.lvm.upper()]).storage_pools
    assert [(p.node_name, p.name) for p in pools] == [(cluster.nodes[0], cluster.lvm)]
    pools = lin.storage_pool_list_raise(filter_by_stor_pools=[cluster.thin]).storage_pools
    assert sorted(p.node_name for p in pools) == sorted(cluster.nodes)
    pools = lin.storage_pool_list_raise(filter_by_nodes=cluster.nodes[:2]).storage_pools
    assert {p.node_name for p in pools} == set(cluster.nodes[:2])
    assert {p.name for p in pools} == {cluster.lvm, cluster.thin, "DfltDisklessStorPool"}
    # the low-level call returns the same as a one-element list
    [resp] = lin.storage_pool_list(filter_by_stor_pools=[cluster.thin])
    assert len(resp.storage_pools) == 3


POOL_ERRORS = [
    # (case, pool name, properties, expected)
    ("unknown node", "pool_x", None, consts.FAIL_NOT_FOUND_NODE),
    ("invalid name", "-bad", None, consts.FAIL_INVLD_STOR_POOL_NAME),
    ("name too short", "ab", None, consts.FAIL_INVLD_STOR_POOL_NAME),
    ("duplicate, other case", "POOL_DUP", None, consts.FAIL_EXISTS_STOR_POOL),
    ("unknown property key", "pool_y", {"Foo/bar": "1"}, consts.FAIL_INVLD_PROP),
]


@pytest.mark.parametrize("case,pool,props,expected", POOL_ERRORS, ids=idfn)
def test_create_errors(lin, node, case, pool, props, expected):
    if case.startswith("duplicate"):
        replies = lin.storage_pool_create(node, pool.lower(), "LVM", "vg0")
        assert replies[0].is_success() or any(r.is_error() for r in replies)  # first one may exist
    target = uniq("ghost") if case == "unknown node" else node
    assert_error(lin.storage_pool_create(target, pool, "LVM", "vg0", property_dict=props), expected)
    if case != "duplicate, other case":
        assert lin.storage_pool_list_raise(filter_by_stor_pools=[pool]).storage_pools == [] or \
            case == "unknown node"


def test_delete(lin, node):
    pool = uniq("spdel")
    assert_ok(lin.storage_pool_create(node, pool, "LVM", "vg0"))
    assert_ok(lin.storage_pool_delete(node, pool.upper()))
    assert lin.storage_pool_list_raise(filter_by_nodes=[node], filter_by_stor_pools=[pool]).storage_pools == []


@pytest.mark.parametrize("case", ["unknown pool", "unknown node"])
def test_delete_unknown_is_a_warning(lin, node, case):
    target = uniq("ghost") if case == "unknown node" else node
    assert_warning(lin.storage_pool_delete(target, uniq("nopool")), consts.WARN_NOT_FOUND)


def test_modify_properties(lin, node):
    pool = uniq("spmod")
    assert_ok(lin.storage_pool_create(node, pool, "LVM", "vg0", property_dict={"Aux/a": "1"}))
    assert_ok(lin.storage_pool_modify(node, pool, {"Aux/b": "2"}, delete_props=["Aux/a"]))
    [sp] = lin.storage_pool_list_raise(filter_by_nodes=[node], filter_by_stor_pools=[pool]).storage_pools
    assert sp.properties.get("Aux/b") == "2" and "Aux/a" not in sp.properties


@pytest.mark.parametrize("case,expected", [
    ("unknown pool", consts.FAIL_NOT_FOUND_STOR_POOL),
    ("unknown key", consts.FAIL_INVLD_PROP),
], ids=idfn)
def test_modify_errors(lin, node, cluster, case, expected):
    if case == "unknown pool":
        replies = lin.storage_pool_modify(node, uniq("nopool"), {"Aux/a": "1"})
    else:
        replies = lin.storage_pool_modify(cluster.nodes[0], cluster.lvm, {"Foo/bar": "1"})
    assert_error(replies, expected)


# --- storage pool definitions ----------------------------------------------------------------------

def test_definitions_list_create_modify_delete(lin, cluster):
    names = {d.name for d in lin.storage_pool_dfn_list()[0].storage_pool_definitions}
    assert {cluster.lvm, cluster.thin} <= names
    spd = uniq("spd")
    assert_ok(lin.storage_pool_dfn_create(spd))
    assert_error(lin.storage_pool_dfn_create(spd.upper()), consts.FAIL_EXISTS_STOR_POOL_DFN)
    assert_ok(lin.storage_pool_dfn_modify(spd, {"Aux/a": "1"}))
    [d] = [d for d in lin.storage_pool_dfn_list()[0].storage_pool_definitions if d.name == spd]
    assert d.properties.get("Aux/a") == "1"
    assert_ok(lin.storage_pool_dfn_delete(spd))
    assert spd not in {d.name for d in lin.storage_pool_dfn_list()[0].storage_pool_definitions}


@pytest.mark.parametrize("bad", ["-bad", "ab"])
def test_definition_invalid_name(lin, bad):
    assert_error(lin.storage_pool_dfn_create(bad), consts.FAIL_INVLD_STOR_POOL_NAME)


def test_definition_delete_unknown_is_a_warning(lin):
    assert_warning(lin.storage_pool_dfn_delete(uniq("nospd")), consts.WARN_NOT_FOUND)


def test_query_max_volume_size_offline(lin, cluster):
    """Offline nodes offer no candidates."""
    replies = lin.storage_pool_dfn_max_vlm_sizes(1, storage_pool_name=cluster.lvm)
    assert replies
    first = replies[0]
    if hasattr(first, "candidates"):
        assert first.candidates == []
    else:
        assert_error(replies, consts.FAIL_NOT_ENOUGH_NODES)
