"""The run's solving budget (:mod:`optimizer.solvers.clock`): shares by hand, parts kept for later solves."""

from __future__ import annotations

import time

import pytest

from optimizer.solvers.clock import MIN_SECONDS, Clock
from optimizer.solvers.linear_model import LinearModel
from optimizer.solvers.base import SolveResult
from optimizer.solvers.staged import bound_after_share, first_bound_limit


def test_a_stage_gets_an_equal_share_of_what_is_left_among_the_stages_and_the_parts_kept_for_later():
    clock = Clock(time.perf_counter() + 600.0, later=3)
    # 600 s left, 3 stages to run and 3 parts kept (merit's re-solve 1, the diagnosis 2): 600 / 6 = 100 s
    assert clock.share(3) == pytest.approx(100.0, abs=1.0)
    # the last stage with nothing kept gets all that is left
    assert clock.keeping(0).share(1) == pytest.approx(600.0, abs=1.0)
    # the diagnosis' workers see the same deadline on the wall clock
    assert clock.wall_deadline() == pytest.approx(time.time() + 600.0, abs=1.0)


def test_the_diagnosis_parts_are_kept_until_the_targets_are_met_and_keeping_sets_every_part():
    clock = Clock(time.perf_counter() + 600.0, later=2, if_missed=2)
    assert clock.share(2) == pytest.approx(100.0, abs=1.0)  # 600 / (2 stages + 2 merit + 2 diagnosis)
    assert clock.met().share(2) == pytest.approx(150.0, abs=1.0)  # no diagnosis follows: 600 / 4
    assert clock.keeping(1).share(1) == pytest.approx(300.0, abs=1.0)  # keeping(1): one part in all


def test_a_spent_clock_gives_the_least_a_solver_takes_and_nothing_is_left():
    spent = Clock(time.perf_counter() - 5.0, later=2)
    assert spent.left() == 0.0
    assert spent.share(3) == MIN_SECONDS
    assert spent.wall_deadline() <= time.time()


def test_a_stage_whose_goals_after_it_would_be_deferred_may_take_their_shares_until_it_has_a_bound():
    mip, lp = LinearModel("mip"), LinearModel("lp")
    mip.add_var("x", 0, 1, integer=True)
    lp.add_var("x", 0, 1)
    clock = Clock(time.perf_counter() + 600.0, later=2)  # merit's two parts kept
    # the cost stage before the disruption tie-break: its share 600 / (2 + 2) and the tie-break's, 300 s
    assert first_bound_limit(["cost", "disruption"], clock, mip, True) == pytest.approx(300.0, abs=1.0)
    # the mix stage before both: three shares of five, 360 s; the stability stage is not lent
    assert first_bound_limit(["mix", "cost", "disruption"], clock, mip, True) == pytest.approx(360.0, abs=1.0)
    assert first_bound_limit(["mix", "stability"], clock, mip, True) is None
    # nothing after it, nothing deferred (no re-solve with year 1 fixed, or an anchor), or a linear program
    assert first_bound_limit(["disruption"], clock, mip, True) is None
    assert first_bound_limit(["cost", "disruption"], clock, mip, False) is None
    assert first_bound_limit(["cost", "disruption"], clock, lp, True) is None
    # a diagnosis follows if a target is missed: its parts are not lent (the mix stage), until the targets are met
    diagnosing = Clock(time.perf_counter() + 600.0, later=2, if_missed=2)
    assert first_bound_limit(["mix", "cost", "disruption"], diagnosing, mip, True) is None
    assert first_bound_limit(["cost", "disruption"], diagnosing.met(), mip, True) == pytest.approx(300.0, abs=1.0)


def test_a_stage_whose_first_bound_came_after_its_share_leaves_its_later_goals_to_the_caller():
    def stage(first_bound):
        return SolveResult("feasible", None, 1.0, 0.9, 0.1, 27.0, "highs", "", "gap", first_bound)

    assert bound_after_share(stage(27.0), 20.5)  # the 100k cost stage at 90 s: its root in the lent shares
    assert not bound_after_share(stage(3.0), 20.5)  # a bound within its share: the goals after it are solved
    assert not bound_after_share(stage(None), 20.5)  # no bound: rule (2)'s other case, stopped before its root
    assert not bound_after_share(stage(27.0), None)  # a stage that was not run (proven by its start)
