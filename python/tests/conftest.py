"""Fixtures: a six-node cluster in three zones."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

# Use the package from this checkout (no install needed).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import linstor_rs  # noqa: E402

ZONES = ("a", "b", "c")


def build(nodes_per_zone: int = 2, pool: str = "1T", provider: linstor_rs.Provider = linstor_rs.Provider.LVM) -> linstor_rs.Cluster:
    c = linstor_rs.Cluster(seed=7)
    for z in ZONES:
        for i in range(1, nodes_per_zone + 1):
            name = f"node-{z}{i}"
            c.add_node(name, labels={"zone": z})
            c.add_storage_pool(name, "pool_ssd", provider, capacity=pool)
    return c


@pytest.fixture
def cluster() -> Iterator[linstor_rs.Cluster]:
    with build() as c:
        yield c
