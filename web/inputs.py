"""The input tables a planner works on: the demo group, or uploaded tables, kept under the page's inputs folder.

An upload is the three tables as ``employees``, ``units`` and ``pay`` files (``.csv`` or ``.parquet``), or one
``.xlsx`` workbook with a sheet per table. It is written to a staging folder, read and validated exactly as
``wfplan validate`` does (:func:`models.validation.load_inputs`: every problem listed, naming file, row, column
and value), and only when valid does the folder take its place as ``inputs/upload-<hash>`` (named by the
content, so the same tables uploaded twice are one folder that later runs and the verifier read again). A
rejected upload leaves nothing behind: the staging folder is removed with whatever was written to it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePath

import pandas as pd

from models.io import FLAT_SUFFIXES, InputError, InputTables, Problem
from models.synthetic import write_generated
from models.tables import TABLES
from models.validation import load_inputs
from optimizer.plan.folders import folder_kind, staged_folder

DEMO_SEED = 2026
"""The seed of ``wfplan demo``'s group, so the page's demo group is the same people."""
DEMO_UNITS = 20
UPLOAD_SUFFIXES = (*FLAT_SUFFIXES, ".xlsx")
EXPECTED_FILES = ("the tables employees, units and pay as .csv or .parquet files named after them, "
                  "or one .xlsx workbook with sheets of those names")


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its name as the browser sent it, and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Inputs:
    """Validated input tables in a folder of the page's own, with a label for people."""

    path: Path
    label: str
    tables: InputTables


def demo_inputs(inputs_root: Path, employees: int) -> Inputs:
    """The demo group of ``employees`` people (20 units, ``wfplan demo``'s seed), generated once into
    ``inputs/demo-<employees>`` and reused after."""
    folder = inputs_root / f"demo-{employees}"
    if folder_kind(folder) != "data":
        with staged_folder(folder, "data") as staging:
            write_generated(staging, employees, DEMO_UNITS, DEMO_SEED)
    return Inputs(folder, f"demo group ({employees:,} employees, {DEMO_UNITS} units)", load_inputs(folder))


def _name_problems(uploads: list[Upload]) -> list[Problem]:
    """Problems of the set of files itself: names that are no table, a workbook among other files, a table
    given twice. The tables' content is checked after, by the loader."""
    if not uploads:
        return [Problem(file="upload", expected=EXPECTED_FILES + " (no file was chosen)")]
    names = [PurePath(u.name).name for u in uploads]
    if any(name.lower().endswith(".xlsx") for name in names):
        return [] if len(names) == 1 else [
            Problem(file=", ".join(names), expected="one .xlsx workbook alone, or .csv/.parquet files without it")]
    problems = [
        Problem(file=name, expected=EXPECTED_FILES)
        for name in names
        if PurePath(name).stem not in TABLES or PurePath(name).suffix.lower() not in FLAT_SUFFIXES
    ]
    stems = [PurePath(name).stem for name in names if PurePath(name).suffix.lower() in FLAT_SUFFIXES]
    problems += [Problem(file=table, expected="one file per table (it was uploaded twice)")
                 for table in TABLES if stems.count(table) > 1]
    return problems


def _content_hash(uploads: list[Upload]) -> str:
    digest = hashlib.sha256()
    for upload in sorted(uploads, key=lambda u: PurePath(u.name).name):
        digest.update(PurePath(upload.name).name.encode() + b"\0" + hashlib.sha256(upload.data).digest())
    return digest.hexdigest()[:16]


def accept_upload(inputs_root: Path, uploads: list[Upload]) -> Inputs:
    """Validate the uploaded tables and keep them as ``inputs/upload-<hash>``; raises :class:`InputError`
    listing every problem (the file set's, then the tables' as ``wfplan validate`` lists them), and then
    nothing is kept."""
    label = ", ".join(PurePath(u.name).name for u in uploads) or "upload"
    problems = _name_problems(uploads)
    if problems:
        raise InputError(label, problems)
    folder = inputs_root / f"upload-{_content_hash(uploads)}"
    if folder_kind(folder) != "data":
        with staged_folder(folder, "data") as staging:
            for upload in uploads:
                name = PurePath(upload.name)
                (staging / f"{name.stem}{name.suffix.lower()}").write_bytes(upload.data)
            load_inputs_as(staging, label)
    return Inputs(folder, f"uploaded tables ({label})", load_inputs_as(folder, label))


def load_inputs_as(folder: Path, label: str) -> InputTables:
    """:func:`load_inputs` of ``folder``, its problems naming ``label`` (the uploaded files) as the source
    rather than the page's hidden folder."""
    try:
        return load_inputs(folder)
    except InputError as exc:
        raise InputError(label, exc.problems) from None


def overview(tables: InputTables) -> pd.DataFrame:
    """Headcount and share by sequence today, the first thing a planner checks after choosing the tables."""
    counts = tables.employees["sequence"].value_counts()
    frame = pd.DataFrame({"sequence": counts.index, "headcount": counts.to_numpy()})
    frame["share"] = frame["headcount"] / frame["headcount"].sum()
    return frame.sort_values("sequence", key=lambda s: s.map({"management": 0, "technical": 1, "operations": 2}))
