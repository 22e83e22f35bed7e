"""Write a plan folder atomically: everything goes to a temporary sibling folder, which replaces the
target only once every file is written (a failed run never leaves a partial folder or clobbers a plan).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from optimizer.safe_text import neutralise_frame

FLOAT_FORMAT = "%.12g"


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """UTF-8 CSV, no index, ``\\n`` line ends, 12 significant digits, empty cells for missing values; text
    that a spreadsheet would take as a formula gets a leading ``'`` (:mod:`optimizer.safe_text`)."""
    neutralise_frame(frame).to_csv(path, index=False, encoding="utf-8", lineterminator="\n", float_format=FLOAT_FORMAT)


def write_json(payload: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``target``; on success it replaces ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    backup = target.with_name(f".{target.name}.old")
    if target.exists():
        shutil.rmtree(backup, ignore_errors=True)
        target.rename(backup)
    staging.rename(target)
    shutil.rmtree(backup, ignore_errors=True)


def write_tables(folder: Path, tables: dict[str, pd.DataFrame]) -> None:
    """``name → frame`` as ``folder/name.csv``."""
    for name, frame in tables.items():
        write_csv(frame, folder / f"{name}.csv")

