"""The domain: input tables and their validation, pay structure, unit grading, scenario schema, demo data."""
