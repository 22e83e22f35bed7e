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

import openpyxl
import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException

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


def _as_text(series: pd.Series) -> pd.Series:
    """Any column as text: numbers as Python writes them, nulls as ''."""
    return series.astype("str").fillna("")


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Text frame with stripped header names, rows numbered as in the file, blank rows dropped."""
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.index = pd.RangeIndex(FIRST_DATA_ROW, FIRST_DATA_ROW + len(frame), name="row")
    if frame.columns.empty:
        return frame.iloc[:0]
    blank = frame.apply(lambda column: column.str.strip() == "").all(axis=1)
    return frame[~blank]


def _header_problem(frame: pd.DataFrame, label: str) -> list[Problem]:
    """A problem when a header names a column twice."""
    names = frame.columns[frame.columns != ""]
    twice = sorted(set(names[names.duplicated()]))
    return [Problem(file=label, column=c, expected="a column name used once in the header") for c in twice]


def _read_csv(path: Path) -> pd.DataFrame:
    """The header line gives the names; a row with more fields than the header is an error."""
    lines = pd.read_csv(
        path, header=None, dtype=str, na_filter=False, skip_blank_lines=False, encoding="utf-8-sig"
    )
    return lines.iloc[1:].set_axis(lines.iloc[0].tolist(), axis=1)


def _read_parquet(path: Path) -> pd.DataFrame:
    """Every column as text, whatever its Parquet type."""
    return pd.read_parquet(path).apply(_as_text)


def _first_non_utf8(path: Path) -> str:
    """Where the first byte that is not UTF-8 sits in ``path``, in words."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return f"line {line} has byte 0x{data[exc.start]:02x}, which is not UTF-8"
    return "the file is not UTF-8"


def _read_flat(path: Path, table: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read one CSV or Parquet file as text, or return why it cannot be read."""
    label = source_label(path, table)
    reader = _read_csv if path.suffix == ".csv" else _read_parquet
    try:
        frame = _tidy(reader(path))
    except UnicodeDecodeError:
        return None, [Problem(file=label, expected=f"UTF-8 text ({_first_non_utf8(path)}; save it as 'CSV UTF-8')")]
    except (ValueError, OSError) as exc:
        kind = path.suffix.removeprefix(".").upper()
        reason = " ".join(str(exc).split())
        return None, [Problem(file=label, expected=f"a readable {kind} file ({reason})")]
    problems = _header_problem(frame, label)
    return (None if problems else frame), problems


def _sheet_frame(sheet) -> pd.DataFrame:
    """One worksheet as a text frame: the first row is the header, cells right of it are ignored."""
    rows = sheet.iter_rows(values_only=True)
    header = list(next(rows, ()))
    while header and header[-1] is None:
        header.pop()
    width = len(header)
    body = [row[:width] + (None,) * (width - len(row)) for row in rows]
    frame = pd.DataFrame(body, columns=["" if c is None else c for c in header], dtype=object)
    return frame.apply(_as_text) if width else frame


def _read_workbook(path: Path) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Read the three sheets of a workbook as text, or return why they cannot be read."""
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, OSError, KeyError) as exc:
        return {}, [Problem(file=path.name, expected=f"a readable .xlsx workbook ({exc})")]
    try:
        frames, problems = {}, []
        for table in TABLES:
            if table not in book.sheetnames:
                near = difflib.get_close_matches(table, book.sheetnames, n=1)
                hint = f"; found a sheet '{near[0]}'" if near else f"; the sheets are {', '.join(book.sheetnames)}"
                problems.append(Problem(file=path.name, expected=f"a sheet named '{table}'{hint}"))
                continue
            frame = _tidy(_sheet_frame(book[table]))
            problems += _header_problem(frame, source_label(path, table))
            frames[table] = frame
        return frames, problems
    finally:
        book.close()


def _sha256(path: Path) -> str:
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
    hashes = {file: _sha256(file) for file in set(files.values())}
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
