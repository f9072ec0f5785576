"""Secondary suppression and the aggregate's k and dominance rules, property-based."""

from __future__ import annotations

from fractions import Fraction

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datenschatz.privacy.aggregate import AggregateSpec, aggregate
from datenschatz.privacy.suppress import Cell, protect, recoverable


def _table(values: list[list[int]]) -> tuple[list[Cell], dict[tuple[int, int], int]]:
    """A two-way table with margins as cells; index by (row, col), T = -1 for totals."""
    rows, cols = len(values), len(values[0])
    full: dict[tuple[int, int], int] = {}
    for r in range(rows):
        for c in range(cols):
            full[(r, c)] = values[r][c]
        full[(r, -1)] = sum(values[r])
    for c in range(cols):
        full[(-1, c)] = sum(values[r][c] for r in range(rows))
    full[(-1, -1)] = sum(sum(v) for v in values)
    keys = list(full)
    cells = [Cell((("row", r), ("col", c)), (float(full[(r, c)]),)) for r, c in keys]
    return cells, {key: i for i, key in enumerate(keys)}


def _determined(cells: list[Cell], index: dict[tuple[int, int], int], hidden: set[int]) -> set[int]:
    """Hidden cells pinned down by the published ones, by exact Gaussian elimination.

    Unknowns are the hidden cells; each row line and column line is one equation (cells add
    up to the total). A hidden cell is determined iff its unit vector is in the row space.
    """
    position = {key: i for key, i in index.items()}
    unknowns = sorted(hidden)
    col_of = {cell: j for j, cell in enumerate(unknowns)}
    equations: list[list[Fraction]] = []
    lines: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for (r, c), i in position.items():
        lines.setdefault(("row", r), []).append((i, -1 if c == -1 else 1))
        lines.setdefault(("col", c), []).append((i, -1 if r == -1 else 1))
    for members in lines.values():
        vector = [Fraction(0)] * len(unknowns)
        for i, sign in members:
            if i in col_of:
                vector[col_of[i]] += sign
        if any(vector):
            equations.append(vector)
    # Row-reduce.
    pivots: list[int] = []
    matrix = equations
    rank = 0
    for j in range(len(unknowns)):
        pivot = next((i for i in range(rank, len(matrix)) if matrix[i][j] != 0), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        lead = matrix[rank][j]
        matrix[rank] = [v / lead for v in matrix[rank]]
        for i in range(len(matrix)):
            if i != rank and matrix[i][j] != 0:
                factor = matrix[i][j]
                matrix[i] = [a - factor * b for a, b in zip(matrix[i], matrix[rank], strict=True)]
        pivots.append(j)
        rank += 1
    determined = set()
    for row_index, j in enumerate(pivots):
        row = matrix[row_index]
        if all(v == 0 for jj, v in enumerate(row) if jj != j):
            determined.add(unknowns[j])
    return determined


tables = st.integers(2, 5).flatmap(
    lambda rows: st.integers(2, 5).flatmap(
        lambda cols: st.lists(
            st.lists(st.integers(0, 30), min_size=cols, max_size=cols),
            min_size=rows,
            max_size=rows,
        )
    )
)


@settings(max_examples=150, deadline=None)
@given(values=tables, k=st.integers(5, 12))
def test_no_suppressed_cell_can_be_recovered_from_published_margins(
    values: list[list[int]], k: int
) -> None:
    cells, index = _table(values)
    primary = {i for i, cell in enumerate(cells) if cell.size[0] < k}
    secondary = protect(cells, primary)
    hidden = primary | secondary
    assert primary <= hidden
    assert recoverable(cells, hidden) == []
    assert _determined(cells, index, hidden) == set()


def test_a_single_small_cell_gets_complementary_suppressions() -> None:
    values = [[2, 40, 50], [30, 60, 70], [45, 55, 65]]
    cells, index = _table(values)
    primary = {index[(0, 0)]}
    assert _determined(cells, index, primary) == {index[(0, 0)]}  # margins reveal it
    secondary = protect(cells, primary)
    assert len(secondary) >= 3  # its row, its column and the closing corner
    assert _determined(cells, index, primary | secondary) == set()


households = st.lists(
    st.tuples(st.sampled_from(["Wanne", "Eickel", "Sodingen", "Mitte"]), st.integers(1, 5000)),
    min_size=1,
    max_size=80,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=households, k=st.integers(5, 8))
def test_every_published_cell_has_k_contributors_and_no_dominant_one(
    data: list[tuple[str, int]], k: int
) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE raw (hh VARCHAR, district VARCHAR, kwh DOUBLE)")
    con.executemany(
        "INSERT INTO raw VALUES (?, ?, ?)",
        [(f"h{i}", d, float(v)) for i, (d, v) in enumerate(data)],
    )
    result = aggregate(
        con, "raw", AggregateSpec(("district",), sum=("kwh",), contributor="hh", k=k)
    )
    published = con.execute(
        f"SELECT district, contributor_count, kwh_sum FROM {result.table}"
    ).fetchall()
    for district, count, total in published:
        assert count >= k
        largest = max(v for d, v in data if d == district)
        assert largest <= 0.5 * total
        assert count == sum(1 for d, _ in data if d == district)
    expected = {
        d
        for d in {d for d, _ in data}
        if sum(1 for x, _ in data if x == d) >= k
        and max(v for x, v in data if x == d) <= 0.5 * sum(v for x, v in data if x == d)
    }
    assert {row[0] for row in published} == expected


def test_totals_table_suppresses_complementary_cells_in_duckdb() -> None:
    con = duckdb.connect()
    rows = []
    n = 0
    for district, months in {"A": [2, 9, 9], "B": [9, 9, 9], "C": [9, 9, 9]}.items():
        for month, count in zip(["01", "02", "03"], months, strict=True):
            for _ in range(count):
                rows.append((f"h{n}", district, month, 10.0))
                n += 1
    con.execute("CREATE TABLE raw (hh VARCHAR, district VARCHAR, month VARCHAR, kwh DOUBLE)")
    con.executemany("INSERT INTO raw VALUES (?, ?, ?, ?)", rows)
    result = aggregate(
        con,
        "raw",
        AggregateSpec(("district", "month"), sum=("kwh",), contributor="hh", totals=True, k=5),
    )
    assert result.report["suppressed"]["primary"] == 1
    assert result.report["suppressed"]["secondary"] >= 3
    published = {
        (d, m): c
        for d, m, c in con.execute(
            f"SELECT district, month, contributor_count FROM {result.table}"
        ).fetchall()
    }
    assert ("A", "01") not in published
    assert published[("Insgesamt", "Insgesamt")] == n
    assert min(published.values()) >= 5
    # Row A and column 01 each still hide at least two cells.
    assert sum(1 for m in ["01", "02", "03", "Insgesamt"] if ("A", m) not in published) >= 2
    assert sum(1 for d in ["A", "B", "C", "Insgesamt"] if (d, "01") not in published) >= 2
