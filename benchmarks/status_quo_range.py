"""Benchmark of the status quo's range (issue 11): `kpidesign compare` on the shipped seed
scenario with one path per tie-break (``--orders file``, the former single-path status quo)
against every department order (``--orders all``: 120 orders x 2 tie-breaks), on one and on
two worker processes, back to back in one run so that the ratios survive a noisy machine.
Each run is the installed ``kpidesign`` executable in a subprocess (imports included), the
fastest of ``--repeat`` runs kept.  The JSON must be the same on one and two workers.

    python benchmarks/status_quo_range.py              # ~2 minutes
    python benchmarks/status_quo_range.py --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIO = HERE.parent / "scenarios" / "baseline.yaml"
CASES = {
    "file order": ["--orders", "file"],
    "all orders, 1 worker": ["--orders", "all", "--workers", "1"],
    "all orders, 2 workers": ["--orders", "all", "--workers", "2"],
}


def run(exe: str, args: list[str]) -> tuple[float, str]:
    """Wall time and JSON of one ``kpidesign compare``."""
    start = time.perf_counter()
    out = subprocess.run(
        [exe, "compare", str(SCENARIO), "-f", "json", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "status_quo_range.json")
    args = parser.parse_args()
    exe = shutil.which("kpidesign", path=str(Path(sys.executable).parent)) or "kpidesign"
    times: dict[str, list[float]] = {case: [] for case in CASES}
    outputs: dict[str, str] = {}
    for _ in range(args.repeat):  # alternate the cases, so that load hits them alike
        for case, extra in CASES.items():
            seconds, out = run(exe, extra)
            times[case].append(seconds)
            outputs[case] = out
    same = outputs["all orders, 1 worker"] == outputs["all orders, 2 workers"]
    ranged = json.loads(outputs["all orders, 1 worker"])
    best = {case: min(t) for case, t in times.items()}
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "seconds": best,
        "ratio_all_to_file": best["all orders, 1 worker"] / best["file order"],
        "ratio_two_workers": best["all orders, 2 workers"] / best["all orders, 1 worker"],
        "identical_on_one_and_two_workers": same,
        "paths": ranged["status_quo_range"]["paths"],
        "solves": ranged["solves"],
    }
    args.out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    for case, seconds in best.items():
        print(f"{case:24s} {seconds:6.1f} s")
    print(
        f"all/file {result['ratio_all_to_file']:.2f}x, two workers/one "
        f"{result['ratio_two_workers']:.2f}x, identical: {same}"
    )


if __name__ == "__main__":
    main()
