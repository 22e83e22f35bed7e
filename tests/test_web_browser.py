"""The what-if page end to end in real headless Chromium: ``wfplan serve`` started on a free port, a planner
uploads a small roster, moves a control, runs, sees the mix chart and the action table, downloads the workbook
and opens it, and the run is submitted and approved; no console errors. Two browser sessions solve at the
same time and both runs land in the run store. An upload over the size limit and a corrupt file each get a
clear message."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from optimizer.registry.store import RunStore
from tests.browsers import chromium
from tests.webpage import write_group

pytestmark = pytest.mark.slow

UPLOAD_LIMIT_MB = 1
SOLVE_SECONDS = 600
"""Waits are generous: a loaded 2-core machine solves slowly; a passing run takes far less."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """``wfplan serve`` in its own process group in a home folder of its own."""

    def __init__(self, home: Path) -> None:
        self.home, self.port = home, free_port()
        self.log = (home / "serve.log").open("w")
        wfplan = Path(sys.executable).with_name("wfplan")
        self.process = subprocess.Popen(
            [str(wfplan), "serve", "--port", str(self.port), "--max-upload-mb", str(UPLOAD_LIMIT_MB),
             "--db", str(home / "wfplan.db")],
            cwd=home, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (home / "serve.log").read_text()
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise TimeoutError("wfplan serve did not answer in 120 s")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("serve_home"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def roster(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = write_group(tmp_path_factory.mktemp("roster") / "tables")
    return [folder / f"{name}.csv" for name in ("employees", "units", "pay")]


class Page:
    """The page in one browser session."""

    def __init__(self, driver: webdriver.Chrome, url: str) -> None:
        self.driver = driver
        driver.get(url)
        self.wait_text("Current scenario", 120)

    def body(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "body").text

    def wait_text(self, text: str, timeout: float = 60) -> None:
        WebDriverWait(self.driver, timeout, poll_frequency=0.5).until(lambda d: text in self.body(),
                                                                      f"no {text!r} on the page")

    def tab(self, name: str) -> None:
        """Select the tab ``name``, clicking it again until the page shows it selected: a click while the page
        reruns (two browsers and a busy machine) can be lost, and the tab drawn again."""
        def selected(driver) -> bool:
            tabs = [t for t in driver.find_elements(By.CSS_SELECTOR, '[role="tab"]') if t.text == name]
            if tabs and tabs[0].get_attribute("aria-selected") != "true":
                tabs[0].click()
            return bool(tabs) and tabs[0].get_attribute("aria-selected") == "true"

        WebDriverWait(self.driver, 60, poll_frequency=1.0, ignored_exceptions=(StaleElementReferenceException,)).until(
            selected, f"the tab {name!r} not selected")

    def click(self, label: str) -> None:
        """Click the visible button ``label`` (once it is enabled)."""
        def ready(driver):
            found = [b for b in driver.find_elements(By.XPATH, f"//button[normalize-space(.)='{label}']")
                     if b.is_displayed() and b.is_enabled()]
            return found[0] if found else False
        WebDriverWait(self.driver, 60).until(ready, f"no button {label!r}").click()

    def visible(self, css: str, timeout: float = 60):
        """The first visible element matching ``css``, once there is one."""
        def found(driver):
            shown = [e for e in driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()]
            return shown[0] if shown else False
        return WebDriverWait(self.driver, timeout).until(found, f"nothing visible matches {css}")

    def type_into(self, label: str, value: str) -> None:
        """Replace the text of the visible input ``label`` and commit it (Enter)."""
        field = self.visible(f'input[aria-label="{label}"]')
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(value, Keys.ENTER)

    def choose(self, option: str) -> None:
        self.visible('[data-testid="stRadio"] label')
        [label] = [r for r in self.driver.find_elements(By.CSS_SELECTOR, '[data-testid="stRadio"] label')
                   if r.text == option]
        label.click()

    def upload(self, *paths: Path) -> None:
        WebDriverWait(self.driver, 30).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stFileUploader"] input[type=file]'))
        field = self.driver.find_element(By.CSS_SELECTOR, '[data-testid="stFileUploader"] input[type=file]')
        field.send_keys("\n".join(str(p) for p in paths))

    def charts(self) -> list[str]:
        """The text (titles, labels) of every drawn plotly chart."""
        return [c.text for c in self.driver.find_elements(By.CSS_SELECTOR, '[data-testid="stPlotlyChart"]')
                if c.find_elements(By.CSS_SELECTOR, ".main-svg")]

    def severe(self) -> list[dict]:
        return [entry for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]


def upload_and_use(page: Page, roster: list[Path]) -> None:
    page.tab("Data")
    page.choose("Upload tables")
    page.upload(*roster)
    page.wait_text("pay.csv")
    page.click("Check and use these tables")
    page.wait_text("Planning with the uploaded tables (employees.csv, units.csv, pay.csv): 120 employees in 3 units.")


def run_and_wait(page: Page) -> None:
    """Run the what-if and wait until the page says its plan is written."""
    page.tab("Run")
    page.click("Run this what-if")
    page.wait_text("the plan is written and verified.", SOLVE_SECONDS)  # proven or within its gap


def runs_of(server: Server, user: str) -> list:
    """The runs the store holds for ``user``, newest first."""
    with RunStore.open(str(server.home / "wfplan.db")) as store:
        return [info for info in store.runs() if info.user == user]


def test_a_planner_uploads_runs_reads_downloads_and_approves(server: Server, roster: list[Path],
                                                              tmp_path: Path) -> None:
    driver = chromium(downloads=tmp_path)
    try:
        page = Page(driver, server.url)
        page.type_into("Your name", "li.wei")
        upload_and_use(page, roster)
        page.tab("Scenario")
        page.type_into("Budget growth per year (%)", "4")
        page.wait_text("Changes: budget.growth: 0.05 → 0.04")
        run_and_wait(page)
        [info] = runs_of(server, "li.wei")
        assert (info.status, info.exit_code, info.scenario_resolved["budget"]["growth"]) == ("draft", 0, 0.04)
        run_id = info.id
        page.tab("Results")
        page.wait_text("Mix against the band")
        WebDriverWait(driver, 60).until(lambda d: len(page.charts()) == 3)
        mix = page.charts()[0]
        assert all(sequence in mix for sequence in ("management", "technical", "operations"))
        assert driver.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]')
        page.wait_text("Year-1 actions")
        page.click("Workbook (report.xlsx)")
        WebDriverWait(driver, 60).until(lambda d: list(tmp_path.glob("*.xlsx")))
        [workbook] = tmp_path.glob("*.xlsx")
        assert workbook.name == f"{run_id}-report.xlsx"
        written = info.folder / "report.xlsx"
        assert hashlib.sha256(workbook.read_bytes()).digest() == hashlib.sha256(written.read_bytes()).digest()
        book = openpyxl.load_workbook(workbook, read_only=True)
        assert len(book.sheetnames) >= 4
        book.close()
        page.type_into("Note", "growth 4%")
        page.click("Submit")
        page.wait_text("Status in the run store: submitted")
        page.type_into("Your name", "hr.director")
        page.click("Approve")
        page.wait_text("Status in the run store: approved")
        with RunStore.open(str(server.home / "wfplan.db")) as store:
            audit = store.run(run_id).audit
        assert [(a.actor, a.action, a.comment) for a in audit[1:]] == [
            ("li.wei", "submit", "growth 4%"), ("hr.director", "approve", None)]
        assert page.severe() == []
    finally:
        driver.quit()


def test_two_planners_solve_at_the_same_time(server: Server, roster: list[Path]) -> None:
    drivers = [chromium(), chromium()]
    try:
        pages = [Page(driver, server.url) for driver in drivers]
        for name, page in zip(("planner.a", "planner.b"), pages, strict=True):
            page.type_into("Your name", name)
            upload_and_use(page, roster)
            page.tab("Run")
        for page in pages:
            page.click("Run this what-if")
        for page in pages:
            page.wait_text("the plan is written and verified.", SOLVE_SECONDS)  # proven or within its gap
        for name in ("planner.a", "planner.b"):
            [info] = runs_of(server, name)
            assert info.exit_code == 0 and info.has_plan and info.folder.is_dir()
        assert all(page.severe() == [] for page in pages)
    finally:
        for driver in drivers:
            driver.quit()


def test_an_upload_over_the_limit_and_a_corrupt_file_get_clear_messages(server: Server, tmp_path: Path) -> None:
    big = tmp_path / "employees.csv"
    big.write_text("employee_id\n" + "E0000001\n" * (UPLOAD_LIMIT_MB * 2**20 // 9 + 10_000), encoding="utf-8")
    corrupt = tmp_path / "tables.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 not really a workbook" * 100)
    kept = sorted((server.home / ".wfplan-serve" / "inputs").glob("*"))
    driver = chromium()
    try:
        page = Page(driver, server.url)
        page.tab("Data")
        page.choose("Upload tables")
        page.upload(big)
        page.wait_text(f"File must be {UPLOAD_LIMIT_MB:.1f}MB or smaller.")
        page.upload(corrupt)
        page.wait_text("tables.xlsx")
        page.click("Check and use these tables")
        page.wait_text("The upload was not accepted (nothing was kept). 1 problem in tables.xlsx:")
        page.wait_text("tables.xlsx: expected a readable .xlsx workbook (File is not a zip file)")
    finally:
        driver.quit()
    assert sorted((server.home / ".wfplan-serve" / "inputs").glob("*")) == kept
