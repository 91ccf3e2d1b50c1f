"""The Olist import loads the marketing funnel faithfully, and the funnel query reproduces the raw figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from smarketing.analytics.engine import open_engine
from smarketing.analytics.queries.funnel import FunnelQuery, run_funnel
from smarketing.campaigns.models import Campaign, Touchpoint
from smarketing.cli import build_app
from smarketing.core.errors import ValidationFailed
from smarketing.crm.models import Account, Contact, Opportunity
from smarketing.ingest.olist import DEALS_FILE, MQL_FILE, default_folder, olist_import
from smarketing.lifecycle.models import StageChange

OLIST = default_folder()
needs_olist = pytest.mark.skipif(not (OLIST / MQL_FILE).is_file(), reason="../shared/datasets/olist is absent")


def _raw_figures() -> dict[str, object]:
    """The reference figures, straight from the CSVs with plain pandas."""
    mqls = pd.read_csv(OLIST / MQL_FILE)
    deals = pd.read_csv(OLIST / DEALS_FILE)
    mqls["won"] = mqls["mql_id"].isin(deals["mql_id"])
    mqls["origin"] = mqls["origin"].fillna("(none)")
    mqls["month"] = mqls["first_contact_date"].str[:7]
    joined = deals.merge(mqls, on="mql_id")
    days = (pd.to_datetime(joined["won_date"]) - pd.to_datetime(joined["first_contact_date"])).dt.total_seconds()
    # A deal won before its first contact (one row) counts as converted on entry, i.e. after 0 days.
    joined["days"] = (days / 86400).clip(lower=0)
    return {
        "overall": (len(mqls), int(mqls["won"].sum())),
        "by_origin": {k: (len(g), int(g["won"].sum())) for k, g in mqls.groupby("origin")},
        "by_month": {k: (len(g), int(g["won"].sum())) for k, g in mqls.groupby("month")},
        "median_days": round(float(joined["days"].median()), 6),
        "median_days_by_origin": {k: round(float(g["days"].median()), 6) for k, g in joined.groupby("origin")},
    }


@pytest.fixture
def olist_loaded(active_playbook):
    return olist_import(folder=OLIST)


@needs_olist
@pytest.mark.slow
@pytest.mark.django_db
def test_funnel_reproduces_the_raw_olist_figures(olist_loaded):
    # given the reference figures computed independently from the raw CSVs
    raw = _raw_figures()
    # when the funnel runs MQL → customer (won) overall, by origin and by first-contact month
    with open_engine("duckdb") as engine:
        by_origin = run_funnel(engine, FunnelQuery(from_stage="mql", to_stage="customer", by="source"))
        by_month = run_funnel(engine, FunnelQuery(from_stage="mql", to_stage="customer", by="cohort_month"))
    # then conversion and median days to won match exactly
    assert (by_origin.total.entered, by_origin.total.converted) == raw["overall"] == (8000, 842)
    assert by_origin.total.conversion_rate == round(842 / 8000, 6)
    assert {g.key: (g.entered, g.converted) for g in by_origin.groups} == raw["by_origin"]
    assert {g.key: (g.entered, g.converted) for g in by_month.groups} == raw["by_month"]
    assert by_origin.total.median_days_to_convert == raw["median_days"]
    assert {g.key: g.median_days_to_convert for g in by_origin.groups if g.converted} == raw["median_days_by_origin"]
    assert by_origin.total.outcomes["won"] == 842


@needs_olist
@pytest.mark.slow
@pytest.mark.django_db
def test_olist_import_is_idempotent(olist_loaded):
    # given a first import: per MQL a lead and an MQL change and a first touch; per deal the contact's and the
    # seller's customer change
    assert olist_loaded.contacts_created == 8000 and olist_loaded.opportunities_created == 842
    assert olist_loaded.stage_changes_created == 8000 * 2 + 842 * 2
    assert (olist_loaded.touchpoints_created, olist_loaded.campaigns_created) == (8000, 495)
    # when it runs again
    again = olist_import(folder=OLIST)
    # then nothing is duplicated
    assert (again.contacts_created, again.opportunities_created, again.stage_changes_created,
            again.touchpoints_created, again.campaigns_created) == (0, 0, 0, 0, 0)
    assert again.already_present == 8000
    assert Contact.objects.filter(source="olist").count() == 8000
    assert Opportunity.objects.filter(source="olist", outcome="won").count() == 842
    assert StageChange.objects.filter(contact__source="olist").count() == 8000 * 2 + 842
    assert Contact.objects.filter(source="olist", lifecycle_stage="customer").count() == 842
    assert Account.objects.filter(source="olist", lifecycle_stage="customer", is_customer=True).count() == 842


def _write(folder: Path, mqls: str, deals: str) -> Path:
    (folder / MQL_FILE).write_text(mqls)
    (folder / DEALS_FILE).write_text(deals)
    return folder


DEAL_HEADER = ("mql_id,seller_id,sdr_id,sr_id,won_date,business_segment,lead_type,lead_behaviour_profile,"
               "has_company,has_gtin,average_stock,business_type,declared_product_catalog_size,"
               "declared_monthly_revenue\n")
MQL_HEADER = "mql_id,first_contact_date,landing_page_id,origin\n"


@pytest.mark.django_db
def test_small_olist_files_load_into_the_funnel(tmp_path, active_playbook):
    # given two MQLs, one of which closed 10 days after first contact
    folder = _write(tmp_path, MQL_HEADER + "m1,2018-01-01,lp1,social\nm2,2018-01-05,lp2,\n",
                    DEAL_HEADER + "m1,s1,d1,r1,2018-01-11 00:00:00,pet,online_medium,cat,,,,reseller,,100.0\n")
    # when imported
    olist_import(folder=folder)
    # then the funnel shows one of two converted after 10 days, and the won deal's value
    with open_engine("duckdb") as engine:
        result = run_funnel(engine, FunnelQuery(from_stage="mql", to_stage="customer", by="source"))
    assert (result.total.entered, result.total.converted) == (2, 1)
    assert result.total.median_days_to_convert == 10.0
    assert result.total.won_value == 100.0
    assert {g.key: g.converted for g in result.groups} == {"social": 1, "(none)": 0}


@pytest.mark.django_db
def test_each_mql_gets_its_history_and_its_landing_page_as_first_touch(tmp_path, active_playbook):
    # given two MQLs on one landing page, one of which closed
    folder = _write(tmp_path, MQL_HEADER + "m1,2018-01-01,lp1,social\nm2,2018-01-05,lp1,email\n",
                    DEAL_HEADER + "m1,s1,d1,r1,2018-01-11 00:00:00,pet,online_medium,cat,,,,reseller,,100.0\n")
    # when imported
    olist_import(folder=folder)
    # then each has lead → MQL at first contact, and the won one moves to customer at the won date with its seller
    m1 = Contact.objects.get(source_id="m1")
    history = list(StageChange.objects.filter(contact=m1).order_by("occurred_at", "id")
                   .values_list("from_stage", "to_stage", "occurred_at"))
    first, won = datetime(2018, 1, 1, tzinfo=UTC), datetime(2018, 1, 11, tzinfo=UTC)
    assert history == [("", "lead", first), ("lead", "mql", first), ("mql", "customer", won)]
    assert Contact.objects.get(source_id="m2").lifecycle_stage == "mql"
    seller = Account.objects.get(source_id="s1")
    assert (seller.lifecycle_stage, seller.is_customer, m1.account_id) == ("customer", True, seller.pk)
    # and the landing page is a campaign whose form fill, through the origin's channel, is each MQL's first touch
    touches = {t.contact.source_id: t for t in Touchpoint.objects.select_related("contact", "campaign")}
    assert {k: (t.kind, t.channel, t.occurred_at.date().isoformat()) for k, t in touches.items()} == {
        "m1": ("form_fill", "paid_social", "2018-01-01"), "m2": ("form_fill", "email", "2018-01-05")}
    assert {t.campaign.source_id for t in touches.values()} == {"lp1"}
    assert Campaign.objects.get(source="olist").start_date.isoformat() == "2018-01-01"


@needs_olist
@pytest.mark.slow
@pytest.mark.django_db
def test_attribution_on_olist_reads_the_journeys(olist_loaded):
    # given the journeys the raw files imply: every MQL's first contact is a touch, and a deal is a journey's
    # conversion when it opened at or after that touch (one Olist deal was won before its first contact)
    mqls = pd.read_csv(OLIST / MQL_FILE)
    deals = pd.read_csv(OLIST / DEALS_FILE).merge(mqls, on="mql_id")
    before = int((pd.to_datetime(deals["won_date"]) < pd.to_datetime(deals["first_contact_date"])).sum())
    # when linear attribution runs, as `smarketing attribution --model linear --json` does
    result = CliRunner().invoke(build_app(), ["attribution", "--model", "linear", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    # then it reports those journeys and credits every won deal with a touch before it
    assert (data["journeys"], data["converting_journeys"]) == (len(mqls) - before, len(deals) - before)
    assert (data["total_conversions"], data["unattributed_conversions"]) == (len(deals), before)


@pytest.mark.parametrize(("mqls", "deals", "record", "field"), [
    ("m1,2018-13-01,lp,social\n", "", f"{MQL_FILE}:2", "first_contact_date"),
    ("m1,2018-01-01,lp,social\nm1,2018-01-02,lp,social\n", "", f"{MQL_FILE}:3", "mql_id"),
    ("m1,2018-01-01,lp,social\n", "zz,s1,d,r,2018-01-11 00:00:00,pet,x,y,,,,r,,0\n", f"{DEALS_FILE}:2", "mql_id"),
    ("m1,2018-01-01,lp,social\n", "m1,s1,d,r,yesterday,pet,x,y,,,,r,,0\n", f"{DEALS_FILE}:2", "won_date"),
    ("m1,2018-01-01,lp,social\n", "m1,s1,d,r,2018-01-11 00:00:00,pet,x,y,,,,r,,-5\n", f"{DEALS_FILE}:2",
     "declared_monthly_revenue"),
])
@pytest.mark.django_db
def test_bad_rows_are_named_and_nothing_is_written(tmp_path, active_playbook, mqls, deals, record, field):
    # given a file with one bad row
    folder = _write(tmp_path, MQL_HEADER + mqls, DEAL_HEADER + deals)
    # when imported, then the error names the file, line and field, and no row was written
    with pytest.raises(ValidationFailed) as err:
        olist_import(folder=folder)
    assert (err.value.record, err.value.field) == (record, field)
    assert Contact.objects.filter(source="olist").count() == 0


@pytest.mark.django_db
def test_missing_file_is_named(tmp_path, active_playbook):
    with pytest.raises(ValidationFailed) as err:
        olist_import(folder=tmp_path)
    assert MQL_FILE in err.value.message
