"""Writing the CSV files the importer tests read."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path


def csv_write(path: Path, rows: Sequence[Mapping[str, object]], header: Sequence[str]) -> Path:
    """Write rows under a header (cells of other columns are dropped) as UTF-8; returns the path."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(header), extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path
