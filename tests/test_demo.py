"""One realistic regression case: the demo chain on a generated group, its invariants and reproducibility."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer.cli import main
from optimizer.registry.store import RunStore

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(main, ["demo", "--employees", "3000", "--units", "6", "--out", str(out)])
    return result, out


def test_demo_writes_a_verified_plan_that_meets_the_targets(demo_run):
    result, out = demo_run
    assert result.exit_code == 0, result.output
    assert "mix path" in result.output and "budget" in result.output and "year-1 actions" in result.output
    summary = json.loads((out / "plan" / "latest" / "summary.json").read_text(encoding="utf-8"))
    assert summary["verification"]["ok"]
    assert summary["targets_met"] and summary["objective"]["mix"] == 0.0
    run = RunStore.open().run(summary["run"]["id"])  # recorded in the session's store (WFPLAN_DB)
    assert (run.kind, run.scenario, run.status, run.altered) == ("demo", "baseline", "draft", ())
    assert run.folder == (out / "plan" / "latest").resolve()


def test_demo_plan_invariants(demo_run):
    _, out = demo_run
    plan, data = out / "plan" / "latest", out / "data"
    roster = pd.read_csv(data / "employees.csv")
    actions = pd.read_csv(plan / "actions.csv")
    people = actions[actions["action"] != "hire"]
    assert sorted(people["employee_id"]) == sorted(roster["employee_id"])  # everyone exactly once
    budget = pd.read_csv(plan / "budget.csv")
    totals = budget[(budget["unit_id"] == "ALL") & (budget["year"] >= 1)]
    assert (totals["total"] <= totals["cap"] * (1 + 1e-9)).all()
    units = budget[(budget["unit_id"] != "ALL")]
    summed = units.groupby("year")["total"].sum().to_numpy()
    assert summed == pytest.approx(budget[budget["unit_id"] == "ALL"].sort_values("year")["total"].to_numpy())
    mix = pd.read_csv(plan / "mix.csv")
    final = mix[mix["year"] == mix["year"].max()]
    assert ((final["share"] >= final["lower"] - 1e-9) & (final["share"] <= final["upper"] + 1e-9)).all()
    summary = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
    assert summary["objective"]["cost"] == pytest.approx(totals["total"].sum())
    assert summary["counts"] == actions["action"].value_counts().to_dict()


def test_the_same_inputs_give_the_same_plan(demo_run, tmp_path):
    _, out = demo_run
    again = CliRunner().invoke(main, ["demo", "--employees", "3000", "--units", "6", "--out", str(tmp_path), "--quiet"])
    assert again.exit_code == 0
    first_plan, second_plan = out / "plan" / "latest", tmp_path / "plan" / "latest"
    for name in ("actions.csv", "flows.csv", "headcount.csv", "budget.csv"):
        assert (second_plan / name).read_bytes() == (first_plan / name).read_bytes(), name
    first = json.loads((first_plan / "summary.json").read_text(encoding="utf-8"))
    second = json.loads((second_plan / "summary.json").read_text(encoding="utf-8"))
    assert first["inputs"]["hashes"] == second["inputs"]["hashes"]
