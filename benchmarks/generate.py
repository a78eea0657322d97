"""Generate an organization model of any size in kpidesign model format 1.

    python benchmarks/generate.py --departments D --products P --periods T --out DIR

writes ``DIR/org.yaml`` and its CSV data under ``DIR/data/``.  The organization:

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

FIXED_ROLES = ("sales", "quality", "logistics")


def num_variables(d: int, p: int, t: int) -> int:
    return p * t * (2 * d + 1) + d


def num_rows(d: int, p: int, t: int) -> int:
    return 5 * p * t + t * (3 * (d - 3) + 4) + d + 1


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
    lines += [
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
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--departments", "-D", type=int, required=True, help="departments (>= 4)")
    ap.add_argument("--products", "-P", type=int, required=True)
    ap.add_argument("--periods", "-T", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=12345)
    a = ap.parse_args(argv)
    path = generate(a.departments, a.products, a.periods, a.out, a.seed)
    d, p, t = a.departments, a.products, a.periods
    print(f"wrote {path}")
    print(f"variables = P*T*(2*D+1) + D = {p}*{t}*{2 * d + 1} + {d} = {num_variables(d, p, t)}")
    print(f"rows      = 5*P*T + T*(3*(D-3)+4) + D + 1 = {num_rows(d, p, t)}")


if __name__ == "__main__":
    main()
