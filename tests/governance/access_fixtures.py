"""A small world for access tests: two organizations, one dataset per access level, people.

Datasets of the organization ``stadt`` (slugs chosen to appear nowhere else in any answer):
``mx-oeffentlich`` (public), ``mx-partner`` (partner), ``mx-intern`` (internal),
``mx-entwurf`` (draft, never published) and ``mx-zurueckgezogen`` (public, then withdrawn).
People: an admin, a steward of ``stadt``, a steward of ``stadtwerke``, a reviewer who judges
the pending release of the draft, a partner whose grant covers ``mx-partner``, a partner
without a grant, and anonymous callers. Grants and pending reviews come from the governance
modules' provider functions, replaced here so the world does not depend on the challenge flow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from datenschatz.config import Settings
from datenschatz.db.migrate import upgrade
from datenschatz.db.models import AccessLevel, Dataset, DatasetStatus, Organization
from datenschatz.governance import accounts, audit, tokens
from datenschatz.hub import Hub
from datenschatz.services.publish import publish
from tests.helpers import add_version

GEO_SQL = (
    "SELECT 1 AS id, 2.5 AS pm10, ST_SetCRS(ST_Point(7.2, 51.5), 'EPSG:4326') AS geometry "
    "UNION ALL SELECT 2, 3.5, ST_SetCRS(ST_Point(7.3, 51.6), 'EPSG:4326')"
)

PUBLIC, PARTNER, INTERNAL, DRAFT, WITHDRAWN = (
    "mx-oeffentlich",
    "mx-partner",
    "mx-intern",
    "mx-entwurf",
    "mx-zurueckgezogen",
)
LEVELS = (PUBLIC, PARTNER, INTERNAL, DRAFT)
ABSENT = "mx-gibt-es-nicht"
WITHDRAWAL_REASON = "Messfehler im Sensor"

ROLES = (
    "admin",
    "steward",
    "steward_other",
    "reviewer",
    "partner",
    "partner_without_grant",
    "anonymous",
)

# Who may know each dataset exists (the access rules of docs/governance.md).
VISIBLE: dict[str, set[str]] = {
    "admin": {PUBLIC, PARTNER, INTERNAL, DRAFT},
    "steward": {PUBLIC, PARTNER, INTERNAL, DRAFT},
    "steward_other": {PUBLIC},
    "reviewer": {PUBLIC, DRAFT},
    "partner": {PUBLIC, PARTNER},
    "partner_without_grant": {PUBLIC},
    "anonymous": {PUBLIC},
}
EDITORS = {"admin", "steward"}


@dataclass
class World:
    hub: Hub
    ids: dict[str, int]
    secrets: dict[str, str]  # role -> API token (no entry for anonymous)
    users: dict[str, int]

    def headers(self, role: str) -> dict[str, str]:
        secret = self.secrets.get(role)
        return {"Authorization": f"Bearer {secret}"} if secret else {}


def make_world(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, scopes: Iterable[str]
) -> World:
    hub = Hub(
        Settings(
            data_dir=tmp_path / "data",
            database_url=database_url,
            rate_limit_ip_per_minute=0,
            rate_limit_token_per_minute=0,
            metadata_cache_seconds=0,
        )
    )
    hub.store.ensure()
    upgrade(hub.engine)
    for slug in (PUBLIC, PARTNER, INTERNAL, DRAFT, WITHDRAWN):
        add_version(hub, slug, GEO_SQL, org="stadt")
        if slug != DRAFT:
            publish(hub, slug, actor="test")
    with hub.session() as session:
        session.add(Organization(slug="stadtwerke", name="Stadtwerke"))
        session.execute(
            update(Dataset).where(Dataset.slug == PARTNER).values(access_level=AccessLevel.PARTNER)
        )
        session.execute(
            update(Dataset)
            .where(Dataset.slug == INTERNAL)
            .values(access_level=AccessLevel.INTERNAL)
        )
        session.execute(
            update(Dataset)
            .where(Dataset.slug == WITHDRAWN)
            .values(
                status=DatasetStatus.WITHDRAWN, extra={"withdrawal": {"reason": WITHDRAWAL_REASON}}
            )
        )
        ids = {slug: id_ for slug, id_ in session.execute(select(Dataset.slug, Dataset.id))}
        try:  # the search index keeps facet values (access level) of its own
            from datenschatz.catalog.search_index import reindex
        except ImportError:  # pragma: no cover - before the search capability
            pass
        else:
            reindex(session, ids.values())
        people = {
            "admin": ("admin", None, None),
            "steward": ("steward", "stadt", None),
            "steward_other": ("steward", "stadtwerke", None),
            "reviewer": ("reviewer", None, "data_protection_officer"),
            "partner": ("partner", None, None),
            "partner_without_grant": ("partner", None, None),
        }
        secrets: dict[str, str] = {}
        users: dict[str, int] = {}
        for role, (kind, org, reviewer_kind) in people.items():
            name = role.replace("_", "-")
            info = accounts.create_user(
                session, name, role=kind, org=org, reviewer_kind=reviewer_kind, actor="test"
            )
            users[role] = info.id
            wanted = set(scopes) | ({"admin"} if role == "admin" else set())
            user = accounts.get_user(session, name)
            secrets[role] = tokens.create_token(session, user, scopes=wanted, actor="test").secret
        audit.record(session, actor="test", action="test.setup", object_type="test", object_id="1")

    partner_id, reviewer_id = users["partner"], users["reviewer"]
    grant_ids = {partner_id: {ids[PARTNER]}}
    review_ids = {reviewer_id: {ids[DRAFT]}}

    def grants(
        _session: object, user_id: int, _now: datetime, *, scopes: object = None
    ) -> set[int]:
        del scopes
        return set(grant_ids.get(user_id, set()))

    def reviews(_session: object, user_id: int) -> set[int]:
        return set(review_ids.get(user_id, set()))

    from datenschatz.governance import grants as grants_module
    from datenschatz.governance import releases as releases_module

    monkeypatch.setattr(grants_module, "active_grant_dataset_ids", grants)
    monkeypatch.setattr(releases_module, "pending_review_dataset_ids", reviews)
    return World(hub, ids, secrets, users)
