"""Nodes and net interfaces through python-linstor: create, list, filter, modify, delete, lost,
evacuate/restore, and their error paths. Nodes stay OFFLINE: no satellite runs."""

import linstor
import pytest
from linstor import consts

from support import assert_error, assert_ok, assert_warning, idfn, uniq



def by_name(nodes):
    return {n.name: n for n in nodes}


def test_create_list_and_filter(lin):
    a, b = uniq("na"), uniq("nb")
    assert_ok(lin.node_create(a, "Satellite", "127.0.3.1", property_dict={"Aux/rack": "r1"}))
    assert_ok(lin.node_create(b, "satellite", "127.0.3.2", port=7000))  # the CLI sends lower case
    nodes = by_name(lin.node_list_raise(filter_by_nodes=[a.upper(), b]).nodes)  # names: any case
    assert set(nodes) == {a, b}
    na, nb = nodes[a], nodes[b]
    assert na.type.lower() == "satellite"
    assert na.connection_status == "OFFLINE"
    assert na.props["Aux/rack"] == "r1"
    [nif] = na.net_interfaces
    assert (nif.name, nif.address, nif.stlt_port) == ("default", "127.0.3.1", consts.DFLT_STLT_PORT_PLAIN)
    assert nif.stlt_encryption_type.lower() == "plain"
    assert nb.net_interfaces[0].stlt_port == 7000
    # property filters: Key=Value and Key alone
    assert a in by_name(lin.node_list_raise(filter_by_props=["Aux/rack=r1"]).nodes)
    assert b not in by_name(lin.node_list_raise(filter_by_props=["Aux/rack=r1"]).nodes)
    assert a in by_name(lin.node_list_raise(filter_by_props=["Aux/rack"]).nodes)
    # the unfiltered list has both, and a filter that matches nothing is an empty list
    assert {a, b} <= set(by_name(lin.node_list_raise().nodes))
    assert lin.node_list_raise(filter_by_nodes=[uniq("absent")]).nodes == []


@pytest.mark.parametrize("node_type,port", [
    ("Satellite", consts.DFLT_STLT_PORT_PLAIN),
    ("Combined", consts.DFLT_STLT_PORT_PLAIN),
    ("Controller", consts.DFLT_CTRL_PORT_PLAIN),
])
def test_node_types(lin, node_type, port):
    name = uniq("nt")
    assert_ok(lin.node_create(name, node_type, "127.0.3.3"))
    [node] = lin.node_list_raise([name]).nodes
    assert node.type.lower() == node_type.lower()
    assert node.net_interfaces[0].stlt_port == port


@pytest.mark.parametrize("bad", ["-bad", "bad_name", "a b", "x" * 256, "", "bad-"])
def test_create_invalid_name(lin, bad):
    assert_error(lin.node_create(bad, "Satellite", "127.0.3.4"), consts.FAIL_INVLD_NODE_NAME)


def test_create_duplicate_any_case(lin):
    name = uniq("dup")
    assert_ok(lin.node_create(name, "Satellite", "127.0.3.5"))
    for again in (name, name.upper()):
        assert_error(lin.node_create(again, "Satellite", "127.0.3.6"), consts.FAIL_EXISTS_NODE)
    [node] = lin.node_list_raise([name]).nodes
    assert node.name == name and node.net_interfaces[0].address == "127.0.3.5"


def test_create_unknown_property_key(lin):
    name = uniq("np")
    assert_error(lin.node_create(name, "Satellite", "127.0.3.7", property_dict={"Foo/bar": "1"}),
                 consts.FAIL_INVLD_PROP)
    assert lin.node_list_raise([name]).nodes == []


def test_unknown_node_is_404_rc_list(lin):
    """GET of one unknown object answers 404 with an rc list; the client returns it."""
    replies = lin.net_interface_list(uniq("ghost"))
    assert_error(replies, consts.FAIL_NOT_FOUND_NODE)


def test_delete(lin, cluster):
    name = uniq("del")
    assert_ok(lin.node_create(name, "Satellite", "127.0.3.8"))
    assert_ok(lin.storage_pool_create(name, "pool_del", "LVM", "vg0"))
    assert_ok(lin.node_delete(name.upper()))
    assert lin.node_list_raise([name]).nodes == []
    assert lin.storage_pool_list_raise(filter_by_nodes=[name]).storage_pools == []


def test_lost(lin):
    name = uniq("lost")
    assert_ok(lin.node_create(name, "Satellite", "127.0.3.9"))
    assert_ok(lin.node_lost(name))
    assert lin.node_list_raise([name]).nodes == []


@pytest.mark.parametrize("call", [
    pytest.param(lambda lin, n: lin.node_delete(n), id="delete"),
    pytest.param(lambda lin, n: lin.node_lost(n), id="lost"),
])
def test_delete_unknown_is_a_warning(lin, call):
    assert_warning(call(lin, uniq("ghost")), consts.WARN_NOT_FOUND)


def test_name_with_slash_reaches_the_handler(lin):
    """Path parts are percent-encoded (`/` as %2F): the answer is about the name, not the path."""
    replies = lin.node_delete("a/b")
    assert replies and all(isinstance(r, linstor.ApiCallResponse) for r in replies)
    assert any("a/b" in (r.message or "") + (r.cause or "") for r in replies), replies


def test_modify_properties(lin):
    name = uniq("mod")
    assert_ok(lin.node_create(name, "Satellite", "127.0.4.1", property_dict={"Aux/a": "1"}))
    assert_ok(lin.node_modify(name, property_dict={"Aux/b": "2"}, delete_props=["Aux/a"]))
    [node] = lin.node_list_raise([name]).nodes
    assert node.props.get("Aux/b") == "2" and "Aux/a" not in node.props


@pytest.mark.parametrize("case,expected", [
    ("unknown node", consts.FAIL_NOT_FOUND_NODE),
    ("unknown key", consts.FAIL_INVLD_PROP),
], ids=idfn)
def test_modify_errors(lin, case, expected):
    name = uniq("mode")
    assert_ok(lin.node_create(name, "Satellite", "127.0.4.2"))
    if case == "unknown node":
        replies = lin.node_modify(uniq("ghost"), property_dict={"Aux/a": "1"})
    else:
        replies = lin.node_modify(name, property_dict={"Foo/bar": "1"})
    assert_error(replies, expected)


def test_evacuate_and_restore(lin):
    name = uniq("evac")
    assert_ok(lin.node_create(name, "Satellite", "127.0.4.3"))
    assert_ok(lin.node_evacuate(name))
    [node] = lin.node_list_raise([name]).nodes
    assert "EVACUATE" in node.flags
    assert_ok(lin.node_restore(name))
    [node] = lin.node_list_raise([name]).nodes
    assert "EVACUATE" not in node.flags


@pytest.mark.parametrize("call", [
    pytest.param(lambda lin, n: lin.node_evacuate(n), id="evacuate"),
    pytest.param(lambda lin, n: lin.node_restore(n), id="restore"),
    pytest.param(lambda lin, n: lin.node_reconnect([n]), id="reconnect"),
])
def test_node_actions_on_unknown_node(lin, call):
    assert_error(call(lin, uniq("ghost")), consts.FAIL_NOT_FOUND_NODE)


def test_reconnect(lin):
    name = uniq("rec")
    assert_ok(lin.node_create(name, "Satellite", "127.0.4.4"))
    replies = lin.node_reconnect([name])
    assert not any(r.is_error() for r in replies), replies


# --- net interfaces --------------------------------------------------------------------------------

def test_netif_create_list_delete(lin):
    node = uniq("nif")
    assert_ok(lin.node_create(node, "Satellite", "127.0.5.1"))
    assert_ok(lin.netinterface_create(node, "eth1", "127.0.5.2"))
    assert_ok(lin.netinterface_create(node, "eth2", "127.0.5.3", port=3367, com_type="Plain"))
    listed = {i.name: i for i in lin.node_list_raise([node]).nodes[0].net_interfaces}
    assert set(listed) == {"default", "eth1", "eth2"}
    assert listed["eth1"].address == "127.0.5.2"
    assert listed["eth2"].stlt_port == 3367
    raw = {i["name"]: i for i in (r._rest_data for r in lin.net_interface_list(node))}
    assert set(raw) == set(listed)
    assert_ok(lin.netinterface_delete(node, "ETH1"))
    assert {i.name for i in lin.node_list_raise([node]).nodes[0].net_interfaces} == {"default", "eth2"}


NETIF_ERRORS = [
    # (case, interface name, address, expected)
    ("unknown node", "eth1", "127.0.5.9", consts.FAIL_NOT_FOUND_NODE),
    ("invalid name", "-eth", "127.0.5.9", consts.FAIL_INVLD_NET_NAME),
    ("name too short", "e1", "127.0.5.9", consts.FAIL_INVLD_NET_NAME),
    ("invalid address", "eth1", "not-an-ip", consts.FAIL_INVLD_NET_ADDR),
    ("duplicate, other case", "DEFAULT", "127.0.5.9", consts.FAIL_EXISTS_NET_IF),
]


@pytest.mark.parametrize("case,netif,address,expected", NETIF_ERRORS, ids=idfn)
def test_netif_create_errors(lin, case, netif, address, expected):
    node = uniq("nife")
    assert_ok(lin.node_create(node, "Satellite", "127.0.5.8"))
    target = uniq("ghost") if case == "unknown node" else node
    assert_error(lin.netinterface_create(target, netif, address), expected)


def test_netif_delete_unknown_is_a_warning(lin):
    node = uniq("nifd")
    assert_ok(lin.node_create(node, "Satellite", "127.0.5.7"))
    assert_warning(lin.netinterface_delete(node, "eth9"), consts.WARN_NOT_FOUND)


def test_netif_modify(lin):
    node = uniq("nifm")
    assert_ok(lin.node_create(node, "Satellite", "127.0.6.1"))
    assert_ok(lin.netinterface_create(node, "eth1", "127.0.6.2"))
    assert_ok(lin.netinterface_modify(node, "eth1", ip="127.0.6.3", port=3377, com_type="Plain"))
    nif = {i.name: i for i in lin.node_list_raise([node]).nodes[0].net_interfaces}["eth1"]
    assert (nif.address, nif.stlt_port) == ("127.0.6.3", 3377)


def test_netif_modify_unknown(lin):
    node = uniq("nifu")
    assert_ok(lin.node_create(node, "Satellite", "127.0.6.4"))
    assert_error(lin.netinterface_modify(node, "eth7", ip="127.0.6.5"), consts.FAIL_NOT_FOUND_NET_IF)
