"""Unit grading: score = Σ weight·criterion; grade = the highest band whose ``min_score`` the score reaches.

A non-blank ``grade`` in the units table overrides the computed grade (a grade fixed within its review
cycle). The grade sets the unit's pay coefficient and the highest technical tier it may hold. Units are
reviewed every ``review_cycle`` years after their ``last_review``; :func:`grade_path` gives each unit's grade
in every plan year, with the reviews inside the horizon.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.io import InputError, Problem, source_of
from models.scenario import ScenarioError, UnitGrading

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


def review_years(last_review: int, cycle: int, horizon: int) -> list[int]:
    """Plan years 1..horizon in which a unit last reviewed in year ``last_review`` (≤ 0) is reviewed again:
    last_review + k·cycle for k ≥ 1."""
    first = last_review + cycle * max(1, -(-(1 - last_review) // cycle))
    return list(range(first, horizon + 1, cycle))


def _last_reviews(units: pd.DataFrame) -> dict[str, int]:
    """unit_id → last_review (0 where the units table has no such column or a blank)."""
    if "last_review" not in units.columns:
        return dict.fromkeys(units["unit_id"].astype(str), 0)
    years = pd.to_numeric(units["last_review"], errors="coerce").fillna(0).astype(int)
    return dict(zip(units["unit_id"].astype(str), years))


def review_problems(units: pd.DataFrame, grading: UnitGrading, horizon: int) -> list[str]:
    """One line per ``unit_grading.reviews`` entry naming a unit the units table lacks, or a year that is not
    one of that unit's review years within the horizon."""
    last = _last_reviews(units)
    problems = []
    for review in grading.reviews:
        where = f"unit_grading.reviews: unit '{review.unit}' in year {review.year}"
        if review.unit not in last:
            problems.append(f"{where}: the unit is not in the units table")
            continue
        years = review_years(last[review.unit], grading.review_cycle, horizon)
        if review.year not in years:
            shown = ", ".join(map(str, years)) or "none"
            problems.append(f"{where}: not a review year of the unit (last review {last[review.unit]}, every "
                            f"{grading.review_cycle} years: reviews in years {shown} of 1..{horizon})")
    return problems


PATH_COLUMNS = ["year", "unit_id", "name", "score", "grade", "pay_coefficient", "max_tier"]
"""Columns of a grade path (:func:`grade_path`), as units.csv has them."""


def grade_path(units: pd.DataFrame, grading: UnitGrading, horizon: int) -> pd.DataFrame:
    """Each unit's grade in every plan year 0..horizon: :data:`PATH_COLUMNS` plus ``review`` (the year is one
    of the unit's reviews) and ``grade_source`` (``fixed``/``computed`` as in :func:`grade_units`, ``review``
    for a grade the scenario gives outright), sorted by unit then year.

    Year 0 is :func:`grade_units`. At each review year (:func:`review_years` of the unit's ``last_review``) the
    unit's scores become the review's projected scores (criteria it leaves out, and reviews the scenario does
    not list, keep the scores held before) and its grade the band they reach, or the review's ``grade`` outright;
    a fixed grade of the units table holds only until the first review. Between reviews nothing changes. A
    review naming an unknown unit or a year that is not a review of its unit raises :class:`ScenarioError`
    (:func:`review_problems`)."""
    if problems := review_problems(units, grading, horizon):
        raise ScenarioError("the scenario's unit_grading.reviews", problems)
    start = grade_units(units, grading)
    bands = {band.name: band for band in grading.grades}
    outcome = {(r.unit, r.year): r for r in grading.reviews}
    scores = {str(u): {c: float(units[c].iloc[i]) for c in CRITERIA} for i, u in enumerate(units["unit_id"])}
    last = _last_reviews(units)
    rows = []
    for unit in start.itertuples(index=False):
        unit_id, held = str(unit.unit_id), dict(scores[str(unit.unit_id)])
        score, grade, source = float(unit.score), str(unit.grade), str(unit.grade_source)
        reviews = set(review_years(last[unit_id], grading.review_cycle, horizon))
        for year in range(horizon + 1):
            if year in reviews:
                review = outcome.get((unit_id, year))
                if review is not None and review.scores is not None:
                    held.update({c: v for c, v in review.scores.model_dump().items() if v is not None})
                score = round(sum(held[c] * getattr(grading.weights, c) for c in CRITERIA), 4)
                if review is not None and review.grade is not None:
                    grade, source = review.grade, "review"
                else:
                    grade, source = str(grade_for_score(np.array([score]), grading)[0]), "computed"
            band = bands[grade]
            rows.append((year, unit_id, unit.name, score, grade, band.pay_coefficient, band.max_tier,
                         year in reviews, source))
    return pd.DataFrame(rows, columns=[*PATH_COLUMNS, "review", "grade_source"])
