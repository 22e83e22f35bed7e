"""The simulation of a plan (``optimizer/simulate``): it reproduces the plan when nobody leaves, matches an exact
binomial probability worked out by hand, gives the same numbers for the same seed however its chunks run,
and ``wfplan simulate`` adds its files to a plan folder without touching the plan's own."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from builders import QUIET, as_an_earlier_version_wrote, people, solve_group, unit
from models.scenario_files import load_scenario, scenario_path
from optimizer.cli import main
from optimizer.pipeline import run_ladder_plan
from optimizer.plan.folders import MARKER
from optimizer.plan.reader import read_plan_table
from optimizer.distributed.base import Where
from optimizer.simulate.cluster import cluster_runner
from optimizer.simulate import engine
from optimizer.simulate.engine import chunk_sizes, merge, run_local, simulate, simulate_chunk
from optimizer.simulate.folder import load_plan_inputs
from optimizer.simulate.results import simulation_summary

MOVING = {
    **QUIET,
    "horizon": 3,
    "mix": {"target": {"management": 0.1, "technical": 0.45, "operations": 0.45}, "tolerance": 0.02, "deadline": 3},
    "promotion": {"grade_rate": 0.3, "tier_rate": 0.1, "min_years_in_grade": 2, "min_years_for_grade_step": 1},
    "mobility": {**QUIET["mobility"], "operations_to_technical": 0.1},
    "hiring": {"enabled": True, "entry_tiers": {"technical": [1], "operations": [1]},
               "max_rate": {"management": 0.0, "technical": 0.2, "operations": 0.05}},
}
"""Three years of retraining and hires toward a technical share of 45 % (more than one year's caps allow)."""


def _group() -> list[dict]:
    return (people("U1", "operations", 40, eligible=True) + people("U1", "technical", 10)
            + people("U1", "management", 6) + people("U2", "technical", 8, tier=2))


@pytest.fixture(scope="module")
def steady(tmp_path_factory: pytest.TempPathFactory):
    """A three-year plan with every attrition rate 0 (the model still plans fractional later-year flows)."""
    return solve_group(tmp_path_factory.mktemp("steady"), _group(), [unit("U1"), unit("U2")], base=MOVING)


def blocks_of(monkeypatch: pytest.MonkeyPatch, reps: int, states: int) -> None:
    """Chunks run in blocks of ``reps`` repetitions (a small plan's chunk is otherwise one block)."""
    monkeypatch.setattr(engine, "BLOCK_VALUES", reps * states)
    assert engine.block_reps(states) == reps


@pytest.mark.parametrize("block", [None, 7])
def test_with_no_attrition_every_repetition_is_the_plan(steady, block, monkeypatch) -> None:
    inputs, summary = load_plan_inputs(steady.folder)
    if block:
        blocks_of(monkeypatch, block, len(inputs.states))  # 1,000 = 142 blocks of 7 and one of 6
    outcomes = simulate(inputs, 1500, seed=7)
    headcount = read_plan_table(steady.folder, "headcount")
    mix = read_plan_table(steady.folder, "mix")
    budget = read_plan_table(steady.folder, "budget")
    totals = budget[budget["unit_id"] == "ALL"].set_index("year")
    for year in (1, 2, 3):
        for q, sequence in enumerate(("management", "technical", "operations")):
            planned = mix[(mix["year"] == year) & (mix["sequence"] == sequence)]["headcount"].item()
            assert np.allclose(outcomes.heads[:, year - 1, q], planned, rtol=0, atol=1e-6), (year, sequence)
        assert np.allclose(outcomes.payroll[:, year - 1], totals.loc[year, "payroll"], rtol=1e-9)
        assert np.allclose(outcomes.total[:, year - 1], totals.loc[year, "total"], rtol=1e-9)
    assert headcount[headcount["year"] == 3]["headcount"].sum() == pytest.approx(outcomes.heads[0, 2].sum())
    result = simulation_summary(outcomes, inputs, 7, 0.0)
    assert summary["targets_met"] is True and result["p_mix_met"] == 1.0 and result["p_budget_held"] == 1.0
    later = steady.table("flows").query("year >= 2 and kind != 'attrition'")["count"]
    assert later.sum() > 5 and (later % 1 > 1e-6).any()  # later years act, in fractional (expected) heads


def test_with_no_attrition_a_missed_band_is_missed_in_every_repetition(tmp_path: Path) -> None:
    base = {**MOVING, "mix": {**MOVING["mix"], "target": {"management": 0.05, "technical": 0.7, "operations": 0.25}}}
    solved = solve_group(tmp_path, _group(), [unit("U1"), unit("U2")], base=base)
    assert solved.exit_code == 3 and solved.summary["targets_met"] is False
    inputs, _ = load_plan_inputs(solved.folder)
    result = simulation_summary(simulate(inputs, 300, seed=1), inputs, 1, 0.0)
    assert result["p_mix_met"] == 0.0 and result["p_budget_held"] == 1.0
    assert result["years"][2]["p_mix_met"] == 0.0 and result["years"][0]["p_mix_met"] is None


def exact_at_most(n: int, p: float, k: int) -> float:
    """P(Binomial(n, p) ≤ k), summed term by term."""
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


def test_the_band_probability_matches_the_exact_binomial(tmp_path: Path, monkeypatch) -> None:
    """10 technical people leave at 20 %, 10 operations people stay; the band asks technical ≥ 40 %:
    T/(T+10) ≥ 0.4 ⇔ T ≥ 7 ⇔ at most 3 of the 10 leave: P = Σ_{k≤3} C(10,k)·0.2^k·0.8^(10−k) = 0.8791261184.
    The same holds when the chunks run in blocks of 7 repetitions (each block draws its own numbers)."""
    base = {**QUIET, "attrition": {"management": 0.0, "technical": 0.2, "operations": 0.0},
            "mix": {"target": {"management": 0.0, "technical": 0.45, "operations": 0.55}, "tolerance": 0.05,
                    "deadline": 1}}
    solved = solve_group(tmp_path, people("U1", "technical", 10) + people("U1", "operations", 10), [unit("U1")],
                         base=base)
    assert solved.exit_code == 0
    exact = exact_at_most(10, 0.2, 3)
    assert exact == pytest.approx(0.8791261184, abs=1e-10)
    inputs, _ = load_plan_inputs(solved.folder)
    reps = 20_000
    result = simulation_summary(simulate(inputs, reps, seed=2026), inputs, 2026, 0.0)
    standard_error = math.sqrt(exact * (1 - exact) / reps)
    assert abs(result["p_mix_met"] - exact) < 4 * standard_error
    assert result["years"][0]["sequences"]["technical"]["headcount"]["p50"] == 8.0  # the median of 10 − Bin(10, 0.2)
    assert result["years"][0]["sequences"]["operations"]["headcount"]["p05"] == 10.0  # nobody leaves operations
    blocks_of(monkeypatch, 7, len(inputs.states))
    blocked = simulate(inputs, reps, seed=2026)
    assert abs(simulation_summary(blocked, inputs, 2026, 0.0)["p_mix_met"] - exact) < 4 * standard_error
    technical = blocked.heads[:994, 0, 1].reshape(142, 7)  # the first chunk's 142 whole blocks, one per row
    assert len({tuple(row) for row in technical}) > 100  # blocks do not repeat one another's draws


@pytest.mark.slow
def test_the_same_seed_gives_the_same_numbers_however_the_chunks_run(steady) -> None:
    inputs, _ = load_plan_inputs(steady.folder)
    shaken = type(inputs)(**{**inputs.__dict__, "attrition": np.full_like(inputs.attrition, 0.1)})
    chunks = chunk_sizes(2500)
    assert chunks == [(0, 1000), (1, 1000), (2, 500)]
    one = merge(run_local(shaken, chunks, seed=5))
    backwards = merge(reversed([simulate_chunk(shaken, reps, 5, k) for k, reps in chunks]))
    pooled = simulate(shaken, 2500, seed=5, runner=cluster_runner(Where(None, 2)))
    assert one.chunks == backwards.chunks == pooled.chunks == (0, 1, 2)
    for other in (backwards, pooled):
        assert np.array_equal(one.heads, other.heads) and np.array_equal(one.total, other.total)
    assert not np.array_equal(one.heads, simulate(shaken, 2500, seed=6).heads)
    assert np.std(one.heads[:, 2].sum(axis=1)) > 0


@pytest.mark.slow
def test_wfplan_simulate_adds_its_files_and_keeps_the_plan(steady, tmp_path: Path) -> None:
    before = {p.name: p.read_bytes() for p in steady.folder.iterdir() if p.name not in ("report.xlsx", "report.html")}
    runner = CliRunner()
    result = runner.invoke(main, ["simulate", str(steady.folder), "--reps", "300", "--seed", "3", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "every band and cap held in 100.0% of them" in result.output
    after = {p.name: p.read_bytes() for p in steady.folder.iterdir()}
    assert all(after[name] == content for name, content in before.items())
    assert {"simulation.json", "simulation.csv", "report.html", "report.xlsx", MARKER} <= set(after)
    written = json.loads(after["simulation.json"])
    assert written["reps"] == 300 and written["seed"] == 3 and written["p_all_met"] == 1.0
    table = read_plan_table(steady.folder, "simulation")
    assert set(table["measure"]) == {"share", "headcount", "payroll", "total", "mix"}
    again = runner.invoke(main, ["simulate", str(steady.folder), "--reps", "300", "--seed", "3", "--workers", "1",
                                 "--json"])
    assert again.exit_code == 0 and json.loads(again.output)["years"] == written["years"]


def test_wfplan_simulate_refuses_a_folder_that_is_not_a_plan(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me", encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", str(tmp_path / "mine")])
    assert result.exit_code == 2 and "not a plan folder" in result.output
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]
    missing = CliRunner().invoke(main, ["simulate", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "no such folder" in missing.output


def test_wfplan_simulate_refuses_tables_that_are_not_the_plans(steady, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(steady.folder.parent / "data", data)
    pay = (data / "pay.csv").read_text(encoding="utf-8").splitlines()
    pay[1] = pay[1].rsplit(",", 1)[0] + ",1"  # one base salary changed
    (data / "pay.csv").write_text("\n".join(pay) + "\n", encoding="utf-8")
    before = sorted(p.name for p in steady.folder.iterdir())
    result = CliRunner().invoke(main, ["simulate", str(steady.folder), "--data", str(data), "--reps", "10"])
    assert result.exit_code == 2 and "the pay table is not the one the plan was solved from" in result.output
    assert sorted(p.name for p in steady.folder.iterdir()) == before


def test_wfplan_simulate_refuses_a_plan_folder_of_another_version_with_exit_2(steady, tmp_path: Path) -> None:
    # A folder written before budget.csv gained red_circled_payroll: the reports it would write again need the
    # column. Refused as the user's (exit 2, the folder and the column named), not as a bug (it was exit 1).
    old = tmp_path / "old"
    shutil.copytree(steady.folder, old)
    as_an_earlier_version_wrote(old)
    before = sorted(p.name for p in old.iterdir())
    result = CliRunner().invoke(main, ["simulate", str(old), "--reps", "10", "--workers", "1"])
    assert result.exit_code == 2, result.output
    assert f"plan folder {old}: budget.csv: missing column(s) red_circled_payroll" in result.output
    assert sorted(p.name for p in old.iterdir()) == before


def test_wfplan_simulate_refuses_an_own_ladder_plan(tmp_path: Path) -> None:
    assert run_ladder_plan(load_scenario(scenario_path("manpower_williams")), tmp_path / "plan").exit_code == 0
    result = CliRunner().invoke(main, ["simulate", str(tmp_path / "plan")])
    assert result.exit_code == 2 and "own-ladder plan" in result.output
    assert not (tmp_path / "plan" / "simulation.json").exists()
