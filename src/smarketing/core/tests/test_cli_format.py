"""Terminal tables keep every value and column name whole at any width; the formats carry their units."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rich.console import Console

from smarketing.core.cli_format import Col, print_table, text_col
from smarketing.core.formatting import business_hours, money, number, percent, percent_value, when

COLUMNS = [text_col("campaign"), Col("entered"), Col("conversion rate"), Col("median days"), Col("pipeline"),
           Col("won value"), Col("won/lost/open/none"), Col("cost per opportunity")]
ROWS = [[f"LinkedIn ABM – finance leaders – Q{q}", "12,345", "13.3%", "101.5", "4,181,300", "3,752,400",
         "90/112/54/2045", "12,345.67"] for q in range(1, 5)]


def render(width: int, **kwargs: object) -> str:
    con = Console(width=width, record=True, file=None, force_terminal=False)
    with con.capture() as captured:
        print_table(con, COLUMNS, ROWS, **kwargs)  # type: ignore[arg-type]
    return captured.get()


@pytest.mark.parametrize("width", [40, 60, 80, 200])
def test_tables_never_cut_a_value_or_a_column_name(width):
    out = render(width)
    assert "…" not in out
    assert all(len(line) <= width for line in out.splitlines())
    for col in COLUMNS[1:]:
        assert col.header in out  # numeric headers stay on one line
    for row in ROWS:
        for cell in row[1:]:
            assert cell in out
    # the campaign names may wrap, but every word of each name is there, four times over each part's key column
    assert out.count("Q4") >= 1 and out.count("LinkedIn") >= 4


def test_a_narrow_table_is_split_into_parts_that_repeat_the_key_column():
    wide, narrow = render(300), render(60)
    assert wide.count("campaign") == 1
    assert narrow.count("campaign") >= 2  # the key column heads every part
    assert "Q1" in wide and wide.count("LinkedIn ABM – finance leaders – Q1") == 1


def test_title_total_row_and_legend_are_printed():
    out = render(80, title="Campaign pipeline", bold_last=True, legend=["bh: business hours"])
    assert out.startswith("Campaign pipeline") and "bh: business hours" in out


def test_formats_carry_their_units_and_a_dash_for_none():
    assert percent(0.3333, 1) == "33.3%" and percent(1.0) == "100%" and percent(None) == "—"
    assert percent_value(605.7) == "605.7%" and percent_value(None) == "—"
    assert money(1234567.891) == "1,234,568" and money(12.5, 2) == "12.50"
    assert number(2301) == "2,301" and number(56.25) == "56.2" and number(None) == "—"
    assert business_hours(-84.0) == "84.0 bh"
    assert when("2026-11-23T13:00:00-05:00") == "2026-11-23 18:00 UTC"
    assert when(datetime(2026, 1, 2, 3, 4, tzinfo=UTC)) == "2026-01-02 03:04 UTC" and when(None) == "—"
