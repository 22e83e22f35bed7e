"""A run's lifecycle: the states, and which action moves a run from which state to which.

    draft ──submit──▶ submitted ──approve──▶ approved ──(another run of the scenario approved)──▶ superseded
                                 └─reject──▶ rejected
    draft ──(its folder replaced by a later run written with the same explicit --out)──▶ discarded

Every run starts as ``draft``. Only a run with a plan (exit 0 or 3, a folder with plan tables) may be
submitted. The approver must not be the person who submitted it (segregation of duties). Approving a run
supersedes the run of the same scenario approved before it, so each scenario has at most one approved plan.
"""

from __future__ import annotations

from dataclasses import dataclass

DRAFT, SUBMITTED, APPROVED, REJECTED, SUPERSEDED, DISCARDED = (
    "draft", "submitted", "approved", "rejected", "superseded", "discarded")
STATUSES = (DRAFT, SUBMITTED, APPROVED, REJECTED, SUPERSEDED, DISCARDED)
PLAN_EXITS = (0, 3)
"""Exit codes of a run that wrote a plan (every target met; the closest plan to a missed target)."""


@dataclass(frozen=True)
class Transition:
    """A user's action: the state it starts from and the state it leads to."""

    action: str
    source: str
    target: str


TRANSITIONS = {
    t.action: t
    for t in (
        Transition("submit", DRAFT, SUBMITTED),
        Transition("approve", SUBMITTED, APPROVED),
        Transition("reject", SUBMITTED, REJECTED),
    )
}
"""The actions users take (``wfplan runs submit|approve|reject``); ``record``, ``supersede`` and ``discard``
are the tool's own, audited alike."""
