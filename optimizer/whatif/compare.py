"""Side-by-side comparison of plan folders: the first run is the reference, every other run gets a
``delta:<run>`` column (run − reference) beside its values.

Tables (each written as ``<name>.csv``):
- ``mix``: ``year, sequence`` → share;
- ``budget``: ``year, item`` → CNY, items payroll, hiring_cost, retraining_cost, redundancy_cost,
  one_off (their sum), total and cap, from the ``ALL`` rows of budget.csv;
- ``actions``: ``action`` → year-1 count (0 where a run has none);
- ``units``: ``unit_id`` → headcount change from year 0 to the last year every run has;
- ``people``: roster employees whose year-1 action differs, ``employee_id`` → action in each run (empty
  where a run's roster lacks the person) and why (``why:<run>``: the year-1 counts of the person's position
  that changed against the reference); planned hires are compared by count in ``actions`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from pathlib import Path

import pandas as pd

from models.scenario import SEQUENCES
from optimizer.plan.folders import staged_folder
from optimizer.plan.output import write_csv
from optimizer.plan.reader import read_plan_table

COST_ITEMS = ("payroll", "hiring_cost", "retraining_cost", "redundancy_cost")
ONE_OFF = ("hiring_cost", "retraining_cost", "redundancy_cost")
BUDGET_ITEMS = (*COST_ITEMS, "one_off", "total", "cap")
PLAN_FILES = ("mix", "budget", "actions", "headcount")
"""The plan tables compare reads (:mod:`optimizer.plan.contract`)."""


@dataclass(frozen=True)
class Run:
    """A plan folder's tables, under the label its columns get."""

    label: str
    mix: pd.DataFrame
    budget: pd.DataFrame
    actions: pd.DataFrame
    headcount: pd.DataFrame


def distinct_labels(names: list[str]) -> list[str]:
    """``names`` as column labels: a name met again gets its position, ``baseline (2)``."""
    return [name if names.index(name) == i else f"{name} ({i + 1})" for i, name in enumerate(names)]


def load_run(folder: Path, label: str) -> Run:
    """Read the plan tables compare needs; ValueError when the folder holds no plan (e.g. exit 4)."""
    missing = [f"{name}.csv" for name in PLAN_FILES if not (folder / f"{name}.csv").exists()]
    if missing:
        raise ValueError(f"{folder} is not a plan folder with tables (missing {', '.join(missing)})")
    frames = {name: read_plan_table(folder, name) for name in PLAN_FILES}
    return Run(label, **frames)


def _joined(values: dict[str, pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    """Frames of ``keys + [value]`` per run label → ``keys, <label>...`` (outer join on the keys)."""
    renamed = [frame.set_axis([*keys, label], axis=1) for label, frame in values.items()]
    return reduce(lambda left, right: left.merge(right, on=keys, how="outer"), renamed)


def side_by_side(values: dict[str, pd.DataFrame], keys: list[str], fill: float | None = None) -> pd.DataFrame:
    """Frames of ``keys + [value]`` per run label → ``keys, <label>..., delta:<label>...``, sorted by the keys;
    ``fill`` replaces a value a run lacks."""
    table = _joined(values, keys)
    labels = list(values)
    if fill is not None:
        table[labels] = table[labels].fillna(fill)
    for label in labels[1:]:
        table[f"delta:{label}"] = table[label] - table[labels[0]]
    return table.sort_values(keys, kind="stable").reset_index(drop=True)


def _in_order(table: pd.DataFrame, column: str, order: tuple[str, ...]) -> pd.DataFrame:
    """``table`` sorted by year, then ``column`` in ``order`` (values not listed last)."""
    rank = {value: i for i, value in enumerate(order)}
    return table.sort_values(["year", column], key=lambda c: c.map(rank) if c.name == column else c,
                             kind="stable").reset_index(drop=True)


def compare_mix(runs: list[Run]) -> pd.DataFrame:
    """Share by year and sequence."""
    table = side_by_side({r.label: r.mix[["year", "sequence", "share"]] for r in runs}, ["year", "sequence"])
    return _in_order(table, "sequence", SEQUENCES)


def compare_budget(runs: list[Run]) -> pd.DataFrame:
    """Group totals by year and item (BUDGET_ITEMS)."""
    def items(run: Run) -> pd.DataFrame:
        org = run.budget[run.budget["unit_id"] == "ALL"].assign(
            one_off=lambda b: b[list(ONE_OFF)].sum(axis=1))
        return org.melt(id_vars="year", value_vars=list(BUDGET_ITEMS), var_name="item")

    return _in_order(side_by_side({r.label: items(r) for r in runs}, ["year", "item"]), "item", BUDGET_ITEMS)


def compare_actions(runs: list[Run]) -> pd.DataFrame:
    """Year-1 count by action."""
    counts = {r.label: r.actions["action"].value_counts().rename_axis("action").reset_index() for r in runs}
    return side_by_side(counts, ["action"], fill=0)


def compare_units(runs: list[Run]) -> pd.DataFrame:
    """Headcount change per unit from year 0 to the last year every run has."""
    last = min(int(r.headcount["year"].max()) for r in runs)

    def change(run: Run) -> pd.DataFrame:
        by_year = run.headcount.pivot_table(index="unit_id", columns="year", values="headcount", aggfunc="sum",
                                            fill_value=0.0)
        return (by_year[last] - by_year[0]).rename("change").reset_index()

    return side_by_side({r.label: change(r) for r in runs}, ["unit_id"], fill=0.0)


POSITION = ["from_unit", "from_sequence", "from_tier", "from_grade"]
"""A person's position in the roster: the state the year-1 actions are counted from."""


def _position_counts(run: Run) -> dict[tuple, int]:
    """(from_unit, from_sequence, from_tier, from_grade, action) → year-1 people, hires left out."""
    acted = run.actions[run.actions["action"] != "hire"]
    return {key: int(n) for key, n in acted.groupby([*POSITION, "action"]).size().items()}


def _why(position: tuple, actions: list[str], reference: dict[tuple, int], other: dict[tuple, int]) -> str:
    """``U1 technical T3G2: stay 10 → 11, grade_step 5 → 4``: the position's counts of the actions the person
    had in the two runs, reference → other; people are named by merit within a count, so a changed count is
    what moved them."""
    unit, sequence, tier, grade = position
    counts = [f"{action} {reference.get((*position, action), 0)} → {other.get((*position, action), 0)}"
              for action in dict.fromkeys(a for a in actions if a)]
    return f"{unit} {sequence} T{int(tier)}G{int(grade)}: " + ", ".join(counts)


def differing_people(runs: list[Run]) -> pd.DataFrame:
    """Roster employees whose year-1 action is not the same in every run: ``employee_id``, the action in each
    run, and for every run after the first ``why:<label>``, the year-1 counts of the person's position
    (:data:`POSITION`) that changed against the first run (:func:`_why`)."""
    actions = {r.label: r.actions.loc[r.actions["action"] != "hire", ["employee_id", "action"]] for r in runs}
    table = _joined(actions, ["employee_id"]).fillna("")
    differs = table[list(actions)].nunique(axis=1) > 1
    table = table[differs].sort_values("employee_id").reset_index(drop=True)
    roster = pd.concat([r.actions[["employee_id", *POSITION]] for r in runs]).drop_duplicates("employee_id")
    positions = table[["employee_id"]].merge(roster, on="employee_id", how="left")[POSITION]
    counts = [_position_counts(run) for run in runs]
    first = runs[0].label
    for run, other in zip(runs[1:], counts[1:]):
        table[f"why:{run.label}"] = [
            _why(tuple(position), [row[first], row[run.label]], counts[0], other)
            for position, (_, row) in zip(positions.itertuples(index=False), table.iterrows())
        ]
    return table


TABLES = {"mix": compare_mix, "budget": compare_budget, "actions": compare_actions, "units": compare_units,
          "people": differing_people}


def compare_runs(folders: list[Path], labels: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Every comparison table of the plan folders (the first is the reference); the runs' columns are named
    ``labels`` (distinct, one per folder; default: the folder names, :func:`distinct_labels`)."""
    if len(folders) < 2:
        raise ValueError("compare needs at least two plan folders")
    labels = distinct_labels([folder.name for folder in folders]) if labels is None else labels
    if len(labels) != len(folders) or len(set(labels)) != len(labels):
        raise ValueError(f"compare needs one distinct label per plan folder, got {labels}")
    runs = [load_run(folder, label) for folder, label in zip(folders, labels, strict=True)]
    return {name: build(runs) for name, build in TABLES.items()}


def write_comparison(tables: dict[str, pd.DataFrame], out_dir: Path) -> list[Path]:
    """``out_dir/<table>.csv`` for every table (a folder of kind ``comparison``:
    :func:`optimizer.plan.folders.staged_folder`); returns the paths."""
    with staged_folder(out_dir, "comparison") as folder:
        for name, frame in tables.items():
            write_csv(frame, folder / f"{name}.csv")
    return [out_dir / f"{name}.csv" for name in tables]


def _aliases(labels: list[str]) -> dict[str, str]:
    """Run label → A, B, C…; ``delta:<label>`` → ``B-A``… (terminal columns stay narrow)."""
    letters = [chr(ord("A") + i) if i < 26 else f"R{i + 1}" for i in range(len(labels))]
    names = dict(zip(labels, letters, strict=True))
    pairs = zip(labels[1:], letters[1:], strict=True)
    names.update({f"delta:{label}": f"{letter}-A" for label, letter in pairs})
    return names


def _shown(frame: pd.DataFrame, aliases: dict[str, str], number: str) -> str:
    """``frame`` as text with run columns renamed by ``aliases`` and floats formatted with ``number``."""
    text = frame.rename(columns=aliases)
    for column in text.columns:
        if pd.api.types.is_float_dtype(text[column]):
            text[column] = text[column].map(lambda v: "" if pd.isna(v) else number.format(v))
    return text.to_string(index=False)


def render(tables: dict[str, pd.DataFrame], limit: int = 10) -> str:
    """Compact terminal view: runs as A, B, …; mix in % points; budget of the plan years in CNY; the units
    that differ most and the first people whose action differs (``limit`` of each; the files have all)."""
    mix = tables["mix"]
    labels = [c for c in mix.columns if c not in ("year", "sequence") and not c.startswith("delta:")]
    aliases = _aliases(labels)
    runs = [c for c in mix.columns if c not in ("year", "sequence")]
    budget = tables["budget"]
    budget = budget[(budget["year"] >= 1) & budget["item"].isin(["payroll", "one_off", "total", "cap"])]
    units = tables["units"]
    deltas = [c for c in units.columns if c.startswith("delta:")]
    moved = units[(units[deltas].abs() > 1e-9).any(axis=1)]
    moved = moved.loc[moved[deltas].abs().max(axis=1).sort_values(ascending=False).index]
    people = tables["people"]
    parts = [
        *(f"{alias} = {label}" for label, alias in aliases.items() if label in labels),
        "", "mix (share, %):", _shown(mix.assign(**{c: mix[c] * 100 for c in runs}), aliases, "{:.2f}"),
        "", "budget (CNY):", _shown(budget, aliases, "{:,.0f}"),
        "", "year-1 actions:", _shown(tables["actions"], aliases, "{:,.0f}"),
        "", f"headcount change per unit, year 0 to the last common year: {len(moved)} of {len(units)} units differ",
        _shown(moved.head(limit), aliases, "{:,.2f}") if len(moved) else "",
        "", f"people whose year-1 action differs: {len(people)}",
        people.head(limit).rename(columns=aliases).to_string(index=False) if len(people) else "",
    ]
    return "\n".join(parts).rstrip()
