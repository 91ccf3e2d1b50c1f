"""CSV cells that a spreadsheet will not run: the one helper every CSV the product writes goes through.

OWASP (CSV injection): a text cell starting with `=`, `+`, `-`, `@`, tab or carriage return is read by
Excel, LibreOffice and Google Sheets as a formula; prefixing a single quote makes it plain text. Numbers stay
numbers: only strings are neutralised, and a string that is itself a plain number (`-12.5`) is left alone.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_safe_cell(value: Any) -> Any:
    """The value as a spreadsheet should show it: a formula-looking string gets a leading single quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _is_number(value):
        return "'" + value
    return value


def csv_safe_row(values: Iterable[Any]) -> list[Any]:
    return [csv_safe_cell(v) for v in values]


class SafeWriter:
    """`csv.writer` whose rows are neutralised cell by cell."""

    def __init__(self, fh: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(fh, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(csv_safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter(csv.DictWriter):  # type: ignore[type-arg]
    """`csv.DictWriter` whose values (and header) are neutralised cell by cell."""

    def writeheader(self) -> Any:
        return self.writer.writerow(csv_safe_row(self.fieldnames))

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({k: csv_safe_cell(v) for k, v in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for row in rowdicts:
            self.writerow(row)
