"""Helpers shared by the acceptance tests: the controller process, raw HTTP, reply checks.

The tests drive `target/debug/linstor-controller` with the real python-linstor client (see
scripts/pylinstor-venv). Replies are checked with the client's own API: `ApiCallResponse`'s
`is_error()`/`is_warning()`/`is_success()` and `ret_code`, and the list responses' properties.
"""

import gzip
import http.client
import itertools
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import linstor
from linstor import consts

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(os.environ.get("LINSTOR_CONTROLLER_BIN", ROOT / "target" / "debug" / "linstor-controller"))
READY = re.compile(r"REST API listening on http://(?P<host>[^\s:]+):(?P<port>\d+)")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


# --- pending endpoints -------------------------------------------------------------------------

class EndpointPending(Exception):
    """The controller does not serve this path/method yet (its 404/405 fallback answered)."""


def _missing_route(replies):
    """The fallback's entry: 'No REST endpoint …' (404) or '… is not served on …' (405)."""
    if not replies or not isinstance(replies[0], linstor.ApiCallResponse):
        return None
    if not isinstance(getattr(replies[0], "_rest_data", None), dict) or "ret_code" not in replies[0]._rest_data:
        return None  # e.g. net_interface_list wraps plain objects as ApiCallResponse
    msg = replies[0].message or ""
    if replies[0].is_error() and (msg.startswith("No REST endpoint") or " is not served on " in msg):
        return msg
    return None


def _instrument_client():
    """Wraps `Linstor._rest_request` (every call of every client object, the high-level
    `linstor.ResourceGroup`/`linstor.KV` too): an answer of the controller's unknown-path or
    wrong-method fallback raises `EndpointPending`, so that `pending` tests xfail only for a
    missing route and fail for anything else. The connection is then closed: the controller
    drops a keep-alive connection after such an answer to a request with a body (see
    test_transport.py::test_keep_alive_survives_unknown_path_with_body)."""
    original = linstor.Linstor._rest_request
    if getattr(original, "_pending_aware", False):
        return

    def _rest_request(self, apicall, method, path, *args, **kwargs):
        replies = original(self, apicall, method, path, *args, **kwargs)
        missing = _missing_route(replies if isinstance(replies, list) else [])
        if missing:
            if self._rest_conn is not None:
                self._rest_conn.close()
            raise EndpointPending(f"{method} {path}: {missing}")
        return replies

    _rest_request._pending_aware = True
    linstor.Linstor._rest_request = _rest_request


_instrument_client()


# --- the controller process --------------------------------------------------------------------

def _die_with_parent():
    """In the child before exec: SIGTERM when the test process dies (a killed pytest leaves no
    controller behind). Linux only; elsewhere a no-op."""
    try:
        import ctypes
        import signal
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _drain(pipe):
    try:
        while pipe.read(65536):
            pass
    finally:
        pipe.close()


class Controller:
    """One `linstor-controller` process on 127.0.0.1:0 with its own data directory.
    `extra_args`: more flags, e.g. ["--simulate-satellites"]."""

    def __init__(self, root=None, extra_args=()):
        if not BIN.exists():
            raise RuntimeError(
                f"{BIN} does not exist: build it first (cargo build -p linstor-controller) "
                "or set LINSTOR_CONTROLLER_BIN")
        self.root = Path(root or tempfile.mkdtemp(prefix="linstor-pytest-"))
        self.data_dir = self.root / "data"
        self.log_path = self.root / "controller.log"
        self.extra_args = list(extra_args)
        self.proc = None
        self.host = None
        self.port = None
        self.clients = []

    @property
    def url(self):
        return f"linstor://{self.host}:{self.port}"

    def start(self):
        assert self.proc is None, "already running"
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(BIN), "--data-dir", str(self.data_dir), "--rest-bind", "127.0.0.1:0", *self.extra_args],
            stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        log.close()
        line = self._first_line()
        m = READY.search(line)
        if not m:
            self.stop()
            raise RuntimeError(f"unexpected first stdout line {line!r}; log: {self.log()}")
        self.host, self.port = m.group("host"), int(m.group("port"))
        # Keep draining stdout so that the controller never blocks on a full pipe.
        threading.Thread(target=_drain, args=(self.proc.stdout,), daemon=True).start()
        return self

    def _first_line(self):
        deadline = time.monotonic() + START_TIMEOUT
        buf = b""
        fd = self.proc.stdout.fileno()
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise RuntimeError(f"no ready line within {START_TIMEOUT} s; log: {self.log()}")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1)
                if not chunk:
                    code = self.proc.wait()
                    self.proc = None
                    raise RuntimeError(f"controller exited with {code} before it was ready; log: {self.log()}")
                buf += chunk
        return buf.decode(errors="replace")

    def stop(self):
        """SIGTERM to our own process (by its pid), wait, SIGKILL after a timeout; returns the
        exit code."""
        for c in self.clients:
            c.disconnect()
        self.clients = []
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        proc.terminate()
        try:
            code = proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"controller did not stop within {STOP_TIMEOUT} s of SIGTERM")
        return code

    def restart(self):
        """Graceful stop, then a new process on the same data directory."""
        code = self.stop()
        assert code == 0, f"SIGTERM exit code {code}; log: {self.log()}"
        return self.start()

    def client(self):
        lin = linstor.Linstor(self.url)
        lin.connect()
        self.clients.append(lin)
        return lin

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return "(no log)"

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)

    # raw HTTP, for what the client cannot send or does not show

    def http(self, method, path, body=None, headers=None, pending_aware=True):
        """One request on a fresh connection. `body`: bytes/str as is, anything else as JSON.
        Returns (status, headers dict with lower-case names, decoded body bytes, raw bytes).
        With `pending_aware`, the unknown-path/wrong-method fallback raises EndpointPending."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            if body is not None and not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            plain = gzip.decompress(data) if hdrs.get("content-encoding") == "gzip" else data
            if pending_aware and resp.status in (404, 405):
                try:
                    rcs = [linstor.ApiCallResponse(x) for x in json.loads(plain)]
                except (ValueError, TypeError, KeyError):
                    rcs = []
                missing = _missing_route(rcs)
                if missing:
                    raise EndpointPending(f"{method} {path}: {missing}")
            return resp.status, hdrs, plain, data
        finally:
            conn.close()

    def get_json(self, path):
        status, hdrs, body, _ = self.http("GET", path)
        assert status == 200, (path, status, body)
        assert hdrs.get("content-type", "").startswith("application/json"), (path, hdrs)
        return json.loads(body)


# --- names ---------------------------------------------------------------------------------------

_counter = itertools.count(1)


def uniq(prefix):
    """A fresh name: `prefix` (starts with a letter) and a number, valid for every object kind."""
    return f"{prefix}{next(_counter):03d}"


# --- reply checks --------------------------------------------------------------------------------

def code_of(value):
    """The code bits (0–14) of a ret_code or a `linstor.consts` constant."""
    return value & consts.MASK_BITS_CODE


def const_name(ret_code):
    """The name of the `linstor.consts` code a ret_code carries, for messages."""
    want_type = ret_code & consts.MASK_BITS_TYPE
    for name in dir(consts):
        if name.startswith(("FAIL_", "WARN_", "INFO_")):
            v = getattr(consts, name)
            if isinstance(v, int) and v & consts.MASK_BITS_TYPE == want_type and code_of(v) == code_of(ret_code):
                return name
    return f"code {code_of(ret_code)}"


def show(replies):
    return "\n".join(
        f"  {r} [{r.ret_code} = {const_name(r.ret_code)}]" if isinstance(r, linstor.ApiCallResponse) else f"  {r!r}"
        for r in replies) or "  (no replies)"


def _rcs(replies):
    assert isinstance(replies, list) and replies, f"expected a non-empty ApiCallRc list, got {replies!r}"
    assert all(isinstance(r, linstor.ApiCallResponse) for r in replies), show(replies)
    return replies


def matches(reply, expected):
    """`reply` is of `expected`'s type (error/warning/info) and has its code."""
    if expected & consts.MASK_ERROR == consts.MASK_ERROR:
        ok_type = reply.is_error()
    elif expected & consts.MASK_WARN:
        ok_type = reply.is_warning() and not reply.is_error()
    elif expected & consts.MASK_INFO:
        ok_type = reply.is_info() and not reply.is_error()
    else:
        ok_type = reply.is_success()
    return ok_type and code_of(reply.ret_code) == code_of(expected)


def assert_ok(replies):
    """No error, at least one success entry (warnings and infos may come along)."""
    _rcs(replies)
    assert not any(r.is_error() for r in replies), "unexpected error:\n" + show(replies)
    assert any(r.is_success() for r in replies), "no success entry:\n" + show(replies)
    return replies


def assert_error(replies, expected):
    """An error reply carrying `expected` (a `linstor.consts.FAIL_*`)."""
    _rcs(replies)
    assert any(r.is_error() for r in replies), f"expected {const_name(expected)}, got no error:\n" + show(replies)
    assert any(matches(r, expected) for r in replies), f"expected {const_name(expected)}:\n" + show(replies)
    return replies


def assert_warning(replies, expected):
    """No error, and a warning carrying `expected` (a `linstor.consts.WARN_*`)."""
    _rcs(replies)
    assert not any(r.is_error() for r in replies), f"expected {const_name(expected)}, got an error:\n" + show(replies)
    assert any(matches(r, expected) for r in replies), f"expected {const_name(expected)}:\n" + show(replies)
    return replies


def idfn(value):
    """Test ids: `linstor.consts` codes by name."""
    if isinstance(value, int) and abs(value) > 2**32:
        return const_name(value)
    return None
