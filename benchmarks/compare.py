"""Benchmark of `kpidesign compare`: its wall time against the sum of its HiGHS solve times
plus one compile (issue 4's target: within 1.2x on a ~200k-variable model).

Every solve of a comparison (two system solves, each department's unilateral deviation,
the optimistic and pessimistic best-response rounds, each a score solve and one or two
tie-break solves, plus Dinkelbach iterations) is timed by kpidesign itself
(``CompareResult.run.seconds`` adds the wall time of each ``Highs.run``).  Everything else
the analysis does (bound and cost vectors, scorecards, tie-break rows, bookkeeping) is the
overhead this benchmark measures.

    python benchmarks/compare.py                    # small and compare200k, ~15 minutes
    python benchmarks/compare.py --sizes small      # ~20 seconds
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

#: (departments, products, periods)
SIZES = {
    "small": (6, 128, 12),
    "medium": (6, 1000, 12),
    "compare200k": (6, 1300, 12),
}


def measure(model: Path) -> dict:
    from kpidesign.analyses.compare import compare_plans
    from kpidesign.model.build import build
    from kpidesign.model.compile import compile_model
    from kpidesign.model.problem import Problem
    from kpidesign.options import Options
    from kpidesign.spec import load

    t0 = time.perf_counter()
    spec = load(model)
    t1 = time.perf_counter()
    built = build(spec)
    t2 = time.perf_counter()
    lp = compile_model(built)
    t3 = time.perf_counter()
    # one path per tie-break, in file order: the overhead per solve is what is measured here
    # (the range over orders is benchmarks/status_quo_range.py)
    result = compare_plans(lp, Problem.from_spec(spec), Options(orders="file")).raise_if_failed()
    t4 = time.perf_counter()
    compile_s, compare_s = t3 - t2, t4 - t3
    allowance = result.run.seconds + compile_s
    return {
        "variables": lp.num_cols,
        "rows": lp.num_rows,
        "load_seconds": t1 - t0,
        "build_seconds": t2 - t1,
        "compile_seconds": compile_s,
        "compare_seconds": compare_s,
        "highs_seconds": result.run.seconds,
        "solves": result.solves,
        "rounds": result.decentralized.rounds,
        "rounds_pessimistic": result.pessimistic.rounds,
        "misalignment_cost": result.misalignment_cost,
        # the target: compare (plus the one compile it needs) against HiGHS plus that compile
        "ratio": (compare_s + compile_s) / allowance,
        # for reference, with load and the Pyomo build too
        "ratio_with_load_and_build": (t4 - t0) / allowance,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--sizes", default="small,compare200k", help="comma-separated: " + ", ".join(SIZES)
    )
    ap.add_argument(
        "--work", type=Path, default=HERE / "generated", help="where models are generated"
    )
    ap.add_argument("--results", type=Path, default=HERE / "compare_results.json")
    a = ap.parse_args()
    import highspy
    import pyomo

    out = {
        "machine": {
            "python": platform.python_version(),
            "highspy": getattr(highspy, "__version__", "?"),
            "pyomo": pyomo.version.version,
            "processor": platform.processor() or platform.machine(),
        },
        "sizes": {},
    }
    for name in a.sizes.split(","):
        d, p, t = SIZES[name]
        model = generate.generate(d, p, t, a.work / f"compare_{name}")
        res = measure(model)
        out["sizes"][name] = {"dims": [d, p, t], **res}
        print(
            f"{name:12s} vars={res['variables']:>8,} solves={res['solves']:>4} "
            f"HiGHS={res['highs_seconds']:8.1f}s compile={res['compile_seconds']:6.2f}s "
            f"compare={res['compare_seconds']:8.1f}s ratio={res['ratio']:.3f} "
            f"(with load+build {res['ratio_with_load_and_build']:.3f})",
            flush=True,
        )
    a.results.write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
