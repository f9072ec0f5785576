"""In-process notifications of created and changed SensorThings entities.

The MQTT bridge subscribes here and publishes each notification to the broker. Topic paths
are given without the version prefix, e.g. ``Datastreams(1)/Observations`` and
``Observations``; the bridge prefixes ``v1.1/``. Service functions call :func:`notify` after
their transaction committed, so a subscriber never sees an entity that was rolled back.
A failing subscriber is logged and does not affect the others or the caller.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)

Callback = Callable[[Sequence[str], dict[str, Any]], None]

_subscribers: list[Callback] = []
_lock = threading.Lock()


def subscribe(callback: Callback) -> Callable[[], None]:
    """Call ``callback(topic_paths, entity_json)`` on every notification; returns an unsubscribe."""
    with _lock:
        _subscribers.append(callback)

    def unsubscribe() -> None:
        with _lock:
            if callback in _subscribers:
                _subscribers.remove(callback)

    return unsubscribe


def notify(topic_paths: Sequence[str], entity_json: dict[str, Any]) -> None:
    """Hand one entity to every subscriber, with the topics it belongs to."""
    with _lock:
        subscribers = list(_subscribers)
    for callback in subscribers:
        try:
            callback(topic_paths, entity_json)
        except Exception:
            log.exception("a SensorThings event subscriber failed")


def has_subscribers() -> bool:
    """Whether anyone listens (services skip building notifications otherwise)."""
    return bool(_subscribers)
