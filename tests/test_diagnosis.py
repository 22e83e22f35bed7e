"""Diagnosis of unreachable targets: missed goals with their shortfalls, the smallest single relaxations
(applied and re-solved here), the earliest year the mix can be reached, softened hard rules.

Tiny groups from :mod:`tests.builders` (QUIET base: one year, no attrition, no hires, every cap at 0), so
every number below is worked out by hand in the test's comment.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from html import escape

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from models.scenario_files import build_scenario
from optimizer.whatif import diagnosis
from optimizer.cli import main
from optimizer.solvers.clock import Clock
from optimizer.solvers.staged import StageResult
from optimizer.whatif.diagnosis import Probe, earliest_deadline, grid, smallest_value
from optimizer.whatif.inputs_cache import cached_inputs
from optimizer.whatif.sentences import diagnosis_sentences, missed_sentences
from tests.builders import QUIET, people, solve_group, unit, write_group
from tests.test_formulation import MIX_100, REACH_30

pytestmark = pytest.mark.slow

ATTRITION_DRIVEN = [*people("U1", "operations", 80), *people("U1", "technical", 20, first=100)]
"""80 operations (not qualified to move) and 20 technical: only attrition changes the mix."""
SLOW_MIX = ["horizon=2", "mix.deadline=2", "mix.tolerance=0.005", "attrition.operations=0.1"]


def _cli_solve(tmp_path, employees, units, overrides, *args):
    """``wfplan solve`` on the QUIET scenario file with ``--set`` overrides; (result, summary.json)."""
    data = write_group(tmp_path / "data", employees, units)
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(json.dumps(QUIET), encoding="utf-8")  # JSON is YAML
    out = tmp_path / "plan"
    sets = [arg for override in overrides for arg in ("--set", override)]
    result = CliRunner().invoke(main, ["solve", str(scenario), "--data", str(data), "--out", str(out), *sets, *args])
    return result, json.loads((out / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reach_30_dir(tmp_path_factory):
    """Where :func:`reach_30` solves: ``data`` and ``plan`` (with report.html and report.xlsx)."""
    return tmp_path_factory.mktemp("reach_30")


@pytest.fixture(scope="module")
def reach_30(reach_30_dir):
    """MIX_100 with 10% moves and a ±0.5 point band, diagnosed once for the tests that read it."""
    return _cli_solve(reach_30_dir, MIX_100, [unit("U1")], REACH_30)


def _relaxation(summary, key):
    return next(r for r in summary["diagnosis"]["relaxations"] if r["key"] == key)


def _applied(overrides, relaxation):
    """``overrides`` with the relaxation's ``set`` applied on top (a key set again takes the new value)."""
    merged = {text.split("=")[0]: text for text in [*overrides, *relaxation["set"]]}
    return list(merged.values())


# ------------------------------------------------------------------------------------- end to end


def test_missed_mix_exits_3_with_the_shortfalls_in_points_and_heads(reach_30):
    # 8 moves (10% of 80) leave technical at 28/100: 1.5 points and 1.5 people under 29.5%; operations at
    # 72/100 are as far over 70.5%.
    result, summary = reach_30
    assert result.exit_code == 3, result.output
    missed = summary["diagnosis"]["missed"]
    by_sequence = {m["sequence"]: m for m in missed["mix"]}
    assert by_sequence.keys() == {"technical", "operations"}
    assert by_sequence["technical"]["side"] == "below" and by_sequence["operations"]["side"] == "above"
    for miss in by_sequence.values():
        assert miss["year"] == 1
        assert miss["points"] == pytest.approx(1.5)
        assert miss["heads"] == pytest.approx(1.5)
    assert missed["budget"] == [] and missed["softened"] == []
    assert ("In year 1 the technical share is 28.0%, 1.5 points (2 people) short of the band (29.5–30.5%), and the "
            "operations share is 72.0%, 1.5 points (2 people) above the band (69.5–70.5%).") in result.output
    assert ("Every target would be met with mix.deadline 2 (with horizon 2) or mobility.operations_to_technical 0.13 "
            "or mix.tolerance 0.02.") in result.output


def test_each_suggested_relaxation_meets_every_target_and_its_neighbour_does_not(reach_30, tmp_path):
    # Technical needs 29.5 of 100, i.e. 10 moves of the 80 operations: rate 10/80 = 0.125 (0.124 allows 9).
    # A band of ±2 points takes 28% as it is. A second year of 10% moves reaches the band by year 2.
    _, summary = reach_30
    restoring = {r["key"]: r for r in summary["diagnosis"]["relaxations"] if r["restores"]}
    assert {key: (r["to"], r["insufficient"]) for key, r in restoring.items()} == {
        "mobility.operations_to_technical": (0.125, 0.124),
        "mix.tolerance": (0.02, 0.0199),
        "mix.deadline": (2, 1),
    }
    assert restoring["mix.deadline"]["set"] == ["mix.deadline=2", "horizon=2"]
    assert summary["diagnosis"]["earliest_year"] == 2
    for key, relaxation in restoring.items():
        applied = solve_group(tmp_path / key, MIX_100, [unit("U1")], _applied(REACH_30, relaxation))
        assert applied.exit_code == 0, key
    just_short = solve_group(tmp_path / "short", MIX_100, [unit("U1")],
                             _applied(REACH_30, {"set": ["mobility.operations_to_technical=0.124"]}))
    assert just_short.exit_code == 3


def test_both_reports_show_the_sentences_of_the_terminal(reach_30, reach_30_dir):
    result, summary = reach_30
    sentences = diagnosis_sentences(summary["diagnosis"])
    assert "diagnosis:\n" + "\n".join(f"  {sentence}" for sentence in sentences) in result.output
    plan = reach_30_dir / "plan"
    page = (plan / "report.html").read_text(encoding="utf-8")
    assert '<ul class="sentences">' + "".join(f"<li>{escape(s)}</li>" for s in sentences) + "</ul>" in page
    column = [row[0] for row in openpyxl.load_workbook(plan / "report.xlsx")["Summary"].iter_rows(values_only=True)]
    assert column[column.index("Diagnosis") + 1:] == sentences
    # the missed targets in the same words, from the plan's own tables (the diagnosis begins with them)
    missed = missed_sentences(pd.read_csv(plan / "mix.csv"), pd.read_csv(plan / "budget.csv"))
    assert missed == sentences[:1]
    assert "<h3>Missed targets</h3>" + '<ul class="sentences">' + f"<li>{escape(missed[0])}</li></ul>" in page
    assert column[column.index("Missed targets") + 1] == missed[0]


def test_a_relaxation_that_cannot_help_is_reported_as_such(reach_30):
    # Tier promotions do not change the sequence mix; there is no management to move; hiring switched on
    # allows 8% of 20 technical = 1 hire where 3 are needed.
    result, summary = reach_30
    tier_rate = _relaxation(summary, "promotion.tier_rate")
    assert tier_rate == {"key": "promotion.tier_rate", "from": 0.0, "to": None, "limit": 1.0, "restores": False,
                         "set": [], "insufficient": 1.0, "undecided": [], "probes": 1, "seconds": tier_rate["seconds"]}
    assert not _relaxation(summary, "mobility.management_to_technical")["restores"]
    hiring = _relaxation(summary, "hiring.enabled")
    assert (hiring["from"], hiring["restores"], hiring["insufficient"]) == (False, False, True)
    assert "None of these alone would meet every target: promotion.tier_rate 1.00, " in result.output


def test_earliest_year_is_when_attrition_brings_the_mix_into_the_band(tmp_path):
    # Technical share in year k: 20 / (20 + 80·0.9^k) = 23.6%, 25.5%, 27.6% for k = 2, 3, 4 and 29.75% for
    # k = 5, inside 29.5–30.5% (at k = 6 it is already 32%: the scan past the horizon goes year by year).
    result, summary = _cli_solve(tmp_path, ATTRITION_DRIVEN, [unit("U1")], SLOW_MIX)
    assert result.exit_code == 3
    assert summary["diagnosis"]["earliest_year"] == 5
    assert summary["diagnosis"]["earliest_year_limit"] == 7
    deadline = _relaxation(summary, "mix.deadline")
    assert deadline["set"] == ["mix.deadline=5", "horizon=5"] and deadline["insufficient"] == 4
    assert "The earliest year the mix band can be reached, with the budget held, is year 5." in result.output
    applied = solve_group(tmp_path / "applied", ATTRITION_DRIVEN, [unit("U1")], _applied(SLOW_MIX, deadline))
    assert applied.exit_code == 0


def test_budget_overrun_is_diagnosed_and_relaxed_both_ways(tmp_path):
    # Cap = payroll(0) = 10 × 60,000; the floor forces ⌊0.5·10⌋ = 5 grade steps at +1,000: overrun 5,000
    # (0.833% of the cap). Growth 5,000/600,000 = 0.008333… rounds up to 0.00834; the floor must fall below
    # 10% (⌊10·r⌋ = 0), i.e. to 0.0999, rounded down.
    group, floors = people("U1", "technical", 10), ["budget.growth=0", "promotion.grade_rate=0.5",
                                                    "promotion.grade_rate_floor=0.5"]
    result, summary = _cli_solve(tmp_path, group, [unit("U1")], floors)
    assert result.exit_code == 3
    [overrun] = summary["diagnosis"]["missed"]["budget"]
    assert (overrun["year"], overrun["overrun"]) == (1, pytest.approx(5_000))
    assert overrun["percent_of_cap"] == pytest.approx(100 * 5_000 / 600_000)
    assert "In year 1 the budget is under 0.1 M CNY over the cap (0.8% of it)." in result.output
    growth, floor = _relaxation(summary, "budget.growth"), _relaxation(summary, "promotion.grade_rate_floor")
    assert (growth["to"], growth["insufficient"]) == (0.00834, 0.00833)
    assert (floor["to"], floor["insufficient"]) == (0.0999, 0.1)
    for relaxation in (growth, floor):
        applied = solve_group(tmp_path / relaxation["key"], group, [unit("U1")], _applied(floors, relaxation))
        assert applied.exit_code == 0


def test_infeasible_unit_minimum_names_the_softened_cap_and_the_relaxation(tmp_path):
    # 100 operations, 10% attrition, minimum 150: 90 + hires ≥ 150 needs 60 hires, the cap allows
    # 3% of 100 = 3, so the minimum is missed by 150 − 93 = 57; a hiring rate of 60/100 = 0.6 restores it.
    overrides = ["hiring.enabled=true", "attrition.operations=0.1"]
    result, summary = _cli_solve(tmp_path, people("U1", "operations", 100), [unit("U1", min_headcount=150)], overrides)
    assert result.exit_code == 4
    assert summary["status"] == "infeasible" and not summary["diagnosis"]["feasible"]
    [softened] = summary["diagnosis"]["missed"]["softened"]
    assert softened == {"constraint": "unit_headcount[U1,y1]", "side": "minimum", "limit": 150.0,
                        "missed_by": pytest.approx(57, rel=1e-5), "unit": "people"}
    assert "unit_headcount[U1,y1]: the minimum of 150 is missed by 57 people." in result.output
    hiring = _relaxation(summary, "hiring.max_rate.operations")
    assert (hiring["to"], hiring["insufficient"]) == (0.6, 0.599)
    applied = solve_group(tmp_path / "applied", people("U1", "operations", 100), [unit("U1", min_headcount=150)],
                          _applied(overrides, hiring))
    assert applied.exit_code == 0


def test_no_diagnosis_flag_skips_the_extra_solves(tmp_path):
    result, summary = _cli_solve(tmp_path, MIX_100, [unit("U1")], REACH_30, "--no-diagnosis", "--quiet")
    assert result.exit_code == 3
    assert "diagnosis" not in summary


def test_worker_processes_find_the_same_relaxations(tmp_path):
    data = write_group(tmp_path / "data", MIX_100, [unit("U1")])
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "test", REACH_30)
    tasks = diagnosis.search_tasks(scenario, data, 3.0, deadline=True)
    alone = diagnosis.relaxations(tasks, probe_seconds=0.0)
    parallel = diagnosis.relaxations(tasks, probe_seconds=0.0, workers=2)
    assert (alone["search"]["workers"], parallel["search"]["workers"]) == (1, 2)
    drop_time = [{k: v for k, v in r.items() if k != "seconds"} for r in alone["relaxations"]]
    assert drop_time == [{k: v for k, v in r.items() if k != "seconds"} for r in parallel["relaxations"]]


# ------------------------------------------------------------------------------------- the searches


def test_grid_has_three_significant_digits_across_a_decade():
    assert grid(0.0996, 0.102) == [0.0997, 0.0998, 0.0999, 0.1, 0.101, 0.102]
    # Below 0.001 the grid steps by RESOLUTION (1e-5): 9 + 1 points down to −0.001, 99 below it, and 0.
    below = grid(-0.0011, 0.0)
    assert below[:3] == [-0.00109, -0.00108, -0.00107] and below[-3:] == [-2e-05, -1e-05, 0.0]
    assert len(below) == 9 + 1 + 99 + 1


def test_secant_finds_a_linear_threshold_in_few_probes():
    # m(v) = 100·(0.11537 − v)⁺: the threshold rounds up to 0.116. After the limit and two halvings, the first
    # failure (0.0937) and the start give the secant root 0.11537 exactly; its lower neighbour 0.115 fails.
    calls = []

    def probe(value):
        calls.append(value)
        miss = max(0.0, 100 * (0.11537 - value))
        return Probe(miss <= 1e-6, miss, True)

    assert smallest_value(probe, 0.08, 100 * (0.11537 - 0.08), 1.0) == 0.116
    assert calls == [1.0, 0.45, 0.175, 0.0937, 0.116, 0.115]


def _recorded(met):
    """A probe answering ``met(value)``, and the list of the values it was asked about."""
    calls = []

    def probe(value):
        calls.append(value)
        return Probe(met(value), None, True)

    return probe, calls


def test_earliest_deadline_bisects_inside_the_horizon_and_scans_beyond():
    probe, calls = _recorded(lambda d: d >= 4)  # horizon 5, deadline 1: the horizon, then bisection on 2..4
    assert earliest_deadline(probe, 1, 5) == 4 and calls == [5, 3, 4]
    probe, calls = _recorded(lambda d: d == 5)  # past the horizon (3) year by year: 6 would fail again
    assert earliest_deadline(probe, 3, 3) == 5 and calls == [4, 5]
    probe, calls = _recorded(lambda d: False)
    assert earliest_deadline(probe, 3, 3) is None and calls == [4, 5, 6, 7, 8]


@pytest.mark.parametrize("left, build_seconds", [(-1.0, 0.0), (3600.0, 7200.0)], ids=["past", "build_too_long"])
def test_a_search_past_the_diagnosis_deadline_leaves_its_probes_undecided_without_solving(tmp_path, left,
                                                                                          build_seconds):
    # The diagnosis' time is up before the search starts, or less is left than building the model takes (a
    # build cannot be interrupted): every probe is undecided (a solve of this tiny model decides it: a cap of
    # 1.0 restores the band), and nothing is reported as restoring or as refuted.
    data = write_group(tmp_path / "data", MIX_100, [unit("U1")])
    base = build_scenario(json.loads(json.dumps(QUIET)), "test", REACH_30).to_raw()
    task = diagnosis.SearchTask("mobility.operations_to_technical", 0.1, 1.0, 3.0, base, data.resolve(),
                                deadline=time.time() + left, build_seconds=build_seconds)
    entry = diagnosis.run_search(task)
    assert (entry["restores"], entry["to"], entry["insufficient"]) == (False, None, 0.1)
    assert entry["undecided"] == [1.0] and entry["probes"] == 1
    year = diagnosis.run_search(diagnosis.SearchTask("mix.deadline", 1, 6, 3.0, base, data.resolve(),
                                                     deadline=time.time() + left, build_seconds=build_seconds))
    assert year["to"] is None and year["undecided"]


def test_a_diagnosis_with_no_time_left_starts_no_worker_and_leaves_every_search_undecided(tmp_path):
    # A probe expected to take 100 s would send the searches to worker processes; with the run's budget spent
    # they are all undecided at once, in this process (starting workers that may not probe costs seconds).
    data = write_group(tmp_path / "data", MIX_100, [unit("U1")])
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "test", REACH_30)
    tasks = diagnosis.search_tasks(scenario, data.resolve(), 3.0, True, Clock(time.perf_counter() - 1.0))
    found = diagnosis.relaxations(tasks, probe_seconds=100.0)
    assert found["search"]["workers"] == 1 and found["earliest_year_undecided"]
    # each search probed its values without a solve: the end of its range (years 2–6 for mix.deadline)
    assert all(not entry["restores"] and entry["limit"] in entry["undecided"]
               and len(entry["undecided"]) == entry["probes"] for entry in found["relaxations"])


def test_a_probe_its_start_meets_needs_no_solve_and_one_it_misses_is_left_undecided(tmp_path, monkeypatch):
    # REACH_30 (8 moves of 80 leave technical at 28%) probed for mix.tolerance with no solve allowed (share 0:
    # a search whose gamble was lost, :class:`diagnosis.Prober`); one unit, so no pooled bound. The start makes
    # the 8 moves: a band of ±2 points (28% inside 28–32%) is met by it; at ±1.99 points technical is 0.01
    # points = 0.01 people short and operations as far over, so the start misses by 0.02 and the probe stays
    # undecided, where a solve proves it (test below).
    data = write_group(tmp_path / "data", MIX_100, [unit("U1")])
    tables = cached_inputs(data.resolve())

    def probe(tolerance: float) -> diagnosis.Probe:
        scenario = build_scenario(json.loads(json.dumps(QUIET)), "test", _applied(REACH_30, {"set": [f"mix.tolerance={tolerance}"]}))
        return diagnosis.target_miss(scenario, tables, time.time() + 600, share=0.0)

    monkeypatch.setattr(diagnosis, "solve", lambda *args, **kwargs: pytest.fail("a probe solved"))
    met = probe(0.02)
    assert (met.met, met.proven) == (True, True) and met.miss == pytest.approx(0.0, abs=1e-9)
    missed = probe(0.0199)
    assert (missed.met, missed.proven) == (False, False) and missed.miss == pytest.approx(0.02, abs=1e-6)


def test_a_search_after_a_stage_cut_short_still_solves_while_its_solves_decide(tmp_path):
    # The same search as after a run whose mix stage never reached its root (solves=False): its first probe
    # the start leaves open gets half the time left, and on this tiny model the solve decides, so the search
    # goes on solving and finds what the unrestricted search finds: 0.02, with 0.0199 proven insufficient.
    data = write_group(tmp_path / "data", MIX_100, [unit("U1")])
    base = build_scenario(json.loads(json.dumps(QUIET)), "test", REACH_30).to_raw()
    task = diagnosis.SearchTask("mix.tolerance", 0.005, 1.0, 3.0, base, data.resolve(), deadline=time.time() + 600)
    for solves in (True, False):
        entry = diagnosis.run_search(replace(task, solves=solves))
        assert (entry["to"], entry["insufficient"], entry["undecided"]) == (0.02, 0.0199, [])


def test_probes_solve_unless_the_runs_first_stage_stopped_before_its_solver_had_a_bound_of_its_own():
    def stage(stopped_by, bound_source):
        return StageResult("mix", "feasible", 120.0, 100.0, 0.17, 9.0, stopped_by=stopped_by, bound_source=bound_source)

    cost = StageResult("cost", "feasible", 1e9, None, None, 9.0, stopped_by="time_limit")
    assert not diagnosis.probes_solve([stage("time_limit", "the pooled relaxation"), cost])
    assert diagnosis.probes_solve([stage("time_limit", None), cost])  # the solver's own bound: its root was reached
    assert diagnosis.probes_solve([stage(None, "the pooled relaxation")])  # proven by the pooled bound
    assert diagnosis.probes_solve([StageResult("mix", "optimal", 3.0, 3.0, 0.0, 1.0)])
    # the mix stage is read wherever the order puts it (cost first), and a run with none solves as before
    assert not diagnosis.probes_solve([cost, stage("time_limit", "the pooled relaxation")])
    assert diagnosis.probes_solve([cost]) and diagnosis.probes_solve([])


def test_a_search_after_a_stage_cut_short_rests_on_its_starts_once_a_gambled_solve_ends_undecided(tmp_path,
                                                                                                   monkeypatch):
    # target_miss recorded (the searching, not the probing, is under test): the end of the range is met, the
    # next probe's solve (half the time) ends undecided, so every probe after it is given no solve; a search
    # whose solves may take all the time (solves=True) keeps giving 1.0.
    data = write_group(tmp_path / "data", MIX_100, [unit("U1")])
    base = build_scenario(json.loads(json.dumps(QUIET)), "test", REACH_30).to_raw()
    task = diagnosis.SearchTask("mix.tolerance", 0.005, 1.0, 3.0, base, data.resolve(), deadline=time.time() + 600)
    for solves, expected in ((False, [0.5, 0.5, 0.0, 0.0]), (True, [1.0] * 4)):
        shares: list[float] = []

        def probe(scenario, tables, ends, share, shares=shares):
            shares.append(share)
            return diagnosis.Probe(True, 0.0, True) if len(shares) == 1 else diagnosis.Probe(False, 1.0, False)

        monkeypatch.setattr(diagnosis, "target_miss", probe)
        entry = diagnosis.run_search(replace(task, solves=solves))
        assert shares[:4] == expected and entry["to"] == 1.0 and len(entry["undecided"]) == len(shares) - 1
