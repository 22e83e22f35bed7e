"""Headless Chromium for the browser tests: Debian's ``chromium`` and ``chromium-driver`` (installed by
``.ci/run``; test tools cannot fetch a browser here), driven through selenium. A test skips only when no
Chromium is found."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

BROWSERS = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
DRIVERS = ("/usr/bin/chromedriver", "chromedriver")
BROWSER_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,900",
)


def _first_found(candidates: tuple[str, ...]) -> str | None:
    return next((found for name in candidates if (found := shutil.which(name))), None)


def chromium(extra_flags: tuple[str, ...] = (), downloads: Path | None = None) -> webdriver.Chrome:
    """A fresh headless Chromium (its own new profile folder) recording the console, with ``extra_flags``;
    files it downloads go to ``downloads`` without asking. Skips the test when there is no Chromium."""
    binary = _first_found(BROWSERS)
    if binary is None:
        pytest.skip("no Chromium found: install Debian's chromium and chromium-driver (.ci/run does)")
    driver_path = _first_found(DRIVERS)
    assert driver_path, f"Chromium found at {binary} but no chromedriver: install Debian's chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*BROWSER_FLAGS, *extra_flags, f"--user-data-dir={tempfile.mkdtemp(prefix='wfplan-chromium-')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if downloads is not None:
        options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                                  "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    if downloads is not None:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    return driver
