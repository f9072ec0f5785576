"""SensorThings service: create, update and delete entities, and the observation fast paths.

HTTP-agnostic: every function takes a session (the caller commits) and the absolute base URL
of the service (``https://host/sta/v1.1``) for self links. ``principal`` is checked with the
access policy when given; ``None`` marks a trusted in-process caller (importers, the MQTT
bridge after it checked its own credentials, the CLI).

Notifications (:mod:`datenschatz.sensors.events`) are queued on the session and sent after
it commits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, event, func, insert, select, update
from sqlalchemy.orm import Session

from datenschatz.access.policy import Principal, Scope, ensure_can_edit, ensure_scope
from datenschatz.db.models import Dataset
from datenschatz.db.sensor_models import (
    StaDatastream,
    StaFeatureOfInterest,
    StaHistoricalLocation,
    StaLocation,
    StaObservation,
    StaThing,
    datastream_feature,
    historical_location_location,
    thing_location,
)
from datenschatz.errors import DatenschatzError, InputError, NotFound
from datenschatz.sensors import events, geometry
from datenschatz.sensors.json_patch import apply_patch
from datenschatz.sensors.model import (
    ENTITY_SETS,
    EntitySet,
    Nav,
    Prop,
    entity_set,
    parse_interval,
    parse_time,
)
from datenschatz.sensors.read import entity_json, load_row, observation_result

OBS: Table = StaObservation.__table__  # type: ignore[assignment]
DS: Table = StaDatastream.__table__  # type: ignore[assignment]
FOI: Table = StaFeatureOfInterest.__table__  # type: ignore[assignment]
LOC: Table = StaLocation.__table__  # type: ignore[assignment]
THING: Table = StaThing.__table__  # type: ignore[assignment]
HL: Table = StaHistoricalLocation.__table__  # type: ignore[assignment]

_ZERO = timedelta(0)
GEO_ENCODINGS = ("application/geo+json", "application/vnd.geo+json")


def ensure_can_write(principal: Principal | None) -> None:
    if principal is not None:
        ensure_scope(principal, Scope.SENSORS_WRITE)


# --- notifications after commit ----------------------------------------------------------------


def _queue(session: Session, es: EntitySet, entity_id: int) -> None:
    if not events.has_subscribers():
        return
    pending: list[tuple[EntitySet, int]] | None = session.info.get("sta_events")
    if pending is None:
        pending = session.info["sta_events"] = []
        event.listen(session, "after_commit", _send_after_commit, once=True)
        event.listen(session, "after_rollback", _drop_on_rollback, once=True)
    pending.append((es, entity_id))


def _drop_on_rollback(session: Session) -> None:
    session.info.pop("sta_events", None)


def _send_after_commit(session: Session) -> None:
    pending = session.info.pop("sta_events", None) or []
    base_url = session.info.get("sta_base_url", "")
    if not pending:
        return
    # Rows are read back in chunks (a CreateObservations batch is one query per 500 rows),
    # then announced in the order they were written.
    rows: dict[tuple[str, int], Any] = {}
    wanted: dict[str, list[int]] = {}
    for es, entity_id in pending:
        wanted.setdefault(es.name, []).append(entity_id)
    with Session(session.get_bind()) as reader:
        for name, ids in wanted.items():
            table = ENTITY_SETS[name].table
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                for found in reader.execute(select(table).where(table.c.id.in_(chunk))):
                    rows[(name, found.id)] = found
    for es, entity_id in pending:
        row = rows.get((es.name, entity_id))
        if row is not None:
            topics = _topics_for(es, entity_id, row._mapping)
            events.notify(topics, entity_json(es, row, base_url))


def _topics_for(es: EntitySet, entity_id: int, values: Mapping[Any, Any]) -> list[str]:
    topics = [es.name, f"{es.name}({entity_id})"]
    for nav in es.navs.values():
        if nav.fk and values.get(nav.fk) is not None:
            parent = ENTITY_SETS[nav.target]
            back = next(
                (n.name for n in parent.navs.values() if n.back_fk == nav.fk and n.many), None
            )
            if back:
                topics.append(f"{parent.name}({values[nav.fk]})/{back}")
    return topics


# --- property conversion ---------------------------------------------------------------------


def _result_columns(value: Any) -> tuple[int, float | None, str | None, Any]:
    if isinstance(value, bool) or value is None:
        return 3, None, None, value
    if isinstance(value, int):
        return 1, float(value), None, None
    if isinstance(value, float):
        return 0, value, None, None
    if isinstance(value, str):
        return 2, None, value, None
    return 3, None, None, value


def _set_prop(es: EntitySet, prop: Prop, value: Any, values: dict[str, Any]) -> None:
    field = f"{es.singular}.{prop.name}"
    if prop.kind == "result":
        kind, number, text, other = _result_columns(value)
        values.update(result_kind=kind, result_number=number, result_string=text, result_json=other)
    elif prop.kind == "time":
        values[prop.column] = None if value is None else parse_time(value, field)
    elif prop.kind == "interval":
        if value is None:
            values[f"{prop.column}_start"] = values[f"{prop.column}_end"] = None
        else:
            start, end = parse_interval(value, field)
            values[f"{prop.column}_start"], values[f"{prop.column}_end"] = start, end
    elif prop.kind == "geo":
        geo = geometry.check_geometry(value, field)
        values[prop.column] = value
        if "min_x" in es.table.c:
            box = geometry.bbox(geo)
            values.update(min_x=box[0], min_y=box[1], max_x=box[2], max_y=box[3])
    elif prop.kind in ("str", "text"):
        if value is not None and not isinstance(value, str):
            raise InputError(f"{field} must be a string.", field=field)
        values[prop.column] = value
    else:
        if prop.name == "properties" and value is not None and not isinstance(value, dict):
            raise InputError(f"{field} must be a JSON object.", field=field)
        values[prop.column] = value


def _check_keys(es: EntitySet, payload: Mapping[str, Any]) -> None:
    for key in payload:
        if key.startswith("@") or key.endswith("@iot.navigationLink") or key == "id":
            continue
        if key not in es.props and key not in es.navs:
            raise InputError(f"{es.singular} has no property {key!r}.", field=key)


def _values_from(es: EntitySet, payload: Mapping[str, Any], *, complete: bool) -> dict[str, Any]:
    """Column values for the properties in ``payload``; ``complete`` fills in missing ones."""
    values: dict[str, Any] = {}
    for prop in es.props.values():
        if prop.read_only:
            continue
        if prop.name in payload:
            value = payload[prop.name]
            if value is None and prop.required and prop.kind != "result":
                raise InputError(f"{es.singular}.{prop.name} must not be null.", field=prop.name)
            _set_prop(es, prop, value, values)
        elif complete:
            if prop.required and not (es.name == "Observations" and prop.name == "result"):
                raise InputError(
                    f"{es.singular}.{prop.name} is required.", field=f"{es.singular}.{prop.name}"
                )
            if prop.kind == "result":
                raise InputError("Observation.result is required.", field="Observation.result")
            _set_prop(es, prop, prop.default, values)
    geo_set = es.name in ("Locations", "FeaturesOfInterest")
    if geo_set and values.get("encoding_type", GEO_ENCODINGS[0]) not in GEO_ENCODINGS:
        raise InputError(
            f"{es.singular}.encodingType must be application/geo+json.",
            field=f"{es.singular}.encodingType",
        )
    return values


def _ref_id(item: Any, target: EntitySet) -> int | None:
    if not isinstance(item, dict):
        raise InputError(f"A {target.singular} must be given as a JSON object.", field=target.name)
    if "@iot.id" not in item:
        return None
    raw = item["@iot.id"]
    try:
        entity_id = int(raw)
    except (TypeError, ValueError):
        raise InputError(f"@iot.id of a {target.singular} must be an integer.") from None
    return entity_id


def _exists(session: Session, es: EntitySet, entity_id: int) -> bool:
    return (
        session.execute(select(es.table.c.id).where(es.table.c.id == entity_id)).first() is not None
    )


def _ensure_exists(session: Session, es: EntitySet, entity_id: int) -> None:
    if not _exists(session, es, entity_id):
        raise NotFound(f"No {es.singular} with @iot.id {entity_id}.", entity=es.name, id=entity_id)


# --- creating --------------------------------------------------------------------------------


class _Creator:
    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now

    def ref_or_create(self, target: EntitySet, item: Any, fixed: dict[str, Any]) -> int:
        """An existing entity named by @iot.id (other fields ignored), or a new one."""
        ref = _ref_id(item, target)
        if ref is not None:
            try:
                _ensure_exists(self.session, target, ref)
            except NotFound as exc:
                raise InputError(exc.message, entity=target.name, id=ref) from None
            return ref
        return self.create(target, item, fixed)

    def create(self, es: EntitySet, payload: Any, fixed: dict[str, Any]) -> int:
        if not isinstance(payload, dict):
            raise InputError(f"A {es.singular} must be a JSON object.", field=es.name)
        _check_keys(es, payload)
        values = {**_values_from(es, payload, complete=True), **fixed}
        for nav in es.navs.values():
            if nav.many or nav.fk is None or nav.fk in values:
                continue
            item = payload.get(nav.name)
            if item is None:
                if nav.required:
                    raise InputError(
                        f"A {es.singular} needs its {nav.name}.", field=f"{es.singular}.{nav.name}"
                    )
                continue
            values[nav.fk] = self.ref_or_create(ENTITY_SETS[nav.target], item, {})
        if es.name == "Observations":
            if values.get("phenomenon_time_start") is None:
                values["phenomenon_time_start"] = self.now
            if values.get("feature_of_interest_id") is None:
                values["feature_of_interest_id"] = feature_for_datastream(
                    self.session, values["datastream_id"]
                )
        if es.name == "HistoricalLocations" and values.get("time") is None:
            values["time"] = self.now
        new_id = int(
            self.session.execute(
                insert(es.table).values(**values).returning(es.table.c.id)
            ).scalar_one()
        )
        self._create_children(es, new_id, payload)
        if es.name == "Observations":
            _observations_added(self.session, values["datastream_id"], [values])
        _queue(self.session, es, new_id)
        return new_id

    def _create_children(self, es: EntitySet, new_id: int, payload: Mapping[str, Any]) -> None:
        for nav in es.navs.values():
            if not nav.many or nav.name not in payload:
                continue
            items = payload[nav.name]
            if not isinstance(items, list):
                raise InputError(f"{es.singular}.{nav.name} must be a list.", field=nav.name)
            target = ENTITY_SETS[nav.target]
            linked: list[int] = []
            for item in items:
                if nav.back_fk:
                    ref = _ref_id(item, target)
                    if ref is None:
                        self.create(target, item, {nav.back_fk: new_id})
                    else:
                        _ensure_exists(self.session, target, ref)
                        self.session.execute(
                            update(target.table)
                            .where(target.table.c.id == ref)
                            .values({nav.back_fk: new_id})
                        )
                else:
                    linked.append(self.ref_or_create(target, item, {}))
            if nav.link is not None and linked:
                link_entities(self.session, es, nav, new_id, linked, self.now)


def link_entities(
    session: Session, es: EntitySet, nav: Nav, this_id: int, other_ids: list[int], now: datetime
) -> None:
    """Add link-table rows; a Thing that gets Locations gets a HistoricalLocation too."""
    assert nav.link is not None
    existing = set(
        session.scalars(
            select(nav.link.c[nav.link_there]).where(nav.link.c[nav.link_here] == this_id)
        )
    )
    fresh = [i for i in dict.fromkeys(other_ids) if i not in existing]
    if fresh:
        session.execute(
            insert(nav.link), [{nav.link_here: this_id, nav.link_there: i} for i in fresh]
        )
    if nav.link is thing_location:
        if es.name == "Things":
            _historical_location(session, this_id, list(dict.fromkeys(other_ids)), now)
        else:
            for thing_id in fresh:
                _historical_location(session, thing_id, [this_id], now)


def _historical_location(
    session: Session, thing_id: int, location_ids: list[int], now: datetime
) -> None:
    hl_id = session.execute(
        insert(HL).values(time=now, thing_id=thing_id).returning(HL.c.id)
    ).scalar_one()
    session.execute(
        insert(historical_location_location),
        [{"historical_location_id": hl_id, "location_id": i} for i in location_ids],
    )
    _queue(session, ENTITY_SETS["HistoricalLocations"], int(hl_id))


def create_entity(
    session: Session,
    entity_set_name: str,
    payload: dict[str, Any],
    *,
    base_url: str,
    principal: Principal | None = None,
    parent: tuple[str, int, str] | None = None,
) -> dict[str, Any]:
    """Create an entity with its inline (deep-inserted or @iot.id-linked) relations.

    ``parent`` = (entity set, id, navigation property) creates it through a navigation path,
    e.g. ``("Datastreams", 1, "Observations")`` for ``POST /Datastreams(1)/Observations``.
    Returns the entity's JSON with ``@iot.id`` and ``@iot.selfLink``.
    """
    ensure_can_write(principal)
    session.info["sta_base_url"] = base_url
    es = entity_set(entity_set_name)
    creator = _Creator(session, datetime.now(UTC))
    fixed: dict[str, Any] = {}
    link: tuple[EntitySet, Nav, int] | None = None
    if parent is not None:
        parent_es = entity_set(parent[0])
        _ensure_exists(session, parent_es, parent[1])
        nav = parent_es.navs.get(parent[2])
        if nav is None or nav.target != es.name or not nav.many:
            raise InputError(f"Cannot create {es.name} under {parent_es.singular}.")
        if nav.back_fk:
            fixed[nav.back_fk] = parent[1]
        else:
            link = (parent_es, nav, parent[1])
    new_id = creator.create(es, payload, fixed)
    if link is not None:
        link_entities(session, link[0], link[1], link[2], [new_id], creator.now)
    row = load_row(session, es, new_id)
    assert row is not None
    return entity_json(es, row, base_url)


# --- observations ----------------------------------------------------------------------------


def feature_for_datastream(session: Session, datastream_id: int) -> int:
    """The FeatureOfInterest generated from the Location of the Datastream's Thing."""
    thing_id = session.scalar(select(DS.c.thing_id).where(DS.c.id == datastream_id))
    if thing_id is None:
        raise InputError(f"No Datastream with @iot.id {datastream_id}.", field="Datastream")
    location_id = session.scalar(
        select(func.max(thing_location.c.location_id)).where(thing_location.c.thing_id == thing_id)
    )
    if location_id is None:
        raise InputError(
            "The Observation needs a FeatureOfInterest: the Datastream's Thing has no Location.",
            field="FeatureOfInterest",
        )
    existing = session.scalar(
        select(func.min(FOI.c.id)).where(FOI.c.source_location_id == location_id)
    )
    if existing is not None:
        return int(existing)
    loc = session.execute(select(LOC).where(LOC.c.id == location_id)).one()
    foi_id = session.execute(
        insert(FOI)
        .values(
            name=loc.name,
            description=loc.description,
            encoding_type=loc.encoding_type,
            feature=loc.location,
            properties=None,
            source_location_id=location_id,
            min_x=loc.min_x,
            min_y=loc.min_y,
            max_x=loc.max_x,
            max_y=loc.max_y,
        )
        .returning(FOI.c.id)
    ).scalar_one()
    return int(foi_id)


def _observations_added(
    session: Session, datastream_id: int, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Widen the Datastream's phenomenon and result time, and its observedArea."""
    if not rows:
        return
    starts = [r["phenomenon_time_start"] for r in rows]
    ends = [r.get("phenomenon_time_end") or r["phenomenon_time_start"] for r in rows]
    result_times = [r["result_time"] for r in rows if r.get("result_time") is not None]
    current = session.execute(
        select(
            DS.c.phenomenon_time_start,
            DS.c.phenomenon_time_end,
            DS.c.result_time_start,
            DS.c.result_time_end,
        ).where(DS.c.id == datastream_id)
    ).one()

    def widen(old: datetime | None, new: Iterable[datetime], pick: Any) -> datetime | None:
        candidates = [_aware(v) for v in new]
        if old is not None:
            candidates.append(_aware(old))
        return pick(candidates) if candidates else None

    changes = {
        "phenomenon_time_start": widen(current[0], starts, min),
        "phenomenon_time_end": widen(current[1], ends, max),
        "result_time_start": widen(current[2], result_times, min),
        "result_time_end": widen(current[3], result_times, max),
    }
    old = {
        "phenomenon_time_start": _aware(current[0]),
        "phenomenon_time_end": _aware(current[1]),
        "result_time_start": _aware(current[2]),
        "result_time_end": _aware(current[3]),
    }
    if changes != old:
        session.execute(update(DS).where(DS.c.id == datastream_id).values(**changes))
    features = {r["feature_of_interest_id"] for r in rows}
    known = set(
        session.scalars(
            select(datastream_feature.c.feature_of_interest_id).where(
                datastream_feature.c.datastream_id == datastream_id
            )
        )
    )
    fresh = features - known
    if fresh:
        session.execute(
            insert(datastream_feature),
            [{"datastream_id": datastream_id, "feature_of_interest_id": f} for f in fresh],
        )
        _update_observed_area(session, datastream_id)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _update_observed_area(session: Session, datastream_id: int) -> None:
    features = session.scalars(
        select(FOI.c.feature)
        .join(datastream_feature, datastream_feature.c.feature_of_interest_id == FOI.c.id)
        .where(datastream_feature.c.datastream_id == datastream_id)
    )
    geometries = [g for g in (geometry.geometry_of(f) for f in features) if g is not None]
    area = geometry.convex_hull(geometries)
    session.execute(update(DS).where(DS.c.id == datastream_id).values(observed_area=area))


_OBS_KEYS = (
    "phenomenon_time_start",
    "phenomenon_time_end",
    "result_time",
    "result_kind",
    "result_number",
    "result_string",
    "result_json",
    "result_quality",
    "valid_time_start",
    "valid_time_end",
    "parameters",
    "datastream_id",
    "feature_of_interest_id",
    "dedup_key",
)


def _fast_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return parse_time(text, "phenomenonTime")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment if moment.utcoffset() == _ZERO else moment.astimezone(UTC)


def observation_values(
    datastream_id: int, item: Mapping[str, Any], default_feature: int | None
) -> dict[str, Any]:
    """One row of ``sta_observation`` from STA-style keys.

    Keys: ``phenomenonTime`` (ISO string, interval or datetime), ``result``, optional
    ``resultTime``, ``validTime``, ``resultQuality``, ``parameters``, ``FeatureOfInterest``
    (``{"@iot.id": n}``) or ``feature_of_interest_id``, and ``dedup_key``.
    """
    if "result" not in item:
        raise InputError("Observation.result is required.", field="result")
    kind, number, text, other = _result_columns(item["result"])
    raw_time = item.get("phenomenonTime")
    start: datetime | None
    end: datetime | None
    if raw_time is None:
        start, end = datetime.now(UTC), None
    elif isinstance(raw_time, datetime):
        start, end = _aware(raw_time), None
    elif isinstance(raw_time, str) and "/" not in raw_time:
        start, end = _fast_time(raw_time), None
    else:
        start, end = parse_interval(raw_time, "phenomenonTime")
    result_time = item.get("resultTime")
    valid = item.get("validTime")
    valid_start, valid_end = (None, None) if valid is None else parse_interval(valid, "validTime")
    feature = item.get("feature_of_interest_id")
    if feature is None and isinstance(item.get("FeatureOfInterest"), dict):
        feature = item["FeatureOfInterest"].get("@iot.id")
    feature = default_feature if feature is None else int(feature)
    if feature is None:
        raise InputError("The Observation needs a FeatureOfInterest.", field="FeatureOfInterest")
    parameters = item.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise InputError("Observation.parameters must be a JSON object.", field="parameters")
    return {
        "phenomenon_time_start": start,
        "phenomenon_time_end": end,
        "result_time": None if result_time is None else parse_time(result_time, "resultTime"),
        "result_kind": kind,
        "result_number": number,
        "result_string": text,
        "result_json": other,
        "result_quality": item.get("resultQuality"),
        "valid_time_start": valid_start,
        "valid_time_end": valid_end,
        "parameters": parameters,
        "datastream_id": datastream_id,
        "feature_of_interest_id": feature,
        "dedup_key": item.get("dedup_key"),
    }


_JSON_KEYS = ("result_json", "result_quality", "parameters")
_TIME_KEYS = (
    "phenomenon_time_start",
    "phenomenon_time_end",
    "result_time",
    "valid_time_start",
    "valid_time_end",
)


def _sqlite_time(value: datetime) -> str:
    # The text form SQLAlchemy's SQLite DateTime reads and writes. observation_values gives
    # UTC times only, so the offset is dropped as it is.
    return value.isoformat(" ", "microseconds")[:26]


def _driver_rows(dialect: str, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    json_at = {_OBS_KEYS.index(k) for k in _JSON_KEYS}
    time_at = {_OBS_KEYS.index(k) for k in _TIME_KEYS}
    if dialect == "postgresql":
        from psycopg.types.json import Jsonb

        def to_json(value: Any) -> Any:
            return None if value is None else Jsonb(value)

        def to_time(value: Any) -> Any:
            return value
    else:

        def to_json(value: Any) -> Any:
            return None if value is None else json.dumps(value, ensure_ascii=False)

        to_time = _sqlite_time
    converted = []
    for row in rows:
        values = [row[k] for k in _OBS_KEYS]
        for i in json_at:
            if values[i] is not None:
                values[i] = to_json(values[i])
        for i in time_at:
            if values[i] is not None:
                values[i] = to_time(values[i])
        converted.append(tuple(values))
    return converted


def _insert_rows(
    session: Session, rows: list[dict[str, Any]], *, skip_duplicates: bool, want_ids: bool
) -> tuple[int, list[int]]:
    """Insert observation rows with one DB-API executemany: (rows inserted, ids if wanted).

    This bypasses SQLAlchemy's per-row parameter processing (the fast path for importers,
    MQTT and CreateObservations). On SQLite the ids of one executemany are consecutive (the
    statement holds the write lock, and no row is skipped without ``skip_duplicates``), so
    they are derived from the largest id afterwards; PostgreSQL returns them.
    """
    if not rows:
        return 0, []
    dialect = session.get_bind().dialect.name
    placeholder = "%s" if dialect == "postgresql" else "?"
    sql = (
        f"INSERT INTO {OBS.name} ({', '.join(_OBS_KEYS)}) "
        f"VALUES ({', '.join([placeholder] * len(_OBS_KEYS))})"
    )
    if skip_duplicates:
        sql += " ON CONFLICT (dedup_key) DO NOTHING"
    params = _driver_rows(dialect, rows)
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    cursor: Any = dbapi.cursor()
    try:
        if dialect == "postgresql" and want_ids:
            cursor.executemany(sql + " RETURNING id", params, returning=True)
            ids: list[int] = []
            while True:
                row = cursor.fetchone()
                if row is not None:
                    ids.append(int(row[0]))
                if not cursor.nextset():
                    break
            return len(ids), ids
        cursor.executemany(sql, params)
        count = len(rows) if cursor.rowcount is None or cursor.rowcount < 0 else cursor.rowcount
    finally:
        cursor.close()
    if not want_ids:
        return count, []
    if skip_duplicates:
        raise AssertionError("ids of a de-duplicating insert are not known")
    last = int(session.scalar(select(func.max(OBS.c.id))) or 0)
    return count, list(range(last - len(rows) + 1, last + 1))


def insert_observations_bulk(
    session: Session,
    datastream_id: int,
    rows: Iterable[Mapping[str, Any]],
    *,
    principal: Principal | None = None,
) -> int:
    """The fast path for importers and MQTT: one executemany, no ORM objects.

    ``rows`` use the keys of :func:`observation_values`. Rows whose ``dedup_key`` is already
    stored are skipped. Returns how many rows were inserted. Subscribers are notified of each
    inserted Observation (only when someone subscribed).
    """
    ensure_can_write(principal)
    _ensure_exists(session, ENTITY_SETS["Datastreams"], datastream_id)
    default_feature: int | None = None
    values: list[dict[str, Any]] = []
    for item in rows:
        if (
            default_feature is None
            and item.get("feature_of_interest_id") is None
            and not (isinstance(item.get("FeatureOfInterest"), dict))
        ):
            default_feature = feature_for_datastream(session, datastream_id)
        values.append(observation_values(datastream_id, item, default_feature))
    notify = events.has_subscribers()
    dialect = session.get_bind().dialect.name
    count, ids = _insert_rows(
        session, values, skip_duplicates=True, want_ids=notify and dialect != "sqlite"
    )
    if notify and dialect == "sqlite":
        # This transaction holds the write lock: the newest rows of the datastream are ours.
        ids = list(
            session.scalars(
                select(OBS.c.id)
                .where(OBS.c.datastream_id == datastream_id)
                .order_by(OBS.c.id.desc())
                .limit(count)
            )
        )[::-1]
    _observations_added(session, datastream_id, values)
    _queue_observations(session, ids)
    return count


def _queue_observations(session: Session, ids: list[int]) -> None:
    es = ENTITY_SETS["Observations"]
    for obs_id in ids:
        _queue(session, es, obs_id)


def create_observations(
    session: Session,
    payload_list: Any,
    *,
    base_url: str,
    principal: Principal | None = None,
) -> list[str]:
    """``CreateObservations`` with data arrays: a selfLink or ``"error: ..."`` per row."""
    ensure_can_write(principal)
    session.info["sta_base_url"] = base_url
    if not isinstance(payload_list, list):
        raise InputError("CreateObservations expects a JSON array of data arrays.")
    answers: list[str] = []
    for number, block in enumerate(payload_list):
        if not isinstance(block, dict):
            raise InputError(f"CreateObservations item {number} must be a JSON object.")
        datastream = block.get("Datastream")
        if not isinstance(datastream, dict) or "@iot.id" not in datastream:
            raise InputError(
                f'CreateObservations item {number} needs "Datastream": {{"@iot.id": ...}}.'
            )
        try:
            datastream_id = int(datastream["@iot.id"])
        except (TypeError, ValueError):
            raise InputError(f"CreateObservations item {number}: bad Datastream id.") from None
        _ensure_exists(session, ENTITY_SETS["Datastreams"], datastream_id)
        components = block.get("components")
        rows = block.get("dataArray")
        if not isinstance(components, list) or not isinstance(rows, list):
            raise InputError(
                f"CreateObservations item {number} needs 'components' and 'dataArray' lists."
            )
        known = {
            "id",
            "phenomenonTime",
            "resultTime",
            "result",
            "resultQuality",
            "validTime",
            "parameters",
            "FeatureOfInterest/id",
        }
        unknown = [c for c in components if c not in known]
        if unknown or "result" not in components:
            raise InputError(
                f"CreateObservations item {number}: components must include result and may "
                f"use {', '.join(sorted(known))}; unknown: {', '.join(map(str, unknown))}."
            )
        feature_at = (
            components.index("FeatureOfInterest/id")
            if "FeatureOfInterest/id" in components
            else None
        )
        default_feature: int | None = None
        values: list[dict[str, Any]] = []
        slots: list[int] = []
        for row in rows:
            answers.append("")
            try:
                if not isinstance(row, list) or len(row) != len(components):
                    raise InputError(f"needs {len(components)} values")
                item = dict(zip(components, row, strict=True))
                if item.get("id") is not None:
                    raise InputError("the server chooses Observation ids; send id as null")
                if feature_at is not None:
                    item["feature_of_interest_id"] = row[feature_at]
                elif default_feature is None:
                    default_feature = feature_for_datastream(session, datastream_id)
                values.append(observation_values(datastream_id, item, default_feature))
                slots.append(len(answers) - 1)
            except (DatenschatzError, TypeError, ValueError) as exc:
                message = exc.message if isinstance(exc, DatenschatzError) else str(exc)
                answers[-1] = f"error: {message}"
        if feature_at is not None:
            wanted = {v["feature_of_interest_id"] for v in values}
            found = set(session.scalars(select(FOI.c.id).where(FOI.c.id.in_(wanted))))
            kept: list[dict[str, Any]] = []
            kept_slots: list[int] = []
            for slot, value in zip(slots, values, strict=True):
                if value["feature_of_interest_id"] in found:
                    kept.append(value)
                    kept_slots.append(slot)
                else:
                    answers[slot] = "error: no such FeatureOfInterest"
            values, slots = kept, kept_slots
        _count, ids = _insert_rows(session, values, skip_duplicates=False, want_ids=True)
        for slot, obs_id in zip(slots, ids, strict=True):
            answers[slot] = f"{base_url}/Observations({obs_id})"
        _observations_added(session, datastream_id, values)
        _queue_observations(session, ids)
    return answers


# --- updating --------------------------------------------------------------------------------


def update_entity(
    session: Session,
    entity_set_name: str,
    entity_id: int,
    payload: Any,
    *,
    base_url: str,
    principal: Principal | None = None,
    replace: bool = False,
) -> dict[str, Any]:
    """PATCH (merge, default) or PUT (``replace``: missing properties get their defaults).

    To-one relations change with ``{"Nav": {"@iot.id": n}}``; a Thing's Locations are
    replaced by a list of them (and a HistoricalLocation is recorded).
    """
    ensure_can_write(principal)
    session.info["sta_base_url"] = base_url
    es = entity_set(entity_set_name)
    _ensure_exists(session, es, entity_id)
    if not isinstance(payload, dict):
        raise InputError(f"A {es.singular} update must be a JSON object.")
    _check_keys(es, payload)
    if es.name == "Observations" and replace and "phenomenonTime" not in payload:
        payload = {**payload, "phenomenonTime": datetime.now(UTC).isoformat()}
    values = _values_from(es, payload, complete=replace)
    now = datetime.now(UTC)
    for nav in es.navs.values():
        if nav.name not in payload:
            continue
        target = ENTITY_SETS[nav.target]
        item = payload[nav.name]
        if nav.fk is not None:
            ref = _ref_id(item, target)
            if ref is None:
                raise InputError(f"Change {es.singular}.{nav.name} with an @iot.id.")
            _ensure_exists(session, target, ref)
            values[nav.fk] = ref
        elif nav.link is not None and isinstance(item, list):
            refs = [_ref_id(i, target) for i in item]
            if any(r is None for r in refs):
                raise InputError(f"Change {es.singular}.{nav.name} with a list of @iot.id.")
            ids = [int(r) for r in refs if r is not None]
            for i in ids:
                _ensure_exists(session, target, i)
            session.execute(delete(nav.link).where(nav.link.c[nav.link_here] == entity_id))
            link_entities(session, es, nav, entity_id, ids, now)
        else:
            raise InputError(f"{es.singular}.{nav.name} cannot be changed by an update.")
    if values:
        session.execute(update(es.table).where(es.table.c.id == entity_id).values(**values))
    row = load_row(session, es, entity_id)
    assert row is not None
    if es.name == "Observations":
        _observations_added(session, row.datastream_id, [row._asdict()])
    _queue(session, es, entity_id)
    return entity_json(es, row, base_url)


def patch_entity_json(
    session: Session,
    entity_set_name: str,
    entity_id: int,
    operations: Any,
    *,
    base_url: str,
    principal: Principal | None = None,
) -> dict[str, Any]:
    """Apply an RFC 6902 JSON Patch to the entity's properties."""
    ensure_can_write(principal)
    es = entity_set(entity_set_name)
    row = load_row(session, es, entity_id)
    if row is None:
        raise NotFound(f"No {es.singular} with @iot.id {entity_id}.", entity=es.name, id=entity_id)
    current = {
        k: v
        for k, v in entity_json(es, row, base_url).items()
        if k in es.props and not es.props[k].read_only
    }
    patched = apply_patch(current, operations)
    changed = {k: v for k, v in patched.items() if current.get(k, object()) != v}
    for name in current:
        if name not in patched:
            changed[name] = None
    return update_entity(
        session, es.name, entity_id, changed, base_url=base_url, principal=principal
    )


def assign_dataset(
    session: Session,
    datastream_id: int,
    slug: str | None,
    *,
    principal: Principal | None = None,
) -> None:
    """Tie a Datastream (and its Observations) to a dataset, whose visibility reads follow.

    ``slug=None`` makes it public sensor data again. Needs sensor write access and, for a
    dataset, the right to edit that dataset.
    """
    ensure_can_write(principal)
    _ensure_exists(session, ENTITY_SETS["Datastreams"], datastream_id)
    dataset_id = None
    if slug is not None:
        if principal is None:
            dataset_id = session.scalar(select(Dataset.id).where(Dataset.slug == slug))
            if dataset_id is None:
                raise NotFound("No such dataset.", dataset=slug)
        else:
            dataset_id = ensure_can_edit(session, principal, slug).id
    session.execute(update(DS).where(DS.c.id == datastream_id).values(dataset_id=dataset_id))


# --- deleting --------------------------------------------------------------------------------


def delete_entity(
    session: Session,
    entity_set_name: str,
    entity_id: int,
    *,
    principal: Principal | None = None,
) -> None:
    """Delete with the standard's cascades.

    Thing: its Datastreams (and their Observations) and HistoricalLocations. Location: the
    HistoricalLocations left without a Location. Datastream, FeatureOfInterest: their
    Observations. Sensor, ObservedProperty: their Datastreams.
    """
    ensure_can_write(principal)
    es = entity_set(entity_set_name)
    _ensure_exists(session, es, entity_id)
    orphans: list[int] = []
    if es.name == "Locations":
        hl_ids = list(
            session.scalars(
                select(historical_location_location.c.historical_location_id).where(
                    historical_location_location.c.location_id == entity_id
                )
            )
        )
        for hl_id in hl_ids:
            others = session.scalar(
                select(func.count()).where(
                    historical_location_location.c.historical_location_id == hl_id,
                    historical_location_location.c.location_id != entity_id,
                )
            )
            if not others:
                orphans.append(hl_id)
    datastream_id = None
    if es.name == "Observations":
        datastream_id = session.scalar(select(OBS.c.datastream_id).where(OBS.c.id == entity_id))
    session.execute(delete(es.table).where(es.table.c.id == entity_id))
    if orphans:
        session.execute(delete(HL).where(HL.c.id.in_(orphans)))
    if datastream_id is not None:
        _recompute_times(session, int(datastream_id))


def _recompute_times(session: Session, datastream_id: int) -> None:
    first, last = session.execute(
        select(func.min(OBS.c.phenomenon_time_start), func.max(OBS.c.phenomenon_time_start)).where(
            OBS.c.datastream_id == datastream_id
        )
    ).one()
    session.execute(
        update(DS)
        .where(DS.c.id == datastream_id)
        .values(phenomenon_time_start=first, phenomenon_time_end=last)
    )


__all__ = [
    "assign_dataset",
    "create_entity",
    "create_observations",
    "delete_entity",
    "feature_for_datastream",
    "insert_observations_bulk",
    "observation_result",
    "observation_values",
    "patch_entity_json",
    "update_entity",
]
