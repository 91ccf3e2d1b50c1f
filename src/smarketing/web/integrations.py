"""Left for the feedback page's one remaining lookup (`insight_transition`); pages import the owning apps' code
directly. A missing module or name raises, so a broken import fails loudly instead of emptying a panel."""

from __future__ import annotations

from importlib import import_module
from typing import Any


def optional(module: str, name: str) -> Any:
    """`module.name`, imported now (ImportError / AttributeError when it is not there)."""
    return getattr(import_module(module), name)
