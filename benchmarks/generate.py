"""Generate an organization model of any size in kpidesign model format 1.

    python benchmarks/generate.py [--family org|easy] --departments D --products P \
        --periods T --out DIR [--lines L]

Two families.  ``org`` (the default) writes ``DIR/org.yaml``, ``easy`` writes
``DIR/easy.yaml``; the CSV data go under ``DIR/data/``.

The ``org`` family (a hard LP: dual simplex needs about 100 s at 156k variables):

* shared state per (product, period): ``inventory`` (initial 10) and ``backlog``
  (initial 0), each with a balance constraint that uses the lag ``t-1``;
* ``sales`` books orders (``sell``) and spends on promotion (``promo``), within a market
  limit ``demand + lift * promo`` and above committed orders;
* ``quality`` inspects a share of everything produced (``inspect``), within an inspection
  capacity kept with 5% slack;
* ``logistics`` delivers by road and rail (``road``, ``rail``) within capacities (road
  with 10% slack);
* ``D - 3`` plants ``plant_1 ...``, each making every product in regular time and overtime
  (``make_k``, ``overtime_k``) within hour capacities (regular time with 5% slack);
* one ``budget`` resource used by every department (promotion, inspection, freight,
  overtime) with a reserve of 5% and a max shift of 30%;
* KPIs per department (ratio KPIs: each plant's ``unit_cost`` and logistics'
  ``cost_per_unit``), a company KPI ``profit``, and the profit objective.

Number of variables: ``P*T*(2*D + 1) + D`` (2 shared + 2 sales + 1 quality + 2 logistics
+ 2 per plant per (product, period), plus one allocation per department).
Number of rows: ``5*P*T + T*(3*(D-3) + 4) + D + 1``.

Data come from ``numpy.random.default_rng(seed)``: the same arguments give the same files.
The model is feasible (producing and delivering the contractual minimum, 5% of each
period's demand, and backlogging the rest of the committed orders is a feasible plan) and
bounded (sales are capped by demand and a bounded promotion). Every ratio KPI's denominator
stays positive on the feasible region, as the format requires: each plant runs its line at
10% of regular capacity at least, and logistics delivers the contractual minimum.

The ``easy`` family (``--family easy``, model name ``easy``): a product mix with inventory
whose LP HiGHS's dual simplex solves in seconds at 156k variables and in well under a
minute at 1M.  Products are organized in ``L`` production lines of ``M`` products each
(``P = L*M``; ``--lines L``, default ``ceil(P / 2000)``, must divide ``P``); sets ``line``,
``item`` (a product is a pair ``(line, item)``) and ``period``; ``K = D - 1`` plants:

* shared state per (line, item, period): ``inventory`` (initial 0), with the balance
  ``inventory[l,i,t] == inventory[l,i,t-1] + make_1[l,i,t] + ... + make_K[l,i,t] - sell[l,i,t]``;
* ``sales`` sells (``sell``) up to demand (``market``: ``sell <= demand``, lost sales), pays a
  sales commission from the budget (its baseline covers the commission on all demand with
  room to spare, so the sales row of the budget never binds);
* ``plant_k`` makes every product (``make_k``) within machine hours per (line, period),
  ``sum_i hours * make_k <= cap_k + extra_k``, where ``extra_k[l,t]`` (ub per plant) are
  extra hours bought from the budget at ``otrate_k`` per hour;
* ``storage`` per (line, period): the volume of a line's inventory within its warehouse space;
* one ``budget`` resource (reserve 5%, max shift 30%), plant baselines 15% below buying half
  of their extra hours, so every plant's allocation ends at its max-shift ceiling and some
  plants' budget rows bind;
* linear KPIs only (no ratio): sales ``volume``, ``revenue``; each plant's ``output`` and
  ``production_cost``; the company KPI and objective ``profit``.

Capacities are 80% of each line's average machine hours (flat) while demand is seasonal
(±40%): peaks need stock built ahead, extra hours, or lost sales (most hours rows and some
storage rows bind at the optimum).  Zero everywhere is a feasible plan; sales are capped by
demand, so the LP is bounded.  What keeps the LP easy (measured on prototypes): every row
but the ``D + 1`` budget rows is local to one product or one (line, period), a line holds at
most 2000 products, and the one budget row over every product (sales') never binds.  At 1M
variables, hours rows summing over all 11,904 products instead of a line's took HiGHS 109 s
against 19 s; at 156k, a binding budget row over every production column made it about 3
times slower.

Number of variables: ``P*T*(D + 1) + (D - 1)*L*T + D`` (inventory, sell and one ``make_k``
per plant per (product, period); one ``extra_k`` per plant per (line, period); one
allocation per department).
Number of rows: ``2*P*T + D*L*T + D + 1`` (balance and market per (product, period); hours
per plant and storage per (line, period); one budget row per department and the total).
Nonzeros: ``P*T*(2*D + 3) + P*(T - 1) + 2*(D - 1)*L*T + 2*D``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

#: named sizes used by run.py: (departments, products, periods)
SIZES = {
    "small": (6, 128, 12),  # 13 * 1,536 + 6 = 19,974 variables
    "medium": (6, 1000, 12),  # 13 * 12,000 + 6 = 156,006 variables
    "large": (6, 6400, 12),  # 13 * 76,800 + 6 = 998,406 variables
}

#: named sizes of the easy family: (departments, products, periods); lines = ceil(P / 2000)
EASY_SIZES = {
    "small": (6, 238, 12),  # 1 line:  84 * 238 + 5 * 12 + 6 = 20,058 variables
    "medium": (6, 1856, 12),  # 1 line:  84 * 1,856 + 5 * 12 + 6 = 155,970 variables
    "large": (6, 11904, 12),  # 6 lines: 84 * 11,904 + 5 * 72 + 6 = 1,000,302 variables
}

#: sizes per family
FAMILY_SIZES = {"org": SIZES, "easy": EASY_SIZES}

#: the model file each family writes into its output directory
MODEL_FILE = {"org": "org.yaml", "easy": "easy.yaml"}

#: most products in one line of the easy family (default --lines = ceil(P / LINE_SIZE))
LINE_SIZE = 2000

FIXED_ROLES = ("sales", "quality", "logistics")


def num_variables(d: int, p: int, t: int) -> int:
    return p * t * (2 * d + 1) + d


def num_rows(d: int, p: int, t: int) -> int:
    return 5 * p * t + t * (3 * (d - 3) + 4) + d + 1


def easy_lines(products: int, lines: int | None = None) -> int:
    """Lines of the easy family: ``lines`` or ``ceil(P / LINE_SIZE)``."""
    return lines if lines else max(1, math.ceil(products / LINE_SIZE))


def count(family: str, d: int, p: int, t: int, lines: int | None = None) -> dict[str, int]:
    """Variables, rows and nonzeros of a family's LP (the formulas of the docstring)."""
    if family == "org":
        return {"variables": num_variables(d, p, t), "rows": num_rows(d, p, t)}
    n_l = easy_lines(p, lines)
    return {
        "variables": p * t * (d + 1) + (d - 1) * n_l * t + d,
        "rows": 2 * p * t + d * n_l * t + d + 1,
        "nonzeros": p * t * (2 * d + 3) + p * (t - 1) + 2 * (d - 1) * n_l * t + 2 * d,
    }


def product_names(p: int) -> list[str]:
    width = max(4, len(str(p)))
    return [f"p{i:0{width}d}" for i in range(1, p + 1)]


def _fmt(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".")


def _write_csv(
    path: Path, header: list[str], columns: list[np.ndarray | list], values: np.ndarray
) -> None:
    lines = [",".join([*header, "value"])]
    for row in zip(*columns, values, strict=True):
        *idx, v = row
        lines.append(",".join([*map(str, idx), _fmt(float(v))]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _by_product(path: Path, products: list[str], values: np.ndarray) -> None:
    _write_csv(path, ["product"], [products], values)


def _by_period(path: Path, periods: np.ndarray, values: np.ndarray) -> None:
    _write_csv(path, ["period"], [periods], values)


def _round(x: np.ndarray | float) -> np.ndarray | float:
    """What the CSV holds (4 decimals), so derived figures use the same data."""
    return np.round(x, 4)


def _company_profit_and_budget(profit: str, total: float) -> list[str]:
    """The end of a model file (both families): the company KPI and objective ``profit``,
    and the budget of ``total``."""
    return [
        "",
        "kpis:",
        f'  profit: {{max: "{profit}", unit: EUR, description: Profit over the horizon}}',
        "",
        "objective:",
        f'  max: "{profit}"',
        "",
        "resources:",
        "  budget:",
        f"    total: {total}",
        "    reserve: 0.05",
        "    max_shift: 0.3",
        "",
    ]


def generate(departments: int, products: int, periods: int, out: Path, seed: int = 12345) -> Path:
    if departments < 4:
        msg = "--departments must be at least 4 (sales, quality, logistics and one plant)"
        raise SystemExit(msg)
    if products < 1 or periods < 2:
        msg = "--products must be >= 1 and --periods >= 2"
        raise SystemExit(msg)
    rng = np.random.default_rng(seed)
    P, T, K = products, periods, departments - 3
    prod = product_names(P)
    per = np.arange(1, T + 1)
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)

    # products
    base = rng.uniform(20, 200, P)
    price = _round(rng.uniform(40, 120, P))
    hours = _round(rng.uniform(0.5, 2.0, P))
    lift = _round(rng.uniform(0.5, 2.0, P))
    insp_rate = _round(rng.uniform(0.05, 0.2, P))
    qcost = _round(rng.uniform(1, 4, P))
    road_cost = _round(rng.uniform(3, 8, P))
    rail_cost = _round(road_cost * rng.uniform(0.5, 0.8, P))
    penalty = _round(0.05 * price * rng.uniform(0.8, 1.2, P))
    season = 1 + 0.3 * np.sin(2 * math.pi * per / 12.0)
    demand = _round(base[:, None] * season[None, :] * rng.lognormal(0.0, 0.1, (P, T)))

    # plants: shares of the hours needed, unit costs
    share = rng.dirichlet(np.full(K, 4.0))
    hours_needed = (hours[:, None] * demand).sum(axis=0)  # per period
    cost = [_round(price * rng.uniform(0.35, 0.6, P)) for _ in range(K)]
    otcost = [_round(c * rng.uniform(1.3, 1.6, P)) for c in cost]
    # capacities are flat over the seasons: peaks need stock built ahead, or backlog
    flat_hours = np.full(T, hours_needed.mean())
    cap = [_round(flat_hours * s * 0.85 / 0.95 * rng.uniform(0.95, 1.05, T)) for s in share]
    otcap = [_round(flat_hours * s * 0.25 * rng.uniform(0.95, 1.05, T)) for s in share]
    qcap = _round(np.full(T, (insp_rate[:, None] * demand).sum(axis=0).mean() * 1.2 / 0.95))
    flat_demand = np.full(T, demand.sum(axis=0).mean())
    road_cap = _round(flat_demand * 0.8 / 0.9 * rng.uniform(0.95, 1.05, T))
    rail_cap = _round(flat_demand * 0.5 * rng.uniform(0.95, 1.05, T))

    _write_csv(
        data / "demand.csv",
        ["product", "period"],
        [np.repeat(prod, T), np.tile(per, P)],
        demand.ravel(),
    )
    for name, vals in (
        ("price", price),
        ("hours", hours),
        ("lift", lift),
        ("insp_rate", insp_rate),
        ("qcost", qcost),
        ("road_cost", road_cost),
        ("rail_cost", rail_cost),
        ("penalty", penalty),
    ):
        _by_product(data / f"{name}.csv", prod, vals)
    for name, vals in (("qcap", qcap), ("road_cap", road_cap), ("rail_cap", rail_cap)):
        _by_period(data / f"{name}.csv", per, vals)
    for k in range(1, K + 1):
        _by_product(data / f"cost_{k}.csv", prod, cost[k - 1])
        _by_product(data / f"otcost_{k}.csv", prod, otcost[k - 1])
        _by_period(data / f"cap_{k}.csv", per, cap[k - 1])
        _by_period(data / f"otcap_{k}.csv", per, otcap[k - 1])

    # budget baselines: a plausible plan's spend, cut by 15%, so the budget binds
    promo_ub = 50
    est = {
        "sales": 10.0 * P * T,
        "quality": float((qcost[:, None] * insp_rate[:, None] * demand).sum()),
        "logistics": float(((0.6 * road_cost + 0.4 * rail_cost)[:, None] * demand).sum()),
    }
    for k in range(1, K + 1):
        est[f"plant_{k}"] = float((otcost[k - 1][:, None] * 0.1 * share[k - 1] * demand).sum())
    baseline = {d: round(0.85 * v, 2) for d, v in est.items()}
    total = math.ceil(sum(baseline.values()) / 0.95) + 1.0  # baselines fit within total*(1-reserve)

    yaml = _model_yaml(P, T, K, baseline, total, promo_ub)
    path = out / "org.yaml"
    path.write_text(yaml, encoding="utf-8")
    return path


def _model_yaml(
    P: int, T: int, K: int, baseline: dict[str, float], total: float, promo_ub: float
) -> str:
    plants = [f"plant_{k}" for k in range(1, K + 1)]
    made = " + ".join(f"make_{k}[p, t] + overtime_{k}[p, t]" for k in range(1, K + 1))
    pt = "for p in product for t in period"
    lines = [
        "kpidesign: 1",
        "name: org",
        "description: >",
        f"  Generated organization: {K + 3} departments (sales, quality, logistics, {K} plants),",
        f"  {P} products, {T} periods; {num_variables(K + 3, P, T)} variables.",
        "",
        "sets:",
        "  product: [" + ", ".join(product_names(P)) + "]",
        f"  period: 1..{T}",
        "",
        "params:",
        "  demand: {file: data/demand.csv}",
        "  price: {file: data/price.csv}",
        "  hours: {file: data/hours.csv}",
        "  lift: {file: data/lift.csv}",
        "  insp_rate: {file: data/insp_rate.csv}",
        "  qcost: {file: data/qcost.csv}",
        "  road_cost: {file: data/road_cost.csv}",
        "  rail_cost: {file: data/rail_cost.csv}",
        "  penalty: {file: data/penalty.csv}",
        "  qcap: {file: data/qcap.csv}",
        "  road_cap: {file: data/road_cap.csv}",
        "  rail_cap: {file: data/rail_cap.csv}",
        "  hold: 0.8",
        "  commit_share: 0.6",
        "  min_ship: 0.05",
        "  min_run: 0.1",
        "  overhead: 5000",
    ]
    for k in range(1, K + 1):
        lines += [
            f"  cost_{k}: {{file: data/cost_{k}.csv}}",
            f"  otcost_{k}: {{file: data/otcost_{k}.csv}}",
            f"  cap_{k}: {{file: data/cap_{k}.csv}}",
            f"  otcap_{k}: {{file: data/otcap_{k}.csv}}",
        ]
    lines += [
        "",
        "variables:",
        "  inventory: {over: [product, period], lb: 0, initial: 10}",
        "  backlog: {over: [product, period], lb: 0, initial: 0}",
        "",
        "departments:",
        "  sales:",
        "    description: Books orders and spends on promotion.",
        "    variables:",
        "      sell: {over: [product, period], lb: 0}",
        f"      promo: {{over: [product, period], lb: 0, ub: {promo_ub}}}",
        "    uses:",
        f"      budget: sum(promo[p, t] {pt})",
        f"    allocation: {{budget: {baseline['sales']}}}",
        "    kpis:",
        f'      volume: {{max: "sum(sell[p, t] {pt})"}}',
        f'      revenue: {{max: "sum(price[p] * sell[p, t] {pt})"}}',
        "    incentive: {volume: 1}",
        "  quality:",
        "    description: Inspects a share of everything produced.",
        "    variables:",
        "      inspect: {over: [product, period], lb: 0}",
        "    uses:",
        f"      budget: sum(qcost[p] * inspect[p, t] {pt})",
        f"    allocation: {{budget: {baseline['quality']}}}",
        "    kpis:",
        f'      inspected: {{max: "sum(inspect[p, t] {pt})"}}',
        f'      inspection_cost: {{min: "sum(qcost[p] * inspect[p, t] {pt})"}}',
        "    incentive: {inspection_cost: 1}",
        "  logistics:",
        "    description: Delivers orders by road and rail.",
        "    variables:",
        "      road: {over: [product, period], lb: 0}",
        "      rail: {over: [product, period], lb: 0}",
        "    uses:",
        f"      budget: sum(road_cost[p] * road[p, t] + rail_cost[p] * rail[p, t] {pt})",
        f"    allocation: {{budget: {baseline['logistics']}}}",
        "    kpis:",
        f'      delivered: {{max: "sum(road[p, t] + rail[p, t] {pt})"}}',
        '      cost_per_unit: {min: "sum(road_cost[p] * road[p, t] + rail_cost[p] * rail[p, t] '
        f'{pt}) / sum(road[p, t] + rail[p, t] {pt})"}}',
        "    incentive: {cost_per_unit: 1}",
    ]
    for k, plant in enumerate(plants, start=1):
        lines += [
            f"  {plant}:",
            f"    description: Plant {k}, regular time and overtime.",
            "    variables:",
            f"      make_{k}: {{over: [product, period], lb: 0}}",
            f"      overtime_{k}: {{over: [product, period], lb: 0}}",
            "    uses:",
            f"      budget: sum(otcost_{k}[p] * overtime_{k}[p, t] {pt})",
            f"    allocation: {{budget: {baseline[plant]}}}",
            "    kpis:",
            f'      output: {{max: "sum(make_{k}[p, t] + overtime_{k}[p, t] {pt})"}}',
            f'      unit_cost: {{min: "(overhead + sum(cost_{k}[p] * make_{k}[p, t] + '
            f"otcost_{k}[p] * overtime_{k}[p, t] {pt})) / "
            f'sum(make_{k}[p, t] + overtime_{k}[p, t] {pt})"}}',
            "    incentive: {unit_cost: 1}",
        ]
    lines += [
        "",
        "constraints:",
        "  inventory_balance:",
        "    for: p in product, t in period",
        f"    expr: inventory[p, t] == inventory[p, t-1] + {made} - road[p, t] - rail[p, t]",
        "  backlog_balance:",
        "    for: p in product, t in period",
        "    expr: backlog[p, t] == backlog[p, t-1] + sell[p, t] - road[p, t] - rail[p, t]",
        "  market:",
        "    for: p in product, t in period",
        "    expr: sell[p, t] <= demand[p, t] + lift[p] * promo[p, t]",
        "  committed:",
        "    for: p in product, t in period",
        "    expr: sell[p, t] >= commit_share * demand[p, t]",
        "  inspection:",
        "    for: p in product, t in period",
        f"    expr: inspect[p, t] >= insp_rate[p] * ({made})",
        "  inspection_capacity:",
        "    for: t in period",
        "    expr: sum(inspect[p, t] for p in product) <= qcap[t]",
        "    slack: 0.05",
        "  road_capacity:",
        "    for: t in period",
        "    expr: sum(road[p, t] for p in product) <= road_cap[t]",
        "    slack: 0.1",
        "  rail_capacity:",
        "    for: t in period",
        "    expr: sum(rail[p, t] for p in product) <= rail_cap[t]",
        # a ratio KPI's denominator must stay positive (MODEL_FORMAT): logistics ships at
        # least a contractual share of each period's demand, so cost_per_unit is defined
        "  min_delivery:",
        "    for: t in period",
        "    expr: sum(road[p, t] + rail[p, t] for p in product) >= "
        "min_ship * sum(demand[p, t] for p in product)",
    ]
    for k in range(1, K + 1):
        lines += [
            f"  regular_hours_{k}:",
            "    for: t in period",
            f"    expr: sum(hours[p] * make_{k}[p, t] for p in product) <= cap_{k}[t]",
            "    slack: 0.05",
            f"  overtime_hours_{k}:",
            "    for: t in period",
            f"    expr: sum(hours[p] * overtime_{k}[p, t] for p in product) <= otcap_{k}[t]",
            # a plant keeps its line running: its unit_cost ratio keeps a positive denominator
            f"  min_run_{k}:",
            "    for: t in period",
            f"    expr: sum(hours[p] * make_{k}[p, t] for p in product) >= min_run * cap_{k}[t]",
        ]
    plant_costs = " + ".join(
        f"cost_{k}[p] * make_{k}[p, t] + otcost_{k}[p] * overtime_{k}[p, t]"
        for k in range(1, K + 1)
    )
    profit = (
        "sum(price[p] * (road[p, t] + rail[p, t]) - hold * inventory[p, t]"
        " - penalty[p] * backlog[p, t] - promo[p, t] - qcost[p] * inspect[p, t]"
        " - road_cost[p] * road[p, t] - rail_cost[p] * rail[p, t]"
        f" - ({plant_costs}) {pt})"
    )
    return "\n".join(lines + _company_profit_and_budget(profit, total))


# -- the easy family -----------------------------------------------------------------------


def _names(prefix: str, n: int) -> list[str]:
    width = max(2 if prefix == "l" else 4, len(str(n)))
    return [f"{prefix}{i:0{width}d}" for i in range(1, n + 1)]


def generate_easy(
    departments: int,
    products: int,
    periods: int,
    out: Path,
    seed: int = 12345,
    lines: int | None = None,
) -> Path:
    """Write ``out/easy.yaml`` and its CSV data (the easy family of the module docstring)."""
    if departments < 2:
        msg = "--departments must be at least 2 for the easy family (sales and one plant)"
        raise SystemExit(msg)
    if products < 1 or periods < 2:
        msg = "--products must be >= 1 and --periods >= 2"
        raise SystemExit(msg)
    L = easy_lines(products, lines)
    if L < 1 or products % L:
        msg = f"--products ({products}) must be a multiple of the number of lines ({L})"
        raise SystemExit(msg)
    rng = np.random.default_rng(seed)
    M, T, K = products // L, periods, departments - 1
    lines_, items = _names("l", L), _names("i", M)
    per = np.arange(1, T + 1)
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)

    # products: arrays of shape (L, M); demand (L, M, T)
    base = rng.uniform(20, 200, (L, M))
    price = _round(rng.uniform(40, 120, (L, M)))
    hours = _round(rng.uniform(0.5, 2.0, (L, M)))
    volume = _round(rng.uniform(0.5, 3.0, (L, M)))
    commission = _round(0.05 * price * rng.uniform(0.8, 1.2, (L, M)))
    hold = _round(0.01 * price * rng.uniform(0.8, 1.2, (L, M)))
    season = 1 + 0.4 * np.sin(2 * math.pi * per / 12.0)
    demand = _round(base[..., None] * season * rng.lognormal(0.0, 0.1, (L, M, T)))

    # plants: shares of each line's average machine hours (80% in all), unit costs
    share = rng.dirichlet(np.full(K, 4.0))
    line_hours = (hours[..., None] * demand).sum(axis=(1, 2)) / T  # per line, per period
    cost = [_round(price * rng.uniform(0.35, 0.6, (L, M))) for _ in range(K)]
    cap = [_round(line_hours[:, None] * s * 0.8 * rng.uniform(0.95, 1.05, (L, T))) for s in share]
    extra_ub = [round(float(line_hours.mean() * s * 0.2), 2) for s in share]
    otrate = [round(float(r), 2) for r in 15.0 * rng.uniform(0.75, 1.25, K)]
    storage = _round((volume[..., None] * demand).sum(axis=(1, 2)) / T * 0.05)

    pl, pi = np.repeat(lines_, M), np.tile(items, L)
    _write_csv(
        data / "demand.csv",
        ["line", "item", "period"],
        [np.repeat(lines_, M * T), np.tile(np.repeat(items, T), L), np.tile(per, L * M)],
        demand.ravel(),
    )
    for name, vals in (
        ("price", price),
        ("hours", hours),
        ("volume", volume),
        ("commission", commission),
        ("hold", hold),
    ):
        _write_csv(data / f"{name}.csv", ["line", "item"], [pl, pi], vals.ravel())
    _write_csv(data / "storage.csv", ["line"], [lines_], storage)
    for k in range(1, K + 1):
        _write_csv(data / f"cost_{k}.csv", ["line", "item"], [pl, pi], cost[k - 1].ravel())
        _write_csv(
            data / f"cap_{k}.csv",
            ["line", "period"],
            [np.repeat(lines_, T), np.tile(per, L)],
            cap[k - 1].ravel(),
        )

    # budget baselines: sales' covers the commission on all demand 1.5 times (its row never
    # binds); a plant's is 15% below buying half of its extra hours, so plants compete
    baseline = {"sales": round(1.5 * float((commission[..., None] * demand).sum()), 2)}
    for k in range(1, K + 1):
        spend = 0.5 * extra_ub[k - 1] * otrate[k - 1] * L * T
        baseline[f"plant_{k}"] = round(0.85 * spend, 2)
    total = math.ceil(sum(baseline.values()) / 0.95) + 1.0  # baselines fit within total*(1-reserve)

    yaml = _easy_yaml(lines_, items, T, K, baseline, total, extra_ub, otrate)
    path = out / MODEL_FILE["easy"]
    path.write_text(yaml, encoding="utf-8")
    return path


def _easy_yaml(
    lines_: list[str],
    items: list[str],
    T: int,
    K: int,
    baseline: dict[str, float],
    total: float,
    extra_ub: list[float],
    otrate: list[float],
) -> str:
    L, M = len(lines_), len(items)
    n = count("easy", K + 1, L * M, T, L)["variables"]
    lit = "for l in line for i in item for t in period"
    lt = "for l in line for t in period"
    made = " + ".join(f"make_{k}[l, i, t]" for k in range(1, K + 1))
    lines = [
        "kpidesign: 1",
        "name: easy",
        "description: >",
        f"  Generated easy product mix (benchmarks/generate.py --family easy): {K + 1}",
        f"  departments (sales, {K} plants), {L} lines of {M} products, {T} periods;",
        f"  {n} variables.",
        "",
        "sets:",
        "  line: [" + ", ".join(lines_) + "]",
        "  item: [" + ", ".join(items) + "]",
        f"  period: 1..{T}",
        "",
        "params:",
        "  demand: {file: data/demand.csv}",
        "  price: {file: data/price.csv}",
        "  hours: {file: data/hours.csv}",
        "  volume: {file: data/volume.csv}",
        "  commission: {file: data/commission.csv}",
        "  hold: {file: data/hold.csv}",
        "  storage: {file: data/storage.csv}",
    ]
    for k in range(1, K + 1):
        lines += [
            f"  cost_{k}: {{file: data/cost_{k}.csv}}",
            f"  cap_{k}: {{file: data/cap_{k}.csv}}",
            f"  otrate_{k}: {otrate[k - 1]}",
        ]
    lines += [
        "",
        "variables:",
        "  inventory: {over: [line, item, period], lb: 0, initial: 0}",
        "",
        "departments:",
        "  sales:",
        "    description: Sells every product up to its demand; pays sales commissions.",
        "    variables:",
        "      sell: {over: [line, item, period], lb: 0}",
        "    uses:",
        f"      budget: sum(commission[l, i] * sell[l, i, t] {lit})",
        f"    allocation: {{budget: {baseline['sales']}}}",
        "    kpis:",
        f'      volume: {{max: "sum(sell[l, i, t] {lit})"}}',
        f'      revenue: {{max: "sum(price[l, i] * sell[l, i, t] {lit})"}}',
        "    incentive: {revenue: 1}",
    ]
    for k in range(1, K + 1):
        lines += [
            f"  plant_{k}:",
            f"    description: Plant {k}, makes every product; buys extra machine hours.",
            "    variables:",
            f"      make_{k}: {{over: [line, item, period], lb: 0}}",
            f"      extra_{k}: {{over: [line, period], lb: 0, ub: {extra_ub[k - 1]}}}",
            "    uses:",
            f"      budget: sum(otrate_{k} * extra_{k}[l, t] {lt})",
            f"    allocation: {{budget: {baseline[f'plant_{k}']}}}",
            "    kpis:",
            f'      output: {{max: "sum(make_{k}[l, i, t] {lit})"}}',
            f'      production_cost: {{min: "sum(cost_{k}[l, i] * make_{k}[l, i, t] {lit})'
            f' + sum(otrate_{k} * extra_{k}[l, t] {lt})"}}',
            "    incentive: {output: 1}",
        ]
    lines += [
        "",
        "constraints:",
        "  inventory_balance:",
        "    for: l in line, i in item, t in period",
        f"    expr: inventory[l, i, t] == inventory[l, i, t-1] + {made} - sell[l, i, t]",
        "  market:",
        "    for: l in line, i in item, t in period",
        "    expr: sell[l, i, t] <= demand[l, i, t]",
    ]
    for k in range(1, K + 1):
        lines += [
            f"  hours_{k}:",
            "    for: l in line, t in period",
            f"    expr: sum(hours[l, i] * make_{k}[l, i, t] for i in item) <= "
            f"cap_{k}[l, t] + extra_{k}[l, t]",
        ]
    lines += [
        "  storage_space:",
        "    for: l in line, t in period",
        "    expr: sum(volume[l, i] * inventory[l, i, t] for i in item) <= storage[l]",
    ]
    made_cost = " + ".join(f"cost_{k}[l, i] * make_{k}[l, i, t]" for k in range(1, K + 1))
    extra_cost = " + ".join(f"otrate_{k} * extra_{k}[l, t]" for k in range(1, K + 1))
    profit = (
        "sum((price[l, i] - commission[l, i]) * sell[l, i, t] - hold[l, i] * inventory[l, i, t]"
        f" - ({made_cost}) {lit}) - sum({extra_cost} {lt})"
    )
    return "\n".join(lines + _company_profit_and_budget(profit, total))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--family", choices=sorted(FAMILY_SIZES), default="org", help="model family (default org)"
    )
    ap.add_argument(
        "--departments", "-D", type=int, required=True, help="departments (org: >= 4, easy: >= 2)"
    )
    ap.add_argument("--products", "-P", type=int, required=True)
    ap.add_argument("--periods", "-T", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument(
        "--lines",
        type=int,
        default=None,
        help=f"easy family: production lines (default ceil(P / {LINE_SIZE}); must divide P)",
    )
    a = ap.parse_args(argv)
    d, p, t = a.departments, a.products, a.periods
    if a.family == "easy":
        path = generate_easy(d, p, t, a.out, a.seed, a.lines)
        n_l = easy_lines(p, a.lines)
        c = count("easy", d, p, t, n_l)
        print(f"wrote {path}")
        print(
            f"variables = P*T*(D+1) + (D-1)*L*T + D = {p}*{t}*{d + 1} + {d - 1}*{n_l}*{t} + {d}"
            f" = {c['variables']}"
        )
        print(f"rows      = 2*P*T + D*L*T + D + 1 = {c['rows']}")
        print(f"nonzeros  = P*T*(2*D+3) + P*(T-1) + 2*(D-1)*L*T + 2*D = {c['nonzeros']}")
        return
    if a.lines is not None:
        ap.error("--lines is for --family easy")
    path = generate(d, p, t, a.out, a.seed)
    print(f"wrote {path}")
    print(f"variables = P*T*(2*D+1) + D = {p}*{t}*{2 * d + 1} + {d} = {num_variables(d, p, t)}")
    print(f"rows      = 5*P*T + T*(3*(D-3)+4) + D + 1 = {num_rows(d, p, t)}")


if __name__ == "__main__":
    main()
