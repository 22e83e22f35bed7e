"""Writing a plan: a plan the independent verifier rejects replaces nothing (the earlier plan stays, no
staging folder is left behind)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from models.scenario_files import build_scenario
from optimizer.pipeline import VerificationFailed, compute_plan, write_plan
from tests.builders import QUIET, people, unit, write_group


def test_a_plan_failing_verification_leaves_the_earlier_plan_as_it_was(tmp_path):
    data = write_group(tmp_path / "data", people("U1", "operations", 30) + people("U1", "technical", 10), [unit("U1")])
    scenario = build_scenario(QUIET, "test", ["mix.tolerance=1"])
    out = tmp_path / "plan"
    good = compute_plan(scenario, data)
    write_plan(good, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    actions = good.tables["actions"]
    broken = replace(good, tables={**good.tables, "actions": actions.iloc[1:]})  # one employee has no action
    with pytest.raises(VerificationFailed) as failed:
        write_plan(broken, out)
    missing = [f.message for f in failed.value.report.failures if f.check == "roster"]
    assert missing == ["roster employees missing from actions.csv (1): U1-O0000"]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "plan"]
