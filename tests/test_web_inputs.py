"""The page's input tables: an upload is validated as ``wfplan validate`` validates (every problem, naming file,
row, column and value), kept by content when valid, and leaves nothing behind when rejected."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.io import InputError
from tests.webpage import csv_files, group_tables, xlsx_bytes
from web.inputs import Upload, accept_upload, demo_inputs, overview


def uploads(files) -> list[Upload]:
    return [Upload(name, data) for name, data, _ in files]


def everything_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def test_valid_csv_upload_is_kept_once_by_its_content(tmp_path: Path) -> None:
    first = accept_upload(tmp_path, uploads(csv_files()))
    assert first.path.parent == tmp_path and first.path.name.startswith("upload-")
    assert sorted(p.name for p in first.path.iterdir()) == [".wfplan", "employees.csv", "pay.csv", "units.csv"]
    assert len(first.tables.employees) == 120 and len(first.tables.units) == 3
    again = accept_upload(tmp_path, uploads(csv_files()))
    assert again.path == first.path
    assert len(list(tmp_path.iterdir())) == 1


def test_a_workbook_and_parquet_files_are_accepted(tmp_path: Path) -> None:
    tables = group_tables()
    book = accept_upload(tmp_path, [Upload("Group Tables.XLSX", xlsx_bytes(tables))])
    assert len(book.tables.employees) == 120
    parquet = []
    for name, frame in tables.items():
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
        parquet.append(Upload(f"{name}.parquet", (tmp_path / f"{name}.parquet").read_bytes()))
    flat = accept_upload(tmp_path / "inputs", parquet)
    assert flat.tables.employees["employee_id"].tolist() == book.tables.employees["employee_id"].tolist()


def test_bad_cells_are_all_listed_and_nothing_is_kept(tmp_path: Path) -> None:
    tables = group_tables()
    tables["employees"] = tables["employees"].astype(object)
    tables["employees"].loc[1, "tier"] = "x"            # CSV row 3
    tables["employees"].loc[4, "sequence"] = "sales"    # CSV row 6
    with pytest.raises(InputError) as caught:
        accept_upload(tmp_path, uploads(csv_files(tables)))
    lines = str(caught.value).splitlines()
    assert lines[0] == "2 problems in employees.csv, units.csv, pay.csv:"
    assert lines[1].startswith("  employees.csv row 3 (employee_id=E0000002) column tier: got 'x', expected")
    assert lines[2].startswith("  employees.csv row 6 (employee_id=E0000005) column sequence: got 'sales', expected")
    assert everything_under(tmp_path) == []


def test_a_corrupt_workbook_is_one_clear_problem_and_nothing_is_kept(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        accept_upload(tmp_path, [Upload("tables.xlsx", b"PK\x03\x04 this is no workbook" * 50)])
    [problem] = caught.value.problems
    assert problem.file == "tables.xlsx" and problem.expected.startswith("a readable .xlsx workbook (")
    assert everything_under(tmp_path) == []


def test_files_that_are_no_table_are_named(tmp_path: Path) -> None:
    files = csv_files()
    with pytest.raises(InputError) as caught:
        accept_upload(tmp_path, [Upload("roster.csv", files[0][1]), Upload("units.csv", files[1][1]),
                                 Upload("units.txt", b"")])
    assert [p.file for p in caught.value.problems] == ["roster.csv", "units.txt"]
    with pytest.raises(InputError) as caught:
        accept_upload(tmp_path, [Upload("a.xlsx", b""), Upload("units.csv", b"")])
    assert caught.value.problems[0].expected.startswith("one .xlsx workbook alone")
    with pytest.raises(InputError) as caught:
        accept_upload(tmp_path, [Upload("pay.csv", b""), Upload("dir/pay.csv", b"")])
    assert [str(p) for p in caught.value.problems] == ["pay: expected one file per table (it was uploaded twice)"]
    assert everything_under(tmp_path) == []


def test_the_demo_group_is_made_once(tmp_path: Path) -> None:
    first = demo_inputs(tmp_path, 150)
    stamp = (first.path / "employees.csv").stat().st_mtime_ns
    again = demo_inputs(tmp_path, 150)
    assert len(again.tables.employees) == 150 and again.tables.units["unit_id"].nunique() == 20
    assert (again.path / "employees.csv").stat().st_mtime_ns == stamp
    table = overview(again.tables)
    assert table["sequence"].tolist() == ["management", "technical", "operations"]
    assert table["headcount"].sum() == 150 and table["share"].sum() == pytest.approx(1.0)
