"""Every shipped import gives complete histories: the funnel after importing a raw file equals the counts computed
straight from that file with the csv module (overall and by lead source), as `smarketing funnel --json` shows it."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from smarketing.cli import build_app
from smarketing.ingest import olist, xeducation

NONE = "(none)"  # how the funnel labels a missing group value


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def _xeducation_raw() -> tuple[int, int, dict[str, tuple[int, int]]]:
    """Leads, converted leads, and both per Lead Source ('Select' and empty cells are not given)."""
    entered: Counter[str] = Counter()
    converted: Counter[str] = Counter()
    for row in _rows(xeducation.default_path()):
        source = row["Lead Source"].strip()
        key = NONE if source.lower() in ("", "select", "nan") else source
        entered[key] += 1
        converted[key] += row["Converted"].strip() == "1"
    return sum(entered.values()), sum(converted.values()), {k: (entered[k], converted[k]) for k in entered}


def _olist_raw() -> tuple[int, int, dict[str, tuple[int, int]]]:
    """MQLs, MQLs with a closed deal, and both per origin."""
    won = {row["mql_id"].strip() for row in _rows(olist.default_folder() / olist.DEALS_FILE)}
    entered: Counter[str] = Counter()
    converted: Counter[str] = Counter()
    for row in _rows(olist.default_folder() / olist.MQL_FILE):
        key = row["origin"].strip() or NONE
        entered[key] += 1
        converted[key] += row["mql_id"].strip() in won
    return sum(entered.values()), sum(converted.values()), {k: (entered[k], converted[k]) for k in entered}


@dataclass(frozen=True)
class Shipped:
    raw_file: Path
    load: Callable[[], Any]
    raw: Callable[[], tuple[int, int, dict[str, tuple[int, int]]]]
    expected: tuple[int, int]  # what the data set's documentation states
    entry_stages: tuple[str, ...]  # the stages every imported lead has reached


SHIPPED = {
    "xeducation": Shipped(xeducation.default_path(), lambda: xeducation.xeducation_import(
        path=xeducation.default_path()), _xeducation_raw, (9240, 3561), ("lead",)),
    "olist": Shipped(olist.default_folder() / olist.MQL_FILE, lambda: olist.olist_import(
        folder=olist.default_folder()), _olist_raw, (8000, 842), ("lead", "mql")),
}


def _funnel(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(build_app(), ["funnel", "--to", "customer", "--json", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_funnel_after_import_equals_the_raw_file(active_playbook, name):
    shipped = SHIPPED[name]
    if not shipped.raw_file.is_file():
        pytest.skip(f"{shipped.raw_file.name} is absent from ../shared/datasets")
    # given the counts straight from the raw file
    entered, converted, by_source = shipped.raw()
    assert (entered, converted) == shipped.expected
    # when the file is imported
    shipped.load()
    # then from every entry stage the funnel to customer reads the raw counts, overall and by lead source
    for stage in shipped.entry_stages:
        funnel = _funnel("--from", stage, "--by", "source")
        total = funnel["total"]
        assert (total["entered"], total["converted"]) == (entered, converted), stage
        assert total["conversion_rate"] == round(converted / entered, 6)
        assert {g["key"]: (g["entered"], g["converted"]) for g in funnel["groups"]} == by_source, stage
    # and the steps from lead count every lead at each entry stage, and the customers at the end
    steps = {s["stage"]: s["reached"] for s in _funnel("--from", "lead")["total"]["steps"]}
    assert [steps[stage] for stage in shipped.entry_stages] == [entered] * len(shipped.entry_stages)
    assert steps["customer"] == converted
