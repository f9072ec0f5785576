"""Lineage: which datasets and versions feed a dataset, and which datasets use it.

What a caller sees of the lineage follows the access policy: a dataset the caller may not see
is left out, never named. The access cap of a derived version (:func:`access_cap`) is the most
restrictive level among its inputs: a release may never be more open than what fed it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datenschatz.access.policy import Principal, can_see_dataset, ensure_dataset
from datenschatz.analysis.recipes import staleness
from datenschatz.db.analysis_models import Recipe, RecipeInput, RecipeRun
from datenschatz.db.models import AccessLevel, Dataset, DatasetStatus, Version

_OPENNESS = {AccessLevel.INTERNAL: 0, AccessLevel.PARTNER: 1, AccessLevel.PUBLIC: 2}


def run_of(session: Session, version_id: int) -> RecipeRun | None:
    """The recipe run that wrote this version, if a recipe did."""
    return session.scalar(select(RecipeRun).where(RecipeRun.version_id == version_id))


def access_cap(session: Session, version: Version) -> AccessLevel | None:
    """The most open level this version may be released at (None: not derived)."""
    run = run_of(session, version.id)
    if run is None:
        return None
    cap = AccessLevel.PUBLIC
    for item in run.inputs:
        dataset = session.get(Dataset, item["dataset_id"])
        if dataset is None or dataset.status is not DatasetStatus.PUBLISHED:
            level = AccessLevel.INTERNAL
        else:
            level = dataset.access_level
        if _OPENNESS[level] < _OPENNESS[cap]:
            cap = level
    return cap


def derived_from(session: Session, principal: Principal, version: Version) -> list[dict[str, Any]]:
    """The inputs (dataset slug, version, SHA-256) the version was computed from, if visible."""
    run = run_of(session, version.id)
    if run is None:
        return []
    found = []
    for item in run.inputs:
        dataset = session.get(Dataset, item["dataset_id"])
        if dataset is None or not can_see_dataset(principal, dataset):
            continue
        found.append(
            {
                "dataset": dataset.slug,
                "version": item["version"],
                "sha256": item["sha256"],
                "alias": item["alias"],
            }
        )
    return found


def lineage(session: Session, principal: Principal, slug: str) -> dict[str, Any]:
    """Where ``slug``'s published (or, for editors, newest) version came from, and its users."""
    dataset = ensure_dataset(session, principal, slug)
    version = dataset.published_version
    if version is None and dataset.versions:
        version = dataset.versions[-1]  # ensure_dataset let an editor see the draft
    recipe = session.scalar(select(Recipe).where(Recipe.output_dataset_id == dataset.id))
    used_by = []
    rows = session.execute(
        select(Dataset, RecipeInput.alias)
        .join(Recipe, Recipe.output_dataset_id == Dataset.id)
        .join(RecipeInput, RecipeInput.recipe_id == Recipe.id)
        .where(RecipeInput.dataset_id == dataset.id)
        .order_by(Dataset.slug)
    ).all()
    for output, alias in rows:
        if can_see_dataset(principal, output):
            used_by.append({"dataset": output.slug, "as": alias})
    return {
        "dataset": slug,
        "version": version.number if version is not None else None,
        "derived": recipe is not None,
        "derived_from": derived_from(session, principal, version) if version else [],
        "used_by": used_by,
        "stale": bool(staleness(session, recipe)) if recipe is not None else False,
    }
