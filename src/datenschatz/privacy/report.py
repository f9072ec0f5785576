"""The privacy report: one JSON document per version, with a JSON Schema.

The report is stored with the version (table ``privacy_report``) and re-evaluated whenever the
version is about to be published. It never contains a cell value: detector hits name a column,
an entity type, a count and (for stewards) example row numbers. :func:`public_summary` is the
part anyone may see of a published version's report.

``report.schema.json`` beside this module is generated from :class:`PrivacyReport`
(``python -m datenschatz.privacy.report > report.schema.json``); a test keeps them equal.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from datenschatz.db.privacy_models import ColumnRole

SCHEMA_FILE = Path(__file__).with_name("report.schema.json")
SCHEMA_ID = "https://datenschatz.example/schemas/privacy-report-1.json"
TOOLS = ("datenschatz", "duckdb", "python-stdnum", "phonenumbers", "opendp")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DetectorHit(_Model):
    entity: str = Field(description="Entity type, e.g. iban, email, phone, person_name, unique.")
    count: int = Field(ge=0, description="Rows with the entity (estimated from a checked sample).")
    rows: list[int] | None = Field(
        default=None, description="Example row numbers (1-based); for stewards only."
    )


class ColumnReport(_Model):
    name: str
    type: str = Field(description="Table Schema type of the column.")
    role: ColumnRole | None = Field(
        description="The confirmed role, or null when none is confirmed."
    )
    confirmed: bool
    proposed_role: ColumnRole | None
    proposal_reason: str
    hits: list[DetectorHit]
    blocking: bool = Field(description="Whether this column alone keeps the version back.")


class Suppressed(_Model):
    primary: int = Field(ge=0)
    secondary: int = Field(ge=0)


class Source(_Model):
    sha256: str = Field(description="SHA-256 of the source file the version came from.")
    version_sha256: str = Field(description="SHA-256 of the version's Parquet file.")
    format: str
    rows: int


class PrivacyReport(_Model):
    model_config = ConfigDict(extra="forbid", title="Datenschatz privacy report")

    report_schema: str = Field(alias="$schema", default=SCHEMA_ID)
    dataset: str
    version: int
    evaluated_at: str = Field(description="ISO 8601 time of the evaluation (UTC).")
    source: Source
    tools: dict[str, str] = Field(description="Versions of the tools that produced the report.")
    k: int = Field(ge=5, description="Minimum group size applied (contributors per row/group).")
    columns: list[ColumnReport]
    treatments: dict[str, Any] | None = Field(
        description="The treatment run that produced this version (null for an untreated one)."
    )
    smallest_group: int | None = Field(
        description="Smallest number of contributors behind a published row or group reached."
    )
    smallest_group_basis: str | None = Field(
        description="What the smallest group was measured on: contributor_count, quasi_id, "
        "treatment, or null when the table has neither."
    )
    suppressed_cells: Suppressed
    differential_privacy: dict[str, Any] | None = Field(
        description="DP parameters and the epsilon budget spent, when DP was applied."
    )
    compared_releases: list[dict[str, Any]] = Field(
        description="Earlier published releases of the same population compared with this one."
    )
    passed: bool
    reasons: list[str] = Field(description="Why the version does not pass (empty when passed).")
    notes: list[str] = Field(description="What the gate allowed and why (no action needed).")
    reason_codes: list[dict[str, Any] | None] | None = Field(
        default=None,
        description="Beside each reason: its stable code and values ({code, params}), by which "
        "pages show it in their language; null where a reason has none. Absent in older reports.",
    )
    note_codes: list[dict[str, Any] | None] | None = Field(
        default=None, description="Beside each note: its code and values, as reason_codes."
    )


def tool_versions() -> dict[str, str]:
    """Versions of the packages that took part in the evaluation."""
    found = {}
    for name in TOOLS:
        try:
            found[name] = package_version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def json_schema() -> dict[str, Any]:
    schema = PrivacyReport.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def validate(report: dict[str, Any]) -> PrivacyReport:
    """Validate ``report`` against the model (and so the schema); raises pydantic errors."""
    return PrivacyReport.model_validate(report)


def without_rows(report: dict[str, Any]) -> dict[str, Any]:
    """The report without example row numbers."""
    copy: dict[str, Any] = json.loads(json.dumps(report))
    for column in copy.get("columns", []):
        for hit in column.get("hits", []):
            hit.pop("rows", None)
    return copy


def public_summary(report: dict[str, Any]) -> dict[str, Any]:
    """What anyone may see of a published version's report, in plain terms."""
    treatments = report.get("treatments") or {}
    steps = treatments.get("treatments") if isinstance(treatments, dict) else None
    return {
        "dataset": report["dataset"],
        "version": report["version"],
        "passed": report["passed"],
        "evaluated_at": report["evaluated_at"],
        "k": report["k"],
        "smallest_group": report.get("smallest_group"),
        "columns": [{"name": c["name"], "role": c["role"]} for c in report["columns"]],
        "treatments": [
            s.get("kind") or s.get("type") or s.get("op") if isinstance(s, dict) else str(s)
            for s in steps or []
        ],
        "differential_privacy": report.get("differential_privacy") is not None,
        "summary": plain_summary(report),
    }


def plain_summary(report: dict[str, Any]) -> str:
    """One sentence for people: passed or not, k, and how the data was protected."""
    if not report["passed"]:
        return (
            f"Not cleared for publication: {len(report['reasons'])} finding(s) of the privacy "
            "gate are open."
        )
    parts = [f"Checked for personal data; every column has a confirmed role (k = {report['k']})"]
    if report.get("smallest_group") is not None:
        parts.append(f"each published figure stands for at least {report['smallest_group']}")
    if report.get("treatments"):
        parts.append("the data was treated before publication")
    if report.get("differential_privacy"):
        parts.append("with differential privacy")
    return "; ".join(parts) + "."


if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
