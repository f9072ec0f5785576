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

The release board (:func:`can_see_release`, :func:`ensure_can_decide_release`): the requester,
the organization's stewards and admins see a release request, the board the ones put to it;
admins answer every question, a reviewer the questions of their kind.

Data challenges, teams and grants (the services in :mod:`datenschatz.governance.challenges`
and :mod:`~datenschatz.governance.grants` do the work, the rules are here):

- challenges: everyone sees published and closed ones; drafts look absent (404) to all but
  admins (:func:`ensure_challenge`, :func:`visible_challenges`); only admins draft and
  publish them (:func:`ensure_can_manage_challenges`, 401/403 like every admin route);
- acting as a person (registering a team, applying, accepting terms, scoring, submitting)
  needs a user account and the ``write`` scope (:func:`ensure_person`); the CLI's system
  admin has no account and gets 403;
- teams: a user lists their own teams, an admin every team (:func:`visible_teams`); a team
  that is not the caller's looks absent when they act for it (:func:`ensure_own_team`);
- a challenge's reviewers are admins and the reviewers it names, or every reviewer when it
  names none (:func:`can_review_challenge`); they see every application (with all scores),
  grant and submission of the challenge, a team's members only their team's
  (:func:`can_see_team_work`); anyone else gets 404 for them (:func:`ensure_application`,
  :func:`ensure_grant`);
- scoring and deciding an application: a reviewer of the challenge with ``write``
  (:func:`ensure_can_review_challenge`, 403 for the team); the reviewers' page likewise
  (:func:`ensure_can_see_reviews`); only a qualified team submits a result
  (:func:`ensure_can_submit`);
- grants: a member of the team accepts the terms and asks for extra datasets
  (:func:`ensure_can_accept_grant`, :func:`ensure_can_request_extra`, 403 for reviewers);
  a reviewer of the challenge decides an extra request (:func:`ensure_can_decide_extra`: 403
  for the team, 404 for outsiders); only an admin revokes a grant
  (:func:`ensure_can_revoke_grant`).

API tokens: the ``admin`` scope is held by admins only (:func:`can_hold_scope`). Issuing or
revoking one's own tokens (:func:`ensure_can_issue_token`) takes a person signed in, never a
token (a token cannot issue tokens; 403); a new token always belongs to the caller; a
``grant:N`` scope must name a grant of the caller's own team (:func:`ensure_own_grant`), and
someone else's token looks absent (:func:`ensure_own_token`), both 404.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import Session

from datenschatz.db.governance_models import ApiToken, ReviewerKind, Role
from datenschatz.db.governance_release_models import (
    Application,
    ApplicationStatus,
    Challenge,
    ChallengeStatus,
    ExtraDatasetRequest,
    Grant,
    ReleaseRequest,
    ReleaseStatus,
    Team,
    TeamMember,
)
from datenschatz.db.models import AccessLevel, Dataset, DatasetStatus, Organization, Version
from datenschatz.errors import Forbidden, Gone, NotFound, Unauthorized

__all__ = [
    "ALL_SCOPES",
    "ANONYMOUS",
    "Principal",
    "ReviewerKind",
    "Role",
    "Scope",
    "can_answer_release_question",
    "can_hold_scope",
    "can_know_dataset",
    "can_manage_challenges",
    "can_review_challenge",
    "can_see_dataset",
    "can_see_grant",
    "can_see_release",
    "can_see_team_work",
    "can_see_unpublished",
    "creatable_organizations",
    "editable_datasets",
    "ensure_admin",
    "ensure_application",
    "ensure_can_accept_grant",
    "ensure_can_create_dataset",
    "ensure_can_decide_extra",
    "ensure_can_decide_release",
    "ensure_can_edit",
    "ensure_can_issue_token",
    "ensure_can_manage_challenges",
    "ensure_can_manage_measures",
    "ensure_can_request_extra",
    "ensure_can_review_challenge",
    "ensure_can_revoke_grant",
    "ensure_can_see_reviews",
    "ensure_can_submit",
    "ensure_challenge",
    "ensure_creatable_organizations",
    "ensure_dataset",
    "ensure_grant",
    "ensure_not_own_release",
    "ensure_own_grant",
    "ensure_own_team",
    "ensure_own_token",
    "ensure_person",
    "ensure_scope",
    "ensure_version",
    "is_team_member",
    "readable_versions",
    "system_admin",
    "visible_challenges",
    "visible_datasets",
    "visible_teams",
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


def editable_datasets(principal: Principal) -> ColumnElement[bool]:
    """SQL condition: the datasets ``principal`` may add versions to (their organizations'
    visible datasets; every dataset for admins)."""
    if principal.is_admin:
        return visible_datasets(principal)
    return and_(
        visible_datasets(principal),
        Dataset.organization_id.in_(sorted(principal.steward_org_ids)),
    )


def ensure_creatable_organizations(session: Session, principal: Principal) -> list[Organization]:
    """:func:`creatable_organizations`, or Forbidden when ``principal`` may create none."""
    found = creatable_organizations(session, principal)
    if not found:
        raise Forbidden(
            "Only stewards and admins create datasets.", key="access.create_only_stewards"
        )
    return found


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
    if not can_answer_release_question(principal, kind):
        raise Forbidden(
            f"The {kind.value.replace('_', ' ')} answers the {question} question.",
            key="access.other_reviewer",
            question=question,
        )


def ensure_not_own_release(principal: Principal, release: ReleaseRequest) -> None:
    """Four eyes: whoever requested a release may not approve it (compared by account; by
    name for accountless admins such as the CLI's)."""
    if release.requested_by is not None or principal.user_id is not None:
        own = release.requested_by == principal.user_id
    else:
        own = release.requested_by_name == principal.name
    if own:
        raise Forbidden(
            "Four-eyes principle: the requester may not approve their own release.",
            key="release.four_eyes",
            release=release.id,
        )


def can_answer_release_question(principal: Principal, kind: ReviewerKind) -> bool:
    """Whether ``principal`` answers the question ``kind`` answers: admins and reviewers without
    a kind answer all, a reviewer with kinds the questions of those kinds."""
    return principal.is_admin or not principal.reviewer_kinds or kind in principal.reviewer_kinds


# --- data challenges, teams and grants ----------------------------------------------------------


def ensure_person(principal: Principal) -> int:
    """The caller's user id, for actions a person takes (the CLI's system admin has none)."""
    ensure_scope(principal, Scope.WRITE)
    if principal.user_id is None:
        raise Forbidden("This needs a user account: act as a user (--as NAME).")
    return principal.user_id


def is_team_member(session: Session, principal: Principal, team_id: int) -> bool:
    """Whether ``principal`` is a member of team ``team_id``."""
    if principal.user_id is None:
        return False
    member = session.scalar(
        select(TeamMember.user_id).where(
            TeamMember.team_id == team_id, TeamMember.user_id == principal.user_id
        )
    )
    return member is not None


def can_manage_challenges(principal: Principal) -> bool:
    """Admins draft, publish and see draft challenges, and revoke grants."""
    return principal.is_admin


def ensure_can_manage_challenges(principal: Principal) -> None:
    """Drafting and publishing a challenge: an admin with the ``admin`` scope."""
    ensure_admin(principal)


def visible_challenges(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause selecting the challenges ``principal`` may know: drafts for admins only."""
    if can_manage_challenges(principal):
        return true()
    return Challenge.status != ChallengeStatus.DRAFT


def ensure_challenge(session: Session, principal: Principal, slug: str) -> Challenge:
    """The challenge, if ``principal`` may see it; a draft looks absent to all but admins."""
    challenge = session.scalar(select(Challenge).where(Challenge.slug == slug))
    if challenge is None or (
        challenge.status is ChallengeStatus.DRAFT and not can_manage_challenges(principal)
    ):
        raise NotFound("No such challenge.", challenge=slug)
    return challenge


def can_review_challenge(principal: Principal, challenge: Challenge) -> bool:
    """Admins, and reviewers named by the challenge (every reviewer when it names none)."""
    if principal.is_admin:
        return True
    if Role.REVIEWER not in principal.roles or principal.user_id is None:
        return False
    return not challenge.reviewer_ids or principal.user_id in challenge.reviewer_ids


def ensure_can_review_challenge(principal: Principal, challenge: Challenge) -> None:
    """Scoring and deciding applications: a reviewer of the challenge, with ``write``."""
    ensure_scope(principal, Scope.WRITE)
    if not can_review_challenge(principal, challenge):
        raise Forbidden("Only the challenge's reviewers do this.")


def ensure_can_see_reviews(principal: Principal, challenge: Challenge) -> None:
    """The reviewers' page of a challenge (every application with its scores)."""
    if not can_review_challenge(principal, challenge):
        raise Forbidden(
            "Only the challenge's reviewers see its applications.",
            key="challenge.reviewers_only",
        )


def visible_teams(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause selecting the teams ``principal`` may list: their own (all for admins)."""
    if principal.is_admin:
        return true()
    if principal.user_id is None:
        return false()
    return Team.id.in_(select(TeamMember.team_id).where(TeamMember.user_id == principal.user_id))


def ensure_own_team(session: Session, principal: Principal, name: str) -> Team:
    """The team ``name``, if ``principal`` is its member; other teams look absent."""
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None or not is_team_member(session, principal, team.id):
        raise NotFound("No such team of yours.", parameter="team")
    return team


def can_see_team_work(
    session: Session, principal: Principal, challenge: Challenge, team_id: int
) -> bool:
    """A team's application, grant or submission of ``challenge``: the challenge's reviewers
    (admins included) and the team's members see it."""
    return can_review_challenge(principal, challenge) or is_team_member(session, principal, team_id)


def ensure_application(session: Session, principal: Principal, application_id: int) -> Application:
    """The application, if ``principal`` may see it (:func:`can_see_team_work`); else NotFound."""
    application = session.get(Application, application_id)
    if application is not None:
        challenge = session.get(Challenge, application.challenge_id)
        assert challenge is not None
        if can_see_team_work(session, principal, challenge, application.team_id):
            return application
    raise NotFound("No such application.", application=application_id)


def ensure_can_submit(session: Session, challenge: Challenge, team: Team) -> None:
    """Only a team the challenge qualified submits a result."""
    qualified = session.scalar(
        select(Application.id).where(
            Application.challenge_id == challenge.id,
            Application.team_id == team.id,
            Application.status == ApplicationStatus.QUALIFIED,
        )
    )
    if qualified is None:
        raise Forbidden("Only a qualified team submits results.", challenge=challenge.slug)


def ensure_grant(session: Session, principal: Principal, grant_id: int) -> Grant:
    """The grant, if ``principal`` is on its team, reviews its challenge or is an admin."""
    grant = session.get(Grant, grant_id)
    if grant is not None and can_see_grant(session, principal, grant):
        return grant
    raise NotFound("No such grant.", grant=grant_id)


def can_see_grant(session: Session, principal: Principal, grant: Grant) -> bool:
    """The grant's team and its challenge's reviewers (admins included) see it."""
    challenge = session.get(Challenge, grant.challenge_id)
    assert challenge is not None
    return can_see_team_work(session, principal, challenge, grant.team_id)


def ensure_can_accept_grant(session: Session, principal: Principal, grant: Grant) -> None:
    """Only a member of the grant's team accepts the challenge's terms."""
    if not is_team_member(session, principal, grant.team_id):
        raise Forbidden("Only a member of the team accepts the terms.", grant=grant.id)


def ensure_can_revoke_grant(principal: Principal, grant: Grant) -> None:
    """Only an admin revokes a grant (the caller already sees it, see :func:`ensure_grant`)."""
    if not can_manage_challenges(principal):
        raise Forbidden("Only an admin revokes a grant.", grant=grant.id)


def ensure_can_request_extra(session: Session, principal: Principal, grant: Grant) -> None:
    """Only a member of the grant's team asks for a dataset beyond the challenge's."""
    if not is_team_member(session, principal, grant.team_id):
        raise Forbidden("Only a member of the team asks for more data.", grant=grant.id)


def ensure_can_decide_extra(
    session: Session, principal: Principal, request_id: int
) -> ExtraDatasetRequest:
    """The extra-dataset request, if ``principal`` reviews its challenge (admins included),
    with ``write``. The grant's team sees the request but may not decide it (Forbidden);
    everyone else gets NotFound."""
    request = session.get(ExtraDatasetRequest, request_id)
    if request is None:
        raise NotFound("No such request.", request=request_id)
    grant = session.get(Grant, request.grant_id)
    assert grant is not None
    challenge = session.get(Challenge, grant.challenge_id)
    assert challenge is not None
    if not can_review_challenge(principal, challenge):
        if not is_team_member(session, principal, grant.team_id):
            raise NotFound("No such request.", request=request_id)
        raise Forbidden("A reviewer of the challenge decides this request.")
    ensure_scope(principal, Scope.WRITE)
    return request


# --- API tokens ---------------------------------------------------------------------------------


def can_hold_scope(roles: frozenset[Role], scope: str) -> bool:
    """Whether a user with ``roles`` may hold a token with ``scope``: ``admin`` is for admins."""
    return scope != Scope.ADMIN.value or Role.ADMIN in roles


def ensure_can_issue_token(principal: Principal) -> int:
    """Issuing or revoking one's own tokens: a person signed in, not a token (a ``grant:N``
    token could otherwise widen itself). The caller's user id."""
    user_id = ensure_person(principal)
    if principal.token_id is not None:
        raise Forbidden(
            "Sign in to the web UI to issue or revoke your tokens, not with a token.",
            key="partner.token_by_token",
        )
    return user_id


def ensure_own_grant(session: Session, principal: Principal, grant_id: int) -> Grant:
    """A grant of one of the caller's teams (a ``grant:N`` scope of their own token); a grant
    they only review looks absent too."""
    grant = ensure_grant(session, principal, grant_id)
    if not is_team_member(session, principal, grant.team_id):
        raise NotFound("No such grant.", key="partner.no_grant", grant=grant_id)
    return grant


def ensure_own_token(session: Session, principal: Principal, token_id: int) -> ApiToken:
    """One of the caller's own tokens; someone else's token looks absent."""
    token = session.get(ApiToken, token_id)
    if token is None or principal.user_id is None or token.user_id != principal.user_id:
        raise NotFound("No such token.", key="partner.no_token", token=token_id)
    return token
