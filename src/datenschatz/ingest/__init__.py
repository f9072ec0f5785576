"""Ingest: a file becomes a checked, immutable version (sniff, parse, infer, validate, store)."""
