"""Opening the data dir from the window (ui/app.py): on a thread of its own, with a notice when
it takes long (the first open after the issue 15 upgrade seals and digests every record)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from desktop_app.errors import UserError
from desktop_app.services.app import AppServices
from desktop_app.ui import app as window_app


def test_a_slow_open_says_what_it_is_doing_and_the_program_keeps_answering(
    qtbot: QtBot, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = window_app.open_services

    def slow_open(folder: Path, **kwargs: Any) -> AppServices:
        time.sleep(1.5)  # as the first open after the upgrade, at a large site
        return real_open(folder, **kwargs)

    monkeypatch.setattr(window_app, "open_services", slow_open)
    seen: list[str] = []
    ticks: list[float] = []

    def look() -> None:
        seen.extend(
            w.text()
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QLabel) and w.isVisible()
        )

    QTimer.singleShot(1000, look)
    ticker = QTimer()
    ticker.timeout.connect(lambda: ticks.append(time.monotonic()))
    ticker.start(100)
    services = window_app.open_showing_progress(data_dir)
    ticker.stop()
    try:
        assert any("正在打开数据库" in text for text in seen)
        assert len(ticks) >= 10  # the event loop ran all along
        assert not any(
            isinstance(w, QLabel) and w.isVisible() for w in QApplication.topLevelWidgets()
        )
        assert services.site.is_initialised() is False
    finally:
        services.close()


def test_a_refusal_while_opening_reaches_the_caller(
    qtbot: QtBot, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(_folder: Path, **_kwargs: Any) -> AppServices:
        raise UserError("数据库版本比本程序更新")

    monkeypatch.setattr(window_app, "open_services", refused)
    with pytest.raises(UserError, match="更新"):
        window_app.open_showing_progress(data_dir)


def test_the_window_over_an_emptied_database_says_so_and_sets_up_no_new_site(
    qtbot: QtBot, services: AppServices, message_boxes: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 0-byte bbcs.db beside the site's keys opened the first-start setup, which made a new
    site over the old one's keys, backups and anchor."""
    data_dir = services.layout.root
    services.close()
    (data_dir / "bbcs.db").write_bytes(b"")
    for leftover in ("bbcs.db-wal", "bbcs.db-shm"):
        (data_dir / leftover).unlink(missing_ok=True)
    set_up: list[object] = []
    monkeypatch.setattr(window_app.SetupDialog, "exec", lambda dialog: set_up.append(dialog))
    message_boxes.allow("critical")

    assert window_app.run_gui(data_dir) == 2

    assert set_up == []
    assert "有站点的签名密钥，数据库里却没有站点数据" in message_boxes.texts("critical")[0]


def test_a_data_dir_named_but_not_there_is_asked_about_and_made_only_if_wanted(
    qtbot: QtBot, tmp_path: Path, message_boxes: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Walks: `bbcs --data-dir` with a typo opened the first-start setup over a new empty site
    (its database, keys and anchor made, and left after 取消); on a disaster day, a second site
    with the same code."""
    from PySide6.QtWidgets import QMessageBox

    typo = tmp_path / "countyy"
    message_boxes.answer(QMessageBox.StandardButton.No)
    assert window_app.run_gui(typo, chosen=True) == 2
    assert not typo.exists()
    assert "不存在" in message_boxes.texts("question")[0]

    set_up: list[object] = []
    monkeypatch.setattr(window_app.SetupDialog, "exec", lambda dialog: set_up.append(dialog))
    message_boxes.answer(QMessageBox.StandardButton.Yes)
    assert window_app.run_gui(typo, chosen=True) == 0  # a new site wanted, then 取消
    assert len(set_up) == 1 and not typo.exists()  # nothing left behind
