"""Resource groups, volume groups, spawn and size queries through python-linstor. The nodes
are OFFLINE, and the autoplacer uses only online nodes: spawn that places answers
FAIL_NOT_ENOUGH_NODES and leaves nothing behind; definitions_only spawns work."""

import linstor
import pytest
from linstor import consts

from support import assert_error, assert_ok, assert_warning, idfn, uniq


def rg_of(lin, name):
    [rg] = lin.resource_group_list_raise(filter_by_resource_groups=[name]).resource_groups
    return rg


def rd_names(lin):
    return {d.name for d in lin.resource_dfn_list_raise().resource_definitions}


def test_default_group_exists(lin):
    assert rg_of(lin, "dfltrscgrp").name == "DfltRscGrp"


def test_create_with_select_filter(lin, cluster):
    name = uniq("rg")
    assert_ok(lin.resource_group_create(
        name, description="two replicas", place_count=2, storage_pool=[cluster.lvm, cluster.thin],
        replicas_on_same=["Aux/zone"], replicas_on_different=["Aux/rack"],
        do_not_place_with=["other"], do_not_place_with_regex="^tmp.*",
        diskless_on_remaining=False, layer_list=["drbd", "storage"], provider_list=["LVM", "LVM_THIN"],
        property_dict={"Aux/owner": "pytest"}))
    rg = rg_of(lin, name.upper())  # filters are case-insensitive
    assert rg.name == name and rg.description == "two replicas"
    assert rg.properties["Aux/owner"] == "pytest"
    sf = rg.select_filter
    assert sf.place_count == 2
    assert sf.storage_pool_list == [cluster.lvm, cluster.thin]
    assert sf.replicas_on_same == ["Aux/zone"] and sf.replicas_on_different == ["Aux/rack"]
    assert sf.not_place_with_rsc == ["other"] and sf.not_place_with_rsc_regex == "^tmp.*"
    assert [x.lower() for x in sf.layer_stack] == ["drbd", "storage"]
    assert sf.provider_list == ["LVM", "LVM_THIN"]


def test_create_with_unknown_pool_is_accepted(lin):
    name = uniq("rgup")
    assert_ok(lin.resource_group_create(name, place_count=1, storage_pool="nosuchpool"))
    assert rg_of(lin, name).select_filter.storage_pool_list == ["nosuchpool"]


def test_create_with_unknown_pool_warns(lin):
    """LINSTOR: CtrlRscGrpApiCallHandler.addUnknownStoragePoolWarning."""
    replies = lin.resource_group_create(uniq("rguw"), place_count=1, storage_pool="nosuchpool")
    assert_ok(replies)
    assert_warning(replies, consts.WARN_NOT_FOUND)


RG_CREATE_ERRORS = [
    # (case, name, kwargs, expected)
    ("invalid name", "-bad", {}, consts.FAIL_INVLD_RSC_GRP_NAME),
    ("place count 0", "rg_pc0", {"place_count": 0}, consts.FAIL_INVLD_PLACE_COUNT),
    ("unknown property key", "rg_prop", {"property_dict": {"Foo/bar": "1"}}, consts.FAIL_INVLD_PROP),
]


@pytest.mark.parametrize("case,name,kwargs,expected", RG_CREATE_ERRORS, ids=idfn)
def test_create_errors(lin, case, name, kwargs, expected):
    name = name if case == "invalid name" else uniq(name)
    assert_error(lin.resource_group_create(name, **kwargs), expected)
    assert lin.resource_group_list_raise(filter_by_resource_groups=[name]).resource_groups == []


@pytest.mark.parametrize("bad", ["-bad", "x", "x" * 49, "a b"])
def test_create_invalid_name_is_an_error(lin, bad):
    replies = lin.resource_group_create(bad)
    assert replies and all(r.is_error() for r in replies), replies


def test_create_duplicate_any_case(lin):
    name = uniq("rgdup")
    assert_ok(lin.resource_group_create(name))
    assert_error(lin.resource_group_create(name.upper()), consts.FAIL_EXISTS_RSC_GRP)


def test_modify_keeps_what_is_not_given(lin, cluster):
    """resource_group_modify always sends "select_filter": {} — that changes nothing."""
    name = uniq("rgmod")
    assert_ok(lin.resource_group_create(name, place_count=2, storage_pool=cluster.lvm,
                                        property_dict={"Aux/a": "1"}))
    assert_ok(lin.resource_group_modify(name, description="changed"))
    rg = rg_of(lin, name)
    assert rg.description == "changed"
    assert (rg.select_filter.place_count, rg.select_filter.storage_pool_list) == (2, [cluster.lvm])
    assert_ok(lin.resource_group_modify(name, place_count=3, property_dict={"Aux/b": "2"},
                                        delete_props=["Aux/a"]))
    rg = rg_of(lin, name)
    assert rg.select_filter.place_count == 3 and rg.select_filter.storage_pool_list == [cluster.lvm]
    assert rg.properties.get("Aux/b") == "2" and "Aux/a" not in rg.properties


@pytest.mark.parametrize("case,kwargs,expected", [
    ("unknown group", {"description": "x"}, consts.FAIL_NOT_FOUND_RSC_GRP),
    ("unknown property key", {"property_dict": {"Foo/bar": "1"}}, consts.FAIL_INVLD_PROP),
    ("place count 0", {"place_count": 0}, consts.FAIL_INVLD_PLACE_COUNT),
], ids=idfn)
def test_modify_errors(lin, case, kwargs, expected):
    name = uniq("rgme")
    assert_ok(lin.resource_group_create(name, place_count=2))
    target = uniq("ghost") if case == "unknown group" else name
    assert_error(lin.resource_group_modify(target, **kwargs), expected)
    assert rg_of(lin, name).select_filter.place_count == 2


def test_delete(lin):
    name = uniq("rgdel")
    assert_ok(lin.resource_group_create(name))
    assert_ok(lin.resource_group_delete(name.upper()))
    assert lin.resource_group_list_raise(filter_by_resource_groups=[name]).resource_groups == []


@pytest.fixture
def group_with_definition(lin):
    name = uniq("rgrd")
    assert_ok(lin.resource_group_create(name))
    assert_ok(lin.resource_group_spawn(name, uniq("rdrg"), ["1MiB"], definitions_only=True))
    return name


def test_delete_with_definitions_is_refused(lin, group_with_definition):
    replies = lin.resource_group_delete(group_with_definition)
    assert replies and all(r.is_error() for r in replies), replies
    assert rg_of(lin, group_with_definition).name == group_with_definition


def test_delete_with_definitions_code(lin, group_with_definition):
    """LINSTOR: CtrlRscGrpApiCallHandler.delete."""
    assert_error(lin.resource_group_delete(group_with_definition), consts.FAIL_EXISTS_RSC_DFN)


def test_delete_default_group_is_refused(lin):
    replies = lin.resource_group_delete("DfltRscGrp")
    assert any(r.is_error() for r in replies), replies
    assert rg_of(lin, "DfltRscGrp")


def test_delete_unknown_is_a_warning(lin):
    assert_warning(lin.resource_group_delete(uniq("ghost")), consts.WARN_NOT_FOUND)


# --- volume groups ---------------------------------------------------------------------------------

def test_volume_groups_of_a_new_group_and_unknown_group(lin):
    name = uniq("rgvg")
    assert_ok(lin.resource_group_create(name))
    assert lin.volume_group_list_raise(name).volume_groups == []
    with pytest.raises(linstor.LinstorApiCallError) as e:
        lin.volume_group_list_raise(uniq("ghost"))
    assert e.value.main_error.is_error()


def test_volume_group_create_list_modify_delete(lin):
    name = uniq("rgvg")
    assert_ok(lin.resource_group_create(name))
    assert_ok(lin.volume_group_create(name, property_dict={"Aux/a": "1"}))
    assert_ok(lin.volume_group_create(name, volume_nr=3, gross=True))
    vgs = {v.number: v for v in lin.volume_group_list_raise(name).volume_groups}
    assert set(vgs) == {0, 3}
    assert vgs[0].properties.get("Aux/a") == "1"
    assert "GROSS_SIZE" in vgs[3].flags
    assert_ok(lin.volume_group_modify(name, 0, property_dict={"Aux/b": "2"}, delete_props=["Aux/a"]))
    vg0 = {v.number: v for v in lin.volume_group_list_raise(name).volume_groups}[0]
    assert vg0.properties.get("Aux/b") == "2" and "Aux/a" not in vg0.properties
    assert_ok(lin.volume_group_delete(name, 3))
    assert [v.number for v in lin.volume_group_list_raise(name).volume_groups] == [0]


@pytest.mark.parametrize("case,expected", [
    ("unknown group", consts.FAIL_NOT_FOUND_RSC_GRP),
    ("duplicate number", consts.FAIL_EXISTS_VLM_GRP),
    ("unknown property key", consts.FAIL_INVLD_PROP),
], ids=idfn)
def test_volume_group_create_errors(lin, case, expected):
    name = uniq("rgvge")
    assert_ok(lin.resource_group_create(name))
    assert_ok(lin.volume_group_create(name, volume_nr=0))
    if case == "unknown group":
        replies = lin.volume_group_create(uniq("ghost"))
    elif case == "duplicate number":
        replies = lin.volume_group_create(name, volume_nr=0)
    else:
        replies = lin.volume_group_create(name, volume_nr=1, property_dict={"Foo/bar": "1"})
    assert_error(replies, expected)


def test_volume_group_delete_unknown_is_a_warning(lin):
    name = uniq("rgvgd")
    assert_ok(lin.resource_group_create(name))
    assert_warning(lin.volume_group_delete(name, 7), consts.WARN_NOT_FOUND)


def test_high_level_resource_group(controller, cluster):
    """linstor.ResourceGroup (what plugins use): create with one volume group, then modify."""
    name = uniq("hlrg")
    rg = linstor.ResourceGroup(name, uri=controller.url)
    assert rg.nr_volumes == 1
    rg.redundancy = 2
    rg.storage_pool = [cluster.lvm]
    again = linstor.ResourceGroup(name, uri=controller.url)
    assert (again.redundancy, again.storage_pool, again.nr_volumes) == (2, [cluster.lvm], 1)


# --- spawn -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def group(lin, cluster):
    name = uniq("rgsp")
    assert_ok(lin.resource_group_create(name, place_count=2, storage_pool=cluster.lvm))
    return name


def test_spawn_on_offline_nodes_is_not_enough_nodes(lin, group):
    """The autoplacer only uses online nodes; spawn is one transaction: nothing is left behind."""
    rd = uniq("rdsp")
    assert_error(lin.resource_group_spawn(group, rd, ["1GiB"]), consts.FAIL_NOT_ENOUGH_NODES)
    assert rd not in rd_names(lin)
    assert lin.resource_list_raise(filter_by_resources=[rd]).resources == []


def test_spawn_definitions_only(lin, group):
    rd = uniq("rdso")
    assert_ok(lin.resource_group_spawn(group, rd, ["1GiB", "512MiB"], definitions_only=True))
    [d] = lin.resource_dfn_list_raise(filter_by_resource_definitions=[rd]).resource_definitions
    assert d.resource_group_name == group
    assert [(v.number, v.size) for v in d.volume_definitions] == [(0, 1048576), (1, 524288)]
    assert lin.resource_list_raise(filter_by_resources=[rd]).resources == []


SPAWN_ERRORS = [
    # (case, group ("" = the module's), RD name, sizes, kwargs, expected)
    ("unknown pool", "", "rdpool", ["1GiB"], {"storage_pool": ["nosuchpool"]}, consts.FAIL_NOT_ENOUGH_NODES),
    ("size 0", "", "rdzero", [0], {"definitions_only": True}, consts.FAIL_INVLD_VLM_SIZE),
    ("unknown group", "ghostrg", "rdghost", ["1GiB"], {}, consts.FAIL_NOT_FOUND_RSC_GRP),
    ("invalid RD name", "", "-bad", ["1GiB"], {"definitions_only": True}, consts.FAIL_INVLD_RSC_NAME),
    ("place count 0", "", "rdpc", ["1GiB"], {"place_count": 0}, consts.FAIL_INVLD_PLACE_COUNT),
]


@pytest.mark.parametrize("case,rg,rd,sizes,kwargs,expected", SPAWN_ERRORS, ids=idfn)
def test_spawn_errors(lin, group, case, rg, rd, sizes, kwargs, expected):
    rd = rd if rd.startswith("-") else uniq(rd)
    before = rd_names(lin)
    assert_error(lin.resource_group_spawn(rg or group, rd, sizes, **kwargs), expected)
    assert rd_names(lin) == before


def test_spawn_duplicate_definition_any_case(lin, group):
    rd = uniq("rddup")
    assert_ok(lin.resource_group_spawn(group, rd, ["1GiB"], definitions_only=True))
    assert_error(lin.resource_group_spawn(group, rd.upper(), ["1GiB"], definitions_only=True),
                 consts.FAIL_EXISTS_RSC_DFN)


def test_spawn_with_external_name(lin, group):
    """The client sends resource_definition_name "" and the external name; LINSTOR generates the
    name from the external name (invalid characters replaced) and answers it in obj_refs."""
    replies = assert_ok(lin.resource_group_spawn(group, "", ["1GiB"], definitions_only=True,
                                                 external_name="Ext Name ü"))
    rd = next(r.object_refs["RscDfn"] for r in replies if "RscDfn" in r.object_refs)
    [d] = lin.resource_dfn_list_raise(filter_by_resource_definitions=[rd]).resource_definitions
    assert d.external_name == "Ext Name ü"


# --- size queries --------------------------------------------------------------------------------

def test_query_size_info_offline(lin, group):
    resp = lin.resource_group_query_size_info(group)
    assert not isinstance(resp, linstor.ApiCallResponse), resp
    assert resp.space_info.max_vlm_size_in_kib == 0


def test_query_size_info_unknown_group(lin):
    resp = lin.resource_group_query_size_info(uniq("ghost"))
    assert isinstance(resp, linstor.ApiCallResponse) and resp.is_error()
    assert_error([resp], consts.FAIL_NOT_FOUND_RSC_GRP)


def test_query_max_volume_size_unknown_group(lin):
    assert_error(lin.resource_group_qmvs(uniq("ghost")), consts.FAIL_NOT_FOUND_RSC_GRP)
