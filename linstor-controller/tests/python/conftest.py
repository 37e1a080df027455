"""Fixtures of the acceptance suite: a running `linstor-controller` and a connected client.

Nothing is built here: the suite expects `target/debug/linstor-controller` (or the path in
LINSTOR_CONTROLLER_BIN). Run it with `"$(bash scripts/pylinstor-venv)" -m pytest -q
linstor-controller/tests/python`.
"""

from types import SimpleNamespace

import pytest

from support import Controller, EndpointPending, assert_ok, uniq

# Tests of endpoints other agents are still adding. Such a test xfails only while the controller
# answers with its unknown-path/wrong-method fallback (EndpointPending, raised by the client
# instrumentation in support.py); once the route exists the test must pass, and any other failure
# is reported as one. Remove this marker (one place) when every endpoint has landed.
pending = pytest.mark.xfail(reason="endpoint pending", raises=EndpointPending, strict=False)

@pytest.fixture(scope="session")
def controller():
    """The suite's controller: fresh temporary data directory, 127.0.0.1:0."""
    c = Controller().start()
    yield c
    try:
        code = c.stop()
        assert code == 0, f"SIGTERM exit code {code}; log: {c.log()}"
    finally:
        c.remove()


@pytest.fixture(scope="session")
def lin(controller):
    """A connected `linstor.Linstor` (python-linstor's own client object)."""
    return controller.client()


@pytest.fixture
def own_controller():
    """A controller of the test's own (fresh data directory), for restarts: call
    `own_controller.restart()` to stop it with SIGTERM and start it on the same data directory,
    then `own_controller.client()` for a new connected client."""
    c = Controller().start()
    yield c
    try:
        c.stop()
    finally:
        c.remove()


@pytest.fixture(scope="module")
def cluster(lin):
    """Three satellites of this module, OFFLINE (no satellite runs yet), each with an LVM pool
    and an LVM_THIN pool. Node addresses are on loopback."""
    nodes = [uniq("node") for _ in range(3)]
    lvm, thin = uniq("lvm"), uniq("thin")
    for i, n in enumerate(nodes):
        assert_ok(lin.node_create(n, "Satellite", f"127.0.1.{i + 1}"))
        assert_ok(lin.storage_pool_create(n, lvm, "LVM", "vg0"))
        assert_ok(lin.storage_pool_create(n, thin, "LVM_THIN", "vg0/thin"))
    return SimpleNamespace(nodes=nodes, lvm=lvm, thin=thin)
