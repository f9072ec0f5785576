"""The MQTT bridge against a real Mosquitto: create by publishing, receive by subscribing, and
no observation lost or duplicated when the broker and the bridge restart mid-stream.

Each test starts its own broker on a free loopback port (skipped when there is no
``mosquitto`` binary; a failure under CI=true). One test also runs against the machine's broker
when ``DATENSCHATZ_TEST_MQTT_URL`` is set.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import select

from datenschatz.db.sensor_models import StaDatastream, StaObservation
from datenschatz.errors import ConfigError, InputError
from datenschatz.hub import Hub
from datenschatz.mqtt_bridge import (
    BrokerAddress,
    Incoming,
    MqttBridge,
    dedup_key,
    parse_message,
    running_bridge,
)
from datenschatz.sensors import service
from tests.conftest import IN_CI, _server_missing
from tests.sensors.mqtt_broker import Mosquitto, mosquitto_binary

BASE = "http://sta.test/sta/v1.1"
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.mqtt


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    binary = mosquitto_binary()
    if binary is None:
        _server_missing("the mosquitto binary (apt-get install mosquitto)")
        raise AssertionError("unreachable")
    server = Mosquitto(binary, tmp_path / "broker")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def make_datastream(hub: Hub, name: str = "PM10") -> int:
    """A Thing with a Location and one Datastream (µg/m³); returns the datastream id."""
    with hub.session() as session:
        thing = service.create_entity(
            session,
            "Things",
            {
                "name": f"Station {name}",
                "description": "test station",
                "Locations": [
                    {
                        "name": "Herne Mitte",
                        "description": "test location",
                        "encodingType": "application/geo+json",
                        "location": {"type": "Point", "coordinates": [7.22, 51.54]},
                    }
                ],
                "Datastreams": [
                    {
                        "name": name,
                        "description": "test datastream",
                        "observationType": (
                            "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
                        ),
                        "unitOfMeasurement": {
                            "name": "microgram per cubic metre",
                            "symbol": "µg/m³",
                            "definition": "http://unitsofmeasure.org/ucum.html#ug/m3",
                        },
                        "Sensor": {
                            "name": "SDS011",
                            "description": "dust sensor",
                            "encodingType": "text/html",
                            "metadata": "https://sensor.community",
                        },
                        "ObservedProperty": {
                            "name": name,
                            "definition": "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/5",
                            "description": "particulate matter",
                        },
                    }
                ],
            },
            base_url=BASE,
        )
        return int(
            session.scalars(
                select(StaDatastream.id).where(StaDatastream.thing_id == thing["@iot.id"])
            ).one()
        )


def stored(hub: Hub, datastream_id: int) -> list[float]:
    with hub.session() as session:
        return list(
            session.scalars(
                select(StaObservation.result_number)
                .where(StaObservation.datastream_id == datastream_id)
                .order_by(StaObservation.phenomenon_time_start)
            )
        )


def wait_for(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


class Client:
    """A paho client for publishing and subscribing in tests (MQTT v5)."""

    def __init__(self, url: str, client_id: str, *, persistent: bool = False) -> None:
        address = BrokerAddress.parse(url)
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self._subscribed = threading.Event()
        self._connected = threading.Event()
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
        )
        self.client.max_inflight_messages_set(0)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(1, 2)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.on_connect = lambda *args: self._connected.set()
        properties = None
        if persistent:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = 3600
        self.client.connect_async(
            address.host, address.port, clean_start=not persistent, properties=properties
        )
        self.client.loop_start()
        assert self._connected.wait(10), "test client could not connect"

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.messages.append((msg.topic, json.loads(msg.payload)))

    def subscribe(self, topic: str) -> None:
        self._subscribed.clear()
        self.client.subscribe(topic, qos=1)
        assert self._subscribed.wait(10)

    def publish(self, topic: str, payload: Any, message_id: str | None = None) -> None:
        properties = None
        if message_id is not None:
            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            properties.UserProperty = ("message-id", message_id)
        self.client.publish(topic, json.dumps(payload), qos=1, properties=properties)

    def notifications(self, topic: str) -> list[dict[str, Any]]:
        """Entities the bridge published on ``topic`` (they carry an @iot.id)."""
        return [m for t, m in self.messages if t == topic and "@iot.id" in m]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def clients() -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def make(url: str, client_id: str | None = None, **kwargs: Any) -> Client:
        client = Client(url, client_id or f"test-{uuid.uuid4().hex[:8]}", **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def running(hub: Hub) -> Iterator[Callable[..., MqttBridge]]:
    started: list[MqttBridge] = []

    def start(
        url: str,
        client_id: str | None = None,
        session_expiry: int = 3600,
        shared_group: str | None = None,
    ) -> MqttBridge:
        bridge = MqttBridge(
            hub,
            url,
            base_url=BASE,
            client_id=client_id or f"bridge-{uuid.uuid4().hex[:8]}",
            session_expiry=session_expiry,
            shared_group=shared_group,
        )
        bridge.start()
        assert bridge.wait_ready(15), "the bridge did not connect and subscribe"
        started.append(bridge)
        return bridge

    yield start
    for bridge in started:
        bridge.stop()


def obs(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "phenomenonTime": f"2024-05-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
        "result": float(i),
        **extra,
    }


# --- parsing, no broker --------------------------------------------------------------------


def test_parse_message_reads_the_datastream_from_the_topic() -> None:
    parsed = parse_message(
        Incoming(
            1,
            1,
            "v1.1/Datastreams(42)/Observations",
            b'{"result": 3, "phenomenonTime": "2024-05-01T10:00:00Z"}',
        )
    )
    assert parsed.datastream_id == 42
    assert parsed.payload["result"] == 3


def test_parse_message_on_observations_needs_a_datastream_link() -> None:
    ok = parse_message(
        Incoming(1, 1, "v1.1/Observations", b'{"result": 3, "Datastream": {"@iot.id": 7}}')
    )
    assert ok.datastream_id == 7
    assert "Datastream" not in ok.payload
    with pytest.raises(InputError, match="Datastream"):
        parse_message(Incoming(1, 1, "v1.1/Observations", b'{"result": 3}'))


def test_parse_message_on_a_feature_topic_links_the_feature() -> None:
    parsed = parse_message(
        Incoming(
            1,
            1,
            "v1.1/FeaturesOfInterest(5)/Observations",
            b'{"result": 1, "Datastream": {"@iot.id": 2}}',
        )
    )
    assert (parsed.datastream_id, parsed.payload["FeatureOfInterest"]) == (2, {"@iot.id": 5})


@pytest.mark.parametrize(
    ("topic", "payload", "word"),
    [
        ("v1.1/Datastreams(1)/Observations", b"not json", "JSON"),
        ("v1.1/Datastreams(1)/Observations", b"[1, 2]", "one Observation"),
        ("v1.1/Datastreams(1)/Observations", b'{"phenomenonTime": "2024-01-01"}', "result"),
        ("v1.1/Things(1)/Observations", b'{"result": 1}', "topic"),
    ],
)
def test_parse_message_rejects_bad_input_without_echoing_it(
    topic: str, payload: bytes, word: str
) -> None:
    with pytest.raises(InputError, match=word) as caught:
        parse_message(Incoming(1, 1, topic, payload))
    assert payload.decode() not in caught.value.message or len(payload) < 3


def test_dedup_key_is_the_same_for_the_same_instant_written_differently() -> None:
    a = dedup_key(1, "2024-05-01T10:00:00Z", 21.5)
    assert a == dedup_key(1, "2024-05-01T12:00:00+02:00", 21.5)
    assert a != dedup_key(1, "2024-05-01T10:00:00Z", 21.6)
    assert a != dedup_key(2, "2024-05-01T10:00:00Z", 21.5)
    assert dedup_key(1, "x", 1, "m-1") == dedup_key(1, "y", 2, "m-1")
    assert len(dedup_key(1, "2024-05-01T10:00:00Z/2024-05-01T11:00:00Z", {"a": [1] * 50})) <= 300


def test_broker_address_from_url() -> None:
    address = BrokerAddress.parse("mqtt://user:s%40cret@broker.local:1884")
    assert (address.host, address.port, address.username, address.password, address.tls) == (
        "broker.local",
        1884,
        "user",
        "s@cret",
        False,
    )
    assert BrokerAddress.parse("mqtts://broker.local").port == 8883
    with pytest.raises(ConfigError, match="DATENSCHATZ_MQTT_URL"):
        BrokerAddress.parse("http://broker.local")


# --- against a broker of our own ----------------------------------------------------------


def test_publish_creates_observations_and_subscribers_receive_them(
    hub: Hub,
    broker: Mosquitto,
    running: Callable[..., MqttBridge],
    clients: Callable[..., Client],
) -> None:
    ds = make_datastream(hub)
    bridge = running(broker.url)
    listener = clients(broker.url)
    listener.subscribe(f"v1.1/Datastreams({ds})/Observations")
    with hub.session() as session:
        thing_id = session.scalars(
            select(StaDatastream.thing_id).where(StaDatastream.id == ds)
        ).one()
    listener.subscribe(f"v1.1/Things({thing_id})")
    sensor = clients(broker.url)

    for i in range(10):
        sensor.publish(f"v1.1/Datastreams({ds})/Observations", obs(i))
    for i in range(10, 15):
        sensor.publish("v1.1/Observations", obs(i, Datastream={"@iot.id": ds}))

    assert wait_for(lambda: len(stored(hub, ds)) == 15)
    assert stored(hub, ds) == [float(i) for i in range(15)]
    topic = f"v1.1/Datastreams({ds})/Observations"
    assert wait_for(lambda: len(listener.notifications(topic)) == 15)
    received = listener.notifications(topic)
    assert sorted(m["result"] for m in received) == [float(i) for i in range(15)]
    assert all(m["@iot.selfLink"].startswith(BASE + "/Observations(") for m in received)
    assert wait_for(lambda: bridge.stats.stored == 15)

    # An update from another interface (here the service, as HTTP PATCH would) is published
    # on the entity's topic.
    with hub.session() as session:
        service.update_entity(session, "Things", thing_id, {"name": "renamed"}, base_url=BASE)
    assert wait_for(lambda: listener.notifications(f"v1.1/Things({thing_id})") != [])
    assert listener.notifications(f"v1.1/Things({thing_id})")[-1]["name"] == "renamed"
    # The bridge does not read its own notifications back as new observations.
    time.sleep(0.5)
    assert len(stored(hub, ds)) == 15


def test_repeated_deliveries_are_stored_once(
    hub: Hub,
    broker: Mosquitto,
    running: Callable[..., MqttBridge],
    clients: Callable[..., Client],
) -> None:
    ds = make_datastream(hub)
    bridge = running(broker.url)
    sensor = clients(broker.url)
    for _ in range(3):
        sensor.publish(f"v1.1/Datastreams({ds})/Observations", obs(1))
        sensor.publish(  # the same instant, written with an offset
            f"v1.1/Datastreams({ds})/Observations",
            {"phenomenonTime": "2024-05-01T02:00:01+02:00", "result": 1.0},
        )
        # No phenomenonTime (the server's clock fills it in): dedup by message id.
        sensor.publish(f"v1.1/Datastreams({ds})/Observations", {"result": 99.0}, "reading-7")
    sensor.publish(f"v1.1/Datastreams({ds})/Observations", obs(2))
    assert wait_for(lambda: bridge.stats.received >= 10)
    assert wait_for(lambda: len(stored(hub, ds)) == 3)
    time.sleep(0.5)
    assert sorted(stored(hub, ds)) == [1.0, 2.0, 99.0]
    assert bridge.stats.duplicates == 7


def test_bad_messages_are_dropped_and_do_not_block_the_stream(
    hub: Hub,
    broker: Mosquitto,
    running: Callable[..., MqttBridge],
    clients: Callable[..., Client],
) -> None:
    ds = make_datastream(hub)
    bridge = running(broker.url)
    sensor = clients(broker.url)
    sensor.client.publish(f"v1.1/Datastreams({ds})/Observations", b"{broken", qos=1)
    sensor.publish("v1.1/Datastreams(999999)/Observations", obs(1))
    sensor.publish(
        f"v1.1/Datastreams({ds})/Observations", {"phenomenonTime": "yesterday", "result": 1}
    )
    sensor.publish("v1.1/Observations", obs(2))  # no Datastream
    sensor.publish(f"v1.1/Datastreams({ds})/Observations", obs(3))
    assert wait_for(lambda: stored(hub, ds) == [3.0])
    assert wait_for(lambda: bridge.stats.rejected == 4)


def _bridge_process(hub: Hub, url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATENSCHATZ_DATA_DIR": str(hub.settings.resolved_data_dir),
        "DATENSCHATZ_DATABASE_URL": hub.settings.resolved_database_url,
        "DATENSCHATZ_MQTT_URL": url,
        "DATENSCHATZ_MQTT_CLIENT_ID": "bridge-under-test",
        "DATENSCHATZ_LOG_LEVEL": "INFO",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "datenschatz.cli", "sensors", "bridge"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )


@pytest.mark.slow
def test_broker_and_bridge_restarts_lose_and_duplicate_nothing(
    hub: Hub, broker: Mosquitto, clients: Callable[..., Client], tmp_path: Path
) -> None:
    ds = make_datastream(hub)
    log = tmp_path / "bridge.log"
    topic = f"v1.1/Datastreams({ds})/Observations"

    def count() -> int:
        return len(stored(hub, ds))

    bridge = _bridge_process(hub, broker.url, log)
    try:
        assert wait_for(lambda: b"MQTT bridge ready" in log.read_bytes(), 60), log.read_text()
        # The sensor keeps a persistent session: paho sends unacknowledged messages again
        # after its own reconnect (a replaying publisher).
        sensor = clients(broker.url, "sensor-under-test", persistent=True)
        for i in range(0, 200):
            sensor.publish(topic, obs(i))
        assert wait_for(lambda: count() >= 50, 60)

        # The bridge dies without a goodbye (SIGKILL), possibly with a batch unacknowledged.
        bridge.send_signal(signal.SIGKILL)
        bridge.wait(10)
        for i in range(200, 400):  # queued by the broker for the bridge's session
            sensor.publish(topic, obs(i))
        time.sleep(1)

        # The broker restarts (it saves and restores sessions and queued messages); the
        # sensor publishes while it is away and again after it is back.
        broker.stop()
        for i in range(400, 500):
            sensor.publish(topic, obs(i))
        time.sleep(0.5)
        broker.start()
        for i in range(500, 600):
            sensor.publish(topic, obs(i))
        # Some observations sent twice on purpose (a sensor retrying on its own).
        for i in range(0, 600, 50):
            sensor.publish(topic, obs(i))

        bridge = _bridge_process(hub, broker.url, log)
        assert wait_for(lambda: count() == 600, 90), f"{count()} of 600 stored"
        time.sleep(2)  # nothing more arrives: no duplicates after the fact
        values = stored(hub, ds)
        assert values == [float(i) for i in range(600)]
    finally:
        bridge.send_signal(signal.SIGTERM)
        try:
            bridge.wait(20)
        except subprocess.TimeoutExpired:
            bridge.kill()
            bridge.wait()


# --- against the machine's broker ----------------------------------------------------------


def test_roundtrip_on_the_machines_broker(
    hub: Hub, running: Callable[..., MqttBridge], clients: Callable[..., Client]
) -> None:
    url = os.environ.get("DATENSCHATZ_TEST_MQTT_URL")
    if not url:
        if IN_CI:
            pytest.fail("DATENSCHATZ_TEST_MQTT_URL is required under CI=true")
        pytest.skip("DATENSCHATZ_TEST_MQTT_URL not set")
    ds = make_datastream(hub, f"PM10-{uuid.uuid4().hex[:6]}")
    try:
        running(url, session_expiry=0)  # leave no session behind on the shared broker
    except (AssertionError, OSError) as exc:
        _server_missing(f"the MQTT broker at DATENSCHATZ_TEST_MQTT_URL ({exc})")
    listener = clients(url)
    topic = f"v1.1/Datastreams({ds})/Observations"
    listener.subscribe(topic)
    sensor = clients(url)
    marker = time.time()
    for i in range(5):
        sensor.publish(topic, {"phenomenonTime": f"2024-06-01T00:00:0{i}Z", "result": marker + i})
    assert wait_for(lambda: len(stored(hub, ds)) == 5)
    assert wait_for(lambda: len(listener.notifications(topic)) >= 5)


def test_serve_runs_the_bridge_only_when_mqtt_is_configured(hub: Hub, broker: Mosquitto) -> None:
    with running_bridge(hub) as nothing:
        assert nothing is None  # no DATENSCHATZ_MQTT_URL: the hub works without a broker
    settings = hub.settings.model_copy(
        update={"mqtt_url": broker.url, "mqtt_client_id": "serve-bridge", "port": 8123}
    )
    with running_bridge(Hub(settings)) as bridge:
        assert bridge is not None
        assert bridge.wait_ready(15)
        assert bridge.base_url == "http://127.0.0.1:8123/sta/v1.1"
        assert bridge.client_id == "serve-bridge"


def test_a_running_bridge_reconnects_after_the_broker_restarts(
    hub: Hub,
    broker: Mosquitto,
    running: Callable[..., MqttBridge],
    clients: Callable[..., Client],
) -> None:
    ds = make_datastream(hub)
    bridge = running(broker.url)
    sensor = clients(broker.url, "reconnecting-sensor", persistent=True)
    topic = f"v1.1/Datastreams({ds})/Observations"
    for i in range(50):
        sensor.publish(topic, obs(i))
    assert wait_for(lambda: len(stored(hub, ds)) == 50)

    broker.restart()  # the bridge loses its connection and comes back with backoff
    for i in range(50, 100):
        sensor.publish(topic, obs(i))
    assert wait_for(lambda: bridge.stats.connects >= 2, 60)
    assert wait_for(lambda: len(stored(hub, ds)) == 100, 60)
    assert stored(hub, ds) == [float(i) for i in range(100)]


def test_bridges_in_a_shared_group_split_the_stream_and_store_each_once(
    hub: Hub,
    broker: Mosquitto,
    running: Callable[..., MqttBridge],
    clients: Callable[..., Client],
) -> None:
    ds = make_datastream(hub)
    first = running(broker.url, "bridge-a", shared_group="datenschatz")
    second = running(broker.url, "bridge-b", shared_group="datenschatz")
    listener = clients(broker.url)
    topic = f"v1.1/Datastreams({ds})/Observations"
    listener.subscribe(topic)
    sensor = clients(broker.url)
    for i in range(200):
        sensor.publish(topic, obs(i))
    assert wait_for(lambda: len(stored(hub, ds)) == 200, 60)
    # (Both bridges run in this one process and so both publish each notification.)
    assert wait_for(lambda: len({m["@iot.id"] for m in listener.notifications(topic)}) == 200, 60)
    time.sleep(0.5)
    assert stored(hub, ds) == [float(i) for i in range(200)]
    # Both bridges took a share; neither stored the other's notifications as observations.
    assert first.stats.stored > 0
    assert second.stats.stored > 0
    assert first.stats.stored + second.stats.stored == 200
