#!/usr/bin/env python3
"""Capacity planning with linstor_rs: how many 50 GiB volumes with 3 replicas (one per zone)
fit in a cluster, and what happens to them when one zone fails.

    python3 python/examples/capacity_plan.py [--nodes-per-zone 3] [--pool 1T]

Run from the repository root after ``cargo build -p linstor-ffi`` (or set LINSTOR_FFI_LIB).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the package in this checkout

import linstor_rs as L  # noqa: E402

ZONES = ("a", "b", "c")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes-per-zone", type=int, default=3)
    ap.add_argument("--pool", default="1T", help="size of each node's pool (default 1T)")
    ap.add_argument("--volume", default="50G", help="volume size (default 50G)")
    args = ap.parse_args()

    with L.Cluster(seed=1) as c:
        nodes = [f"node-{z}{i}" for z in ZONES for i in range(1, args.nodes_per_zone + 1)]
        for n in nodes:
            c.add_node(n, labels={"zone": n[5]})
            c.add_storage_pool(n, "pool_ssd", L.Provider.LVM, capacity=args.pool, backing="vg_ssd")
        spread = L.SelectFilter(place_count=3, replicas_on_different=["Aux/zone"])
        c.create_resource_group("planner", spread, volume_groups=1)

        # 1. Spawn volumes until the autoplacer refuses.
        volumes: list[str] = []
        refusal: L.PlacementRefusedError | None = None
        while True:
            name = f"vol_{len(volumes):05d}"
            try:
                placement = c.spawn("planner", name, [args.volume])
            except L.PlacementRefusedError as e:
                refusal = e
                break
            if len(placement.diskful) != 3:
                print(f"spawn placed {len(placement.diskful)} replicas (expected 3): stopping")
                break
            volumes.append(name)

        pool_kib = L.parse_size(args.pool)
        print(
            f"cluster: 3 zones x {args.nodes_per_zone} nodes, one {args.pool} LVM pool each "
            f"({pool_kib * len(nodes) // 2**20} GiB raw)"
        )
        print(f"{len(volumes)} volumes of {args.volume.replace('G', ' GiB')} with 3 replicas "
              "(one per zone) fit")
        if refusal is not None:
            print(f"volume {len(volumes) + 1} was refused: {refusal.message}")
            print(f"  cause:      {refusal.cause}")
            print(f"  correction: {refusal.correction}")
        if not volumes:
            return 0

        # 2. Zone a fails: which volumes can still be written from zones b and c?
        survivors = [n for n in nodes if n[5] != "a"]
        writable = sum(c.may_write(v, survivors) for v in volumes)
        q = c.quorum(volumes[0])
        print(
            f"zone a fails: {writable} of {len(volumes)} volumes keep quorum (quorum={q.value}, "
            f"{q.diskful} diskful replicas each, 2 survive) and stay writable"
        )

        # 3. Zone a is gone for good: can the third replica be rebuilt elsewhere?
        for n in nodes:
            if n[5] == "a":
                c.lose_node(n)
        print(f"after zone a is lost, {volumes[0]} has {len(c.placement(volumes[0]))} replicas")
        try:
            extra = c.plan(volumes[0], args.volume, resource_group="planner")
            print(f"the third replica can be rebuilt on {', '.join(extra.nodes)}")
        except L.PlacementRefusedError as e:
            print(f"the third replica cannot be rebuilt: {e.message}")
            print(f"  cause:      {e.cause}")
            print(f"  correction: {e.correction}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
