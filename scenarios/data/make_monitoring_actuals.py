"""Write the actuals of scenarios/monitoring.yaml: the departments of the seed model living
the year after the redesign with their old habits.

The plan lived is the status quo `kpidesign compare models/manufacturer.yaml` reports
(today's scorecards: sales on orders booked, production on unit cost, quality on the
escape rate, logistics on freight per unit, finance on interest; the file-order path,
optimistic tie-break).  ``monitoring_actuals.csv`` holds every variable of January to
April (what monitoring sees four months in), ``monitoring_actuals_year.csv`` the whole
year.  Run from anywhere: ``python scenarios/data/make_monitoring_actuals.py``;
tests/analyses/test_monitor.py checks that the shipped files are what this writes (to
1e-6).
"""

from __future__ import annotations

import sys
from pathlib import Path

from kpidesign.analyses.compare import status_quo_plan
from kpidesign.api import prepare
from kpidesign.model.problem import Problem
from kpidesign.results import clean
from kpidesign.spec.plan import plan_csv

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "manufacturer.yaml"
#: file name -> the last month it covers
FILES = {"monitoring_actuals.csv": 4, "monitoring_actuals_year.csv": 12}


def actuals_texts() -> dict[str, str]:
    """Each actuals file's text, by file name."""
    spec, lp = prepare(MODEL)
    x = status_quo_plan(lp, Problem.from_spec(spec, lp))
    over = {name: v.over for name, v in spec.variables.items()}
    return {
        name: plan_csv(
            (variable, index, clean(value))  # no solver dust below 1e-9
            for variable, index, value in lp.plan_entries(x)
            if "period" in over[variable] and index[over[variable].index("period")] <= through
        )
        for name, through in FILES.items()
    }


if __name__ == "__main__":
    for name, text in actuals_texts().items():
        (Path(__file__).parent / name).write_text(text)
        sys.stdout.write(f"wrote scenarios/data/{name}\n")
