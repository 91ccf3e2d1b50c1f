"""The campaigns and feedback pages' figures equal `smarketing metrics --period … [--model …] [--where campaign=ID]`.

Every figure is `<a data-measure data-value href="/metrics/<name>/?period=…&model=…&campaign=…">`; the link names
the period, the attribution model and the campaign it is for, and the CLI is run for exactly those. Seeded with the
demo company and the frozen clock of `test_measures_agree`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.test import Client

from smarketing.analytics.metrics.campaigns import FIELDS
from smarketing.core import clock
from smarketing.web.tests.test_measures_agree import AS_OF, PERIODS, _cli_json, figures, same

Scope = tuple[str, str, tuple[str, ...]]  # period, model ("" = the default), campaign ids


def scope_of(href: str) -> Scope:
    """The (period, model, campaigns) a figure's drill-down link names."""
    query = defaultdict(list)
    for key, value in parse_qsl(urlsplit(href).query):
        query[key].append(value)
    return query["period"][0] if query["period"] else "", (query["model"] or [""])[0], tuple(sorted(query["campaign"]))


def cli_metrics(scope: Scope) -> dict[str, float | None]:
    """`smarketing metrics --period P [--model M] [--where campaign=ID] --json`: measure name → value."""
    period, model, campaigns = scope
    args = ["metrics", "--period", period, *(["--model", model] if model else [])]
    for campaign in campaigns:
        args += ["--where", f"campaign={campaign}"]
    return {m["name"]: m["value"] for m in _cli_json(*args)["measures"]}


def _seed(client: Client) -> None:
    from smarketing.demo.services import demo_seed
    from smarketing.team.models import User
    from smarketing.web.data import common

    demo_seed(size="small", seed=1)
    clock.freeze(AS_OF)
    common.clear()
    client.force_login(User.objects.get(username="rita.revops"))


def _shown(client: Client, urls: list[str]) -> list[tuple[str, str, str, str]]:
    shown: list[tuple[str, str, str, str]] = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert not response.context["computing"], url
        shown += [(url, *f) for f in figures(response.content.decode())]
    return shown


def test_campaign_and_feedback_figures_equal_smarketing_metrics_on_the_small_demo(db):
    from smarketing.campaigns.models import Campaign

    # given the demo company, seen at a fixed moment by a RevOps user
    client = Client()
    _seed(client)
    campaign = Campaign.objects.order_by("pk").first()
    assert campaign is not None
    # when the campaigns list, one campaign's page and the feedback page are opened for Q4 2026, a month and the
    # last 30 days, and the list and the campaign page under another model (a filter on the model)
    urls = [f"{page}?period={p}" for page in ("/campaigns/", f"/campaigns/{campaign.pk}/", "/feedback/")
            for p in PERIODS]
    urls += ["/campaigns/?period=2026-Q4&model=shapley", f"/campaigns/{campaign.pk}/?period=2026-10&model=first_touch"]
    shown = _shown(client, urls)
    # then each page shows measures: the campaign measures on the campaign pages, the feedback count on feedback
    by_path: dict[str, set[str]] = defaultdict(set)
    for url, name, _value, _href in shown:
        by_path[urlsplit(url).path].add(name)
    assert by_path["/campaigns/"] == set(FIELDS)
    assert by_path[f"/campaigns/{campaign.pk}/"] == set(FIELDS)
    assert by_path["/feedback/"] == {"feedback_items_recorded"}
    # and every figure of the campaign page, the list's totals and three campaigns of each list, and the feedback
    # count equal the CLI for the period, model and campaign their link names
    checked: list[tuple[str, str, str, str]] = []
    per_list: dict[str, int] = defaultdict(int)
    for url, name, value, href in shown:
        scope = scope_of(href)
        if urlsplit(url).path == "/campaigns/" and scope[2] and scope[2] != (str(campaign.pk),):
            per_list[url] += 1
            if per_list[url] > 3 * len(FIELDS):
                continue  # the list repeats the same rows; every row equals the roi query (test_campaigns)
        checked.append((url, name, value, href))
    cli: dict[Scope, dict[str, float | None]] = {}
    wrong = []
    for url, name, value, href in checked:
        scope = scope_of(href)
        assert scope[0], f"{name} on {url} links to no period: {href}"
        if scope not in cli:
            cli[scope] = cli_metrics(scope)
        if not same(value, cli[scope][name]):
            wrong.append(f"{name} on {url}: page {value!r}, CLI {cli[scope][name]!r} for {scope}")
    assert not wrong, "\n".join(wrong)
    # and the campaign's own figures were checked with its filter, under the default and another model
    assert (("2026-Q4", "linear", (str(campaign.pk),)) in cli) and (("2026-10", "first_touch", (str(campaign.pk),))
                                                                        in cli)
    assert ("2026-Q4", "shapley", ()) in cli
    # and the totals are real figures: some campaign spend and some attributed pipeline in Q4 2026
    totals = cli[("2026-Q4", "linear", ())]
    assert (totals["campaign_cost"] or 0) > 0 and (totals["campaign_attributed_pipeline"] or 0) > 0


def test_a_campaign_figure_opens_the_records_that_add_up_to_it(db):
    from smarketing.campaigns.models import Campaign

    # given the demo company and the campaign with the most attributed pipeline in Q4 2026
    client = Client()
    _seed(client)
    totals = _cli_json("metrics", "--period", "2026-Q4", "--name", "campaign_attributed_pipeline")
    assert totals["measures"][0]["value"] > 0
    best: dict[str, Any] = max(_cli_json("roi", "--model", "linear", "--start", "2026-10-01", "--end",
                                         "2026-12-31")["campaigns"], key=lambda r: (r["campaign_id"] is not None,
                                                                                    r["pipeline"]))
    assert Campaign.objects.filter(pk=best["campaign_id"]).exists()
    # when its attributed pipeline figure is opened from the campaign page
    html = client.get(f"/campaigns/{best['campaign_id']}/", {"period": "2026-Q4"}).content.decode()
    href = next(h for _url, name, _v, h in [("", *f) for f in figures(html)] if name == "campaign_attributed_pipeline")
    page = client.get(href)
    assert page.status_code == 200
    # then it lists the opportunities credited, and their credited amounts add up to the figure
    records = _cli_json("metrics", "records", "campaign_attributed_pipeline", "--period", "2026-Q4", "--model",
                        "linear", "--where", f"campaign={best['campaign_id']}", "--limit", "500")
    assert records["total"] == len(records["items"]) > 0
    assert {r["kind"] for r in records["items"]} == {"opportunity"}
    assert math.isclose(sum(r["amount"] for r in records["items"]),
                        cli_metrics(("2026-Q4", "linear", (str(best["campaign_id"]),)))["campaign_attributed_pipeline"]
                        or 0.0, rel_tol=1e-6)
    assert f'data-total="{records["total"]}"' in page.content.decode()


def test_the_model_is_checked_and_named_in_the_error(db):
    from smarketing.analytics.registry import parse_spec
    from smarketing.core.errors import ValidationFailed

    # when the metrics are asked for under a model that does not exist
    try:
        parse_spec("metrics", {"period": "2026-Q4", "model": "magic"})
    except ValidationFailed as exc:
        error = exc
    else:
        raise AssertionError("an unknown model was accepted")
    # then the error names the model field and lists the models
    assert error.field == "model" and "shapley" in error.message
