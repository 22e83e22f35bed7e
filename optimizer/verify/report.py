"""What the independent verifiers (:mod:`optimizer.verify.graded`, :mod:`optimizer.verify.ladder`) answer, and how it
is run and printed: a check is a function ``plan → list[Finding]``; every check runs, and one that cannot run
on a malformed plan reports that instead of hiding the others' findings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa

__all__ = ["Finding", "Unreadable", "VerificationReport", "fmt", "print_report", "read_or_report", "run_checks"]

Plan = TypeVar("Plan")
Read = TypeVar("Read")
READ_ERRORS = (OSError, ValueError, TypeError, pa.ArrowException)
"""What reading a damaged file raises: not UTF-8 or not CSV/JSON (ValueError, Arrow's errors), unreadable (OSError)."""


class Unreadable(Exception):
    """A plan folder (or its input tables) that cannot be loaded: ``problems`` lists every reason."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def read_or_report(path: Path, read: Callable[[], Read], problems: list[str]) -> Read | None:
    """``read()`` (which reads ``path``), or None with a problem naming ``path`` when the file cannot be read: random
    bytes, invalid UTF-8, a truncated or ragged CSV, JSON that does not parse. Never raises for a damaged file."""
    try:
        return read()
    except READ_ERRORS as exc:
        detail = (str(exc).strip().splitlines() or [""])[0][:200]
        problems.append(f"{path} cannot be read: {type(exc).__name__}: {detail}")
        return None


@dataclass(frozen=True)
class Finding:
    """One failed check: ``check`` names it, ``message`` says what is wrong, with numbers."""

    check: str
    message: str


@dataclass(frozen=True)
class VerificationReport:
    ok: bool
    failures: list[Finding]
    checks: list[str]
    """Names of the checks run."""

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": list(self.checks), "failures": [asdict(f) for f in self.failures]}


def run_checks(load: Callable[[], Plan], checks: Mapping[str, Callable[[Plan], list[Finding]]]) -> VerificationReport:
    """Load the plan (the ``files`` check: :class:`Unreadable` fails it with every problem and stops there),
    then run every check on it."""
    try:
        plan = load()
    except Unreadable as exc:
        return VerificationReport(False, [Finding("files", problem) for problem in exc.problems], ["files"])
    failures: list[Finding] = []
    for name, check in checks.items():
        try:
            failures.extend(check(plan))
        except Exception as exc:  # noqa: BLE001 — a malformed plan must not hide the other checks' findings
            failures.append(Finding(name, f"check could not run: {type(exc).__name__}: {exc}"))
    return VerificationReport(not failures, failures, ["files", *checks])


def print_report(plan_dir: str | Path, report: VerificationReport, what: str = "checks") -> int:
    """Print ``report`` of ``plan_dir`` (``what`` names the checks, e.g. "ladder checks"): one OK line, or a
    FAILED line and one line per finding. Returns the exit code: 0 when every check passed, else 1."""
    if report.ok:
        print(f"OK: {plan_dir} passes all {len(report.checks)} {what} ({', '.join(report.checks)})")
        return 0
    print(f"FAILED: {plan_dir}: {len(report.failures)} problem(s) found by the {what} {', '.join(report.checks)}")
    for finding in report.failures:
        print(f"  [{finding.check}] {finding.message}")
    return 1


def fmt(value: Any) -> str:
    """1234567.5 → '1,234,567.5' (at most 6 decimals); blank → 'empty'."""
    if value is None or pd.isna(value):
        return "empty"
    if isinstance(value, str):
        return value
    text = f"{float(value):,.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
