"""The report writers registered under the ``wfplan.reports`` entry-point group (pyproject.toml): each takes a
plan folder, writes its report beside the files and returns the report's path. A plan of a scenario with its
own ladder (:func:`optimizer.verify.ladder.is_ladder_plan`) gets the reports of :mod:`reports.ladder`, any
other plan those of :mod:`reports.excel` and :mod:`reports.html`. This is the only module that chooses
between them, so the dependencies run one way: plugins → ladder → excel, html."""

from __future__ import annotations

from pathlib import Path

from optimizer.verify.ladder import is_ladder_plan
from reports.excel import write_graded_workbook
from reports.html import write_graded_report
from reports.ladder import write_ladder_report, write_ladder_workbook

__all__ = ["write_html_report", "write_workbook"]


def write_workbook(plan_dir: Path) -> Path:
    """Write ``plan_dir/report.xlsx`` (the ``excel`` writer) and return its path."""
    plan_dir = Path(plan_dir)
    return write_ladder_workbook(plan_dir) if is_ladder_plan(plan_dir) else write_graded_workbook(plan_dir)


def write_html_report(plan_dir: Path) -> Path:
    """Write ``plan_dir/report.html`` (the ``html`` writer) and return its path."""
    plan_dir = Path(plan_dir)
    return write_ladder_report(plan_dir) if is_ladder_plan(plan_dir) else write_graded_report(plan_dir)
