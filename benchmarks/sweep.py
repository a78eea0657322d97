"""How fast is ``kpidesign sweep``? A budget x demand sweep of the seed model (default 20 x
10 = 200 points), and a budget-only sweep of as many points, each run:

- ``loop``: the naive loop a user would write: per point, load the scenario with the
  point's values (reading the YAML), build through Pyomo, compile and solve;
- ``serial``: ``kpidesign.sweep(..., workers=1)``;
- ``pool``: ``workers=2`` (a process pool);
- ``dask``: ``engine="dask", workers=2`` (a LocalCluster started and stopped by the sweep).

All in one process, back to back (the machine is shared and noisy: the ratios are what to
read). Every variant's objectives are checked against the loop's. Writes
``benchmarks/sweep_results.json``.

    python benchmarks/sweep.py               # ~3 minutes on the project's machine
    python benchmarks/sweep.py --budgets 5 --demands 4   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import kpidesign
from kpidesign.runners.plan import parse_axis, sweep_points
from kpidesign.spec.scenario import Overlay

HERE = Path(__file__).parent
SEED = HERE.parent / "scenarios" / "baseline.yaml"


def naive_loop(sets: list[str], scales: list[str]) -> list[float]:
    """Per point: load (YAML read), build, compile, solve: what a script would do."""
    axes = [parse_axis(s, "set") for s in sets] + [parse_axis(s, "scale") for s in scales]
    out = []
    for p in sweep_points(axes):
        spec = kpidesign.load(SEED, overlay=Overlay(p.sets(), p.scales(), f"point {p.index}"))
        result = kpidesign.solve(spec)
        out.append(result.objective if result.ok else float("nan"))
    return out


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


def measure(name: str, sets: list[str], scales: list[str]) -> dict:
    """The four ways on one sweep, with their objectives checked against the loop's."""
    runs = {}
    loop_s, expected = timed(naive_loop, sets, scales)
    runs["loop"] = loop_s
    for label, kwargs in [
        ("serial", {"workers": 1}),
        ("pool", {"workers": 2}),
        ("dask", {"engine": "dask", "workers": 2}),
    ]:
        seconds, result = timed(kpidesign.sweep, SEED, sets, scales, **kwargs)
        got = result.points.objective.to_numpy()
        assert np.allclose(got, expected, rtol=1e-9, equal_nan=True), label
        runs[label] = seconds
        built = int((result.points.built == "built").sum())
    points = len(expected)
    print(f"{name}: {points} points ({built} built from their spec)")
    for label, seconds in runs.items():
        print(
            f"  {label:7s} {seconds:7.1f} s  {1000 * seconds / points:6.0f} ms/point  "
            f"loop/this {runs['loop'] / seconds:5.1f}x"
        )
    return {
        "points": points,
        "built_per_point": built,
        "seconds": {k: round(v, 2) for k, v in runs.items()},
        "speedup_over_loop": {k: round(runs["loop"] / v, 2) for k, v in runs.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=int, default=20)
    parser.add_argument("--demands", type=int, default=10)
    args = parser.parse_args()
    n = args.budgets * args.demands
    budget = f"resources.budget.total=500000:800000:{args.budgets}"
    results = {
        "machine": {
            "cpus": len(os.sched_getaffinity(0)),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "budget_x_demand": measure(
            "budget x demand", [budget], [f"params.base_demand=0.8:1.2:{args.demands}"]
        ),
        "budget_only": measure("budget only", [f"resources.budget.total=500000:800000:{n}"], []),
    }
    path = HERE / "sweep_results.json"
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
