"""k-anonymity of row-level tables: checked, and reached by suppressing small classes."""

from __future__ import annotations

from collections import Counter

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from datenschatz.privacy.kanon import KAnonSpec, check, enforce

people = st.lists(
    st.tuples(
        st.sampled_from(["Wanne", "Eickel", "Sodingen"]), st.sampled_from(["18-29", "30-49", "50+"])
    ),
    min_size=1,
    max_size=120,
)


def _table(rows: list[tuple[str, str]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE p (id INTEGER, bezirk VARCHAR, alter VARCHAR)")
    con.executemany("INSERT INTO p VALUES (?, ?, ?)", [(i, b, a) for i, (b, a) in enumerate(rows)])
    return con


@settings(max_examples=80, deadline=None)
@given(rows=people, k=st.integers(5, 10))
def test_suppression_leaves_only_classes_of_at_least_k(rows: list[tuple[str, str]], k: int) -> None:
    con = _table(rows)
    spec = KAnonSpec(("bezirk", "alter"), k=k, suppress=True, max_suppressed=1.0)
    view, report = enforce(con, "p", spec)
    kept = con.execute(f"SELECT bezirk, alter FROM {view}").fetchall()
    sizes = Counter(rows)
    assert Counter(kept) == Counter({c: n for c, n in sizes.items() if n >= k})
    assert all(n >= k for n in Counter(kept).values())
    assert report["reached"] is True
    assert report["rows_suppressed"] == sum(n for n in sizes.values() if n < k)


def test_without_suppress_the_check_reports_the_small_classes() -> None:
    con = _table([("Wanne", "18-29")] * 7 + [("Eickel", "50+")] * 2)
    view, report = enforce(con, "p", KAnonSpec(("bezirk", "alter"), k=5))
    assert view == "p"
    assert report["reached"] is False
    assert report["smallest_class"] == 2
    assert report["classes_below_k"] == 1
    assert report["rows_below_k"] == 2


def test_too_many_rows_to_suppress_changes_nothing() -> None:
    con = _table([("Wanne", "18-29")] * 7 + [("Eickel", "50+")] * 2)
    spec = KAnonSpec(("bezirk", "alter"), k=5, suppress=True, max_suppressed=0.1)
    view, report = enforce(con, "p", spec)
    assert view == "p"
    assert report["reached"] is False
    assert "generalize further" in report["note"]


def test_classes_count_people_not_rows() -> None:
    con = duckdb.connect()
    # One person with ten readings is still one person.
    con.execute(
        "CREATE TABLE r AS SELECT CASE WHEN i < 10 THEN 'p1' ELSE 'p' || i END AS person, "
        "'Wanne' AS bezirk FROM range(14) t(i)"
    )
    by_rows = check(con, "r", KAnonSpec(("bezirk",), k=5))
    by_people = check(con, "r", KAnonSpec(("bezirk",), k=5, contributor="person"))
    assert by_rows["smallest_class"] == 14
    assert by_people["smallest_class"] == 5
