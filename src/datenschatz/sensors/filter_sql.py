"""Compile parsed ``$filter`` and ``$orderby`` expressions to SQLAlchemy, for SQLite and PostgreSQL.

- A comparison whose paths all start with the same navigation property
  (``Datastream/Thing/name eq 'x'``, ``Locations/name eq 'x'``) is pushed down into that entity
  set and answered as a membership test; to-many navigation means "any".
- ``result`` and JSON paths (``properties/owner``) take the type of what they are compared
  with: numbers compare with the numeric result, strings with the string result.
- Time intervals (an Observation's or Datastream's ``phenomenonTime``) compare by their start
  for ``eq``, ``gt`` and ``ge``, and by their end for ``lt`` and ``le``.
- Geo functions (``geo.intersects``, ``st_within``, ``st_contains``, ``st_intersects``,
  ``st_disjoint``, ``st_equals``, ``geo.distance``, ``geo.length``) are evaluated in Python on
  the stored GeoJSON (see :mod:`datenschatz.sensors.geometry`), after a bounding-box
  pre-selection in SQL where the table keeps one, and become an id list.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Float,
    Integer,
    Numeric,
    String,
    Time,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from datenschatz.db.sensor_models import TS
from datenschatz.errors import InputError
from datenschatz.sensors import geometry
from datenschatz.sensors.model import ENTITY_SETS, EntitySet, Nav
from datenschatz.sensors.odata import Binary, Call, Literal, Node, Path, Unary


@dataclass
class Typed:
    expr: Any  # ColumnElement, or None for a geometry
    kind: str  # str num bool time date timeofday geo any null
    end: Any = None  # interval end (for lt/le)
    coerce: Callable[[str], Any] | None = None  # for kind "any"
    geo_column: str | None = None  # the geometry property of a geo path
    geo_value: dict[str, Any] | None = None  # a geography literal
    date_value: date | None = None  # a date literal (compares with times at midnight UTC)


_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
_GEO_PREDICATES = {
    "geo.intersects": "intersects",
    "st_intersects": "intersects",
    "st_within": "within",
    "st_contains": "contains",
    "st_disjoint": "disjoint",
    "st_equals": "equals",
}
_TIME_PARTS = {
    "year": ("%Y", "year"),
    "month": ("%m", "month"),
    "day": ("%d", "day"),
    "hour": ("%H", "hour"),
    "minute": ("%M", "minute"),
    "second": ("%S", "second"),
}
_STRING_RESULT = {"tolower": func.lower, "toupper": func.upper, "trim": func.trim}
_BOOLEAN_CALLS = {"substringof", "contains", "startswith", "endswith", *_GEO_PREDICATES}


def _paths(node: Node) -> list[Path]:
    if isinstance(node, Path):
        return [node]
    if isinstance(node, Call):
        return [p for a in node.args for p in _paths(a)]
    if isinstance(node, Binary):
        return _paths(node.left) + _paths(node.right)
    if isinstance(node, Unary):
        return _paths(node.operand)
    return []


def _strip(node: Node) -> Node:
    """``node`` with the first segment of every path removed (after a push-down)."""
    if isinstance(node, Path):
        return Path(node.segments[1:])
    if isinstance(node, Call):
        return Call(node.name, tuple(_strip(a) for a in node.args))
    if isinstance(node, Binary):
        return Binary(node.op, _strip(node.left), _strip(node.right))
    if isinstance(node, Unary):
        return Unary(node.op, _strip(node.operand))
    return node


class Compiler:
    def __init__(
        self, session: Session, es: EntitySet, dialect: str, option: str = "$filter"
    ) -> None:
        self.session = session
        self.es = es
        self.dialect = dialect
        self.table = es.table
        self.option = option

    def _error(self, message: str) -> InputError:
        return InputError(f"{self.option}: {message}", parameter=self.option)

    def _child(self, es: EntitySet) -> Compiler:
        return Compiler(self.session, es, self.dialect, self.option)

    # --- booleans --------------------------------------------------------------------------

    def boolean(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, Binary) and node.op in ("and", "or"):
            join = and_ if node.op == "and" else or_
            return join(self.boolean(node.left), self.boolean(node.right))
        if isinstance(node, Unary) and node.op == "not":
            return not_(self.boolean(node.operand))
        pushed = self._push_down(node)
        if pushed is not None:
            return pushed
        if isinstance(node, Binary) and node.op in _COMPARISONS:
            return self._comparison(node)
        if isinstance(node, Call) and node.name in _GEO_PREDICATES:
            return self._geo_predicate(node)
        typed = self.value(node)
        if typed.kind == "any" and typed.coerce is not None:
            return typed.coerce("bool") == true()  # type: ignore[no-any-return]
        if typed.kind != "bool":
            raise self._error("the expression is not a condition (true or false).")
        return typed.expr  # type: ignore[no-any-return]

    def _push_down(self, node: Node) -> ColumnElement[bool] | None:
        paths = _paths(node)
        if not paths:
            return None
        heads = {p.segments[0] for p in paths}
        if len(heads) != 1:
            return None
        head = heads.pop()
        nav = self.es.navs.get(head)
        if nav is None or any(len(p.segments) < 2 for p in paths):
            return None
        target = ENTITY_SETS[nav.target]
        inner = self._child(target).boolean(_strip(node))
        return self._membership(nav, target, inner)

    def _membership(
        self, nav: Nav, target: EntitySet, inner: ColumnElement[bool]
    ) -> ColumnElement[bool]:
        if nav.fk is not None:
            return self.table.c[nav.fk].in_(select(target.table.c.id).where(inner))
        if nav.back_fk is not None:
            return self.table.c.id.in_(select(target.table.c[nav.back_fk]).where(inner))
        assert nav.link is not None
        return self.table.c.id.in_(
            select(nav.link.c[nav.link_here]).where(
                nav.link.c[nav.link_there].in_(select(target.table.c.id).where(inner))
            )
        )

    def _comparison(self, node: Binary) -> ColumnElement[bool]:
        for side, other in ((node.left, node.right), (node.right, node.left)):
            if isinstance(side, Call) and side.name in ("geo.distance", "geo.length"):
                flipped = side is node.right
                return self._geo_measure(side, node.op, other, flipped)
        for side, other in ((node.left, node.right), (node.right, node.left)):
            if isinstance(side, Literal) and side.kind == "null":
                return self._is_null(node.op, other)
        left, right = self.value(node.left), self.value(node.right)
        left, right = self._unify(left, right)
        compare = _COMPARISONS[node.op]
        lexpr = left.end if node.op in ("lt", "le") and left.end is not None else left.expr
        rexpr = right.end if node.op in ("gt", "ge") and right.end is not None else right.expr
        return compare(lexpr, rexpr)  # type: ignore[no-any-return]

    def _is_null(self, op: str, node: Node) -> ColumnElement[bool]:
        if op not in ("eq", "ne"):
            raise self._error("null can only be compared with eq or ne.")
        typed = self.value(node)
        if typed.kind == "any":
            assert typed.coerce is not None
            expr = typed.coerce("null")
        elif typed.kind == "geo" or typed.expr is None:
            column = self.table.c[typed.geo_column] if typed.geo_column else null()
            expr = column
        else:
            expr = typed.expr
        return expr.is_(None) if op == "eq" else expr.is_not(None)  # type: ignore[no-any-return]

    def _unify(self, left: Typed, right: Typed) -> tuple[Typed, Typed]:
        if left.kind == "any" and right.kind == "any":
            assert left.coerce is not None
            assert right.coerce is not None
            return Typed(left.coerce("str"), "str"), Typed(right.coerce("str"), "str")
        if left.kind == "any":
            assert left.coerce is not None
            left = Typed(left.coerce(right.kind), right.kind)
        if right.kind == "any":
            assert right.coerce is not None
            right = Typed(right.coerce(left.kind), left.kind)
        if "null" in (left.kind, right.kind):
            return left, right
        kinds = {left.kind, right.kind}
        if kinds == {"time", "date"}:
            left, right = self._date_as_time(left), self._date_as_time(right)
            kinds = {"time"}
        if len(kinds) != 1:
            raise self._error(f"cannot compare a {left.kind} with a {right.kind}.")
        if "geo" in kinds:
            raise self._error(
                "compare geometries with the geo functions (geo.intersects, st_within)."
            )
        return left, right

    def _date_as_time(self, typed: Typed) -> Typed:
        if typed.kind != "date":
            return typed
        if typed.date_value is not None:
            moment = datetime.combine(typed.date_value, time(), UTC)
            return Typed(literal(moment, TS), "time")
        raise self._error("compare date() with a date, e.g. date(phenomenonTime) eq 2024-01-01.")

    # --- values ----------------------------------------------------------------------------

    def value(self, node: Node) -> Typed:
        if isinstance(node, Literal):
            return self._literal(node)
        if isinstance(node, Path):
            return self._path(node)
        if isinstance(node, Call):
            return self._call(node)
        if isinstance(node, Unary):
            if node.op == "not":
                return Typed(self.boolean(node), "bool")
            raise self._error(f"unknown operator {node.op}.")
        if node.op in ("and", "or") or node.op in _COMPARISONS:
            return Typed(self.boolean(node), "bool")
        left, right = self.number(node.left), self.number(node.right)
        if node.op == "add":
            return Typed(left + right, "num")
        if node.op == "sub":
            return Typed(left - right, "num")
        if node.op == "mul":
            return Typed(left * right, "num")
        if node.op == "div":
            return Typed(cast(left, Float) / right, "num")
        if node.op == "mod":
            if self.dialect == "postgresql":
                return Typed(func.mod(cast(left, Numeric), cast(right, Numeric)), "num")
            return Typed(func.mod(left, right), "num")
        raise self._error(f"unknown operator {node.op}.")

    def number(self, node: Node) -> Any:
        return self._as(node, "num")

    def string(self, node: Node) -> Any:
        return self._as(node, "str")

    def _as(self, node: Node, kind: str) -> Any:
        typed = self.value(node)
        if typed.kind == "any":
            assert typed.coerce is not None
            return typed.coerce(kind)
        if typed.kind != kind:
            raise self._error(
                f"expected a {'number' if kind == 'num' else 'string'}, got a {typed.kind}."
            )
        return typed.expr

    def _literal(self, node: Literal) -> Typed:
        kind, value = node.kind, node.value
        if kind == "str":
            return Typed(literal(value, String), "str")
        if kind == "num":
            return Typed(literal(value, Integer if isinstance(value, int) else Float), "num")
        if kind == "bool":
            return Typed(literal(value, Boolean), "bool")
        if kind == "null":
            return Typed(null(), "null")
        if kind == "time":
            return Typed(literal(value, TS), "time")
        if kind == "date":
            return Typed(self._date_literal(value), "date", date_value=value)
        if kind == "timeofday":
            if self.dialect == "postgresql":
                return Typed(literal(value, Time), "timeofday")
            return Typed(literal(value.strftime("%H:%M:%S"), String), "timeofday")
        if kind == "geo":
            return Typed(None, "geo", geo_value=geometry.parse_wkt(value))
        raise self._error(f"{kind} literals are not supported.")

    def _date_literal(self, value: date) -> Any:
        if self.dialect == "postgresql":
            return literal(value, Date)
        return literal(value.isoformat(), String)

    def _path(self, node: Path) -> Typed:
        segments = node.segments
        name = segments[0]
        if name in ("id", "@iot.id") and len(segments) == 1:
            return Typed(self.table.c.id, "num")
        if name in self.es.navs:
            nav = self.es.navs[name]
            if nav.many or nav.fk is None or len(segments) < 2:
                raise self._error(
                    f"{name} leads to many entities: compare inside it, e.g. "
                    f"{name}/name eq 'x' on its own."
                )
            target = ENTITY_SETS[nav.target]
            inner = self._child(target).value(Path(segments[1:]))
            if inner.kind in ("geo",):
                raise self._error("geometries of related entities work in geo functions only.")

            def scalar(expr: Any) -> Any:
                return (
                    select(expr)
                    .where(target.table.c.id == self.table.c[nav.fk])  # type: ignore[index]
                    .scalar_subquery()
                )

            if inner.kind == "any":
                coerce = inner.coerce
                assert coerce is not None
                return Typed(None, "any", coerce=lambda kind: scalar(coerce(kind)))
            return Typed(
                scalar(inner.expr),
                inner.kind,
                end=None if inner.end is None else scalar(inner.end),
            )
        prop = self.es.props.get(name)
        if prop is None:
            raise self._error(f"{self.es.singular} has no property {name!r}.")
        if prop.kind == "json":
            return self._json_path(self.table.c[prop.column], segments[1:])
        if len(segments) > 1:
            if prop.kind == "result":
                return self._json_path(self.table.c.result_json, segments[1:])
            raise self._error(f"{name} has no sub-properties.")
        if prop.kind in ("str", "text"):
            return Typed(self.table.c[prop.column], "str")
        if prop.kind == "time":
            return Typed(self.table.c[prop.column], "time")
        if prop.kind == "interval":
            start = self.table.c[f"{prop.column}_start"]
            end = func.coalesce(self.table.c[f"{prop.column}_end"], start)
            return Typed(start, "time", end=end)
        if prop.kind == "geo":
            return Typed(None, "geo", geo_column=prop.column)
        return Typed(None, "any", coerce=self._result)

    def _result(self, kind: str) -> Any:
        table = self.table
        if kind == "num":
            return table.c.result_number
        if kind == "str":
            return table.c.result_string
        if kind == "bool":
            return and_(table.c.result_kind == 3, cast(table.c.result_json, String) == "true")
        if kind == "null":
            is_null = and_(table.c.result_kind == 3, table.c.result_json.is_(None))
            return case((is_null, null()), else_=literal("x"))
        raise self._error(f"result cannot be compared with a {kind}.")

    def _json_path(self, column: Any, keys: tuple[str, ...]) -> Typed:
        if not keys:
            return Typed(None, "any", coerce=lambda kind: cast(column, String))

        def coerce(kind: str) -> Any:
            element = column[keys if len(keys) > 1 else keys[0]]
            if kind == "num":
                return element.as_float()
            if kind == "bool":
                return element.as_boolean()
            if kind in ("str", "null"):
                return element.as_string()
            raise self._error(f"a JSON value cannot be compared with a {kind}.")

        return Typed(None, "any", coerce=coerce)

    # --- functions -------------------------------------------------------------------------

    def _arity(self, node: Call, *counts: int) -> None:
        if len(node.args) not in counts:
            wanted = " or ".join(str(c) for c in counts)
            raise self._error(f"{node.name}() takes {wanted} argument(s).")

    def _call(self, node: Call) -> Typed:
        name, args = node.name, node.args
        pg = self.dialect == "postgresql"
        if name in ("substringof", "contains"):
            self._arity(node, 2)
            needle, haystack = (args[0], args[1]) if name == "substringof" else (args[1], args[0])
            return Typed(self._position(self.string(haystack), self.string(needle)) > 0, "bool")
        if name in ("startswith", "endswith"):
            self._arity(node, 2)
            text, part = self.string(args[0]), self.string(args[1])
            if name == "startswith":
                return Typed(func.substr(text, 1, func.length(part)) == part, "bool")
            start = func.length(text) - func.length(part) + 1
            return Typed(and_(start >= 1, func.substr(text, start) == part), "bool")
        if name == "length":
            self._arity(node, 1)
            return Typed(func.length(self.string(args[0])), "num")
        if name == "indexof":
            self._arity(node, 2)
            return Typed(self._position(self.string(args[0]), self.string(args[1])) - 1, "num")
        if name == "substring":
            self._arity(node, 2, 3)
            text, start = self.string(args[0]), self.number(args[1]) + 1
            if len(args) == 3:
                return Typed(func.substr(text, start, self.number(args[2])), "str")
            return Typed(func.substr(text, start), "str")
        if name in _STRING_RESULT:
            self._arity(node, 1)
            return Typed(_STRING_RESULT[name](self.string(args[0])), "str")
        if name == "concat":
            self._arity(node, 2)
            return Typed(self.string(args[0]).op("||")(self.string(args[1])), "str")
        if name in ("round", "floor", "ceiling"):
            self._arity(node, 1)
            number = self.number(args[0])
            if pg:
                # numeric rounds half away from zero (double precision rounds half to even).
                number = cast(number, Numeric if name == "round" else Float)
            sql = {"round": func.round, "floor": func.floor, "ceiling": func.ceil}[name]
            if pg:
                return Typed(sql(number), "num")
            # SQLAlchemy's SQLite connections define floor() in Python, which fails on NULL.
            return Typed(case((number.is_(None), null()), else_=sql(number)), "num")
        if name in _TIME_PARTS:
            self._arity(node, 1)
            moment = self._time(args[0])
            fmt, field = _TIME_PARTS[name]
            if pg:
                return Typed(
                    cast(func.floor(func.extract(field, func.timezone("UTC", moment))), Integer),
                    "num",
                )
            return Typed(cast(func.strftime(fmt, moment), Integer), "num")
        if name == "fractionalseconds":
            self._arity(node, 1)
            moment = self._time(args[0])
            if pg:
                seconds = func.extract("second", moment)
                return Typed(seconds - func.floor(seconds), "num")
            return Typed(
                cast(func.strftime("%f", moment), Float)
                - cast(func.strftime("%S", moment), Integer),
                "num",
            )
        if name == "date":
            self._arity(node, 1)
            moment = self._time(args[0])
            if pg:
                return Typed(cast(func.timezone("UTC", moment), Date), "date")
            return Typed(func.date(moment), "date")
        if name == "time":
            self._arity(node, 1)
            moment = self._time(args[0])
            if pg:
                return Typed(
                    func.date_trunc("second", cast(func.timezone("UTC", moment), Time)),
                    "timeofday",
                )
            return Typed(func.time(moment), "timeofday")
        if name == "totaloffsetminutes":
            self._arity(node, 1)
            self._time(args[0])
            return Typed(literal(0, Integer), "num")
        if name == "now":
            self._arity(node, 0)
            return Typed(literal(datetime.now(UTC), TS), "time")
        if name == "mindatetime":
            self._arity(node, 0, 1)
            return Typed(literal(datetime(1, 1, 1, tzinfo=UTC), TS), "time")
        if name == "maxdatetime":
            self._arity(node, 0, 1)
            return Typed(literal(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), TS), "time")
        if name in _GEO_PREDICATES:
            return Typed(self._geo_predicate(node), "bool")
        if name in ("geo.distance", "geo.length"):
            raise self._error(
                f"{name}() works in a comparison with a number, e.g. {name}(...) lt 0.1."
            )
        raise self._error(f"unknown function {name}().")

    def _position(self, haystack: Any, needle: Any) -> Any:
        if self.dialect == "postgresql":
            return func.strpos(haystack, needle)
        return func.instr(haystack, needle)

    def _time(self, node: Node) -> Any:
        typed = self.value(node)
        if typed.kind != "time":
            raise self._error("time functions take a time, e.g. year(phenomenonTime).")
        return typed.expr

    # --- geometry --------------------------------------------------------------------------

    def _geo_args(self, node: Call) -> tuple[str, dict[str, Any]]:
        if len(node.args) != 2:
            raise self._error(f"{node.name}() takes a property and a geography'...' literal.")
        first, second = self.value(node.args[0]), self.value(node.args[1])
        column = first.geo_column or second.geo_column
        shape = first.geo_value or second.geo_value
        if column is None or shape is None:
            raise self._error(
                f"{node.name}() takes a geometry property (location, feature, observedArea) "
                "and a geography'...' literal."
            )
        return column, shape

    def _candidates(self, column: str, shape: dict[str, Any], mode: str) -> list[tuple[int, Any]]:
        table = self.table
        query = select(table.c.id, table.c[column]).where(table.c[column].is_not(None))
        if "min_x" in table.c and mode in ("intersects", "within", "contains", "equals"):
            x0, y0, x1, y1 = geometry.bbox(shape)
            query = query.where(
                table.c.max_x >= x0, table.c.min_x <= x1, table.c.max_y >= y0, table.c.min_y <= y1
            )
        return [(row[0], row[1]) for row in self.session.execute(query)]

    def _ids(self, ids: list[int]) -> ColumnElement[bool]:
        return self.table.c.id.in_(ids) if ids else false()

    def _geo_predicate(self, node: Call) -> ColumnElement[bool]:
        column, shape = self._geo_args(node)
        mode = _GEO_PREDICATES[node.name]
        test: Callable[[dict[str, Any]], bool] = {
            "intersects": lambda g: geometry.intersects(g, shape),
            "within": lambda g: geometry.within(g, shape),
            "contains": lambda g: geometry.within(shape, g),
            "disjoint": lambda g: not geometry.intersects(g, shape),
            "equals": lambda g: geometry.equals(g, shape),
        }[mode]
        ids = []
        for entity_id, stored in self._candidates(column, shape, mode):
            geo = geometry.geometry_of(stored)
            if geo is not None and test(geo):
                ids.append(entity_id)
        return self._ids(ids)

    def _geo_measure(self, call: Call, op: str, other: Node, flipped: bool) -> ColumnElement[bool]:
        if not isinstance(other, Literal) or other.kind != "num":
            raise self._error(f"compare {call.name}() with a number.")
        compare = _COMPARISONS[op]
        if call.name == "geo.distance":
            column, shape = self._geo_args(call)

            def measure(g: dict[str, Any]) -> float:
                return geometry.distance(g, shape)
        else:
            if len(call.args) != 1:
                raise self._error("geo.length() takes one geometry property.")
            typed = self.value(call.args[0])
            if typed.geo_column is None:
                raise self._error("geo.length() takes a geometry property.")
            column = typed.geo_column
            measure = geometry.length  # type: ignore[assignment]
        ids = []
        for entity_id, stored in self._candidates(column, {}, "all") if column else []:
            geo = geometry.geometry_of(stored)
            if geo is None:
                continue
            value = measure(geo)
            ok = compare(other.value, value) if flipped else compare(value, other.value)
            if ok:
                ids.append(entity_id)
        return self._ids(ids)

    # --- ordering --------------------------------------------------------------------------

    def order_expression(self, node: Node) -> Any:
        """An $orderby key (``result`` orders numerically, other JSON values as text)."""
        typed = self.value(node)
        if typed.kind == "any":
            assert typed.coerce is not None
            numeric = self.es.name == "Observations" and node == Path(("result",))
            return typed.coerce("num" if numeric else "str")
        if typed.kind == "geo" or typed.expr is None:
            raise self._error("geometries cannot be ordered.")
        return typed.expr
