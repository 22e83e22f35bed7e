"""Data dictionary of the input tables (``employees``, ``units``, ``pay``): the one place that defines them.

Loading (:mod:`models.io`), validation (:mod:`models.validation`) and the user documentation
(``docs/data.md``, produced by :func:`render_markdown`) all read these definitions.
Regenerate the documentation with ``python -m models.tables > docs/data.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from models.pay import GRADES
from models.scenario import MAX_TIER, SEQUENCES

ColumnType = Literal["string", "integer", "number", "boolean"]

TRUE_WORDS: tuple[str, ...] = ("true", "1", "yes")
FALSE_WORDS: tuple[str, ...] = ("false", "0", "no")


@dataclass(frozen=True)
class Column:
    """One column of an input table.

    A required column must be present and non-blank in every row. An optional column may be absent;
    a blank cell (or an absent column) takes ``default``, or stays empty when ``default`` is None.
    """

    name: str
    type: ColumnType
    description: str
    unit: str = ""
    required: bool = True
    default: str | int | float | bool | None = None
    minimum: float | None = None
    """Lowest valid value of a number or integer column (required for those types)."""
    maximum: float | None = None
    """Highest valid value of a number or integer column (required for those types): every number has a
    sane, documented domain, so an absurd cell (``1e300``) is reported instead of accepted or overflowing."""
    allowed: tuple[str, ...] = ()
    references: str | None = None
    """``"table.column"`` whose values this column must take (a foreign key)."""

    def __post_init__(self) -> None:
        if self.type in ("integer", "number") and (self.minimum is None or self.maximum is None):
            raise ValueError(f"column {self.name}: a {self.type} column needs a minimum and a maximum")


@dataclass(frozen=True)
class Table:
    """One input table: its columns and the columns that identify a row (unique together)."""

    name: str
    description: str
    key: tuple[str, ...]
    row_noun: str
    """What one row is, in words (``employee``): messages count rows as ``4 employees``."""
    columns: tuple[Column, ...]
    rules: tuple[str, ...] = ()
    """Rules across columns or tables, in words (each is checked in :mod:`models.validation`)."""

    @property
    def key_label(self) -> str:
        """How a row's key is named in messages: ``employee_id`` or ``sequence/tier/grade``."""
        return "/".join(self.key)


MAX_SALARY = 100_000_000
"""Highest annual pay, in CNY, a salary column accepts."""
MAX_YEARS_IN_GRADE = 60
MAX_HEADCOUNT = 10_000_000
MAX_REVIEW_AGE = 50
"""Oldest last review a units table may give, in years before the plan's start."""


def _score(name: str, what: str) -> Column:
    """A unit grading criterion, scored 0..100."""
    return Column(name, "number", f"Score for {what}.", unit="points 0–100", minimum=0, maximum=100)


EMPLOYEES = Table(
    name="employees",
    description="The roster: one row per employee, in the state they hold today.",
    key=("employee_id",),
    row_noun="employee",
    columns=(
        Column("employee_id", "string", "Unique identifier of the employee."),
        Column("unit_id", "string", "Unit (subsidiary) the employee works in.", references="units.unit_id"),
        Column("sequence", "string", "Career sequence.", allowed=SEQUENCES),
        Column("tier", "integer", "Tier (role level) within the sequence.", minimum=1, maximum=MAX_TIER),
        Column("grade", "integer", "Salary grade within the tier.", minimum=min(GRADES), maximum=max(GRADES)),
        Column("performance", "number", "Latest performance score; ranks people for promotion.",
               unit="points 0–100", minimum=0, maximum=100),
        Column("years_in_grade", "number", "Years spent in the current grade.", unit="years", minimum=0,
               maximum=MAX_YEARS_IN_GRADE),
        Column("salary", "number", "Actual current pay: year-0 payroll is Σ salary, the budget cap grows from it "
               "and pay after an action follows the pay rule of docs/decisions.md; blank: the pay table's pay.",
               unit="CNY/year", required=False, minimum=0, maximum=MAX_SALARY),
        Column("technical_eligible", "boolean", "Qualified to move to the technical sequence after retraining.",
               required=False, default=False),
        Column("name", "string", "Employee's name, shown in reports.", required=False, default=""),
    ),
    rules=(
        "tier ≤ the ladder length of the employee's sequence: the highest tier the pay table lists for it.",
        "Every (sequence, tier, grade) held by an employee has a base salary in the pay table.",
    ),
)

UNITS = Table(
    name="units",
    description="The units (subsidiaries), with the four criteria that grade them.",
    key=("unit_id",),
    row_noun="unit",
    columns=(
        Column("unit_id", "string", "Unique identifier of the unit."),
        Column("name", "string", "Name of the unit."),
        _score("strategic", "strategic positioning"),
        _score("efficiency", "operational efficiency"),
        _score("governance", "governance"),
        _score("innovation", "innovation"),
        Column("grade", "string", "Fixed unit grade (a band name of the scenario's unit_grading, e.g. A); "
               "blank means the grade is computed from the scores.", required=False, default=""),
        Column("last_review", "integer", "Plan year of the unit's last grade review (0: the plan's start, -1 a "
               "year before, ...); the next reviews fall every unit_grading.review_cycle years after it, and a "
               "fixed grade holds until the first of them.", unit="plan year", required=False, default=0,
               minimum=-MAX_REVIEW_AGE, maximum=0),
        Column("min_headcount", "integer", "Lowest headcount the unit may have; blank means no bound.",
               unit="people", required=False, minimum=0, maximum=MAX_HEADCOUNT),
        Column("max_headcount", "integer", "Highest headcount the unit may have; blank means no bound.",
               unit="people", required=False, minimum=0, maximum=MAX_HEADCOUNT),
        Column("min_operations", "integer", "Workload floor: lowest operations headcount the unit may have in any "
               "plan year; blank means no floor.", unit="people", required=False, minimum=0, maximum=MAX_HEADCOUNT),
        Column("budget_cap", "number", "Yearly cap on the unit's payroll + one-off costs in every plan year "
               "(replaces the scenario's budget.unit_growth for this unit); blank means none.", unit="CNY/year",
               required=False, minimum=0, maximum=MAX_SALARY * MAX_HEADCOUNT),
    ),
    rules=("min_headcount ≤ max_headcount where both are given.",),
)

PAY = Table(
    name="pay",
    description="Base salary of every state (sequence, tier, grade); the highest tier listed for a "
    "sequence is the length of its ladder.",
    key=("sequence", "tier", "grade"),
    row_noun="pay row",
    columns=(
        Column("sequence", "string", "Career sequence.", allowed=SEQUENCES),
        Column("tier", "integer", "Tier within the sequence.", minimum=1, maximum=MAX_TIER),
        Column("grade", "integer", "Salary grade within the tier.", minimum=min(GRADES), maximum=max(GRADES)),
        Column("base_salary", "number", "Annual base salary before the unit's pay coefficient.",
               unit="CNY/year", minimum=1, maximum=MAX_SALARY),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (EMPLOYEES, UNITS, PAY)}


def bound_text(value: float) -> str:
    """A bound as people write it: 100 (not 100.0), 100,000,000 (not 1e+08), 0.5."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


def expectation(column: Column) -> str:
    """What a valid cell of ``column`` looks like, in words (used by messages and the docs)."""
    if column.allowed:
        return "one of " + ", ".join(column.allowed)
    if column.type == "boolean":
        return "true/false, 1/0 or yes/no"
    if column.type == "string":
        return f"a non-empty {column.name}" if column.required else "any text"
    noun = "an integer" if column.type == "integer" else "a number"
    return f"{noun} in {bound_text(column.minimum)}..{bound_text(column.maximum)}"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


def _default(column: Column) -> str:
    """The 'required / default' cell of the docs."""
    if column.required:
        return "required"
    if column.default is None or column.default == "":
        return "optional (blank if absent)"
    return f"optional (default {str(column.default).lower()})"


def _allowed(column: Column) -> str:
    """The 'allowed values' cell of the docs."""
    text = expectation(column)
    if column.references:
        text += f", listed in {column.references}"
    return text


def _table_markdown(table: Table) -> list[str]:
    """One table's section of the docs, as lines."""
    lines = [f"## `{table.name}`", "", table.description, "", f"Key (unique, non-empty): `{table.key_label}`.", ""]
    lines += ["| column | type | unit | required / default | allowed values | description |", "| --- " * 6 + "|"]
    for c in table.columns:
        cells = (f"`{c.name}`", c.type, c.unit, _default(c), _allowed(c), c.description)
        lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    if table.rules:
        lines += ["", "Rules:", ""] + [f"- {rule}" for rule in table.rules]
    return lines + [""]


INTRO = """# Input tables

<!-- Generated by `python -m models.tables > docs/data.md` from models/tables.py; do not edit by hand. -->

The input is a folder holding `employees`, `units` and `pay` as CSV (`employees.csv`, ...) or Parquet
(`employees.parquet`, ...) files, or one `.xlsx` workbook with sheets of those names (given directly,
or as the only workbook in the folder).

- CSV files are UTF-8 (a byte-order mark is accepted); the first line is the header.
- Column names must match exactly; other columns are ignored, and so are blank rows.
- Spaces around a value are removed when the file is read, in every column, ids and codes included
  (tabs, non-breaking and full-width spaces too): `E0000001 ` is the employee `E0000001`, and the
  validated tables hold the values without them.
- Every number has a range (the "allowed values" column): a value outside it, however written
  (`1e20`, `1e-300`), is reported as out of range.
- Booleans are written true/false, 1/0 or yes/no (any case).
- Every problem is reported at once, each with its file, row (the header is row 1, so the first data
  row is row 2, in CSV, Parquet and XLSX alike), the row's key, the column, the value as written and
  what was expected. `wfplan validate DATA_DIR` lists them without solving.
"""


def render_markdown() -> str:
    """The data dictionary as Markdown: the content of ``docs/data.md``."""
    lines = [INTRO]
    for table in TABLES.values():
        lines += _table_markdown(table)
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_markdown(), end="")
