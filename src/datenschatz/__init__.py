"""Datenschatz: the data hub a city and its municipal utility run together."""

__version__ = "0.1.0"
