"""A watch on the UI thread: a GUI test fails when the event loop stalls for more than 2 seconds.

A timer on the UI thread ticks every 50 ms. A watchdog thread samples the UI thread's Python stack
every 25 ms: while the UI thread is handling events (a slot of ``desktop_app.ui`` on the stack, or
pytest-qt delivering a click or waiting), the timer must keep ticking. The time a test spends in
its own code (setting up data, calling a service) is not the event loop's and is not counted.

A stall is recorded with the stack it was seen in, so the failure names the slow code. On a machine
loaded beyond its cores (several test runs at once) the limit stretches by the load per core.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from PySide6.QtCore import QTimer

STALL_LIMIT_SECONDS = 2.0
TICK_MS = 50
SAMPLE_SECONDS = 0.025

# A frame from one of these files means the UI thread is inside Qt's event handling.
_EVENT_PATHS = ("desktop_app/ui/", "desktop_app\\ui\\", "pytestqt/", "pytestqt\\")


@dataclass
class Stall:
    seconds: float
    stack: str


@dataclass
class Heartbeat:
    """Started by the ``heartbeat`` fixture of tests/conftest.py for every GUI test."""

    limit: float = STALL_LIMIT_SECONDS
    event_paths: tuple[str, ...] = _EVENT_PATHS
    stretch_with_load: bool = True
    stalls: list[Stall] = field(default_factory=list)
    longest: float = 0.0
    _last_tick: float = 0.0
    _busy_since: float | None = None
    _paused: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _timer: QTimer | None = None
    _thread: threading.Thread | None = None
    _ui_thread_id: int = 0
    # Frames sampled from the UI thread, released by the UI thread itself (see _sample).
    _sampled: list[object] = field(default_factory=list)
    _sampling: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        self._ui_thread_id = threading.get_ident()
        self._last_tick = time.monotonic()
        self._timer = QTimer()
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self._thread = threading.Thread(target=self._watch, name="heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        with self._sampling:
            self._sampled.clear()
        if self._timer is not None:
            self._timer.stop()
            self._timer.deleteLater()
            self._timer = None

    @contextmanager
    def paused(self) -> Iterator[None]:
        """For a test that deliberately blocks the UI thread (e.g. a modal dialog's exec)."""
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1
            self._last_tick = time.monotonic()
            self._busy_since = None

    def _tick(self) -> None:
        self._last_tick = time.monotonic()
        with self._sampling:
            self._sampled.clear()

    def _watch(self) -> None:
        reported_for = -1.0
        while not self._stop.wait(SAMPLE_SECONDS):
            now = time.monotonic()
            if not self._sample(stack=False)[0]:
                self._busy_since = None
                continue
            if self._busy_since is None:
                self._busy_since = now
            since = max(self._last_tick, self._busy_since)
            gap = now - since
            self.longest = max(self.longest, gap)
            limit = self.limit * (_load_factor() if self.stretch_with_load else 1.0)
            if gap > limit and since != reported_for:
                reported_for = since
                self.stalls.append(Stall(gap, self._sample(stack=True)[1]))
            elif self.stalls and since == reported_for:
                self.stalls[-1].seconds = max(self.stalls[-1].seconds, gap)

    def _sample(self, *, stack: bool) -> tuple[bool, str]:
        """Whether the UI thread is handling events, and its stack. No frame outlives this call
        in this thread: a frame that ends while this thread holds it would free its locals (Qt
        objects among them) here, off the UI thread, and crash. The UI thread drops them, and
        not while this thread still holds one (the lock)."""
        with self._sampling:
            return self._sample_held(stack)

    def _sample_held(self, stack: bool) -> tuple[bool, str]:
        frames = sys._current_frames()
        self._sampled.append(frames)
        frame = frames.get(self._ui_thread_id)
        if frame is None or self._paused or not _in_event_handling(frame, self.event_paths):
            return False, ""
        return True, "".join(traceback.format_stack(frame)[-12:]) if stack else ""

    def failure(self) -> str | None:
        if not self.stalls:
            return None
        worst = max(self.stalls, key=lambda s: s.seconds)
        return (
            f"the UI thread stalled {len(self.stalls)} time(s), the longest for at least "
            f"{worst.seconds:.1f} s (limit {self.limit:.0f} s); it was here:\n{worst.stack}"
        )


def _load_factor() -> float:
    """How much longer than on an idle machine things take now: a stall is measured in the
    seconds of a machine with a core to spare for the UI thread (2 s on CI), not of one shared
    by more busy processes than it has cores."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows
        return 1.0
    return max(1.0, load / (os.cpu_count() or 1))


def _in_event_handling(frame: object, paths: tuple[str, ...]) -> bool:
    current = frame
    while current is not None:
        filename = current.f_code.co_filename  # type: ignore[attr-defined]
        if any(part in filename for part in paths):
            return True
        current = current.f_back  # type: ignore[attr-defined]
    return False
