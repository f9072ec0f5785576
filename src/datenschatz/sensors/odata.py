"""OData query options of the SensorThings API: parsed, never executed here.

``$filter`` and ``$orderby`` become a small expression tree (:class:`Node`), compiled to SQL by
:mod:`datenschatz.sensors.filter_sql`. ``$expand`` items carry their own options, written in
parentheses and separated by ``;``: ``Datastreams($filter=name eq 'pm10';$expand=Observations
($top=3;$orderby=phenomenonTime desc))``. Every error names the option it is in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import quote

from datenschatz.errors import InputError, NotFound

DEFAULT_TOP = 100
MAX_TOP = 10_000

# --- expression tree -------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: Any
    kind: str  # str num bool null time date timeofday geo duration


@dataclass(frozen=True)
class Path:
    segments: tuple[str, ...]


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Unary:
    op: str  # not, -
    operand: Node


Node = Literal | Path | Call | Binary | Unary

# --- tokens ----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<geo>geography'(?:[^']|'')*')
  | (?P<duration>duration'[^']*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<timeofday>\d{2}:\d{2}:\d{2}(?:\.\d+)?)
  | (?P<number>-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?[dDfFmMlL]?)
  | (?P<name>[A-Za-z_@$][A-Za-z0-9_.@$]*(?:/[A-Za-z_@$][A-Za-z0-9_.@$]*)*)
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)

_COMPARE = {"eq", "ne", "gt", "ge", "lt", "le"}
_ADD = {"add", "sub"}
_MUL = {"mul", "div", "mod"}


@dataclass
class _Token:
    kind: str
    text: str
    pos: int


def _tokens(text: str, option: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise InputError(
                f"{option}: unexpected character {text[pos]!r} at position {pos + 1}.",
                parameter=option,
            )
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(_Token(kind, match.group(0), pos))
        pos = match.end()
    return tokens


def parse_time_literal(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class _Parser:
    def __init__(self, text: str, option: str) -> None:
        self.option = option
        self.tokens = _tokens(text, option)
        self.i = 0

    def error(self, message: str) -> InputError:
        return InputError(f"{self.option}: {message}", parameter=self.option)

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def word(self) -> str | None:
        token = self.peek()
        return token.text.lower() if token is not None and token.kind == "name" else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise self.error("the expression ends too early.")
        self.i += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise self.error(f"expected {text!r} at position {token.pos + 1}, got {token.text!r}.")

    def parse(self) -> Node:
        node = self.or_()
        if self.peek() is not None:
            token = self.take()
            raise self.error(f"unexpected {token.text!r} at position {token.pos + 1}.")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.word() == "or":
            self.take()
            node = Binary("or", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.word() == "and":
            self.take()
            node = Binary("and", node, self.not_())
        return node

    def not_(self) -> Node:
        if self.word() == "not":
            self.take()
            return Unary("not", self.not_())
        return self.compare()

    def compare(self) -> Node:
        node = self.additive()
        if self.word() in _COMPARE:
            op = self.take().text.lower()
            node = Binary(op, node, self.additive())
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.word() in _ADD:
            op = self.take().text.lower()
            node = Binary(op, node, self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while self.word() in _MUL:
            op = self.take().text.lower()
            node = Binary(op, node, self.unary())
        return node

    def unary(self) -> Node:
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        kind, text = token.kind, token.text
        if text == "(":
            node = self.or_()
            self.expect(")")
            return node
        if kind == "string":
            return Literal(text[1:-1].replace("''", "'"), "str")
        if kind == "number":
            body = text.rstrip("dDfFmMlL")
            is_int = re.fullmatch(r"-?\d+", body) is not None
            return Literal(int(body) if is_int else float(body), "num")
        if kind == "datetime":
            try:
                return Literal(parse_time_literal(text), "time")
            except ValueError:
                raise self.error(f"bad time {text!r}.") from None
        if kind == "date":
            try:
                return Literal(date.fromisoformat(text), "date")
            except ValueError:
                raise self.error(f"bad date {text!r}.") from None
        if kind == "timeofday":
            return Literal(time.fromisoformat(text), "timeofday")
        if kind == "geo":
            return Literal(text[len("geography'") : -1].replace("''", "'"), "geo")
        if kind == "duration":
            return Literal(text[len("duration'") : -1], "duration")
        if kind == "name":
            lower = text.lower()
            if lower in ("true", "false"):
                return Literal(lower == "true", "bool")
            if lower == "null":
                return Literal(None, "null")
            nxt = self.peek()
            if nxt is not None and nxt.text == "(":
                self.take()
                args: list[Node] = []
                if self.peek() is not None and self.peek().text != ")":  # type: ignore[union-attr]
                    args.append(self.or_())
                    while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                        self.take()
                        args.append(self.or_())
                self.expect(")")
                return Call(lower, tuple(args))
            return Path(tuple(text.split("/")))
        raise self.error(f"unexpected {text!r} at position {token.pos + 1}.")


MAX_EXPRESSION_LENGTH = 10_000
MAX_DEPTH = 40  # SQLite's parser gives up near 100 nested expressions
MAX_EXPAND_DEPTH = 10


def parse_filter(text: str, option: str = "$filter") -> Node:
    if not text.strip():
        raise InputError(f"{option} is empty.", parameter=option)
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise InputError(
            f"{option} is longer than {MAX_EXPRESSION_LENGTH} characters.", parameter=option
        )
    try:
        node = _Parser(text, option).parse()
    except RecursionError:
        node = None
    if node is None or _depth(node) > MAX_DEPTH:
        raise InputError(f"{option} is nested more than {MAX_DEPTH} levels deep.", parameter=option)
    return node


def _depth(root: Node) -> int:
    """Nesting depth; a chain of the same ``and``/``or`` counts once (it is one SQL list)."""
    deepest = 0
    stack: list[tuple[Node, int, str | None]] = [(root, 1, None)]
    while stack:
        node, depth, parent_op = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, Binary):
            chained = node.op in ("and", "or") and node.op == parent_op
            below = depth if chained else depth + 1
            stack += [(node.left, below, node.op), (node.right, below, node.op)]
        elif isinstance(node, Unary):
            stack.append((node.operand, depth + 1, None))
        elif isinstance(node, Call):
            stack += [(arg, depth + 1, None) for arg in node.args]
    return deepest


# --- query options ---------------------------------------------------------------------------


@dataclass
class Order:
    expr: Node
    descending: bool


@dataclass
class Expand:
    nav: str
    options: QueryOptions


@dataclass
class QueryOptions:
    filter: Node | None = None
    expand: list[Expand] = field(default_factory=list)
    select: list[str] | None = None
    orderby: list[Order] = field(default_factory=list)
    top: int | None = None
    skip: int = 0
    count: bool = False
    result_format: str | None = None
    raw: dict[str, str] = field(default_factory=dict)

    @property
    def limit(self) -> int:
        return DEFAULT_TOP if self.top is None else self.top

    def query_string(self, skip: int) -> str:
        """The options as a URL query, with ``$skip`` set (for @iot.nextLink)."""
        parts = {k: v for k, v in self.raw.items() if k != "$skip"}
        parts["$skip"] = str(skip)
        if "$top" not in parts:
            parts["$top"] = str(self.limit)
        return "&".join(f"{k}={quote(v, safe=',()/:$=')}" for k, v in parts.items())


OPTION_NAMES = (
    "$filter",
    "$expand",
    "$select",
    "$orderby",
    "$top",
    "$skip",
    "$count",
    "$resultFormat",
)


def _split_top_level(text: str, separator: str, option: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    quoted = False
    current: list[str] = []
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth < 0:
                raise InputError(f"{option}: unbalanced parentheses.", parameter=option)
        if char == separator and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth != 0 or quoted:
        raise InputError(f"{option}: unbalanced parentheses or quotes.", parameter=option)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _int_option(name: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise InputError(f"{name} must be an integer.", parameter=name) from None
    if not low <= number <= high:
        raise InputError(f"{name} must be between {low} and {high}.", parameter=name)
    return number


def parse_options(params: dict[str, str], where: str = "") -> QueryOptions:
    """Query options from ``params`` (unknown ``$`` options are errors)."""
    options = QueryOptions(raw=dict(params))
    for key, value in params.items():
        name = key
        label = f"{where}{name}"
        if name == "$filter":
            options.filter = parse_filter(value, label)
        elif name == "$expand":
            options.expand = parse_expand(value, label)
        elif name == "$select":
            options.select = [s.strip() for s in value.split(",") if s.strip()]
            if not options.select:
                raise InputError(f"{label} is empty.", parameter=label)
        elif name == "$orderby":
            options.orderby = parse_orderby(value, label)
        elif name == "$top":
            options.top = _int_option(label, value, 0, MAX_TOP)
        elif name == "$skip":
            options.skip = _int_option(label, value, 0, 2**62)
        elif name == "$count":
            if value.lower() not in ("true", "false"):
                raise InputError(f"{label} must be true or false.", parameter=label)
            options.count = value.lower() == "true"
        elif name == "$resultFormat":
            if value != "dataArray":
                raise InputError(f"{label}: only dataArray is supported.", parameter=label)
            options.result_format = value
        else:
            raise InputError(
                f"Unknown query option {label}; use {', '.join(OPTION_NAMES)}.", parameter=label
            )
    return options


def parse_orderby(text: str, option: str = "$orderby") -> list[Order]:
    orders: list[Order] = []
    for part in _split_top_level(text, ",", option):
        descending = False
        words = part.rsplit(None, 1)
        if len(words) == 2 and words[1].lower() in ("asc", "desc"):
            part, descending = words[0], words[1].lower() == "desc"
        orders.append(Order(parse_filter(part, option), descending))
    if not orders:
        raise InputError(f"{option} is empty.", parameter=option)
    return orders


def parse_expand(text: str, option: str = "$expand") -> list[Expand]:
    """``Nav(opts)``, ``Nav/Nav2`` and comma lists; the same navigation merges."""
    if option.count("$expand") > MAX_EXPAND_DEPTH:  # the label grows by one per level
        raise InputError(
            f"$expand is nested more than {MAX_EXPAND_DEPTH} levels deep.", parameter="$expand"
        )
    items: list[Expand] = []
    for part in _split_top_level(text, ",", option):
        inner = ""
        head = part
        if part.endswith(")") and "(" in part:
            cut = part.index("(")
            head, inner = part[:cut].strip(), part[cut + 1 : -1]
        names = [n.strip() for n in head.split("/")]
        if not all(re.fullmatch(r"[A-Za-z]+", n) for n in names):
            raise InputError(f"{option}: bad navigation {head!r}.", parameter=option)
        params: dict[str, str] = {}
        for piece in _split_top_level(inner, ";", option) if inner else []:
            key, eq, value = piece.partition("=")
            if not eq:
                raise InputError(f"{option}: expected name=value in {piece!r}.", parameter=option)
            params[key.strip()] = value.strip()
        leaf = Expand(names[-1], parse_options(params, f"{option}({names[-1]})/"))
        for name in reversed(names[:-1]):
            leaf = Expand(name, QueryOptions(expand=[leaf]))
        _merge(items, leaf)
    return items


def _merge(items: list[Expand], new: Expand) -> None:
    for item in items:
        if item.nav == new.nav:
            for child in new.options.expand:
                _merge(item.options.expand, child)
            if new.options.raw:
                child_expand = item.options.expand
                item.options = new.options
                for child in child_expand:
                    _merge(item.options.expand, child)
            return
    items.append(new)


# --- resource paths --------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    name: str
    id: int | None = None


@dataclass(frozen=True)
class ResourcePath:
    segments: tuple[Segment, ...]
    property: str | None = None  # a property of the addressed entity
    value: bool = False  # .../property/$value
    ref: bool = False  # .../$ref


_SEGMENT = re.compile(r"([A-Za-z]+)(?:\((\d+|'\d+')\))?")


def parse_path(path: str) -> ResourcePath:
    """``Things(1)/Datastreams``, ``Observations(5)/result/$value``, ``Things/$ref``."""
    parts = [p for p in path.strip("/").split("/") if p]
    if not parts:
        raise NotFound("Empty resource path.", parameter="path")
    segments: list[Segment] = []
    prop: str | None = None
    value = ref = False
    for index, part in enumerate(parts):
        if part == "$value" and prop is not None and index == len(parts) - 1:
            value = True
            continue
        if part == "$ref" and index == len(parts) - 1:
            ref = True
            continue
        match = _SEGMENT.fullmatch(part)
        if match is None or prop is not None:
            raise NotFound(f"No resource at segment {part[:60]!r} of the path.", parameter="path")
        ident = match.group(2)
        if ident is None and index > 0 and match.group(1)[0].islower():
            prop = match.group(1)
            continue
        segments.append(Segment(match.group(1), None if ident is None else int(ident.strip("'"))))
    return ResourcePath(tuple(segments), prop, value, ref)
