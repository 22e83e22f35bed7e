"""Write the files of a plan folder (the folder itself, written aside and swapped in whole, is
:mod:`optimizer.plan.folders`).

CSV files are written as pandas' ``to_csv`` writes them (``csv.QUOTE_MINIMAL``, ``%.12g`` floats, empty
cells for missing values), byte for byte, but column by column through Arrow compute kernels: a
million-row ``actions.csv`` takes about a second instead of several. Frames with a column Arrow cannot
render that way (a category, dates, objects that are not text) go through pandas itself.
"""

from __future__ import annotations

import csv
import io
import json
import re
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, BinaryIO, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import infer_dtype, is_bool_dtype, is_float_dtype, is_integer_dtype, is_string_dtype

from optimizer.plan.safe_text import neutralise_arrow, neutralise_frame

FLOAT_FORMAT = "%.12g"
CHUNK_ROWS = 200_000
"""Rows rendered at a time (bounds the memory the text of a large table takes)."""


def _csv_line(fields: list[Any]) -> str:
    """One row as Python's csv writer, which pandas' ``to_csv`` uses, writes it."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(fields)
    return buffer.getvalue()


QUOTED = re.escape("".join(c for c in ',"\n\r' if _csv_line([c, ""]) != f"{c},\n"))
"""Characters that make the csv writer quote a field (\\r only where the Python version does)."""


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """UTF-8 CSV, no index, ``\\n`` line ends, 12 significant digits, empty cells for missing values; text
    that a spreadsheet would take as a formula gets a leading ``'`` (:mod:`optimizer.plan.safe_text`)."""
    if not _renderable(frame):
        neutralise_frame(frame).to_csv(path, index=False, encoding="utf-8", lineterminator="\n",
                                       float_format=FLOAT_FORMAT)
        return
    with open(path, "wb") as out:
        out.write(_csv_line(list(frame.columns)).encode("utf-8"))
        for start in range(0, len(frame), CHUNK_ROWS):
            rows = frame.iloc[start : start + CHUNK_ROWS]
            cells = [_cells(column) for _, column in rows.items()]
            lines = pc.binary_join_element_wise(*cells, ",", null_handling="replace", null_replacement="")
            _write_text(out, pc.binary_join_element_wise(lines, "", "\n"))


def _renderable(frame: pd.DataFrame) -> bool:
    """Every column is numbers, booleans or text (missing values allowed), and there are at least two (the
    csv writer quotes the empty field of a one-column row)."""
    return frame.shape[1] > 1 and all(
        is_bool_dtype(column.dtype) or is_integer_dtype(column.dtype) or is_float_dtype(column.dtype)
        or (is_string_dtype(column.dtype) and infer_dtype(column, skipna=True) in ("string", "empty"))
        for _, column in frame.items()
    )


def _cells(column: pd.Series) -> pa.Array:
    """The column's CSV fields as ``to_csv`` writes them; null for an empty field."""
    if is_bool_dtype(column.dtype):
        return pc.if_else(pa.array(column, from_pandas=True), "True", "False")
    if is_integer_dtype(column.dtype):
        return pa.array(column, from_pandas=True).cast(pa.string())
    if is_float_dtype(column.dtype):
        return formatted(column.to_numpy(dtype=float, na_value=np.nan), FLOAT_FORMAT)
    text = neutralise_arrow(pa.array(column, type=pa.string(), from_pandas=True))
    quote = pc.match_substring_regex(text, f"[{QUOTED}]")
    if not pc.any(quote).as_py():
        return text
    return pc.if_else(quote, pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', ""), text)


def formatted(values: np.ndarray, pattern: str) -> pa.Array:
    """``pattern % value`` for every number (null for NaN), formatted once per distinct value."""
    missing = np.isnan(values)
    bits, inverse = np.unique(values[~missing].view(np.uint64), return_inverse=True)  # keeps -0.0 apart from 0.0
    text = pa.array(np.char.mod(pattern, bits.view(np.float64)), type=pa.string())
    positions = np.zeros(len(values), dtype=np.int64)
    positions[~missing] = inverse.reshape(-1)
    return text.take(pa.array(positions, mask=missing))


def _write_text(out: BinaryIO, text: pa.Array | pa.ChunkedArray) -> None:
    """The concatenated UTF-8 bytes of a string array (no separator), straight from its data buffer."""
    for chunk in text.chunks if isinstance(text, pa.ChunkedArray) else [text]:
        _, offsets, data = chunk.buffers()
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        bounds = np.frombuffer(offsets, dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
        if len(chunk):
            out.write(memoryview(data)[bounds[0] : bounds[-1]])


def write_json(payload: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def write_tables(folder: Path, tables: dict[str, pd.DataFrame]) -> None:
    """``name → frame`` as ``folder/name.csv``."""
    for name, frame in tables.items():
        write_csv(frame, folder / f"{name}.csv")


def report_writers() -> tuple[Callable[[Path], None], ...]:
    """Report writers registered under the ``wfplan.reports`` entry-point group (by the reports package), in
    name order: each writes a human-readable report into a verified plan folder from that folder's files."""
    return tuple(entry.load() for entry in sorted(entry_points(group="wfplan.reports"), key=lambda e: e.name))
