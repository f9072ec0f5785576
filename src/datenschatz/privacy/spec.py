"""The treatment spec: what a steward declares, parsed with errors that name the treatment.

See :mod:`datenschatz.privacy.treatments` for the format and for applying a spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from datenschatz.errors import InputError
from datenschatz.privacy import dp as dp_mod
from datenschatz.privacy import generalize as gen
from datenschatz.privacy import kanon
from datenschatz.privacy.aggregate import AggregateSpec

GENERALIZE_TO = ("district", "street", "grid", "month", "bands")
KINDS = ("drop", "hash", "generalize", "aggregate", "k_anonymity", "dp")
DEFAULT_K = 5


# --- the spec -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Drop:
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Hash:
    column: str
    output: str


@dataclass(frozen=True)
class Generalize:
    column: str
    to: str
    output: str
    mapping: dict[str, str] | None = None
    width: float | None = None
    edges: tuple[float, ...] | None = None
    size: int = 100


@dataclass(frozen=True)
class Aggregate:
    spec: AggregateSpec


@dataclass(frozen=True)
class KAnonymity:
    spec: kanon.KAnonSpec


@dataclass(frozen=True)
class DP:
    spec: dp_mod.DPSpec


Step = Drop | Hash | Generalize | Aggregate | KAnonymity | DP


@dataclass(frozen=True)
class TreatmentSpec:
    steps: tuple[Step, ...]
    k: int | None = None
    population: str | None = None
    roles: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)  # as declared, for the record


class Where:
    """Error helper: messages name the treatment (1-based) and its kind."""

    def __init__(self, index: int, kind: str) -> None:
        self.index, self.kind = index, kind

    def error(self, message: str, column: str | None = None) -> InputError:
        return InputError(
            f"Treatment {self.index} ({self.kind}): {message}",
            parameter="treatments",
            treatment=self.index,
            column=column,
        )


def _names(value: Any, where: Where, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise where.error(f"'{key}' must be a column name or a non-empty list of column names.")
    return tuple(value)


def _number(value: Any, where: Where, key: str, *, low: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise where.error(f"'{key}' must be a number.")
    if low is not None and value < low:
        raise where.error(f"'{key}' must be at least {low:g}.")
    return float(value)


def _options(body: Any, where: Where, allowed: set[str], required: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise where.error("expected a mapping of options.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise where.error(
            f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}."
        )
    missing = sorted(required - set(body))
    if missing:
        raise where.error(f"missing option(s) {', '.join(missing)}.")
    return body


def _bounds(value: Any, where: Where, key: str) -> dict[str, tuple[float, float]]:
    if not isinstance(value, dict) or not value:
        raise where.error(f"'{key}' must map column names to bounds [lower, upper].")
    out: dict[str, tuple[float, float]] = {}
    for column, pair in value.items():
        if not isinstance(pair, list) or len(pair) != 2:
            raise where.error(f"'{key}.{column}' must be [lower, upper].", column)
        lo, hi = (_number(p, where, f"{key}.{column}") for p in pair)
        if lo >= hi:
            raise where.error(f"'{key}.{column}': lower bound must be below the upper.", column)
        out[str(column)] = (lo, hi)
    return out


def _parse_step(index: int, item: Any, default_k: int) -> Step:
    if not isinstance(item, dict) or len(item) != 1:
        raise InputError(
            f"Treatment {index}: each treatment is a mapping with one key, one of "
            f"{', '.join(KINDS)}.",
            parameter="treatments",
            treatment=index,
        )
    ((kind, body),) = item.items()
    where = Where(index, str(kind))
    if kind == "drop":
        return Drop(_names(body, where, "drop"))
    if kind == "hash":
        body = {"column": body} if isinstance(body, str) else body
        opts = _options(body, where, {"column", "as"}, {"column"})
        column = _names(opts["column"], where, "column")[0]
        return Hash(column, str(opts.get("as") or column))
    if kind == "generalize":
        opts = _options(
            body,
            where,
            {"column", "to", "as", "mapping", "width", "bands", "size"},
            {"column", "to"},
        )
        column = _names(opts["column"], where, "column")[0]
        to = opts["to"]
        if to not in GENERALIZE_TO:
            raise where.error(f"'to' must be one of {', '.join(GENERALIZE_TO)}.", column)
        default_out = {"district": "district", "street": "street", "grid": "grid_cell"}
        output = str(opts.get("as") or default_out.get(to, column))
        mapping = None
        if to == "district":
            raw = opts.get("mapping", gen.BUILTIN_MAPPING)
            if raw == gen.BUILTIN_MAPPING:
                mapping = gen.builtin_postcode_mapping()
            elif isinstance(raw, dict) and raw:
                mapping = {str(k): str(v) for k, v in raw.items()}
            else:
                raise where.error(
                    f"'mapping' must be {gen.BUILTIN_MAPPING!r} or a mapping postcode → district.",
                    column,
                )
        width = edges = None
        if to == "bands":
            if "width" in opts:
                width = _number(opts["width"], where, "width")
                if width <= 0:
                    raise where.error("'width' must be positive.", column)
            elif isinstance(opts.get("bands"), list) and opts["bands"]:
                edges = tuple(_number(e, where, "bands") for e in opts["bands"])
            else:
                raise where.error("bands need 'width' or a list of edges in 'bands'.", column)
        size = int(opts.get("size", 100))
        if to == "grid" and size not in gen.GRID_SIZES:
            raise where.error(f"'size' must be one of {gen.GRID_SIZES} (metres).", column)
        return Generalize(column, str(to), output, mapping, width, edges, size)
    if kind == "aggregate":
        opts = _options(
            body,
            where,
            {
                "group_by",
                "sum",
                "mean",
                "contributor",
                "contributor_count",
                "totals",
                "dominance",
                "k",
            },
            {"group_by"},
        )
        k = int(_number(opts.get("k", default_k), where, "k", low=DEFAULT_K))
        dominance = _number(opts.get("dominance", 0.5), where, "dominance")
        if not 0 < dominance <= 1:
            raise where.error("'dominance' is a share between 0 and 1 (default 0.5).")
        if opts.get("contributor") and opts.get("contributor_count"):
            raise where.error("name either 'contributor' or 'contributor_count', not both.")
        group_by = _names(opts["group_by"], where, "group_by")
        totals = bool(opts.get("totals", False))
        if totals and len(group_by) > 2:
            raise where.error("'totals' work with one or two group_by columns.")
        return Aggregate(
            AggregateSpec(
                group_by=group_by,
                sum=_names(opts["sum"], where, "sum") if "sum" in opts else (),
                mean=_names(opts["mean"], where, "mean") if "mean" in opts else (),
                contributor=opts.get("contributor"),
                contributor_count=opts.get("contributor_count"),
                totals=totals,
                dominance=dominance,
                k=k,
            )
        )
    if kind == "k_anonymity":
        opts = _options(
            body, where, {"quasi_ids", "k", "suppress", "max_suppressed", "contributor"}, set()
        )
        return KAnonymity(
            kanon.KAnonSpec(
                quasi_ids=_names(opts["quasi_ids"], where, "quasi_ids")
                if "quasi_ids" in opts
                else (),
                k=int(_number(opts.get("k", default_k), where, "k", low=DEFAULT_K)),
                suppress=bool(opts.get("suppress", False)),
                max_suppressed=_number(opts.get("max_suppressed", 0.05), where, "max_suppressed"),
                contributor=opts.get("contributor"),
            )
        )
    if kind == "dp":
        opts = _options(
            body,
            where,
            {"epsilon", "contributor", "group_by", "keys", "count", "sum", "mean", "max_groups"},
            {"epsilon"},
        )
        epsilon = _number(opts["epsilon"], where, "epsilon")
        if epsilon <= 0:
            raise where.error("'epsilon' must be positive.")
        group_by = _names(opts["group_by"], where, "group_by") if "group_by" in opts else ()
        keys = opts.get("keys") or {}
        if not isinstance(keys, dict):
            raise where.error("'keys' maps each group_by column to its list of values.")
        for column in group_by:
            if not isinstance(keys.get(column), list) or not keys[column]:
                raise where.error(
                    f"declare the values of group_by column {column!r} in 'keys' (taking "
                    "them from the data would reveal which groups exist).",
                    column,
                )
        sums = _bounds(opts["sum"], where, "sum") if "sum" in opts else {}
        means = _bounds(opts["mean"], where, "mean") if "mean" in opts else {}
        if not (opts.get("count") or sums or means):
            raise where.error("ask for at least one of count, sum, mean.")
        return DP(
            dp_mod.DPSpec(
                epsilon=epsilon,
                contributor=opts.get("contributor"),
                group_by=group_by,
                keys={c: tuple(keys[c]) for c in group_by},
                count=bool(opts.get("count", False)),
                sum=sums,
                mean=means,
                max_groups=int(_number(opts.get("max_groups", 1), where, "max_groups", low=1)),
            )
        )
    raise InputError(
        f"Treatment {index}: unknown kind {kind!r}; known: {', '.join(KINDS)}.",
        parameter="treatments",
        treatment=index,
    )


def parse_spec(data: Any) -> TreatmentSpec:
    """A treatment spec from parsed YAML/JSON; InputError names the treatment and column."""
    if isinstance(data, list):
        data = {"treatments": data}
    if not isinstance(data, dict):
        raise InputError(
            "A treatment spec is a mapping with a 'treatments' list.", parameter="spec"
        )
    unknown = sorted(set(data) - {"treatments", "k", "population", "roles"})
    if unknown:
        raise InputError(
            f"Unknown key(s) in the treatment spec: {', '.join(unknown)}.", parameter="spec"
        )
    k = data.get("k")
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < DEFAULT_K):
        raise InputError(
            f"k must be a whole number of at least {DEFAULT_K} (§ 52 Abs. 3 MsbG).", parameter="k"
        )
    population = data.get("population")
    if population is not None and (
        not isinstance(population, str) or not 0 < len(population) <= 200
    ):
        raise InputError(
            "population must be a name of 1 to 200 characters.", parameter="population"
        )
    roles = data.get("roles") or {}
    if not isinstance(roles, dict) or not all(isinstance(v, str) for v in roles.values()):
        raise InputError("roles must map column names to role names.", parameter="roles")
    items = data.get("treatments")
    if not isinstance(items, list) or not items:
        raise InputError("The spec needs a non-empty 'treatments' list.", parameter="treatments")
    steps = tuple(_parse_step(i, item, k or DEFAULT_K) for i, item in enumerate(items, start=1))
    if sum(isinstance(s, Aggregate | DP) for s in steps) > 1:
        raise InputError("Declare at most one aggregate or dp treatment.", parameter="treatments")
    return TreatmentSpec(steps, k, population, {str(c): r for c, r in roles.items()}, data)


def load_spec(text: str, name: str = "spec") -> TreatmentSpec:
    """Parse YAML or JSON text (JSON is YAML)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            "The treatment spec is not valid YAML or JSON.",
            file=name,
            line=(mark.line + 1) if mark is not None else None,
        ) from None
    return parse_spec(data)


def load_spec_file(path: Path) -> TreatmentSpec:
    if not path.is_file():
        raise InputError("The treatment file does not exist.", file=path.name)
    return load_spec(path.read_text(encoding="utf-8"), path.name)
