"""Formula-safe text for every CSV the optimiser writes (CSV injection, as OWASP describes it).

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) as a formula. Text that came from the input data (employee and unit ids, names,
reasons) must never be run, so a text cell that would start like that is written with one leading single
quote ``'``, the mark OWASP recommends: ``=E1`` is written ``'=E1``. Numbers are never touched (a negative
salary stays ``-3.5``); only text columns are.

The mark is reversible. A value is marked when it starts with any run of quotes followed by a trigger
character (``'*[=+\\-@\\t\\r]``), so a value that itself starts with quotes (``'=E1``) gains one more
(``''=E1``), and a reader strips exactly one quote from a value that starts with quotes followed by a
trigger. ``restore(neutralise(v)) == v`` for every string. Readers of plan files (the verifier, the
reports) restore text columns before comparing or showing them.
"""

from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import is_string_dtype

__all__ = ["MARK_PATTERN", "RESTORE_PATTERN", "RESTORE_REPLACEMENT", "TRIGGERS", "neutralise",
           "neutralise_arrow", "neutralise_frame", "neutralise_text", "restore", "restore_text"]

TRIGGERS = "=+-@\t\r"
"""A text cell starting with one of these is taken as a formula by spreadsheet programs."""
MARK_PATTERN = r"'*[=+\-@\t\r]"
"""A value that starts with a match of this regular expression (Python ``re`` and RE2/pyarrow alike) gets the
mark."""
_RISKY = re.compile(MARK_PATTERN)
RESTORE_PATTERN = r"^'('*[=+\-@\t\r])"
"""Regular expression (Python ``re`` and RE2/pyarrow alike) of a marked value; replace with
:data:`RESTORE_REPLACEMENT` to restore it."""
RESTORE_REPLACEMENT = r"\1"


def neutralise(text: str) -> str:
    """``text`` as it is written to a CSV: with one leading ``'`` when it could be taken as a formula."""
    return "'" + text if _RISKY.match(text) else text


def neutralise_arrow(text: pa.Array) -> pa.Array:
    """:func:`neutralise` applied to an Arrow string array (nulls stay null)."""
    risky = pc.match_substring_regex(text, "^" + MARK_PATTERN)
    return pc.if_else(risky, pc.binary_join_element_wise("'", text, ""), text) if pc.any(risky).as_py() else text


def restore(text: str) -> str:
    """The value :func:`neutralise` was given: one leading ``'`` removed from a marked value."""
    return re.sub(RESTORE_PATTERN, RESTORE_REPLACEMENT, text)


def neutralise_text(column: pd.Series) -> pd.Series:
    """:func:`neutralise` applied to the strings of a column; other values (numbers, missing) unchanged."""
    risky = _risky(column)
    return _marked(column, risky) if risky.any() else column


def _risky(column: pd.Series) -> pd.Series:
    """True where the value is a string that :func:`neutralise` marks."""
    if column.dtype == object:
        risky = column.map(lambda value: isinstance(value, str) and _RISKY.match(value) is not None)
    else:
        risky = column.str.match(_RISKY.pattern)
    return risky.fillna(False).astype(bool)


def _marked(column: pd.Series, risky: pd.Series) -> pd.Series:
    return column.mask(risky, "'" + column[risky].astype(str))


def restore_text(column: pd.Series) -> pd.Series:
    """:func:`restore` applied to a column of strings (missing values stay missing)."""
    return column.str.replace(RESTORE_PATTERN, RESTORE_REPLACEMENT, regex=True)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text column neutralised (the frame itself when no cell needs the mark)."""
    text = {name: column for name, column in frame.items() if is_string_dtype(column.dtype)}
    marked = {name: _marked(column, risky) for name, column in text.items() if (risky := _risky(column)).any()}
    return frame.assign(**marked) if marked else frame
