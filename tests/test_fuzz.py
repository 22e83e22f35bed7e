"""Fuzzing the command line with corrupted input tables and scenarios (seeded, so every case replays).

Each case corrupts one thing of a small valid group, or of its scenario, in a way a real file gets corrupted
(a cell, a column, a row, the bytes of a file, a scenario value of the wrong sign, type or size), then runs
``wfplan solve`` into a new folder beside an earlier plan (even cases) or over that earlier plan (odd
cases). Whatever the case, the tool must

- exit 0, 3 or 4 with a verified plan (the corruption was harmless), or exit 2 with one clear message that
  names the file or the key, and write nothing: no new folder, no staging folder left behind;
- never exit 1 and never print a traceback;
- leave the input tables exactly as they were, and the earlier plan too unless a new plan replaced it.

The classes of corruption and the number of cases are listed in docs/decisions.md ("Robustness").
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from models.scenario import KIND_SECTIONS
from models.scenario_files import VALID_KEYS
from optimizer.cli import main
from tests.builders import QUIET, people, unit, write_group

pytestmark = pytest.mark.slow

CASES_PER_CLASS = 40
SEED = 20261203
TABLES = ("employees", "units", "pay")
BAD_CELLS = ["", " ", "abc", "-1", "-0.5", "1e300", "-1e300", "1e-300", "nan", "inf", "99999999999999999999",
             "=cmd|' /C calc'!A0", "\x00", "名", "1,5", "TRUE", " E1 ", "0x10", "1e20"]
BAD_VALUES: list[object] = [".nan", ".inf", "-.inf", -1, -1e300, 1e300, 10**20, "abc", "[1, 2]", "{a: 1}", "null",
                            "''", "-0.5", "1e-300", "true", 0]


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
            for p in sorted(folder.rglob("*"))}


def _group() -> tuple[list[dict], list[dict]]:
    employees = (people("U1", "operations", 12, eligible=True) + people("U1", "technical", 5)
                 + people("U2", "operations", 8, years=0) + people("U2", "management", 2, tier=2))
    return employees, [unit("U1", min_headcount=10, max_headcount=40), unit("U2", score=80)]


# ------------------------------------------------------------------------------------------ corruptions
# Each takes (rng, data folder, scenario dict) and corrupts the folder's files or the scenario in place.

Corruption = Callable[[np.random.Generator, Path, dict], None]


def _csv(folder: Path, rng: np.random.Generator) -> Path:
    return folder / f"{TABLES[rng.integers(len(TABLES))]}.csv"


def bad_cell(rng: np.random.Generator, folder: Path, scenario: dict) -> None:
    path = _csv(folder, rng)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    row, column = rng.integers(len(frame)), frame.columns[rng.integers(len(frame.columns))]
    frame.loc[row, column] = BAD_CELLS[rng.integers(len(BAD_CELLS))]
    frame.to_csv(path, index=False)


def bad_column(rng: np.random.Generator, folder: Path, scenario: dict) -> None:
    path = _csv(folder, rng)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    column = frame.columns[rng.integers(len(frame.columns))]
    choice = rng.integers(3)
    if choice == 0:
        frame = frame.drop(columns=column)
    elif choice == 1:
        frame = frame.rename(columns={column: column.upper() + " "})
    else:
        frame[column] = ""
    frame.to_csv(path, index=False)


def bad_rows(rng: np.random.Generator, folder: Path, scenario: dict) -> None:
    path = _csv(folder, rng)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    choice = rng.integers(3)
    if choice == 0:
        frame = pd.concat([frame, frame.iloc[[rng.integers(len(frame))]]])  # a duplicated row
    elif choice == 1:
        frame = frame.iloc[:0]  # header only
    else:
        frame = frame.sample(frac=1.0, random_state=int(rng.integers(1000))).iloc[: max(1, len(frame) // 3)]
    frame.to_csv(path, index=False)


def bad_bytes(rng: np.random.Generator, folder: Path, scenario: dict) -> None:
    path = _csv(folder, rng)
    data = path.read_bytes()
    choice = rng.integers(4)
    if choice == 0:
        data = rng.bytes(int(rng.integers(1, 400)))  # garbage
    elif choice == 1:
        data = data[: int(rng.integers(1, len(data)))]  # truncated
    elif choice == 2:
        data = data.decode("utf-8").encode("utf-16")  # another encoding
    else:
        data = b""  # empty
    path.write_bytes(data)


GRADED_KEYS = [k for k in VALID_KEYS if k.split(".")[0] not in KIND_SECTIONS["ladder"]]
"""The keys a graded scenario reads (a key of the other kind is refused by one rule, tested elsewhere)."""


def bad_scenario_value(rng: np.random.Generator, folder: Path, scenario: dict) -> None:
    key = GRADED_KEYS[rng.integers(len(GRADED_KEYS))]
    node = scenario
    *parents, leaf = key.split(".")
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[leaf] = BAD_VALUES[rng.integers(len(BAD_VALUES))]


def bad_scenario_shape(rng: np.random.Generator, folder: Path, scenario: dict) -> None:
    choice = rng.integers(4)
    if choice == 0:
        scenario["extends"] = int(rng.integers(-5, 5))
    elif choice == 1:
        scenario["mix"]["target"] = {"management": 0.5, "technical": 0.5, "operations": 0.5}
    elif choice == 2:
        scenario[f"unknown_{rng.integers(100)}"] = 1
    else:
        scenario["horizon"] = int(rng.integers(-3, 40))


CORRUPTIONS: dict[str, Corruption] = {
    "cell": bad_cell, "column": bad_column, "rows": bad_rows, "bytes": bad_bytes,
    "scenario_value": bad_scenario_value, "scenario_shape": bad_scenario_shape,
}


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid group and its earlier plan (solved once)."""
    root = tmp_path_factory.mktemp("fuzz")
    employees, units = _group()
    write_group(root / "data", employees, units)
    (root / "scenario.yaml").write_text(json.dumps(QUIET), encoding="utf-8")
    result = CliRunner().invoke(main, ["solve", str(root / "scenario.yaml"), "--data", str(root / "data"),
                                       "--out", str(root / "plan"), "--quiet"])
    assert result.exit_code == 0, result.output
    return root


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_corrupted_input_never_crashes_and_loses_nothing(valid: Path, tmp_path: Path, kind: str):
    outcomes: dict[int, int] = {}
    for case in range(CASES_PER_CLASS):
        rng = np.random.default_rng([SEED, list(CORRUPTIONS).index(kind), case])
        work = tmp_path / f"case{case}"
        shutil.copytree(valid, work)
        scenario = json.loads(json.dumps(QUIET))
        CORRUPTIONS[kind](rng, work / "data", scenario)
        (work / "scenario.yaml").write_text(json.dumps(scenario), encoding="utf-8")
        earlier = snapshot(work / "plan")
        tables = snapshot(work / "data")
        out = work / ("plan" if case % 2 else "new")
        result = CliRunner().invoke(main, ["solve", str(work / "scenario.yaml"), "--data", str(work / "data"),
                                           "--out", str(out), "--quiet"])
        where = f"{kind} case {case}: exit {result.exit_code}\n{result.output[-1500:]}"
        assert result.exit_code in (0, 2, 3, 4), where
        assert "Traceback" not in result.output, where
        assert snapshot(work / "data") == tables, where
        assert not [p.name for p in work.iterdir() if p.name.startswith(".")], where  # no staging left
        if result.exit_code == 2:
            message = result.stderr.strip()
            assert message and snapshot(work / "plan") == earlier and not (work / "new").exists(), where
            names = [*(f"{t}.csv" for t in TABLES), "scenario.yaml", str(work / "data")]
            assert any(name in message for name in names), where
        else:
            summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
            assert summary["exit_code"] == result.exit_code, where
            assert summary.get("verification", {"ok": True})["ok"], where
        outcomes[result.exit_code] = outcomes.get(result.exit_code, 0) + 1
        shutil.rmtree(work)
    assert outcomes.get(2, 0) > 0  # the corruptions do reach the checks
