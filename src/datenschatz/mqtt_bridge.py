"""The MQTT bridge: SensorThings 1.1 MQTT extension over an external broker (Mosquitto).

An interface layer like the HTTP API: it translates MQTT into calls of the SensorThings
service and service events back into MQTT.

- **Create**: a sensor publishes an Observation (JSON) to ``v1.1/Datastreams(id)/Observations``,
  ``v1.1/FeaturesOfInterest(id)/Observations`` (with a ``Datastream``) or ``v1.1/Observations``
  (with a ``Datastream``). The bridge subscribes with QoS 1 on a persistent session
  (``clean_start=False`` and a session expiry), so the broker keeps messages while the bridge is
  away. It acknowledges a message only after the transaction holding the observation has
  committed (paho's manual acknowledgement): a crash before that makes the broker deliver it
  again. Repeated deliveries (the broker's retries, a publisher that sends again after its own
  reconnect) are dropped by a unique ``dedup_key``: the MQTT v5 user property ``message-id``
  when the publisher sets one, else datastream + phenomenonTime + result.
- **Receive updates**: every entity the service creates or changes (from HTTP, from MQTT, from
  an importer, in this process) arrives through :mod:`datenschatz.sensors.events` and is
  published, QoS 1, to each topic the standard names for it (``v1.1/Datastreams(1)/Observations``,
  ``v1.1/Observations``, ``v1.1/Observations(7)``, ``v1.1/Things(1)``, ...). Those messages
  carry the user property ``sta-event`` and the bridge's own subscription uses *no local*, so
  the bridge never reads its own notifications back as new observations.
- **Connection**: paho-mqtt 2.x, MQTT v5, reconnect with exponential backoff (1 s up to 30 s),
  for the connection made at start too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy.exc import DataError, IntegrityError

from datenschatz.errors import ConfigError, DatenschatzError, InputError, NotFound
from datenschatz.hub import Hub

log = logging.getLogger(__name__)

PREFIX = "v1.1/"
# What the bridge subscribes to for creating: a `+` level cannot match "Datastreams(1)" partly,
# so the navigation topics are taken with a wildcard and checked with CREATE_TOPIC.
SUBSCRIPTIONS = ("v1.1/Observations", "v1.1/+/Observations")
CREATE_TOPIC = re.compile(
    r"^v1\.1/(?:(?P<set>Datastreams|FeaturesOfInterest)\((?P<id>\d+)\)/)?Observations$"
)
EVENT_PROPERTY = "sta-event"
MESSAGE_ID_PROPERTY = "message-id"
SESSION_EXPIRY_SECONDS = 7 * 24 * 3600
RECEIVE_MAXIMUM = 2000  # unacknowledged QoS 1 messages the broker may send us at once
BATCH_SIZE = 1000
BATCH_SECONDS = 0.02
RECONNECT_MIN_SECONDS = 1
RECONNECT_MAX_SECONDS = 30


@dataclass(frozen=True)
class BrokerAddress:
    """Where the broker is: from ``mqtt://[user[:password]@]host[:port]`` (``mqtts://`` for TLS)."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        parts = urlsplit(url)
        if parts.scheme not in {"mqtt", "mqtts", "tcp", "ssl"} or not parts.hostname:
            raise ConfigError(
                "DATENSCHATZ_MQTT_URL: must look like mqtt://host:1883 or mqtts://host:8883."
            )
        tls = parts.scheme in {"mqtts", "ssl"}
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError:
            raise ConfigError("DATENSCHATZ_MQTT_URL: the port is not a number.") from None
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )


def subscriptions(shared_group: str | None = None) -> list[tuple[str, SubscribeOptions]]:
    """The create topics, QoS 1. Alone, with *no local* (our own notifications stay away);
    in a shared group (``$share/<group>/...``, where *no local* is not allowed) the
    notifications are told apart by their ``sta-event`` user property instead."""
    if shared_group:
        options = SubscribeOptions(qos=1, noLocal=False)
        return [(f"$share/{shared_group}/{topic}", options) for topic in SUBSCRIPTIONS]
    return [(topic, SubscribeOptions(qos=1, noLocal=True)) for topic in SUBSCRIPTIONS]


# --- parsing what sensors publish -------------------------------------------------------


@dataclass
class Incoming:
    """One received MQTT message, kept until its observation is stored and acknowledged."""

    mid: int
    qos: int
    topic: str
    payload: bytes
    message_id: str | None = None
    notification: bool = False  # published by a bridge: acknowledged in turn, not stored


@dataclass
class ParsedObservation:
    """An Observation payload, checked, with the datastream it goes to and its dedup key."""

    datastream_id: int
    payload: dict[str, Any]
    dedup_key: str
    feature_of_interest_id: int | None = None


def parse_message(message: Incoming) -> ParsedObservation:
    """Check a create message; InputError names what is wrong (never echoing the payload)."""
    match = CREATE_TOPIC.match(message.topic)
    if match is None:
        raise InputError("Not a topic for creating observations.", parameter="topic")
    try:
        payload = json.loads(message.payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError("The message is not JSON.", parameter="payload") from None
    if not isinstance(payload, dict):
        raise InputError("The message must be one Observation object.", parameter="payload")
    if "result" not in payload:
        raise InputError("The Observation has no result.", parameter="result")
    foi_id: int | None = None
    datastream_id: int | None = None
    if match["set"] == "Datastreams":
        datastream_id = int(match["id"])
    else:
        if match["set"] == "FeaturesOfInterest":
            foi_id = int(match["id"])
        datastream_id = _linked_id(payload.get("Datastream"), "Datastream")
    payload.pop("Datastream", None)
    if foi_id is not None:
        payload["FeatureOfInterest"] = {"@iot.id": foi_id}
    if "phenomenonTime" not in payload:
        # The standard lets the server fill in the time of arrival; dedup then needs a
        # message id (a replay would otherwise arrive at another time).
        payload["phenomenonTime"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    key = dedup_key(datastream_id, payload["phenomenonTime"], payload["result"], message.message_id)
    return ParsedObservation(datastream_id, payload, key, foi_id)


def _linked_id(value: Any, name: str) -> int:
    if isinstance(value, dict):
        ident = value.get("@iot.id")
        if isinstance(ident, int) and not isinstance(ident, bool):
            return ident
        if isinstance(ident, str) and ident.isdigit():
            return int(ident)
    raise InputError(
        f'A message on v1.1/Observations must link its {name}: {{"{name}": {{"@iot.id": 1}}}}.',
        parameter=name,
    )


def dedup_key(
    datastream_id: int, phenomenon_time: Any, result: Any, message_id: str | None = None
) -> str:
    """The key that makes a repeated delivery a no-op (at most 300 characters)."""
    if message_id:
        digest = hashlib.sha256(message_id.encode()).hexdigest()
        return f"mqtt:{datastream_id}:m:{digest}"
    canonical = json.dumps(
        [_normal_time(phenomenon_time), result], sort_keys=True, separators=(",", ":")
    )
    return f"mqtt:{datastream_id}:" + hashlib.sha256(canonical.encode()).hexdigest()


def _normal_time(value: Any) -> Any:
    """The same instant written differently ('Z' or '+00:00', '+01:00') gives one key."""
    if not isinstance(value, str):
        return value
    parts = value.split("/")
    normal = []
    for part in parts:
        try:
            moment = datetime.fromisoformat(part.replace("Z", "+00:00"))
        except ValueError:
            return value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        normal.append(moment.astimezone(UTC).isoformat())
    return "/".join(normal)


# --- the bridge -------------------------------------------------------------------------


@dataclass
class BridgeStats:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    published: int = 0
    connects: int = 0


@dataclass
class MqttBridge:
    """Connects the SensorThings service to an MQTT broker. ``start()``, then ``stop()``."""

    hub: Hub
    url: str
    base_url: str
    client_id: str = "datenschatz-bridge"
    batch_size: int = BATCH_SIZE
    batch_seconds: float = BATCH_SECONDS
    notify: bool = True
    session_expiry: int = SESSION_EXPIRY_SECONDS  # 0: the broker forgets us on disconnect
    shared_group: str | None = None  # MQTT 5 shared subscription: bridges split the stream
    stats: BridgeStats = field(default_factory=BridgeStats)

    def __post_init__(self) -> None:
        self.address = BrokerAddress.parse(self.url)
        self._inbox: queue.Queue[Incoming] = queue.Queue()
        self._stopping = threading.Event()
        self._subscribed = threading.Event()
        self._worker: threading.Thread | None = None
        self._unsubscribe_events: Any = None
        self._client = self._make_client()

    # lifecycle

    def start(self) -> None:
        """Connect (in the background, retrying with backoff) and start storing."""
        from datenschatz.sensors import events

        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.session_expiry
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        self._client.connect_async(
            self.address.host,
            self.address.port,
            keepalive=30,
            clean_start=False,
            properties=props,
        )
        self._client.loop_start()
        self._worker = threading.Thread(target=self._work, name="mqtt-bridge-store", daemon=True)
        self._worker.start()
        if self.notify:
            self._unsubscribe_events = events.subscribe(self._publish_event)
        log.info("MQTT bridge connecting to %s:%d", self.address.host, self.address.port)

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """True once connected and subscribed (for tests and the CLI's first message)."""
        return self._subscribed.wait(timeout)

    def stop(self) -> None:
        """Store what was received, acknowledge it, disconnect."""
        if self._unsubscribe_events is not None:
            self._unsubscribe_events()
            self._unsubscribe_events = None
        self._stopping.set()
        if self._worker is not None:
            self._worker.join(timeout=30)
        self._client.disconnect()
        self._client.loop_stop()

    # paho callbacks (run on paho's network thread)

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if self.address.username:
            client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            client.tls_set()
        client.reconnect_delay_set(RECONNECT_MIN_SECONDS, RECONNECT_MAX_SECONDS)
        client.max_inflight_messages_set(RECEIVE_MAXIMUM)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        del userdata, properties
        if reason.is_failure:
            log.warning("MQTT broker refused the connection: %s", reason)
            return
        self.stats.connects += 1
        log.info("MQTT connected (session present: %s)", flags.session_present)
        client.subscribe(subscriptions(self.shared_group))

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        del client, userdata, mid, properties
        if any(r.is_failure for r in reasons):
            log.error("MQTT broker refused a subscription: %s", [str(r) for r in reasons])
            return
        self._subscribed.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        del client, userdata, flags, properties
        self._subscribed.clear()
        if not self._stopping.is_set():
            log.warning("MQTT connection lost (%s); reconnecting with backoff", reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        del client, userdata
        self.stats.received += 1
        props = getattr(msg, "properties", None)
        user = dict(getattr(props, "UserProperty", None) or [])
        # QoS 1 acknowledgements go out in the order the messages came in, so a notification
        # (published by a bridge, not a create) waits its turn in the inbox too.
        self._inbox.put(
            Incoming(
                msg.mid,
                msg.qos,
                msg.topic,
                bytes(msg.payload),
                user.get(MESSAGE_ID_PROPERTY),
                notification=EVENT_PROPERTY in user,
            )
        )

    # storing (worker thread)

    def _work(self) -> None:
        while True:
            batch = self._take_batch()
            if batch:
                self._store_until_done(batch)
                for message in batch:
                    self._client.ack(message.mid, message.qos)
            elif self._stopping.is_set():
                return

    def _take_batch(self) -> list[Incoming]:
        try:
            first = self._inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.batch_seconds
        while len(batch) < self.batch_size:
            remaining = deadline - time.monotonic()
            try:
                batch.append(self._inbox.get(timeout=max(remaining, 0)))
            except queue.Empty:
                break
        return batch

    def _store_until_done(self, batch: list[Incoming]) -> None:
        """Store a batch; a database outage is retried with backoff, never acknowledged."""
        delay = 0.5
        while True:
            try:
                self._store(batch)
                return
            except Exception:
                if self._stopping.is_set():
                    raise
                log.exception("storing %d MQTT observations failed; retrying", len(batch))
                time.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    def _store(self, batch: Sequence[Incoming]) -> None:
        """Parse, group by datastream, insert each group on the fast path."""
        from datenschatz.sensors import service

        groups: dict[int, list[dict[str, Any]]] = {}
        inline: list[ParsedObservation] = []
        for message in batch:
            if message.notification:
                continue
            try:
                parsed = parse_message(message)
            except InputError as exc:
                self.stats.rejected += 1
                log.warning("MQTT message on %s rejected: %s", message.topic, exc)
                continue
            foi = parsed.payload.get("FeatureOfInterest")
            if isinstance(foi, dict) and "@iot.id" not in foi:
                inline.append(parsed)  # a new FeatureOfInterest: the full create path
                continue
            groups.setdefault(parsed.datastream_id, []).append(
                {**parsed.payload, "dedup_key": parsed.dedup_key}
            )
        # One transaction per datastream: a bad group rolls back alone. (No savepoints: the
        # service sends notifications after a commit, and a released savepoint is none.)
        for datastream_id, rows in groups.items():
            unique = list({row["dedup_key"]: row for row in rows}.values())
            self.stats.duplicates += len(rows) - len(unique)
            self._insert_group(datastream_id, unique)
        for parsed in inline:
            link = {"@iot.id": parsed.datastream_id}
            try:
                with self.hub.session() as session:
                    service.create_entity(
                        session,
                        "Observations",
                        {**parsed.payload, "Datastream": link},
                        base_url=self.base_url,
                    )
                self.stats.stored += 1
            except (DatenschatzError, IntegrityError, DataError) as exc:
                self.stats.rejected += 1
                log.warning("MQTT observation rejected: %s", exc)

    def _insert_group(self, datastream_id: int, rows: list[dict[str, Any]]) -> None:
        """One datastream's rows; when the group fails, row by row, to drop only bad ones."""
        from datenschatz.sensors import service

        try:
            with self.hub.session() as session:
                # Notifications sent after the commit carry absolute self links.
                session.info["sta_base_url"] = self.base_url
                stored = service.insert_observations_bulk(session, datastream_id, rows)
        except (DatenschatzError, IntegrityError, DataError) as exc:
            if len(rows) == 1 or isinstance(exc, NotFound):
                self.stats.rejected += len(rows)
                log.warning(
                    "%d MQTT observation(s) for Datastream %d rejected: %s",
                    len(rows),
                    datastream_id,
                    exc,
                )
                return
            for row in rows:
                self._insert_group(datastream_id, [row])
            return
        self.stats.stored += stored
        self.stats.duplicates += len(rows) - stored

    # notifications

    def _publish_event(self, topic_paths: Sequence[str], entity: dict[str, Any]) -> None:
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.UserProperty = (EVENT_PROPERTY, "1")
        payload = json.dumps(entity, ensure_ascii=False, default=str).encode()
        for path in topic_paths:
            self._client.publish(PREFIX + path, payload, qos=1, properties=props)
            self.stats.published += 1


def bridge_for(hub: Hub, *, url: str | None = None, base_url: str | None = None) -> MqttBridge:
    """A bridge configured from the settings (``mqtt_url`` unless ``url`` is given)."""
    url = url or hub.settings.mqtt_url
    if not url:
        raise ConfigError("DATENSCHATZ_MQTT_URL: set it to the broker, e.g. mqtt://127.0.0.1:1883.")
    from datenschatz.sensors.importers.entities import base_url_from_settings

    if hub.settings.sta_base_url or not base_url:
        base_url = base_url_from_settings(hub.settings)
    return MqttBridge(
        hub,
        url,
        base_url=base_url,
        client_id=hub.settings.mqtt_client_id,
        notify=hub.settings.mqtt_notify,
        shared_group=hub.settings.mqtt_shared_group,
    )


@contextmanager
def running_bridge(hub: Hub, *, base_url: str | None = None) -> Iterator[MqttBridge | None]:
    """Run the bridge beside another interface (``datenschatz serve``) when MQTT is configured."""
    if not hub.settings.mqtt_url:
        yield None
        return
    bridge = bridge_for(hub, base_url=base_url)
    bridge.start()
    try:
        yield bridge
    finally:
        bridge.stop()
