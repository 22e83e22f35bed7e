"""The fast subset (``python -m pytest -m 'not slow'``) stays fast: no test that drives the headless
browser or runs a script of ``benchmarks/`` is left in it. Checked on the tests of the running session,
so under ``-m 'not slow'`` it fails when such a test was selected, and in a full run when one lacks the mark."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

RUNS_A_BENCHMARK = re.compile(r'benchmarks/\w+\.py|"benchmarks"\s*/\s*"\w+\.py"')
"""A path to a benchmark script in a test module's source (importing a helper from ``benchmarks`` is fine)."""


def _runs_a_benchmark(path: Path, seen: dict[Path, bool]) -> bool:
    if path not in seen:
        seen[path] = bool(RUNS_A_BENCHMARK.search(path.read_text(encoding="utf-8")))
    return seen[path]


def test_browser_and_benchmark_tests_are_marked_slow(request: pytest.FixtureRequest) -> None:
    seen: dict[Path, bool] = {}
    unmarked = [
        item.nodeid
        for item in request.session.items
        if item.get_closest_marker("slow") is None
        and ("browser" in getattr(item, "fixturenames", ()) or _runs_a_benchmark(Path(item.path), seen))
    ]
    assert unmarked == [], "mark these @pytest.mark.slow (or the module: pytestmark = pytest.mark.slow)"
