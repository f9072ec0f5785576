"""Creating a dataset: a new slug in an organization, with its first version from a file.

:func:`create_dataset` asks the access policy
(:func:`~datenschatz.access.policy.ensure_can_create_dataset`) for the chosen organization,
checks title, slug and description (:func:`check_new_dataset`), and then stores the file
through the one ingest path (:func:`~datenschatz.ingest.pipeline.ingest_file`). That creates
the dataset as a draft at the access level ``internal`` together with version 1 and its
quality and privacy reports — or changes nothing in catalog or store when the file is refused.
Adding a version to an existing dataset is the upload's business (``ensure_can_edit``).

Slugs are unique across all organizations, so a slug in use is refused. Whether the answer
says *taken* depends on what the caller may know: a caller who may see the dataset holding it
(or change it, :func:`~datenschatz.access.policy.can_know_dataset`) hears that the slug is
taken; everyone else gets the neutral *not available* that a reserved slug gets too, so the
answer never confirms that a hidden dataset exists. Only a signed-in steward or admin with the
``write`` scope ever reaches the slug check, and "not available" tells no more than that the
name cannot be had — which a unique name cannot avoid.

Two creations of the same new slug at the same moment: the ingest makes one dataset. If the
other was created in another organization, the later caller gets the answer above; in the
same organization (whose stewards may add versions to it anyway) the later file becomes the
next version of that dataset, its title the later one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datenschatz.access.policy import (
    Principal,
    can_know_dataset,
    ensure_can_create_dataset,
    ensure_can_edit,
)
from datenschatz.catalog.datasets import VersionInfo, check_slug
from datenschatz.catalog.metadata import update_metadata
from datenschatz.db.models import Dataset
from datenschatz.errors import DatenschatzError, IngestError, InputError
from datenschatz.governance import audit
from datenschatz.hub import Hub
from datenschatz.ingest.model import IngestOptions
from datenschatz.ingest.pipeline import ingest_file

__all__ = [
    "MAX_DESCRIPTION",
    "MAX_TITLE",
    "RESERVED_SLUGS",
    "NewDataset",
    "check_new_dataset",
    "create_dataset",
    "suggest_slug",
]

MAX_TITLE = 500  # the catalog's column
MAX_DESCRIPTION = 20_000
MAX_SLUG = 100
# Slugs that name pages, not datasets (``/web/datasets/new`` is the form itself).
RESERVED_SLUGS = frozenset({"new"})

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def suggest_slug(title: str) -> str:
    """A slug for ``title``: umlauts folded (ä → ae, ß → ss), accents dropped, everything
    else but letters and digits a hyphen, at most 100 characters ('' when nothing is left).

    The page script (``static/upload.js``) suggests the same slug as the user types.
    """
    text = unicodedata.normalize("NFKD", title.lower().translate(_FOLD))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _NOT_SLUG.sub("-", text).strip("-")[:MAX_SLUG].strip("-")


@dataclass(frozen=True)
class NewDataset:
    """What a steward says about a new dataset (``slug`` empty: suggested from the title)."""

    org: str
    title: str
    slug: str = ""
    description: str = ""


def _refuse(message: str, parameter: str, problem: str, **details: Any) -> InputError:
    return InputError(message, parameter=parameter, problem=problem, **details)


def _check_slug_free(session: Session, principal: Principal, slug: str) -> None:
    """InputError unless no dataset has ``slug``; says "taken" only where the policy allows."""
    unavailable = _refuse("This slug is not available; choose another one.", "slug", "unavailable")
    if slug in RESERVED_SLUGS:
        raise unavailable
    existing = session.scalar(select(Dataset).where(Dataset.slug == slug))
    if existing is None:
        return
    if not can_know_dataset(principal, existing):
        raise unavailable
    try:
        ensure_can_edit(session, principal, slug)
        editable = True
    except DatenschatzError:
        editable = False
    raise _refuse(
        "A dataset with this slug exists already; choose another one.",
        "slug",
        "taken",
        dataset=slug,
        title=existing.title,
        editable=editable,
    )


def check_new_dataset(session: Session, principal: Principal, new: NewDataset) -> NewDataset:
    """``new`` cleaned up (stripped, slug suggested if empty), if ``principal`` may create it.

    Asks the policy first (Unauthorized, NotFound for an unknown organization, Forbidden), then
    raises InputError naming the parameter (``title``, ``slug``, ``description``) with a
    ``problem`` detail: ``required``, ``too_long``, ``invalid``, ``taken`` or ``unavailable``.
    """
    org = ensure_can_create_dataset(session, principal, new.org.strip())
    title = " ".join(new.title.split())
    if not title:
        raise _refuse("A new dataset needs a title.", "title", "required")
    if len(title) > MAX_TITLE:
        raise _refuse(
            f"The title has more than {MAX_TITLE} characters.", "title", "too_long", max=MAX_TITLE
        )
    slug = new.slug.strip() or suggest_slug(title)
    if not slug:
        raise _refuse("A new dataset needs a slug.", "slug", "required")
    try:
        check_slug(slug, "slug")
    except InputError as exc:
        raise _refuse(exc.message, "slug", "invalid") from None
    description = new.description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise _refuse(
            f"The description has more than {MAX_DESCRIPTION} characters.",
            "description",
            "too_long",
            max=MAX_DESCRIPTION,
        )
    _check_slug_free(session, principal, slug)
    return replace(new, org=org.slug, title=title, slug=slug, description=description)


def create_dataset(
    hub: Hub,
    principal: Principal,
    new: NewDataset,
    path: Path,
    *,
    options: IngestOptions | None = None,
) -> VersionInfo:
    """Create ``new`` with ``path`` as its version 1 (a draft, access level internal).

    Raises what :func:`check_new_dataset` raises before a byte is stored, and the ingest's
    IngestError (naming file, line, column) when the file is refused; nothing is created then.
    """
    with hub.session() as session:
        new = check_new_dataset(session, principal, new)
    try:
        info = ingest_file(
            hub,
            path,
            dataset=new.slug,
            title=new.title,
            org=new.org,
            options=options,
            actor=principal.name,
        )
    except InputError as exc:
        if isinstance(exc, IngestError) or exc.details.get("parameter") != "org":
            raise
        # Created in another organization meanwhile: answer as for a slug taken before.
        with hub.session() as session:
            _check_slug_free(session, principal, new.slug)
        raise  # pragma: no cover - the slug is in use, so the check above raised
    with hub.session() as session:
        if new.description:
            update_metadata(session, principal, new.slug, {"description": new.description})
        if info.number == 1:
            audit.record(
                session,
                actor=principal.name,
                action="dataset.create",
                object_type="dataset",
                object_id=new.slug,
                details={"organization": new.org, "version": info.number, "rows": info.rows},
            )
    return info
