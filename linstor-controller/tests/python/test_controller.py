"""Controller properties, key-value stores and error reports through python-linstor."""

import linstor
import pytest
from linstor import consts

from support import assert_error, assert_ok, assert_warning, uniq


def test_properties_list(lin):
    [props] = lin.controller_props()
    assert isinstance(props.properties, dict)


def test_set_and_delete_property(lin):
    key = f"Aux/{uniq('ctl')}"
    assert_ok(lin.controller_set_prop(key, "v1"))
    assert lin.controller_props()[0].properties.get(key) == "v1"
    assert_ok(lin.controller_set_prop(key, "v2"))
    assert lin.controller_props()[0].properties.get(key) == "v2"
    assert_ok(lin.controller_del_prop(key))
    assert key not in lin.controller_props()[0].properties


def test_set_a_documented_property(lin):
    assert_ok(lin.controller_set_prop("DrbdOptions/Net/max-buffers", "8000"))
    assert lin.controller_props()[0].properties.get("DrbdOptions/Net/max-buffers") == "8000"
    assert_ok(lin.controller_del_prop("DrbdOptions/Net/max-buffers"))


@pytest.mark.parametrize("key,value", [
    ("Foo/bar", "1"),
    ("DrbdOptions/Net/max-buffers", "lots"),
])
def test_set_invalid_property(lin, key, value):
    assert_error(lin.controller_set_prop(key, value), consts.FAIL_INVLD_PROP)
    assert key not in lin.controller_props()[0].properties


# --- key-value stores ------------------------------------------------------------------------------

def test_kvs_modify_and_list(lin):
    name = uniq("kvs")
    assert_ok(lin.keyvaluestore_modify(name, property_dict={"a": "1", "dir/b": "2"}))
    assert name in lin.keyvaluestores().instances()
    assert lin.keyvaluestore_list(name).properties == {"a": "1", "dir/b": "2"}
    assert_ok(lin.keyvaluestore_modify(name, property_dict={"c": "3"}, delete_props=["a"]))
    assert lin.keyvaluestore_list(name).properties == {"dir/b": "2", "c": "3"}


def test_kvs_invalid_name(lin):
    replies = lin.keyvaluestore_modify("-bad", property_dict={"a": "1"})
    assert replies and any(r.is_error() for r in replies), replies


def test_kvs_high_level(controller, lin):
    """linstor.KV (what plugins use) is a dict backed by a key-value store. It writes keys as
    `/<namespace>/<key>`; LINSTOR keeps them without the root '/', which KV adds back on reading."""
    name = uniq("kvhl")
    kv = linstor.KV(name, uri=controller.url)
    kv["x"] = "1"
    kv["y"] = "2"
    del kv["x"]
    assert dict(linstor.KV(name, uri=controller.url).items()) == {"y": "2"}
    ns = linstor.KV(name, namespace="/csi/volumes/", uri=controller.url)
    ns["pvc 1"] = "a"
    assert lin.keyvaluestore_list(name).properties == {"y": "2", "csi/volumes/pvc 1": "a"}
    again = linstor.KV(name, namespace="csi/volumes", uri=controller.url)
    assert dict(again.items()) == {"pvc 1": "a"}
    again.clear()
    assert dict(linstor.KV(name, uri=controller.url).items()) == {"y": "2"}


def test_kvs_delete_unknown_is_a_warning(lin):
    replies = lin._rest_request(consts.API_DEL_KVS, "DELETE", f"/v1/key-value-store/{uniq('ghost')}")
    assert_warning(replies, consts.WARN_NOT_FOUND)


# --- error reports ---------------------------------------------------------------------------------

def test_error_report_list(lin):
    reports = lin.error_report_list()
    assert isinstance(reports, list)
    assert all(isinstance(r, linstor.ErrorReport) for r in reports)


def test_error_report_unknown_id(lin):
    replies = lin.error_report_list(ids=["ghost-report"])
    assert replies == [] or not isinstance(replies[0], linstor.ErrorReport) or replies[0].id is None


def test_error_report_delete_matching_nothing_warns(lin):
    replies = lin.error_report_delete(ids=["00000000-00000-999999"])
    assert_warning(replies, consts.WARN_NOT_FOUND)
    replies = lin._rest_request(consts.API_DEL_ERROR_REPORTS, "DELETE", "/v1/error-reports/00000000-00000-999999")
    assert_warning(replies, consts.WARN_NOT_FOUND)
