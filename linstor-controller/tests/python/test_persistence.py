"""Persistence: objects made through python-linstor are all there, unchanged, after the
controller is stopped with SIGTERM and started again on the same data directory."""

from types import SimpleNamespace

import linstor

from support import assert_ok, uniq

VIEWS = [
    "/v1/nodes",
    "/v1/view/storage-pools",
    "/v1/resource-groups",
    "/v1/resource-definitions?with_volume_definitions=true",
    "/v1/view/resources",
    "/v1/controller/properties",
    "/v1/key-value-store",
    "/v1/view/snapshots",
    "/v1/storage-pool-definitions",
]


def snapshot(controller, paths):
    """Every list as JSON, plus every group's volume groups and every definition's details."""
    state = {p: controller.get_json(p) for p in paths}
    for rg in state.get("/v1/resource-groups", []):
        p = f"/v1/resource-groups/{rg['name']}/volume-groups"
        state[p] = controller.get_json(p)
    for rd in state.get("/v1/resource-definitions?with_volume_definitions=true", []):
        p = f"/v1/resource-definitions/{rd['name']}"
        state[p] = controller.get_json(p)
    return state


def populate(lin):
    n1, n2 = uniq("pn"), uniq("pn")
    assert_ok(lin.node_create(n1, "Satellite", "127.0.8.1", property_dict={"Aux/rack": "r1"}))
    assert_ok(lin.node_create(n2, "Combined", "127.0.8.2", port=7001))
    assert_ok(lin.netinterface_create(n1, "eth1", "127.0.8.3"))
    for n in (n1, n2):
        assert_ok(lin.storage_pool_create(n, "pool_lvm", "LVM", "vg0", property_dict={"Aux/tier": "hdd"}))
        assert_ok(lin.storage_pool_create(n, "pool_thin", "LVM_THIN", "vg0/thin"))
        assert_ok(lin.storage_pool_create(n, "pool_zfs", "ZFS_THIN", "tank"))
    rg = uniq("prg")
    assert_ok(lin.resource_group_create(rg, description="persisted", place_count=2,
                                        storage_pool=["pool_lvm", "pool_thin"], replicas_on_different=["Aux/rack"],
                                        property_dict={"Aux/owner": "pytest"}))
    assert_ok(lin.resource_group_modify(rg, property_dict={"Aux/changed": "yes"}))
    for i in range(2):
        assert_ok(lin.resource_group_spawn(rg, uniq("prd"), ["1GiB", "20MiB"], definitions_only=True))
    return SimpleNamespace(nodes=[n1, n2], rg=rg)


def test_everything_survives_a_restart(own_controller):
    lin = own_controller.client()
    made = populate(lin)
    before = snapshot(own_controller, VIEWS)
    assert {n["name"] for n in before["/v1/nodes"]} == set(made.nodes)

    own_controller.restart()
    after = snapshot(own_controller, VIEWS)
    assert after == before

    # the client sees the same, and the restarted controller takes new work
    lin = own_controller.client()
    assert {n.name for n in lin.node_list_raise().nodes} == set(made.nodes)
    assert lin.resource_group_list_raise([made.rg]).resource_groups[0].description == "persisted"
    n3 = uniq("pn")
    assert_ok(lin.node_create(n3, "Satellite", "127.0.8.4"))
    again = snapshot(own_controller, VIEWS)
    own_controller.restart()
    assert snapshot(own_controller, VIEWS) == again


def test_deletions_survive_a_restart(own_controller):
    lin = own_controller.client()
    made = populate(lin)
    rd = lin.resource_dfn_list_raise().resource_definitions[0].name
    assert_ok(lin.resource_dfn_delete(rd))
    assert_ok(lin.storage_pool_delete(made.nodes[1], "pool_zfs"))
    assert_ok(lin.netinterface_delete(made.nodes[0], "eth1"))
    assert_ok(lin.node_lost(made.nodes[1]))
    before = snapshot(own_controller, VIEWS)
    own_controller.restart()
    assert snapshot(own_controller, VIEWS) == before
    lin = own_controller.client()
    assert rd not in {d.name for d in lin.resource_dfn_list_raise().resource_definitions}
    assert [n.name for n in lin.node_list_raise().nodes] == [made.nodes[0]]


def test_sigterm_exits_cleanly(own_controller):
    own_controller.client()
    assert own_controller.stop() == 0


def test_objects_made_one_by_one_survive_a_restart(own_controller):
    """Definitions, volumes, resources, volume groups, key-value stores, controller properties,
    storage pool definitions and properties modified in place."""
    lin = own_controller.client()
    made = populate(lin)
    assert_ok(lin.controller_set_prop("Aux/site", "lab"))
    assert_ok(lin.keyvaluestore_modify("pkvs", property_dict={"k": "v"}))
    assert_ok(lin.volume_group_create(made.rg, volume_nr=0, property_dict={"Aux/vg": "1"}))
    assert_ok(lin.node_modify(made.nodes[0], property_dict={"Aux/zone": "z1"}))
    assert_ok(lin.storage_pool_modify(made.nodes[0], "pool_lvm", {"Aux/x": "1"}))
    assert_ok(lin.storage_pool_dfn_create("pool_spare"))
    rd = uniq("prd")
    assert_ok(lin.resource_dfn_create(rd, resource_group=made.rg))
    assert_ok(lin.volume_dfn_create(rd, 1024 * 1024))
    assert_ok(lin.resource_dfn_modify(rd, {"Aux/rd": "1"}))
    assert_ok(lin.resource_create([linstor.ResourceData(made.nodes[0], rd, storage_pool="pool_lvm"),
                                   linstor.ResourceData(made.nodes[1], rd, drbd_diskless=True)]))
    before = snapshot(own_controller, VIEWS)
    own_controller.restart()
    assert snapshot(own_controller, VIEWS) == before
