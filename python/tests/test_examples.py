"""The capacity-planning example runs and reports its figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "capacity_plan.py"


def test_capacity_plan_example_runs() -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--nodes-per-zone", "2", "--pool", "500G"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # 2 nodes of 500 GiB per zone: 10 volumes per node, 20 per zone.
    assert "20 volumes of 50 GiB with 3 replicas" in out
    assert "20 of 20 volumes keep quorum" in out
    assert "cannot be rebuilt" in out
