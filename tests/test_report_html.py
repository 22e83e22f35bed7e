"""The planners' HTML report, written after a real solve and opened in real headless Chromium, offline.

The group has units named in Chinese, ``<script>alert(1)</script>`` and ``=1+2``: the first must show
intact, the second as text with no alert, the third without the CSV files' formula mark. Chromium comes
from Debian's ``chromium`` and ``chromium-driver`` packages (installed by .ci/run); the tests skip only
when no Chromium is found.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from models.io import write_tables
from models.scenario_files import load_scenario, scenario_path
from models.synthetic import generate_tables
from optimizer.pipeline import EXIT_OK, run_plan
from optimizer.plan.safe_text import restore_text
from optimizer.whatif.sentences import diagnosis_sentences, unproven_sentences
from reports.plugins import write_html_report
from tests.browsers import chromium
from tests.builders import with_unproven_cost

pytestmark = pytest.mark.slow

CHINESE_UNIT = "包钢稀土"
SCRIPT_UNIT = "<script>alert(1)</script>"
FORMULA_UNIT = "=1+2"
CHART_IDS = ["chart-mix", "chart-budget", "chart-pyramids", "chart-flows"]
RECORD_ALERTS = "window.__alerts = []; window.alert = (message) => window.__alerts.push(String(message));"
DIAGNOSIS = {
    "feasible": True,
    "missed": {"mix": [{"year": 3, "sequence": "<b>not bold</b>", "share": 0.2875, "lower": 0.295, "upper": 0.305,
                        "shortfall": 0.0075, "side": "below", "points": 0.75, "heads": 3.0}],
               "budget": [], "softened": []},
    "relaxations": [{"key": "mix.deadline", "from": 3, "to": 5, "limit": 8, "restores": True,
                     "set": ["mix.deadline=5", "horizon=5"], "insufficient": 4, "undecided": [], "probes": 4,
                     "seconds": 12.5, "note": "long_unbroken_value_" * 30}],
    "earliest_year": 5, "earliest_year_limit": 8, "search": {"probes": 4, "workers": 1, "seconds": 12.5},
}
"""A diagnosis as summary.json holds it, with markup in a sequence name and a long value in its raw table."""


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real baseline solve of a 400-person, 4-unit group, the report written by the pipeline itself."""
    root = tmp_path_factory.mktemp("html_report")
    employees, units, pay = generate_tables(400, 4, seed=11)
    names = dict(zip(units["unit_id"], [CHINESE_UNIT, SCRIPT_UNIT, FORMULA_UNIT, *units["unit_id"][3:]], strict=True))
    units["unit_id"] = units["unit_id"].map(names)
    employees["unit_id"] = employees["unit_id"].map(names)
    write_tables({"employees": employees, "units": units, "pay": pay}, root / "data")
    result = run_plan(load_scenario(scenario_path("baseline")), root / "data", root / "plan",
                      report_writers=(write_html_report,))
    assert result.exit_code == EXIT_OK
    return root / "plan"


@pytest.fixture(scope="module")
def diagnosed_report(plan_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same plan with a ``diagnosis`` added to summary.json, its report written again."""
    folder = tmp_path_factory.mktemp("diagnosed") / "plan"
    shutil.copytree(plan_dir, folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    (folder / "summary.json").write_text(json.dumps({**summary, "diagnosis": DIAGNOSIS}), encoding="utf-8")
    return write_html_report(folder)


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    """Headless Chromium through chromedriver, network cut off, ``alert`` recorded instead of shown."""
    driver = chromium(("--host-resolver-rules=MAP * ~NOTFOUND",))
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                           {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_ALERTS})
    yield driver
    driver.quit()


class Page:
    """A report loaded in the browser, with the console messages its loading produced."""

    def __init__(self, driver: webdriver.Chrome, path: Path) -> None:
        driver.get_log("browser")  # drain messages of earlier pages
        driver.get(path.resolve().as_uri())
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(
            "return [...document.querySelectorAll('.plotly-graph-div')].every(div => div.querySelector('.main-svg'))"))
        self.driver = driver
        self.log = driver.get_log("browser")

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def trace(self, div_id: str, name: str) -> dict[str, list[float]]:
        """``x`` and ``y`` of the trace ``name`` of the chart ``div_id``, as plotly drew them (its full data,
        where the page's typed arrays are decoded)."""
        return self.js("const t = document.getElementById(arguments[0])._fullData.find(t => t.name === arguments[1]);"
                       "return {x: Array.from(t.x), y: Array.from(t.y)}", div_id, name)

    def unit_rows(self) -> list[list[str]]:
        return self.js("return [...document.querySelectorAll('#unit-table tbody tr')]"
                       ".map(tr => [...tr.cells].map(td => td.textContent))")


@pytest.fixture
def page(browser: webdriver.Chrome, plan_dir: Path) -> Page:
    """The report freshly loaded (a test that clicks leaves no state behind for the next)."""
    return Page(browser, plan_dir / "report.html")


def _by_unit(plan_dir: Path, table: str) -> pd.DataFrame:
    """A plan CSV with its ``unit_id`` as written by the user (the CSV's formula mark removed)."""
    frame = pd.read_csv(plan_dir / f"{table}.csv", dtype={"unit_id": str}, keep_default_na=False, na_values=[""])
    return frame.assign(unit_id=restore_text(frame["unit_id"]))


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def test_report_is_one_offline_utf8_file(plan_dir: Path, page: Page) -> None:
    html = (plan_dir / "report.html").read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in html
    assert html.count("Plotly.newPlot(") == len(CHART_IDS)
    assert 'src="http' not in html and "cdn.plot.ly" not in html.split("<body>")[1]
    assert page.js("return performance.getEntriesByType('resource').length") == 0
    assert page.js("return document.characterSet") == "UTF-8"


def test_no_console_errors_and_no_alert(page: Page) -> None:
    assert [entry for entry in page.log if entry["level"] == "SEVERE"] == []
    assert page.js("return window.__alerts") == []
    # the action list's data block (type application/json, never run) holds the unit id as JSON text; no script
    # that runs does
    assert page.js("return [...document.scripts].filter(s => s.type !== 'application/json')"
                   ".filter(s => s.textContent.includes('alert(1)')).length") == 0
    assert page.js("return document.getElementById('action-data').type") == "application/json"
    assert "</script>" not in page.js("return document.getElementById('action-data').textContent")
    _search(page, SCRIPT_UNIT)
    assert page.js("return window.__alerts") == []
    assert page.js("return document.querySelectorAll('#action-table tbody script').length") == 0


def test_every_chart_is_drawn(page: Page) -> None:
    drawn = page.js("return [...document.querySelectorAll('.plotly-graph-div')]"
                    ".filter(div => div.querySelector('.main-svg')).map(div => div.id)")
    assert drawn == CHART_IDS
    assert page.js("return document.querySelectorAll('#chart-flows .sankey').length") == 1
    shown_links = page.js("return document.getElementById('chart-flows').data[0].link.value.length")
    assert page.js("return document.querySelectorAll('#chart-flows .sankey-link').length") == shown_links > 0
    assert page.js("return document.querySelectorAll('#chart-pyramids .barlayer .point').length") > 0


def test_mix_chart_plots_mix_csv_and_the_band(page: Page, plan_dir: Path) -> None:
    mix = pd.read_csv(plan_dir / "mix.csv")
    for sequence, rows in mix.groupby("sequence"):
        trace = page.trace("chart-mix", f"{sequence} share")
        assert trace["x"] == rows["year"].tolist()
        assert trace["y"] == pytest.approx((rows["share"] * 100).tolist())
    bands = page.js("return document.getElementById('chart-mix').layout.shapes")
    first_banded = mix.dropna(subset=["lower"]).groupby("sequence").first()
    expected = first_banded.loc[["management", "technical", "operations"]]
    assert [band["y0"] for band in bands] == pytest.approx((expected["lower"] * 100).tolist())
    assert [band["y1"] for band in bands] == pytest.approx((expected["upper"] * 100).tolist())
    deadline = int(mix.dropna(subset=["lower"])["year"].min())
    assert [band["x0"] for band in bands] == pytest.approx([deadline - 0.3] * 3)


def test_budget_chart_plots_totals_and_cap(page: Page, plan_dir: Path) -> None:
    budget = pd.read_csv(plan_dir / "budget.csv", keep_default_na=False, na_values=[""])
    totals = budget[budget["unit_id"] == "ALL"]
    assert page.trace("chart-budget", "Payroll")["y"] == pytest.approx((totals["payroll"] / 1e6).tolist())
    capped = totals.dropna(subset=["cap"])
    assert page.trace("chart-budget", "Cap")["y"] == pytest.approx((capped["cap"] / 1e6).tolist())


def test_sankey_totals_equal_flows_csv_for_year_one_and_all_years(page: Page, plan_dir: Path) -> None:
    flows = pd.read_csv(plan_dir / "flows.csv")
    year_one, all_years = page.js("return document.getElementById('chart-flows').data.map(t => t.link.value)")
    assert sum(year_one) == pytest.approx(flows.loc[flows["year"] == 1, "count"].sum())
    assert sum(all_years) == pytest.approx(flows["count"].sum())
    exits = flows[flows["kind"].isin(["attrition", "redundancy"])]["count"].sum()
    sankey = page.js("return document.getElementById('chart-flows').data[1]")
    out = sankey["node"]["label"].index("out (attrition, redundancy)")
    into_out = [value for value, target in zip(sankey["link"]["value"], sankey["link"]["target"], strict=True)
                if target == out]
    assert sum(into_out) == pytest.approx(exits)


def test_flow_menu_switches_the_sankey_to_all_years(page: Page) -> None:
    drawn_links = "return document.querySelectorAll('#chart-flows .sankey-link').length"
    year_one, all_years = page.js("return document.getElementById('chart-flows').data.map(t => t.link.value.length)")
    assert page.js(drawn_links) == year_one
    page.driver.find_element(By.CSS_SELECTOR, "#chart-flows .updatemenu-header").click()
    def opened(driver):  # the dropdown draws its buttons after the click; wait until every label shows
        buttons = driver.find_elements(By.CSS_SELECTOR, "#chart-flows .updatemenu-dropdown-button")
        return buttons if len(buttons) == 2 and all(button.text for button in buttons) else False

    labels = WebDriverWait(page.driver, 10).until(opened)
    assert [label.text for label in labels] == ["year 1", "all years (1–3)"]
    labels[1].click()
    WebDriverWait(page.driver, 10).until(lambda d: d.execute_script(drawn_links) == all_years)
    assert all_years > year_one


def test_unit_table_has_one_row_per_unit_with_its_numbers(page: Page, plan_dir: Path) -> None:
    units, headcount, budget = (_by_unit(plan_dir, table) for table in ("units", "headcount", "budget"))
    last = int(headcount["year"].max())
    units = units[units["year"] == 0]  # the plan keeps its grades: one grade per unit (no review changes it)
    assert units["grade"].tolist() == _by_unit(plan_dir, "units").query(f"year == {last}")["grade"].tolist()
    rows = {row[0]: row for row in page.unit_rows()}
    assert sorted(rows) == sorted(units["unit_id"]) and len(page.unit_rows()) == len(units)
    heads = headcount.groupby(["unit_id", "year"])["headcount"].sum()
    cost = budget.set_index(["unit_id", "year"])["total"]
    for unit in units.itertuples():
        row = rows[unit.unit_id]
        assert row[1] == unit.name and row[2] == unit.grade
        assert _number(row[5]) == heads[unit.unit_id, 0]
        assert _number(row[6]) == pytest.approx(heads[unit.unit_id, last], abs=1.0)  # whole people
        assert _number(row[10]) == pytest.approx((cost[unit.unit_id, last] - cost[unit.unit_id, 0]) / 1e6, abs=0.005)
    footer = page.js("return [...document.querySelector('#unit-table tfoot tr').cells].map(td => td.textContent)")
    shown = [_number(row[6]) for row in rows.values()]
    assert all(value == int(value) for value in shown)
    assert sum(shown) == _number(footer[6]) == round(headcount.loc[headcount["year"] == last, "headcount"].sum())


def test_names_from_data_show_as_text(page: Page, plan_dir: Path) -> None:
    first_cells = [row[0] for row in page.unit_rows()]
    assert {CHINESE_UNIT, SCRIPT_UNIT, FORMULA_UNIT} <= set(first_cells)
    html = (plan_dir / "report.html").read_text(encoding="utf-8")
    assert SCRIPT_UNIT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_status_section_shows_the_summary(page: Page, plan_dir: Path) -> None:
    summary = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
    status = page.js("return document.getElementById('status').textContent")
    assert f"{summary['status']}: every target met" in status
    assert page.js("return document.getElementById('diagnosis')") is None
    counts = page.js("return [...document.querySelectorAll('#status table')].map(t => t.textContent)")
    assert any(f"stay{summary['counts']['stay']:,}" in text for text in counts)


def test_diagnosis_is_rendered_when_present(browser: webdriver.Chrome, diagnosed_report: Path) -> None:
    diagnosed = Page(browser, diagnosed_report)
    assert [entry for entry in diagnosed.log if entry["level"] == "SEVERE"] == []
    sentences = diagnosed.js("return [...document.querySelectorAll('#diagnosis .sentences li')].map(li => li.innerText)")
    assert sentences == diagnosis_sentences(DIAGNOSIS)
    assert "<b>not bold</b> share is 28.8%" in sentences[0]
    assert diagnosed.js("return document.querySelectorAll('#diagnosis b').length") == 0
    assert diagnosed.js("return document.querySelector('#diagnosis details').open") is False
    diagnosed.js("document.querySelector('#diagnosis details').open = true")
    raw = diagnosed.js("return document.querySelector('#diagnosis details').innerText")
    assert "relaxations" in raw and "insufficient" in raw
    assert diagnosed.js("return document.documentElement.scrollWidth <= window.innerWidth")


def _haystack(actions: pd.DataFrame, units: pd.DataFrame) -> pd.Series:
    """What the action table's search looks through, per actions.csv row, as the page builds it."""
    names = dict(zip(units["unit_id"], units["name"]))

    def label(prefix: str) -> tuple[pd.Series, pd.Series]:
        unit = actions[f"{prefix}unit"]
        text = (unit + " " + unit.map(names).fillna("")).str.strip().fillna("")
        state = (actions[f"{prefix}sequence"] + " T" + actions[f"{prefix}tier"].astype("Int64").astype(str) + " G"
                 + actions[f"{prefix}grade"].astype("Int64").astype(str)).fillna("")
        return text, state

    parts = [actions["employee_id"], actions["name"].fillna(""), actions["action"], *label("from_"), *label("to_")]
    return pd.concat(parts, axis=1).apply(lambda row: " " + " ".join(row), axis=1).str.lower()


def _search(page: Page, text: str) -> list[list[str]]:
    """Type ``text`` into the action search and return every matching row, page by page."""
    box = page.driver.find_element(By.ID, "action-search")
    box.clear()
    box.send_keys(text)
    WebDriverWait(page.driver, 10).until(
        lambda d: d.execute_script("return document.getElementById('action-table').dataset.query") == text)
    rows = []
    while True:
        rows += page.js("return [...document.querySelectorAll('#action-table tbody tr')]"
                        ".map(tr => [...tr.cells].map(td => td.textContent))")
        count = page.driver.find_element(By.ID, "action-count").text
        shown, total = count.split(" of ")[0].split("–")[1], count.split(" of ")[1].split(" ")[0]
        if _number(shown) >= _number(total):
            return rows
        page.driver.find_element(By.ID, "action-next").click()


def test_action_table_finds_a_unit_by_its_name_and_a_person_by_a_chinese_name(page: Page, plan_dir: Path) -> None:
    """The searchable action table: filtering by a unit's name gives exactly the actions from or to that unit;
    by a Chinese name exactly that person's row (and anyone else whose row holds the text)."""
    actions = pd.read_csv(plan_dir / "actions.csv", dtype=str, keep_default_na=False, na_values=[""])
    units = _by_unit(plan_dir, "units")
    actions = actions.assign(**{c: restore_text(actions[c]) for c in ("from_unit", "to_unit")})
    hay = _haystack(actions, units)
    name = units.loc[units["unit_id"] == CHINESE_UNIT, "name"].iloc[0]
    rows = _search(page, name)
    expected = actions[hay.str.contains(name.lower(), regex=False)]
    assert len(rows) == len(expected) > 0
    assert sorted(row[0] for row in rows) == sorted(expected["employee_id"])
    assert all(name in row[3] or name in row[5] for row in rows)
    person = actions[actions["name"].notna() & actions["name"].str.len().ge(3)].iloc[0]
    rows = _search(page, person["name"])
    expected = actions[hay.str.contains(person["name"].lower(), regex=False)]
    assert person["employee_id"] in [row[0] for row in rows]
    assert sorted(row[0] for row in rows) == sorted(expected["employee_id"])
    assert [row[1] for row in rows if row[0] == person["employee_id"]] == [person["name"]]


def test_action_table_sorts_by_a_column(page: Page, plan_dir: Path) -> None:
    actions = pd.read_csv(plan_dir / "actions.csv", dtype={"employee_id": str})
    heading = page.driver.find_elements(By.CSS_SELECTOR, "#action-table th")[7]
    assert heading.text == "old salary"
    heading.click()
    first = page.js("return document.querySelector('#action-table tbody tr').cells[7].textContent")
    assert _number(first) == round(actions["old_salary"].min())
    heading.click()
    first = page.js("return document.querySelector('#action-table tbody tr').cells[7].textContent")
    assert _number(first) == round(actions["old_salary"].max())
    assert page.driver.find_element(By.ID, "action-count").text.startswith(f"rows 1–100 of {len(actions):,}")


def test_a_payroll_the_time_limit_left_unproven_is_said_under_the_status(plan_dir: Path, tmp_path: Path) -> None:
    """A cost stage stopped by the time limit before it had a bound (as on a large group) gets the sentence of
    :func:`unproven_sentences` under "Not proven"; the solved plan (its cost proven) has no such section."""
    assert 'id="unproven"' not in (plan_dir / "report.html").read_text(encoding="utf-8")
    folder = tmp_path / "plan"
    summary = with_unproven_cost(plan_dir, folder)
    page = write_html_report(folder).read_text(encoding="utf-8")
    (sentence,) = unproven_sentences(summary)
    assert f'<h3 id="unproven">Not proven</h3><ul class="sentences"><li>{escape(sentence)}</li></ul>' in page
