"""Going to a page of the main window as a person does: a click on its name in the side bar."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from desktop_app.ui.main_window import MainWindow


def click_page(qtbot: Any, window: MainWindow, title: str) -> None:
    """Click ``title`` (e.g. 事项台账) in the window's navigation."""
    navigation = window.navigation
    titles = [navigation.item(row).text() for row in range(navigation.count())]
    rect = navigation.visualItemRect(navigation.item(titles.index(title)))
    qtbot.mouseClick(navigation.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
