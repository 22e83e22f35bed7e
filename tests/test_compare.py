"""`wfplan compare`: exact deltas between two real tiny plans, and the people whose year-1 action differs."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer.cli import main
from optimizer.plan.folders import MARKER
from optimizer.whatif.compare import compare_runs
from tests.builders import solve_group, unit
from tests.test_formulation import MIX_100

pytestmark = pytest.mark.slow

EXACT = ["mix.tolerance=0", "mobility.operations_to_technical=0.2"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A reaches 25% technical (5 moves), B 30% (10 moves), from 80 qualified operations and 20 technical."""
    a = solve_group(tmp_path_factory.mktemp("a"), MIX_100, [unit("U1")],
                    [*EXACT, "mix.target.technical=0.25", "mix.target.operations=0.75"])
    b = solve_group(tmp_path_factory.mktemp("b"), MIX_100, [unit("U1")], EXACT)
    assert a.exit_code == b.exit_code == 0
    return a.folder, b.folder


def _row(table: pd.DataFrame, **where) -> pd.Series:
    for column, value in where.items():
        table = table[table[column] == value]
    assert len(table) == 1
    return table.iloc[0]


def test_deltas_by_hand(runs, tmp_path):
    renamed = [tmp_path / "A", tmp_path / "B"]
    for source, target in zip(runs, renamed, strict=True):
        target.symlink_to(source, target_is_directory=True)
    tables = compare_runs(renamed)

    technical = _row(tables["mix"], year=1, sequence="technical")
    assert (technical["A"], technical["B"], technical["delta:B"]) == pytest.approx((0.25, 0.30, 0.05))
    assert _row(tables["mix"], year=0, sequence="technical")["delta:B"] == 0
    # payroll: 75·50,000 + 25·60,000 = 5,250,000 vs 70·50,000 + 30·60,000 = 5,300,000; retraining 1,000 a move.
    budget = {item: _row(tables["budget"], year=1, item=item) for item in ("payroll", "retraining_cost", "one_off",
                                                                          "total", "cap")}
    payroll = budget["payroll"]
    assert (payroll["A"], payroll["B"], payroll["delta:B"]) == (5_250_000, 5_300_000, 50_000)
    assert (budget["retraining_cost"]["A"], budget["retraining_cost"]["delta:B"]) == (5_000, 5_000)
    assert budget["one_off"]["delta:B"] == 5_000 and budget["total"]["delta:B"] == 55_000
    assert (budget["cap"]["A"], budget["cap"]["delta:B"]) == (10_400_000, 0)

    actions = tables["actions"].set_index("action")
    assert actions.loc["sequence_move", ["A", "B", "delta:B"]].tolist() == [5, 10, 5]
    assert actions.loc["stay", ["A", "B", "delta:B"]].tolist() == [95, 90, -5]
    assert tables["units"][["unit_id", "A", "B", "delta:B"]].values.tolist() == [["U1", 0, 0, 0]]
    # Moves go by merit: the top 5 qualified operations staff in A, the top 10 in B.
    people = tables["people"]
    assert people["employee_id"].tolist() == [f"U1-O{i:04d}" for i in range(5, 10)]
    assert set(people["A"]) == {"stay"} and set(people["B"]) == {"sequence_move"}
    # Why: their position (U1 operations, tier 1 grade 1) keeps 75 → 70 people and retrains 5 → 10.
    assert set(people["why:B"]) == {"U1 operations T1G1: stay 75 → 70, sequence_move 5 → 10"}


def test_compare_command_prints_and_writes_the_tables(runs, tmp_path):
    out = tmp_path / "cmp"
    result = CliRunner().invoke(main, ["compare", *map(str, runs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "people whose year-1 action differs: 5" in result.output
    assert {p.name for p in out.iterdir()} == {"mix.csv", "budget.csv", "actions.csv", "units.csv", "people.csv", MARKER}
    assert len(pd.read_csv(out / "people.csv")) == 5


def test_compare_refuses_a_folder_without_plan_tables(runs, tmp_path):
    result = CliRunner().invoke(main, ["compare", str(runs[0]), str(tmp_path)])
    assert result.exit_code == 2 and "not a plan folder" in result.output
