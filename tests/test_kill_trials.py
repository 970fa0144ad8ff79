"""Power cut at any moment of a save (issue 15): 200 writers killed mid-intake lose nothing.

Each trial forks a child from this warm process (no second Python start-up), which opens the data
dir and registers cases in a loop, printing each number once its save returned. The parent kills
it with SIGKILL after a random delay (a fixed seed, so a failure can be replayed). After every kill
the database must pass ``quick_check``, hold every number the child printed, and number its cases
without a gap; after all trials ``bbcs check`` (integrity, audit chain, record digests) passes.
"""

from __future__ import annotations

import os
import random
import select
import signal
import sqlite3
import sys
import time
import traceback
from pathlib import Path

import pytest

from desktop_app.services.app import AppServices, open_services
from desktop_app.services.context import FixedClock
from tests.helpers.db import case_seqs
from tests.helpers.factories import USER_PASSWORD, person_form
from tests.helpers.speed import CHEAP_HASHER, fast_password_hashing  # noqa: F401

TRIALS = 200
SEED = 20261206
READY = b"ready\n"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="fork and SIGKILL are POSIX"),
]


def _writer(data_dir: Path, clock: FixedClock, out: int) -> None:
    """The child: open the data dir as the window would and save cases until killed."""
    try:
        services = open_services(data_dir, clock=clock, hasher=CHEAP_HASHER)
        clerk = services.auth.login("clerk1", USER_PASSWORD)
        os.write(out, READY)
        while True:
            number = services.intake.register(clerk, person_form()).number
            os.write(out, number.encode("utf-8") + b"\n")
    except BaseException:  # the child reports anything and leaves
        traceback.print_exc()
        sys.stderr.flush()
    os._exit(3)


def _one_trial(data_dir: Path, clock: FixedClock, delay: float) -> tuple[list[str], int]:
    """Fork a writer, kill it ``delay`` seconds after it is ready; what it printed, its status."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read_end)
        _writer(data_dir, clock, write_end)
    os.close(write_end)
    received = b""
    deadline = time.monotonic() + 30
    try:
        while READY not in received and time.monotonic() < deadline:
            ready, _, _ = select.select([read_end], [], [], 0.5)
            if ready:
                chunk = os.read(read_end, 65536)
                if not chunk:
                    break
                received += chunk
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        while chunk := os.read(read_end, 65536):
            received += chunk
    finally:
        os.close(read_end)
    lines = received.decode("utf-8").splitlines()
    assert lines and lines[0] == "ready", f"the writer did not start: {lines}"
    return lines[1:], status


def test_two_hundred_kills_mid_save_lose_nothing(
    services: AppServices, data_dir: Path, clock: FixedClock
) -> None:
    services.close()  # the children are the only writers, as in the field
    rng = random.Random(SEED)
    printed: list[str] = []
    for trial in range(TRIALS):
        numbers, status = _one_trial(data_dir, clock, rng.uniform(0.0, 0.12))
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (
            f"trial {trial}: the writer ended by itself (status {status}); see its stderr"
        )
        printed += numbers
        connection = sqlite3.connect(data_dir / "bbcs.db")
        try:
            assert connection.execute("PRAGMA quick_check").fetchone()[0] == "ok", trial
            stored = {row[0] for row in connection.execute("SELECT number FROM cases")}
        finally:
            connection.close()
        assert set(numbers) <= stored, f"trial {trial}: a printed (saved) case is gone"
    year = int(printed[0].split("-")[1])
    seqs = case_seqs(data_dir, year)
    assert seqs == list(range(1, len(seqs) + 1)), "a case number was skipped or lost"
    # At most one case per trial was committed after its number was last printed.
    assert len(printed) <= len(seqs) <= len(printed) + TRIALS
    reopened = open_services(data_dir, clock=clock, hasher=CHEAP_HASHER)
    try:
        report = reopened.maintenance.check()
    finally:
        reopened.close()
    assert report.ok, report.problems
    assert report.cases == len(seqs)
    print(f"{TRIALS} kills: {len(printed)} saves printed, {len(seqs)} stored")
