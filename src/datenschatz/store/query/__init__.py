"""Query mechanics over one immutable version file: filters, pages, counts, aggregates, exports.

Knows nothing of HTTP or access: callers (services) decide who may read which version and
hand over a :class:`Table`. Every limit lives here: time limits on every query, a cap on the
rows of a page and the groups of an aggregate, bounded memory for exports.
"""

from __future__ import annotations

from datenschatz.errors import QueryTimeout
from datenschatz.store.query.aggregates import (
    AggregateQuery,
    AggregateResult,
    Bucket,
    Fn,
    GroupKey,
    Metric,
    OutputSort,
    aggregate,
)
from datenschatz.store.query.count import Count, count_rows
from datenschatz.store.query.exports import XLSX_MAX_ROWS, Export, ExportQuery, Format, export
from datenschatz.store.query.filters import BBox, Filter, Op, Where
from datenschatz.store.query.paging import CURSOR_PARAMETER, Page, RowsQuery, SortKey, fetch_page
from datenschatz.store.query.render import Dialect
from datenschatz.store.query.table import Column, Kind, Table

__all__ = [
    "CURSOR_PARAMETER",
    "XLSX_MAX_ROWS",
    "AggregateQuery",
    "AggregateResult",
    "BBox",
    "Bucket",
    "Column",
    "Count",
    "Dialect",
    "Export",
    "ExportQuery",
    "Filter",
    "Fn",
    "Format",
    "GroupKey",
    "Kind",
    "Metric",
    "Op",
    "OutputSort",
    "Page",
    "QueryTimeout",
    "RowsQuery",
    "SortKey",
    "Table",
    "Where",
    "aggregate",
    "count_rows",
    "export",
    "fetch_page",
]
