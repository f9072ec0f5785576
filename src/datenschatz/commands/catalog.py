"""`datenschatz meta|org|group|harvest`: dataset metadata, publishers, groups, harvesting.

Run by whoever operates the server: without ``--as USER`` a command acts as the admin
``cli``; with it, as that user with their roles. The services decide who may do what.

``meta SLUG key=value ...`` changes single fields: lists (keywords, themes, geocoding, groups)
are comma-separated, the contact point is set with ``contact.name=``, ``contact.email=`` and
``contact.url=``, and ``key=`` (nothing after the ``=``) clears an optional field.
``--file meta.yaml`` reads a whole mapping; with ``--replace`` it becomes the metadata.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from datenschatz.commands import acting_principal
from datenschatz.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from datenschatz.access.policy import Principal
    from datenschatz.hub import Hub

org_app = typer.Typer(help="Organizations (publishers) and their details.", no_args_is_help=True)
group_app = typer.Typer(help="Groups (topics) of datasets.", no_args_is_help=True)
harvest_app = typer.Typer(
    help="Bring another catalog's metadata into an organization.", no_args_is_help=True
)

LIST_FIELDS = frozenset({"keywords", "themes", "geocoding", "groups"})
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
AsOption = Annotated[
    str | None, typer.Option("--as", help="Act as this user (default: the admin 'cli').")
]
Assignments = Annotated[list[str] | None, typer.Argument(help="KEY=VALUE pairs.")]


def register(app: typer.Typer) -> None:
    """Add `meta` and the `org`, `group` and `harvest` sub-commands to the root app."""
    app.command("meta")(meta)
    app.add_typer(org_app, name="org")
    app.add_typer(group_app, name="group")
    app.add_typer(harvest_app, name="harvest")


@contextmanager
def _acting(as_user: str | None, as_json: bool) -> Iterator[tuple[Hub, Session, Principal]]:
    from datenschatz.cli import handled, load_hub

    with handled(as_json):
        hub = load_hub()
        with hub.session() as session:
            yield hub, session, acting_principal(session, as_user)


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """KEY=VALUE pairs as metadata changes (lists split at commas, contact.* nested)."""
    changes: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"Expected KEY=VALUE, got {item.split('=')[0]!r}.", parameter="meta")
        text = value.strip()
        if key.startswith("contact."):
            part = key.removeprefix("contact.")
            if part not in ("name", "email", "url"):
                raise InputError(f"Unknown contact field {part!r}.", parameter=key, field=key)
            contact = changes.setdefault("contact", {})
            if isinstance(contact, dict):
                contact[part] = text or None
            continue
        if key in LIST_FIELDS:
            changes[key] = [v.strip() for v in text.split(",") if v.strip()]
        else:
            changes[key] = text or None
    return changes


def _read_file(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("The file cannot be read.", parameter="file", file=path.name) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            "The file is not valid YAML.",
            parameter="file",
            file=path.name,
            line=mark.line + 1 if mark is not None else None,
        ) from None
    if not isinstance(data, dict):
        raise InputError("The file must hold a mapping of metadata fields.", parameter="file")
    for key in ("issued",):
        if key in data and data[key] is not None:
            data[key] = str(data[key])
    return data


def _print_metadata(data: dict[str, Any]) -> None:
    from rich.table import Table

    from datenschatz.cli import out

    table = Table(title=data["slug"], show_header=False)
    for key, value in data.items():
        if key == "slug" or value in (None, [], ""):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items() if v)
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        table.add_row(key, str(value))
    out.print(table)


def meta(
    slug: Annotated[str, typer.Argument(help="Dataset slug.")],
    assignments: Assignments = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="A YAML mapping of metadata fields.")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="The file replaces all metadata (with --file).")
    ] = False,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a dataset's metadata, or change it (KEY=VALUE ... or --file meta.yaml)."""
    from datenschatz.catalog.datasets import get_dataset
    from datenschatz.catalog.metadata import (
        attribution_text,
        dataset_group_slugs,
        read_metadata,
        update_metadata,
    )
    from datenschatz.cli import emit

    with _acting(as_user, as_json) as (_hub, session, principal):
        changes: dict[str, Any] = {}
        if file is not None:
            changes.update(_read_file(file))
        changes.update(parse_assignments(assignments or []))
        if replace and file is None:
            raise InputError("--replace needs --file.", parameter="replace")
        if changes:
            result = update_metadata(session, principal, slug, changes, replace=replace)
        else:
            from datenschatz.access.policy import ensure_dataset

            result = read_metadata(ensure_dataset(session, principal, slug))
        dataset = get_dataset(session, slug)
        data = {"slug": slug, **result.model_dump(mode="json")}
        data["groups"] = dataset_group_slugs(session, [dataset.id])[dataset.id]
        data["attribution"] = attribution_text(dataset)
        data["missing"] = result.missing()
        if not emit(data, as_json):
            _print_metadata(data)


@org_app.command("list")
def org_list(as_user: AsOption = None, as_json: JsonOption = False) -> None:
    """The organizations with type and number of datasets."""
    from rich.table import Table

    from datenschatz.catalog.organizations import list_organizations
    from datenschatz.cli import emit, out

    with _acting(as_user, as_json) as (_hub, session, principal):
        orgs = list_organizations(session, principal)
        if emit([o.to_dict() for o in orgs], as_json):
            return
        table = Table("slug", "name", "type", "datasets")
        for org in orgs:
            table.add_row(org.slug, org.name, org.type, str(org.dataset_count))
        out.print(table)


@org_app.command("show")
def org_show(
    slug: Annotated[str, typer.Argument(help="Organization slug.")],
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """One organization with its details."""
    from datenschatz.catalog.organizations import organization_detail
    from datenschatz.cli import emit, out

    with _acting(as_user, as_json) as (_hub, session, principal):
        info = organization_detail(session, principal, slug).to_dict()
        if not emit(info, as_json):
            for key, value in info.items():
                out.print(f"{key}: {value if value is not None else ''}", highlight=False)


@org_app.command("set")
def org_set(
    slug: Annotated[str, typer.Argument(help="Organization slug.")],
    assignments: Assignments = None,
    create: Annotated[bool, typer.Option("--create", help="Create a new organization.")] = False,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create (--create) or change an organization: name=, type=, homepage=, email=, ..."""
    from datenschatz.catalog.organizations import save_organization
    from datenschatz.cli import emit, out

    with _acting(as_user, as_json) as (_hub, session, principal):
        changes = {}
        for item in assignments or []:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise InputError("Expected KEY=VALUE.", parameter="org")
            changes[key.strip()] = value.strip() or None
        info = save_organization(session, principal, slug, changes, create=create).to_dict()
        if not emit(info, as_json):
            out.print(f"{info['slug']}: {info['name']} ({info['type']})", highlight=False)


@group_app.command("list")
def group_list(as_user: AsOption = None, as_json: JsonOption = False) -> None:
    """The groups with their number of datasets."""
    from datenschatz.catalog.organizations import list_groups
    from datenschatz.cli import emit, out

    with _acting(as_user, as_json) as (_hub, session, principal):
        groups = list_groups(session, principal)
        if not emit([g.to_dict() for g in groups], as_json):
            for group in groups:
                out.print(f"{group.slug}: {group.title} ({group.dataset_count})", highlight=False)


@group_app.command("set")
def group_set(
    slug: Annotated[str, typer.Argument(help="Group slug.")],
    title: Annotated[str | None, typer.Option(help="Title shown to users.")] = None,
    description: Annotated[str | None, typer.Option(help="What the group gathers.")] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a group or change its title and description."""
    from datenschatz.catalog.organizations import save_group
    from datenschatz.cli import emit, out

    with _acting(as_user, as_json) as (_hub, session, principal):
        info = save_group(session, principal, slug, title=title, description=description)
        if not emit(info.to_dict(), as_json):
            out.print(f"{info.slug}: {info.title}", highlight=False)


@group_app.command("delete")
def group_delete(
    slug: Annotated[str, typer.Argument(help="Group slug.")],
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete a group (its datasets stay)."""
    from datenschatz.catalog.organizations import delete_group
    from datenschatz.cli import emit, out

    with _acting(as_user, as_json) as (_hub, session, principal):
        delete_group(session, principal, slug)
        if not emit({"deleted": slug}, as_json):
            out.print(f"deleted {slug}", highlight=False)


OrgOption = Annotated[str, typer.Option("--org", help="Organization the datasets go into.")]


def _print_report(data: dict[str, Any]) -> None:
    from datenschatz.cli import out

    out.print(
        f"{data['source']} -> {data['organization']}: {len(data['created'])} new, "
        f"{len(data['updated'])} updated, {len(data['unchanged'])} unchanged, "
        f"{len(data['withdrawn'])} withdrawn",
        highlight=False,
    )
    if data["dropped_fields"]:
        out.print(
            f"  {data['dropped_fields']} remote values did not fit the vocabularies "
            "and were left out",
            highlight=False,
        )


@harvest_app.command("dcat")
def harvest_dcat(
    source: Annotated[str, typer.Argument(help="A DCAT file (ttl, rdf, jsonld) or URL.")],
    org: OrgOption,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Harvest a DCAT catalog (Hydra pages followed) as metadata-only draft datasets."""
    from datenschatz.catalog import harvest
    from datenschatz.cli import emit

    with _acting(as_user, as_json) as (_hub, session, principal):
        data = harvest.harvest_dcat(session, principal, source, org).to_dict()
        if not emit(data, as_json):
            _print_report(data)


@harvest_app.command("ckan")
def harvest_ckan(
    url: Annotated[str, typer.Argument(help="The CKAN portal's base URL.")],
    org: OrgOption,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Harvest a CKAN portal (package_search, paged) as metadata-only draft datasets."""
    from datenschatz.catalog import harvest
    from datenschatz.cli import emit

    with _acting(as_user, as_json) as (_hub, session, principal):
        data = harvest.harvest_ckan(session, principal, url, org).to_dict()
        if not emit(data, as_json):
            _print_report(data)
