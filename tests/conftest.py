"""Shared fixtures: a tiny valid data set (three units with Chinese names, a full pay table)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from models.io import load_tables, write_tables
from models.validation import Problem, validate
from tests.postgres import SKIP_REASON, find_bin, postgres_server

LADDERS = {"management": 4, "technical": 8, "operations": 6}
UNIT_NAMES = {"U1": "包钢稀土", "U2": "包钢钢联", "U3": "白云鄂博铁矿"}
SEQUENCE_CYCLE = ("technical", "operations", "operations", "technical", "management")


def _pay() -> pd.DataFrame:
    rows = [
        (sequence, tier, grade, 60_000 + 12_000 * tier + 2_500 * grade)
        for sequence, tiers in LADDERS.items()
        for tier in range(1, tiers + 1)
        for grade in range(1, 6)
    ]
    return pd.DataFrame(rows, columns=["sequence", "tier", "grade", "base_salary"])


def _units() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit_id": list(UNIT_NAMES),
            "name": list(UNIT_NAMES.values()),
            "strategic": [90.0, 72.5, 40.0],
            "efficiency": [88.0, 70.0, 55.5],
            "governance": [80.0, 65.0, 60.0],
            "innovation": [95.0, 60.0, 30.0],
            "grade": ["", "B", ""],
            "min_headcount": pd.array([2, None, 0], dtype="Int64"),
            "max_headcount": pd.array([20, 30, None], dtype="Int64"),
        }
    )


def _employees(count: int = 20) -> pd.DataFrame:
    """``count`` employees E000001…; row i of the CSV (from 2) holds E{i-1:06d}."""
    sequences = [SEQUENCE_CYCLE[i % len(SEQUENCE_CYCLE)] for i in range(count)]
    return pd.DataFrame(
        {
            "employee_id": [f"E{i + 1:06d}" for i in range(count)],
            "unit_id": [list(UNIT_NAMES)[i % 3] for i in range(count)],
            "sequence": sequences,
            "tier": [1 + i % LADDERS[s] for i, s in enumerate(sequences)],
            "grade": [1 + i % 5 for i in range(count)],
            "performance": [50.0 + (i * 7) % 50 for i in range(count)],
            "years_in_grade": [float(i % 6) / 2 for i in range(count)],
            "salary": [100_000.0 + 1_000 * i if i % 4 else None for i in range(count)],
            "technical_eligible": [i % 3 == 0 for i in range(count)],
            "name": [f"员工{i + 1}" for i in range(count)],
        }
    )


@pytest.fixture(scope="session", autouse=True)
def run_store_of_the_session(tmp_path_factory: pytest.TempPathFactory):
    """Every command the tests run records into one SQLite store of the session (``WFPLAN_DB``), never into
    a ``wfplan.db`` of the working folder; subprocesses inherit it. Tests of the store open their own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WFPLAN_DB", str(tmp_path_factory.mktemp("store") / "wfplan.db"))
        yield


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a PostgreSQL server started for the session (tests/postgres.py); skips without one."""
    bindir = find_bin()
    if bindir is None:
        pytest.skip(SKIP_REASON)
    with postgres_server(bindir) as url:
        yield url


@pytest.fixture
def frames() -> dict[str, pd.DataFrame]:
    """A valid data set with typed columns."""
    return {"employees": _employees(), "units": _units(), "pay": _pay()}


@pytest.fixture
def text_frames(frames: dict[str, pd.DataFrame], tmp_path: Path) -> dict[str, pd.DataFrame]:
    """The valid data set as text, as a CSV holds it: edit any cell to any string, then write it."""
    folder = tmp_path / "typed"
    write_tables(frames, folder)
    return {t: pd.read_csv(folder / f"{t}.csv", dtype=str, keep_default_na=False) for t in frames}


@pytest.fixture
def problems_in(tmp_path: Path) -> Callable[[dict[str, pd.DataFrame]], list[Problem]]:
    """Write the frames as CSV files and return every problem validation finds in them."""

    def check(tables: dict[str, pd.DataFrame]) -> list[Problem]:
        write_tables(tables, tmp_path / "data")
        return validate(load_tables(tmp_path / "data"))

    return check
