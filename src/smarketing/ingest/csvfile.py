"""Reading a CSV export the way every importer needs it: the file must exist, the header is trimmed (a BOM from
Excel is dropped), and each row keeps its line number in the file so errors can name it; the problems found in a
file are raised together as one error naming each line and column."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from smarketing.core.errors import ValidationFailed


@dataclass(frozen=True)
class CsvFile:
    header: list[str]  # column names, trimmed
    rows: list[tuple[int, dict[str, str]]]  # (line in the file, column → raw value; missing cells are "")

    def missing(self, required: tuple[str, ...]) -> list[str]:
        """The required columns the header lacks, in the order given."""
        return [c for c in required if c not in self.header]


def read_csv(path: Path) -> CsvFile:
    """Read a whole CSV file; raises a ValidationFailed naming the path when it is not a file."""
    if not path.is_file():
        raise ValidationFailed(f"{path} is not a file", field="path", record=str(path))
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [(h or "").strip() for h in reader.fieldnames or []]
        # Cells beyond the header (DictReader's None key) belong to no column and are dropped.
        rows = [(line, {(k or "").strip(): v or "" for k, v in row.items() if k is not None})
                for line, row in enumerate(reader, start=2)]
    return CsvFile(header=header, rows=rows)


MAX_SHOWN = 10


@dataclass(frozen=True)
class Problem:
    """One problem of an imported file, at a line and column."""

    line: int
    column: str
    message: str

    def text(self) -> str:
        return f"line {self.line}, column {self.column!r}: {self.message}"


def problems_error(problems: list[Problem], path: Path) -> ValidationFailed:
    """All of a file's problems as one error (nothing was imported), naming the first one's column and line."""
    shown = [p.text() for p in problems[:MAX_SHOWN]]
    more = f"\n  … and {len(problems) - MAX_SHOWN} more" if len(problems) > MAX_SHOWN else ""
    head = problems[0]
    return ValidationFailed(
        f"{path.name}: {len(problems)} problem(s), nothing was imported:\n  " + "\n  ".join(shown) + more,
        field=head.column, record=f"{path.name}:line {head.line}",
        details=[{"field": p.column, "message": p.text()} for p in problems])
