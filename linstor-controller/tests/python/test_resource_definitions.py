"""Resource definitions and volume definitions through python-linstor. Definitions that other
tests need are made with spawn(definitions_only=True), which works today."""

import pytest
from linstor import consts

from support import assert_error, assert_ok, assert_warning, idfn, uniq


def rd_of(lin, name):
    found = lin.resource_dfn_list_raise(filter_by_resource_definitions=[name]).resource_definitions
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def group(lin, cluster):
    name = uniq("rgrd")
    assert_ok(lin.resource_group_create(name, place_count=2, storage_pool=cluster.lvm))
    return name


@pytest.fixture
def spawned(lin, group):
    """A definition with one 1 GiB volume (no resources)."""
    rd = uniq("rdsp")
    assert_ok(lin.resource_group_spawn(group, rd, ["1GiB"], definitions_only=True))
    return rd


def test_list_and_filter_any_case(lin, spawned, group):
    d = rd_of(lin, spawned.upper())
    assert d.name == spawned and d.resource_group_name == group
    [vd] = d.volume_definitions
    assert (vd.number, vd.size) == (0, 1048576)
    assert vd.drbd_data.minor >= 1000  # DRBD layer data with the minor the client indexes
    assert [ld.type for ld in d.layer_data][0] == "DRBD"
    # without volume definitions
    [d] = lin.resource_dfn_list_raise(query_volume_definitions=False,
                                      filter_by_resource_definitions=[spawned]).resource_definitions
    assert d.name == spawned
    assert lin.resource_dfn_list_raise(filter_by_resource_definitions=[uniq("absent")]).resource_definitions == []


def test_props_list_helper(lin, spawned):
    """resource_dfn_props_list (used by plugins) filters the definition's props by namespace."""
    props = lin.resource_dfn_props_list(spawned)
    assert isinstance(props, dict)
    assert all(k.startswith("DrbdOptions") for k in lin.resource_dfn_props_list(spawned, "DrbdOptions"))


def test_delete(lin, spawned):
    assert_ok(lin.resource_dfn_delete(spawned.upper()))
    assert lin.resource_dfn_list_raise(filter_by_resource_definitions=[spawned]).resource_definitions == []


def test_delete_unknown_is_a_warning(lin):
    assert_warning(lin.resource_dfn_delete(uniq("ghost")), consts.WARN_NOT_FOUND)


def test_create_plain_and_in_a_group(lin, group):
    plain, grouped = uniq("rdc"), uniq("rdg")
    assert_ok(lin.resource_dfn_create(plain))
    assert_ok(lin.resource_dfn_create(grouped, resource_group=group, layer_list=["drbd", "storage"]))
    assert rd_of(lin, plain).resource_group_name == "DfltRscGrp"
    d = rd_of(lin, grouped)
    assert d.resource_group_name == group
    assert [ld.type for ld in d.layer_data] == ["DRBD", "STORAGE"]
    assert d.volume_definitions == []


def test_create_with_external_name(lin):
    replies = assert_ok(lin.resource_dfn_create("", external_name="My Volume ü"))
    name = next(r.object_refs["RscDfn"] for r in replies if "RscDfn" in r.object_refs)
    assert rd_of(lin, name).external_name == "My Volume ü"


RD_CREATE_ERRORS = [
    # (case, name, kwargs, expected)
    ("invalid name", "-bad", {}, consts.FAIL_INVLD_RSC_NAME),
    ("name too long", "x" * 49, {}, consts.FAIL_INVLD_RSC_NAME),
    ("duplicate, other case", "DUP", {}, consts.FAIL_EXISTS_RSC_DFN),
    ("unknown group", "rdug", {"resource_group": "ghostgroup"}, consts.FAIL_NOT_FOUND_RSC_GRP),
]


@pytest.mark.parametrize("case,name,kwargs,expected", RD_CREATE_ERRORS, ids=idfn)
def test_create_errors(lin, case, name, kwargs, expected):
    if case.startswith("duplicate"):
        name = uniq("rddup")
        assert_ok(lin.resource_dfn_create(name))
        name = name.upper()
    elif case == "unknown group":
        name = uniq(name)
    assert_error(lin.resource_dfn_create(name, **kwargs), expected)


def test_modify_properties_and_group(lin, spawned):
    other = uniq("rgmv")
    assert_ok(lin.resource_group_create(other))
    assert_ok(lin.resource_dfn_modify(spawned, {"Aux/a": "1", "DrbdOptions/Net/max-buffers": "8000"}))
    assert_ok(lin.resource_dfn_modify(spawned, {}, delete_props=["Aux/a"], resource_group=other))
    d = rd_of(lin, spawned)
    assert d.properties.get("DrbdOptions/Net/max-buffers") == "8000" and "Aux/a" not in d.properties
    assert d.resource_group_name == other


@pytest.mark.parametrize("case,expected", [
    ("unknown definition", consts.FAIL_NOT_FOUND_RSC_DFN),
    ("unknown property key", consts.FAIL_INVLD_PROP),
    ("unknown group", consts.FAIL_NOT_FOUND_RSC_GRP),
], ids=idfn)
def test_modify_errors(lin, spawned, case, expected):
    if case == "unknown definition":
        replies = lin.resource_dfn_modify(uniq("ghost"), {"Aux/a": "1"})
    elif case == "unknown property key":
        replies = lin.resource_dfn_modify(spawned, {"Foo/bar": "1"})
    else:
        replies = lin.resource_dfn_modify(spawned, {}, resource_group="ghostgroup")
    assert_error(replies, expected)


# --- volume definitions ----------------------------------------------------------------------------

def test_volume_definition_create_resize_delete(lin, spawned):
    assert_ok(lin.volume_dfn_create(spawned, 2 * 1024 * 1024, volume_nr=5, minor_nr=2000))
    vds = {v.number: v for v in rd_of(lin, spawned).volume_definitions}
    assert set(vds) == {0, 5}
    assert vds[5].size == 2 * 1024 * 1024 and vds[5].drbd_data.minor == 2000
    assert_ok(lin.volume_dfn_modify(spawned, 5, size=3 * 1024 * 1024, set_properties={"Aux/a": "1"}))
    vd5 = {v.number: v for v in rd_of(lin, spawned).volume_definitions}[5]
    assert vd5.size == 3 * 1024 * 1024 and vd5.properties.get("Aux/a") == "1"
    assert_ok(lin.volume_dfn_delete(spawned, 5))
    assert [v.number for v in rd_of(lin, spawned).volume_definitions] == [0]


VD_CREATE_ERRORS = [
    # (case, kwargs, expected)
    ("size 0", {"size": 0}, consts.FAIL_INVLD_VLM_SIZE),
    ("unknown definition", {"size": 1024}, consts.FAIL_NOT_FOUND_RSC_DFN),
    ("duplicate number", {"size": 1024, "volume_nr": 0}, consts.FAIL_EXISTS_VLM_DFN),
    ("minor in use", {"size": 1024, "volume_nr": 1, "minor_nr": "taken"}, consts.FAIL_INVLD_MINOR_NR),
]


@pytest.mark.parametrize("case,kwargs,expected", VD_CREATE_ERRORS, ids=idfn)
def test_volume_definition_create_errors(lin, spawned, case, kwargs, expected):
    kwargs = dict(kwargs)
    if kwargs.get("minor_nr") == "taken":
        kwargs["minor_nr"] = rd_of(lin, spawned).volume_definitions[0].drbd_data.minor
    target = uniq("ghost") if case == "unknown definition" else spawned
    replies = lin.volume_dfn_create(target, **kwargs)
    if case == "minor in use":
        assert replies and any(r.is_error() for r in replies), replies
    else:
        assert_error(replies, expected)


def test_volume_definition_modify_unknown(lin, spawned):
    assert_error(lin.volume_dfn_modify(spawned, 9, size=2048), consts.FAIL_NOT_FOUND_VLM_DFN)


def test_volume_definition_size_zero_on_modify_changes_nothing(lin, spawned):
    """The client omits size_kib when size is 0 (it tests `if size:`)."""
    assert_ok(lin.volume_dfn_modify(spawned, 0, size=0, set_properties={"Aux/z": "1"}))
    assert rd_of(lin, spawned).volume_definitions[0].size == 1048576


def test_volume_definition_delete_unknown_is_a_warning(lin, spawned):
    assert_warning(lin.volume_dfn_delete(spawned, 9), consts.WARN_NOT_FOUND)
