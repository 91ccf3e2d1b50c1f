"""The campaigns pages show the `roi` query's figures (same spec as the API and the CLI), never negative, with the
model's definition beside the switcher, and every figure and name links to the records behind it."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from smarketing.analytics.metrics.campaigns import FIELDS
from smarketing.web.views.campaigns import MODEL_CHOICES


class _Figures(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "data-measure" in a:
            self.found.append(a)


def figures(html: str) -> list[dict[str, str]]:
    parser = _Figures()
    parser.feed(html)
    return parser.found


@pytest.fixture
def two_campaigns(world):
    """Given the webinar world plus a retargeting campaign that touched the customer before the webinar did."""
    from smarketing.testing.factories import CampaignFactory, TouchpointFactory

    retargeting = CampaignFactory(name="Always-on display retargeting", channel="display", actual_cost=2000)
    customer = world["contacts"][4]
    TouchpointFactory(contact=customer, account=world["account"], campaign=retargeting, kind="ad_click",
                      channel="display", occurred_at=datetime(2026, 10, 4, 9, tzinfo=UTC))
    return {**world, "retargeting": retargeting}


def cli_roi(model: str) -> dict:
    from typer.testing import CliRunner

    from smarketing.cli import build_app

    out = CliRunner().invoke(build_app(), ["roi", "--model", model, "--start", "2026-10-01", "--end", "2026-12-31",
                                           "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


@pytest.mark.parametrize("model", ["u_shaped", "shapley", "markov"])
def test_campaign_figures_equal_the_cli_roi_and_are_never_negative(two_campaigns, login, model):
    # When marketing opens the campaigns page for Q4 2026 under the model
    response = login("marketing").get("/campaigns/", {"period": "2026-Q4", "model": model})
    html = response.content.decode()
    # Then every figure names its measure and carries the value `smarketing roi --json` prints for the same spec
    cli = {r["campaign_id"]: r for r in cli_roi(model)["campaigns"] if r["campaign_id"]}
    shown = figures(html)
    field = FIELDS
    assert {f["data-measure"] for f in shown} == set(field)
    per_campaign = [f for f in shown if "campaign=" in f["href"]]
    assert len(per_campaign) == 5 * len(cli)
    assert len(shown) == 5 * len(cli) + 5  # and the total row
    for f in per_campaign:
        campaign_id = int(f["href"].split("campaign=")[1].split("&")[0])
        assert f["href"].startswith(f"/metrics/{f['data-measure']}/")
        expected = cli[campaign_id][field[f["data-measure"]]]
        assert (f["data-value"] == "") if expected is None else math.isclose(float(f["data-value"]), expected,
                                                                               abs_tol=1e-9), f
        assert "period=2026-Q4" in f["href"] and f"model={model}" in f["href"]
    # And no attributed pipeline or revenue is negative, and the won deal's 120,000 is shared in full
    money = [float(f["data-value"]) for f in per_campaign
             if f["data-measure"] in ("campaign_attributed_pipeline", "campaign_attributed_revenue")]
    assert min(money) >= 0
    assert sum(float(f["data-value"]) for f in per_campaign
               if f["data-measure"] == "campaign_attributed_revenue") == pytest.approx(120000)


def test_roi_is_a_percentage_with_pipeline_per_unit_of_cost_beside_it(two_campaigns, login):
    # When the page is read under first touch (the retargeting click came first, so it earns the deal)
    response = login("marketing").get("/campaigns/", {"period": "2026-Q4", "model": "first_touch"})
    row = next(r for r in response.context["perf"].rows if r["name"] == "Always-on display retargeting")
    # Then ROI is (120,000 − 2,000) / 2,000 = 5,900 % and pipeline per unit of cost 120,000 / 2,000 = 60
    assert row["roi_percent"] == pytest.approx(5900.0)
    assert row["pipeline_per_cost"] == pytest.approx(60.0)
    assert "5,900.0 %" in response.content.decode()


@pytest.mark.parametrize("model", MODEL_CHOICES)
def test_each_model_is_defined_in_plain_words_beside_the_switcher(world, login, model):
    html = login("viewer").get("/campaigns/", {"period": "2026-Q4", "model": model}).content.decode()
    beside = html.split('id="model-weights"')[1].split("</p>")[0]
    assert "%" in beside or "Data-driven" in beside
    assert "nothing sampled" in html.split('id="model-method"')[1].split("</p>")[0]
    if model == "u_shaped":
        assert "40 % to the first touch, 40 % to the lead-creation touch" in beside
        assert "HubSpot" in beside and "Marketo Measure" in beside and "50/50" in beside
    if model == "shapley":
        assert "Zhao et al. 2018" in beside and "never negative" in beside


def test_campaign_names_open_the_detail_page_whose_contacts_open_their_records(two_campaigns, login):
    client = login("sales")
    campaign = two_campaigns["campaign"]
    # When sales opens the list and follows the webinar's name
    listing = client.get("/campaigns/", {"period": "2026-Q4", "model": "shapley"}).content.decode()
    link = f'/campaigns/{campaign.pk}/?period=2026-Q4&amp;model=shapley'
    assert link in listing
    detail = client.get(f"/campaigns/{campaign.pk}/", {"period": "2026-Q4", "model": "shapley"})
    html = detail.content.decode()
    # Then the detail page shows the campaign's figures for the same model and period as the list
    assert detail.status_code == 200
    row = next(r for r in detail.context["perf"].rows if r["id"] == campaign.pk)
    shown = {f["data-measure"]: float(f["data-value"]) for f in figures(html) if f["data-value"]}
    assert shown["campaign_attributed_pipeline"] == pytest.approx(row["pipeline"])
    assert shown["campaign_cost"] == pytest.approx(row["cost"])
    # And each of the six contacts the webinar touched links to its record page
    for contact in two_campaigns["contacts"]:
        assert f'href="/contacts/{contact.pk}/"' in html
    assert "Method: exact simplified Shapley value" in html


def _measure(api, name: str, **params: str) -> float | None:
    r = api.get("/api/metrics", period="2026-Q4", name=name, **params)
    assert r.status_code == 200, r.content
    value: float | None = r.json()["measures"][0]["value"]
    return value


def test_campaign_measures_take_the_model_and_the_campaign_through_the_api_and_the_cli(two_campaigns, api):
    from typer.testing import CliRunner

    from smarketing.cli import build_app

    retargeting = two_campaigns["retargeting"]
    # When the retargeting campaign's revenue is asked for under first touch (its click came first) and last touch
    first = _measure(api, "campaign_attributed_revenue", model="first_touch", filter=f"campaign:{retargeting.pk}")
    last = _measure(api, "campaign_attributed_revenue", model="last_touch", filter=f"campaign:{retargeting.pk}")
    # Then first touch gives it the whole won deal and last touch nothing; by name it is the same campaign
    assert (first, last) == (120000, 0)
    assert _measure(api, "campaign_attributed_revenue", model="first_touch",
                    filter=f"campaign:{retargeting.name}") == 120000
    # And without the campaign filter the measure is the total over all campaigns, the same under every model
    assert _measure(api, "campaign_attributed_revenue", model="first_touch") == pytest.approx(120000)
    assert _measure(api, "campaign_attributed_revenue", model="shapley") == pytest.approx(120000)
    # And the CLI says the same: ROI (120,000 − 2,000) / 2,000 = 5,900 %
    out = CliRunner().invoke(build_app(), ["metrics", "--period", "2026-Q4", "--model", "first_touch", "--where",
                                           f"campaign={retargeting.pk}", "--name", "campaign_roi", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["measures"][0]["value"] == pytest.approx(5900.0)
    # And the records: the won deal with all of its credit, and the campaign with its cost
    records = api.get("/api/metrics/campaign_attributed_revenue/records", period="2026-Q4", model="first_touch",
                      filter=f"campaign:{retargeting.pk}").json()
    assert [(r["kind"], r["amount"]) for r in records["items"]] == [("opportunity", 120000)]
    costed = api.get("/api/metrics/campaign_cost/records", period="2026-Q4", filter=f"campaign:{retargeting.pk}").json()
    assert [(r["kind"], r["id"], r["amount"]) for r in costed["items"]] == [("campaign", retargeting.pk, 2000)]


def test_an_unknown_model_is_refused_naming_the_model_field(two_campaigns, api):
    from typer.testing import CliRunner

    from smarketing.cli import build_app

    r = api.get("/api/metrics", period="2026-Q4", model="magic")
    assert r.status_code == 422 and "model" in r.content.decode() and "shapley" in r.content.decode()
    r = api.get("/api/metrics/campaign_cost/records", period="2026-Q4", model="magic")
    assert r.status_code == 422 and "model" in r.content.decode()
    out = CliRunner().invoke(build_app(), ["metrics", "--period", "2026-Q4", "--model", "magic"])
    assert out.exit_code != 0 and getattr(out.exception, "field", None) == "model"  # printed by the CLI's main


def test_campaign_measures_cut_the_period_at_the_reporting_time_zone(two_campaigns, api):
    from smarketing.testing.factories import OpportunityFactory

    # Given a deal of the webinar's lead opened at 23:30 on New Year's Eve in New York (04:30 UTC on 1 January)
    late = OpportunityFactory(account=two_campaigns["account"], primary_contact=two_campaigns["contacts"][5],
                              amount=7000, opened_at=datetime(2027, 1, 1, 4, 30, tzinfo=UTC))
    webinar = two_campaigns["campaign"]
    # When the webinar's attributed pipeline is listed for Q4 2026 and Q1 2027 (New York quarters)
    q4 = api.get("/api/metrics/campaign_attributed_pipeline/records", period="2026-Q4",
                 filter=f"campaign:{webinar.pk}").json()
    q1 = api.get("/api/metrics/campaign_attributed_pipeline/records", period="2027-Q1",
                 filter=f"campaign:{webinar.pk}").json()
    # Then the deal is Q4's, as the reporting period says, not the UTC day's
    assert late.pk in {r["id"] for r in q4["items"]}
    assert late.pk not in {r["id"] for r in q1["items"]}
    assert sum(r["amount"] for r in q4["items"]) == pytest.approx(_measure(
        api, "campaign_attributed_pipeline", filter=f"campaign:{webinar.pk}"))
