"""The searchable action table of report.html at scale, in real headless Chromium.

For N synthetic year-1 actions (a generated roster, every tenth person promoted to the next grade), the page
of :func:`reports.action_table.action_table_html` is opened and timed: load until the first page of rows shows,
a search by a unit's name, a search by a person's name, a sort by old salary. The baseline in the same run is
the page a naive report would write: every row as a static HTML table (no script), timed to load. Prints a
Markdown table; nothing here is asserted by the tests.

    python benchmarks/action_table.py --sizes 10000 100000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from html import escape
from pathlib import Path

import numpy as np
import pyarrow as pa
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from models.synthetic import generate_tables
from reports.action_table import action_table_html

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900")


def actions_of(n: int) -> tuple[pa.Table, dict[str, str]]:
    """A plan-like action list of ``n`` people: everyone stays but every tenth, who steps one grade up."""
    employees, units, _ = generate_tables(n, 50, seed=1)
    step = (np.arange(n) % 10 == 0) & (employees["grade"].to_numpy() < 5)
    frame = {
        "employee_id": employees["employee_id"], "name": employees["name"],
        "action": np.where(step, "grade_step", "stay"),
        "from_unit": employees["unit_id"], "from_sequence": employees["sequence"],
        "from_tier": employees["tier"].astype(float), "from_grade": employees["grade"].astype(float),
        "to_unit": employees["unit_id"], "to_sequence": employees["sequence"],
        "to_tier": employees["tier"].astype(float), "to_grade": (employees["grade"] + step).astype(float),
        "old_salary": employees["salary"].astype(float), "new_salary": employees["salary"].astype(float) + 1000 * step,
    }
    names = dict(zip(units["unit_id"], units["name"]))
    return pa.table({k: pa.array(np.asarray(v)) for k, v in frame.items()}), names


def static_page(table: pa.Table) -> str:
    columns = ["employee_id", "name", "action", "from_unit", "to_unit", "old_salary", "new_salary"]
    rows = zip(*(table[c].to_pylist() for c in columns))
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body><table>{body}</table></body></html>"


def timed(driver: webdriver.Chrome, action, until: str) -> float:
    start = time.perf_counter()
    action()
    while not driver.execute_script(until):
        time.sleep(0.005)
    return time.perf_counter() - start


def search(driver: webdriver.Chrome, text: str) -> float:
    return timed(driver, lambda: driver.execute_script(
        "const i = document.getElementById('action-search'); i.value = arguments[0];"
        "i.dispatchEvent(new Event('input'));", text),
        f"return document.getElementById('action-table').dataset.query === {text!r}") - 0.12  # less the debounce


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--static-max", type=int, default=20_000,
                        help="largest size for the static baseline (100k static rows take minutes to load)")
    args = parser.parse_args()
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    folder = Path(tempfile.mkdtemp(prefix="wfplan-actions-"))
    print("| rows | page MB | load s | search unit s | search name s | sort s | static table MB | static load s | load ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    try:
        for n in args.sizes:
            table, names = actions_of(n)
            page, static = folder / f"actions-{n}.html", folder / f"static-{n}.html"
            page.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
                            + action_table_html(table, names) + "</body></html>", encoding="utf-8")
            static.write_text(static_page(table), encoding="utf-8")
            load = timed(driver, lambda: driver.get(page.as_uri()),
                         "return document.querySelectorAll('#action-table tbody tr').length > 0")
            unit = search(driver, next(iter(names.values())))
            person = search(driver, str(table["name"][n // 2]))
            sort = timed(driver, lambda: driver.execute_script(
                "document.querySelectorAll('#action-table th')[7].click()"),
                "return document.querySelector('#action-table th[aria-sort]') !== null")
            plain = timed(driver, lambda: driver.get(static.as_uri()),
                          "return document.readyState === 'complete'") if n <= args.static_max else float("nan")
            mb = page.stat().st_size / 1e6
            print(f"| {n:,} | {mb:.1f} | {load:.2f} | {unit:.2f} | {person:.2f} | {sort:.2f} | "
                  f"{static.stat().st_size / 1e6:.1f} | {plain:.2f} | {load / plain:.2f} |", flush=True)
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
