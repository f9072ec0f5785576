"""Relational store: catalog metadata, versions and (later) governance and sensor entities."""
