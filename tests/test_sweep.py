"""`wfplan sweep`: grid parsing, one row per grid point (failures included), plan folders, crash isolation."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer.cli import main
from optimizer.whatif.sweep import Grid, grid_points, parse_grid, parse_grids, sweep_figure
from tests.builders import QUIET, unit, write_group
from tests.test_formulation import MIX_100

# MIX_100 (80 qualified operations, 20 technical, pay 50k/60k) must reach exactly 30% technical: 10 moves.
REACH_30_EXACTLY = {**QUIET, "mix": {**QUIET["mix"], "tolerance": 0.0},
                    "mobility": {**QUIET["mobility"], "operations_to_technical": 0.2}}


def test_grid_lists_and_inclusive_decimal_ranges():
    assert parse_grid("budget.growth=0.01:0.05:0.01") == Grid("budget.growth", ("0.01", "0.02", "0.03", "0.04", "0.05"))
    assert parse_grid("horizon=1:3:1").values == ("1", "2", "3")
    assert parse_grid("horizon=1e1:20:5").values == ("10", "15", "20")
    assert parse_grid("solver.backend = highs, cbc") == Grid("solver.backend", ("highs", "cbc"))
    points = grid_points(parse_grids(["horizon=1,2", "mix.deadline=1,2"]))
    assert [p.settings for p in points] == [
        (("horizon", "1"), ("mix.deadline", "1")), (("horizon", "1"), ("mix.deadline", "2")),
        (("horizon", "2"), ("mix.deadline", "1")), (("horizon", "2"), ("mix.deadline", "2")),
    ]
    assert points[1].folder_name(2) == "02-horizon=1_mix.deadline=2"


@pytest.mark.parametrize("text", ["horizon", "horizon=", "budget.growth=0.05:0.01:0.01", "horizon=1,,2",
                                  "budget.growth=a:b:c", "budget.growth=0:inf:1"])
def test_malformed_grids_are_refused(text):
    with pytest.raises(ValueError):
        parse_grid(text)


def test_a_key_gridded_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        parse_grids(["horizon=1,2", "horizon=3"])


@pytest.mark.slow
def test_sweep_writes_one_row_per_point_in_grid_order_failed_point_included(tmp_path):
    data = write_group(tmp_path / "data", MIX_100, [unit("U1")])
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(json.dumps(REACH_30_EXACTLY), encoding="utf-8")
    out = tmp_path / "sweep"
    # horizon 1 with deadline 2 is invalid (the deadline is beyond the horizon): the one failing point.
    result = CliRunner().invoke(main, ["sweep", str(scenario), "--grid", "horizon=1,2", "--grid", "mix.deadline=1,2",
                                       "--data", str(data), "--out", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "[4/4, 1 failed]" in result.output
    table = pd.read_csv(out / "sweep.csv")
    assert pd.read_parquet(out / "sweep.parquet").shape == table.shape
    assert table["point"].tolist() == [1, 2, 3, 4]
    assert table[["horizon", "mix.deadline"]].values.tolist() == [[1, 1], [1, 2], [2, 1], [2, 2]]
    assert table["exit_code"].tolist() == [0, 2, 0, 0]
    assert table["status"][1] == "bad_input" and "mix.deadline 2 is beyond the horizon 1" in table["error"][1]
    ok = table.drop(index=1)
    assert table["error"].drop(index=1).isna().all()
    for run in ok["run"]:
        assert {"summary.json", "actions.csv", "mix.csv"} <= {p.name for p in (out / run).iterdir()}
    assert not (out / table["run"][1]).exists()
    # 10 of the 80 qualified operations staff move, in year 1 unless the band is only due in year 2.
    assert ok["count.sequence_move"].tolist() == [10, 10, 0]
    assert ok["count.stay"].tolist() == [90, 90, 100]
    assert ok["share.technical.y1"].tolist() == pytest.approx([0.3, 0.3, 0.2])
    assert ok["share.technical.y2"].iloc[1:].tolist() == pytest.approx([0.3, 0.3])
    assert ok["objective.mix"].tolist() == [0, 0, 0]
    # Year 1 after 10 moves: 70·50,000 + 30·60,000 + 10·1,000 retraining = 5,310,000 of a 10,400,000 cap.
    assert ok["budget_use.y1"].iloc[0] == pytest.approx(5_310_000 / 10_400_000)
    assert ok["objective.cost"].iloc[0] == pytest.approx(5_310_000)
    page = (out / "sweep.html").read_text(encoding="utf-8")
    assert page.count("</tr>") == 1 + 4  # header and one row per point, the failed one included
    assert 'id="chart-sweep"' in page and "Sweep over horizon, mix.deadline" in page
    assert "mix.deadline 2 is beyond the horizon 1" in page
    figure = sweep_figure(table, parse_grids(["horizon=1,2", "mix.deadline=1,2"]))
    assert [trace.name for trace in figure.data[::4]] == ["mix.deadline=1", "mix.deadline=2"]  # 4 panels a line
    cost = {trace.name: list(trace.y) for trace in figure.data[::4]}
    assert cost["mix.deadline=1"] == pytest.approx([5.31, table["objective.cost"][2] / 1e6])
    assert pd.isna(cost["mix.deadline=2"][0])  # the failed point is a gap
