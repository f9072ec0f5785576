"""A locked-down DuckDB for one read-only SQL statement over named Parquet files.

:func:`run_query` takes a map of table names to Parquet files and the caller's SQL. It knows
nothing of access rules or HTTP: the caller decides which files a user may see.

Three walls keep a query inside those files and its limits, one module each.

**The statement** (:mod:`.check`). Before anything runs, the text must parse into exactly one
SELECT, and its parse tree must name only the dataset tables and the query's own CTEs, only
the table functions of :data:`ALLOWED_TABLE_FUNCTIONS`, no function of
:data:`FORBIDDEN_FUNCTIONS` (settings, view definitions, sleeping, writing to the log), and
no SHOW other than ``SHOW TABLES``, ``DESCRIBE`` and ``SUMMARIZE``. So no ``read_csv``,
``read_parquet``, ``read_text``, ``read_blob``, ``glob``, ``query``, ``duckdb_settings``,
``parquet_metadata``, ``sniff_csv``, ``pragma_*``, ``ST_Read`` ..., and no system table.

Allowed: any SELECT, CTE (recursive too), join, window, aggregate, scalar function,
``DESCRIBE``/``SUMMARIZE``/``SHOW TABLES``, ``range``/``generate_series``/``unnest``/
``json_each``/``json_tree``, the spatial functions, and harmless reads such as ``version()``.
A PIVOT without an ``IN`` list is two statements to DuckDB and is refused.

**The engine** (:mod:`.engine`). Every table map gets its own DuckDB instance that can read
exactly its files, has external access switched off and its configuration locked, writes
nothing, and has a memory limit, a thread count and a timer that interrupts the query at the
time limit. Results are cut at ``max_rows`` rows (and about ``max_result_bytes``) and made
JSON-ready.

**The process** (:mod:`.workers`). Queries run in worker processes whose address space is
capped per query and which the parent kills when they overrun the time limit, because some
DuckDB functions allocate outside its memory accounting and do not look at interrupts.

Every refusal or failure is a :class:`~datenschatz.errors.SqlError` (400; ``sql_forbidden``,
``sql_timeout``, ``sql_memory_limit`` or ``sql_error``) whose message never contains a path
of a dataset file. A table the caller may not see does not exist in the instance, so asking
for it fails exactly like asking for a table that never existed.
"""

from __future__ import annotations

from datenschatz.store.sandbox.check import (
    ALLOWED_TABLE_FUNCTIONS,
    FORBIDDEN_FUNCTIONS,
    unknown_table,
)
from datenschatz.store.sandbox.check import _system_relations as _system_relations
from datenschatz.store.sandbox.engine import (
    ResultColumn,
    SandboxLimits,
    SqlResult,
    table_aliases,
)
from datenschatz.store.sandbox.engine import _instance as _instance
from datenschatz.store.sandbox.workers import _POOL as _POOL
from datenschatz.store.sandbox.workers import (
    KILL_GRACE_SECONDS,
    QUERIES_PER_WORKER,
    WORKER_HEADROOM_BYTES,
    memory_bytes,
    run_query,
    stop_workers,
)

# The public API. The underscored names imported above are internals the tests reach through
# this package: DuckDB's system relations, the instance cache and the worker pool.
__all__ = [
    "ALLOWED_TABLE_FUNCTIONS",
    "FORBIDDEN_FUNCTIONS",
    "KILL_GRACE_SECONDS",
    "QUERIES_PER_WORKER",
    "WORKER_HEADROOM_BYTES",
    "ResultColumn",
    "SandboxLimits",
    "SqlResult",
    "memory_bytes",
    "run_query",
    "stop_workers",
    "table_aliases",
    "unknown_table",
]
