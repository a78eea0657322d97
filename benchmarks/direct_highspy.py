"""The baseline: the LP of a generated organization model, built with numpy and solved with highspy.

    python benchmarks/direct_highspy.py DIR/org.yaml [--json] [--no-solve] [--solver S]
    python benchmarks/direct_highspy.py DIR/easy.yaml [--json] [--no-solve] [--solver S]

No Pyomo and no kpidesign: the script reads the same files that ``kpidesign solve`` reads
(the YAML for scalars, sets, baselines and the budget; the CSV params with pandas), builds
the same rows, columns, bounds and objective as vectorized numpy/scipy arrays, passes them
to one highspy instance with the same options as kpidesign's ``HighsSession`` (output off,
everything else default) and solves.  It knows the *shapes* of the two families written by
``generate.py``, not the model format in general; the family is the model's ``name``
(``org`` or ``easy``, as ``generate.py`` writes it).

Prints the build time (files read to a column-wise matrix), the HiGHS time (``run()``), the
objective and the matrix size; ``--json`` prints one JSON object instead.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

T0 = time.perf_counter()

import highspy  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from ruamel.yaml import YAML  # noqa: E402


def _param(
    model_dir: Path, decl: dict, index: list[dict], str_cols: tuple[str, ...] = ("product",)
) -> np.ndarray:
    """A CSV param as a dense array over its sets (positions from the set member lists)."""
    frame = pd.read_csv(model_dir / decl["file"], dtype=dict.fromkeys(str_cols, str))
    cols = [c for c in frame.columns if c != "value"]
    out = np.full(tuple(len(ix) for ix in index), np.nan)
    pos = tuple(frame[c].map(ix).to_numpy() for c, ix in zip(cols, index, strict=True))
    out[pos] = frame["value"].to_numpy(dtype=float)
    if np.isnan(out).any():
        msg = f"{decl['file']}: missing entries"
        raise SystemExit(msg)
    return out


def family(doc: dict) -> str:
    """``org`` or ``easy``: the family of a model written by generate.py (its ``name``)."""
    name = str(doc.get("name"))
    if name not in ("org", "easy"):
        msg = f"model name {name!r}: not a model written by benchmarks/generate.py (org, easy)"
        raise SystemExit(msg)
    return name


def build(path: Path) -> dict:
    """Read the model and return the LP as arrays (column-wise matrix)."""
    doc = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    if family(doc) == "easy":
        return build_easy(path, doc)
    return build_org(path, doc)


class _Rows:
    """Row blocks and (row, column, value) triplets, in the order they are added."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.n = 0

    def block(self, m: int, lo: np.ndarray | float, hi: np.ndarray | float) -> np.ndarray:
        r = self.n + np.arange(m)
        self.lower.append(np.broadcast_to(np.asarray(lo, dtype=float), (m,)))
        self.upper.append(np.broadcast_to(np.asarray(hi, dtype=float), (m,)))
        self.n += m
        return r

    def add(self, r: np.ndarray, c: np.ndarray, v: np.ndarray | float) -> None:
        self.rows.append(np.asarray(r, dtype=np.int64))
        self.cols.append(np.asarray(c, dtype=np.int64))
        self.vals.append(np.broadcast_to(np.asarray(v, dtype=float), np.shape(r)))

    def matrix(self, n: int) -> sp.csc_array:
        A = sp.csc_array(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(self.n, n),
        )
        A.sum_duplicates()
        return A


def _budget(
    R: _Rows, doc: dict, depts: list[str], alloc: dict[str, int], use: dict, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Budget rows (use <= allocation per department, allocations within the total) and
    the allocation columns' bounds; ``use[d]`` lists (column indices, coefficients)."""
    budget = doc["resources"]["budget"]
    for d in depts:
        r = R.block(1, -np.inf, 0.0)
        for cols, coef in use[d]:
            R.add(np.repeat(r, len(cols)), cols, coef)
        R.add(r, [alloc[d]], -1.0)
    available = float(budget["total"]) * (1.0 - float(budget.get("reserve", 0.0)))
    r = R.block(1, -np.inf, available)
    R.add(np.repeat(r, len(depts)), [alloc[d] for d in depts], 1.0)
    col_lower = np.zeros(n)
    col_upper = np.full(n, np.inf)
    _allocation_bounds(doc, depts, alloc, col_lower, col_upper)
    return col_lower, col_upper


def _allocation_bounds(
    doc: dict, depts: list[str], alloc: dict[str, int], lower: np.ndarray, upper: np.ndarray
) -> None:
    """Each allocation within ``max_shift`` of its baseline (never below 0), in place."""
    shift = doc["resources"]["budget"].get("max_shift")
    if shift is None:
        return
    for d in depts:
        base = float(doc["departments"][d]["allocation"]["budget"])
        lower[alloc[d]] = max(0.0, base * (1 - float(shift)))
        upper[alloc[d]] = base * (1 + float(shift))


def build_easy(path: Path, doc: dict) -> dict:
    """The easy family's LP (generate.py --family easy): columns are blocks of L*M*T
    (line-, item-, then period-major: ``inventory``, ``sell``, ``make_k``), blocks of L*T
    (``extra_k``), then one allocation per department."""
    model_dir = path.parent
    sets = doc["sets"]
    lines = [str(x) for x in sets["line"]]
    items = [str(x) for x in sets["item"]]
    first, last = (int(x) for x in str(sets["period"]).split(".."))
    periods = list(range(first, last + 1))
    L, M, T = len(lines), len(items), len(periods)
    LMT, LT = L * M * T, L * T
    lix = {x: i for i, x in enumerate(lines)}
    iix = {x: i for i, x in enumerate(items)}
    tix = {t: i for i, t in enumerate(periods)}
    params = doc["params"]

    def par(name: str, index: list[dict]) -> np.ndarray:
        return _param(model_dir, params[name], index, str_cols=("line", "item"))

    demand = par("demand", [lix, iix, tix]).ravel()
    price, hours, volume, commission, hold = (
        par(x, [lix, iix]).ravel() for x in ("price", "hours", "volume", "commission", "hold")
    )
    storage = par("storage", [lix])
    depts = list(doc["departments"])
    plants = [d for d in depts if d.startswith("plant_")]
    K = len(plants)
    cost = {k: par(f"cost_{k}", [lix, iix]).ravel() for k in range(1, K + 1)}
    cap = {k: par(f"cap_{k}", [lix, tix]).ravel() for k in range(1, K + 1)}
    otrate = {k: float(params[f"otrate_{k}"]) for k in range(1, K + 1)}
    extra_ub = {
        k: float(doc["departments"][f"plant_{k}"]["variables"][f"extra_{k}"]["ub"])
        for k in range(1, K + 1)
    }
    slack = {name: float(c.get("slack") or 0.0) for name, c in doc["constraints"].items()}
    init_inv = float(doc["variables"]["inventory"]["initial"])

    pt_blocks = ["inventory", "sell"] + [f"make_{k}" for k in range(1, K + 1)]
    lt_blocks = [f"extra_{k}" for k in range(1, K + 1)]
    B = {name: i * LMT for i, name in enumerate(pt_blocks)}
    n_pt = len(pt_blocks) * LMT
    B.update({name: n_pt + i * LT for i, name in enumerate(lt_blocks)})
    n_lt = n_pt + len(lt_blocks) * LT
    alloc = {d: n_lt + i for i, d in enumerate(depts)}
    n = n_lt + len(depts)

    q = np.arange(LMT)  # (line, item, period), period fastest
    pr = q // T  # product (line, item) of each
    lt = (q // (M * T)) * T + q % T  # its (line, period)
    has_lag = q % T > 0
    lts = np.arange(LT)
    R = _Rows()
    # inventory balance: inv - inv[t-1] - sum_k make_k + sell == initial (first period) / 0
    rhs = np.where(has_lag, 0.0, init_inv)
    r = R.block(LMT, rhs, rhs)
    R.add(r, B["inventory"] + q, 1.0)
    R.add(r[has_lag], B["inventory"] + q[has_lag] - 1, -1.0)
    for k in range(1, K + 1):
        R.add(r, B[f"make_{k}"] + q, -1.0)
    R.add(r, B["sell"] + q, 1.0)
    # market: sell <= demand
    r = R.block(LMT, -np.inf, (1.0 - slack["market"]) * demand)
    R.add(r, B["sell"] + q, 1.0)
    # machine hours per plant and (line, period): sum_i hours * make_k - extra_k <= cap_k
    for k in range(1, K + 1):
        r = R.block(LT, -np.inf, (1.0 - slack[f"hours_{k}"]) * cap[k])
        R.add(r[lt], B[f"make_{k}"] + q, hours[pr])
        R.add(r, B[f"extra_{k}"] + lts, -1.0)
    # storage per (line, period): sum_i volume * inventory <= storage[line]
    r = R.block(LT, -np.inf, (1.0 - slack["storage_space"]) * np.repeat(storage, T))
    R.add(r[lt], B["inventory"] + q, volume[pr])

    use = {"sales": [(B["sell"] + q, commission[pr])]}
    for k in range(1, K + 1):
        use[f"plant_{k}"] = [(B[f"extra_{k}"] + lts, otrate[k])]
    col_lower, col_upper = _budget(R, doc, depts, alloc, use, n)
    for k in range(1, K + 1):
        col_upper[B[f"extra_{k}"] : B[f"extra_{k}"] + LT] = extra_ub[k]

    # objective (max): sales net of commission, minus holding, production and extra hours
    c = np.zeros(n)
    c[B["sell"] + q] = (price - commission)[pr]
    c[B["inventory"] + q] = -hold[pr]
    for k in range(1, K + 1):
        c[B[f"make_{k}"] + q] = -cost[k][pr]
        c[B[f"extra_{k}"] + lts] = -otrate[k]

    return {
        "family": "easy",
        "layout": (pt_blocks, lt_blocks, lines, items, periods, depts),
        "A": R.matrix(n),
        "c": c,
        "col_lower": col_lower,
        "col_upper": col_upper,
        "row_lower": np.concatenate(R.lower),
        "row_upper": np.concatenate(R.upper),
    }


def build_org(path: Path, doc: dict) -> dict:
    """The org family's LP (generate.py, default family)."""
    model_dir = path.parent
    products = [str(p) for p in doc["sets"]["product"]]
    first, last = (int(x) for x in str(doc["sets"]["period"]).split(".."))
    periods = list(range(first, last + 1))
    P, T = len(products), len(periods)
    PT = P * T
    pix = {p: i for i, p in enumerate(products)}
    tix = {t: i for i, t in enumerate(periods)}
    params = doc["params"]
    by_p = lambda n: _param(model_dir, params[n], [pix])  # noqa: E731
    by_t = lambda n: _param(model_dir, params[n], [tix])  # noqa: E731
    demand = _param(model_dir, params["demand"], [pix, tix])
    price, hours, lift = by_p("price"), by_p("hours"), by_p("lift")
    insp_rate, qcost = by_p("insp_rate"), by_p("qcost")
    road_cost, rail_cost, penalty = by_p("road_cost"), by_p("rail_cost"), by_p("penalty")
    qcap, road_cap, rail_cap = by_t("qcap"), by_t("road_cap"), by_t("rail_cap")
    hold, commit_share = float(params["hold"]), float(params["commit_share"])
    depts = list(doc["departments"])
    plants = [d for d in depts if d.startswith("plant_")]
    K = len(plants)
    slack = {name: float(c.get("slack") or 0.0) for name, c in doc["constraints"].items()}
    init_inv = float(doc["variables"]["inventory"]["initial"])
    init_back = float(doc["variables"]["backlog"]["initial"])
    promo_ub = float(doc["departments"]["sales"]["variables"]["promo"]["ub"])

    # columns: blocks of P*T (p-major, t-minor), then one allocation per department
    blocks = ["inventory", "backlog", "sell", "promo", "inspect", "road", "rail"]
    for k in range(1, K + 1):
        blocks += [f"make_{k}", f"overtime_{k}"]
    B = {name: i * PT for i, name in enumerate(blocks)}
    n_pt = len(blocks) * PT
    alloc = {d: n_pt + i for i, d in enumerate(depts)}
    n = n_pt + len(depts)
    made = [f"make_{k}" for k in range(1, K + 1)] + [f"overtime_{k}" for k in range(1, K + 1)]

    pt = np.arange(PT)
    p_of = pt // T
    t_of = pt % T
    has_lag = t_of > 0
    rows, cols, vals = [], [], []
    lower, upper = [], []
    nrow = 0

    def add(r: np.ndarray, c: np.ndarray, v: np.ndarray | float) -> None:
        rows.append(np.asarray(r, dtype=np.int64))
        cols.append(np.asarray(c, dtype=np.int64))
        vals.append(np.broadcast_to(np.asarray(v, dtype=float), np.shape(r)))

    def pt_rows(lo: np.ndarray | float, hi: np.ndarray | float) -> np.ndarray:
        nonlocal nrow
        r = nrow + pt
        lower.append(np.broadcast_to(np.asarray(lo, dtype=float), (PT,)))
        upper.append(np.broadcast_to(np.asarray(hi, dtype=float), (PT,)))
        nrow += PT
        return r

    def t_rows(lo: np.ndarray | float, hi: np.ndarray | float) -> np.ndarray:
        nonlocal nrow
        r = nrow + np.arange(T)
        lower.append(np.broadcast_to(np.asarray(lo, dtype=float), (T,)))
        upper.append(np.broadcast_to(np.asarray(hi, dtype=float), (T,)))
        nrow += T
        return r

    # inventory balance: inv[p,t] - inv[p,t-1] - made + road + rail == initial (t = 1) / 0
    rhs = np.where(has_lag, 0.0, init_inv)
    r = pt_rows(rhs, rhs)
    add(r, B["inventory"] + pt, 1.0)
    add(r[has_lag], B["inventory"] + pt[has_lag] - 1, -1.0)
    for name in made:
        add(r, B[name] + pt, -1.0)
    add(r, B["road"] + pt, 1.0)
    add(r, B["rail"] + pt, 1.0)
    # backlog balance: back[p,t] - back[p,t-1] - sell + road + rail == initial / 0
    rhs = np.where(has_lag, 0.0, init_back)
    r = pt_rows(rhs, rhs)
    add(r, B["backlog"] + pt, 1.0)
    add(r[has_lag], B["backlog"] + pt[has_lag] - 1, -1.0)
    add(r, B["sell"] + pt, -1.0)
    add(r, B["road"] + pt, 1.0)
    add(r, B["rail"] + pt, 1.0)
    # market: sell - lift * promo <= demand
    r = pt_rows(-np.inf, (1.0 - slack["market"]) * demand.ravel())
    add(r, B["sell"] + pt, 1.0)
    add(r, B["promo"] + pt, -lift[p_of])
    # committed: sell >= commit_share * demand
    r = pt_rows((1.0 + slack["committed"]) * (commit_share * demand.ravel()), np.inf)
    add(r, B["sell"] + pt, 1.0)
    # inspection: inspect - rate * made >= 0
    r = pt_rows(0.0, np.inf)
    add(r, B["inspect"] + pt, 1.0)
    for name in made:
        add(r, B[name] + pt, -insp_rate[p_of])

    def per_period(block: str, coef: np.ndarray | float, cap: np.ndarray, name: str) -> None:
        rr = t_rows(-np.inf, (1.0 - slack[name]) * cap)
        add(rr[t_of], B[block] + pt, coef)

    per_period("inspect", 1.0, qcap, "inspection_capacity")
    per_period("road", 1.0, road_cap, "road_capacity")
    per_period("rail", 1.0, rail_cap, "rail_capacity")
    # contractual minimum delivery: sum_p (road + rail) >= min_ship * sum_p demand
    rr = t_rows(float(params["min_ship"]) * demand.sum(axis=0), np.inf)
    add(rr[t_of], B["road"] + pt, 1.0)
    add(rr[t_of], B["rail"] + pt, 1.0)
    for k in range(1, K + 1):
        per_period(f"make_{k}", hours[p_of], by_t(f"cap_{k}"), f"regular_hours_{k}")
        per_period(f"overtime_{k}", hours[p_of], by_t(f"otcap_{k}"), f"overtime_hours_{k}")
        # minimum run: sum_p hours * make_k >= min_run * cap_k
        rr = t_rows(float(params["min_run"]) * by_t(f"cap_{k}"), np.inf)
        add(rr[t_of], B[f"make_{k}"] + pt, hours[p_of])

    # budget: each department's use <= its allocation; allocations within total*(1-reserve)
    budget = doc["resources"]["budget"]
    use_cols = {
        "sales": [("promo", 1.0)],
        "quality": [("inspect", qcost[p_of])],
        "logistics": [("road", road_cost[p_of]), ("rail", rail_cost[p_of])],
    }
    otcost = {k: by_p(f"otcost_{k}") for k in range(1, K + 1)}
    cost = {k: by_p(f"cost_{k}") for k in range(1, K + 1)}
    for k in range(1, K + 1):
        use_cols[f"plant_{k}"] = [(f"overtime_{k}", otcost[k][p_of])]
    for d in depts:
        rr = np.array([nrow])
        lower.append(np.array([-np.inf]))
        upper.append(np.array([0.0]))
        nrow += 1
        for block, coef in use_cols[d]:
            add(np.repeat(rr, PT), B[block] + pt, coef)
        add(rr, [alloc[d]], -1.0)
    available = float(budget["total"]) * (1.0 - float(budget.get("reserve", 0.0)))
    add(np.full(len(depts), nrow), [alloc[d] for d in depts], 1.0)
    lower.append(np.array([-np.inf]))
    upper.append(np.array([available]))
    nrow += 1

    # bounds
    col_lower = np.zeros(n)
    col_upper = np.full(n, np.inf)
    col_upper[B["promo"] : B["promo"] + PT] = promo_ub
    _allocation_bounds(doc, depts, alloc, col_lower, col_upper)

    # objective (max): revenue on deliveries minus every cost
    c = np.zeros(n)
    c[B["road"] + pt] = price[p_of] - road_cost[p_of]
    c[B["rail"] + pt] = price[p_of] - rail_cost[p_of]
    c[B["inventory"] + pt] = -hold
    c[B["backlog"] + pt] = -penalty[p_of]
    c[B["promo"] + pt] = -1.0
    c[B["inspect"] + pt] = -qcost[p_of]
    for k in range(1, K + 1):
        c[B[f"make_{k}"] + pt] = -cost[k][p_of]
        c[B[f"overtime_{k}"] + pt] = -otcost[k][p_of]

    A = sp.csc_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(nrow, n)
    )
    A.sum_duplicates()
    return {
        "family": "org",
        "layout": (blocks, products, periods, depts),
        "A": A,
        "c": c,
        "col_lower": col_lower,
        "col_upper": col_upper,
        "row_lower": np.concatenate(lower),
        "row_upper": np.concatenate(upper),
    }


def col_names(lp: dict) -> list[str]:
    """Column names as kpidesign spells them (used by run.py to check it is the same LP)."""
    if lp["family"] == "easy":
        pt_blocks, lt_blocks, lines, items, periods, depts = lp["layout"]
        names = [
            f"{b}[{x},{i},{t}]" for b in pt_blocks for x in lines for i in items for t in periods
        ]
        names += [f"{b}[{x},{t}]" for b in lt_blocks for x in lines for t in periods]
    else:
        blocks, products, periods, depts = lp["layout"]
        names = [f"{b}[{p},{t}]" for b in blocks for p in products for t in periods]
    return names + [f"resources.budget.allocation[{d}]" for d in depts]


def solve(lp: dict, solver: str | None = None, run: bool = True) -> tuple[highspy.Highs, float]:
    A = lp["A"]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    if solver:
        h.setOptionValue("solver", solver)
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = A.shape[1], A.shape[0]
    model.col_cost_ = lp["c"]
    model.col_lower_ = lp["col_lower"]
    model.col_upper_ = lp["col_upper"]
    model.row_lower_ = lp["row_lower"]
    model.row_upper_ = lp["row_upper"]
    model.sense_ = highspy.ObjSense.kMaximize
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = A.indptr.astype(np.int32)
    model.a_matrix_.index_ = A.indices.astype(np.int32)
    model.a_matrix_.value_ = A.data
    model.a_matrix_.num_col_, model.a_matrix_.num_row_ = A.shape[1], A.shape[0]
    h.passModel(model)
    start = time.perf_counter()
    if run:
        h.run()
    return h, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", type=Path, help="org.yaml or easy.yaml written by generate.py")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument(
        "--solver", default=None, help="HiGHS 'solver' option (default: HiGHS's choice)"
    )
    ap.add_argument(
        "--no-solve", action="store_true", help="build and pass the model, do not run HiGHS"
    )
    a = ap.parse_args(argv)
    start = time.perf_counter()
    lp = build(a.model)
    build_s = time.perf_counter() - start
    h, highs_s = solve(lp, a.solver, run=not a.no_solve)
    status = h.modelStatusToString(h.getModelStatus())
    out = {
        "status": status,
        "objective": None if a.no_solve else float(h.getInfo().objective_function_value),
        "rows": int(lp["A"].shape[0]),
        "cols": int(lp["A"].shape[1]),
        "nnz": int(lp["A"].nnz),
        "import_seconds": T0_IMPORT,
        "build_seconds": build_s,
        "highs_seconds": None if a.no_solve else highs_s,
    }
    if a.json:
        print(json.dumps(out, sort_keys=True))
    else:
        for k, v in out.items():
            print(f"{k:15s} {v}")


T0_IMPORT = time.perf_counter() - T0

if __name__ == "__main__":
    main()
