"""Resources and volumes through python-linstor: explicit placement on named nodes and pools
(accepted on OFFLINE nodes), autoplace (refused: the autoplacer only uses online nodes), lists,
delete, make-available, toggle-disk, activate/deactivate, connections."""

import json

import linstor
import pytest
from linstor import consts

from support import assert_error, assert_ok, assert_warning, code_of, idfn, matches, uniq


@pytest.fixture(scope="module")
def group(lin, cluster):
    name = uniq("rgrs")
    assert_ok(lin.resource_group_create(name, place_count=2, storage_pool=cluster.lvm))
    return name


@pytest.fixture
def rd(lin, group):
    """A definition with one 1 GiB volume, no resources (spawn with definitions_only)."""
    name = uniq("rdrs")
    assert_ok(lin.resource_group_spawn(group, name, ["1GiB"], definitions_only=True))
    return name


def resources(lin, rd):
    return {r.node_name: r for r in lin.resource_list_raise(filter_by_resources=[rd]).resources}


def test_list_of_a_definition_without_resources(lin, rd):
    assert lin.resource_list_raise(filter_by_resources=[rd]).resources == []
    [resp] = lin.volume_list(filter_by_resources=[rd])
    assert resp.resources == []


def test_autoplace_on_offline_nodes_is_not_enough_nodes(lin, rd, cluster):
    assert_error(lin.resource_auto_place(rd, 2, storage_pool=cluster.lvm), consts.FAIL_NOT_ENOUGH_NODES)
    assert resources(lin, rd) == {}


@pytest.mark.parametrize("case,kwargs,expected", [
    ("unknown pool", {"place_count": 1, "storage_pool": "nosuchpool"}, consts.FAIL_NOT_ENOUGH_NODES),
    ("unknown definition", {"place_count": 1}, consts.FAIL_NOT_FOUND_RSC_DFN),
    ("diskless on remaining", {"place_count": 1, "diskless_on_remaining": True}, consts.FAIL_NOT_ENOUGH_NODES),
], ids=idfn)
def test_autoplace_errors(lin, rd, case, kwargs, expected):
    target = uniq("ghost") if case == "unknown definition" else rd
    assert_error(lin.resource_auto_place(target, **kwargs), expected)
    assert resources(lin, rd) == {}


def test_create_and_auto_place_convenience(lin, cluster):
    """resource_create_and_auto_place (plugins): RD and VD are made, then autoplace refuses."""
    name = uniq("rdcap")
    replies = lin.resource_create_and_auto_place(name, 1024, 1, storage_pool=cluster.lvm)
    assert_error(replies, consts.FAIL_NOT_ENOUGH_NODES)


@pytest.mark.parametrize("case", ["unknown node", "unknown definition"])
def test_delete_unknown_is_a_warning(lin, rd, cluster, case):
    if case == "unknown node":
        replies = lin.resource_delete(uniq("ghost"), rd)
    else:
        replies = lin.resource_delete(cluster.nodes[0], uniq("ghost"))
    assert_warning(replies, consts.WARN_NOT_FOUND)


def test_create_on_named_nodes_and_pools(lin, rd, cluster):
    """Explicit placement on offline nodes is accepted (LINSTOR adds WARN_NOT_CONNECTED). Two
    diskful replicas want a tiebreaker, which only an online node can hold: LINSTOR warns
    (CtrlRscAutoTieBreakerHelper)."""
    n0, n1 = cluster.nodes[:2]
    replies = assert_ok(lin.resource_create([
        linstor.ResourceData(n0, rd, storage_pool=cluster.lvm),
        linstor.ResourceData(n1, rd, storage_pool=cluster.lvm),
    ]))
    allowed = {code_of(w) for w in (consts.WARN_NOT_CONNECTED, consts.WARN_NOT_FOUND,
                                    consts.WARN_NOT_ENOUGH_NODES_FOR_TIE_BREAKER)}
    assert all(r.is_success() or r.is_info() and not r.is_warning() or code_of(r.ret_code) in allowed
               for r in replies), replies
    rscs = resources(lin, rd)
    assert set(rscs) == {n0, n1} or set(rscs) >= {n0, n1}  # a tiebreaker needs an online node
    for node in (n0, n1):
        [vol] = rscs[node].volumes
        assert vol.number == 0 and vol.storage_pool_name == cluster.lvm
        assert vol.storage_pool_driver_name == "LVM"
    # volume_list filters by pool
    [resp] = lin.volume_list(filter_by_stor_pools=[cluster.lvm], filter_by_resources=[rd])
    assert sorted(r.node_name for r in resp.resources) == sorted([n0, n1])
    [resp] = lin.volume_list(filter_by_stor_pools=[cluster.thin], filter_by_resources=[rd])
    assert resp.resources == []
    # the resource states the client derives
    assert {s.node_name for s in lin.resource_list_raise(filter_by_resources=[rd]).resource_states} >= {n0, n1}


def test_create_in_a_pool_of_another_provider_is_refused(lin, rd, cluster):
    """LINSTOR mixes LVM with LVM_THIN only with AllowMixingStoragePoolDriver=true and DRBD 9.1.18+
    (< 9.2) or 9.2.7+ on both nodes (CtrlStorPoolResolveHelper.checkSameKindAsPeers)."""
    n0, n1 = cluster.nodes[:2]
    assert_ok(lin.resource_create([linstor.ResourceData(n0, rd, storage_pool=cluster.lvm)]))
    assert_error(lin.resource_create([linstor.ResourceData(n1, rd, storage_pool=cluster.thin)]),
                 consts.FAIL_INVLD_STOR_DRIVER)
    assert set(resources(lin, rd)) == {n0}


def test_create_diskless(lin, rd, cluster):
    n0, n2 = cluster.nodes[0], cluster.nodes[2]
    assert_ok(lin.resource_create([linstor.ResourceData(n0, rd, storage_pool=cluster.lvm)]))
    assert_ok(lin.resource_create([linstor.ResourceData(n2, rd, drbd_diskless=True)]))
    flags = resources(lin, rd)[n2].flags
    assert "DRBD_DISKLESS" in flags and "DISKLESS" in flags  # the client tests the legacy flag


RSC_CREATE_ERRORS = [
    # (case, node index or None for an unknown node, pool ("lvm", "thin" or a name), expected)
    ("unknown node", None, "lvm", consts.FAIL_NOT_FOUND_NODE),
    # LINSTOR's CtrlApiDataLoader.loadStorPool: the same code when only this node lacks the pool
    ("unknown pool", 0, "nosuchpool", consts.FAIL_NOT_FOUND_STOR_POOL_DFN),
    ("pool of other nodes only", 0, "pool_other_node", consts.FAIL_NOT_FOUND_STOR_POOL_DFN),
    ("invalid pool name", 0, "-bad", consts.FAIL_INVLD_STOR_POOL_NAME),
]


@pytest.mark.parametrize("case,node,pool,expected", RSC_CREATE_ERRORS, ids=idfn)
def test_create_errors(lin, rd, cluster, case, node, pool, expected):
    node = uniq("ghost") if node is None else cluster.nodes[node]
    pool = {"lvm": cluster.lvm, "thin": cluster.thin}.get(pool, pool)
    if case == "pool of other nodes only":
        replies = lin.storage_pool_create(cluster.nodes[2], pool, "LVM", "vg1")
        assert replies[0].is_success() or any(r.is_error() for r in replies)  # may exist already
    assert_error(lin.resource_create([linstor.ResourceData(node, rd, storage_pool=pool)]), expected)
    assert resources(lin, rd) == {}


def test_create_in_unknown_definition(lin, cluster):
    assert_error(lin.resource_create([linstor.ResourceData(cluster.nodes[0], uniq("ghost"),
                                                           storage_pool=cluster.lvm)]),
                 consts.FAIL_NOT_FOUND_RSC_DFN)


def test_create_duplicate(lin, rd, cluster):
    n0 = cluster.nodes[0]
    assert_ok(lin.resource_create([linstor.ResourceData(n0, rd, storage_pool=cluster.lvm)]))
    assert_error(lin.resource_create([linstor.ResourceData(n0.upper(), rd, storage_pool=cluster.lvm)]),
                 consts.FAIL_EXISTS_RSC)


def test_delete_waits_for_the_satellite(lin, rd, cluster):
    """LINSTOR deletes in two phases: the resource is flagged DELETE until its satellite confirms
    (gone at once with simulated satellites, test_simulated.py); `node lost` takes it with the
    node."""
    n0, n1 = cluster.nodes[:2]
    assert_ok(lin.resource_create([linstor.ResourceData(n, rd, storage_pool=cluster.lvm) for n in (n0, n1)]))
    assert_ok(lin.resource_delete(n1, rd))
    rscs = resources(lin, rd)
    assert "DELETE" in rscs[n1].flags and "DELETE" not in rscs[n0].flags
    # the node goes: so does its flagged resource
    lost = uniq("lostn")
    assert_ok(lin.node_create(lost, "Satellite", "127.0.2.9"))
    assert_ok(lin.storage_pool_create(lost, cluster.lvm, "LVM", "vg0"))
    assert_ok(lin.resource_create([linstor.ResourceData(lost, rd, storage_pool=cluster.lvm)]))
    assert_ok(lin.resource_delete(lost, rd))
    assert "DELETE" in resources(lin, rd)[lost].flags
    assert_ok(lin.node_lost(lost))
    assert lost not in resources(lin, rd)


def test_definition_delete_flags_it_and_its_resources(lin, rd, cluster):
    """An RD delete flags the definition and its resources DELETE; they go when the satellites
    confirm (with simulated satellites at once: test_simulated.py)."""
    assert_ok(lin.resource_create([linstor.ResourceData(cluster.nodes[0], rd, storage_pool=cluster.lvm)]))
    assert_ok(lin.resource_dfn_delete(rd))
    [r] = lin.resource_list_raise(filter_by_resources=[rd]).resources
    assert r.node_name == cluster.nodes[0] and "DELETE" in r.flags
    [d] = lin.resource_dfn_list_raise(filter_by_resource_definitions=[rd]).resource_definitions
    assert "DELETE" in d.flags


def test_modify_resource_and_volume_properties(lin, rd, cluster):
    n0 = cluster.nodes[0]
    assert_ok(lin.resource_create([linstor.ResourceData(n0, rd, storage_pool=cluster.lvm)]))
    assert_ok(lin.resource_modify(n0, rd, {"Aux/a": "1"}))
    assert_ok(lin.volume_modify(n0, rd, 0, {"Aux/v": "2", "Aux/w": "3"}))
    assert_ok(lin.volume_modify(n0, rd, 0, {}, delete_props=["Aux/w"]))
    r = resources(lin, rd)[n0]
    assert r.properties.get("Aux/a") == "1"
    assert r.volumes[0].properties.get("Aux/v") == "2"
    assert "Aux/w" not in r.volumes[0].properties
    assert_error(lin.resource_modify(n0, rd, {"Foo/bar": "1"}), consts.FAIL_INVLD_PROP)


@pytest.mark.parametrize("case,expected", [
    ("invalid property", consts.FAIL_INVLD_PROP),
    ("unknown volume", consts.FAIL_NOT_FOUND_VLM),
    ("unknown resource", consts.FAIL_NOT_FOUND_RSC),
    ("unknown definition", consts.FAIL_NOT_FOUND_RSC_DFN),
], ids=idfn)
def test_volume_modify_errors_change_nothing(lin, rd, cluster, case, expected):
    n0, n1 = cluster.nodes[:2]
    assert_ok(lin.resource_create([linstor.ResourceData(n0, rd, storage_pool=cluster.lvm)]))
    node, target, nr, props = {
        "invalid property": (n0, rd, 0, {"Foo/bar": "1"}),
        "unknown volume": (n0, rd, 7, {"Aux/v": "1"}),
        "unknown resource": (n1, rd, 0, {"Aux/v": "1"}),
        "unknown definition": (n0, uniq("ghost"), 0, {"Aux/v": "1"}),
    }[case]
    replies = assert_error(lin.volume_modify(node, target, nr, props), expected)
    assert all(r.cause or r.correction for r in replies if r.is_error()), replies
    assert resources(lin, rd)[n0].volumes[0].properties.get("Aux/v") is None


def test_volume_list_and_one_volume(lin, rd, cluster, controller):
    """`GET …/volumes` lists (offset/limit), `GET …/volumes/{nr}` answers the object; an
    unknown number is 404 FAIL_NOT_FOUND_VLM."""
    n0 = cluster.nodes[0]
    assert_ok(lin.resource_create([linstor.ResourceData(n0, rd, storage_pool=cluster.lvm)]))
    base = f"/v1/resource-definitions/{rd}/resources/{n0}/volumes"
    [v] = controller.get_json(base)
    assert v["volume_number"] == 0 and v["storage_pool_name"] == cluster.lvm
    assert controller.get_json(base + "?offset=1") == []
    assert controller.get_json(base + "/0") == v
    status, _, body, _ = controller.http("GET", base + "/5", pending_aware=False)
    assert status == 404
    [rc] = [linstor.ApiCallResponse(x) for x in json.loads(body)]
    assert matches(rc, consts.FAIL_NOT_FOUND_VLM), rc


def test_make_available_diskless(lin, rd, cluster):
    n0, n1 = cluster.nodes[:2]
    assert_ok(lin.resource_create([linstor.ResourceData(n0, rd, storage_pool=cluster.lvm)]))
    replies = lin.resource_make_available(n1, rd, diskful=False)
    assert not any(r.is_error() for r in replies), replies
    assert "DISKLESS" in resources(lin, rd)[n1].flags
    # already there: nothing to do, no error
    replies = lin.resource_make_available(n0, rd, diskful=True)
    assert not any(r.is_error() for r in replies), replies


def test_make_available_unknown_definition(lin, cluster):
    assert_error(lin.resource_make_available(cluster.nodes[0], uniq("ghost")), consts.FAIL_NOT_FOUND_RSC_DFN)


def test_toggle_disk(lin, rd, cluster):
    n0, n1 = cluster.nodes[:2]
    assert_ok(lin.resource_create([linstor.ResourceData(n0, rd, storage_pool=cluster.lvm)]))
    assert_ok(lin.resource_create([linstor.ResourceData(n1, rd, drbd_diskless=True)]))
    replies = lin.resource_toggle_disk(n1, rd, storage_pool=cluster.lvm)
    assert not any(r.is_error() for r in replies), replies
    assert "DISKLESS" not in resources(lin, rd)[n1].flags


def test_toggle_disk_unknown_resource(lin, rd, cluster):
    assert_error(lin.resource_toggle_disk(cluster.nodes[2], rd, diskless=True), consts.FAIL_NOT_FOUND_RSC)


def test_deactivate(lin, rd, cluster):
    n0 = cluster.nodes[0]
    assert_ok(lin.resource_create([linstor.ResourceData(n0, rd, storage_pool=cluster.lvm)]))
    replies = lin.resource_deactivate(n0, rd)
    assert not any(r.is_error() for r in replies), replies
    assert "INACTIVE" in resources(lin, rd)[n0].flags


@pytest.mark.parametrize("action", ["activate", "deactivate"])
def test_activate_unknown_resource(lin, rd, cluster, action):
    call = lin.resource_activate if action == "activate" else lin.resource_deactivate
    assert_error(call(cluster.nodes[2], rd), consts.FAIL_NOT_FOUND_RSC)


def test_resource_connections(lin, rd, cluster):
    n0, n1 = cluster.nodes[:2]
    assert_ok(lin.resource_create([linstor.ResourceData(n, rd, storage_pool=cluster.lvm) for n in (n0, n1)]))
    assert_ok(lin.resource_conn_modify(rd, n0, n1, {"DrbdOptions/Net/protocol": "C"}, []))
    conns = lin.resource_conn_list_raise(rd).resource_connections
    [conn] = [c for c in conns if {c.node_a, c.node_b} == {n0, n1}]
    assert conn.properties.get("DrbdOptions/Net/protocol") == "C"


def test_node_connections(lin, cluster):
    n0, n1 = cluster.nodes[:2]
    assert_ok(lin.node_conn_modify(n0, n1, {"Aux/link": "fast"}, []))
    conns = lin.node_conn_list_raise(n0, n1)
    assert any(c.properties.get("Aux/link") == "fast" for c in conns.node_connections)
    assert_error(lin.node_conn_modify(n0, uniq("ghost"), {"Aux/a": "1"}, []), consts.FAIL_NOT_FOUND_NODE)
