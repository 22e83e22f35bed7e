"""Plans to a confidence level (``mix.confidence``, ``budget.confidence``; optimizer/simulate/confidence.py):
the margins are the hand-computed binomial ones, a confident plan keeps them, reaches its level on fresh
simulations and says what that costs against the expected-value plan."""

from __future__ import annotations

import math
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from builders import QUIET, people, solve_group, unit
from models.scenario import ScenarioError
from models.scenario_files import build_scenario, scenario_path
from optimizer.cli import main
from optimizer.simulate.confidence import confidence_sentences, margins, normal_quantile
from optimizer.simulate.engine import simulate
from optimizer.simulate.folder import load_plan_inputs
from optimizer.simulate.results import mix_met

EDGE = {
    **QUIET,
    "attrition": {"management": 0.0, "technical": 0.1, "operations": 0.05},
    "mix": {"target": {"management": 0.0, "technical": 0.3, "operations": 0.7}, "tolerance": 0.03, "deadline": 1},
    "mobility": {**QUIET["mobility"], "operations_to_technical": 0.3, "retraining_cost": 20000},
}
"""120 operations people (all may retrain) and 20 technical: the band asks technical ≥ 27 % after a year."""


def _edge_group() -> list[dict]:
    return people("U1", "operations", 120, eligible=True) + people("U1", "technical", 20)


def test_the_margin_is_the_binomial_standard_deviation_times_z(tmp_path: Path) -> None:
    """10 technical people leave at 20 %, 10 operations at 0 %: Var(N_tech) = 10·0.2·0.8 = 1.6, Var(N_ops) = 0, so
    the technical lower side (L = 0.40) has sd (1 − 0.4)·√1.6 and the operations upper side (U = 0.60) 0.6·√1.6."""
    base = {**QUIET, "attrition": {"management": 0.0, "technical": 0.2, "operations": 0.0},
            "mix": {"target": {"management": 0.0, "technical": 0.45, "operations": 0.55}, "tolerance": 0.05,
                    "deadline": 1}}
    solved = solve_group(tmp_path, people("U1", "technical", 10) + people("U1", "operations", 10), [unit("U1")],
                         base=base)
    inputs, _ = load_plan_inputs(solved.folder)
    z = normal_quantile(0.9)
    assert z == pytest.approx(1.2815515655, abs=1e-9)
    found = margins(inputs, z, 2.0)
    assert found.mix[("technical", 1, "lower")] == pytest.approx(z * 0.6 * math.sqrt(1.6))
    assert found.mix[("technical", 1, "upper")] == pytest.approx(z * 0.5 * math.sqrt(1.6))
    assert found.mix[("operations", 1, "upper")] == pytest.approx(z * 0.6 * math.sqrt(1.6))
    assert found.mix[("management", 1, "lower")] == pytest.approx(z * 0.05 * math.sqrt(1.6))  # L = −0.05: −L·N_tech
    # Payroll: each technical leaver takes pay(technical, 1, 1) = 60,000 with it: sd = 60,000·√1.6.
    assert found.budget[1] == pytest.approx(2.0 * 60_000 * math.sqrt(1.6))
    assert margins(inputs, None, None).mix == {} and margins(inputs, None, None).budget == {}


@pytest.fixture(scope="module")
def confident(tmp_path_factory: pytest.TempPathFactory):
    return solve_group(tmp_path_factory.mktemp("confident"), _edge_group(), [unit("U1")],
                       base={**EDGE, "mix": {**EDGE["mix"], "confidence": 0.9}})


@pytest.mark.slow
def test_a_confident_plan_reaches_its_level_where_the_expected_value_plan_does_not(confident, tmp_path: Path) -> None:
    expected = solve_group(tmp_path, _edge_group(), [unit("U1")], base=EDGE)
    assert expected.exit_code == 0 and confident.exit_code == 0
    found = confident.summary["confidence"]
    assert found["mix"]["level"] == 0.9 and found["budget"]["level"] is None
    assert found["check"] == {"reps": 10_000, "seed": 2} and found["rounds"] >= 1
    assert found["mix"]["achieved"] >= 0.9 and found["mix"]["met"] is True
    assert found["mix"]["expected_value_plan"] < 0.75
    # The confident plan retrains more people than the expected-value plan, and pays for it.
    assert confident.flow("sequence_move") > expected.flow("sequence_move")
    cost = found["cost"]
    assert cost["expected_value_plan"] == pytest.approx(expected.summary["objective"]["cost"], rel=1e-9)
    assert cost["plan"] == pytest.approx(confident.summary["objective"]["cost"], rel=1e-9)
    assert cost["difference"] == pytest.approx(cost["plan"] - cost["expected_value_plan"]) and cost["difference"] > 0
    # The written plan, simulated again from its folder on other numbers, holds as the summary says.
    inputs, _ = load_plan_inputs(confident.folder)
    again = float(mix_met(simulate(inputs, 10_000, seed=99), inputs).mean())
    assert abs(again - found["mix"]["achieved"]) < 5 * math.sqrt(0.1 * 0.9 / 10_000) * math.sqrt(2)
    expected_inputs, _ = load_plan_inputs(expected.folder)
    assert float(mix_met(simulate(expected_inputs, 10_000, seed=99), expected_inputs).mean()) == pytest.approx(
        found["mix"]["expected_value_plan"], abs=0.03)
    assert confident.summary["verification"]["ok"] and confident.summary["targets_met"]


@pytest.mark.slow
def test_the_terminal_and_both_reports_say_what_the_confidence_costs(confident) -> None:
    sentences = confidence_sentences(confident.summary["confidence"])
    assert sentences[0].startswith("Planned to 90% confidence: the plan meets every mix band in ")
    assert "the expected-value plan in" in sentences[0] and sentences[-1].startswith("The confidence costs ")
    runner = CliRunner()
    assert runner.invoke(main, ["simulate", str(confident.folder), "--reps", "500", "--workers", "1"]).exit_code == 0
    page = (confident.folder / "report.html").read_text(encoding="utf-8")
    assert 'id="confidence"' in page and "The confidence costs" in page and 'id="simulation"' in page
    book = openpyxl.load_workbook(confident.folder / "report.xlsx", read_only=True)
    assert "Simulation" in book.sheetnames
    cells = [row[0] for row in book["Summary"].iter_rows(values_only=True) if row and row[0]]
    assert "Confidence level and its cost" in cells and any(str(c).startswith("The confidence costs") for c in cells)


def test_a_confidence_level_must_lie_between_a_half_and_one() -> None:
    with pytest.raises(ScenarioError) as caught:
        build_scenario({"mix": {"confidence": 1.0}, "budget": {"confidence": 0.3}}, "test")
    text = str(caught.value)
    assert "mix.confidence" in text and "budget.confidence" in text
    assert build_scenario({}, "test").mix.confidence is None
    assert scenario_path("baseline").is_file()
