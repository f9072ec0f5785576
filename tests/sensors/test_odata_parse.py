"""Parsing the OData query options and resource paths (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from datenschatz.errors import InputError, NotFound
from datenschatz.sensors.odata import (
    Binary,
    Call,
    Literal,
    Path,
    Segment,
    Unary,
    parse_expand,
    parse_filter,
    parse_options,
    parse_orderby,
    parse_path,
)


def test_precedence_of_logical_comparison_and_arithmetic_operators() -> None:
    tree = parse_filter("a eq 1 or not b add 2 mul 3 gt 4 and c eq 'x'")
    assert tree == Binary(
        "or",
        Binary("eq", Path(("a",)), Literal(1, "num")),
        Binary(
            "and",
            Unary(
                "not",
                Binary(
                    "gt",
                    Binary(
                        "add", Path(("b",)), Binary("mul", Literal(2, "num"), Literal(3, "num"))
                    ),
                    Literal(4, "num"),
                ),
            ),
            Binary("eq", Path(("c",)), Literal("x", "str")),
        ),
    )


def test_operators_are_case_insensitive_and_parentheses_group() -> None:
    assert parse_filter("(a EQ 1 OR a Eq 2) AND b ne null") == Binary(
        "and",
        Binary(
            "or",
            Binary("eq", Path(("a",)), Literal(1, "num")),
            Binary("eq", Path(("a",)), Literal(2, "num")),
        ),
        Binary("ne", Path(("b",)), Literal(None, "null")),
    )


def test_literals() -> None:
    assert parse_filter("x eq 'it''s'").right == Literal("it's", "str")  # type: ignore[union-attr]
    assert parse_filter("x eq -1.5e2").right == Literal(-150.0, "num")  # type: ignore[union-attr]
    assert parse_filter("x eq true").right == Literal(True, "bool")  # type: ignore[union-attr]
    moment = parse_filter("x lt 2024-05-01T12:00:00+02:00").right  # type: ignore[union-attr]
    assert moment == Literal(datetime(2024, 5, 1, 10, tzinfo=UTC), "time")
    assert parse_filter("date(x) eq 2024-05-01").right == Literal(date(2024, 5, 1), "date")  # type: ignore[union-attr]
    geo = parse_filter("geo.intersects(location, geography'POINT(7 51)')")
    assert geo == Call("geo.intersects", (Path(("location",)), Literal("POINT(7 51)", "geo")))


def test_paths_and_functions() -> None:
    assert parse_filter("Datastream/Thing/name eq 'x'").left == Path(  # type: ignore[union-attr]
        ("Datastream", "Thing", "name")
    )
    assert parse_filter("now()") == Call("now", ())
    assert parse_filter("substring(name, 1, 2) eq 'a'").left == Call(  # type: ignore[union-attr]
        "substring", (Path(("name",)), Literal(1, "num"), Literal(2, "num"))
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "name eq",
        "name eq 'open",
        "(a eq 1",
        "a eq 1)",
        "a eq 1 b",
        "a ~ 1",
        "f(a,",
        "(" * 5000 + "a eq 1" + ")" * 5000,
        "a eq 1 and " * 2000 + "a eq 1",
        "concat(" * 50 + "a" + ",'x')" * 50 + " eq 'a'",
        "not " * 50 + "a eq 1",
    ],
)
def test_malformed_filters_name_the_option(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_filter(text)
    assert caught.value.details["parameter"] == "$filter"


def test_long_chains_of_and_are_flat_not_deep() -> None:
    tree = parse_filter("a eq 1 and " * 600 + "a eq 1 or b eq 2")
    assert isinstance(tree, Binary)
    assert tree.op == "or"


def test_expand_with_nested_options_and_merged_paths() -> None:
    items = parse_expand(
        "Datastreams($filter=name eq 'a;b';$top=2;$expand=Observations($orderby=result desc;"
        "$top=1)),Locations,Datastreams/Sensor"
    )
    assert [i.nav for i in items] == ["Datastreams", "Locations"]
    datastreams = items[0].options
    assert datastreams.top == 2
    assert datastreams.filter == Binary("eq", Path(("name",)), Literal("a;b", "str"))
    assert [e.nav for e in datastreams.expand] == ["Observations", "Sensor"]
    observations = datastreams.expand[0].options
    assert observations.top == 1
    assert observations.orderby[0].descending is True


@pytest.mark.parametrize(
    "text",
    [
        "Datastreams(",
        "Datastreams($top)",
        "Data-streams",
        "A($top=x)",
        "A($expand=" * 12 + "B" + ")" * 12,
    ],
)
def test_malformed_expand(text: str) -> None:
    with pytest.raises(InputError):
        parse_expand(text)


def test_orderby_directions() -> None:
    orders = parse_orderby("name DESC, id, phenomenonTime asc")
    assert [(o.expr, o.descending) for o in orders] == [
        (Path(("name",)), True),
        (Path(("id",)), False),
        (Path(("phenomenonTime",)), False),
    ]


def test_options_validate_numbers_and_names() -> None:
    options = parse_options({"$top": "5", "$skip": "10", "$count": "TRUE", "$select": "id, name"})
    assert (options.top, options.skip, options.count, options.select) == (
        5,
        10,
        True,
        ["id", "name"],
    )
    assert "$skip=15" in options.query_string(15)
    for bad in ({"$top": "x"}, {"$top": "100001"}, {"$count": "ja"}, {"$format": "json"}):
        with pytest.raises(InputError):
            parse_options(bad)


def test_resource_paths() -> None:
    path = parse_path("Things(1)/Datastreams(2)/Observations")
    assert path.segments == (
        Segment("Things", 1),
        Segment("Datastreams", 2),
        Segment("Observations"),
    )
    value = parse_path("Observations(5)/result/$value")
    assert (value.property, value.value) == ("result", True)
    assert parse_path("Things/$ref").ref is True
    assert parse_path("Things('7')").segments == (Segment("Things", 7),)
    for bad in ("", "Things(x)", "Things(1)/name/other", "Things/$value"):
        with pytest.raises(NotFound):
            parse_path(bad)
