#!/usr/bin/env python3
"""Turns run.sh's hyperfine JSON exports into the Markdown tables of bench/RUN-RESULTS.md.

Per-step overhead = (time(N steps) - time(1 step)) / (N - 1), from the means; its ± is the two
standard deviations combined (sqrt(s_N^2 + s_1^2) / (N - 1)). For the HTTP checks the 1-step
baseline is the 1-check runbook, so the number is the cost of one more check.

Usage: report.py JSON_DIR
"""
import json
import math
import os
import sys

TARGETS = {"logassert": 0.05, "http": 0.5, "wall1": 30.0}  # ms


def load(d):
    out = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".json"):
            r = json.load(open(os.path.join(d, f)))["results"][0]
            out[f[:-5]] = {
                "mean": r["mean"] * 1000, "sd": (r["stddev"] or 0) * 1000, "min": r["min"] * 1000,
                "max": r["max"] * 1000, "n": len(r["times"]),
                "cpu": (r.get("user", 0) + r.get("system", 0)) * 1000,
            }
    return out


def fmt(ms):
    if ms >= 10000:
        return f"{ms / 1000:.1f} s"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    return f"{ms:.1f} ms"


def per_step(res, big, small, n):
    if big not in res or small not in res:
        return None
    a, b = res[big], res[small]
    return (a["mean"] - b["mean"]) / (n - 1), math.hypot(a["sd"], b["sd"]) / (n - 1)


def pm(v, digits=3):
    return "—" if v is None else f"{v[0]:.{digits}f} ± {v[1]:.{digits}f} ms"


def main():
    res = load(sys.argv[1])
    tools = [("runbook", "runbook (state dir on disk)"), ("runbook_shm", "runbook (state dir on /dev/shm)"),
             ("runbook_record", "runbook --journal-sync record (disk)"),
             ("pypyr", "pypyr"), ("ansible", "Ansible")]
    cases = ["steps1", "steps100", "steps1000", "http1", "http100"]
    labels = {"steps1": "1 log step", "steps100": "100 log/assert", "steps1000": "1,000 log/assert",
              "http1": "1 http check", "http100": "100 http checks"}
    print("### Wall time per run (hyperfine: mean ± σ, [min … max], runs)\n")
    print("| tool | " + " | ".join(labels[c] for c in cases) + " |")
    print("|---|" + "---|" * len(cases))
    for key, name in tools:
        row = []
        for c in cases:
            r = res.get(f"{key}_{c}")
            row.append("—" if r is None else
                       f"{fmt(r['mean'])} ± {fmt(r['sd'])} [{fmt(r['min'])} … {fmt(r['max'])}] ({r['n']})")
        if any(x != "—" for x in row):
            print(f"| {name} | " + " | ".join(row) + " |")
    print("\nCPU time (user + system) per run, mean — less sensitive to other load on the machine; "
          "fsync waits are not CPU time:\n")
    print("| tool | " + " | ".join(labels[c] for c in cases) + " |")
    print("|---|" + "---|" * len(cases))
    for key, name in tools:
        row = [("—" if f"{key}_{c}" not in res else fmt(res[f"{key}_{c}"]["cpu"])) for c in cases]
        if any(x != "—" for x in row):
            print(f"| {name} | " + " | ".join(row) + " |")
    lint = [f"lint_{c}" for c in ("steps1", "steps100", "steps1000")]
    if all(k in res for k in lint):
        print("\n`runbook lint` alone (every `runbook run` lints first): " + ", ".join(
            f"{labels[k[5:]]} {fmt(res[k]['mean'])} ± {fmt(res[k]['sd'])}" for k in lint) + ".")
    extra = [k for k in res if k.endswith("_pyserver")]
    if extra:
        print("\nAgainst python's `http.server` (HTTP/1.0, one connection per request) instead of healthd:\n")
        print("| case | mean ± σ | vs healthd |")
        print("|---|---|---|")
        for k in sorted(extra):
            base = res.get(k.replace("_pyserver", ""))
            r = res[k]
            delta = "—" if base is None else f"+{(r['mean'] - base['mean']) / 99:.3f} ms per check"
            print(f"| {k} | {fmt(r['mean'])} ± {fmt(r['sd'])} | {delta} |")

    print("\n### Per-step overhead: (time(N) − time(1)) / (N − 1)\n")
    print("| tool | log/assert, N = 100 | log/assert, N = 1,000 | http check, N = 100 (vs 1 check) |")
    print("|---|---|---|---|")
    for key, name in tools:
        a = per_step(res, f"{key}_steps100", f"{key}_steps1", 100)
        b = per_step(res, f"{key}_steps1000", f"{key}_steps1", 1000)
        h = per_step(res, f"{key}_http100", f"{key}_http1", 100)
        hs = pm(h)
        if a or b or h:
            print(f"| {name} | {pm(a)} | {pm(b)} | {hs} |")

    l100 = per_step(res, "lint_steps100", "lint_steps1", 100)
    l1000 = per_step(res, "lint_steps1000", "lint_steps1", 1000)
    if l100 and l1000:
        print(f"| of which `runbook lint` | {pm(l100)} | {pm(l1000)} | — |")
        for key, name in (("runbook", "runbook, execution only (minus lint)"),
                          ("runbook_shm", "runbook on /dev/shm, execution only (minus lint)")):
            a = per_step(res, f"{key}_steps100", f"{key}_steps1", 100)
            b = per_step(res, f"{key}_steps1000", f"{key}_steps1", 1000)
            sub = lambda x, l: None if x is None else (x[0] - l[0], math.hypot(x[1], l[1]))
            if a or b:
                print(f"| {name} | {pm(sub(a, l100))} | {pm(sub(b, l1000))} | — |")

    disk = per_step(res, "runbook_steps1000", "runbook_steps1", 1000)
    shm = per_step(res, "runbook_shm_steps1000", "runbook_shm_steps1", 1000)
    if disk and shm:
        print(f"\nJournal durability on disk (group commit) vs tmpfs, per log/assert step: {disk[0]:.3f} ms vs "
              f"{shm[0]:.3f} ms.")
    record = per_step(res, "runbook_record_steps1000", "runbook_record_steps1", 1000)
    if disk and record:
        print(f"With `--journal-sync record` (an fsync before every record returns): {record[0]:.3f} ms per "
              f"log/assert step, {record[0] / disk[0] if disk[0] > 0 else 0:.0f}× the default.")

    print("\n### Targets\n")
    print("| target | measured | verdict |")
    print("|---|---|---|")
    if disk:
        ok = disk[0] <= TARGETS["logassert"]
        print(f"| ≤ 0.05 ms per log/assert step, journal included | {disk[0]:.3f} ms (1,000-step run) | "
              f"{'met' if ok else 'MISSED'} |")
    h = per_step(res, "runbook_http100", "runbook_http1", 100)
    if h:
        ok = h[0] <= TARGETS["http"]
        print(f"| ≤ 0.5 ms per loopback http.check, journal included | {h[0]:.3f} ms | {'met' if ok else 'MISSED'} |")
    w = res.get("runbook_steps1")
    if w:
        ok = w["mean"] < TARGETS["wall1"]
        print(f"| `runbook run` of a 1-step runbook < 30 ms wall | {w['mean']:.1f} ± {w['sd']:.1f} ms | "
              f"{'met' if ok else 'MISSED'} |")


if __name__ == "__main__":
    main()
