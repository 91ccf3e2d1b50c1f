"""Pure comparison of two playbooks' content: which terms changed, named by path (no ORM).

Lists of records that carry an identity (`key` for stages and reasons, `id` for rules) are matched by it, so a
reordered or inserted rule reads as what it is rather than as every later rule changing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

IDENTITIES = ("key", "id")


@dataclass(frozen=True)
class Change:
    path: str
    kind: Literal["added", "removed", "changed"]
    before: Any = None
    after: Any = None

    def describe(self) -> str:
        if self.kind == "added":
            return f"+ {self.path}: {_short(self.after)}"
        if self.kind == "removed":
            return f"- {self.path}: {_short(self.before)}"
        return f"~ {self.path}: {_short(self.before)} → {_short(self.after)}"


def content_changes(old: Any, new: Any, path: str = "") -> list[Change]:
    """Every difference between two playbook contents, in document order."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[Change] = []
        for key in [*old.keys(), *(k for k in new if k not in old)]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append(Change(sub, "removed", before=old[key]))
            elif key not in old:
                out.append(Change(sub, "added", after=new[key]))
            else:
                out.extend(content_changes(old[key], new[key], sub))
        return out
    if isinstance(old, list) and isinstance(new, list):
        ident = _identity(old, new)
        if ident is not None:
            return _keyed_changes(old, new, ident, path)
        out = []
        for i in range(max(len(old), len(new))):
            sub = f"{path}.{i}"
            if i >= len(new):
                out.append(Change(sub, "removed", before=old[i]))
            elif i >= len(old):
                out.append(Change(sub, "added", after=new[i]))
            else:
                out.extend(content_changes(old[i], new[i], sub))
        return out
    if old != new:
        return [Change(path or "(root)", "changed", before=old, after=new)]
    return []


def _identity(old: list[Any], new: list[Any]) -> str | None:
    items = [*old, *new]
    if not items or not all(isinstance(x, dict) for x in items):
        return None
    for ident in IDENTITIES:
        if all(ident in x for x in items):
            values_old = [x[ident] for x in old]
            values_new = [x[ident] for x in new]
            if len(set(values_old)) == len(values_old) and len(set(values_new)) == len(values_new):
                return ident
    return None


def _keyed_changes(old: list[dict[str, Any]], new: list[dict[str, Any]], ident: str, path: str) -> list[Change]:
    before = {x[ident]: x for x in old}
    after = {x[ident]: x for x in new}
    out: list[Change] = []
    for key in [*before, *(k for k in after if k not in before)]:
        sub = f"{path}[{key}]"
        if key not in after:
            out.append(Change(sub, "removed", before=before[key]))
        elif key not in before:
            out.append(Change(sub, "added", after=after[key]))
        else:
            out.extend(content_changes(before[key], after[key], sub))
    if [k for k in before if k in after] != [k for k in after if k in before]:
        out.append(Change(f"{path} (order)", "changed", before=[x[ident] for x in old], after=[x[ident] for x in new]))
    return out


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"
