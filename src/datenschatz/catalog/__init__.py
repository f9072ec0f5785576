"""Catalog: organizations, datasets, versions and their metadata."""

# The search index keeps itself current through session events registered on import.
from datenschatz.catalog import search_sync as _search_sync  # noqa: F401
