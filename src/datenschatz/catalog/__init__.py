"""Catalog: organizations, datasets, versions and their metadata."""
