"""k-anonymity of row-level tables (microdata) over their quasi-identifiers.

A table is k-anonymous on its quasi-identifiers when every combination of their values that
occurs is shared by at least k people (distinct contributors when a contributor column is
named, rows otherwise). :func:`check` measures it in DuckDB; :func:`enforce` can suppress the
rows of the classes that are too small, up to a declared share of rows, and reports what it
did. Generalizing further (postcode → district, date → month, numbers → bands) is declared as
treatments before this step.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import duckdb

from datenschatz.store.duck import sql_ident


@dataclass(frozen=True)
class KAnonSpec:
    quasi_ids: tuple[str, ...]
    k: int = 5
    suppress: bool = False
    max_suppressed: float = 0.05  # largest share of rows that suppression may remove
    contributor: str | None = None


def _classes_sql(source: str, spec: KAnonSpec) -> str:
    q = ", ".join(sql_ident(c) for c in spec.quasi_ids)
    size = f"count(DISTINCT {sql_ident(spec.contributor)})" if spec.contributor else "count(*)"
    return f"SELECT {q}, {size} AS __size, count(*) AS __rows FROM {source} GROUP BY ALL"


def check(con: duckdb.DuckDBPyConnection, source: str, spec: KAnonSpec) -> dict[str, Any]:
    """Class statistics: smallest class, classes and rows below k."""
    row = con.execute(
        f"SELECT count(*), min(__size), count(*) FILTER (WHERE __size < {spec.k}), "
        f"coalesce(sum(__rows) FILTER (WHERE __size < {spec.k}), 0), coalesce(sum(__rows), 0) "
        f"FROM ({_classes_sql(source, spec)})"
    ).fetchone()
    assert row is not None
    classes, smallest, small, small_rows, rows = row
    return {
        "quasi_ids": list(spec.quasi_ids),
        "k": spec.k,
        "classes": int(classes),
        "smallest_class": int(smallest) if smallest is not None else None,
        "classes_below_k": int(small),
        "rows_below_k": int(small_rows),
        "rows": int(rows),
        "reached": int(small) == 0,
    }


def enforce(
    con: duckdb.DuckDBPyConnection, source: str, spec: KAnonSpec
) -> tuple[str, dict[str, Any]]:
    """A view over ``source`` that is k-anonymous, and the report section.

    Without ``suppress`` the view is ``source`` itself and the report says whether k was
    reached. With it, the rows of classes below k are removed, unless that would remove more
    than ``max_suppressed`` of the rows (then nothing is removed and ``reached`` is false).
    """
    before = check(con, source, spec)
    report: dict[str, Any] = {**before, "rows_suppressed": 0, "suppress": spec.suppress}
    if before["reached"] or not spec.suppress:
        return source, report
    if before["rows"] and before["rows_below_k"] / before["rows"] > spec.max_suppressed:
        report["note"] = (
            f"Reaching k={spec.k} would suppress {before['rows_below_k']} of {before['rows']} "
            f"rows, more than the allowed share {spec.max_suppressed:g}: generalize further."
        )
        return source, report
    view = f"ds_kanon_{uuid.uuid4().hex[:10]}"
    keys = " AND ".join(
        f"s.{sql_ident(c)} IS NOT DISTINCT FROM c.{sql_ident(c)}" for c in spec.quasi_ids
    )
    con.execute(
        f"CREATE TEMP VIEW {view} AS SELECT s.* FROM {source} s "
        f"SEMI JOIN ({_classes_sql(source, spec)}) c ON {keys} AND c.__size >= {spec.k}"
    )
    after = check(con, view, spec)
    report.update(
        rows_suppressed=before["rows"] - after["rows"],
        classes_suppressed=before["classes_below_k"],
        smallest_class=after["smallest_class"],
        classes=after["classes"],
        classes_below_k=after["classes_below_k"],
        rows_below_k=after["rows_below_k"],
        rows=after["rows"],
        reached=after["reached"],
    )
    return view, report
