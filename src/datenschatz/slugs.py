"""Slugs: the names of datasets, organizations and challenges in URLs and commands.

A module of its own, with no database import, so that an ingest can check its arguments before
the relational layer has loaded.
"""

from __future__ import annotations

import re

from datenschatz.errors import InputError

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")


def check_slug(slug: str, parameter: str = "dataset") -> str:
    """``slug`` if it is one: 1 to 100 lower-case letters, digits and inner hyphens."""
    if not SLUG_RE.fullmatch(slug):
        raise InputError(
            "A slug has 1 to 100 characters: lower-case letters, digits and inner hyphens.",
            parameter=parameter,
        )
    return slug
