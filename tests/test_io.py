"""Reading and writing the input tables: formats, encodings, row numbers, hashes, the data dictionary."""

from __future__ import annotations

import hashlib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.chart import BarChart, Reference

from models.io import InputError, load_tables, write_tables
from models.tables import render_markdown
from models.validation import load_inputs, validate

DOCS = Path(__file__).resolve().parents[1] / "docs" / "data.md"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_same_tables(left, right) -> None:
    for table in ("employees", "units", "pay"):
        pd.testing.assert_frame_equal(left.frame(table), right.frame(table), obj=table)


def test_docs_are_the_rendered_dictionary():
    assert DOCS.read_text(encoding="utf-8") == render_markdown()


def test_rendered_dictionary_documents_every_column():
    text = render_markdown()
    for column in ("employee_id", "technical_eligible", "min_headcount", "base_salary"):
        assert f"| `{column}` |" in text
    assert "| `base_salary` | number | CNY/year | required | a number in 1..100,000,000 |" in text


@pytest.mark.parametrize("fmt", ["parquet", "xlsx"])
def test_formats_give_equal_frames(tmp_path, frames, fmt):
    write_tables(frames, tmp_path / "csv")
    write_tables(frames, tmp_path / fmt, fmt=fmt)
    assert_same_tables(load_inputs(tmp_path / "csv"), load_inputs(tmp_path / fmt))


def test_canonical_tables_round_trip(tmp_path, frames):
    write_tables(frames, tmp_path / "first")
    tables = load_inputs(tmp_path / "first")
    write_tables(tables, tmp_path / "second", fmt="parquet")
    assert_same_tables(tables, load_inputs(tmp_path / "second"))


def test_workbook_by_path_or_by_folder(tmp_path, frames):
    workbook = write_tables(frames, tmp_path, fmt="xlsx")["pay"]
    by_path, by_folder = load_inputs(workbook), load_inputs(tmp_path)
    assert_same_tables(by_path, by_folder)
    assert by_path.files == dict.fromkeys(("employees", "units", "pay"), str(workbook))
    assert by_path.hashes == dict.fromkeys(("employees", "units", "pay"), sha256(workbook))


def test_chinese_names_round_trip(tmp_path, frames):
    for fmt in ("csv", "parquet", "xlsx"):
        write_tables(frames, tmp_path / fmt, fmt=fmt)
        tables = load_inputs(tmp_path / fmt)
        assert tables.units["name"].tolist() == ["包钢稀土", "包钢钢联", "白云鄂博铁矿"], fmt
        assert tables.employees["name"].tolist() == frames["employees"]["name"].tolist(), fmt


def test_csv_with_byte_order_mark(tmp_path, frames):
    write_tables(frames, tmp_path / "plain")
    for table, frame in frames.items():
        (tmp_path / "bom").mkdir(exist_ok=True)
        frame.to_csv(tmp_path / "bom" / f"{table}.csv", index=False, encoding="utf-8-sig")
    assert (tmp_path / "bom" / "units.csv").read_bytes().startswith(b"\xef\xbb\xbfunit_id")
    assert_same_tables(load_inputs(tmp_path / "plain"), load_inputs(tmp_path / "bom"))


def test_hashes_are_the_file_bytes_and_stable(tmp_path, frames):
    paths = write_tables(frames, tmp_path)
    first, again = load_tables(tmp_path), load_tables(tmp_path)
    assert first.hashes == again.hashes == {t: sha256(p) for t, p in paths.items()}
    assert first.files == {t: str(p) for t, p in paths.items()}
    with paths["units"].open("a", encoding="utf-8") as handle:
        handle.write("\n")
    changed = load_tables(tmp_path).hashes
    assert changed["units"] != first.hashes["units"]
    assert (changed["employees"], changed["pay"]) == (first.hashes["employees"], first.hashes["pay"])


def test_values_are_read_as_written_without_surrounding_spaces(tmp_path, text_frames):
    text_frames["employees"].loc[0, ["tier", "performance", "employee_id"]] = ["01", " 7.50 ", " E000001"]
    write_tables(text_frames, tmp_path)
    raw = load_tables(tmp_path).employees
    assert raw.loc[2, ["tier", "performance", "employee_id"]].tolist() == ["01", "7.50", "E000001"]
    tables = load_inputs(tmp_path)
    assert (tables.employees.loc[0, "tier"], tables.employees.loc[0, "performance"]) == (1, 7.5)
    assert tables.employees.loc[0, "employee_id"] == "E000001"


def test_csv_rows_count_blank_lines(tmp_path, frames):
    write_tables(frames, tmp_path)
    path = tmp_path / "units.csv"
    header, first, *rest = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([header, first, "", ",,,", *rest]).replace(",72.5,", ",bad,") + "\n", encoding="utf-8")
    assert load_tables(tmp_path).units.index.tolist() == [2, 5, 6]
    problems = validate(load_tables(tmp_path))
    assert [(p.file, p.row, p.value) for p in problems] == [("units.csv", 5, "bad")]


def test_csv_row_with_extra_fields(tmp_path, frames):
    write_tables(frames, tmp_path)
    path = tmp_path / "units.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",B,", ",B,,extra,"), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_tables(tmp_path)
    assert str(caught.value.problems[0]) == (
        "units.csv: expected a readable CSV file (Error tokenizing data. C error: Expected 9 fields in line 3, saw 11)"
    )


def test_header_names_a_column_twice(tmp_path, frames):
    write_tables(frames, tmp_path)
    path = tmp_path / "units.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("strategic", "name", 1), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_tables(tmp_path)
    assert str(caught.value.problems[0]) == "units.csv column name: expected a column name used once in the header"


def test_workbook_rows_are_sheet_rows(tmp_path, frames):
    workbook = write_tables(frames, tmp_path, fmt="xlsx")["units"]
    book = openpyxl.load_workbook(workbook)
    book["units"].insert_rows(3)
    book["units"]["C4"] = "bad"
    book.save(workbook)
    problems = validate(load_tables(workbook))
    assert [str(p) for p in problems] == [
        "tables.xlsx sheet units row 4 (unit_id=U2) column strategic: got 'bad', expected a number in 0..100"
    ]


def test_missing_folder(tmp_path):
    with pytest.raises(InputError) as caught:
        load_tables(tmp_path / "nowhere")
    assert caught.value.problems[0].expected == "a folder of input tables or an .xlsx workbook"


def test_write_tables_rejects_unknown_format(tmp_path, frames):
    with pytest.raises(ValueError, match="unknown format 'json'"):
        write_tables(frames, tmp_path, fmt="json")
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------------ files that cannot be tables


def problem_texts(path: Path) -> list[str]:
    """Every problem load_inputs raises for ``path``, as printed."""
    with pytest.raises(InputError) as caught:
        load_inputs(path)
    return [str(p) for p in caught.value.problems]


EMPTY_CSV = "employees.csv: expected a header line naming the columns, then one line per row (the file is empty)"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("header", "employees.csv: expected at least one data row"),
        ("\n\n\n", EMPTY_CSV),
        ("", EMPTY_CSV),
        ("\x00\x01PK\x00\x00\n\x00", "employees.csv: expected a readable CSV file (its first line holds NUL bytes: "
                                     "binary data, not text)"),
    ],
)
def test_csv_without_rows_or_text(tmp_path, frames, content, expected):
    write_tables(frames, tmp_path)
    header = ",".join(frames["employees"].columns) + "\n"
    (tmp_path / "employees.csv").write_text(header if content == "header" else content, encoding="utf-8")
    assert problem_texts(tmp_path) == [expected]


def test_csv_in_another_encoding(tmp_path, frames):
    write_tables(frames, tmp_path)
    (tmp_path / "employees.csv").write_bytes(bytes(range(256)) * 4)
    assert problem_texts(tmp_path) == [
        "employees.csv: expected UTF-8 text (line 2 has byte 0x80, which is not UTF-8; save it as 'CSV UTF-8')"]


def test_parquet_without_rows(tmp_path, frames):
    write_tables(frames, tmp_path)
    (tmp_path / "pay.csv").unlink()
    frames["pay"].iloc[:0].to_parquet(tmp_path / "pay.parquet", index=False)
    assert problem_texts(tmp_path) == ["pay.parquet: expected at least one data row"]


def test_workbook_that_is_not_one(tmp_path):
    (tmp_path / "tables.xlsx").write_bytes(b"employee_id,unit_id\nE1,U1\n")
    assert problem_texts(tmp_path) == ["tables.xlsx: expected a readable .xlsx workbook (File is not a zip file)"]


@pytest.mark.parametrize("with_chart", [False, True])
def test_chart_sheet_in_place_of_a_table(tmp_path, frames, with_chart):
    """An empty chart sheet makes openpyxl fail on the whole workbook; one with a chart opens. Both name the sheet."""
    workbook = write_tables(frames, tmp_path, fmt="xlsx")["pay"]
    book = openpyxl.load_workbook(workbook)
    del book["pay"]
    sheet = book.create_chartsheet("pay")
    if with_chart:
        chart = BarChart()
        chart.add_data(Reference(book["units"], min_col=3, min_row=1, max_row=4))
        sheet.add_chart(chart)
    book.save(workbook)
    assert problem_texts(tmp_path) == ["tables.xlsx sheet pay: expected a worksheet of cells (found a chart sheet)"]
