"""`wfplan frontier`: each goal's optimum on a hand-solvable group; frontier points non-dominated, monotone."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from click.testing import CliRunner

from models.scenario_files import build_scenario
from optimizer.cli import main
from optimizer.distributed.base import Where
from optimizer.distributed.shipping import FolderCopy
from optimizer.whatif.frontier import (
    FrontierInputs,
    evaluate_point,
    frontier_table,
    least_cost,
    most_resource,
    non_dominated,
    run_frontier,
    x_values,
)
from tests.builders import QUIET, unit, write_group
from tests.test_formulation import MIX_100

# MIX_100: 80 qualified operations (pay 50,000) and 20 technical (60,000); payroll(0) = 5,200,000.
# A move costs 10,000 more pay and 1,000 retraining: growth g allows floor(5,200,000·g / 11,000) moves, and
# the 0.3 rate cap allows 24 (80 · 0.3).
SHARE = {**QUIET, "mobility": {**QUIET["mobility"], "operations_to_technical": 0.3}}


@pytest.fixture
def data(tmp_path):
    return write_group(tmp_path / "data", MIX_100, [unit("U1")])


def test_non_dominated_keeps_points_no_other_point_beats_on_both_axes():
    x = [0.0, 0.01, 0.02, 0.03, 0.04]
    assert non_dominated(x, [0.2, 0.25, 0.25, None, 0.3], y_sense="max") == [True, True, False, False, True]
    assert non_dominated(x, [5, 4, 4, 3, 3], y_sense="min") == [True, True, False, True, False]
    assert non_dominated(x, [5, 4, 3, 2, 1], y_sense="min", x_sense="max") == [False, False, False, False, True]
    assert non_dominated(x, [1, 2, 3, 4, 5], y_sense="min", x_sense="max") == [True] * 5  # a pure trade-off


def test_x_values_span_twice_the_current_value_or_the_given_range():
    assert x_values(0.05, 3, None) == ["0", "0.05", "0.1"]
    assert x_values(3, 4, (1, 6)) == ["1", "3", "4", "6"]
    with pytest.raises(ValueError, match="--range"):
        x_values(0.0, 3, None)


@pytest.mark.slow
def test_technical_share_frontier_against_budget_growth(data, tmp_path):
    scenario = build_scenario(json.loads(json.dumps(SHARE)), "test")
    xs = ["0", "0.01", "0.02", "0.05", "0.1", "0.15", "-2"]
    table = run_frontier(scenario, "budget.growth", "technical_share", xs, data, tmp_path / "out",
                         Where(workers=2))
    assert table["budget.growth"].tolist() == [-2, 0, 0.01, 0.02, 0.05, 0.1, 0.15]  # sorted by x
    solved = table.dropna(subset=["technical_share"])
    # moves = min(24, floor(5.2M·g / 11k)) → share (20 + moves) / 100
    assert solved["budget.growth"].tolist() == [0, 0.01, 0.02, 0.05, 0.1, 0.15]
    assert solved["technical_share"].tolist() == pytest.approx([0.20, 0.24, 0.29, 0.43, 0.44, 0.44])
    assert solved["technical_share"].is_monotonic_increasing  # more budget never lowers the best share
    assert solved["frontier"].tolist() == [True, True, True, True, True, False]  # 0.15 buys nothing over 0.1
    failed = table[table["technical_share"].isna()]
    assert failed["budget.growth"].tolist() == [-2] and failed["status"].tolist() == ["bad_input"]
    assert not failed["frontier"].any()
    written = pd.read_csv(tmp_path / "out" / "frontier.csv")
    assert len(written) == 7 and written["frontier"].sum() == 5
    html = (tmp_path / "out" / "frontier.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc=", html) and len(html) > 1_000_000  # plotly.js inline, no CDN
    assert "non-dominated" in html


@pytest.mark.slow
def test_earliest_deadline_frontier_against_the_retraining_rate(data):
    # 10 moves reach 30% technical exactly. Rate r allows floor(80r) moves in year 1 (whole people), then r of
    # the operations stock left each year: r = 0.15 → 12 in year 1; 0.1 → 8, 15.2 (year 2); 0.05 → 4, 7.8,
    # 11.4 (year 3); 0.02 → 1, 2.58, 4.13, 5.65, 7.13, 8.59, 10.02 (year 7: the horizon is extended);
    # 0.01 → 0, 0.8, ... 5.5 by year 8 = horizon + 5, the last year searched.
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "test", ["horizon=3", "mix.tolerance=0"])
    key = "mobility.operations_to_technical"
    inputs = FrontierInputs(key, "deadline", scenario.to_raw(), "test", FolderCopy.of(data, by_value=False))
    rows = [evaluate_point(inputs, x) for x in ("0.01", "0.02", "0.05", "0.1", "0.15", "0.2")]
    table = frontier_table(rows, key, "deadline", x_sense="min")
    assert table["deadline"].tolist()[1:] == [7, 3, 2, 1, 1] and pd.isna(table["deadline"][0])
    assert table["status"].tolist() == ["target_missed"] + ["optimal"] * 5
    assert table["frontier"].tolist() == [False, True, True, True, True, False]


def test_least_cost_meets_every_target_at_the_lowest_cost(data):
    scenario = build_scenario(json.loads(json.dumps(SHARE)), "test", ["mix.tolerance=0"])
    # 10 moves: 70·50,000 + 30·60,000 + 10·1,000.
    assert least_cost(scenario, data).value == pytest.approx(5_310_000)
    tight = build_scenario(json.loads(json.dumps(SHARE)), "test", ["mix.tolerance=0", "budget.growth=0.01"])
    assert least_cost(tight, data).value is None  # 10 moves cost 110,000 > 52,000 of growth


def test_a_cost_frontier_solves_the_most_resource_first_and_reuses_its_plan_where_it_holds(data, tmp_path):
    # 10 moves (cost 5,310,000) need 110,000 of growth on a payroll of 5,200,000: g ≥ 0.0212. g = 0.1 is solved
    # first; its plan keeps the caps of 0.05 and 0.03 (taken without a solve), not 0.01 (solved: no plan meets
    # every target there); a smaller g only tightens the budget rows, so the reused points are proven optimal
    scenario = build_scenario(json.loads(json.dumps(SHARE)), "test", ["mix.tolerance=0"])
    table = run_frontier(scenario, "budget.growth", "cost", ["0.01", "0.03", "0.05", "0.1"], data, tmp_path / "out",
                         Where(workers=2))
    assert table["budget.growth"].tolist() == [0.01, 0.03, 0.05, 0.1]
    assert table["cost"].tolist()[1:] == pytest.approx([5_310_000] * 3) and pd.isna(table["cost"][0])
    assert (table["solves"] == 0).tolist() == [False, True, True, False]
    assert table["status"].tolist() == ["target_missed", "optimal", "optimal", "optimal"]
    assert "reference" not in pd.read_csv(tmp_path / "out" / "frontier.csv").columns
    assert most_resource(["0.01", "0.1", "x"], "min") == "0.1" and most_resource(["0.01", "0.1"], "max") == "0.01"


@pytest.mark.slow
def test_frontier_command_writes_table_and_chart(data, tmp_path):
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(json.dumps(SHARE), encoding="utf-8")
    out = tmp_path / "cli"
    result = CliRunner().invoke(main, ["frontier", str(scenario), "--x", "budget.growth", "--y", "technical_share",
                                       "--points", "3", "--range", "0:0.02", "--data", str(data), "--out", str(out),
                                       "--workers", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out / "frontier.csv")["technical_share"].tolist() == pytest.approx([0.20, 0.24, 0.29])
    assert (out / "frontier.html").exists()
