"""Plain-text number formats shared by the CLI and the admin."""

from __future__ import annotations


def percent(rate: float | None) -> str:
    """A 0–1 rate as a whole percentage, or an em dash when there is none."""
    return "—" if rate is None else f"{rate:.0%}"
