"""Reading and writing the input tables (CSV, Parquet or one XLSX workbook).

:func:`load_tables` reads every cell as text, exactly as written, so that :mod:`models.validation` can
report a bad value the way the user typed it; :func:`models.validation.load_inputs` then validates and
converts to canonical dtypes. Problems that stop a table from being read at all (a missing file or
sheet, a file that is not UTF-8, ...) are collected for all tables and raised together as
:class:`InputError`.
"""

from __future__ import annotations

import difflib
import hashlib
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from xml.etree import ElementTree

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
from openpyxl.chartsheet import Chartsheet
from pandas.errors import EmptyDataError

from models.tables import TABLES

FIRST_DATA_ROW = 2
"""Row number of the first data row: the header is row 1 (CSV line, sheet row; Parquet counts alike)."""

FLAT_SUFFIXES: tuple[str, ...] = (".csv", ".parquet")
WORKBOOK_NAME = "tables.xlsx"
Format = Literal["csv", "parquet", "xlsx"]


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One problem in the input tables; ``str()`` gives one readable line."""

    file: str
    """File as shown to the user: ``employees.csv``, or ``data.xlsx sheet employees``."""
    row: int | None = None
    """Row as the user sees it in the file (header = row 1); None for a problem of the whole file."""
    key: str | None = None
    """The row's key value (employee_id, unit_id, or sequence/tier/grade for pay)."""
    key_name: str | None = None
    """Name of the key, e.g. ``employee_id`` or ``sequence/tier/grade``."""
    column: str | None = None
    value: str | None = None
    """The value exactly as written."""
    expected: str
    """What a valid value (or file) looks like, in words."""

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.key:
            where += f" ({self.key_name}={self.key})"
        if self.column:
            where += f" column {self.column}"
        got = "" if self.value is None else f"got {self.value!r}, "
        return f"{where}: {got}expected {self.expected}"


class InputError(ValueError):
    """The input tables have problems; ``problems`` holds every one of them."""

    MAX_LINES = 200

    def __init__(self, source: str, problems: list[Problem]):
        super().__init__(source, problems)
        self.source = source
        self.problems = problems

    def __str__(self) -> str:
        count = len(self.problems)
        lines = [f"{count} problem{'' if count == 1 else 's'} in {self.source}:"]
        lines += [f"  {p}" for p in self.problems[: self.MAX_LINES]]
        if count > self.MAX_LINES:
            lines.append(f"  … and {count - self.MAX_LINES} more")
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class InputTables:
    """The three input tables, where they came from, and the sha256 of each source file.

    Straight from :func:`load_tables` every column is text as written and the index holds the row
    numbers; after :func:`models.validation.load_inputs` the frames have canonical dtypes.
    """

    employees: pd.DataFrame
    units: pd.DataFrame
    pay: pd.DataFrame
    files: dict[str, str]
    hashes: dict[str, str]

    def frame(self, table: str) -> pd.DataFrame:
        """The frame of ``table`` (``employees``, ``units`` or ``pay``)."""
        return getattr(self, table)

    def label(self, table: str) -> str:
        """How ``table``'s source is named in messages."""
        return source_label(Path(self.files[table]), table)


def source_label(path: Path, table: str) -> str:
    """``employees.csv``, or ``data.xlsx sheet employees`` for a workbook."""
    return f"{path.name} sheet {table}" if path.suffix == ".xlsx" else path.name


def with_source(frame: pd.DataFrame, label: str, rows: pd.Index) -> pd.DataFrame:
    """``frame`` marked (in ``frame.attrs``) with the file it came from and the file row of each of its rows,
    so that a rule checked after validation (unit grading) can name them; see :func:`source_of`.

    The rows are kept as runs of consecutive numbers (a few numbers even for a million rows)."""
    numbers = np.asarray(rows, dtype="int64")
    cuts = np.flatnonzero(np.diff(numbers) != 1) + 1
    runs = [[int(run[0]), int(run[-1])] for run in np.split(numbers, cuts) if len(run)]
    frame.attrs.update(source=label, row_runs=runs)
    return frame


def source_of(frame: pd.DataFrame, table: str) -> tuple[str, np.ndarray | None]:
    """(file label, file row of each row) of a frame marked by :func:`with_source`, as long as it still has
    the rows it was marked with; (``table``, None) for any other frame (built in code, or filtered since)."""
    runs = frame.attrs.get("row_runs")
    if runs is None or not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0:
        return table, None
    rows = np.concatenate([np.arange(first, last + 1) for first, last in runs] or [np.empty(0, "int64")])
    return (frame.attrs["source"], rows) if len(rows) == len(frame) else (table, None)


# ------------------------------------------------------------------------------------------ locating


def _workbooks(folder: Path) -> list[Path]:
    """The .xlsx files of ``folder``, without Excel's ``~$`` lock files."""
    return sorted(p for p in folder.glob("*.xlsx") if not p.name.startswith("~$"))


def _locate_flat(folder: Path, table: str) -> tuple[Path | None, list[Problem]]:
    """The one CSV/Parquet file of ``table`` in ``folder``, or the problem why there is none."""
    found = [folder / f"{table}{s}" for s in FLAT_SUFFIXES if (folder / f"{table}{s}").is_file()]
    names = " or ".join(f"{table}{s}" for s in FLAT_SUFFIXES)
    if len(found) == 1:
        return found[0], []
    got = "neither" if not found else "both; keep one"
    return None, [Problem(file=folder.name or str(folder), expected=f"one file {names} (found {got})")]


def _locate(path: Path) -> dict[str, Path]:
    """Source file of each table: the flat files of a folder, or one workbook for all three."""
    if path.is_file() and path.suffix == ".xlsx":
        return dict.fromkeys(TABLES, path)
    if not path.is_dir():
        raise InputError(str(path), [Problem(file=str(path), expected="a folder of input tables or an .xlsx workbook")])
    has_flat = any((path / f"{t}{s}").is_file() for t in TABLES for s in FLAT_SUFFIXES)
    workbooks = _workbooks(path)
    if not has_flat and len(workbooks) == 1:
        return dict.fromkeys(TABLES, workbooks[0])
    if not has_flat:
        found = ", ".join(p.name for p in workbooks) or "none"
        expected = f"employees, units and pay as .csv or .parquet files, or one .xlsx workbook (found {found})"
        raise InputError(str(path), [Problem(file=path.name, expected=expected)])
    located = {table: _locate_flat(path, table) for table in TABLES}
    problems = [p for _, found in located.values() for p in found]
    if problems:
        raise InputError(str(path), problems)
    return {table: file for table, (file, _) in located.items()}


# ------------------------------------------------------------------------------------------- reading


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text without the spaces around it (nulls as ''), header names stripped, rows numbered
    as in the file, blank rows dropped. The one place where cells are stripped: every reader ends here."""
    frame = frame.astype("str").fillna("")
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.index = pd.RangeIndex(FIRST_DATA_ROW, FIRST_DATA_ROW + len(frame), name="row")
    if frame.columns.empty:
        return frame.iloc[:0]
    frame = frame.apply(lambda column: column.str.strip())
    return frame[(frame != "").any(axis=1)]


def _header_problem(frame: pd.DataFrame, label: str) -> list[Problem]:
    """A problem when a header names a column twice."""
    names = frame.columns[frame.columns != ""]
    twice = sorted(set(names[names.duplicated()]))
    return [Problem(file=label, column=c, expected="a column name used once in the header") for c in twice]


def _read_csv(path: Path) -> pd.DataFrame:
    """The header line gives the names; a row with more fields than the header is an error, and so is a
    header holding NUL bytes (binary data that happens to decode as UTF-8)."""
    lines = pd.read_csv(
        path, header=None, dtype=str, na_filter=False, skip_blank_lines=False, encoding="utf-8-sig"
    )
    header = lines.iloc[0].tolist()
    if any("\x00" in name for name in header):
        raise ValueError("its first line holds NUL bytes: binary data, not text")
    return lines.iloc[1:].set_axis(header, axis=1)


def _first_non_utf8(path: Path) -> str:
    """Where the first byte that is not UTF-8 sits in ``path``, in words."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return f"line {line} has byte 0x{data[exc.start]:02x}, which is not UTF-8"
    return "the file is not UTF-8"


def _unreadable(label: str, kind: str, exc: Exception) -> Problem:
    """The problem of a file (or sheet) the reader failed on, with the reader's reason on one line."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return Problem(file=label, expected=f"a readable {kind} ({reason})")


def _read_flat(path: Path, table: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read one CSV or Parquet file as text, or return why it cannot be read."""
    label = source_label(path, table)
    try:
        read = _read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    except UnicodeDecodeError:
        return None, [Problem(file=label, expected=f"UTF-8 text ({_first_non_utf8(path)}; save it as 'CSV UTF-8')")]
    except EmptyDataError:
        return None, [Problem(file=label, expected="a header line naming the columns, then one line per row "
                                                   "(the file is empty)")]
    except (ValueError, OSError, IndexError, pa.ArrowException) as exc:  # how the parsers fail on a damaged file
        return None, [_unreadable(label, f"{path.suffix.removeprefix('.').upper()} file", exc)]
    frame = _tidy(read)
    problems = _header_problem(frame, label)
    return (None if problems else frame), problems


CHART_SHEET = "a worksheet of cells (found a chart sheet)"


def _sheet_frame(sheet) -> pd.DataFrame:
    """One worksheet as a frame: the first row is the header, cells right of it are ignored."""
    rows = sheet.iter_rows(values_only=True)
    header = list(next(rows, ()))
    while header and header[-1] is None:
        header.pop()
    width = len(header)
    body = [row[:width] + (None,) * (width - len(row)) for row in rows]
    return pd.DataFrame(body, columns=["" if c is None else c for c in header], dtype=object)


def _read_sheet(book: openpyxl.Workbook, path: Path, table: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    """The sheet ``table`` of an open workbook as text, or why it cannot be read."""
    if table not in book.sheetnames:
        near = difflib.get_close_matches(table, book.sheetnames, n=1)
        hint = f"; found a sheet '{near[0]}'" if near else f"; the sheets are {', '.join(book.sheetnames)}"
        return None, [Problem(file=path.name, expected=f"a sheet named '{table}'{hint}")]
    label = source_label(path, table)
    sheet = book[table]
    if isinstance(sheet, Chartsheet):
        return None, [Problem(file=label, expected=CHART_SHEET)]
    try:
        frame = _tidy(_sheet_frame(sheet))
    except Exception as exc:  # noqa: BLE001 - openpyxl parses a sheet lazily and fails on damage in many ways
        return None, [_unreadable(label, "worksheet", exc)]
    return frame, _header_problem(frame, label)


_SHEET_NS = {
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _chart_sheets(path: Path) -> list[str]:
    """Names of the chart sheets of the workbook ``path``, read from its zip parts (openpyxl cannot open a
    workbook holding an empty chart sheet, so this names the culprit); [] if the parts cannot be read."""
    try:
        with zipfile.ZipFile(path) as archive:
            book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            links = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError):
        return []
    charts = {r.get("Id") for r in links.iterfind("rel:Relationship", _SHEET_NS) if "chartsheet" in r.get("Type", "")}
    return [s.get("name", "") for s in book.iterfind("main:sheets/main:sheet", _SHEET_NS) if s.get(_REL_ID) in charts]


def _read_workbook(path: Path) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Read the three sheets of a workbook as text, or return why they cannot be read."""
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - not a zip, not a workbook, damaged XML: each fails differently
        charts = [Problem(file=source_label(path, name), expected=CHART_SHEET) for name in _chart_sheets(path)]
        return {}, charts or [_unreadable(path.name, ".xlsx workbook", exc)]
    try:
        read = {table: _read_sheet(book, path, table) for table in TABLES}
    finally:
        book.close()
    frames = {table: frame for table, (frame, _) in read.items() if frame is not None}
    return frames, [p for _, found in read.values() for p in found]


def sha256_of(path: Path) -> str:
    """Hex sha256 of the file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_tables(path: str | Path) -> InputTables:
    """Read the input tables under ``path`` as text (see :class:`InputTables`); not yet validated.

    ``path`` is a folder with ``employees``, ``units`` and ``pay`` as ``.csv`` or ``.parquet`` files,
    a folder holding exactly one ``.xlsx`` workbook, or the workbook itself (sheets named like the
    tables). Raises :class:`InputError` listing every file or sheet that is missing or unreadable.
    """
    root = Path(path)
    files = _locate(root)
    if files["employees"].suffix == ".xlsx":
        frames, problems = _read_workbook(files["employees"])
    else:
        read = {table: _read_flat(file, table) for table, file in files.items()}
        frames = {table: frame for table, (frame, _) in read.items()}
        problems = [p for _, found in read.values() for p in found]
    if problems:
        raise InputError(str(root), problems)
    hashes = {file: sha256_of(file) for file in set(files.values())}
    return InputTables(
        **frames,
        files={table: str(file) for table, file in files.items()},
        hashes={table: hashes[file] for table, file in files.items()},
    )


# ------------------------------------------------------------------------------------------- writing


def _frames_of(tables: InputTables | Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The three frames, in the dictionary's order."""
    get = tables.frame if isinstance(tables, InputTables) else tables.__getitem__
    return {table: get(table) for table in TABLES}


def write_tables(
    tables: InputTables | Mapping[str, pd.DataFrame], out_dir: str | Path, fmt: Format = "csv"
) -> dict[str, Path]:
    """Write the three tables into ``out_dir`` as CSV (UTF-8) or Parquet files, or one XLSX workbook.

    Returns the file written for each table (the same workbook for all three with ``fmt="xlsx"``).
    """
    if fmt not in ("csv", "parquet", "xlsx"):
        raise ValueError(f"unknown format {fmt!r}; expected csv, parquet or xlsx")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frames = _frames_of(tables)
    if fmt == "xlsx":
        with pd.ExcelWriter(out / WORKBOOK_NAME, engine="openpyxl") as writer:
            for table, frame in frames.items():
                frame.to_excel(writer, sheet_name=table, index=False)
        return dict.fromkeys(frames, out / WORKBOOK_NAME)
    paths = {table: out / f"{table}.{fmt}" for table in frames}
    for table, frame in frames.items():
        if fmt == "csv":
            frame.to_csv(paths[table], index=False, encoding="utf-8")
        else:
            frame.to_parquet(paths[table], index=False)
    return paths
