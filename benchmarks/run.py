"""Benchmark kpidesign against HiGHS alone on the same LP, per model size.

    python benchmarks/run.py [--family org|easy] [--sizes small,medium,large] [--quick] [--repeat N]

``--family`` picks the generated family (``generate.py``: ``org``, the default, or ``easy``);
each family has its own sizes (``generate.SIZES``, ``generate.EASY_SIZES``).
For each size: generate the model (``generate.py``, into ``benchmarks/generated/``), then

* check that ``direct_highspy.py`` builds the same LP as kpidesign (small sizes: same columns
  by name, same costs, bounds and rows up to row order), for kpidesign's Pyomo path
  (``build`` + ``compile_model``) and, where it exists, its direct assembly
  (``kpidesign.model.assemble.program``, what ``kpidesign solve`` solves);
* **stages** (a child process, Python API): ``kpidesign.spec.load``,
  ``kpidesign.model.build``, ``kpidesign.model.compile_model``, ``HighsSession(lp)``
  (passing the model to HiGHS) and ``HighsSession.solve()`` (HiGHS ``run()``); then one
  cost is changed and the same LP is re-solved warm (from the optimal basis) and cold
  (``solve(warm=False)``: basis cleared, presolve on);
* **cli**: the whole ``kpidesign solve FILE --format json --out TMP`` process, wall time;
* **direct**: the whole ``python benchmarks/direct_highspy.py FILE --json`` process;
* ratio = cli wall / direct wall, peak memory (each child's own ``VmHWM``, see
  :func:`run_child`), and the objectives, which must agree to 1e-6 relative.

Results go to ``benchmarks/results.json`` for the org family and ``benchmarks/results_easy.json``
for the easy family (``--quick``: ``benchmarks/generated/results-quick.json`` and
``results-quick-easy.json``), and a table is printed.  Compare figures of one run only: the
machine is shared.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

PY = sys.executable
KPIDESIGN = str(Path(PY).with_name("kpidesign"))
REL_TOL = 1e-6


# -- child process: stage times through the Python API ----------------------------------


def stages(model: Path, resolve: bool, solve: bool = True) -> dict:
    t = time.perf_counter()
    import numpy as np

    from kpidesign.model.assemble import program
    from kpidesign.solver import HighsSession
    from kpidesign.spec import load

    out: dict = {"import_seconds": time.perf_counter() - t}
    t = time.perf_counter()
    spec = load(model)
    out["load_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    lp = program(spec)  # what solve does: the vectorized assembly, no Pyomo
    out["assemble_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    session = HighsSession(lp)
    out["session_seconds"] = time.perf_counter() - t
    out["rows"], out["cols"], out["nnz"] = int(lp.num_rows), int(lp.num_cols), int(lp.A.nnz)
    if not solve:
        return out
    sol = session.solve()
    out["highs_seconds"] = sol.seconds
    out["status"] = sol.status.value
    out["objective"] = sol.objective
    out["iterations"] = int(session.highs.getInfo().simplex_iteration_count)
    if resolve and sol.optimal:
        # one cost changes: plant 1's largest production column becomes 10% dearer
        cost = lp.objective.dense(lp.num_cols)
        make = np.flatnonzero(lp.col_component == lp.col_components.index("make_1"))
        j = int(make[np.argmax(sol.x[make])])
        cost[j] *= 1.10
        session.set_objective(cost, lp.sense, lp.objective.constant)
        warm = session.solve(warm=True)
        warm_it = int(session.highs.getInfo().simplex_iteration_count)
        cold = session.solve(warm=False)
        cold_it = int(session.highs.getInfo().simplex_iteration_count)
        out["resolve"] = {
            "changed_column": lp.col_name(j),
            "warm_seconds": warm.seconds,
            "warm_iterations": warm_it,
            "warm_objective": warm.objective,
            "cold_seconds": cold.seconds,
            "cold_iterations": cold_it,
            "cold_objective": cold.objective,
        }
    return out


# -- the same LP? -------------------------------------------------------------------------


def kpidesign_lps(model: Path) -> dict:
    """kpidesign's LPs of ``model``: the Pyomo path and, where it exists, the assembled one."""
    from kpidesign.model.build import build
    from kpidesign.model.compile import compile_model
    from kpidesign.spec import load

    spec = load(model)
    lps = {"compiled": compile_model(build(spec))}
    try:
        from kpidesign.model.assemble import program
    except ImportError:
        return lps
    lps["assembled"] = program(spec)
    return lps


def same_lp(model: Path) -> dict:
    """Compare kpidesign's LPs with direct_highspy's, columns matched by name."""
    import direct_highspy

    d = direct_highspy.build(model)
    names = direct_highspy.col_names(d)
    out: dict = {"same": True, "problems": [], "checked": []}
    for path, lp in kpidesign_lps(model).items():
        res = _same_lp(lp, d, names)
        out["checked"].append(path)
        out["same"] = out["same"] and res["same"]
        out["problems"] += [f"{path}: {p}" for p in res["problems"]]
        out.update({k: v for k, v in res.items() if k in ("rows", "cols", "nnz")})
    return out


def _same_lp(lp, d: dict, names: list[str]) -> dict:
    import numpy as np

    where = {lp.col_name(j): j for j in range(lp.num_cols)}
    problems = []
    if sorted(names) != sorted(where):
        return {"same": False, "problems": ["column names differ"]}
    perm = np.array([where[n] for n in names])  # direct column i is kpidesign column perm[i]
    cost = lp.objective.dense(lp.num_cols)[perm]
    if lp.sense != "max":
        problems.append("sense differs")
    for what, a, b in (
        ("costs", cost, d["c"]),
        ("column lower bounds", lp.col_lower[perm], d["col_lower"]),
        ("column upper bounds", lp.col_upper[perm], d["col_upper"]),
    ):
        if not np.allclose(a, b, rtol=1e-12, atol=0):
            problems.append(f"{what} differ")
    A = lp.A.tocsc()[:, perm].tocsr()
    B = d["A"].tocsr()

    def row_keys(M, lo, hi) -> list:
        M = M.tocsr()
        M.sort_indices()
        keys = []
        for i in range(M.shape[0]):
            s, e = M.indptr[i], M.indptr[i + 1]
            keys.append(
                (
                    tuple(M.indices[s:e].tolist()),
                    tuple(np.round(M.data[s:e], 10).tolist()),
                    round(float(lo[i]), 6),
                    round(float(hi[i]), 6),
                )
            )
        return sorted(keys)

    if A.shape != B.shape or A.nnz != B.nnz:
        problems.append(f"matrix shape/nnz differ: {A.shape}/{A.nnz} vs {B.shape}/{B.nnz}")
    elif row_keys(A, lp.row_lower, lp.row_upper) != row_keys(B, d["row_lower"], d["row_upper"]):
        problems.append("rows differ")
    return {
        "same": not problems,
        "problems": problems,
        "rows": A.shape[0],
        "cols": A.shape[1],
        "nnz": int(A.nnz),
    }


# -- parent: subprocesses with wall time and peak memory -----------------------------------


def _hwm_mb(pid: int) -> float | None:
    """The high-water mark of process ``pid``'s resident memory (``VmHWM``), in MB."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_child(cmd: list[str], timeout: float, stdout_path: Path) -> dict:
    """Run ``cmd``; wall seconds, exit status and peak RSS (MB) of that process alone.

    The peak is the child's own ``VmHWM``, read every 20 ms while it runs (it only grows,
    and processes free memory at their end rather than take more). ``ru_maxrss`` from
    ``wait4`` is not used: Linux keeps, across ``exec``, the high-water mark of the memory
    the child was forked with, which is this parent's (it has built LPs for the checks)."""
    peak: float | None = None
    with stdout_path.open("w") as fh:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
        deadline = start + timeout
        while True:
            hwm = _hwm_mb(proc.pid)
            if hwm is not None:
                peak = hwm if peak is None else max(peak, hwm)
            pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                return {"wall_seconds": None, "timeout": True, "peak_rss_mb": peak}
            time.sleep(0.02)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_seconds": wall,
        "exit": proc.returncode,
        "peak_rss_mb": peak,
        "timeout": False,
    }


def rel(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return abs(a - b) / max(1.0, abs(b))


def bench_size(name: str, dims: tuple[int, int, int], a: argparse.Namespace, work: Path) -> dict:
    d, p, t = dims
    family = a.family
    model_dir = HERE / "generated" / (name if family == "org" else f"{family}-{name}")
    model_file = generate.MODEL_FILE[family]
    stamp = model_dir / "dims.json"
    # a changed generator must not reuse models generated by an earlier version of it
    source = hashlib.sha256(Path(generate.__file__).read_bytes()).hexdigest()
    want = {
        "family": family,
        "departments": d,
        "products": p,
        "periods": t,
        "seed": 12345,
        "generator": source,
    }
    if not (
        stamp.is_file()
        and json.loads(stamp.read_text()) == want
        and (model_dir / model_file).is_file()
    ):
        shutil.rmtree(model_dir, ignore_errors=True)
        t0 = time.perf_counter()
        if family == "easy":
            generate.generate_easy(d, p, t, model_dir)
        else:
            generate.generate(d, p, t, model_dir)
        stamp.write_text(json.dumps(want))
        print(f"[{name}] generated in {time.perf_counter() - t0:.1f} s", flush=True)
    model = model_dir / model_file
    res: dict = {
        "family": family,
        "departments": d,
        "products": p,
        "periods": t,
        **generate.count(family, d, p, t),
    }

    if res["variables"] <= a.check_max_cols:
        res["same_lp"] = same_lp(model)
        print(
            f"[{name}] same LP as direct_highspy: "
            f"{res['same_lp']['same']} {res['same_lp']['problems']}",
            flush=True,
        )

    for rep in range(a.repeat):
        tag = f"[{name}] run {rep + 1}/{a.repeat}"
        # stages through the API (also warm/cold re-solve)
        log = work / f"{name}-stages.out"
        cmd = [PY, str(HERE / "run.py"), "--stages-child", str(model)]
        no_solve = name in a.no_solve_sizes
        if no_solve:
            cmd.append("--no-solve")
        elif name in a.resolve_sizes:
            cmd.append("--resolve")
        child = run_child(cmd, a.timeout, log)
        st = None
        if not child["timeout"] and child.get("exit") == 0:
            st = json.loads(log.read_text().strip().splitlines()[-1])
        st = {**(st or {"error": log.read_text()[-2000:]}), "process": child}
        print(f"{tag} stages: {_brief(st)}", flush=True)
        if no_solve:  # pipeline before HiGHS only, against the direct script's build
            log = work / f"{name}-direct.out"
            direct = run_child(
                [PY, str(HERE / "direct_highspy.py"), str(model), "--json", "--no-solve"],
                a.timeout,
                log,
            )
            if direct.get("exit") == 0:
                direct.update(json.loads(log.read_text().strip().splitlines()[-1]))
            print(f"{tag} direct highspy (no solve): {direct}", flush=True)
            res.setdefault("runs", []).append(
                {
                    "stages": st,
                    "cli": {"skipped": "no-solve size"},
                    "direct": direct,
                    "no_solve": True,
                }
            )
            continue
        # the whole CLI process
        outdir = work / f"{name}-cli"
        shutil.rmtree(outdir, ignore_errors=True)
        cli = run_child(
            [KPIDESIGN, "solve", str(model), "--format", "json", "--out", str(outdir)],
            a.timeout,
            work / f"{name}-cli.out",
        )
        if cli.get("exit") == 0:
            cli["objective"] = json.loads((outdir / "solve.json").read_text())["objective"]
        print(f"{tag} kpidesign solve: {cli}", flush=True)
        # the direct script
        log = work / f"{name}-direct.out"
        direct = run_child(
            [PY, str(HERE / "direct_highspy.py"), str(model), "--json"], a.timeout, log
        )
        if direct.get("exit") == 0:
            direct.update(json.loads(log.read_text().strip().splitlines()[-1]))
        print(f"{tag} direct highspy: {direct}", flush=True)
        runs = res.setdefault("runs", [])
        runs.append({"stages": st, "cli": cli, "direct": direct})
    res["summary"] = summarize(res)
    return res


def summarize(res: dict) -> dict:
    """Summary over repetitions: the fastest of each (least disturbed by other load)."""

    def best(key: str, field: str) -> float | None:
        vals = [
            r[key].get(field) if key != "stages" else r["stages"].get(field) for r in res["runs"]
        ]
        vals = [v for v in vals if v is not None]
        return min(vals) if vals else None

    summary = {
        f: best("stages", f)
        for f in (
            "import_seconds",
            "load_seconds",
            "assemble_seconds",
            "session_seconds",
            "highs_seconds",
        )
    }
    summary["cli_wall_seconds"] = best("cli", "wall_seconds")
    summary["cli_peak_rss_mb"] = best("cli", "peak_rss_mb")
    summary["direct_wall_seconds"] = best("direct", "wall_seconds")
    summary["direct_build_seconds"] = best("direct", "build_seconds")
    summary["direct_import_seconds"] = best("direct", "import_seconds")
    summary["stages_import_seconds"] = summary.pop("import_seconds")
    summary["solved"] = not res["runs"][-1].get("no_solve", False)
    summary["direct_highs_seconds"] = best("direct", "highs_seconds")
    summary["direct_peak_rss_mb"] = best("direct", "peak_rss_mb")
    rss = [r["stages"].get("process", {}).get("peak_rss_mb") for r in res["runs"]]
    summary["stages_peak_rss_mb"] = min([v for v in rss if v is not None], default=None)
    # the ratio within each repetition (CLI and direct ran back to back), then the best
    ratios = [
        r["cli"]["wall_seconds"] / r["direct"]["wall_seconds"]
        for r in res["runs"]
        if r["cli"].get("wall_seconds") and r["direct"].get("wall_seconds")
    ]
    summary["ratio_cli_over_direct"] = min(ratios) if ratios else None
    summary["ratios_per_run"] = ratios
    last = res["runs"][-1]
    objs = {
        "stages": last["stages"].get("objective"),
        "cli": last["cli"].get("objective"),
        "direct": last["direct"].get("objective"),
    }
    summary["objectives"] = objs
    if summary["solved"]:
        errs = [rel(objs[k], objs["direct"]) for k in ("stages", "cli")]
        summary["objective_rel_diff_max"] = None if None in errs else max(errs)
        summary["objectives_agree"] = (
            summary["objective_rel_diff_max"] is not None
            and summary["objective_rel_diff_max"] <= REL_TOL
        )
    if "resolve" in last["stages"]:
        summary["resolve"] = last["stages"]["resolve"]
    return summary


def _brief(st: dict) -> str:
    keys = ("load_seconds", "assemble_seconds", "session_seconds", "highs_seconds")
    parts = [f"{k.split('_')[0]} {st[k]:.2f}s" for k in keys if k in st]
    if "resolve" in st:
        r = st["resolve"]
        parts.append(f"re-solve warm {r['warm_seconds']:.2f}s cold {r['cold_seconds']:.2f}s")
    if "error" in st:
        parts.append("ERROR " + st["error"][-300:])
    return ", ".join(parts)


def machine() -> dict:
    import highspy
    import numpy
    import pyomo.version
    import scipy

    def sh(cmd: str) -> str:
        try:
            return subprocess.run(
                cmd, shell=True, capture_output=True, text=True, check=False
            ).stdout.strip()
        except OSError:
            return ""

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    hv = getattr(highspy.Highs(), "version", lambda: "")()
    if not hv:
        from importlib.metadata import version

        hv = version("highspy")
    return {
        "nproc": sh("nproc"),
        "cpu": cpu,
        "memory": sh("free -h | awk '/Mem:/ {print $2}'"),
        "python": platform.python_version(),
        "highspy": hv,
        "pyomo": pyomo.version.version,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
    }


def table(results: dict) -> str:
    cols = [
        ("size", 7),
        ("vars", 9),
        ("load", 6),
        ("assemble", 8),
        ("pass", 6),
        ("HiGHS", 7),
        ("cli", 7),
        ("direct", 7),
        ("d.HiGHS", 7),
        ("ratio", 6),
        ("cliMB", 6),
        ("dirMB", 6),
        ("stgMB", 6),
        ("warm", 6),
        ("cold", 6),
    ]
    out = ["  ".join(f"{c:>{w}}" for c, w in cols)]

    def f(x: float | None, nd: int = 2) -> str:
        return "-" if x is None else f"{x:.{nd}f}"

    for name, r in results["sizes"].items():
        s = r["summary"]
        if "load_seconds" not in s:
            continue
        rs = s.get("resolve", {})
        vals = [
            name,
            str(r["variables"]),
            f(s["load_seconds"]),
            f(s.get("assemble_seconds")),
            f(s["session_seconds"]),
            f(s["highs_seconds"]),
            f(s["cli_wall_seconds"]),
            f(s["direct_wall_seconds"]),
            f(s["direct_highs_seconds"]),
            f(s["ratio_cli_over_direct"]),
            f(s["cli_peak_rss_mb"], 0),
            f(s["direct_peak_rss_mb"], 0),
            f(s["stages_peak_rss_mb"], 0),
            f(rs.get("warm_seconds")),
            f(rs.get("cold_seconds")),
        ]
        out.append("  ".join(f"{v:>{w}}" for v, (_, w) in zip(vals, cols, strict=True)))
    return "\n".join(out)


def results_file(family: str, quick: bool) -> Path:
    """Default results file of a family: org keeps results.json, easy gets its own."""
    if quick:
        return (
            HERE
            / "generated"
            / ("results-quick.json" if family == "org" else f"results-quick-{family}.json")
        )
    return HERE / ("results.json" if family == "org" else f"results_{family}.json")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--family",
        choices=sorted(generate.FAMILY_SIZES),
        default="org",
        help="model family of generate.py (default org; easy writes results_easy.json)",
    )
    ap.add_argument(
        "--sizes",
        default=None,
        help=f"comma list of {','.join(generate.SIZES)} (default: small,medium)",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="small only, results to benchmarks/generated/results-quick[-easy].json",
    )
    ap.add_argument(
        "--repeat", type=int, default=1, help="measure each size N times, report the fastest"
    )
    ap.add_argument(
        "--resolve-sizes", default="small,medium", help="sizes with the warm/cold re-solve"
    )
    ap.add_argument(
        "--no-solve-sizes",
        default="",
        help="sizes measured only up to passing the model to HiGHS (no solve, no CLI run)",
    )
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per child process")
    ap.add_argument(
        "--check-max-cols",
        type=int,
        default=50_000,
        help="compare the two LPs row by row up to this many variables",
    )
    ap.add_argument("--results", type=Path, default=None)
    ap.add_argument(
        "--report-only",
        action="store_true",
        help="re-summarize the results file and print the table",
    )
    ap.add_argument(
        "--merge", action="store_true", help="keep other sizes already in the results file"
    )
    ap.add_argument("--stages-child", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--resolve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-solve", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    sizes_of = generate.FAMILY_SIZES[a.family]
    if a.report_only:
        path = a.results or results_file(a.family, quick=False)
        results = json.loads(path.read_text())
        for r in results["sizes"].values():
            r["summary"] = summarize(r)
        results["sizes"] = dict(
            sorted(results["sizes"].items(), key=lambda kv: list(sizes_of).index(kv[0]))
        )
        path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        print(table(results))
        return
    if a.stages_child:
        print(json.dumps(stages(a.stages_child, a.resolve, solve=not a.no_solve), sort_keys=True))
        return
    sizes = (a.sizes or ("small" if a.quick else "small,medium")).split(",")
    unknown = [s for s in sizes if s not in sizes_of]
    if unknown:
        ap.error(f"unknown size(s) {unknown}; choose from {list(sizes_of)}")
    a.resolve_sizes = set(a.resolve_sizes.split(","))
    a.no_solve_sizes = set(filter(None, a.no_solve_sizes.split(",")))
    results_path = a.results or results_file(a.family, a.quick)
    results: dict = {
        "family": a.family,
        "machine": machine(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "sizes": {},
    }
    if a.merge and results_path.is_file():  # keep the other sizes of an earlier run
        old = json.loads(results_path.read_text())
        for name, r in old.get("sizes", {}).items():
            if name not in sizes:
                r["summary"] = summarize(r)
                results["sizes"][name] = r
        results["started_earlier_sizes"] = old.get("started_earlier_sizes") or old.get("started")
    print(json.dumps(results["machine"]), flush=True)
    with tempfile.TemporaryDirectory(prefix="kpibench-") as tmp:
        for name in sizes:
            results["sizes"][name] = bench_size(name, sizes_of[name], a, Path(tmp))
            results_path.parent.mkdir(parents=True, exist_ok=True)
            results["sizes"] = dict(
                sorted(results["sizes"].items(), key=lambda kv: list(sizes_of).index(kv[0]))
            )
            results_path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print()
    print(table(results))
    bad = [n for n, r in results["sizes"].items() if r["summary"].get("objectives_agree") is False]
    if bad:
        print(f"OBJECTIVES DISAGREE (> {REL_TOL:g} relative) at: {', '.join(bad)}")
    print(f"results: {results_path}")


if __name__ == "__main__":
    main()
