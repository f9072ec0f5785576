"""Governance: accounts, API tokens, the hash-chained audit log, releases and grants.

Each module imports the table modules it uses (``db/governance_models.py``,
``db/governance_release_models.py``); this package itself imports nothing, so that recording an
audit event does not load the release and challenge tables. ``db/registry.py`` loads every
table module where all are needed at once (Alembic, the schema tests).
"""
