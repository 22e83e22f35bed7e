"""The run's solving budget (:mod:`optimizer.solvers.clock`): shares by hand, parts kept for later solves."""

from __future__ import annotations

import time

import pytest

from optimizer.solvers.clock import MIN_SECONDS, Clock


def test_a_stage_gets_an_equal_share_of_what_is_left_among_the_stages_and_the_parts_kept_for_later():
    clock = Clock(time.perf_counter() + 600.0, later=3)
    # 600 s left, 3 stages to run and 3 parts kept (merit's re-solve 1, the diagnosis 2): 600 / 6 = 100 s
    assert clock.share(3) == pytest.approx(100.0, abs=1.0)
    # the last stage with nothing kept gets all that is left
    assert clock.keeping(0).share(1) == pytest.approx(600.0, abs=1.0)
    # the diagnosis' workers see the same deadline on the wall clock
    assert clock.wall_deadline() == pytest.approx(time.time() + 600.0, abs=1.0)


def test_a_spent_clock_gives_the_least_a_solver_takes_and_nothing_is_left():
    spent = Clock(time.perf_counter() - 5.0, later=2)
    assert spent.left() == 0.0
    assert spent.share(3) == MIN_SECONDS
    assert spent.wall_deadline() <= time.time()
