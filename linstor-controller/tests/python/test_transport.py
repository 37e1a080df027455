"""Transport facts python-linstor relies on: the version handshake, bodies without
Content-Type, gzip, JSON everywhere, 400 for unreadable bodies, 404/405 JSON for unknown paths."""

import gzip
import http.client
import json
import re
import socket
import time

import linstor
import pytest
from linstor import consts

from conftest import pending
from support import assert_ok, code_of, uniq


def node_body(name, **extra):
    body = {
        "name": name, "type": "Satellite",
        "net_interfaces": [{"name": "default", "address": "127.0.2.1", "satellite_port": 3366,
                            "satellite_encryption_type": "Plain", "is_active": True}],
    }
    body.update(extra)
    return body


def version_gets(controller):
    text = controller.http("GET", "/metrics")[2].decode()
    m = re.search(r'_count\{method="GET",route="/v1/controller/version"\} (\d+)', text)
    return int(m.group(1)) if m else 0


# --- version handshake ---------------------------------------------------------------------------

def test_connect_sends_two_version_gets(controller):
    """connect() probes for an HTTPS redirect on a separate connection, then asks again."""
    before = version_gets(controller)
    lin = linstor.Linstor(controller.url)
    lin.connect()
    assert lin.connected
    lin.disconnect()
    assert version_gets(controller) - before == 2


def test_https_probe_sees_no_redirect(controller):
    """The probe has no User-Agent; a plain controller answers it with 200, not 302."""
    assert linstor.Linstor.has_linstor_https(controller.host, controller.port) == 0
    status, hdrs, body, _ = controller.http("GET", "/v1/controller/version")
    assert status == 200
    assert hdrs["content-type"].startswith("application/json")
    assert set(json.loads(body)) >= {"version", "git_hash", "build_time", "rest_api_version"}


def test_version_object(lin):
    v = lin.controller_version()
    for field in (v.version, v.git_hash, v.build_time, v.rest_api_version):
        assert isinstance(field, str) and field
    parts = [int(p) for p in v.rest_api_version.split(".")]  # the client int()s every part
    assert parts[0] == 1 and parts >= [1, 0, 4]
    assert lin.controller_info() == f"LINSTOR,Controller,{v.version},{v.git_hash},{v.build_time}"


def test_client_as_context_manager(controller):
    with linstor.Linstor(controller.url) as lin:
        assert lin.connected
        assert lin.node_list_raise() is not None
    assert not lin.connected


# --- request and answer encoding -----------------------------------------------------------------

@pytest.mark.parametrize("content_type", [None, "application/json", "text/plain"])
def test_post_without_content_type(controller, content_type):
    """python-linstor sends POST/PUT bodies without a Content-Type header."""
    headers = {"Content-Type": content_type} if content_type else {}
    name = uniq("ct")
    status, hdrs, body, _ = controller.http("POST", "/v1/nodes", node_body(name), headers=headers)
    assert status == 201, body
    replies = [linstor.ApiCallResponse(x) for x in json.loads(body)]
    assert_ok(replies)
    assert [n.name for n in controller.client().node_list_raise([name]).nodes] == [name]


def test_gzip_for_large_lists(controller, lin):
    """A list of 1000 bytes or more is gzipped when the client accepts it (python-linstor does)."""
    while len(controller.http("GET", "/v1/nodes")[2]) < 1000:
        assert_ok(lin.node_create(uniq("gz"), "Satellite", "127.0.2.2"))
    status, hdrs, plain, raw = controller.http("GET", "/v1/nodes", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert hdrs.get("content-encoding") == "gzip"
    assert raw[:2] == b"\x1f\x8b" and gzip.decompress(raw) == plain
    _, hdrs_plain, unzipped, _ = controller.http("GET", "/v1/nodes")
    assert "content-encoding" not in hdrs_plain
    assert json.loads(plain) == json.loads(unzipped)
    # and the client decodes it: every node is there
    assert {n.name for n in lin.node_list_raise().nodes} == {n["name"] for n in json.loads(plain)}


def test_small_answers_not_gzipped(controller):
    status, hdrs, body, raw = controller.http("GET", "/v1/controller/version",
                                              headers={"Accept-Encoding": "gzip"})
    assert status == 200 and len(body) < 1000
    assert "content-encoding" not in hdrs and raw == body


LIST_PATHS = [
    "/v1/controller/version",
    "/v1/controller/properties",
    "/v1/nodes",
    "/v1/view/storage-pools",
    "/v1/resource-groups",
    "/v1/resource-groups/DfltRscGrp",
    "/v1/resource-groups/DfltRscGrp/volume-groups",
    "/v1/resource-definitions",
    "/v1/resource-definitions?with_volume_definitions=true",
    "/v1/view/resources",
    "/v1/storage-pool-definitions",
    "/v1/view/snapshots",
    "/v1/key-value-store",
    "/v1/error-reports",
    "/v1/node-connections",
]


@pytest.mark.parametrize("path", LIST_PATHS)
def test_every_2xx_body_is_json(controller, cluster, path):
    status, hdrs, body, _ = controller.http("GET", path)
    assert status == 200, body
    assert hdrs["content-type"].startswith("application/json")
    assert body.strip(), "an empty 2xx body makes python-linstor raise"
    json.loads(body)


def test_mutating_answers_are_arrays_of_rcs(controller):
    """Create, modify and delete all answer a JSON array of ApiCallRc with int64 ret_codes."""
    name = uniq("arr")
    for method, path, body, want in [
        ("POST", "/v1/nodes", node_body(name), 201),
        ("POST", "/v1/nodes", node_body(name), 500),  # exists
        ("DELETE", f"/v1/nodes/{name}", None, 200),
    ]:
        status, hdrs, raw, _ = controller.http(method, path, body)
        assert status == want, raw
        assert hdrs["content-type"].startswith("application/json")
        rcs = json.loads(raw)
        assert isinstance(rcs, list) and rcs and all(isinstance(x, dict) for x in rcs)
        for x in rcs:
            assert isinstance(x["ret_code"], int) and -2**63 <= x["ret_code"] < 2**63
            assert isinstance(x.get("message"), str)
            rc = linstor.ApiCallResponse(x)
            assert rc.is_error() == (x["ret_code"] < 0 and want >= 400)


# --- unreadable bodies: 400 with the field -----------------------------------------------------

BAD_BODIES = [
    # (method, path template, body, what the answer must name)
    ("POST", "/v1/nodes", "{bad", "JSON"),
    ("POST", "/v1/nodes", "[]", "object"),
    ("POST", "/v1/nodes", {"name": 5, "type": "Satellite"}, "name"),
    ("POST", "/v1/nodes", node_body("badfield", bogus=1), "bogus"),
    ("POST", "/v1/nodes", {"type": "Satellite"}, "name"),
    ("POST", "/v1/nodes", node_body("badtype", type="Blah"), "type"),
    ("POST", "/v1/nodes/{node}/net-interfaces", {"name": "eth9", "address": "127.0.0.9",
                                                 "satellite_port": "abc"}, "satellite_port"),
    ("POST", "/v1/nodes/{node}/storage-pools", {"storage_pool_name": "pool", "provider_kind": "BOGUS"},
     "provider_kind"),
    ("POST", "/v1/resource-groups", {"name": "rgbad", "select_filter": {"place_count": "x"}}, "place_count"),
    ("PUT", "/v1/resource-groups/DfltRscGrp", {"select_filter": {"place_count": [1]}}, "place_count"),
    ("POST", "/v1/resource-groups/DfltRscGrp/spawn", {"resource_definition_name": "rdbad",
                                                      "volume_sizes": ["big"]}, "volume_sizes"),
    ("PUT", "/v1/nodes/{node}", {"override_props": ["a"]}, "override_props"),
    ("POST", "/v1/resource-definitions", {"resource_definition": {"name": 7}}, "name"),
    ("POST", "/v1/resource-definitions/{rd}/volume-definitions",
     {"volume_definition": {"size_kib": "x"}}, "size_kib"),
    ("POST", "/v1/resource-definitions/{rd}/resources", {"resource": {}}, "array"),
    ("POST", "/v1/controller/properties", {"override_props": 5}, "override_props"),
    ("PUT", "/v1/key-value-store/kvbad", {"override_props": 5}, "override_props"),
]


@pytest.fixture(scope="module")
def spawned_rd(lin):
    rg = uniq("rgjs")
    assert_ok(lin.resource_group_create(rg))
    rd = uniq("rdjs")
    assert_ok(lin.resource_group_spawn(rg, rd, ["1MiB"], definitions_only=True))
    return rd


@pytest.mark.parametrize("method,path,body,names", BAD_BODIES)
def test_unreadable_body_is_400_naming_the_field(controller, cluster, spawned_rd, method, path, body, names):
    path = path.format(node=cluster.nodes[0], rd=spawned_rd)
    status, hdrs, raw, _ = controller.http(method, path, body)
    assert status == 400, raw
    assert hdrs["content-type"].startswith("application/json")
    rcs = [linstor.ApiCallResponse(x) for x in json.loads(raw)]
    assert rcs and all(r.is_error() for r in rcs)
    text = " ".join(filter(None, [rcs[0].message, rcs[0].cause, rcs[0].details, rcs[0].correction]))
    assert names.lower() in text.lower(), text


def test_unparsable_body_is_api_call_parse_error(controller):
    status, _, raw, _ = controller.http("POST", "/v1/nodes", "{bad")
    assert status == 400
    rc = linstor.ApiCallResponse(json.loads(raw)[0])
    assert code_of(rc.ret_code) == code_of(consts.API_CALL_PARSE_ERROR)


# --- unknown paths and methods -----------------------------------------------------------------

@pytest.mark.parametrize("method,path,body", [
    ("GET", "/v1/nope", None),
    ("POST", "/v1/nope", {"a": 1}),
    ("GET", "/v2/nodes", None),
    ("DELETE", "/v1/nodes/n1/bogus/x", None),
    ("GET", "/", None),
])
def test_unknown_path_is_404_json(controller, method, path, body):
    status, hdrs, raw, _ = controller.http(method, path, body, pending_aware=False)
    assert status == 404
    assert hdrs["content-type"].startswith("application/json")
    rcs = [linstor.ApiCallResponse(x) for x in json.loads(raw)]
    assert rcs and rcs[0].is_error() and path.split("?")[0] in rcs[0].message


def test_wrong_method_is_405_json(controller):
    status, hdrs, raw, _ = controller.http("PATCH", "/v1/nodes", {"a": 1}, pending_aware=False)
    assert status == 405
    assert hdrs["content-type"].startswith("application/json")
    rcs = [linstor.ApiCallResponse(x) for x in json.loads(raw)]
    assert rcs and rcs[0].is_error()


def test_keep_alive_survives_unknown_path_without_body(controller):
    conn = http.client.HTTPConnection(controller.host, controller.port, timeout=10)
    try:
        conn.request("GET", "/v1/nope")
        assert conn.getresponse().read() and True
        conn.request("GET", "/v1/controller/version")
        assert conn.getresponse().status == 200
    finally:
        conn.close()


def answer_then_next(controller, method, path):
    """Sends the head and the first bytes of a body, the rest of the body a little later (as a
    client with a slow or large body would), reads the answer, then sends a second request on the
    same connection. Returns (status line, headers of the first answer, what the second got)."""
    body = json.dumps({"override_props": {"Aux/a": "b"}, "pad": "x" * 200}).encode()
    with socket.create_connection((controller.host, controller.port), timeout=5) as s:
        s.sendall(f"{method} {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                  + body[:10])
        time.sleep(0.2)  # the rest of the body comes later
        s.sendall(body[10:])
        first = b""
        while b"\r\n\r\n" not in first:
            chunk = s.recv(65536)
            assert chunk, "connection closed without an answer"
            first += chunk
        head, _, rest = first.partition(b"\r\n\r\n")
        head = head.decode().lower()
        length = int(re.search(r"content-length: *(\d+)", head).group(1))
        while len(rest) < length:
            chunk = s.recv(65536)
            assert chunk, "connection closed in the middle of the answer"
            rest += chunk
        try:
            s.sendall(b"GET /v1/controller/version HTTP/1.1\r\nHost: t\r\n\r\n")
            second = b""
            while b"\r\n" not in second:
                chunk = s.recv(65536)
                if not chunk:
                    break
                second += chunk
        except OSError as e:
            second = repr(e).encode()
    return head.splitlines()[0], head, second


@pytest.mark.parametrize("method,path", [("POST", "/v1/nope"), ("PATCH", "/v1/nodes/somenode")])
def test_keep_alive_survives_unknown_path_with_body(controller, method, path):
    """The unknown-path (404) and wrong-method (405) answers read the body first, so the
    connection stays usable (python-linstor's next request on it must not fail)."""
    status, head, second = answer_then_next(controller, method, path)
    assert status.split()[1] in ("404", "405")
    if "connection: close" not in head:  # announced closes are fine: clients reconnect
        assert second.startswith(b"HTTP/1.1 200"), second
