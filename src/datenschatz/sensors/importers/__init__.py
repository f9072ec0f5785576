"""Importers that turn other publishers' sensor files into SensorThings entities, idempotently."""
