"""Unit grading: score = Σ weight·criterion; grade = the highest band whose ``min_score`` the score reaches.

A non-blank ``grade`` in the units table overrides the computed grade (a grade fixed within its review
cycle). The grade sets the unit's pay coefficient and the highest technical tier it may hold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.io import InputError, Problem, source_of
from models.scenario import UnitGrading

CRITERIA: tuple[str, ...] = ("strategic", "efficiency", "governance", "innovation")


def unit_scores(units: pd.DataFrame, grading: UnitGrading) -> pd.Series:
    """Weighted score per unit (0..100), indexed like ``units``."""
    weights = grading.weights
    return sum(units[c].astype(float) * getattr(weights, c) for c in CRITERIA)


def grade_for_score(scores: pd.Series | np.ndarray, grading: UnitGrading) -> np.ndarray:
    """Band name for each score; bands are sorted by descending ``min_score``."""
    values = np.asarray(scores, dtype=float)
    names = np.full(values.shape, grading.grades[-1].name, dtype=object)
    for band in reversed(grading.grades):
        names[values >= band.min_score - 1e-9] = band.name
    return names


def _grade_problems(units: pd.DataFrame, grade: np.ndarray, unknown: set[str], bands: str) -> list[Problem]:
    """One problem per unit whose given grade is not one of ``bands``."""
    label, rows = source_of(units, "units")
    expected = f"a grade the scenario's unit_grading defines ({bands}) or blank"
    bad = np.flatnonzero(np.isin(grade, list(unknown)))
    return [
        Problem(file=label, row=None if rows is None else int(rows[i]), key=str(units["unit_id"].iloc[i]),
                key_name="unit_id", column="grade", value=str(grade[i]), expected=expected)
        for i in bad
    ]


def grade_units(units: pd.DataFrame, grading: UnitGrading) -> pd.DataFrame:
    """``unit_id, name, score, computed_grade, grade, grade_source, pay_coefficient, max_tier`` per unit.

    ``grade_source`` is ``fixed`` where the units table gives a grade, else ``computed``. A given grade that
    is not a band of ``grading`` raises :class:`InputError` with one problem per such unit, naming the file
    and row when ``units`` comes from :func:`models.validation.load_inputs`.
    """
    score = unit_scores(units, grading).round(4)
    computed = grade_for_score(score, grading)
    given = units["grade"] if "grade" in units.columns else pd.Series(pd.NA, index=units.index)
    given = given.astype("object").where(given.notna() & (given.astype(str).str.strip() != ""), None)
    fixed = given.notna().to_numpy()
    grade = np.where(fixed, given.astype(str).str.strip().to_numpy(), computed)
    bands = {band.name: band for band in grading.grades}
    if unknown := set(grade) - set(bands):
        raise InputError("the units table", _grade_problems(units, grade, unknown, ", ".join(bands)))
    return pd.DataFrame(
        {
            "unit_id": units["unit_id"].to_numpy(),
            "name": units["name"].to_numpy() if "name" in units.columns else units["unit_id"].to_numpy(),
            "score": score.to_numpy(),
            "computed_grade": computed,
            "grade": grade,
            "grade_source": np.where(fixed, "fixed", "computed"),
            "pay_coefficient": [bands[g].pay_coefficient for g in grade],
            "max_tier": [bands[g].max_tier for g in grade],
        }
    )
