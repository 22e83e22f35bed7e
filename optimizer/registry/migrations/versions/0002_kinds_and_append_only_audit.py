"""Runs get a ``kind`` (solve, demo, sweep_point, frontier_point) and a ``study`` (the sweep or frontier they
belong to), an index for "the runs of a scenario, newest first", and the database itself refuses UPDATE and
DELETE on ``audit`` (triggers), so the audit trail is append-only whatever client writes to it.

Runs recorded under the first schema become ``kind = 'solve'`` with no study.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY = "the audit table is append-only"
SQLITE_TRIGGERS = {
    "audit_no_update": f"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
                       f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
    "audit_no_delete": f"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
                       f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
}
POSTGRES_FUNCTION = (f"CREATE FUNCTION wfplan_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                     f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$")
POSTGRES_TRIGGER = ("CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
                    "FOR EACH ROW EXECUTE FUNCTION wfplan_audit_append_only()")


def upgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("kind", sa.String(20), nullable=False, server_default="solve"))
        runs.add_column(sa.Column("study", sa.String(40), nullable=True))
    op.create_index("ix_runs_scenario_created", "runs", ["scenario", "created_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        for trigger in SQLITE_TRIGGERS.values():
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_append_only ON audit")
        op.execute("DROP FUNCTION wfplan_audit_append_only()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_index("ix_runs_scenario_created", "runs")
    with op.batch_alter_table("runs") as runs:
        runs.drop_column("study")
        runs.drop_column("kind")
