"""Which system and file kind a file is, from its header alone (pure over the mappings)."""

from __future__ import annotations

from dataclasses import dataclass

from smarketing.core.errors import ValidationFailed
from smarketing.ingest.mapping import Mapping


@dataclass(frozen=True)
class DetectedFile:
    name: str
    system: str
    kind: str
    mapping: str  # the mapping's system name, or the mapping file's name

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "system": self.system, "kind": self.kind, "mapping": self.mapping}


def kind_detect(header: list[str], *, name: str, mappings: list[Mapping]) -> tuple[Mapping, str]:
    """The mapping and kind whose detection headers are all in this header (the most specific when several);
    a file none recognises is refused with the headers each kind expects."""

    def present(column: str) -> bool:
        return column in header or any(h.split(": ", 1)[-1] == column for h in header)

    fits = [(len(kind.detect), m, kind_name) for m in mappings for kind_name, kind in m.kinds.items()
            if all(present(c) for c in kind.detect)]
    if not fits:
        expected = "; ".join(f"{m.system} {k}: {', '.join(kind.detect)}" for m in mappings
                             for k, kind in m.kinds.items())
        raise ValidationFailed(f"{name}: the header is not one of a known export (line 1). Expected the headers of "
                               f"one of — {expected}", field="header", record=name)
    fits.sort(key=lambda f: -f[0])
    best = [f for f in fits if f[0] == fits[0][0]]
    if len(best) > 1:
        which = ", ".join(f"{m.system} {k}" for _, m, k in best)
        raise ValidationFailed(f"{name}: the header fits several kinds ({which}); name the system "
                               "(smarketing import <system>) or give a mapping", field="header", record=name)
    _, mapping, kind = best[0]
    return mapping, kind
