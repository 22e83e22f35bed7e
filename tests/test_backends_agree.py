"""One model, four solvers, one optimum: the same scenarios through the whole pipeline on every backend."""

from __future__ import annotations

import pytest

from models.io import write_tables
from models.synthetic import generate_tables
from models.scenario_files import load_scenario, scenario_path
from optimizer.pipeline import run_plan
from tests.builders import people, solve_group, unit
from tests.test_formulation import MIX_100, REACH_30

pytestmark = pytest.mark.slow

BACKENDS = ["highs", "cbc", "scip", "cpsat"]
TERMS = ("mix", "cost", "disruption")
# CBC reports values with 8 significant digits; CP-SAT solves continuous variables on a fine grid.
RELATIVE = 1e-5

TINY = {
    "reach the mix with moves and hires": (
        MIX_100, [unit("U1")],
        [*REACH_30, "hiring.enabled=true", "hiring.max_rate.technical=0.5", "hiring.cost.technical=50000",
         "hiring.entry_tiers={technical: [1]}"],
    ),
    "mix out of reach": (MIX_100, [unit("U1")], REACH_30),
    "two years of attrition and grade-step floors": (
        people("U1", "technical", 100), [unit("U1")],
        ["horizon=2", "mix.deadline=2", "attrition.technical=0.1", "promotion.grade_rate=0.5",
         "promotion.grade_rate_floor=0.2"],
    ),
}


def _objectives(summary: dict) -> dict[str, float]:
    return {term: summary["objective"][term] for term in TERMS}


@pytest.mark.parametrize("case", sorted(TINY))
def test_tiny_scenarios_reach_the_same_optimum_on_every_backend(tmp_path, case):
    employees, units, overrides = TINY[case]
    results = {
        backend: solve_group(tmp_path / backend, employees, units, [*overrides, f"solver.backend={backend}"])
        for backend in BACKENDS
    }
    reference = _objectives(results["highs"].summary)
    for backend, solved in results.items():
        assert solved.summary["verification"]["ok"], backend
        assert _objectives(solved.summary) == pytest.approx(reference, rel=RELATIVE, abs=1e-6), backend
        assert solved.exit_code == results["highs"].exit_code, backend


@pytest.fixture(scope="module")
def generated_group(tmp_path_factory):
    folder = tmp_path_factory.mktemp("g400")
    employees, units, pay = generate_tables(400, 3, seed=5)
    write_tables({"employees": employees, "units": units, "pay": pay}, folder)
    return folder


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "highs"])
def test_baseline_on_a_generated_group_agrees_with_highs(tmp_path, generated_group, backend):
    scenario = load_scenario(scenario_path("baseline"), ["solver.time_limit=30", "solver.gap=1e-7", "objective.stage_gap={}"])
    reference = run_plan(scenario, generated_group, tmp_path / "highs")
    # CBC needs 14 s for the mix stage of the baseline (decide_then_attrition) on this group, past its share of 30 s;
    # it stops once every stage is proven (about 25 s in all).
    limit = {"cpsat": 10, "cbc": 120}.get(backend, 30)
    other = run_plan(load_scenario(scenario_path("baseline"), [f"solver.time_limit={limit}", "solver.gap=1e-7", "objective.stage_gap={}", f"solver.backend={backend}"]),
                     generated_group, tmp_path / backend)
    if backend == "cpsat" and other.summary["status"] in ("error", "no_solution"):
        # Documented limitation (optimizer/solvers/backends.py): on multi-year models of this size CP-SAT finds no
        # point satisfying the gridded stock balances within the limit.
        pytest.xfail(f"CP-SAT: {other.summary['status']} — {other.summary['solver']['message']}")
    assert _objectives(other.summary) == pytest.approx(_objectives(reference.summary), rel=RELATIVE)
    assert other.summary["verification"]["ok"]
