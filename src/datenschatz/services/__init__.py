"""Cross-cutting service functions that combine catalog, store and (later) governance."""
