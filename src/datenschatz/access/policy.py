"""The access policy: every service function that reads or changes protected things asks here.

A hidden dataset must never reveal that it exists: look-ups of hidden things raise NotFound
(404), not a 403, and listings filter with :func:`visible_datasets`.

Who sees which dataset (withdrawn datasets aside):

- anyone: published ``public`` datasets;
- a grant holder: published ``partner`` datasets their active grants cover;
- a steward: every dataset of their organizations, drafts and unpublished versions included;
- a reviewer: the datasets with a pending release they judge, unpublished versions included;
- an admin: every dataset.

Who may create a dataset (:func:`ensure_can_create_dataset`): the stewards of an organization
in that organization, admins in any; both with the ``write`` scope.
:func:`creatable_organizations` lists those organizations for a form, and
:func:`can_know_dataset` says whether a caller may learn that a taken slug is taken.

A principal authenticated by a token sees beyond ``public`` only with the ``read`` scope and
changes things only with ``write``. A withdrawn dataset answers :class:`~datenschatz.errors.Gone`
(410, with its public reason) to those who could see it while published, and 404 to others.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from datenschatz.db.governance_models import ReviewerKind, Role
from datenschatz.db.governance_release_models import ReleaseRequest, ReleaseStatus
from datenschatz.db.models import AccessLevel, Dataset, DatasetStatus, Organization, Version
from datenschatz.errors import Forbidden, Gone, NotFound, Unauthorized

__all__ = [
    "ALL_SCOPES",
    "ANONYMOUS",
    "Principal",
    "ReviewerKind",
    "Role",
    "Scope",
    "can_know_dataset",
    "can_see_dataset",
    "can_see_release",
    "can_see_unpublished",
    "creatable_organizations",
    "ensure_admin",
    "ensure_can_create_dataset",
    "ensure_can_decide_release",
    "ensure_can_edit",
    "ensure_can_manage_measures",
    "ensure_dataset",
    "ensure_scope",
    "ensure_version",
    "readable_versions",
    "system_admin",
    "visible_datasets",
    "withdrawal_reason",
]


class Scope(enum.StrEnum):
    """What an API token may be used for."""

    READ = "read"  # see beyond public data: partner grants, own organization, reviews
    WRITE = "write"  # change metadata, roles, versions; request and decide releases
    SENSORS_WRITE = "sensors:write"  # push observations (SensorThings, MQTT)
    ADMIN = "admin"  # admin routes (users, tokens, audit log), only for admins


ALL_SCOPES: frozenset[str] = frozenset(s.value for s in Scope)


@dataclass(frozen=True)
class Principal:
    """Who is asking. Anonymous unless an interface authenticated someone.

    Built by :func:`datenschatz.governance.accounts.principal_for_user` and
    :func:`datenschatz.governance.tokens.principal_for_token`; tests may build one directly.
    ``scopes`` defaults to every scope (a signed-in user); a token narrows it.
    """

    name: str = "anonymous"
    user_id: int | None = None
    roles: frozenset[Role] = field(default_factory=frozenset)
    scopes: frozenset[str] = ALL_SCOPES
    steward_org_ids: frozenset[int] = field(default_factory=frozenset)
    reviewer_kinds: frozenset[ReviewerKind] = field(default_factory=frozenset)
    # Datasets covered by the principal's active grants (partner access).
    partner_dataset_ids: frozenset[int] = field(default_factory=frozenset)
    # Datasets with a pending release this principal must judge.
    review_dataset_ids: frozenset[int] = field(default_factory=frozenset)
    token_id: int | None = None

    @property
    def anonymous(self) -> bool:
        """No user and no role (a system principal such as the CLI's admin has roles)."""
        return self.user_id is None and not self.roles

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def reads_beyond_public(self) -> bool:
        return not self.anonymous and Scope.READ in self.scopes

    @property
    def cache_key(self) -> str:
        """Principals with the same key see the same catalog (for read caches)."""
        if not self.reads_beyond_public:
            return "anonymous"
        sets = (
            sorted(self.roles),
            sorted(self.steward_org_ids),
            sorted(self.partner_dataset_ids),
            sorted(self.review_dataset_ids),
        )
        return f"user:{self.user_id}:{hash(repr(sets)) & 0xFFFFFFFF:x}"


ANONYMOUS = Principal(scopes=frozenset())


def system_admin(name: str) -> Principal:
    """A trusted in-process actor with admin rights (the CLI operator, the demo loader, the
    recipe scheduler, an admin's direct publish); the audit log names it ``name``."""
    return Principal(name=name, roles=frozenset({Role.ADMIN}))


def _published() -> ColumnElement[bool]:
    return and_(
        Dataset.status == DatasetStatus.PUBLISHED, Dataset.published_version_id.is_not(None)
    )


def visible_datasets(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause selecting the datasets ``principal`` may know exist (not withdrawn)."""
    public = and_(_published(), Dataset.access_level == AccessLevel.PUBLIC)
    if not principal.reads_beyond_public:
        return public
    if principal.is_admin:
        return Dataset.status != DatasetStatus.WITHDRAWN
    parts: list[ColumnElement[bool]] = [public]
    if principal.partner_dataset_ids:
        parts.append(
            and_(
                _published(),
                Dataset.access_level == AccessLevel.PARTNER,
                Dataset.id.in_(sorted(principal.partner_dataset_ids)),
            )
        )
    if principal.steward_org_ids:
        parts.append(Dataset.organization_id.in_(sorted(principal.steward_org_ids)))
    if principal.review_dataset_ids:
        parts.append(Dataset.id.in_(sorted(principal.review_dataset_ids)))
    return and_(Dataset.status != DatasetStatus.WITHDRAWN, or_(*parts) if parts else false())


def _sees(principal: Principal, dataset: Dataset, *, as_published: bool) -> bool:
    """Whether ``principal`` sees ``dataset`` (``as_published``: judged as if published)."""
    published = as_published or (
        dataset.status is DatasetStatus.PUBLISHED and dataset.published_version_id is not None
    )
    if published and dataset.access_level is AccessLevel.PUBLIC:
        return True
    if not principal.reads_beyond_public:
        return False
    if principal.is_admin or can_see_unpublished(principal, dataset):
        return True
    return (
        published
        and dataset.access_level is AccessLevel.PARTNER
        and dataset.id in principal.partner_dataset_ids
    )


def can_see_dataset(principal: Principal, dataset: Dataset) -> bool:
    """The Python twin of :func:`visible_datasets` for one loaded dataset."""
    if dataset.status is DatasetStatus.WITHDRAWN:
        return False
    return _sees(principal, dataset, as_published=False)


def can_see_unpublished(principal: Principal, dataset: Dataset) -> bool:
    """Drafts and unpublished versions: the organization's stewards, reviewers, admins."""
    if not principal.reads_beyond_public:
        return False
    return (
        principal.is_admin
        or dataset.organization_id in principal.steward_org_ids
        or dataset.id in principal.review_dataset_ids
    )


def _extra_reason(_session: Session, dataset: Dataset) -> str | None:
    withdrawal = (dataset.extra or {}).get("withdrawal")
    if isinstance(withdrawal, dict) and withdrawal.get("reason"):
        return str(withdrawal["reason"])
    return None


# The release workflow may replace this to read the reason from its own table.
WITHDRAWAL_REASON: list[Callable[[Session, Dataset], str | None]] = [_extra_reason]


def withdrawal_reason(session: Session, dataset: Dataset) -> str:
    """The public reason a withdrawn dataset answers 410 with."""
    for lookup in reversed(WITHDRAWAL_REASON):
        reason = lookup(session, dataset)
        if reason:
            return reason
    return "The dataset was withdrawn."


def ensure_dataset(session: Session, principal: Principal, slug: str) -> Dataset:
    """The dataset, if ``principal`` may see it; NotFound otherwise (hidden looks absent).

    A withdrawn dataset the principal could see while published raises Gone with its reason.
    """
    dataset = session.scalar(select(Dataset).where(Dataset.slug == slug))
    if dataset is None:
        raise NotFound("No such dataset.", key="not_found.dataset", dataset=slug)
    if dataset.status is DatasetStatus.WITHDRAWN:
        if _sees(principal, dataset, as_published=True):
            raise Gone(
                "The dataset was withdrawn.",
                key="gone.dataset",
                dataset=slug,
                reason=withdrawal_reason(session, dataset),
            )
        raise NotFound("No such dataset.", key="not_found.dataset", dataset=slug)
    if not can_see_dataset(principal, dataset):
        raise NotFound("No such dataset.", key="not_found.dataset", dataset=slug)
    return dataset


def readable_versions(principal: Principal, dataset: Dataset) -> list[Version]:
    """The versions of a visible dataset whose content ``principal`` may read."""
    if can_see_unpublished(principal, dataset):
        return list(dataset.versions)
    return [v for v in dataset.versions if v.published_at is not None]


def ensure_version(
    session: Session, principal: Principal, slug: str, number: int | None = None
) -> Version:
    """The published version (default) or version ``number``, if ``principal`` may read it.

    Without a published version, those who may see unpublished ones get the newest.
    """
    dataset = ensure_dataset(session, principal, slug)
    readable = readable_versions(principal, dataset)
    if number is None:
        version = dataset.published_version
        if version is not None:
            return version
        if readable and can_see_unpublished(principal, dataset):
            return readable[-1]
    else:
        for version in readable:
            if version.number == number:
                return version
    raise NotFound("No such version.", key="not_found.version", dataset=slug, version=number)


def ensure_scope(principal: Principal, scope: Scope | str) -> None:
    """Unauthorized for anonymous callers, Forbidden for a token without ``scope``."""
    if principal.anonymous:
        raise Unauthorized("Sign in or send an API token.", key="auth.sign_in")
    if str(scope) not in principal.scopes:
        raise Forbidden(
            f"This token lacks the scope {scope}.", key="auth.scope_missing", scope=str(scope)
        )


def ensure_admin(principal: Principal) -> None:
    """Admin routes: an admin with the ``admin`` scope; everyone else gets 401/403."""
    ensure_scope(principal, Scope.ADMIN)
    if not principal.is_admin:
        raise Forbidden("Only admins may do this.", key="access.admin_only")


def ensure_can_edit(session: Session, principal: Principal, slug: str) -> Dataset:
    """The dataset, if ``principal`` may change it (metadata, roles, versions, release requests).

    Admins and the stewards of the dataset's organization may, with the ``write`` scope. A
    dataset the caller cannot see raises NotFound; one they can see but not change raises
    Unauthorized (anonymous) or Forbidden.
    """
    dataset = session.scalar(select(Dataset).where(Dataset.slug == slug))
    if dataset is None:
        raise NotFound("No such dataset.", key="not_found.dataset", dataset=slug)
    allowed = not principal.anonymous and (
        principal.is_admin or dataset.organization_id in principal.steward_org_ids
    )
    if not allowed and not _sees(principal, dataset, as_published=False):
        raise NotFound("No such dataset.", key="not_found.dataset", dataset=slug)
    if principal.anonymous:
        raise Unauthorized(
            "Sign in or send an API token to change this dataset.", key="auth.sign_in_to_edit"
        )
    if not allowed:
        raise Forbidden(
            "You may not change this dataset.", key="access.edit_forbidden", dataset=slug
        )
    ensure_scope(principal, Scope.WRITE)
    return dataset


def can_know_dataset(principal: Principal, dataset: Dataset) -> bool:
    """Whether ``principal`` may learn that ``dataset`` exists: :func:`ensure_dataset` answers
    it (200, or 410 when withdrawn) rather than 404, or the principal may change it."""
    if not principal.anonymous and (
        principal.is_admin or dataset.organization_id in principal.steward_org_ids
    ):
        return True
    if dataset.status is DatasetStatus.WITHDRAWN:
        return _sees(principal, dataset, as_published=True)
    return can_see_dataset(principal, dataset)


def _may_create_in(principal: Principal, org_id: int) -> bool:
    return not principal.anonymous and (principal.is_admin or org_id in principal.steward_org_ids)


def ensure_can_create_dataset(
    session: Session, principal: Principal, org_slug: str
) -> Organization:
    """The organization ``org_slug``, if ``principal`` may create a dataset in it.

    Its stewards may, admins may in any organization, both with the ``write`` scope. Anonymous
    callers get Unauthorized, an unknown organization NotFound (naming the parameter ``org``),
    everyone else Forbidden. Organizations are public, so naming one reveals nothing.
    """
    if principal.anonymous:
        raise Unauthorized("Sign in or send an API token to create a dataset.")
    org = session.scalar(select(Organization).where(Organization.slug == org_slug))
    if org is None:
        raise NotFound("No such organization.", parameter="org", org=org_slug)
    if not _may_create_in(principal, org.id):
        raise Forbidden("You may not create datasets in this organization.", org=org_slug)
    ensure_scope(principal, Scope.WRITE)
    return org


def creatable_organizations(session: Session, principal: Principal) -> list[Organization]:
    """The organizations ``principal`` may create datasets in, by name (empty for most)."""
    if principal.anonymous or Scope.WRITE not in principal.scopes:
        return []
    query = select(Organization).order_by(Organization.name, Organization.slug)
    if not principal.is_admin:
        if not principal.steward_org_ids:
            return []
        query = query.where(Organization.id.in_(sorted(principal.steward_org_ids)))
    return list(session.scalars(query))


def ensure_can_manage_measures(principal: Principal) -> None:
    """Recording and changing the city's measures: admins and stewards, with write scope."""
    if not principal.roles & {Role.ADMIN, Role.STEWARD}:
        if principal.anonymous:
            raise Unauthorized(
                "Sign in or send an API token to record measures.", key="auth.sign_in_for_measures"
            )
        raise Forbidden(
            "Only admins and stewards record measures.", key="access.measures_forbidden"
        )
    ensure_scope(principal, Scope.WRITE)


# --- the release board --------------------------------------------------------------------


def _is_reviewer(principal: Principal) -> bool:
    return principal.is_admin or (Role.REVIEWER in principal.roles and not principal.anonymous)


def can_see_release(principal: Principal, release: ReleaseRequest, dataset: Dataset) -> bool:
    """The requester, the organization's stewards and admins see a release request; the board
    sees the requests put to it (pending, rejected, cancelled) and approved ones of datasets it
    may see, so an approved release never names a dataset hidden from the reviewer."""
    if principal.anonymous:
        return False
    if (
        principal.is_admin
        or dataset.organization_id in principal.steward_org_ids
        or (release.requested_by is not None and release.requested_by == principal.user_id)
    ):
        return True
    return _is_reviewer(principal) and (
        release.status is not ReleaseStatus.APPROVED or can_see_dataset(principal, dataset)
    )


def ensure_can_decide_release(principal: Principal, kind: ReviewerKind, question: str) -> None:
    """Admins answer any question; a reviewer the one of their kind (``kind`` answers it)."""
    ensure_scope(principal, Scope.WRITE)
    if principal.is_admin:
        return
    if Role.REVIEWER not in principal.roles:
        raise Forbidden("Only the release board decides releases.", key="access.board_only")
    if principal.reviewer_kinds and kind not in principal.reviewer_kinds:
        raise Forbidden(
            f"The {kind.value.replace('_', ' ')} answers the {question} question.",
            key="access.other_reviewer",
            question=question,
        )
