"""A simulation's outcomes as the plan folder's ``simulation.json`` and ``simulation.csv`` (docs/outputs.md).

Probabilities are the share of repetitions in which the event held; quantiles are numpy's default (linear
interpolation between order statistics) of the repetitions' values. Each probability p comes with its Monte
Carlo standard error √(p(1−p)/R).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from models.scenario import SEQUENCES
from optimizer.plan.contract import columns
from optimizer.simulate.engine import CHUNK_REPS, Outcomes
from optimizer.simulate.inputs import PlanInputs

QUANTILES = (0.05, 0.50, 0.95)
QUANTILE_KEYS = ("p05", "p50", "p95")
SIMULATION_COLUMNS = columns("simulation")
"""simulation.csv (:data:`optimizer.plan.contract.SIMULATION_CSV`)."""


def _quantiles(values: np.ndarray) -> dict[str, float]:
    found = np.quantile(values, QUANTILES)
    return {key: float(v) for key, v in zip(QUANTILE_KEYS, found)}


def _probability(events: np.ndarray) -> float:
    return float(np.mean(events)) if events.size else float("nan")


def standard_error(p: float, reps: int) -> float:
    """Monte Carlo standard error of a probability estimated from ``reps`` repetitions."""
    return float(np.sqrt(max(p * (1.0 - p), 0.0) / max(reps, 1)))


def mix_met(outcomes: Outcomes, inputs: PlanInputs) -> np.ndarray:
    """bool[R]: every mix band held in every year it applies."""
    return outcomes.in_band(inputs).all(axis=(1, 2))


def all_met(outcomes: Outcomes, inputs: PlanInputs) -> np.ndarray:
    """bool[R]: every mix band and every budget cap held in every year."""
    return mix_met(outcomes, inputs) & outcomes.budget_held(inputs).all(axis=1)


def simulation_summary(outcomes: Outcomes, inputs: PlanInputs, seed: int, seconds: float) -> dict[str, Any]:
    """simulation.json: the run's settings, then per year the probabilities and quantiles (plan values beside)."""
    reps = outcomes.reps
    in_band = outcomes.in_band(inputs)
    held = outcomes.budget_held(inputs)
    shares = outcomes.shares()
    plan_heads = inputs.planned_by_sequence()
    years = []
    for t in range(inputs.horizon):
        applies = bool(np.isfinite(inputs.lower[t]).any())
        plan_total = float(plan_heads[t + 1].sum())
        sequences = {}
        for q, sequence in enumerate(SEQUENCES):
            sequences[sequence] = {
                "p_in_band": _probability(in_band[:, t, q]) if applies else None,
                "lower": None if not applies else float(inputs.lower[t, q]),
                "upper": None if not applies else float(inputs.upper[t, q]),
                "plan_share": plan_heads[t + 1, q] / plan_total if plan_total else 0.0,
                "share": _quantiles(shares[:, t, q]),
                "headcount": {"plan": float(plan_heads[t + 1, q]), **_quantiles(outcomes.heads[:, t, q])},
            }
        years.append({
            "year": t + 1,
            "mix_applies": applies,
            "p_mix_met": _probability(in_band[:, t].all(axis=1)) if applies else None,
            "p_budget_held": _probability(held[:, t]),
            "sequences": sequences,
            "headcount": {"plan": plan_total, **_quantiles(outcomes.heads[:, t].sum(axis=1))},
            "payroll": {"plan": float(inputs.planned[t + 1] @ inputs.pay[t]), **_quantiles(outcomes.payroll[:, t])},
            "total": {"plan": float(inputs.planned_total[t]), "cap": float(inputs.cap[t]),
                      **_quantiles(outcomes.total[:, t])},
        })
    p_mix = _probability(mix_met(outcomes, inputs))
    p_all = _probability(all_met(outcomes, inputs))
    return {
        "reps": reps,
        "seed": seed,
        "chunk_reps": CHUNK_REPS,
        "seconds": round(seconds, 3),
        "p_mix_met": p_mix,
        "p_budget_held": _probability(held.all(axis=1)),
        "p_all_met": p_all,
        "standard_error": standard_error(p_all, reps),
        "years": years,
    }


def simulation_table(summary: dict[str, Any]) -> pd.DataFrame:
    """simulation.csv: one row per year and measure (``share`` and ``headcount`` per sequence, ``headcount``,
    ``payroll`` and ``total`` of the group as sequence ``ALL``, and ``mix`` with the probability that every band
    holds), with the plan's value, the median and the 5 % / 95 % quantiles and, where one applies, the
    probability that the band or the cap holds."""
    rows = []
    for year in summary["years"]:
        t = year["year"]
        for sequence, found in year["sequences"].items():
            rows.append((t, "share", sequence, found["plan_share"], *_cells(found["share"]), found["p_in_band"]))
            rows.append((t, "headcount", sequence, found["headcount"]["plan"], *_cells(found["headcount"]), None))
        rows.append((t, "headcount", "ALL", year["headcount"]["plan"], *_cells(year["headcount"]), None))
        rows.append((t, "payroll", "ALL", year["payroll"]["plan"], *_cells(year["payroll"]), None))
        rows.append((t, "total", "ALL", year["total"]["plan"], *_cells(year["total"]), year["p_budget_held"]))
        rows.append((t, "mix", "ALL", None, None, None, None, year["p_mix_met"]))
    frame = pd.DataFrame(rows, columns=SIMULATION_COLUMNS)
    return frame.astype({"plan": float, "p05": float, "p50": float, "p95": float, "probability": float})


def _cells(quantiles: dict[str, float]) -> tuple[float, float, float]:
    return quantiles["p05"], quantiles["p50"], quantiles["p95"]


def simulation_sentences(summary: dict[str, Any]) -> list[str]:
    """simulation.json in words: the joint probability, then one line per year (terminal and both reports)."""
    lines = [f"{summary['reps']:,} simulations (seed {summary['seed']}): every band and cap held in "
             f"{summary['p_all_met']:.1%} of them (± {summary['standard_error']:.1%})."]
    for year in summary["years"]:
        mix = "no band yet" if year["p_mix_met"] is None else f"every band held in {year['p_mix_met']:.1%}"
        share = year["sequences"]["technical"]["share"]
        lines.append(f"Year {year['year']}: {mix}, the cap in {year['p_budget_held']:.1%}; technical share "
                     f"{share['p05']:.2%} to {share['p95']:.2%} (5–95 %).")
    return lines
