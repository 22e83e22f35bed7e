"""Alembic environment of the run store: migrations run on the connection :func:`optimizer.registry.database.migrate`
hands over (``config.attributes["connection"]``), never from a URL of their own."""

from __future__ import annotations

from alembic import context

from optimizer.registry.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
