"""compare's file-order paths at 1M variables as ``compare`` runs them (its first steps,
then as ``equilibria.explore`` does: a fresh session, the optimistic path from plan B,
then the pessimistic path on the same session and memo), without the rest of compare:
logs each response's time and saves the plan before each (``x_NNN_MODE_DEPT.npy`` in
OUT), so that a failing local problem can be re-solved alone in seconds instead of after
two hours.

    python benchmarks/compare_1m_paths.py OUT               # ~1.5 h; generates the model
    python benchmarks/compare_1m_paths.py OUT --size small  # seconds
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
    from kpidesign.analyses import dynamics
    from kpidesign.analyses.compare import _first_steps
    from kpidesign.errors import SolveError
    from kpidesign.model.assemble import program
    from kpidesign.model.problem import Problem
    from kpidesign.options import Options
    from kpidesign.solver import HighsSession, Statistics
    from kpidesign.spec import load
    from kpidesign.types import Mode

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="where the plans are saved")
    ap.add_argument("--size", default="large", choices=generate.EASY_SIZES)
    args = ap.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    def log(*parts: object) -> None:
        print(f"[{time.perf_counter() - t0:8.1f}s]", *parts, flush=True)

    name = "compare_easy1M" if args.size == "large" else f"paths_easy_{args.size}"
    model = generate.generate_easy(*generate.EASY_SIZES[args.size], HERE / "generated" / name)
    spec = load(model)
    lp = program(spec)
    problem = Problem.from_spec(spec, lp)
    log("program", lp.num_cols, "columns", lp.num_rows, "rows")
    options = Options(orders="file")
    stats = Statistics()
    # compare's own first steps: plan C, plan B, the scales at B, the scorecards
    first = _first_steps(lp, problem, problem.incentives, options, stats)
    b, cards = first.b, first.cards
    log("plan B", b.objective, "scales", first.scales.scales, "solves so far", stats.solves)
    np.save(out / "x_b.npy", b.x)

    respond = dynamics._response
    count = 0

    def traced(session, card, x, mode, options, memo):
        nonlocal count
        count += 1
        np.save(out / f"x_{count:03d}_{mode}_{card.department}.npy", x)
        started = time.perf_counter()
        new, notes = respond(session, card, x, mode, options, memo)
        objective = None if new is None else lp.objective.at(new)
        log(f"#{count} {card.department} {mode} {time.perf_counter() - started:.1f}s", objective)
        return new, notes

    dynamics._response = traced
    task = HighsSession(lp, options, stats=Statistics())
    memo = dynamics.ResponseMemo(options.tol / 100)
    for mode in Mode:
        try:
            end = dynamics.best_response_dynamics(
                task, cards, b.x, mode=mode, options=options, order=tuple(lp.departments),
                memo=memo,
            )  # fmt: skip
            log("ended", mode, end.rounds, "rounds, converged", end.converged, end.objective)
        except SolveError as exc:
            log("FAILED", mode, exc)


if __name__ == "__main__":
    main()
