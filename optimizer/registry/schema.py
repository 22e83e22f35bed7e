"""The run store's tables, as SQLAlchemy 2 ORM classes (the migrations in ``migrations/versions`` build them).

- ``runs``: one row per run (a solve, the demo's solve, a sweep point, a frontier point): who ran what, on
  which inputs, with which versions, what came out, where its folder is, and its lifecycle ``status``.
- ``run_files``: the sha256 and size of every file of a run's folder when it was recorded (paths relative
  to the folder, ``/``-separated); an approved plan is checked against them whenever it is read.
- ``audit``: append-only, one row per event of a run's life (recorded, submitted, approved, rejected,
  superseded, discarded) with the actor, the time (UTC) and a comment. The database refuses UPDATE and
  DELETE on it (triggers, revision 0002).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """The declarative base of the run store's tables."""


class RunRow(Base):
    """A run. ``status`` is the lifecycle state (:data:`optimizer.registry.lifecycle.STATUSES`);
    ``solver_status`` and ``exit_code`` are the outcome of the solve (summary.json's ``status``/``exit_code``)."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    username: Mapped[str] = mapped_column(String(200))
    host: Mapped[str] = mapped_column(String(200))
    command: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), server_default="solve")
    study: Mapped[str | None] = mapped_column(String(40))
    scenario: Mapped[str] = mapped_column(String(200), index=True)
    scenario_resolved: Mapped[dict[str, Any]] = mapped_column(JSON)
    input_hashes: Mapped[dict[str, Any]] = mapped_column(JSON)
    versions: Mapped[dict[str, Any]] = mapped_column(JSON)
    solver_status: Mapped[str] = mapped_column(String(40))
    exit_code: Mapped[int] = mapped_column(Integer)
    objective: Mapped[dict[str, Any]] = mapped_column(JSON)
    targets_met: Mapped[bool | None] = mapped_column(Boolean)
    folder: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)

    files: Mapped[list[RunFileRow]] = relationship(back_populates="run", order_by="RunFileRow.path")
    audit: Mapped[list[AuditRow]] = relationship(back_populates="run", order_by="AuditRow.id")

    __table_args__ = (Index("ix_runs_scenario_created", "scenario", "created_at"),)


class RunFileRow(Base):
    """A file of a run's folder as recorded: path relative to the folder, sha256 and size in bytes."""

    __tablename__ = "run_files"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    path: Mapped[str] = mapped_column(String(500), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)

    run: Mapped[RunRow] = relationship(back_populates="files")


class AuditRow(Base):
    """One event of a run's life: ``action`` moved it from ``from_status`` to ``to_status``."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)

    run: Mapped[RunRow] = relationship(back_populates="audit")
