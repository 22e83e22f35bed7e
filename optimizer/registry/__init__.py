"""The run store: every run recorded in a database (SQLite by default, PostgreSQL for a team), versioned plan
folders ``runs/<scenario>/<run id>/``, the approval lifecycle with an append-only audit trail
(:mod:`optimizer.registry.store`, docs/registry.md)."""
