"""Run ids, the versioned plan folders ``runs/<scenario>/<run id>/`` with their ``latest`` link, and the
files' hashes a run is recorded with.

A run id is ``YYYYMMDD-HHMMSS-xxxxxx``: the UTC time it started and six random hex digits, so ids sort by
start time and two runs started in the same second never share one. ``runs/<scenario>/`` is a folder of
kind ``runs`` (:mod:`optimizer.plan.folders`: it holds the marker, and only run folders and ``latest``);
each run folder is a new folder, never an earlier one, and ``latest`` is a relative symbolic link to the
run folder recorded last, replaced atomically under a lock so concurrent runs leave it on the last one.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from models.io import sha256_of
from optimizer.plan.folders import MARKER, STAGING_MARKER, owned_folder

LATEST = "latest"
LOCK_FILE = ".wfplan-latest.lock"
NOT_HASHED = frozenset({MARKER, STAGING_MARKER})
"""Files of a run folder that are not the run's content: the folder markers (written around the content)."""
RUN_ID_LENGTH = len("YYYYMMDD-HHMMSS-xxxxxx")


def new_run_id(now: datetime | None = None) -> str:
    """A fresh run id: UTC start time and six random hex digits."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def runs_container(root: str | Path, scenario: str) -> Path:
    """``root/<scenario>``, created when missing, as a folder of kind ``runs`` (refused with
    :class:`~optimizer.plan.folders.OutputFolderError` when it is a folder wfplan did not write, or a plan
    folder of a wfplan before the run registry)."""
    return owned_folder(Path(root) / scenario, "runs")


@dataclass(frozen=True)
class FileHash:
    """A file of a run folder as recorded: sha256 (hex) and size in bytes."""

    sha256: str
    size: int


def file_hashes(folder: Path) -> dict[str, FileHash]:
    """Every file under ``folder`` but the markers: ``/``-separated relative path → :class:`FileHash`
    (sorted by path). Symbolic links are not followed."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.name not in NOT_HASHED:
            found[path.relative_to(folder).as_posix()] = FileHash(sha256_of(path), path.stat().st_size)
    return found


@contextmanager
def _locked(container: Path) -> Iterator[None]:
    with (container / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def point_latest(run_folder: Path) -> Path:
    """Make ``<container>/latest`` point at ``run_folder`` (a relative link, replaced atomically); returns
    the link."""
    container = run_folder.parent
    link = container / LATEST
    with _locked(container):
        temporary = container / f".{LATEST}-{secrets.token_hex(4)}"
        os.symlink(run_folder.name, temporary)
        os.replace(temporary, link)
    return link
