"""The what-if page's logic, run headless with Streamlit's ``AppTest`` (no browser): data, scenario controls and
their YAML, runs through the real queue and solver, results, comparison and a sweep."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from optimizer.plan.reader import read_plan
from optimizer.whatif.sentences import diagnosis_sentences, unproven_sentences
from tests.builders import as_an_earlier_version_wrote, with_unproven_cost
from tests.webpage import csv_files, page
from web.settings import settings_from_env
from web.state import close_all, services


@pytest.fixture(autouse=True)
def fresh_queues():
    """Every test gets its own queue (closed after it: no solve outlives its test)."""
    close_all()
    yield
    close_all()


def texts(elements) -> list[str]:
    return [element.value for element in elements]


def frame(at: AppTest, *columns: str):
    """The one table on the page with these columns (AppTest does not expose a dataframe's key)."""
    [found] = [df.value for df in at.dataframe if set(columns) <= set(df.value.columns)]
    return found


def uploaded(at: AppTest, files) -> AppTest:
    at.radio(key="data_source").set_value("Upload tables").run()
    at.file_uploader(key="upload").set_value(files).run()
    return at.button(key="use_upload").click().run()


def test_the_landing_page_shows_the_scenario_at_a_glance(tmp_path: Path, monkeypatch) -> None:
    at = page(tmp_path, monkeypatch)
    assert not at.exception
    assert ("- **Scenario:** baseline\n- **Mix target:** 5% management / 30% technical / 65% operations\n"
            "- **Band:** ± 0.5 points from year 3\n- **Budget:** +5% a year over year-0 payroll\n"
            "- **Horizon:** 3 years") in texts(at.markdown)
    assert "No run yet." in texts(at.info)
    assert at.button(key="run").disabled  # no tables chosen yet


def test_controls_make_the_yaml_and_a_bad_combination_is_explained(tmp_path: Path, monkeypatch) -> None:
    at = page(tmp_path, monkeypatch)
    at.number_input(key="ctl:budget.growth").set_value(3.0).run()
    at.number_input(key="ctl:mix.deadline").set_value(2).run()
    assert "Changes: mix.deadline: 3 → 2; budget.growth: 0.05 → 0.03" in texts(at.caption)
    [code] = [c for c in at.code if c.language == "yaml"]
    scenario = yaml.safe_load(code.value)
    assert (scenario["budget"]["growth"], scenario["mix"]["deadline"]) == (0.03, 2)
    assert any("- **Budget:** +3% a year over year-0 payroll" in text for text in texts(at.markdown))
    at.number_input(key="ctl:mix.target.management").set_value(10.0).run()
    assert not at.exception
    [error] = texts(at.error)
    assert error.startswith("These settings do not make a valid scenario:")
    assert "mix.target: target shares must sum to 1, got 1.0500" in error


def test_unit_budgets_and_workload_floors_are_controls(tmp_path: Path, monkeypatch) -> None:
    at = page(tmp_path, monkeypatch)
    unit_growth = at.number_input(key="ctl:budget.unit_growth")
    assert unit_growth.value is None  # baseline: no unit budgets, an empty box
    assert at.number_input(key="ctl:workload.headcount").value == 92.0
    assert at.number_input(key="ctl:workload.operations").value == 72.0
    unit_growth.set_value(2.0).run()
    at.number_input(key="ctl:workload.headcount").set_value(95.0).run()
    assert not at.exception and not at.warning
    assert ("Changes: budget.unit_growth: None → 0.02; workload.headcount: 0.92 → 0.95"
            in texts(at.caption))
    [code] = [c for c in at.code if c.language == "yaml"]
    scenario = yaml.safe_load(code.value)
    assert (scenario["budget"]["unit_growth"], scenario["workload"]) == (0.02, {"headcount": 0.95, "operations": 0.72})
    at.number_input(key="ctl:budget.unit_growth").set_value(None).run()
    assert "Changes: workload.headcount: 0.92 → 0.95" in texts(at.caption)
    assert at.number_input(key="ctl:workload.operations").max == 100.0  # the schema's bound, in %


def test_a_corrupt_upload_is_refused_with_its_reason_and_nothing_is_kept(tmp_path: Path, monkeypatch) -> None:
    at = uploaded(page(tmp_path, monkeypatch), [("tables.xlsx", b"not a workbook at all", "application/octet-stream")])
    [error] = texts(at.error)
    assert error.startswith("The upload was not accepted (nothing was kept). 1 problem in tables.xlsx:")
    assert "tables.xlsx: expected a readable .xlsx workbook (File is not a zip file)" in error
    assert not list(settings_from_env().inputs.glob("*"))
    assert at.button(key="run").disabled


def test_bad_cells_are_listed_as_the_cli_lists_them(tmp_path: Path, monkeypatch) -> None:
    files = csv_files()
    employees = files[0][1].decode().splitlines()
    employees[2] = employees[2].replace(",technical,", ",sales,").replace(",operations,", ",sales,")
    files[0] = ("employees.csv", "\n".join(employees).encode(), "text/csv")
    at = uploaded(page(tmp_path, monkeypatch), files)
    [error] = texts(at.error)
    assert "- employees.csv row 3 (employee_id=E0000002) column sequence: got 'sales', expected" in error
    assert not list(settings_from_env().inputs.glob("*"))


@pytest.mark.slow
def test_upload_move_a_control_run_and_read_the_results(tmp_path: Path, monkeypatch) -> None:
    at = uploaded(page(tmp_path, monkeypatch), csv_files())
    assert texts(at.success) == ["Planning with the uploaded tables (employees.csv, units.csv, pay.csv): 120 "
                                 "employees in 3 units."]
    at.number_input(key="ctl:budget.growth").set_value(4.0).run()
    at.text_input(key="user").set_value("li.wei").run()
    at.button(key="run").click().run()
    [run_id] = at.session_state["my_runs"]
    job = services(settings_from_env()).queue.wait(run_id, 300)
    assert (job.state, job.exit_code) == ("finished", 0)
    at.run()
    assert not at.exception
    # the baseline's stages stop within solver.gap on this group (proven or not, every target is met)
    assert any(text.startswith("Every target met") and text.endswith("the plan is written and verified.")
               for text in texts(at.success))
    assert len(at.get("plotly_chart")) == 3  # mix, budget, units
    labels = [button.label for button in at.get("download_button")]
    assert labels[1:] == ["Workbook (report.xlsx)", "Report (report.html)", "The plan (zip)",
                          "Download these rows (CSV)"]
    actions = frame(at, "employee_id", "action", "reason")
    assert len(actions) > 0 and "stay" not in set(actions["action"])  # stays are filtered out by default
    first = actions.iloc[0]
    at.multiselect(key="filter_actions").set_value([]).run()
    at.text_input(key="filter_text").set_value(first["name"]).run()
    assert frame(at, "employee_id", "action", "reason")["employee_id"].tolist() == [first["employee_id"]]
    units = frame(at, "unit_id", "grade", "change")
    assert units["change"].sum() == pytest.approx(units.iloc[:, 3].sum() - units["year 0"].sum())
    assert units["year 0"].sum() == 120
    assert "Status in the run store: **draft**" in texts(at.markdown)
    at.text_input(key="approval_note.0").set_value("growth 4% plan").run()
    at.button(key="approval:submit").click().run()
    assert "Status in the run store: **submitted**" in texts(at.markdown)
    assert [(field.key, field.value) for field in at.text_input if field.label == "Note"] == [("approval_note.1", "")]
    at.button(key="approval:approve").click().run()  # the submitter may not approve
    assert texts(at.error) == [f"run {run_id} was submitted by li.wei: someone else must approve it"]
    at.text_input(key="user").set_value("hr.director").run()
    at.button(key="approval:approve").click().run()
    assert "Status in the run store: **approved**" in texts(at.markdown) and not at.error
    audit = frame(at, "by", "action", "note")
    assert audit[["by", "action", "to", "note"]].fillna("").values.tolist()[1:] == [
        ["li.wei", "submit", "submitted", "growth 4% plan"], ["hr.director", "approve", "approved", ""]]
    store = services(settings_from_env()).queue.store
    assert store.run(run_id).status == "approved" and store.run(run_id).user == "li.wei"
    assert not [text for text in texts(at.warning) if text.startswith("The payroll")]  # its cost is proven
    summary = with_unproven_cost(job.plan_dir, tmp_path / "unproven")  # as a large group's run would say
    (job.plan_dir / "summary.json").write_bytes((tmp_path / "unproven" / "summary.json").read_bytes())
    at.run()
    assert [text for text in texts(at.warning) if text.startswith("The payroll")] == unproven_sentences(summary)


def test_a_run_whose_folder_another_version_wrote_is_said_not_crashed_on(tmp_path: Path, monkeypatch) -> None:
    # A run in the store whose budget.csv predates red_circled_payroll: the results say why they cannot be shown.
    at = uploaded(page(tmp_path, monkeypatch), csv_files())
    at.button(key="run").click().run()
    [run_id] = at.session_state["my_runs"]
    job = services(settings_from_env()).queue.wait(run_id, 300)
    assert job.state == "finished"
    as_an_earlier_version_wrote(job.plan_dir)
    summary = job.plan_dir / "summary.json"
    os.utime(summary, (summary.stat().st_atime, summary.stat().st_mtime + 1))  # the page's cache key
    at.run()
    assert not at.exception
    assert texts(at.error) == [f"plan folder {job.plan_dir}: budget.csv: missing column(s) red_circled_payroll "
                               "(written by another version of wfplan, or edited: solve again to get a folder this "
                               "version reads)"]


@pytest.mark.slow
def test_a_missed_target_is_diagnosed_two_runs_compare_and_a_sweep_fills_in(tmp_path: Path, monkeypatch) -> None:
    at = uploaded(page(tmp_path, monkeypatch), csv_files())
    queue = services(settings_from_env()).queue
    at.button(key="run").click().run()
    at.number_input(key="ctl:mix.deadline").set_value(1).run()  # the band in year 1: out of reach
    at.button(key="run").click().run()
    for run_id in at.session_state["my_runs"]:
        assert queue.wait(run_id, 600).state == "finished"
    at.run()
    first, second = at.session_state["my_runs"]
    assert (queue.job(first).exit_code, queue.job(second).exit_code) == (0, 3)
    assert at.session_state["result_run"] == second
    assert "A target cannot be met: the closest plan is written, with the diagnosis below." in texts(at.warning)
    sentences = diagnosis_sentences(read_plan(queue.job(second).plan_dir).summary["diagnosis"])
    assert any(m.value == "\n".join(f"- {line}" for line in sentences) for m in at.markdown)
    assert sentences[0].startswith("In year 1 the ")
    assert at.session_state["compare_a"] == second and at.session_state["compare_b"] == first
    counts = {run_id: read_plan(queue.job(run_id).plan_dir).summary["counts"] for run_id in (first, second)}
    table = frame(at, "action", f"delta:{first}").set_index("action")
    for action, row in table.iterrows():
        assert (row[second], row[first]) == (counts[second].get(action, 0), counts[first].get(action, 0))
        assert row[f"delta:{first}"] == row[first] - row[second]
    people = frame(at, "employee_id", first, second)
    actions = {run_id: read_plan(queue.job(run_id).plan_dir).actions.set_index("employee_id")["action"]
               for run_id in (first, second)}
    differing = sorted(employee for employee, action in actions[first].items()
                       if action != "hire" and action != actions[second][employee])
    assert people["employee_id"].tolist() == differing
    at.number_input(key="ctl:mix.deadline").set_value(3).run()  # the sweep varies the current what-if
    at.selectbox(key="sweep_key").set_value("Budget growth per year (%)").run()
    at.text_input(key="sweep_values").set_value("3, 5").run()
    at.button(key="sweep_run").click().run()
    points = at.session_state["study"]["points"]
    assert [value for value, _ in points] == [3.0, 5.0]
    for _, run_id in points:
        assert queue.wait(run_id, 300).exit_code == 0
        assert queue.job(run_id).request.setting in ("budget.growth=0.03", "budget.growth=0.05")
    stored = queue.store.runs(kind="sweep_point", study=at.session_state["study"]["id"])
    assert sorted(info.id for info in stored) == sorted(run_id for _, run_id in points)
    at.selectbox(key="sweep_metric").set_value("budget use in the last year (%)").run()
    table = frame(at, "value", "y", "status")
    assert table["value"].tolist() == [3.0, 5.0]
    assert table["y"].iloc[0] > table["y"].iloc[1]  # the same plan uses more of a smaller cap


@pytest.mark.slow
def test_an_earlier_run_is_a_starting_point(tmp_path: Path, monkeypatch) -> None:
    at = uploaded(page(tmp_path, monkeypatch), csv_files())
    at.number_input(key="ctl:promotion.tier_rate").set_value(12.0).run()
    at.text_input(key="whatif_name").set_value("faster").run()
    at.button(key="run").click().run()
    [run_id] = at.session_state["my_runs"]
    services(settings_from_env()).queue.wait(run_id, 300)
    at.run()
    choice = next(option for option in at.selectbox(key="base_choice").options if run_id in option)
    at.selectbox(key="base_choice").set_value(choice).run()
    assert at.number_input(key="ctl:promotion.tier_rate").value == 12.0
    assert at.text_input(key="whatif_name").value == "faster"
    assert "Changes: none (the scenario as it is)" in texts(at.caption)
