"""The Python API (optimizer.api): docs/api.md runs as written, and the API gives what the pipeline writes."""

import re
from pathlib import Path

import pandas as pd
import pytest

from models.synthetic import write_generated
from optimizer import api
from optimizer.pipeline import run_plan
from optimizer.plan.output import write_csv

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def test_every_python_block_of_docs_api_runs_in_order(tmp_path, monkeypatch):
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(encoding="utf-8"), flags=re.S | re.M)
    assert len(blocks) >= 8
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for number, block in enumerate(blocks, 1):
        exec(compile(block, f"docs/api.md python block {number}", "exec"), namespace)
    assert namespace["report"].ok
    assert set(namespace["comparison"]) == {"mix", "budget", "actions", "units", "people"}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("api") / "data"
    write_generated(folder, 300, 3, 11)
    return folder


@pytest.fixture(scope="module")
def plan(data) -> api.Plan:
    return api.solve(api.scenario("baseline"), api.load_tables(data))


def test_overrides_as_keywords_and_texts_give_the_same_scenario():
    by_keyword = api.scenario("baseline", budget__growth=0.03, hiring__enabled=False, mix__tolerance=1e-5)
    by_text = api.scenario("baseline", overrides=["budget.growth=0.03", "hiring.enabled=false",
                                                  "mix.tolerance=0.00001"])
    assert by_keyword == by_text
    assert (by_keyword.budget.growth, by_keyword.hiring.enabled, by_keyword.mix.tolerance) == (0.03, False, 1e-5)


def test_a_bad_override_is_a_scenario_error_naming_the_key():
    with pytest.raises(api.ScenarioError, match=r"unknown key 'budget\.grwth'; did you mean 'budget\.growth'"):
        api.scenario("baseline", budget__grwth=0.03)
    with pytest.raises(api.ScenarioError, match="mix.tolerance"):
        api.scenario("baseline", overrides=["mix.tolerance=lots"])


def test_a_what_if_derives_from_a_scenario_object():
    base = api.scenario("tight_budget")
    what_if = api.scenario(base, promotion__tier_rate=0.12)
    assert what_if.promotion.tier_rate == 0.12
    assert what_if.budget == base.budget


def test_bad_tables_raise_the_input_error_of_the_cli(tmp_path, data):
    for name in ("units", "pay"):
        (tmp_path / f"{name}.csv").write_bytes((data / f"{name}.csv").read_bytes())
    employees = pd.read_csv(data / "employees.csv", dtype=str)
    employees.loc[0, "tier"] = "high"
    employees.to_csv(tmp_path / "employees.csv", index=False)
    with pytest.raises(api.InputError, match="employees.csv"):
        api.load_tables(tmp_path)


def test_the_plan_tables_equal_the_files_run_plan_writes(tmp_path, data, plan):
    written = run_plan(api.scenario("baseline"), data, tmp_path / "plan")
    assert plan.table_names == api.PLAN_TABLES
    for name in api.PLAN_TABLES:
        write_csv(plan.table(name), tmp_path / f"{name}.csv")
        assert (tmp_path / f"{name}.csv").read_bytes() == (written.plan_dir / f"{name}.csv").read_bytes(), name
    expected = pd.read_csv(written.plan_dir / "mix.csv")
    pd.testing.assert_frame_equal(plan.mix, expected, check_dtype=False)
    assert plan.summary["objective"] == written.summary["objective"]
    assert (plan.exit_code, plan.targets_met) == (written.exit_code, written.summary["targets_met"])


def test_the_plan_verifies_and_its_tables_are_copies(plan):
    assert plan.verify().ok
    actions = plan.actions
    del actions["reason"]
    assert "reason" in plan.actions.columns


def test_write_refuses_a_folder_that_holds_something(tmp_path, data, plan):
    folder = plan.write(tmp_path / "plan", reports=False)
    assert api.verify(folder, data).ok
    assert not (folder / "report.html").exists()
    keep = tmp_path / "notes"
    keep.mkdir()
    (keep / "mine.txt").write_text("keep me")
    for target in (keep, keep / "mine.txt"):
        with pytest.raises(api.OutputFolderError, match="refused"):
            plan.write(target)
    assert plan.write(folder) == folder  # an earlier plan is replaced
    assert (keep / "mine.txt").read_text() == "keep me"
    assert sorted(p.name for p in keep.iterdir()) == ["mine.txt"]


def test_a_scenario_needing_tables_without_them_is_refused():
    with pytest.raises(ValueError, match="needs input tables"):
        api.solve(api.scenario("baseline"))


def test_own_ladder_scenario_solves_without_tables_to_the_published_optimum():
    williams = api.solve(api.scenario("manpower_williams"))
    assert williams.exit_code == 0 and williams.inputs is None
    assert williams.summary["objective"]["redundancy"] == pytest.approx(841.80, abs=0.005)
    assert williams.table_names == ("headcount", "flows", "requirements")
    with pytest.raises(AttributeError, match="no actions table"):
        williams.actions
    assert williams.verify().ok


def test_compare_takes_plans_and_folders(tmp_path, data, plan):
    folder = plan.write(tmp_path / "base", reports=False)
    what_if = api.solve(api.scenario("baseline", promotion__tier_rate=0.05), api.load_tables(data))
    tables = api.compare(folder, what_if)
    assert list(tables["actions"].columns) == ["action", "base", "baseline", "delta:baseline"]
    same = api.compare(plan, plan)
    assert "baseline (2)" in same["mix"].columns and same["people"].empty
