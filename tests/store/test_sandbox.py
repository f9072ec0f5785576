"""The SQL sandbox without HTTP: what it answers, what it refuses, and its limits."""

from __future__ import annotations

import json
import re
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from datenschatz.errors import SqlError
from datenschatz.store import duck, sandbox
from datenschatz.store.sandbox import (
    FORBIDDEN_FUNCTIONS,
    SandboxLimits,
    SqlResult,
    run_query,
)

LIMITS = SandboxLimits(timeout_seconds=0.5, memory_limit="256MB", threads=2)
#: The latest a query under LIMITS may end: the time limit, the kill grace, slack for load.
DEADLINE = LIMITS.timeout_seconds + sandbox.KILL_GRACE_SECONDS + 1.5


@dataclass(frozen=True)
class Files:
    root: Path
    tables: dict[str, Path]
    unpublished: Path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    root = tmp_path_factory.mktemp("sandbox")
    (root / "versions").mkdir()
    con = duck.connect()
    outputs = {
        "luft-bochum": "SELECT range AS id, range * 0.5::DOUBLE AS pm10, 'S' || range AS station "
        "FROM range(10)",
        "orte": "SELECT 1 AS id, ST_SetCRS(ST_Point(7.22, 51.54), 'EPSG:4326') AS geometry",
        "geheim": "SELECT 'secret' AS word",
    }
    paths = {}
    for name, select in outputs.items():
        path = root / "versions" / f"{name}.parquet"
        con.execute(f"COPY ({select}) TO {duck.sql_string(str(path))} (FORMAT parquet)")
        paths[name] = path
    con.close()
    unpublished = paths.pop("geheim")
    return Files(root, paths, unpublished)


def run(files: Files, q: str, limits: SandboxLimits = LIMITS) -> SqlResult:
    return run_query(files.tables, q, limits)


def refusal(files: Files, q: str, limits: SandboxLimits = LIMITS) -> SqlError:
    with pytest.raises(SqlError) as caught:
        run(files, q, limits)
    error = caught.value
    assert error.status == 400
    assert error.details["parameter"] == "q"
    assert str(files.root) not in error.message
    assert "/versions" not in error.message
    return error


# --- answers --------------------------------------------------------------------------------


def test_tables_answer_by_quoted_slug_and_by_underscore_alias(files: Files) -> None:
    quoted = run(files, 'SELECT id, pm10 FROM "luft-bochum" ORDER BY id LIMIT 3')
    alias = run(files, "SELECT id, pm10 FROM luft_bochum ORDER BY id LIMIT 3")
    assert quoted.rows == alias.rows == [[0, 0.0], [1, 0.5], [2, 1.0]]
    assert [(c.name, c.type) for c in quoted.columns] == [("id", "BIGINT"), ("pm10", "DOUBLE")]
    assert quoted.truncated is False


def test_show_tables_lists_exactly_the_given_tables(files: Files) -> None:
    result = run(files, "SHOW TABLES")
    assert sorted(r[0] for r in result.rows) == ["luft-bochum", "luft_bochum", "orte"]


def test_describe_and_summarize_work(files: Files) -> None:
    described = run(files, 'DESCRIBE "luft-bochum"')
    assert [r[0] for r in described.rows] == ["id", "pm10", "station"]
    summary = run(files, "SUMMARIZE orte")
    assert summary.rows[0][0] == "id"


def test_geometry_comes_back_as_geojson_and_spatial_functions_work(files: Files) -> None:
    result = run(files, "SELECT id, geometry, ST_X(geometry) AS x FROM orte")
    assert [c.type for c in result.columns] == ["INTEGER", "GEOMETRY", "DOUBLE"]
    assert result.rows == [[1, {"type": "Point", "coordinates": [7.22, 51.54]}, 7.22]]


def test_values_of_every_kind_are_json_ready(files: Files) -> None:
    cases = [
        ("'nan'::DOUBLE", None),
        ("['inf'::DOUBLE]", [None]),
        ("1.25::DECIMAL(10, 2)", 1.25),
        ("170141183460469231731687303715884105727::HUGEINT", 2**127 - 1),
        ("DATE '2024-02-29'", "2024-02-29"),
        ("TIMESTAMP '2024-02-29 10:30:00'", "2024-02-29T10:30:00"),
        ("TIMESTAMPTZ '2024-02-29 10:30:00+01'", "2024-02-29 09:30:00+00"),
        ("INTERVAL 3 MONTH", "3 months"),
        ("'\\xAA'::BLOB", "\\xAA"),
        ("[1, 2]", [1, 2]),
        ("{'n': 1, 'p': ST_Point(1, 2)}", {"n": 1, "p": "POINT (1 2)"}),
        ("MAP {'k': 'v'}", {"k": "v"}),
        ("'00000000-0000-0000-0000-000000000001'::UUID", "00000000-0000-0000-0000-000000000001"),
        ("'{\"a\": [1, 2]}'::JSON", {"a": [1, 2]}),
    ]
    select = ", ".join(f"{expression} AS c{i}" for i, (expression, _) in enumerate(cases))
    result = run(files, f"SELECT {select}, 1 AS dup, 2 AS dup")
    assert result.rows == [[expected for _, expected in cases] + [1, 2]]
    assert [c.name for c in result.columns][-2:] == ["dup", "dup"]
    json.dumps(result.rows, allow_nan=False)  # strict JSON, as the API sends it


def test_rows_are_capped_and_flagged_truncated(files: Files) -> None:
    limits = SandboxLimits(timeout_seconds=0.5, memory_limit="256MB", max_rows=4)
    cut = run(files, 'SELECT id FROM "luft-bochum" ORDER BY id', limits)
    assert cut.rows == [[0], [1], [2], [3]]
    assert cut.truncated is True
    assert cut.limit == 4
    exact = run(files, 'SELECT id FROM "luft-bochum" ORDER BY id LIMIT 4', limits)
    assert exact.truncated is False


def test_a_huge_result_is_cut_by_size_too(files: Files) -> None:
    limits = SandboxLimits(timeout_seconds=2, memory_limit="256MB", max_result_bytes=100_000)
    result = run(files, "SELECT repeat('x', 10000) AS text FROM range(1000)", limits)
    assert result.truncated is True
    assert 1 <= len(result.rows) < 10


def test_a_cte_and_a_recursive_cte_that_ends_are_fine(files: Files) -> None:
    result = run(
        files,
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5), "
        'high AS (SELECT * FROM "luft-bochum" WHERE pm10 > 3) '
        "SELECT (SELECT sum(n) FROM t) AS total, (SELECT count(*) FROM high) AS high",
    )
    assert result.rows == [[15, 3]]


def test_harmless_reads_are_allowed(files: Files) -> None:
    result = run(files, "SELECT version() AS v, current_schema() AS s")
    assert result.rows == [[f"v{duckdb.__version__}", "main"]]


@pytest.mark.parametrize(
    "q",
    [
        "SELECT geometry FROM orte -- the point",
        "SELECT geometry FROM orte;",
        "FROM orte SELECT geometry; -- first FROM, then a comment",
        "(SELECT geometry FROM orte) UNION ALL (SELECT geometry FROM orte) LIMIT 1",
    ],
)
def test_converted_columns_survive_comments_semicolons_and_set_operations(
    files: Files, q: str
) -> None:
    assert run(files, q).rows[0][0]["type"] == "Point"


# --- refusals -------------------------------------------------------------------------------

FORBIDDEN = "sql_forbidden"
ERROR = "sql_error"

ESCAPES: list[tuple[str, str, str]] = [
    ("read_csv", "SELECT * FROM read_csv('/etc/passwd')", FORBIDDEN),
    ("read_csv_auto", "SELECT * FROM read_csv_auto('/etc/passwd')", FORBIDDEN),
    ("read_text", "SELECT * FROM read_text('/etc/passwd')", FORBIDDEN),
    ("read_blob", "SELECT * FROM read_blob('/etc/passwd')", FORBIDDEN),
    ("read_json_objects", "SELECT * FROM read_json_objects('/etc/passwd')", FORBIDDEN),
    ("sniff_csv", "SELECT * FROM sniff_csv('/etc/passwd')", FORBIDDEN),
    ("glob", "SELECT * FROM glob('/**')", FORBIDDEN),
    ("replacement scan", "SELECT * FROM '/etc/passwd'", FORBIDDEN),
    ("replacement scan csv", "FROM 'data.csv'", FORBIDDEN),
    ("copy to", "COPY (SELECT 1) TO '{root}/out.csv'", FORBIDDEN),
    ("copy from", "COPY \"luft-bochum\" FROM '/etc/passwd'", FORBIDDEN),
    ("export database", "EXPORT DATABASE '{root}/export'", FORBIDDEN),
    ("import database", "IMPORT DATABASE '/etc'", FORBIDDEN),
    ("attach", "ATTACH '{root}/other.duckdb' AS other", FORBIDDEN),
    ("detach", "DETACH memory", FORBIDDEN),
    ("use", "USE system", FORBIDDEN),
    ("install", "INSTALL httpfs", FORBIDDEN),
    ("load", "LOAD spatial", FORBIDDEN),
    ("set", "SET enable_external_access = true", FORBIDDEN),
    ("set threads", "SET threads = 64", FORBIDDEN),
    ("reset", "RESET memory_limit", FORBIDDEN),
    ("set variable", "SET VARIABLE x = 1", FORBIDDEN),
    ("pragma", "PRAGMA enable_profiling", FORBIDDEN),
    ("pragma setting", "PRAGMA memory_limit = '100GB'", FORBIDDEN),
    ("pragma version", "PRAGMA version", FORBIDDEN),
    ("pragma_version()", "SELECT * FROM pragma_version()", FORBIDDEN),
    ("duckdb_settings()", "SELECT * FROM duckdb_settings()", FORBIDDEN),
    ("duckdb_settings in subquery", "SELECT (SELECT max(value) FROM duckdb_settings())", FORBIDDEN),
    ("current_setting", "SELECT current_setting('temp_directory')", FORBIDDEN),
    ("current_setting uppercase", "SELECT CURRENT_SETTING('allowed_paths')", FORBIDDEN),
    ("getenv", "SELECT getenv('HOME')", ERROR),
    ("duckdb_extensions()", "SELECT * FROM duckdb_extensions()", FORBIDDEN),
    ("duckdb_databases()", "SELECT path FROM duckdb_databases()", FORBIDDEN),
    ("call", "CALL duckdb_databases()", FORBIDDEN),
    ("duckdb_views()", "SELECT sql FROM duckdb_views()", FORBIDDEN),
    ("sqlite_master", "SELECT sql FROM sqlite_master", FORBIDDEN),
    ("information_schema", "SELECT view_definition FROM information_schema.views", FORBIDDEN),
    ("pg_catalog", "SELECT * FROM pg_catalog.pg_settings", FORBIDDEN),
    ("system catalog", "SELECT * FROM system.main.duckdb_views", FORBIDDEN),
    ("pg_get_viewdef", "SELECT pg_get_viewdef(1)", FORBIDDEN),
    (
        "cte shadowing a system view",
        "WITH sqlite_master AS (SELECT 1) FROM sqlite_master",
        FORBIDDEN,
    ),
    ("cte out of scope", "SELECT * FROM (WITH x AS (SELECT 1) FROM x), x", ERROR),
    ("query()", "SELECT * FROM query('SELECT 1')", FORBIDDEN),
    ("query_table()", "SELECT * FROM query_table('luft-bochum')", FORBIDDEN),
    ("parquet_metadata", "SELECT * FROM parquet_metadata('{unpublished}')", FORBIDDEN),
    ("unpublished version", "SELECT * FROM read_parquet('{unpublished}')", FORBIDDEN),
    ("http url", "SELECT * FROM read_parquet('http://example.com/x.parquet')", FORBIDDEN),
    ("s3 url", "SELECT * FROM read_parquet('s3://bucket/x.parquet')", FORBIDDEN),
    ("http replacement scan", "SELECT * FROM 'https://example.com/x.csv'", FORBIDDEN),
    ("unpublished by replacement scan", "SELECT * FROM '{unpublished}'", FORBIDDEN),
    ("st_read", "SELECT * FROM ST_Read('/etc/passwd')", FORBIDDEN),
    ("create table", "CREATE TABLE t AS SELECT 1", FORBIDDEN),
    ("create temp view", "CREATE TEMP VIEW v AS SELECT 1", FORBIDDEN),
    ("create macro", "CREATE MACRO m() AS 1", FORBIDDEN),
    ("create secret", "CREATE SECRET (TYPE s3, KEY_ID 'x', SECRET 'y')", FORBIDDEN),
    ("insert", "INSERT INTO \"luft-bochum\" VALUES (1, 1, 'x')", FORBIDDEN),
    ("update", 'UPDATE "luft-bochum" SET pm10 = 0', FORBIDDEN),
    ("delete", 'DELETE FROM "luft-bochum"', FORBIDDEN),
    ("drop", 'DROP VIEW "luft-bochum"', FORBIDDEN),
    ("two statements", "SELECT 1; COPY (SELECT 1) TO '{root}/two.csv'", FORBIDDEN),
    ("two selects", "SELECT 1; SELECT 2", FORBIDDEN),
    ("transaction", "BEGIN TRANSACTION", FORBIDDEN),
    ("checkpoint", "CHECKPOINT", FORBIDDEN),
    ("explain", 'EXPLAIN SELECT * FROM "luft-bochum"', FORBIDDEN),
    ("show databases", "SHOW databases", FORBIDDEN),
    ("write_log", "SELECT write_log('x')", FORBIDDEN),
    ("pg_sleep", "SELECT pg_sleep(10)", FORBIDDEN),
    ("pivot without in list", 'PIVOT "luft-bochum" ON station USING sum(pm10)', FORBIDDEN),
    ("prepared parameter", "SELECT ?", ERROR),
    ("empty", "  -- nothing  ", ERROR),
    ("nul byte", "SELECT 1\x00; COPY (SELECT 1) TO '{root}/nul.csv'", ERROR),
]


def test_the_escape_list_is_long_enough() -> None:
    assert len(ESCAPES) >= 20
    assert len({name for name, _, _ in ESCAPES}) == len(ESCAPES)


@pytest.mark.parametrize(("q", "code"), [e[1:] for e in ESCAPES], ids=[e[0] for e in ESCAPES])
def test_escape_attempt_is_refused(files: Files, q: str, code: str) -> None:
    q = q.format(root=files.root, unpublished=files.unpublished)
    error = refusal(files, q)
    assert error.code == code
    assert str(files.unpublished) not in error.message
    assert not list(files.root.glob("*.csv"))
    assert not (files.root / "export").exists()
    assert not (files.root / "other.duckdb").exists()


def test_unknown_tables_fail_alike_whatever_the_name(files: Files) -> None:
    hidden = refusal(files, "SELECT * FROM geheim")
    missing = refusal(files, "SELECT * FROM gibt_es_nicht")
    assert hidden.code == missing.code == "sql_error"
    assert hidden.message.replace("geheim", "X") == missing.message.replace("gibt_es_nicht", "X")


def test_a_column_error_names_the_column_but_no_path(files: Files) -> None:
    error = refusal(files, 'SELECT nope FROM "luft-bochum"')
    assert '"nope"' in error.message


def test_an_overlong_query_is_refused(files: Files) -> None:
    limits = SandboxLimits(max_query_chars=50)
    assert "longer than 50" in refusal(files, "SELECT 1" + " " * 60, limits).message


def test_a_deeply_nested_query_is_a_400(files: Files) -> None:
    error = refusal(files, "SELECT " + "abs(" * 2000 + "1" + ")" * 2000)
    assert error.code == "sql_error"


# --- limits ---------------------------------------------------------------------------------


def timed_refusal(files: Files, q: str, limits: SandboxLimits = LIMITS) -> tuple[SqlError, float]:
    started = time.perf_counter()
    error = refusal(files, q, limits)
    return error, time.perf_counter() - started


def test_a_runaway_cross_join_stops_at_the_time_limit(files: Files) -> None:
    error, seconds = timed_refusal(
        files, "SELECT count(*) FROM range(1000000) a, range(1000000) b WHERE a.range < b.range"
    )
    assert error.code == "sql_timeout"
    assert error.details["timeout_seconds"] == 0.5
    assert seconds < DEADLINE


def test_a_recursive_cte_that_never_ends_stops_at_the_time_limit(files: Files) -> None:
    error, seconds = timed_refusal(
        files, "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT * FROM t"
    )
    assert error.code == "sql_timeout"
    assert seconds < DEADLINE


def test_the_memory_limit_is_a_400(files: Files) -> None:
    error, _ = timed_refusal(
        files, "SELECT length(string_agg(repeat('x', 1000), '')) FROM range(1000000)"
    )
    assert error.code == "sql_memory_limit"
    assert error.details["memory_limit"] == "256MB"


def test_allocations_outside_duckdbs_accounting_hit_the_worker_cap(files: Files) -> None:
    error, seconds = timed_refusal(files, "SELECT len(list_resize([1], 1000000000))")
    assert error.code == "sql_memory_limit"
    assert seconds < 5
    assert run(files, "SELECT 42").rows == [[42]]


def test_a_function_deaf_to_interrupts_is_killed_after_the_grace(files: Files) -> None:
    error, seconds = timed_refusal(files, "SELECT length(lpad('x', 300000000, 'y'))")
    assert error.code == "sql_timeout"
    assert seconds < DEADLINE
    assert run(files, "SELECT 42").rows == [[42]]  # a fresh worker takes over


def test_a_slow_query_does_not_hold_up_a_quick_one(files: Files) -> None:
    slow_limits = SandboxLimits(timeout_seconds=2.5, memory_limit="256MB")
    errors: list[str] = []

    def slow() -> None:
        try:
            run(files, "SELECT count(*) FROM range(1000000000000)", slow_limits)
        except SqlError as exc:
            errors.append(exc.code)

    # Two overlapping queries leave two warm workers, so the quick query needs no new one.
    warm = "SELECT count(*) FROM range(100000000)"
    warmers = [threading.Thread(target=run, args=(files, warm, slow_limits)) for _ in range(2)]
    for warmer in warmers:
        warmer.start()
    for warmer in warmers:
        warmer.join()
    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.05)
    assert run(files, "SELECT 1").rows == [[1]]
    assert errors == []  # the slow one is still running in the other worker
    thread.join()
    assert errors == ["sql_timeout"]


def test_setting_up_a_request_is_cheap_once_the_instance_exists(files: Files) -> None:
    run(files, "SELECT 1")
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        run(files, 'SELECT count(*) FROM "luft-bochum"')
        timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.25  # about 4 ms on an idle machine


# --- the engine wall, without the statement check ------------------------------------------


def test_the_engine_refuses_files_and_settings_even_without_the_check(files: Files) -> None:
    instance = sandbox._instance(files.tables, LIMITS)
    cursor = instance.cursor()
    out = files.root / "engine.csv"
    attempts = [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        f"SELECT * FROM read_parquet({duck.sql_string(str(files.unpublished))})",
        "SELECT * FROM glob('/**')",
        f"COPY (SELECT 1) TO {duck.sql_string(str(out))}",
        f"ATTACH {duck.sql_string(str(files.root / 'x.duckdb'))}",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "RESET allowed_paths",
        "SELECT * FROM read_parquet('http://example.com/x.parquet')",
    ]
    try:
        for attempt in attempts:
            with pytest.raises(duckdb.Error):
                cursor.execute(attempt).fetchall()
        assert cursor.execute('SELECT count(*) FROM "luft-bochum"').fetchall() == [(10,)]
    finally:
        cursor.close()
    assert not out.exists()
    assert not (files.root / "x.duckdb").exists()


def test_scrub_removes_dataset_paths_and_their_directories(files: Files) -> None:
    instance = sandbox._instance(files.tables, LIMITS)
    path = str(files.tables["orte"])
    message = instance.scrub(f'IO Error: cannot read "{path}" in {files.root}/versions/other')
    assert str(files.root) not in message
    assert "versions" not in message
    assert "<dataset file>" in message


def test_every_builtin_macro_that_reads_the_catalog_is_forbidden(files: Files) -> None:
    """Guards a DuckDB upgrade: a new macro over system tables must join the deny list."""
    instance = sandbox._instance(files.tables, LIMITS)
    cursor = instance.cursor()
    try:
        macros = cursor.execute(
            "SELECT function_name, macro_definition FROM duckdb_functions() "
            "WHERE function_type = 'macro'"
        ).fetchall()
    finally:
        cursor.close()
    system = sandbox._system_relations()
    readers = {
        str(name).casefold()
        for name, body in macros
        if re.search(r"\bduckdb_\w+\s*\(|current_setting|sleep", str(body), re.IGNORECASE)
        or any(re.search(rf"\b{re.escape(s)}\b", str(body)) for s in system)
    }
    assert readers
    assert readers <= set(FORBIDDEN_FUNCTIONS)


# --- worker processes -----------------------------------------------------------------------


def test_a_worker_that_died_while_idle_is_replaced(files: Files) -> None:
    run(files, "SELECT 1")
    for worker in list(sandbox._POOL._idle):
        worker.process.kill()
        worker.process.wait()
    assert run(files, "SELECT 2").rows == [[2]]


def test_a_worker_that_dies_mid_query_is_a_400_and_is_replaced(files: Files) -> None:
    run(files, "SELECT 1")
    next_worker = sandbox._POOL._idle[-1]  # the pool hands out the last idle worker
    threading.Timer(0.2, next_worker.process.kill).start()
    limits = SandboxLimits(timeout_seconds=3, memory_limit="256MB")
    with pytest.raises(SqlError) as caught:
        run(files, "SELECT count(*) FROM range(1000000000000)", limits)
    assert caught.value.code == "sql_error"
    assert "worker" in caught.value.message
    assert run(files, "SELECT 3").rows == [[3]]
