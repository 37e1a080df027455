"""The ctypes declarations match linstor.h: every function is declared with the right number of
parameters, and the plain structs have the C layout."""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from linstor_rs import _ffi

HEADER = Path(__file__).resolve().parents[2] / "linstor-ffi" / "include" / "linstor.h"


def header_functions() -> dict[str, int]:
    """Function name → parameter count, from the header's declarations."""
    text = HEADER.read_text()
    out: dict[str, int] = {}
    for m in re.finditer(r"^[a-z][\w ]*?\**\s*\**(linstor_\w+)\(([^)]*)\);", text, re.M | re.S):
        params = m.group(2).strip()
        out[m.group(1)] = 0 if params in ("", "void") else params.count(",") + 1
    return out


def test_every_header_function_is_declared_with_its_arity() -> None:
    funcs = header_functions()
    assert len(funcs) > 50
    assert set(funcs) == set(_ffi._PROTOTYPES), (
        "missing in Python: "
        f"{sorted(set(funcs) - set(_ffi._PROTOTYPES))}, "
        f"not in the header: {sorted(set(_ffi._PROTOTYPES) - set(funcs))}"
    )
    for name, n in funcs.items():
        assert len(_ffi._PROTOTYPES[name][1]) == n, name


STRUCTS = {
    "linstor_str": _ffi._Str,
    "linstor_replica": _ffi._Replica,
    "linstor_quorum_counts": _ffi._QuorumCounts,
    "linstor_sim_cluster": _ffi._SimCluster,
    "linstor_sim_workload": _ffi._SimWorkload,
    "linstor_sim_report": _ffi._SimReport,
}


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
def test_struct_layouts_match_the_c_compiler(tmp_path: Path) -> None:
    lines = ['#include <stdio.h>', '#include <stddef.h>', '#include "linstor.h"', "int main(void) {"]
    for cname, cls in STRUCTS.items():
        lines.append(f'printf("{cname} %zu\\n", sizeof({cname}));')
        for fname, _ in cls._fields_:
            lines.append(f'printf("{cname}.{fname} %zu\\n", offsetof({cname}, {fname}));')
    lines.append("return 0; }")
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "layout"
    subprocess.run(
        ["gcc", "-I", str(HEADER.parent), str(src), "-o", str(exe)], check=True, capture_output=True
    )
    got = dict(line.split() for line in subprocess.run(
        [str(exe)], check=True, capture_output=True, text=True
    ).stdout.splitlines())
    for cname, cls in STRUCTS.items():
        assert int(got[cname]) == ctypes.sizeof(cls), cname
        for fname, _ in cls._fields_:
            assert int(got[f"{cname}.{fname}"]) == getattr(cls, fname).offset, f"{cname}.{fname}"
