"""Real plan folders hold exactly what the plan contract (optimizer/plan/contract.py) declares: the files of their
kind, each CSV with its declared columns in order, and only declared summary.json keys."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from models.scenario_files import load_scenario, scenario_path
from optimizer.pipeline import EXIT_OK, run_ladder_plan
from optimizer.plan.contract import GRADED, LADDER, PLAN_FILES, SUMMARY_KEYS, TABLES, Key, columns
from optimizer.plan.reader import read_plan, read_plan_table
from reports.plugins import write_html_report, write_workbook
from tests.builders import people, solve_group, unit


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    employees = people("U1", "operations", 12) + people("U2", "technical", 6) + people("U2", "management", 2)
    solved = solve_group(tmp_path_factory.mktemp("graded"), employees, [unit("U1"), unit("U2", 80.0)])
    assert solved.exit_code == EXIT_OK
    return _with_reports(solved.folder)


@pytest.fixture(scope="module")
def ladder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ladder") / "plan"
    assert run_ladder_plan(load_scenario(scenario_path("manpower_williams")), folder).exit_code == EXIT_OK
    return _with_reports(folder)


def _with_reports(folder: Path) -> Path:
    write_workbook(folder)
    write_html_report(folder)
    return folder


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def _undeclared(value: dict[str, Any], keys: tuple[Key, ...], prefix: str = "") -> list[str]:
    """Dotted paths of the keys of ``value`` that ``keys`` does not declare (nested where keys are declared)."""
    declared = {key.name: key for key in keys}
    found = []
    for name, item in value.items():
        if name not in declared:
            found.append(f"{prefix}{name}")
        elif declared[name].keys and isinstance(item, dict):
            found += _undeclared(item, declared[name].keys, f"{prefix}{name}.")
        elif declared[name].keys and isinstance(item, list):
            for entry in item:
                found += _undeclared(entry, declared[name].keys, f"{prefix}{name}[].")
    return found


@pytest.mark.parametrize(("fixture", "kind"), [("graded", GRADED), ("ladder", LADDER)])
def test_a_solved_plan_folder_holds_exactly_the_declared_files_and_columns(
    fixture: str, kind: str, request: pytest.FixtureRequest
) -> None:
    folder: Path = request.getfixturevalue(fixture)
    solved = [f.name for f in PLAN_FILES if kind in f.kinds and f.command == "solve"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(solved)
    for name, file in TABLES.items():
        if kind in file.kinds:
            assert _header(folder / file.name) == columns(name), file.name


@pytest.mark.parametrize("fixture", ["graded", "ladder"])
def test_every_summary_key_of_a_solved_plan_is_declared(fixture: str, request: pytest.FixtureRequest) -> None:
    plan = read_plan(request.getfixturevalue(fixture))
    assert _undeclared(plan.summary, SUMMARY_KEYS) == []


def test_the_reader_types_the_columns_as_declared(graded: Path) -> None:
    flows = read_plan_table(graded, "flows")
    assert str(flows["from_tier"].dtype) == "Int64" and flows["count"].dtype == float
    assert all(isinstance(kind, str) for kind in flows["kind"])
