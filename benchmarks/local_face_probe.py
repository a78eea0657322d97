"""The two ways of finding a department's closest tied response (the third rule of
``analyses/local.py``), side by side: on the optimal face of its tie-break LP, read from
that LP's duals (what kpidesign does), and with the company's value held by a row within
``tie_slack`` (its fallback, and its only method before).  Each department's first
response at plan B, as ``compare`` computes it.

    python benchmarks/local_face_probe.py --size medium     # the easy family, 156k variables

Prints per department: the time of each closest solve, the L1 distance from the current
plan and the company objective of the plan each finds (the face's is the tie-break's
value itself; the row's may lie up to ``tie_slack`` below it).  Uses kpidesign's private
functions; a measurement, not an API.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402


def main() -> None:
    from kpidesign.analyses.common import allocation_columns, name_weights, system_optimum
    from kpidesign.analyses.compare import _weighted
    from kpidesign.analyses.local import _add_local_row, fix_others, free_columns, scorecards
    from kpidesign.analyses.scales import measure_scales
    from kpidesign.analyses.target import reference_plan
    from kpidesign.model.assemble import program
    from kpidesign.model.problem import Problem
    from kpidesign.options import Options
    from kpidesign.solver import HighsSession, Statistics
    from kpidesign.spec import load

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="small", choices=sorted(generate.EASY_SIZES))
    ap.add_argument("--work", type=Path, default=HERE / "generated")
    a = ap.parse_args()
    d_, p_, t_ = generate.EASY_SIZES[a.size]
    spec = load(generate.generate_easy(d_, p_, t_, a.work / f"face_{a.size}"))
    lp = program(spec)
    problem = Problem.from_spec(spec, lp)
    s = HighsSession(lp, Options())
    system_optimum(s)
    b = reference_plan(s, allocation_columns(lp)[1], Options(), Statistics())
    scales = measure_scales(s, b.x, _weighted(problem.incentives, problem.incentives))
    cards, _ = scorecards(lp, problem.incentives, scales)
    x = np.clip(b.x, lp.col_lower, lp.col_upper)
    sign = -1.0 if lp.sense == "max" else 1.0
    held = -sign * lp.objective.dense(lp.num_cols)  # larger is better for the company
    for d in lp.departments:
        card = cards[d]
        if card.cost is None or card.ratio is not None:
            continue
        free = free_columns(lp, d)
        fix_others(s, lp, free, x)
        w = name_weights(lp, free)
        with s.temporary_rows():
            s.set_objective(card.cost, "max", 0.0)
            best = float(card.cost @ s.solve(warm=False).x)
            _add_local_row(s, free, x, card.cost, best - 1e-9 * (1 + abs(best)))
            s.set_objective(lp.objective, lp.sense)
            tb = s.solve(warm=True)
            value = float(held @ tb.x)
            with s.temporary_rows():
                _add_local_row(s, free, x, held, value - 1e-9 * (1 + abs(value)))
                t0 = time.perf_counter()
                by_row = s.closest(x, free, w)
                t_row = time.perf_counter() - t0
            with s.on_face(tb):
                t0 = time.perf_counter()
                on_face = s.closest(x, free, w)
                t_face = time.perf_counter() - t0

        def dist(y: np.ndarray, w: np.ndarray = w, free: np.ndarray = free) -> float:
            return float(w @ np.abs(y[free] - x[free]))

        print(
            f"{d:10s} free={free.size:>7,} row: {t_row:7.2f} s distance {dist(by_row.x):12.6g} "
            f"company {held @ by_row.x:.12g} | face: {t_face:6.2f} s distance "
            f"{dist(on_face.x):12.6g} company {held @ on_face.x:.12g} (tie-break {value:.12g})",
            flush=True,
        )


if __name__ == "__main__":
    main()
