"""The graded verifier's ``attrition`` check: each state's attrition in flows.csv, restated from the scenario's
rates and its ``flow_convention`` (docs/outputs.md, "Attrition"). Part of the independent verifier: it reads the
plan's files and the resolved scenario only, nothing of the model or the plan writer."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from models.scenario import SEQUENCES
from optimizer.verify.data import FROM, STATE, TO, PlanData
from optimizer.verify.frames import differs, finding_for, flow_totals, state_label
from optimizer.verify.report import Finding, fmt


def _leaving_rates(p: PlanData, sequence: pd.Series, tier: pd.Series) -> np.ndarray:
    """a_{s,k} = ``attrition.rate`` of each (sequence, tier) pair; NaN where the pair is not a known state."""
    pairs = pd.DataFrame({"sequence": sequence.to_numpy(), "tier": pd.to_numeric(tier, errors="coerce").to_numpy()})
    known = pairs.dropna().drop_duplicates()
    known = known[known["sequence"].isin(SEQUENCES)]
    known = known.assign(rate=[p.scenario.attrition.rate(str(s), int(k)) for s, k in known.itertuples(index=False)])
    return pairs.merge(known, how="left", on=["sequence", "tier"])["rate"].to_numpy(float)


def check_attrition(p: PlanData) -> list[Finding]:
    """flows.csv attrition of each state σ in year t, restated from the rates and the plan's ``flow_convention``:

    a_σ·(headcount(σ,t−1) − δ·Σ decided outflows(σ,t)) + Σ_{decided inflows a into σ} (1 − π_a)·count_a,

    a_σ the ``attrition.rate`` of σ's sequence and tier. ``start_of_year``: δ = 0, π = 1 (flows take stayers, nobody
    acted on leaves within the year); ``service_dependent``: δ = 0, recruits leave at ``attrition.first_year``
    (absent: the ordinary rate), the downgraded at ``mobility.downgrade.wastage``, others at the destination's
    rate; ``decide_then_attrition``: δ = 1 (the people acted on leave at their new state's rate instead),
    every inflow at the destination's rate."""
    s, f = p.scenario, p.flows
    convention = s.flow_convention
    decided = f[~f["kind"].eq("attrition")]
    leaving = f[f["kind"].eq("attrition")].groupby(["year", *FROM], as_index=False)["count"].sum()
    reported = leaving.set_axis(["year", *STATE, "reported"], axis=1)
    previous = p.stock.assign(year=p.stock["year"] + 1).rename(columns={"headcount": "previous"})
    rows = previous.merge(reported, on=["year", *STATE], how="outer")
    outflow = flow_totals(decided, FROM, "outflow")
    rows = rows.merge(outflow, on=["year", *STATE], how="left")
    landing = decided[decided[list(TO)].notna().all(axis=1)]
    rate = _leaving_rates(p, landing["to_sequence"], landing["to_tier"])
    if convention == "service_dependent":
        first = np.array([s.attrition.first_year_rate(str(q), int(k)) if pd.notna(k) else np.nan
                          for q, k in zip(landing["to_sequence"], pd.to_numeric(landing["to_tier"], errors="coerce"))])
        rate = np.select([landing["kind"].eq("hire").to_numpy(), landing["kind"].eq("downgrade").to_numpy()],
                         [first, np.full(len(landing), s.mobility.downgrade.wastage)], rate)
    elif convention == "start_of_year":
        rate = np.zeros(len(landing))
    lost = flow_totals(landing.assign(count=landing["count"].to_numpy(float) * rate), TO, "lost")
    rows = rows.merge(lost, on=["year", *STATE], how="left")
    rows = rows[rows["year"].between(1, p.horizon)].fillna(
        {"previous": 0.0, "reported": 0.0, "outflow": 0.0, "lost": 0.0})
    rows["rate"] = _leaving_rates(p, rows["sequence"], rows["tier"])
    acted = rows["outflow"] if convention == "decide_then_attrition" else 0.0
    rows["expected"] = rows["rate"] * (rows["previous"] - acted) + rows["lost"]
    wrong = rows[rows["rate"].notna() & differs(rows["reported"], rows["expected"], p.tol)]
    return finding_for(
        "attrition", f"flows.csv attrition differs from the rates ({convention})", wrong,
        lambda r: f"{state_label(r)} year {fmt(r['year'])}: {fmt(r['reported'])}, expected {fmt(r['expected'])} "
                  f"(= {fmt(r['rate'])} × "
                  + (f"({fmt(r['previous'])} − {fmt(r['outflow'])})" if convention == "decide_then_attrition"
                     else fmt(r['previous']))
                  + f" + {fmt(r['lost'])} lost of inflows)")


ATTRITION_CHECKS: dict[str, Callable[[PlanData], list[Finding]]] = {"attrition": check_attrition}
"""The check by name, in the order it runs (after ``stock_flow``)."""
