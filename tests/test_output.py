"""optimizer.plan.output.write_csv renders frames column by column through Arrow; the bytes must be pandas' own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.plan import output
from optimizer.plan.output import FLOAT_FORMAT, write_csv
from optimizer.plan.safe_text import neutralise_frame

TEXT = ["=1+2", "-E2", "@x", "+y", "\tz", "'=q", "'plain", "plain", None, "-5", "", "a,b", 'say "hi"', "two\nlines",
        "cr\rhere", " spaced ", "张三", "''+x", "NA", "nan"]
FLOATS = [-1.5, -0.0, 0.0, np.nan, 1e20, 1.23456789012345e-7, 123456789.125, np.inf, -np.inf, 0.1 + 0.2, 2.0,
          1 / 3, 5e-324, 1e15, 12345678901234.5, -7.0, 3.0, 3.0, np.nan, 100.0]


def _frame(rows: int) -> pd.DataFrame:
    repeat = lambda values: (values * (rows // len(values) + 1))[:rows]  # noqa: E731
    return pd.DataFrame({
        "text, quoted": pd.Series(repeat(TEXT), dtype="str"),
        "object": pd.Series(repeat(TEXT), dtype=object),
        "float": repeat(FLOATS),
        "nullable float": pd.array(repeat(FLOATS), dtype="Float64"),
        "int": np.arange(rows) - rows // 2,
        "Int64": pd.array(repeat([1, None, -3, 2**40]), dtype="Int64"),
        "bool": repeat([True, False]),
        "boolean": pd.array(repeat([True, None, False]), dtype="boolean"),
    })


def _pandas_bytes(frame: pd.DataFrame, path) -> bytes:
    neutralise_frame(frame).to_csv(path, index=False, encoding="utf-8", lineterminator="\n", float_format=FLOAT_FORMAT)
    return path.read_bytes()


@pytest.mark.parametrize("rows", [0, 1, 20, 45])
def test_write_csv_writes_what_pandas_writes(tmp_path, monkeypatch, rows):
    monkeypatch.setattr(output, "CHUNK_ROWS", 7)  # several chunks
    frame = _frame(rows)
    write_csv(frame, tmp_path / "fast.csv")
    assert (tmp_path / "fast.csv").read_bytes() == _pandas_bytes(frame, tmp_path / "pandas.csv")


def test_frames_arrow_cannot_render_go_through_pandas(tmp_path):
    frame = pd.DataFrame({"category": pd.Categorical(["a", "b", None]),
                          "mixed": pd.Series([-3, "=x", 2.5], dtype=object)})
    write_csv(frame, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_bytes() == _pandas_bytes(frame, tmp_path / "pandas.csv")
