"""Recipes: reproducible derived datasets, written as ordinary versions with their provenance.

Running a recipe reads the exact input versions (pinned, or each input's published version),
runs the transformation in DuckDB over them, and stores the result through the same commit
path as any ingest, so the output meets the same checks: quality report, privacy gate and
release workflow. The run records the recipe text and the inputs' versions and hashes.

A recipe is *stale* when an input it follows has a newer published version than the one its
last run read, or when it never ran; :func:`run_stale` re-runs those, upstream recipes first.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Any

import duckdb
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from datenschatz.access.policy import (
    Principal,
    ensure_can_edit,
    ensure_can_manage_measures,
    ensure_version,
)
from datenschatz.analysis.recipe_spec import RecipeSpec, compile_sql, parse_recipe
from datenschatz.catalog.datasets import VersionInfo, get_dataset, get_or_create_dataset
from datenschatz.db.analysis_models import Recipe, RecipeInput, RecipeRun
from datenschatz.db.models import Dataset, Version
from datenschatz.errors import InputError, NotFound
from datenschatz.hub import Hub
from datenschatz.ingest.model import Staged
from datenschatz.ingest.pipeline import Source, commit_version
from datenschatz.store.duck import sql_ident, sql_string
from datenschatz.store.sandbox.check import check_select

log = logging.getLogger(__name__)

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


@dataclass(frozen=True)
class _Input:
    alias: str
    dataset: str
    dataset_id: int
    version: int
    version_id: int
    sha256: str
    path: str
    pinned: bool

    def record(self) -> dict[str, Any]:
        return {
            "alias": self.alias,
            "dataset": self.dataset,
            "dataset_id": self.dataset_id,
            "version": self.version,
            "version_id": self.version_id,
            "sha256": self.sha256,
            "pinned": self.pinned,
        }


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_statement(spec: RecipeSpec) -> str:
    """The transformation's SQL, refused when it names anything but its inputs."""
    con = duckdb.connect(":memory:", config={"autoload_known_extensions": False})
    try:
        sql = compile_sql(spec)
        check_select(con, sql, frozenset(a.casefold() for a in spec.inputs))
        return sql
    finally:
        con.close()


def _ancestors(session: Session, dataset_ids: set[int]) -> set[int]:
    """Datasets the given ones are derived from, through recipes, transitively."""
    seen: set[int] = set()
    todo = set(dataset_ids)
    while todo:
        rows = session.execute(
            select(RecipeInput.dataset_id)
            .join(Recipe, Recipe.id == RecipeInput.recipe_id)
            .where(Recipe.output_dataset_id.in_(todo))
        ).scalars()
        todo = set(rows) - seen
        seen |= todo
    return seen


def create_recipe(
    hub: Hub,
    principal: Principal,
    text: str,
    *,
    source: str = "recipe",
    output: str | None = None,
) -> dict[str, Any]:
    """Store (or replace) the recipe of its output dataset, creating that dataset if new.

    ``output``, when given, is the dataset the caller means; the file must name the same.
    """
    ensure_can_manage_measures(principal)  # stewards and admins write recipes
    spec = parse_recipe(text, source=source)
    if output is not None and spec.output != output:
        raise InputError("The recipe's output: names another dataset.", parameter="output")
    check_statement(spec)
    with hub.session() as session:
        for alias, ref in spec.inputs.items():
            if ref.slug == spec.output:
                raise InputError(
                    "A recipe cannot read its own output.", parameter=f"inputs.{alias}"
                )
        inputs = {
            item.alias: (item.dataset_id, spec.inputs[item.alias].version)
            for item in _resolve(session, principal, spec)
        }
        existing = session.scalar(select(Dataset).where(Dataset.slug == spec.output))
        if existing is not None:
            target = ensure_can_edit(session, principal, spec.output)
        else:
            target, _ = get_or_create_dataset(session, spec.output, title=spec.title, org=spec.org)
            if spec.description:
                target.description = spec.description
        if target.id in _ancestors(session, {ds for ds, _ in inputs.values()}):
            raise InputError(
                "The recipe would feed its output back into its own inputs.", parameter="inputs"
            )
        recipe = session.scalar(select(Recipe).where(Recipe.output_dataset_id == target.id))
        if recipe is None:
            recipe = Recipe(output_dataset_id=target.id, created_by=principal.name)
            session.add(recipe)
        recipe.text = text
        recipe.spec = spec.model_dump(mode="json", exclude_none=True)
        session.flush()
        session.execute(delete(RecipeInput).where(RecipeInput.recipe_id == recipe.id))
        for alias, (dataset_id, pinned) in inputs.items():
            session.add(
                RecipeInput(
                    recipe_id=recipe.id, alias=alias, dataset_id=dataset_id, pinned_version=pinned
                )
            )
        session.flush()
        _audit(session, principal, "recipe.save", spec.output)
        return show_recipe(session, principal, spec.output)


def _audit(session: Session, principal: Principal, action: str, slug: str, **details: Any) -> None:
    from datenschatz.governance import audit

    audit.record(
        session,
        actor=principal.name,
        action=action,
        object_type="dataset",
        object_id=slug,
        details=details or None,
    )


def _recipe_of(session: Session, slug: str) -> tuple[Dataset, Recipe]:
    dataset = get_dataset(session, slug)
    recipe = session.scalar(select(Recipe).where(Recipe.output_dataset_id == dataset.id))
    if recipe is None:
        raise NotFound("The dataset has no recipe.", dataset=slug)
    return dataset, recipe


def _resolve(session: Session, principal: Principal, spec: RecipeSpec) -> list[_Input]:
    resolved = []
    for alias, ref in spec.inputs.items():
        try:
            version = ensure_version(session, principal, ref.slug, ref.version)
        except NotFound:
            raise InputError(
                f"inputs.{alias}: no such dataset, or no published version of it.",
                parameter=f"inputs.{alias}",
                dataset=ref.slug,
            ) from None
        resolved.append(
            _Input(
                alias=alias,
                dataset=ref.slug,
                dataset_id=version.dataset_id,
                version=version.number,
                version_id=version.id,
                sha256=version.sha256,
                path=version.path,
                pinned=ref.version is not None,
            )
        )
    return resolved


def _failure(exc: duckdb.Error) -> InputError:
    """A DuckDB error as an InputError, without quoted values (they may be personal data)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return InputError(
        "The recipe's transformation failed: " + _QUOTED.sub("'…'", first)[:300],
        parameter="sql",
    )


def run_recipe(hub: Hub, principal: Principal, slug: str) -> VersionInfo:
    """Run the recipe of ``slug``: write a new version of it and record the run."""
    with hub.session() as session:
        ensure_can_edit(session, principal, slug)
        _dataset, recipe = _recipe_of(session, slug)
        spec = parse_recipe(recipe.text)
        text, recipe_id = recipe.text, recipe.id
        inputs = _resolve(session, principal, spec)
    sql = check_statement(spec)
    con = hub.duckdb(spatial=True)
    try:
        for item in inputs:
            path = sql_string(str(hub.store.path(item.path)))
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {sql_ident(item.alias)} AS "
                f"SELECT * FROM read_parquet({path})"
            )
        try:
            described = con.execute(f"DESCRIBE SELECT * FROM ({sql})").fetchall()
        except duckdb.Error as exc:
            raise _failure(exc) from None
        geometry = [str(r[0]) for r in described if str(r[1]).startswith("GEOMETRY")]
        if geometry and geometry != ["geometry"]:
            raise InputError(
                "A recipe's output has at most one geometry column, named geometry.",
                parameter="sql",
                columns=geometry,
            )
        staged = Staged(
            select_sql=f"SELECT * FROM ({sql})",
            format="recipe",
            geometry_column="geometry" if geometry else None,
            source_crs="EPSG:4326" if geometry else None,
        )
        try:
            info = commit_version(
                hub,
                con,
                staged,
                dataset=slug,
                source=Source(f"recipe {slug}", len(text.encode("utf-8")), _sha(text)),
                actor=principal.name,
            )
        except duckdb.Error as exc:
            raise _failure(exc) from None
    finally:
        con.close()
    with hub.session() as session:
        dataset = get_dataset(session, slug)
        version = session.scalar(
            select(Version).where(Version.dataset_id == dataset.id, Version.number == info.number)
        )
        assert version is not None
        session.add(
            RecipeRun(
                recipe_id=recipe_id,
                version_id=version.id,
                recipe_text=text,
                recipe_sha256=_sha(text),
                inputs=[i.record() for i in inputs],
                created_by=principal.name,
            )
        )
        _audit(session, principal, "recipe.run", slug, version=info.number)
    _first_privacy_report(hub, slug, info.number)
    log.info("recipe %s ran: version %d (%d rows)", slug, info.number, info.rows)
    return info


def _first_privacy_report(hub: Hub, slug: str, number: int) -> None:
    """Scan the output at once, as ingest does; publishing evaluates the gate again."""
    from datenschatz.errors import DatenschatzError
    from datenschatz.privacy.gate import evaluate_version

    try:
        evaluate_version(hub, slug, number)
    except (duckdb.Error, DatenschatzError):
        log.warning(
            "privacy scan of recipe output %s v%d failed; publish scans again", slug, number
        )


def _last_run(session: Session, recipe_id: int) -> RecipeRun | None:
    return session.scalar(
        select(RecipeRun).where(RecipeRun.recipe_id == recipe_id).order_by(RecipeRun.id.desc())
    )


def staleness(session: Session, recipe: Recipe) -> list[str]:
    """Why the recipe's output is stale (empty when it is current)."""
    last = _last_run(session, recipe.id)
    if last is None:
        return ["the recipe has never run"]
    used = {i["alias"]: i for i in last.inputs}
    reasons = []
    for item in session.scalars(select(RecipeInput).where(RecipeInput.recipe_id == recipe.id)):
        before = used.get(item.alias)
        if before is None or before["dataset_id"] != item.dataset_id:
            reasons.append(f"input {item.alias} changed since the last run")
            continue
        if item.pinned_version is not None:
            if before["version"] != item.pinned_version:
                reasons.append(f"input {item.alias} is pinned to another version now")
            continue
        current = session.scalar(
            select(Version.number)
            .join(Dataset, Dataset.published_version_id == Version.id)
            .where(Dataset.id == item.dataset_id)
        )
        if current is not None and current != before["version"]:
            reasons.append(
                f"input {item.alias} has a newer published version ({current}, "
                f"the last run read {before['version']})"
            )
    if last.recipe_sha256 != _sha(recipe.text):
        reasons.append("the recipe changed since the last run")
    return reasons


def stale_recipes(session: Session) -> list[str]:
    """Output slugs of the stale recipes, upstream first."""
    recipes = list(session.scalars(select(Recipe)))
    outputs = {r.output_dataset_id: r for r in recipes}
    stale = {r.output_dataset_id for r in recipes if staleness(session, r)}
    ordered: list[int] = []

    def visit(dataset_id: int, path: frozenset[int]) -> None:
        if dataset_id in ordered or dataset_id in path:
            return
        recipe = outputs[dataset_id]
        for item in session.scalars(select(RecipeInput).where(RecipeInput.recipe_id == recipe.id)):
            if item.dataset_id in outputs and item.dataset_id in stale:
                visit(item.dataset_id, path | {dataset_id})
        ordered.append(dataset_id)

    for dataset_id in sorted(stale):
        visit(dataset_id, frozenset())
    found = session.execute(select(Dataset.id, Dataset.slug).where(Dataset.id.in_(ordered)))
    slugs = {dataset_id: slug for dataset_id, slug in found}
    return [slugs[i] for i in ordered]


def run_stale(hub: Hub, principal: Principal) -> list[VersionInfo]:
    """Re-run every stale recipe, upstream first; one failure does not stop the others."""
    with hub.session() as session:
        slugs = stale_recipes(session)
    done = []
    for slug in slugs:
        try:
            done.append(run_recipe(hub, principal, slug))
        except InputError as exc:
            log.warning("stale recipe %s failed: %s", slug, exc.message)
    return done


def show_recipe(session: Session, principal: Principal, slug: str) -> dict[str, Any]:
    """The recipe of ``slug`` (for those who may edit it), its last run and its staleness."""
    ensure_can_edit(session, principal, slug)
    _dataset, recipe = _recipe_of(session, slug)
    last = _last_run(session, recipe.id)
    return {
        "output": slug,
        "text": recipe.text,
        "spec": recipe.spec,
        "sql": compile_sql(parse_recipe(recipe.text)),
        "stale": bool(staleness(session, recipe)),
        "stale_reasons": staleness(session, recipe),
        "last_run": None
        if last is None
        else {
            "version_id": last.version_id,
            "inputs": [
                {k: v for k, v in i.items() if k not in ("dataset_id", "version_id")}
                for i in last.inputs
            ],
            "recipe_sha256": last.recipe_sha256,
            "created_by": last.created_by,
            "created_at": last.created_at.isoformat(),
        },
    }
