"""Catalog: organizations, datasets, versions and their metadata."""

# The search index keeps itself current through session events registered on import.
from datenschatz.catalog import search_index as _search_index  # noqa: F401
