"""Random small organization models (two departments, 1-3 periods) as model-file text.

Every model is feasible (the zero plan is) and bounded (box bounds on every decision).
"""

from __future__ import annotations

from hypothesis import strategies as st

KPIS = {
    "sales": ["volume", "revenue", "profit"],
    "production": ["output", "cost", "profit"],
}


def random_model(
    periods: int,
    price: float,
    cost: float,
    hold: float,
    demand: list[float],
    ub: float,
    sales_kpi: str,
    production_kpi: str,
    profit_in_menu: bool = False,
) -> str:
    sales_menu = "    design: {kpis: [volume, revenue, profit]}\n" if profit_in_menu else ""
    production_menu = "    design: {kpis: [output, cost, profit]}\n" if profit_in_menu else ""
    demand_map = ", ".join(f"{t + 1}: {d}" for t, d in enumerate(demand[:periods]))
    profit = f"sum({price} * sold[t] - {cost} * made[t] - {hold} * inventory[t] for t in period)"
    return f"""
kpidesign: 1
name: random
sets:
  period: 1..{periods}
params:
  demand: {{{demand_map}}}
variables:
  inventory: {{over: [period], lb: 0, initial: 0}}
departments:
  sales:
    variables:
      sold: {{over: [period], lb: 0, ub: {ub}}}
    kpis:
      volume: {{max: "sum(sold[t] for t in period)"}}
      revenue: {{max: "sum({price} * sold[t] for t in period)"}}
    incentive: {{{sales_kpi}: 1}}
{sales_menu}  production:
    variables:
      made: {{over: [period], lb: 0, ub: {ub}}}
    kpis:
      output: {{max: "sum(made[t] for t in period)"}}
      cost: {{min: "sum({cost} * made[t] for t in period)"}}
    incentive: {{{production_kpi}: 1}}
{production_menu}constraints:
  balance:
    for: t in period
    expr: inventory[t] == inventory[t-1] + made[t] - sold[t]
  market:
    for: t in period
    expr: sold[t] <= demand[t]
kpis:
  profit: {{max: "{profit}"}}
objective:
  max: "{profit}"
"""


#: the arguments of :func:`random_model` (without ``profit_in_menu``)
#: 0 or a number well above HiGHS's feasibility tolerance (1e-7): a demand of 1e-7 makes the
#: solver's answers tolerance noise (an optimum of 1e-6 that a re-solve reads as 0), and
#: the properties tested here are properties of the LP, not of the solver's tolerances
def _amount(high: float) -> st.SearchStrategy[float]:
    return st.one_of(st.just(0.0), st.floats(1e-3, high))


model_params = st.tuples(
    st.integers(1, 3),
    st.floats(1, 20),
    st.floats(0.1, 10),
    _amount(3),
    st.lists(_amount(30), min_size=3, max_size=3),
    st.floats(1, 40),
    st.sampled_from(KPIS["sales"]),
    st.sampled_from(KPIS["production"]),
)
