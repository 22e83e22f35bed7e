"""The diagnosis and a plan's missed targets in words, the one wording of the terminal, report.html,
report.xlsx and the web page: one sentence per year of mix misses (a miss under :data:`GHOST_HEADS` people left
out), budget overruns in M CNY, the single changes that would each meet every target, the earliest year the
band can be reached. Presentation only: the numbers are :mod:`optimizer.whatif.diagnosis`'s, rounded here."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

from optimizer.whatif.diagnosis import YEARS_BEYOND, missed_goals

GHOST_HEADS = 0.5
"""A mix miss below this many people is a rounding ghost: the sentences leave it out (summary.json keeps it)."""
SINGULAR = {"people": "person", "promotions": "promotion", "grade steps": "grade step"}


def _rounded(value: float, decimals: int) -> float:
    """``value`` to ``decimals`` decimals, halves away from zero (float noise below 1e-6 of a step ignored)."""
    steps = round(abs(value) * 10**decimals, 6)
    return math.copysign(math.floor(steps + 0.5), value) / 10**decimals


def _amount(value: float, decimals: int, unit: str) -> str:
    """``value`` with its unit to ``decimals`` decimals (``under 0.1 points`` when it rounds to 0; whole counts
    of one in the singular: ``1 person``)."""
    rounded = _rounded(value, decimals)
    text = f"{rounded:,.{decimals}f}" if rounded else f"under {10.0**-decimals:.{decimals}f}"
    one = decimals == 0 and abs(rounded) <= 1
    return f"{text} {SINGULAR.get(unit, unit) if one else unit}"


def _share(share: float) -> str:
    """A share as a percentage to 0.1 point, without the sign: ``28.7``."""
    return f"{_rounded(100 * share, 1):.1f}"


def _setting(key: str, value: Any, toward: Any, start: Any) -> str:
    """``key value`` as a reader takes it: a switch on/off, a whole number as it is, a rate to 2 decimals rounded
    toward ``toward`` (the end of its range), so a value shown to suffice still does once rounded."""
    if isinstance(value, bool):
        return f"{key} {'on' if value else 'off'}"
    regrade = re.fullmatch(r"unit_grading\.reviews\[unit=(.+),year=(\d+)\]\.grade", key)
    if regrade:
        return f"unit {regrade.group(1)} graded {value} at its year-{regrade.group(2)} review"
    if isinstance(value, int):
        return f"{key} {value}"
    scaled = round(value * 100, 6)
    return f"{key} {(math.ceil(scaled) if toward >= start else math.floor(scaled)) / 100:.2f}"


def _relaxed(relaxation: dict[str, Any]) -> str:
    """The value that restores the targets, with the other settings it needs: ``mix.deadline 4 (with horizon 4)``."""
    key, start, limit = relaxation["key"], relaxation["from"], relaxation["limit"]
    extra = [text.split("=", 1) for text in relaxation["set"] if not text.startswith(key + "=")]
    tail = f" (with {', '.join(f'{name} {value}' for name, value in extra)})" if extra else ""
    return _setting(key, relaxation["to"], limit, start) + tail


def _mix_sentences(misses: list[dict[str, Any]]) -> list[str]:
    """One sentence per year with a mix miss of at least GHOST_HEADS people; when every mix miss is below it,
    one sentence that says so."""
    kept = [m for m in misses if m["heads"] >= GHOST_HEADS]
    years = sorted({m["year"] for m in kept})
    sentences = [
        f"In year {year} " + ", and ".join(
            f"the {m['sequence']} share is {_share(m['share'])}%, {_amount(m['points'], 1, 'points')} "
            f"({_amount(m['heads'], 0, 'people')}) {'short of' if m['side'] == 'below' else 'above'} the band "
            f"({_share(m['lower'])}–{_share(m['upper'])}%)"
            for m in kept if m["year"] == year) + "."
        for year in years
    ]
    if misses and not kept:
        sentences.append("The mix misses its band by less than half a person (a rounding effect).")
    return sentences


def _of_unit(miss: dict[str, Any]) -> str:
    """`` of unit U`` for a unit's own cap; nothing for the group's (``unit_id`` ALL or absent)."""
    unit = miss.get("unit_id", "ALL")
    return "" if unit == "ALL" else f" of unit {unit}"


def _missed_sentences(missed: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The hard rules that give way (infeasible model), the mix misses by year, the budget overruns by year."""
    softened = [
        f"{s['constraint']}: the {s['side']} of {s['limit']:g} is missed by {_amount(s['missed_by'], 0, s['unit'])}."
        for s in missed["softened"]
    ]
    budget = [
        f"In year {b['year']} the budget{_of_unit(b)} is {_amount(b['overrun'] / 1e6, 1, 'M CNY')} over the cap "
        f"({_rounded(b['percent_of_cap'], 1):.1f}% of it)."
        for b in missed["budget"]
    ]
    return softened + _mix_sentences(missed["mix"]) + budget


def missed_sentences(mix: pd.DataFrame, budget: pd.DataFrame, stages: Iterable[dict[str, Any]] = ()) -> list[str]:
    """A plan's missed targets in the diagnosis' words, from its mix and budget tables (:func:`missed_goals`): the
    mix misses by year (misses below GHOST_HEADS people left out), the budget overruns by year; [] when every
    target is met. The plan summary of the terminal and both reports use it. ``stages``: summary.json's
    ``solver.stages``; when the ``mix`` stage stopped at its time limit with no bound of GHOST_HEADS or more
    (nothing shows the targets out of reach), a last sentence says so: more time may meet them."""
    sentences = _missed_sentences({**missed_goals(mix, budget), "softened": []})
    mix_stage = next((stage for stage in stages if stage["term"] == "mix"), None)
    unproven = mix_stage is not None and mix_stage.get("stopped_by") == "time_limit" and (
        mix_stage.get("bound") is None or mix_stage["bound"] < GHOST_HEADS)
    if sentences and unproven:
        sentences.append(f"The solver stopped at its time limit ({_rounded(mix_stage['seconds'], 1):.1f} s for the "
                         "targets) before showing them out of reach: a larger solver.time_limit may meet them.")
    return sentences


def unproven_sentences(summary: dict[str, Any]) -> list[str]:
    """What a plan does not show about its payroll, from summary.json: when a time limit stopped a ``cost``
    stage (the model's, ``solver.stages``, or merit's re-solve of the later years, ``merit.stages``), how far
    the plan's payroll (``objective.cost``, merit included) may be from the least possible: its gap to the
    model's cost bound (a bound for the plan too: merit only adds rules), to 0.01%; with no bound (a large
    group: the model's cost stage stopped before its root relaxation), that nothing shows how far. Either way,
    that a larger solver.time_limit may lower it. [] when no cost stage was stopped by the clock."""
    model = [stage for stage in (summary.get("solver") or {}).get("stages", []) if stage.get("term") == "cost"]
    merit = [stage for stage in (summary.get("merit") or {}).get("stages") or [] if stage.get("term") == "cost"]
    stopped = [stage for stage in model + merit if stage.get("stopped_by") == "time_limit"]
    if not stopped:
        return []
    which = "the cost stage" if stopped[0] in model else "merit's re-solve of the later years"
    seconds = f"{_rounded(stopped[0].get('seconds') or 0.0, 1):.1f}"
    bound = model[0].get("bound") if model else None
    payroll = (summary.get("objective") or {}).get("cost")
    if bound is None or payroll is None:
        return [f"The payroll is not shown to be the least possible: the solver's time limit stopped {which} "
                f"after {seconds} s, with no bound on the payroll; a larger solver.time_limit may lower it."]
    gap = max(_rounded(100 * max(payroll - bound, 0.0) / max(1.0, abs(payroll)), 2), 0.01)
    return [f"The payroll is within {gap:.2f}% of the least possible: the solver's time limit stopped {which} "
            f"after {seconds} s; a larger solver.time_limit may lower it."]


def _relaxation_sentences(relaxations: list[dict[str, Any]]) -> list[str]:
    """The changes that each meet every target, joined with "or"; the keys that alone do not (mix.deadline
    is left to the earliest-year sentence)."""
    restoring = [_relaxed(r) for r in relaxations if r["restores"]]
    failing = [
        _setting(r["key"], r["limit"], r["limit"], r["from"])
        + (" (undecided: time limit)" if r["limit"] in r["undecided"] else "")
        for r in relaxations if not r["restores"] and r["key"] != "mix.deadline"
    ]
    sentences = [f"Every target would be met with {' or '.join(restoring)}."] if restoring else []
    if failing:
        sentences.append(f"None of these alone would meet every target: {', '.join(failing)}.")
    return sentences


def _open_years(search: dict[str, Any], year: int, horizon: int) -> list[int]:
    """The years before ``year`` that the earliest-year ``search`` left undecided and nothing settles: up to the
    ``horizon`` the band reached by a deadline is reached by every later one, so a year below one shown not to
    reach it (``insufficient``, at most the horizon) is settled too; past the horizon nothing is monotone."""
    refuted = search.get("insufficient")
    settled = refuted if isinstance(refuted, int) and refuted <= horizon else None
    return sorted(y for y in search.get("undecided", []) if y < year and not (settled is not None and y < settled))


def diagnosis_sentences(diagnosis: dict[str, Any]) -> list[str]:
    """The diagnosis of summary.json as sentences for people, the one wording of the terminal and both reports:
    the hard rules that give way (infeasible model); the mix misses, one sentence per year, misses below
    GHOST_HEADS people left out; the budget overruns by year in M CNY and percent of the cap; the single changes
    that would each meet every target, joined with "or"; those that alone would not; the earliest year the mix
    band can be reached (or the year it is shown to be reached by, with the earlier years the time limit left
    undecided). Shares and points to 0.1, people whole, money to 0.1 M CNY, rates to 2 decimals
    (rounded toward the end of their range). Presentation only: the diagnosis itself is not changed."""
    missed = diagnosis["missed"]
    if missed is None:
        sentences = ["No plan was found even with the hard rules softened (time limit)."]
    else:
        lead = [] if diagnosis["feasible"] else ["The hard rules conflict; the closest plan (not written) would "
                                                 "break them and miss goals as follows."]
        sentences = lead + _missed_sentences(missed)
    sentences += _relaxation_sentences(diagnosis["relaxations"])
    limit, year = diagnosis["earliest_year_limit"], diagnosis["earliest_year"]
    if diagnosis.get("earliest_year_undecided"):
        sentences.append("The earliest year the mix band can be reached was not decided within the time limit.")
    elif limit is not None and year is None:
        sentences.append(f"The mix band cannot be reached with the budget held by year {limit}.")
    elif limit is not None:
        search = next((r for r in diagnosis["relaxations"] if r["key"] == "mix.deadline"), {})
        open_years = _open_years(search, year, limit - YEARS_BEYOND)
        sentences.append(
            f"The earliest year the mix band can be reached, with the budget held, is year {year}." if not open_years
            else f"The mix band can be reached, with the budget held, by year {year}; whether it can by year "
                 f"{' or '.join(map(str, open_years))} was not decided in the diagnosis' time.")
    return sentences
