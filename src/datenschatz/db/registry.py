"""Every module of relational models, imported: ``Base.metadata`` then knows every table.

Each capability keeps its tables in its own ``db/*_models.py`` module and imports it where it
is used. Alembic and the schema tests need all of them at once; :func:`all_metadata` loads
them. A test keeps :data:`MODEL_MODULES` complete.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

MODEL_MODULES = (
    "datenschatz.db.models",
    "datenschatz.db.catalog_models",
    "datenschatz.db.search_models",
    "datenschatz.db.privacy_models",
    "datenschatz.db.privacy_ledger_models",
    "datenschatz.db.governance_models",
    "datenschatz.db.governance_release_models",
    "datenschatz.db.sensor_models",
    "datenschatz.db.analysis_models",
)


def all_metadata() -> MetaData:
    """The metadata of every table Datenschatz defines."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
    from datenschatz.db.models import Base

    return Base.metadata
