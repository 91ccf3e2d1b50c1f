"""Reading a CSV export the way every importer needs it: the file must exist, the header is trimmed (a BOM from
Excel is dropped), and each row keeps its line number in the file so errors can name it; the problems found in a
file are raised together as one error naming each line and column."""

from __future__ import annotations

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
    """Read a whole CSV file through the vendor-file reader (`ingest.readers.read_table`: encodings, delimiters,
    bad bytes, oversized cells and ragged rows are a ValidationFailed naming file, line and column, never a
    traceback), as rows of column → value."""
    from smarketing.ingest.readers import read_table

    table = read_table(path)
    header = table.header
    rows = [(line, dict(zip(header, cells, strict=False))) for line, cells in table.rows]
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
