"""The recipe file: inputs by slug, and a transformation in DuckDB SQL or a declarative form.

```yaml
output: pv-headroom
title: PV-Ausbaureserve je Netzgebiet          # optional, for a new output dataset
org: stadtwerke-herne                          # optional
inputs: {b: solar-cadastre, g: grid-areas@2}   # alias: slug, or slug@version to pin
sql: |
  SELECT g.area_id, sum(b.kwp) AS potential_kwp, any_value(g.geometry) AS geometry
  FROM g LEFT JOIN b ON ST_Within(ST_Centroid(b.geometry), g.geometry) GROUP BY g.area_id
```

Instead of ``sql``, ``transform`` takes one of the common operations, compiled to SQL:

- ``{kind: attribute_join, left: a, right: b, on: {left_col: right_col}, how: left|inner}``
- ``{kind: spatial_join, left: a, right: b, predicate: within|intersects|nearest, how: ...}``
- ``{kind: aggregate_per_polygon, polygons: g, points: b, keep: [cols], measures: {name: expr}}``
- ``{kind: time_bucket, input: x, time: col, interval: hour|day|week|month|year,
  group_by: [cols], measures: {name: expr}}``

Every geodata version's geometry column is called ``geometry`` (GeoParquet convention), in
EPSG:4326. The compiled SQL passes the same statement check as the public SQL endpoint: it may
name only the input aliases, so a recipe can read no file but its inputs.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from datenschatz.errors import InputError
from datenschatz.store.duck import sql_ident

ALIAS = re.compile(r"[a-z_][a-z0-9_]{0,62}")
INPUT = re.compile(r"(?P<slug>[a-z0-9][a-z0-9-]*[a-z0-9])(?:@(?P<version>[1-9][0-9]*))?")
INTERVALS = ("hour", "day", "week", "month", "year")


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AttributeJoin(_Form):
    kind: Literal["attribute_join"]
    left: str
    right: str
    on: dict[str, str] = Field(min_length=1)
    how: Literal["left", "inner"] = "left"


class SpatialJoin(_Form):
    kind: Literal["spatial_join"]
    left: str
    right: str
    predicate: Literal["within", "intersects", "nearest"] = "intersects"
    how: Literal["left", "inner"] = "left"


class AggregatePerPolygon(_Form):
    kind: Literal["aggregate_per_polygon"]
    polygons: str
    points: str
    keep: list[str] = Field(min_length=1)
    measures: dict[str, str] = Field(min_length=1)


class TimeBucket(_Form):
    kind: Literal["time_bucket"]
    input: str
    time: str
    interval: Literal["hour", "day", "week", "month", "year"] = "day"
    group_by: list[str] = Field(default_factory=list)
    measures: dict[str, str] = Field(min_length=1)


Transform = Annotated[
    AttributeJoin | SpatialJoin | AggregatePerPolygon | TimeBucket, Field(discriminator="kind")
]


class InputRef(BaseModel):
    slug: str
    version: int | None = None  # None: follow the latest published version

    def __str__(self) -> str:
        return self.slug if self.version is None else f"{self.slug}@{self.version}"


class RecipeSpec(_Form):
    output: str
    title: str | None = None
    description: str | None = None
    org: str | None = None
    inputs: dict[str, InputRef] = Field(min_length=1)
    sql: str | None = None
    transform: Transform | None = None

    @field_validator("inputs", mode="before")
    @classmethod
    def _inputs(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError("give a mapping alias: dataset slug")
        parsed = {}
        for alias, ref in value.items():
            if not isinstance(alias, str) or not ALIAS.fullmatch(alias):
                raise ValueError(f"alias {alias!r}: use a lowercase SQL name like b or grid")
            if isinstance(ref, dict):  # the stored form
                parsed[alias] = InputRef.model_validate(ref)
                continue
            match = INPUT.fullmatch(str(ref)) if isinstance(ref, str) else None
            if match is None:
                raise ValueError(f"input {alias}: give a dataset slug, or slug@version")
            version = match["version"]
            parsed[alias] = InputRef(slug=match["slug"], version=int(version) if version else None)
        return parsed

    @model_validator(mode="after")
    def _one_transformation(self) -> RecipeSpec:
        if (self.sql is None) == (self.transform is None):
            raise ValueError("give either sql or transform")
        if self.transform is not None:
            unknown = sorted(_aliases_of(self.transform) - set(self.inputs))
            if unknown:
                raise ValueError("transform names unknown inputs: " + ", ".join(unknown))
        return self


def _aliases_of(form: BaseModel) -> set[str]:
    if isinstance(form, AttributeJoin | SpatialJoin):
        return {form.left, form.right}
    if isinstance(form, AggregatePerPolygon):
        return {form.polygons, form.points}
    assert isinstance(form, TimeBucket)
    return {form.input}


def parse_recipe(text: str, *, source: str = "recipe") -> RecipeSpec:
    """Parse and validate a recipe file; InputError names the file, line or field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            "The recipe is not valid YAML.",
            file=source,
            line=mark.line + 1 if mark is not None else None,
        ) from None
    if not isinstance(data, dict):
        raise InputError("The recipe must be a mapping of keys.", file=source)
    try:
        return RecipeSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if not str(p).startswith("function-"))
        where = where or "recipe"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InputError(f"{where}: {message}", file=source, parameter=where) from None


def _cols(alias: str, names: list[str]) -> str:
    return ", ".join(f"{alias}.{sql_ident(n)}" for n in names)


def compile_sql(spec: RecipeSpec) -> str:
    """The transformation as one SELECT over the input aliases."""
    if spec.sql is not None:
        return spec.sql.strip().rstrip(";")
    form = spec.transform
    if isinstance(form, AttributeJoin):
        condition = " AND ".join(f"l.{sql_ident(a)} = r.{sql_ident(b)}" for a, b in form.on.items())
        right_cols = f"r.* EXCLUDE ({', '.join(sql_ident(b) for b in form.on.values())})"
        return (
            f"SELECT l.*, {right_cols} FROM {sql_ident(form.left)} AS l "
            f"{form.how.upper()} JOIN {sql_ident(form.right)} AS r ON {condition}"
        )
    if isinstance(form, SpatialJoin):
        left, right = sql_ident(form.left), sql_ident(form.right)
        if form.predicate == "nearest":
            return (
                f"SELECT l.*, r.* EXCLUDE (geometry), "
                f"ST_Distance_Sphere(ST_Centroid(l.geometry), ST_Centroid(r.geometry)) "
                f"AS distance_m FROM {left} AS l {form.how.upper()} JOIN LATERAL "
                f"(SELECT * FROM {right} ORDER BY "
                f"ST_Distance(ST_Centroid(l.geometry), ST_Centroid({right}.geometry)) LIMIT 1)"
                " AS r ON true"
            )
        function = "ST_Within" if form.predicate == "within" else "ST_Intersects"
        return (
            f"SELECT l.*, r.* EXCLUDE (geometry) FROM {left} AS l {form.how.upper()} JOIN "
            f"{right} AS r ON {function}(l.geometry, r.geometry)"
        )
    if isinstance(form, AggregatePerPolygon):
        keep = _cols("p", form.keep)
        measures = ", ".join(f"{expr} AS {sql_ident(name)}" for name, expr in form.measures.items())
        return (
            f"SELECT {keep}, {measures}, any_value(p.geometry) AS geometry "
            f"FROM {sql_ident(form.polygons)} AS p LEFT JOIN {sql_ident(form.points)} AS x "
            f"ON ST_Within(ST_Centroid(x.geometry), p.geometry) GROUP BY {keep}"
        )
    assert isinstance(form, TimeBucket)
    bucket = f"date_trunc('{form.interval}', {sql_ident(form.time)}) AS {sql_ident(form.time)}"
    groups = [sql_ident(c) for c in form.group_by]
    measures = ", ".join(f"{expr} AS {sql_ident(name)}" for name, expr in form.measures.items())
    keys = ", ".join([*groups, bucket])
    group_by = ", ".join([*groups, f"date_trunc('{form.interval}', {sql_ident(form.time)})"])
    return (
        f"SELECT {keys}, {measures} FROM {sql_ident(form.input)} "
        f"GROUP BY {group_by} ORDER BY {group_by}"
    )
