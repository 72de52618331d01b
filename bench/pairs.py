#!/usr/bin/env python3
"""Alternating pairs: run the floor, then lint, N times, and record each pair's wall and CPU.

On a shared machine, load comes and goes within seconds; two separate hyperfine series (all
floor runs, then all lint runs) can land in different load and move the ratio by a third.
A pair runs its two commands back to back, so each pair's ratio sees nearly the same load.

Load does not slow both sides alike, though: on this shared machine the floor (one thread)
sometimes runs at half speed while lint (two threads) loses only a quarter, which flatters the
ratio. So the pairs whose floor ran within 15 % of the fastest floor seen ("quiet" pairs) are
reported apart, and the targets are judged on their median.

    python3 bench/pairs.py OUT.json ROUNDS -- FLOOR_CMD... -- LINT_CMD...
"""
import json
import resource
import statistics
import subprocess
import sys
import time


def timed(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    out, rounds = sys.argv[1], int(sys.argv[2])
    rest = sys.argv[3:]
    assert rest[0] == "--" and rest.count("--") == 2, __doc__
    split = rest.index("--", 1)
    floor, lint = rest[1:split], rest[split + 1:]
    timed(floor), timed(lint)  # warm the page cache
    pairs = []
    for _ in range(rounds):
        fw, fc = timed(floor)
        lw, lc = timed(lint)
        pairs.append({"floor_wall": fw, "floor_cpu": fc, "lint_wall": lw, "lint_cpu": lc})
    wall = [p["lint_wall"] / p["floor_wall"] for p in pairs]
    cpu = [p["lint_cpu"] / p["floor_cpu"] for p in pairs if p["floor_cpu"] > 0]
    fastest = min(p["floor_wall"] for p in pairs)
    quiet = [p["lint_wall"] / p["floor_wall"] for p in pairs if p["floor_wall"] <= fastest * 1.15]
    json.dump({"floor": " ".join(floor), "lint": " ".join(lint), "pairs": pairs,
               "wall_ratio_median": statistics.median(wall), "wall_ratio_min": min(wall), "wall_ratio_max": max(wall),
               "quiet_pairs": len(quiet), "quiet_wall_ratio_median": statistics.median(quiet),
               "quiet_wall_ratio_min": min(quiet), "quiet_wall_ratio_max": max(quiet),
               "cpu_ratio_median": statistics.median(cpu) if cpu else None}, open(out, "w"), indent=1)


main()
