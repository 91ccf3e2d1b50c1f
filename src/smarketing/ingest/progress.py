"""A running import's progress, readable while it writes.

The import writes in one transaction, so a progress row updated inside it stays invisible to the page and the API
until the commit (and on SQLite a second connection cannot write beside it). The progress is therefore published
to a small file per run in the data folder, replaced atomically, read by `import_run_get` while the run is
running and removed when it finishes (the run's own `progress` field keeps the last step).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from django.conf import settings

MIN_INTERVAL = 0.25  # seconds between two writes of one run's progress (the last step of a kind is always written)


def _path(run_id: int) -> Path:
    return Path(settings.DATA_DIR) / "import-progress" / f"{run_id}.json"


class ProgressFile:
    """The publisher of one run's progress: `publish(step, done, total)` at most every MIN_INTERVAL seconds."""

    def __init__(self, run_id: int) -> None:
        self.path = _path(run_id)
        self._last = 0.0

    def publish(self, progress: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - self._last < MIN_INTERVAL and progress.get("done") != progress.get("total"):
            return
        self._last = now
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(progress), encoding="utf-8")
        os.replace(tmp, self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def progress_read(*, run_id: int) -> dict[str, Any] | None:
    """The progress a running import last published, or None when it published none."""
    try:
        data = json.loads(_path(run_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def progress_files() -> list[tuple[int, Path]]:
    """Every published progress file, by run id (for the clean-up of runs no longer running)."""
    folder = _path(0).parent
    if not folder.is_dir():
        return []
    return [(int(p.stem), p) for p in folder.glob("*.json") if p.stem.isdigit()]
