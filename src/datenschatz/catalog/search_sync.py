"""Keeping the search index current: the datasets a flush touched, re-indexed before commit.

A session listener collects the datasets whose Dataset, Version, Organization or group rows
changed in a flush; just before the transaction commits, :func:`search_index.reindex` rebuilds
their entries in the same transaction. No other module has to remember to call the index.

This module is light on purpose: the catalog package registers the listeners on import, so
every command that reads the catalog loads it. The index itself (text normalisation, metadata,
backends) is imported only when a commit has something to re-index.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from datenschatz.db.catalog_models import DatasetGroup
from datenschatz.db.models import Dataset, Organization, Version

_PENDING = "search_pending_datasets"
_PENDING_ORGS = "search_pending_organizations"


def _collect(session: Session, _context: Any) -> None:
    datasets: set[int] = session.info.setdefault(_PENDING, set())
    organizations: set[int] = session.info.setdefault(_PENDING_ORGS, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Dataset):
            datasets.add(obj.id)
        elif isinstance(obj, Version | DatasetGroup):
            datasets.add(obj.dataset_id)
        elif isinstance(obj, Organization):
            organizations.add(obj.id)


def _before_commit(session: Session) -> None:
    session.flush()  # changes not flushed yet are collected now
    datasets: set[int] = session.info.pop(_PENDING, set())
    organizations: set[int] = session.info.pop(_PENDING_ORGS, set())
    if organizations:
        datasets.update(
            session.scalars(
                select(Dataset.id).where(Dataset.organization_id.in_(organizations))
            ).all()
        )
    if datasets:
        from datenschatz.catalog.search_index import reindex

        reindex(session, datasets)


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_PENDING_ORGS, None)


event.listen(Session, "after_flush", _collect)
event.listen(Session, "before_commit", _before_commit)
event.listen(Session, "after_rollback", _forget)
