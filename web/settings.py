"""Where the page keeps its files, and its settings: ``wfplan serve`` passes them to the Streamlit script in
environment variables (the script runs in Streamlit's process, which the command starts), so tests set the
same variables for :class:`streamlit.testing.v1.AppTest`.

Files under the home folder (the folder ``wfplan serve`` was started in, unless ``WFPLAN_HOME`` says): the run
store ``wfplan.db`` (unless ``WFPLAN_DB`` names another), ``runs/<scenario>/<run id>/`` the plan folders
(docs/outputs.md), ``.wfplan-serve/inputs/<name>/`` the input
tables planners chose (the demo group, accepted uploads), ``.wfplan-serve/jobs/<run id>/`` each run's request,
progress lines and outcome.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from optimizer.registry.database import DEFAULT_FILE

ENV_HOME, ENV_DB, ENV_MAX_UPLOAD, ENV_WORKERS = "WFPLAN_HOME", "WFPLAN_DB", "WFPLAN_MAX_UPLOAD_MB", "WFPLAN_WORKERS"
DEFAULT_MAX_UPLOAD_MB = 200
DEFAULT_WORKERS = 2
"""Solves at once; more wait in the queue (one solve per process, each single-threaded by default)."""


@dataclass(frozen=True)
class Settings:
    """The page's configuration: home folder, run-store URL (None: the default), upload cap, parallel solves."""

    home: Path
    db: str | None = None
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB
    workers: int = DEFAULT_WORKERS

    @property
    def store(self) -> str:
        """The run store: ``db``, else the SQLite file ``wfplan.db`` in the home folder (as ``wfplan solve``
        started there uses)."""
        return self.db or str(self.home / DEFAULT_FILE)

    @property
    def runs(self) -> Path:
        return self.home / "runs"

    @property
    def own(self) -> Path:
        """The page's own working files (inputs, jobs)."""
        return self.home / ".wfplan-serve"

    @property
    def inputs(self) -> Path:
        return self.own / "inputs"

    @property
    def jobs(self) -> Path:
        return self.own / "jobs"


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{name}={text!r}: expected a whole number ≥ 1")
    return int(text)


def settings_from_env(environ: Mapping[str, str] = os.environ) -> Settings:
    """The settings the environment gives (``WFPLAN_HOME``, ``WFPLAN_DB``, ``WFPLAN_MAX_UPLOAD_MB``,
    ``WFPLAN_WORKERS``); defaults: the working folder, the default store, 200 MB, 2 solves at once."""
    return Settings(
        home=Path(environ.get(ENV_HOME) or os.getcwd()).absolute(),
        db=environ.get(ENV_DB) or None,
        max_upload_mb=_positive(environ, ENV_MAX_UPLOAD, DEFAULT_MAX_UPLOAD_MB),
        workers=_positive(environ, ENV_WORKERS, DEFAULT_WORKERS),
    )
