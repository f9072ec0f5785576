"""Re-run stale recipes on a schedule, beside the server (``DATENSCHATZ_RECIPE_SCHEDULE_MINUTES``).

One daemon thread wakes every interval and runs :func:`~datenschatz.analysis.recipes.run_stale`
as the system actor ``scheduler``. Stopping sets an event the thread waits on, so the server
shuts down without waiting for the next interval (a run in progress finishes first).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from datenschatz.access.policy import system_admin
from datenschatz.hub import Hub

log = logging.getLogger(__name__)

SCHEDULER = system_admin("scheduler")


class StaleRecipeScheduler:
    def __init__(self, hub: Hub, minutes: float) -> None:
        self.hub = hub
        self.interval = minutes * 60.0
        self.stopped = threading.Event()
        self.runs = 0  # completed rounds, for tests and logs
        self._thread = threading.Thread(target=self._loop, name="recipes", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self._thread.join()

    def run_once(self) -> int:
        """Re-run the stale recipes now; returns how many wrote a new version."""
        from datenschatz.analysis.recipes import run_stale

        done = run_stale(self.hub, SCHEDULER)
        self.runs += 1
        if done:
            log.info("scheduler re-ran %d stale recipe(s)", len(done))
        return len(done)

    def _loop(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # a failing round must not end the schedule
                log.exception("scheduled recipe run failed")


@contextmanager
def running_scheduler(hub: Hub) -> Iterator[StaleRecipeScheduler | None]:
    """The scheduler while the block runs, when the setting switches it on."""
    minutes = hub.settings.recipe_schedule_minutes
    if minutes <= 0:
        yield None
        return
    scheduler = StaleRecipeScheduler(hub, minutes)
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.stop()
