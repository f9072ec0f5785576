"""Reading SensorThings entities: resource paths, query options, JSON, next links, expand.

Reads are public for sensor data, except that Datastreams tied to a dataset (and their
Observations) follow that dataset's visibility (:func:`datenschatz.access.policy
.visible_datasets`); hidden ones look absent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, func, or_, select, true
from sqlalchemy.orm import Session

from datenschatz.access.policy import Principal, visible_datasets
from datenschatz.db.models import Dataset
from datenschatz.db.sensor_models import StaDatastream
from datenschatz.errors import InputError, NotFound
from datenschatz.sensors.filter_sql import Compiler
from datenschatz.sensors.model import (
    ENTITY_SETS,
    EntitySet,
    Nav,
    format_interval,
    format_time,
)
from datenschatz.sensors.odata import QueryOptions, ResourcePath

DS = StaDatastream.__table__


def load_row(session: Session, es: EntitySet, entity_id: int) -> Row[Any] | None:
    return session.execute(select(es.table).where(es.table.c.id == entity_id)).first()


def observation_result(row: Any) -> Any:
    kind = row.result_kind
    if kind == 1:
        return int(row.result_number)
    if kind == 0:
        return row.result_number
    if kind == 2:
        return row.result_string
    return row.result_json


def property_value(es: EntitySet, name: str, row: Any) -> Any:
    prop = es.props[name]
    if prop.kind == "result":
        return observation_result(row)
    if prop.kind == "time":
        return format_time(getattr(row, prop.column))
    if prop.kind == "interval":
        start, end = getattr(row, f"{prop.column}_start"), getattr(row, f"{prop.column}_end")
        if prop.read_only and start is not None:
            # A Datastream's times are periods (TM_Period): always start/end.
            return f"{format_time(start)}/{format_time(end or start)}"
        return format_interval(start, end)
    return row._mapping[prop.column]


def entity_json(
    es: EntitySet, row: Any, base_url: str, select_names: list[str] | None = None
) -> dict[str, Any]:
    """The entity as SensorThings JSON; ``select_names`` limits it ($select)."""
    link = f"{base_url}/{es.name}({row.id})"
    chosen = None if select_names is None else set(select_names)
    body: dict[str, Any] = {}
    if chosen is None or "id" in chosen or "@iot.id" in chosen:
        body["@iot.id"] = row.id
    if chosen is None or "@iot.selfLink" in chosen or "selfLink" in chosen:
        body["@iot.selfLink"] = link
    for name in es.props:
        if chosen is None or name in chosen:
            body[name] = property_value(es, name, row)
    for nav in es.navs:
        if chosen is None or nav in chosen:
            body[f"{nav}@iot.navigationLink"] = f"{link}/{nav}"
    return body


def check_select(es: EntitySet, names: list[str] | None, option: str = "$select") -> None:
    for name in names or []:
        if (
            name not in es.props
            and name not in es.navs
            and name
            not in (
                "id",
                "@iot.id",
                "@iot.selfLink",
                "selfLink",
            )
        ):
            raise InputError(f"{option}: {es.singular} has no property {name!r}.", parameter=option)


# --- visibility ------------------------------------------------------------------------------


def _readable_datastreams(principal: Principal) -> ColumnElement[bool]:
    return or_(
        DS.c.dataset_id.is_(None),
        DS.c.dataset_id.in_(select(Dataset.id).where(visible_datasets(principal))),
    )


def visibility(es: EntitySet, principal: Principal) -> ColumnElement[bool]:
    if es.name == "Datastreams":
        return _readable_datastreams(principal)
    if es.name == "Observations":
        return es.table.c.datastream_id.in_(select(DS.c.id).where(_readable_datastreams(principal)))
    return true()


# --- navigation ------------------------------------------------------------------------------


def related(nav: Nav, owner: EntitySet, target: EntitySet, owner_ids: Any) -> ColumnElement[bool]:
    """A clause on ``target`` for the entities that ``owner_ids`` (a value or a select) reach."""
    ids = owner_ids if isinstance(owner_ids, Select) else [owner_ids]
    if nav.fk is not None:
        return target.table.c.id.in_(select(owner.table.c[nav.fk]).where(owner.table.c.id.in_(ids)))
    if nav.back_fk is not None:
        if not isinstance(owner_ids, Select):
            same: ColumnElement[bool] = target.table.c[nav.back_fk] == owner_ids
            return same
        return target.table.c[nav.back_fk].in_(ids)
    assert nav.link is not None
    return target.table.c.id.in_(
        select(nav.link.c[nav.link_there]).where(nav.link.c[nav.link_here].in_(ids))
    )


class Reader:
    """Answers GET requests for one principal and base URL."""

    def __init__(self, session: Session, principal: Principal, base_url: str) -> None:
        self.session = session
        self.principal = principal
        self.base_url = base_url
        self.dialect = session.get_bind().dialect.name

    # A resource path resolves to (entity set, clause, single?, link path for next links).
    def resolve(self, path: ResourcePath) -> tuple[EntitySet, ColumnElement[bool], bool, str]:
        first = path.segments[0]
        es = ENTITY_SETS.get(first.name)
        if es is None:
            raise NotFound(f"No entity set {first.name!r}.", path=first.name)
        clause: ColumnElement[bool] = visibility(es, self.principal)
        single = first.id is not None
        link_path = es.name
        if first.id is not None:
            clause = and_(clause, es.table.c.id == first.id)
            link_path = f"{es.name}({first.id})"
            self._must_exist(es, clause, first.id)
        # The id of a single entity already found (and visible): paths below it use it directly,
        # so that /Datastreams(1)/Observations reads the (datastream, time) index.
        known_id = first.id
        for segment in path.segments[1:]:
            nav = es.navs.get(segment.name)
            if nav is None:
                raise NotFound(f"{es.singular} has no navigation {segment.name!r}.")
            target = ENTITY_SETS[nav.target]
            owner_ids: Any = (
                known_id if known_id is not None else select(es.table.c.id).where(clause)
            )
            clause = and_(visibility(target, self.principal), related(nav, es, target, owner_ids))
            known_id = None
            link_path = f"{link_path}/{segment.name}"
            single = not nav.many
            es = target
            if segment.id is not None:
                if not nav.many:
                    raise InputError(f"{segment.name} is a single entity; drop the id.")
                clause = and_(clause, es.table.c.id == segment.id)
                link_path = f"{es.name}({segment.id})"
                single = True
                self._must_exist(es, clause, segment.id)
                known_id = segment.id
        return es, clause, single, link_path

    def _must_exist(self, es: EntitySet, clause: ColumnElement[bool], entity_id: int) -> None:
        if self.session.execute(select(es.table.c.id).where(clause)).first() is None:
            raise NotFound(f"No {es.singular} with @iot.id {entity_id}.", entity=es.name)

    def get(self, path: ResourcePath, options: QueryOptions) -> Any:
        es, clause, single, link_path = self.resolve(path)
        check_select(es, options.select)
        if single:
            row = self.session.execute(select(es.table).where(clause)).first()
            if row is None:
                raise NotFound(f"No {es.singular} here.", entity=es.name)
            if path.property is not None:
                if path.property not in es.props:
                    raise NotFound(f"{es.singular} has no property {path.property!r}.")
                value = property_value(es, path.property, row)
                return ("value", value) if path.value else {path.property: value}
            if path.ref:
                return {"@iot.selfLink": f"{self.base_url}/{es.name}({row.id})"}
            body = entity_json(es, row, self.base_url, options.select)
            self._expand(es, row, body, options.expand)
            return body
        if path.property is not None:
            raise InputError("A property can only be read from a single entity.")
        return self.collection(es, clause, options, link_path, ref=path.ref)

    def collection(
        self,
        es: EntitySet,
        clause: ColumnElement[bool],
        options: QueryOptions,
        link_path: str,
        *,
        ref: bool = False,
    ) -> dict[str, Any]:
        compiler = Compiler(self.session, es, self.dialect)
        order_compiler = Compiler(self.session, es, self.dialect, "$orderby")
        where = clause
        if options.filter is not None:
            where = and_(where, compiler.boolean(options.filter))
        query = select(es.table).where(where)
        for order in options.orderby:
            expr = order_compiler.order_expression(order.expr)
            if getattr(expr, "nullable", True) is False:
                ordered = expr.desc() if order.descending else expr.asc()
            else:
                # The same order on both databases: nulls after values, reversed by desc.
                ordered = expr.desc().nulls_first() if order.descending else expr.asc().nulls_last()
            query = query.order_by(ordered)
        # Ties go by id, in the direction of the last key: an index on (..., time) read
        # backwards then yields the whole order (SQLite keeps the row id as its last column).
        last_descending = bool(options.orderby) and options.orderby[-1].descending
        query = query.order_by(es.table.c.id.desc() if last_descending else es.table.c.id.asc())
        limit = options.limit
        rows = self.session.execute(query.offset(options.skip).limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        result: dict[str, Any] = {}
        if options.count:
            result["@iot.count"] = self.session.scalar(
                select(func.count()).select_from(es.table).where(where)
            )
        if more:
            result["@iot.nextLink"] = (
                f"{self.base_url}/{link_path}?{options.query_string(options.skip + limit)}"
            )
        if ref:
            result["value"] = [
                {"@iot.selfLink": f"{self.base_url}/{es.name}({row.id})"} for row in rows
            ]
        elif options.result_format == "dataArray":
            result["value"] = self._data_array(es, rows, options)
        else:
            values = []
            for row in rows:
                body = entity_json(es, row, self.base_url, options.select)
                self._expand(es, row, body, options.expand)
                values.append(body)
            result["value"] = values
        return result

    def _data_array(
        self, es: EntitySet, rows: Sequence[Row[Any]], options: QueryOptions
    ) -> list[dict[str, Any]]:
        if es.name != "Observations":
            raise InputError(
                "$resultFormat=dataArray applies to Observations only.",
                parameter="$resultFormat",
            )
        components = options.select or ["id", "phenomenonTime", "resultTime", "result"]
        groups: dict[int, list[list[Any]]] = {}
        for row in rows:
            values = []
            for name in components:
                values.append(
                    row.id if name in ("id", "@iot.id") else property_value(es, name, row)
                )
            groups.setdefault(row.datastream_id, []).append(values)
        return [
            {
                "Datastream@iot.navigationLink": f"{self.base_url}/Datastreams({ds_id})",
                "components": components,
                "dataArray@iot.count": len(data),
                "dataArray": data,
            }
            for ds_id, data in groups.items()
        ]

    def _expand(self, es: EntitySet, row: Any, body: dict[str, Any], expands: list[Any]) -> None:
        for item in expands:
            nav = es.navs.get(item.nav)
            if nav is None:
                raise InputError(
                    f"$expand: {es.singular} has no navigation {item.nav!r}.", parameter="$expand"
                )
            target = ENTITY_SETS[nav.target]
            check_select(target, item.options.select, "$expand/$select")
            clause = and_(visibility(target, self.principal), related(nav, es, target, row.id))
            if nav.many:
                link_path = f"{es.name}({row.id})/{nav.name}"
                page = self.collection(target, clause, item.options, link_path)
                body[nav.name] = page["value"]
                if "@iot.count" in page:
                    body[f"{nav.name}@iot.count"] = page["@iot.count"]
                if "@iot.nextLink" in page:
                    body[f"{nav.name}@iot.nextLink"] = page["@iot.nextLink"]
            else:
                child = self.session.execute(select(target.table).where(clause)).first()
                if child is not None:
                    child_body = entity_json(target, child, self.base_url, item.options.select)
                    self._expand(target, child, child_body, item.options.expand)
                    body[nav.name] = child_body


def read(
    session: Session,
    principal: Principal,
    path: ResourcePath,
    options: QueryOptions,
    *,
    base_url: str,
) -> Any:
    """A GET on ``path``: an entity, a collection page, a property, or ``("value", v)``."""
    try:
        return Reader(session, principal, base_url).get(path, options)
    except RecursionError:
        # A deeply nested expression can exhaust the stack while SQL is compiled.
        raise InputError("The query options are nested too deeply.") from None
