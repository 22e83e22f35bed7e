"""The diagnosis in sentences (:func:`optimizer.whatif.sentences.diagnosis_sentences`), on hand-made diagnoses:
one sentence per year of mix misses, rounding ghosts left out, budget overruns in M CNY, relaxations joined
with "or" and rounded so that they still suffice, the earliest year, the infeasible case."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from optimizer.cli.console import plan_summary
from optimizer.whatif.sentences import diagnosis_sentences, missed_sentences, unproven_sentences


def _mix(year: int, sequence: str, share: float, lower: float, upper: float, heads: float) -> dict[str, Any]:
    """A mix miss as :func:`optimizer.whatif.diagnosis.missed_goals` writes it."""
    shortfall = lower - share if share < lower else share - upper
    return {"year": year, "sequence": sequence, "share": share, "lower": lower, "upper": upper,
            "shortfall": shortfall, "side": "below" if share < lower else "above", "points": 100 * shortfall,
            "heads": heads}


def _relaxation(key: str, start: Any, to: Any, limit: Any, *extra: str, undecided: tuple = ()) -> dict[str, Any]:
    """A search's entry (:meth:`optimizer.whatif.diagnosis.Prober.entry`); ``to`` None: it does not restore."""
    restores = to is not None
    return {"key": key, "from": start, "to": to, "limit": limit, "restores": restores,
            "set": [f"{key}={to}", *extra] if restores else [], "insufficient": start,
            "undecided": list(undecided), "probes": 3, "seconds": 0.5}


def _diagnosis(mix: list[dict[str, Any]], budget: list[dict[str, Any]], relaxations: list[dict[str, Any]],
               earliest: int | None = 4, limit: int | None = 8) -> dict[str, Any]:
    return {"feasible": True, "missed": {"mix": mix, "budget": budget, "softened": []},
            "relaxations": relaxations, "earliest_year": earliest, "earliest_year_limit": limit,
            "search": {"probes": 9, "workers": 1, "seconds": 4.5}}


def test_mix_misses_of_a_year_share_a_sentence_and_ghosts_below_half_a_person_are_dropped():
    # Year 3: technical 13.2 people short, operations 0.6 above (kept: it rounds to a person), management
    # 0.3 above (a rounding ghost, dropped); year 4: technical again.
    mix = [
        _mix(3, "technical", 0.28667, 0.295, 0.305, 13.2),
        _mix(3, "operations", 0.6056, 0.595, 0.605, 0.6),
        _mix(3, "management", 0.1053, 0.095, 0.105, 0.3),
        _mix(4, "technical", 0.2912, 0.295, 0.305, 5.7),
    ]
    relaxations = [_relaxation("mix.deadline", 3, 4, 8, "horizon=4"),
                   _relaxation("promotion.tier_rate", 0.08, 0.135, 1.0),
                   _relaxation("mobility.management_to_technical", 0.05, None, 1.0)]
    assert diagnosis_sentences(_diagnosis(mix, [], relaxations)) == [
        "In year 3 the technical share is 28.7%, 0.8 points (13 people) short of the band (29.5–30.5%), and the "
        "operations share is 60.6%, 0.1 points (1 person) above the band (59.5–60.5%).",
        "In year 4 the technical share is 29.1%, 0.4 points (6 people) short of the band (29.5–30.5%).",
        "Every target would be met with mix.deadline 4 (with horizon 4) or promotion.tier_rate 0.14.",
        "None of these alone would meet every target: mobility.management_to_technical 1.00.",
        "The earliest year the mix band can be reached, with the budget held, is year 4.",
    ]


def test_only_ghosts_left_say_so():
    diagnosis = _diagnosis([_mix(2, "technical", 0.29497, 0.295, 0.305, 0.3)], [], [], earliest=None, limit=None)
    assert diagnosis_sentences(diagnosis) == ["The mix misses its band by less than half a person (a rounding effect)."]


def test_budget_overruns_in_millions_and_rates_rounded_toward_the_end_of_their_range():
    # A floor relaxed downward rounds down (0.0999 → 0.09), a growth upward rounds up (0.00834 → 0.01): the
    # rounded value still suffices. A switch reads on/off; a limit the time limit left open says so.
    budget = [{"year": 2, "total": 61_234_567.0, "cap": 60_000_000.0, "overrun": 1_234_567.0,
               "percent_of_cap": 2.0576},
              {"year": 3, "total": 60_004_000.0, "cap": 60_000_000.0, "overrun": 4_000.0, "percent_of_cap": 0.0067}]
    relaxations = [_relaxation("budget.growth", 0.0, 0.00834, 1.0),
                   _relaxation("promotion.grade_rate_floor", 0.5, 0.0999, 0.0),
                   _relaxation("hiring.enabled", False, True, True),
                   _relaxation("mix.deadline", 2, None, 7),
                   _relaxation("promotion.tier_rate", 0.08, None, 1.0, undecided=(1.0,)),
                   _relaxation("redundancy.enabled", False, None, True)]
    assert diagnosis_sentences(_diagnosis([], budget, relaxations, earliest=None, limit=7)) == [
        "In year 2 the budget is 1.2 M CNY over the cap (2.1% of it).",
        "In year 3 the budget is under 0.1 M CNY over the cap (0.0% of it).",
        "Every target would be met with budget.growth 0.01 or promotion.grade_rate_floor 0.09 or hiring.enabled on.",
        "None of these alone would meet every target: promotion.tier_rate 1.00 (undecided: time limit), "
        "redundancy.enabled on.",
        "The mix band cannot be reached with the budget held by year 7.",
    ]


def test_an_infeasible_model_names_the_rules_that_give_way():
    diagnosis = {
        "feasible": False,
        "missed": {"softened": [{"constraint": "unit_headcount[U1,y1]", "side": "minimum", "limit": 150.0,
                                 "missed_by": 57.00001, "unit": "people"},
                                {"constraint": "floor_tier_promotion[U1,y1]", "side": "minimum", "limit": 0.05,
                                 "missed_by": 1.0, "unit": "promotions"}],
                   "mix": [], "budget": []},
        "relaxations": [_relaxation("hiring.max_rate.operations", 0.03, 0.6, 1.0)],
        "earliest_year": None, "earliest_year_limit": None,
    }
    assert diagnosis_sentences(diagnosis) == [
        "The hard rules conflict; the closest plan (not written) would break them and miss goals as follows.",
        "unit_headcount[U1,y1]: the minimum of 150 is missed by 57 people.",
        "floor_tier_promotion[U1,y1]: the minimum of 0.05 is missed by 1 promotion.",
        "Every target would be met with hiring.max_rate.operations 0.60.",
    ]
    assert diagnosis_sentences({**diagnosis, "missed": None}) == [
        "No plan was found even with the hard rules softened (time limit).",
        "Every target would be met with hiring.max_rate.operations 0.60.",
    ]


def test_an_earliest_year_search_stopped_by_the_time_limit_does_not_say_never():
    diagnosis = {**_diagnosis([], [], [], earliest=None, limit=8), "earliest_year_undecided": True}
    assert diagnosis_sentences(diagnosis) == [
        "The earliest year the mix band can be reached was not decided within the time limit."]


def test_an_earliest_year_with_earlier_years_undecided_is_a_year_it_is_reached_by():
    # Horizon 3 (limit 8 = 3 + 5); year 5 reaches the band. Within the horizon a band reached by a deadline is
    # reached by every later one, so a refuted year up to 3 settles the undecided years below it (2 settles 1;
    # 3 settles 1 and 2); past the horizon nothing is monotone: a refuted year 4 leaves an undecided 3 open, and
    # an undecided year after 5 says nothing about 5.
    def said(undecided, insufficient):
        search = {**_relaxation("mix.deadline", 1, 5, 8, "horizon=5", undecided=undecided),
                  "insufficient": insufficient}
        return diagnosis_sentences(_diagnosis([], [], [search], earliest=5))[-1]

    assert said((1, 4), 2) == ("The mix band can be reached, with the budget held, by year 5; whether it can by "
                               "year 4 was not decided in the diagnosis' time.")
    assert said((1, 2), 3) == "The earliest year the mix band can be reached, with the budget held, is year 5."
    assert said((3,), 4) == ("The mix band can be reached, with the budget held, by year 5; whether it can by "
                             "year 3 was not decided in the diagnosis' time.")
    assert said((7,), 4) == "The earliest year the mix band can be reached, with the budget held, is year 5."


def test_a_plans_missed_targets_are_worded_from_its_tables_like_the_diagnosis():
    # 1,000 people in year 1: technical 287 (28.7%) is 0.8 points = 8 people under 29.5%; management 105.4
    # (10.54%) is 0.04 points = 0.4 people over 10.5% (a ghost, left out); operations 607.6 (60.76%) is 0.26
    # points = 2.6 people over 60.5%, said as 3 people. Year 0 has no band. Budget: 10.25 M over a 500 M cap.
    mix = pd.DataFrame(
        [(0, "management", 100.0, 0.1, 0.1, np.nan, np.nan), (0, "technical", 300.0, 0.3, 0.3, np.nan, np.nan),
         (0, "operations", 600.0, 0.6, 0.6, np.nan, np.nan),
         (1, "management", 105.4, 0.1054, 0.1, 0.095, 0.105), (1, "technical", 287.0, 0.287, 0.3, 0.295, 0.305),
         (1, "operations", 607.6, 0.6076, 0.6, 0.595, 0.605)],
        columns=["year", "sequence", "headcount", "share", "target", "lower", "upper"])
    budget = pd.DataFrame([("ALL", 1, 510.25e6, 500e6), ("U1", 1, 510.25e6, np.nan)],
                          columns=["unit_id", "year", "total", "cap"])
    assert missed_sentences(mix, budget) == [
        "In year 1 the technical share is 28.7%, 0.8 points (8 people) short of the band (29.5–30.5%), and the "
        "operations share is 60.8%, 0.3 points (3 people) above the band (59.5–60.5%).",
        "In year 1 the budget is 10.3 M CNY over the cap (2.1% of it).",
    ]
    within = mix.assign(share=mix["target"], headcount=mix["target"] * 1000)
    assert missed_sentences(within, budget.assign(total=400e6)) == []
    # the mix stage stopped at its time limit: with no bound, or one under half a person, nothing shows the
    # targets out of reach, and the plan says more time may meet them; a bound of 3 people shows it
    def stage(bound, stopped_by="time_limit"):
        return {"term": "mix", "status": "feasible", "objective": 11.0, "bound": bound, "gap": None, "seconds": 38.64,
                "note": "", "stopped_by": stopped_by}
    more_time = ("The solver stopped at its time limit (38.6 s for the targets) before showing them out of reach: "
                 "a larger solver.time_limit may meet them.")
    assert missed_sentences(mix, budget, [stage(None)])[-1] == more_time
    assert missed_sentences(mix, budget, [stage(0.2)])[-1] == more_time
    assert more_time not in missed_sentences(mix, budget, [stage(3.0)])
    assert more_time not in missed_sentences(mix, budget, [stage(None, None)])
    assert missed_sentences(within, budget.assign(total=400e6), [stage(None)]) == []


def _stage(term: str, status: str, bound: float | None, stopped_by: str | None, seconds: float = 13.47,
           objective: float = 3.34345e9) -> dict[str, Any]:
    """A stage as summary.json's ``solver.stages`` lists it (:meth:`optimizer.solvers.staged.StageResult.to_dict`)."""
    gap = None if bound is None else (objective - bound) / max(1.0, abs(objective))
    return {"term": term, "status": status, "objective": objective, "bound": bound, "gap": gap, "seconds": seconds,
            "note": "", "stopped_by": stopped_by}


def _summary(*stages: dict[str, Any], payroll: float = 3.34411e9, merit: tuple = ()) -> dict[str, Any]:
    """summary.json's parts :func:`unproven_sentences` reads: the stages, merit's re-solve, the plan's payroll."""
    return {"solver": {"stages": list(stages)}, "merit": {"stages": list(merit)}, "objective": {"cost": payroll}}


MIX = _stage("mix", "optimal", 0.0, None, 2.0, 0.0)


def test_a_payroll_the_time_limit_left_unproven_is_said_with_its_gap_or_without_one():
    # a large group: the cost stage stopped before its root relaxation, no bound at all
    assert unproven_sentences(_summary(MIX, _stage("cost", "feasible", None, "time_limit"))) == [
        "The payroll is not shown to be the least possible: the solver's time limit stopped the cost stage after "
        "13.5 s, with no bound on the payroll; a larger solver.time_limit may lower it."]
    # 10k group: the cost stage 0.0122% from its bound at the limit; the plan's payroll (merit dealt, later years
    # solved again) is (3,344,110,000 − 3,343,041,947) / 3,344,110,000 = 0.0319% above that bound
    stopped = _stage("cost", "feasible", 3_343_041_947.0, "time_limit", 22.4)
    assert unproven_sentences(_summary(MIX, stopped, payroll=3_344_110_000.0)) == [
        "The payroll is within 0.03% of the least possible: the solver's time limit stopped the cost stage after "
        "22.4 s; a larger solver.time_limit may lower it."]
    assert "within 0.01%" in unproven_sentences(_summary(stopped, payroll=3_343_050_000.0))[0]  # at least 0.01%
    # the model's cost proven, merit's re-solve of the later years stopped by the clock: the gap to the model's bound
    proven = _stage("cost", "optimal", 3_343_000_000.0, None)
    resolve = _stage("cost", "feasible", None, "time_limit", 4.04)
    assert unproven_sentences(_summary(MIX, proven, payroll=3_376_430_000.0, merit=(resolve,))) == [
        "The payroll is within 0.99% of the least possible: the solver's time limit stopped merit's re-solve of the "
        "later years after 4.0 s; a larger solver.time_limit may lower it."]
    # proven within its gap, stopped by a node limit (not the clock), or no cost stage: nothing to say
    assert unproven_sentences(_summary(MIX, proven)) == []
    assert unproven_sentences(_summary(_stage("cost", "feasible", 3.3e9, "node_limit"))) == []
    assert unproven_sentences(_summary(MIX, _stage("disruption", "feasible", None, "time_limit"))) == []
    assert unproven_sentences({}) == []


def test_the_terminal_summary_ends_with_what_the_plan_does_not_show_about_its_payroll():
    mix = pd.DataFrame([(year, sequence, 100 * share, share, lower, upper)
                        for year in (0, 1) for sequence, share, lower, upper in
                        (("management", 0.05, 0.045, 0.055), ("technical", 0.30, 0.295, 0.305),
                         ("operations", 0.65, 0.645, 0.655))],
                       columns=["year", "sequence", "headcount", "share", "lower", "upper"])
    budget = pd.DataFrame({"unit_id": ["ALL", "ALL"], "year": [0, 1], "total": [1e8, 1e8], "cap": [np.nan, 1.1e8]})
    unproven = {**_summary(MIX, _stage("cost", "feasible", None, "time_limit")), "status": "feasible", "exit_code": 0,
                "counts": {"stay": 10}}
    lines = plan_summary(unproven, mix, budget).splitlines()
    assert lines[-1] == f"  note: {unproven_sentences(unproven)[0]}"
    assert not any(line.startswith("  missed:") for line in lines)  # every target met
    proven = {**unproven, **_summary(MIX, _stage("cost", "optimal", 3.3434e9, None))}
    assert not any("note:" in line for line in plan_summary(proven, mix, budget).splitlines())
