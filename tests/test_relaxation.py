"""The linear relaxation solved beside a mixed-integer run in a child process (``SolveOptions.relaxation``,
:func:`optimizer.solvers.highs_run.run_in_child`): its optimum is told as a bound, worked out by hand here, and
the run itself is left alone."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from optimizer.solvers import highs_run
from optimizer.solvers.backends import SolveOptions, solve
from optimizer.solvers.highs_run import HighsJob, lp_arrays, relaxation_of
from optimizer.solvers.linear_model import LinearModel
from tests.builders import market_split

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the relaxation needs a core to spare")


def _busy_with_a_known_relaxation() -> tuple[LinearModel, dict[int, float]]:
    """A market split (no cost, HiGHS busy for its whole limit) beside a cover: min y₁ + 2y₂ + 3y₃ + 4y₄ with
    y₁ + y₂ + y₃ + y₄ ≥ 2.5, y binary. The relaxation takes the cheapest first: y = (1, 1, ½, 0), 1 + 2 + 1.5 =
    4.5 (the split's rows hold at a fractional x for nothing); a whole plan needs three of them, at least 6."""
    model = LinearModel()
    market_split(model)
    ys = [model.add_var(f"y{k}", 0, 1, integer=True) for k in range(4)]
    model.add_row("cover", {y: 1.0 for y in ys}, lo=2.5)
    return model, {y: float(k + 1) for k, y in enumerate(ys)}


@pytest.mark.slow
def test_a_run_without_a_bound_is_told_its_linear_relaxation(monkeypatch):
    monkeypatch.setattr(highs_run, "CHILD_MIN_COLUMNS", 0)  # this small model runs in a child as a large one
    monkeypatch.setattr(highs_run, "RELAX_AFTER", 0.0)  # and its relaxation starts at once
    monkeypatch.setattr(highs_run, "_relax_beside", True)  # as `wfplan solve` lets it (relax_beside)
    model, goal = _busy_with_a_known_relaxation()
    options = SolveOptions(backend="highs", time_limit=8.0, gap=0.0, relaxation=True)  # two children to start
    told = solve(model, goal, options)
    # in the goal's own units whatever the scaling, less the interior point's margin (RELAXATION_TOLERANCE)
    assert told.relaxation == pytest.approx(4.5, abs=1e-5) and told.relaxation < 4.5
    assert told.stopped_by == "time_limit"
    assert told.objective is None or told.objective >= 6.0 - 1e-6  # a whole plan, if any, is the run's own
    alone = solve(model, goal, SolveOptions(backend="highs", time_limit=1.0, gap=0.0))
    assert alone.relaxation is None  # not asked for
    monkeypatch.setattr(highs_run, "_relax_beside", False)  # a worker process of a sweep, a frontier, the page
    assert solve(model, goal, replace(options, time_limit=1.0)).relaxation is None


def test_the_relaxation_drops_integrality_and_the_search_options_only():
    model, goal = _busy_with_a_known_relaxation()
    job = HighsJob(lp_arrays(model, goal), {"output_flag": True, "mip_rel_gap": 0.01, "threads": 1,
                                            "random_seed": 3, "mip_lp_solver": "ipm"}, None, 30.0,
                   stop_above=1.0, first_bound_limit=50.0, began=123.0, relax=True)
    relaxed = relaxation_of(job)
    assert not relaxed.arrays["integer"].any() and len(relaxed.arrays["integer"]) == 0
    assert relaxed.settings == {"output_flag": False, "threads": 1, "random_seed": 3, "solver": "ipm",
                                "run_crossover": "off"}
    assert (relaxed.start, relaxed.time_limit, relaxed.began) == (None, 50.0, 123.0)  # the run's longest deadline
    assert (relaxed.stop_above, relaxed.first_bound_limit, relaxed.relax) == (None, None, False)
    for key in ("cost", "lower", "upper", "row_lower", "row_upper", "starts", "columns", "coefficients"):
        assert relaxed.arrays[key] is job.arrays[key]
