"""Static message boxes recorded instead of shown (``message_boxes`` in tests/conftest.py).

A modal ``QMessageBox.information/warning/critical/question`` would block an offscreen test
forever. The fixture replaces the four with a recorder: by default every box fails the test; a
test says which kinds it expects (:meth:`MessageBoxes.allow`) and how questions are answered
(:meth:`MessageBoxes.answer` in turn, :meth:`MessageBoxes.answer_every` always).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import pytest
from PySide6.QtWidgets import QMessageBox

Kind = Literal["information", "warning", "critical", "question"]
KINDS: tuple[Kind, ...] = ("information", "warning", "critical", "question")
Button = QMessageBox.StandardButton


@dataclass(frozen=True)
class Shown:
    """One box as the user would have seen it."""

    kind: Kind
    title: str
    text: str
    parent: object


Answer = Button | Callable[[Shown], Button]


class MessageBoxes:
    """What was shown, in order; what is expected; what the questions are answered."""

    def __init__(self) -> None:
        self.shown: list[Shown] = []
        self._allowed: set[Kind] = set()
        self._answers: list[Answer] = []
        self._every: Answer | None = None
        self.unexpected: list[Shown] = []

    def allow(self, *kinds: Kind) -> None:
        """Record boxes of these kinds (answered ``Ok``) instead of failing on them."""
        self._allowed.update(kinds)

    def answer(self, *answers: Answer) -> None:
        """Expect questions: each takes the next answer (a callable is called with the box); one
        question more than the answers fails the test."""
        self._answers.extend(answers)

    def answer_every(self, answer: Answer) -> None:
        """Answer every question (after any queued by :meth:`answer`) with ``answer``."""
        self._every = answer

    def texts(self, kind: Kind | None = None) -> list[str]:
        return [box.text for box in self.shown if kind is None or box.kind == kind]

    def titles(self, kind: Kind | None = None) -> list[str]:
        return [box.title for box in self.shown if kind is None or box.kind == kind]

    def titles_and_texts(self) -> list[tuple[str, str]]:
        return [(box.title, box.text) for box in self.shown]

    def _show(self, kind: Kind, parent: object, title: str, text: str) -> Button:
        box = Shown(kind, str(title), str(text), parent)
        if kind == "question":
            if self._answers:
                return self._reply(box, self._answers.pop(0))
            if self._every is not None:
                return self._reply(box, self._every)
        elif kind in self._allowed:
            self.shown.append(box)
            return Button.Ok
        self.unexpected.append(box)
        raise AssertionError(f"unexpected message box: {(title, text)}")

    def _reply(self, box: Shown, answer: Answer) -> Button:
        self.shown.append(box)
        return answer(box) if callable(answer) else answer

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for kind in KINDS:

            def show(
                parent: object,
                title: str,
                text: str,
                *_args: object,
                _kind: Kind = kind,
                **_kwargs: object,
            ) -> Button:
                return self._show(_kind, parent, title, text)

            monkeypatch.setattr(QMessageBox, kind, staticmethod(show))

    def check(self) -> None:
        """Fail the test for a box it did not expect, even if the code under test swallowed the
        AssertionError raised when it appeared."""
        if self.unexpected:
            pytest.fail(f"unexpected message boxes: {self.unexpected}", pytrace=False)
