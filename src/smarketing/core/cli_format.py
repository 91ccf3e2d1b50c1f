"""Terminal output shared by every command: the console and tables that fit the terminal (the
number, percent, money and time formats are in `core.formatting`).

Tables never cut a value or a column name short: numbers and headers keep one line, text wraps, and when the
columns do not fit the width (a pipe counts as 80 columns unless COLUMNS says otherwise) the table is printed in
parts that each repeat the key column. `--json` output does not come through here; it stays complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

TEXT_MIN_WIDTH = 24  # a wrapped name narrower than this reads as a column of fragments


def console() -> Console:
    """The console every command prints to: the terminal's width, or COLUMNS (80 when piped without it)."""
    return Console(highlight=False)


@dataclass(frozen=True)
class Col:
    """A column: its name, and whether it holds numbers (right-aligned, never wrapped) or text (wrapped)."""

    header: str
    numeric: bool = True


def text_col(header: str) -> Col:
    return Col(header, numeric=False)


def _table(columns: Sequence[Col], rows: Sequence[Sequence[str]], bold_last: bool,
           text_min: int = TEXT_MIN_WIDTH) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1))
    for i, col in enumerate(columns):
        longest = max([cell_len(col.header), *(cell_len(r[i]) for r in rows)])
        if col.numeric:  # a number is only whole on one line
            table.add_column(col.header, justify="right", no_wrap=True, min_width=longest)
        else:
            table.add_column(col.header, overflow="fold",
                             min_width=max(cell_len(col.header), min(longest, text_min)))
    for n, row in enumerate(rows):
        last = bold_last and n == len(rows) - 1
        table.add_row(*(Text(cell) for cell in row), style="bold" if last else None, end_section=n == len(rows) - 2
                      and bold_last)
    return table


def _min_width(con: Console, table: Table) -> int:
    # measured without the console's limit, which would clamp the answer to the width being tested
    return Measurement.get(con, con.options.update(max_width=10_000), table).minimum


def print_table(con: Console, columns: Sequence[Col], rows: Sequence[Sequence[str]], *, title: str = "",
                keys: int = 1, bold_last: bool = False, legend: Sequence[str] = ()) -> None:
    """Print rows under named columns, in as many parts as the width needs (each part repeats the first `keys`
    columns); `bold_last` sets the last row (a total) apart; `legend` lines explain abbreviations."""
    if title:
        con.print(Text(title, style="bold"))
    parts: list[list[int]] = []
    current = list(range(keys))
    for i in range(keys, len(columns)):
        trial = [*current, i]
        if len(current) > keys and _min_width(con, _table([columns[c] for c in trial], [[r[c] for c in trial]
                                                                                        for r in rows],
                                                          bold_last)) > con.width:
            parts.append(current)
            current = [*range(keys), i]
        else:
            current = trial
    parts.append(current)
    for n, part in enumerate(parts):
        if n:
            con.print()
        cols, cells = [columns[c] for c in part], [[r[c] for c in part] for r in rows]
        table = _table(cols, cells, bold_last)
        if _min_width(con, table) > con.width:  # a very narrow terminal: let the text wrap tighter still
            table = _table(cols, cells, bold_last, text_min=0)
        con.print(table)
    for line in legend:
        con.print(Text(line, style="dim"))
