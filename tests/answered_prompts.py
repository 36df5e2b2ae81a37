"""Prompts with canned answers for window tests (the app's `Prompts` asks the user)."""

from __future__ import annotations

from typing import Any


class AnsweredPrompts:
    """Answers trust, shape and restore questions as told; records what was asked."""

    def __init__(self, *, trust: bool = False, shape: str | None = None, restore: bool = True) -> None:
        self.trust = trust
        self.shape = shape
        self.restore = restore
        self.asked: list[tuple[str, Any]] = []
        self.whys: list[str] = []  # the context each trust question gave ("" when none)
        self.notices: list[str] = []  # one-time notices shown (e.g. opening a .py factory)

    def confirm_trust(self, source: str, why: str = "") -> bool:
        self.asked.append(("trust", source))
        self.whys.append(why)
        return self.trust

    def notice(self, title: str, message: str) -> None:
        self.notices.append(message)

    def ask_shape(self, name: str | None, message: str, missing: dict[str, Any] | None = None) -> str | None:
        self.asked.append(("shape", name))
        return self.shape

    def ask_restore(self, when: str) -> bool:
        self.asked.append(("restore", when))
        return self.restore

    def error(self, title: str, message: str) -> None:
        self.asked.append(("error", message))

    def errors(self) -> list[str]:
        return [m for kind, m in self.asked if kind == "error"]
