"""How fast is ``kpidesign stress``? The seed's shocks (``scenarios/shocks.yaml``, 200
futures and 200 fresh ones, four plans each, the robust allocation's extensive form over
50 futures), run back to back in one process:

- ``serial``: ``kpidesign.stress(..., workers=1)``;
- ``pool``: ``workers=2`` (a process pool);
- ``dask``: ``engine="dask", workers=2`` (a LocalCluster started and stopped by the run);

and, for scale, one future's recourse the naive way (load the future's scenario, build
through Pyomo, solve) times the futures it would take. Every way's JSON is checked to be
byte-identical to the serial one's. Writes ``benchmarks/stress_results.json``.

    python benchmarks/stress.py          # ~2 minutes on the project's machine
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import kpidesign
from kpidesign.render.files import to_json

HERE = Path(__file__).parent
SHOCKS = HERE.parent / "scenarios" / "shocks.yaml"


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


def main() -> None:
    runs, texts = {}, {}
    for label, kwargs in [
        ("serial", {"workers": 1}),
        ("pool", {"workers": 2}),
        ("dask", {"workers": 2, "engine": "dask"}),
    ]:
        seconds, result = timed(kpidesign.stress, SHOCKS, **kwargs)
        runs[label] = round(seconds, 2)
        texts[label] = to_json(result)
        print(f"{label}: {seconds:.1f} s", flush=True)
    same = all(t == texts["serial"] for t in texts.values())
    # the naive way, for scale: one future rebuilt through Pyomo and solved
    rebuild, _ = timed(kpidesign.solve, SHOCKS)
    futures = json.loads(texts["serial"])["futures"]
    solves = (futures["count"] + futures["out_of_sample"]) * 4
    out = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "seconds": runs,
        "byte_identical": same,
        "naive_per_recourse_seconds": round(rebuild, 3),
        "naive_estimate_seconds": round(rebuild * solves, 1),
        "recourse_solves": solves,
    }
    (HERE / "stress_results.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    if not same:
        msg = "the engines disagree"
        raise SystemExit(msg)


if __name__ == "__main__":
    main()
