"""Dataset metadata (DCAT-AP.de): the model, its validation, reading and changing it.

German title and description live in the ``title``/``description`` columns of a dataset; the
rest of the metadata lives in ``Dataset.extra`` under the keys of :class:`DatasetMetadata`.
Other keys in ``extra`` (ingest notes, demo provenance ...) are left alone. Coverage is
computed, never entered: the bounding box comes from the published version, the time span
from the minimum and maximum of its date and timestamp columns (exact values from the
version's quality report).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from datenschatz.catalog import vocab
from datenschatz.db.catalog_models import DatasetGroup, Group
from datenschatz.db.models import Dataset, Version, utcnow
from datenschatz.errors import InputError
from datenschatz.governance import audit

if TYPE_CHECKING:
    # The policy (and the release tables it needs) only for update_metadata: the search index
    # reads metadata on every catalog commit, and an ingest should not load them.
    from datenschatz.access.policy import Principal

DEFAULT_LICENCE: Final = "dl-by-de/2.0"

# Fields a steward must fill before a dataset is complete. ``title`` and ``description`` are
# the German ones (columns); ``licence`` has a default.
MANDATORY: Final = ("title", "description", "licence", "contact")
# Computed from the published version; never set by hand.
COMPUTED: Final = ("spatial_bbox", "temporal_start", "temporal_end", "modified")
# Stored in the dataset's columns, not in ``extra``.
COLUMNS: Final = ("title", "description")
# Stored in the dataset_group link table.
GROUPS_KEY: Final = "groups"

_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s<>\"{}|\\^`]*$", re.IGNORECASE)
_MUNICIPALITY_RE = re.compile(r"^\d{8}$")
_TIME_TYPES = frozenset({"date", "datetime"})


def _check_url(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if not _URL_RE.fullmatch(value):
        raise ValueError(f"{what} must be an http(s) URL")
    return value


class ContactPoint(BaseModel):
    """Who answers questions about the dataset: a name plus an e-mail address or a URL."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=300)
    email: str | None = None
    url: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the contact needs a name")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().removeprefix("mailto:")
        if not _EMAIL_RE.fullmatch(value) or len(value) > 300:
            raise ValueError("not a valid e-mail address")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _check_url(value, "the contact URL")

    @model_validator(mode="after")
    def _reachable(self) -> ContactPoint:
        if self.email is None and self.url is None:
            raise ValueError("the contact needs an e-mail address or a URL")
        return self


class DatasetMetadata(BaseModel):
    """The DCAT-AP.de description of one dataset, as stewards edit it and catalogs read it."""

    model_config = ConfigDict(extra="forbid")

    title: str = ""
    description: str = ""
    title_en: str | None = None
    description_en: str | None = None
    keywords: list[str] = Field(default_factory=list)
    themes: list[str] = Field(default_factory=list)
    licence: str = DEFAULT_LICENCE
    contact: ContactPoint | None = None
    contributor_id: str | None = None
    geocoding: list[str] = Field(default_factory=list)
    accrual_periodicity: str | None = None
    landing_page: str | None = None
    conforms_to: str | None = None
    provenance: str | None = None
    issued: date | None = None
    # computed
    modified: datetime | None = None
    spatial_bbox: list[float] | None = None
    temporal_start: datetime | date | None = None
    temporal_end: datetime | date | None = None

    @field_validator("title", "description")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("title_en", "description_en", "provenance")
    @classmethod
    def _optional_text(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.strip() or None

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        seen: dict[str, str] = {}
        for keyword in value:
            text = " ".join(str(keyword).split())
            if len(text) > 100:
                raise ValueError("a keyword has at most 100 characters")
            if text and text.casefold() not in seen:
                seen[text.casefold()] = text
        return list(seen.values())

    @field_validator("themes")
    @classmethod
    def _themes(cls, value: list[str]) -> list[str]:
        themes: list[str] = []
        for theme in value:
            code = str(theme).strip().removeprefix(vocab.THEME_BASE).upper()
            if code not in vocab.THEMES:
                raise ValueError(
                    f"unknown theme {code!r}; use an EU data-theme code: "
                    + ", ".join(sorted(vocab.THEMES))
                )
            if code not in themes:
                themes.append(code)
        return themes

    @field_validator("licence")
    @classmethod
    def _licence(cls, value: str) -> str:
        ident = value.strip().removeprefix(vocab.LICENCE_BASE)
        if ident not in vocab.LICENCES:
            raise ValueError(
                f"unknown licence {ident!r}; use an id of the dcat-ap.de licence list, "
                f"e.g. {DEFAULT_LICENCE}"
            )
        return ident

    @field_validator("contributor_id")
    @classmethod
    def _contributor(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        ident = value.strip().removeprefix(vocab.CONTRIBUTOR_BASE)
        if ident not in vocab.CONTRIBUTORS:
            raise ValueError(
                f"unknown contributor id {ident!r}; use an id of the dcat-ap.de contributor list"
            )
        return vocab.CONTRIBUTOR_BASE + ident

    @field_validator("geocoding")
    @classmethod
    def _geocoding(cls, value: list[str]) -> list[str]:
        keys: list[str] = []
        for key in value:
            text = str(key).strip().removeprefix(vocab.MUNICIPALITY_BASE)
            if not _MUNICIPALITY_RE.fullmatch(text):
                raise ValueError(
                    f"{text!r} is not a municipality key (8 digits, e.g. 05916000 for Herne)"
                )
            if text not in keys:
                keys.append(text)
        return keys

    @field_validator("accrual_periodicity")
    @classmethod
    def _frequency(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        code = value.strip().removeprefix(vocab.FREQUENCY_BASE).upper()
        if code not in vocab.FREQUENCIES:
            raise ValueError(f"unknown update frequency {code!r}; use an EU frequency code")
        return code

    @field_validator("landing_page", "conforms_to")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return _check_url(value, "the value")

    def missing(self) -> list[str]:
        """The mandatory fields that are still empty."""
        return [name for name in MANDATORY if not getattr(self, name)]

    def stored(self) -> dict[str, Any]:
        """What goes into ``Dataset.extra``: entered fields only, JSON-ready."""
        data = self.model_dump(mode="json", exclude=set(COLUMNS) | set(COMPUTED))
        return data


STORED_KEYS: Final = tuple(
    name for name in DatasetMetadata.model_fields if name not in COLUMNS and name not in COMPUTED
)


# -- reading ------------------------------------------------------------------------------


def _stored_values(extra: dict[str, Any]) -> dict[str, Any]:
    values = {key: extra[key] for key in STORED_KEYS if key in extra}
    if "licence" not in values and isinstance(extra.get("license"), str):
        values["licence"] = extra["license"]  # the spelling ingest and the demo used first
    return values


Moment = datetime | date  # a date column's bound stays a date


def _parse_time(text: Any, is_date: bool) -> Moment | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value.date() if is_date else value


def temporal_coverage(version: Version | None) -> tuple[Moment | None, Moment | None]:
    """(earliest, latest) value over the version's date and timestamp columns.

    The bounds come from the version's quality report, which holds each column's exact
    minimum and maximum. Timestamps without a zone are compared as if UTC.
    """
    if version is None:
        return None, None
    starts: list[Moment] = []
    ends: list[Moment] = []
    for column in (version.quality or {}).get("columns", []):
        kind = column.get("type")
        if kind not in _TIME_TYPES:
            continue
        lo = _parse_time(column.get("min"), kind == "date")
        hi = _parse_time(column.get("max"), kind == "date")
        if lo is not None:
            starts.append(lo)
        if hi is not None:
            ends.append(hi)
    return (min(starts, key=_key) if starts else None, max(ends, key=_key) if ends else None)


def _key(value: Moment) -> datetime:
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def read_metadata(dataset: Dataset) -> DatasetMetadata:
    """The dataset's metadata, with coverage computed from its published version.

    Values stored before a rule tightened are dropped rather than failing the read.
    """
    values: dict[str, Any] = {
        "title": dataset.title,
        "description": dataset.description or "",
        **_stored_values(dataset.extra or {}),
    }
    version = dataset.published_version
    start, end = temporal_coverage(version)
    computed: dict[str, Any] = {
        "modified": dataset.modified_at,
        "spatial_bbox": [float(v) for v in version.bbox] if version and version.bbox else None,
        "temporal_start": start,
        "temporal_end": end,
    }
    try:
        return DatasetMetadata(**values, **computed)
    except ValidationError as exc:
        bad = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        kept = {k: v for k, v in values.items() if k not in bad}
        return DatasetMetadata(**kept, **computed)


# -- changing -----------------------------------------------------------------------------


def validate_metadata(values: dict[str, Any]) -> DatasetMetadata:
    """A DatasetMetadata from ``values``, or InputError naming the first wrong field."""
    unknown = sorted(set(values) - set(DatasetMetadata.model_fields))
    if unknown:
        raise InputError(
            f"Unknown metadata field {unknown[0]!r}.",
            key="metadata.unknown_field",
            field=unknown[0],
            parameter=unknown[0],
        )
    try:
        return DatasetMetadata(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [str(part) for part in error["loc"]]
        name = loc[0] if loc else "metadata"
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        raise InputError(
            f"Invalid metadata field {'.'.join(loc) or name!r}: {message}.",
            key="metadata.invalid_field",
            field=".".join(loc) or name,
            parameter=name,
        ) from None


def update_metadata(
    session: Session,
    principal: Principal,
    slug: str,
    changes: dict[str, Any],
    *,
    replace: bool = False,
) -> DatasetMetadata:
    """Change a dataset's metadata; ``replace`` sets it to exactly ``changes``.

    Validates everything before anything is written. Raises InputError naming the field for
    an unknown field, licence, theme, frequency or contributor, a bad e-mail or URL, a computed
    field, and a mandatory field that would be left empty (``replace``) or is being cleared.
    ``groups`` (a list of group slugs) sets the dataset's groups.
    """
    from datenschatz.access.policy import ensure_can_edit

    dataset = ensure_can_edit(session, principal, slug)
    return apply_metadata(session, dataset, changes, actor=principal.name, replace=replace)


def apply_metadata(
    session: Session,
    dataset: Dataset,
    changes: dict[str, Any],
    *,
    actor: str,
    replace: bool = False,
    require_mandatory: bool = True,
) -> DatasetMetadata:
    """:func:`update_metadata` without the access check, for system actors (demo, harvest).

    ``require_mandatory=False`` lets a replacement leave mandatory fields empty (harvested
    metadata is taken as the source has it; the steward completes it before release).
    """
    changes = dict(changes)
    groups = changes.pop(GROUPS_KEY, None)
    for name in COMPUTED:
        if name in changes:
            raise InputError(
                f"The metadata field {name!r} is computed from the data and cannot be set.",
                key="metadata.computed_field",
                field=name,
                parameter=name,
            )
    current = read_metadata(dataset)
    if not replace and isinstance(changes.get("contact"), dict) and current.contact is not None:
        # a merge patch: contact fields not sent stay as they are
        changes["contact"] = {**current.contact.model_dump(), **changes["contact"]}
    if replace:
        values = dict(changes)
    else:
        values = {
            **current.model_dump(exclude=set(COMPUTED), exclude_none=True),
            **changes,
        }
    values = {k: v for k, v in values.items() if v is not None}
    for name in MANDATORY:
        cleared = name in changes and changes[name] in (None, "", [], {})
        absent = replace and require_mandatory and name not in values and name != "licence"
        if cleared or absent:
            raise InputError(
                f"The metadata field {name!r} is mandatory.",
                key="metadata.mandatory_field",
                field=name,
                parameter=name,
            )
    meta = validate_metadata(values)
    for name in MANDATORY:
        if name in changes and not getattr(meta, name):
            raise InputError(
                f"The metadata field {name!r} is mandatory.",
                key="metadata.mandatory_field",
                field=name,
                parameter=name,
            )
    group_ids = _group_ids(session, groups) if groups is not None else None

    extra = {k: v for k, v in (dataset.extra or {}).items() if k not in STORED_KEYS}
    if "license" in extra:  # the key ingest and the demo wrote first, kept in step
        extra["license"] = meta.licence
    extra.update({k: v for k, v in meta.stored().items() if v not in (None, [], "")})
    title = meta.title or dataset.title
    changed = (title, meta.description, extra) != (
        dataset.title,
        dataset.description,
        dataset.extra,
    )
    if changed:
        dataset.title, dataset.description, dataset.extra = title, meta.description, extra
    if group_ids is not None and _set_groups(session, dataset.id, group_ids):
        dataset.modified_at = utcnow()  # membership is metadata: catalogs and the index see it
        changed = True
    if changed:
        session.flush()
        fields = sorted(changes) + ([GROUPS_KEY] if groups is not None else [])
        _record_change(session, actor, dataset, fields)
    return read_metadata(dataset)


def _record_change(session: Session, actor: str, dataset: Dataset, fields: list[str]) -> None:
    """An audit event naming the changed fields (never their values)."""
    audit.record(
        session,
        actor=actor,
        action="dataset.metadata",
        object_type="dataset",
        object_id=dataset.slug,
        details={"fields": fields},
    )


def _group_ids(session: Session, groups: Any) -> list[int]:
    if isinstance(groups, str):
        groups = [g for g in (part.strip() for part in groups.split(",")) if g]
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise InputError(
            "groups is a list of group slugs.",
            key="metadata.groups_list",
            field="groups",
            parameter="groups",
        )
    found = dict(session.execute(select(Group.slug, Group.id).where(Group.slug.in_(groups))).all())
    for slug in groups:
        if slug not in found:
            raise InputError(
                f"Unknown group {slug!r}.",
                key="metadata.unknown_group",
                params={"group": slug},
                field="groups",
                parameter="groups",
            )
    return [found[slug] for slug in dict.fromkeys(groups)]


def _set_groups(session: Session, dataset_id: int, group_ids: list[int]) -> bool:
    """Make the dataset's groups exactly ``group_ids``; True if anything changed."""
    links = session.scalars(select(DatasetGroup).where(DatasetGroup.dataset_id == dataset_id))
    current = {link.group_id: link for link in links}
    for group_id, link in current.items():
        if group_id not in group_ids:
            session.delete(link)
    for group_id in group_ids:
        if group_id not in current:
            session.add(DatasetGroup(dataset_id=dataset_id, group_id=group_id))
    return set(current) != set(group_ids)


# -- look-ups for other catalog interfaces ------------------------------------------------


def licence_title(licence_id: str) -> str:
    """The German title of a dcat-ap.de licence id; the id itself when unknown."""
    entry = vocab.LICENCES.get(licence_id.removeprefix(vocab.LICENCE_BASE))
    return entry.title if entry else licence_id


def licence_url(licence_id: str) -> str | None:
    """Where the licence text is published (None for the 'other-...' ids)."""
    entry = vocab.LICENCES.get(licence_id.removeprefix(vocab.LICENCE_BASE))
    return entry.url if entry else None


def attribution_text(dataset: Dataset, *, url: str | None = None) -> str:
    """What users of the data must show: publisher, licence (with its URL) and the dataset.

    ``url`` is where the dataset is published (its page on this hub); without it the landing
    page is named, if any.
    """
    meta = read_metadata(dataset)
    licence = licence_title(meta.licence)
    licence_link = licence_url(meta.licence)
    parts = [dataset.organization.name, f"„{dataset.title}“"]
    parts.append(f"{licence} ({licence_link})" if licence_link else licence)
    where = url or meta.landing_page
    if where:
        parts.append(where)
    return ", ".join(parts)


def dataset_group_slugs(session: Session, dataset_ids: list[int]) -> dict[int, list[str]]:
    """The slugs of the groups each dataset belongs to (sorted; [] for none)."""
    result: dict[int, list[str]] = {dataset_id: [] for dataset_id in dataset_ids}
    if not dataset_ids:
        return result
    rows = session.execute(
        select(DatasetGroup.dataset_id, Group.slug)
        .join(Group, Group.id == DatasetGroup.group_id)
        .where(DatasetGroup.dataset_id.in_(dataset_ids))
        .order_by(Group.slug)
    )
    for dataset_id, slug in rows:
        result[dataset_id].append(slug)
    return result
