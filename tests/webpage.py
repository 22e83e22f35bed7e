"""Helpers of the what-if page's tests: a small real group as the files a planner uploads, and the page run
headless with ``AppTest`` against a home folder of the test's own."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from models.io import write_tables
from models.synthetic import generate_tables
from web.settings import ENV_DB, ENV_HOME, ENV_WORKERS

APP = Path(__file__).resolve().parents[1] / "web" / "app.py"
GROUP = (120, 3, 2)
"""employees, units, seed of a group whose baseline plan meets every target in well under a second of solving."""
CSV = "text/csv"


def group_tables() -> dict[str, pd.DataFrame]:
    employees, units, pay = generate_tables(*GROUP)
    return {"employees": employees, "units": units, "pay": pay}


def csv_files(tables: dict[str, pd.DataFrame] | None = None) -> list[tuple[str, bytes, str]]:
    """The tables as the (name, bytes, type) of three uploaded CSV files."""
    tables = group_tables() if tables is None else tables
    return [(f"{name}.csv", frame.to_csv(index=False).encode("utf-8"), CSV) for name, frame in tables.items()]


def write_group(folder: Path, fmt: str = "csv") -> Path:
    write_tables(group_tables(), folder, fmt)  # type: ignore[arg-type]
    return folder


def page(home: Path, monkeypatch, workers: int = 2) -> AppTest:
    """The page, first run done, with ``home`` as its home folder and a run store of its own there."""
    monkeypatch.setenv(ENV_HOME, str(home))
    monkeypatch.setenv(ENV_DB, str(home / "wfplan.db"))
    monkeypatch.setenv(ENV_WORKERS, str(workers))
    return AppTest.from_file(str(APP), default_timeout=60).run()


def xlsx_bytes(tables: dict[str, pd.DataFrame]) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in tables.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return buffer.getvalue()
