"""Every page renders for every role, states its period, offers its numbers as CSV; anonymous users log in first."""

from __future__ import annotations

import csv
import io

import pytest

PAGES = ["/", "/funnel/", "/handoff/", "/campaigns/", "/journeys/", "/feedback/", "/playbook/", "/goals/",
         "/playbook/v1/", "/playbook/new/"]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_users_are_sent_to_login(client, db, path):
    # when
    response = client.get(path)
    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


ROLE_PAGES = [(role, path) for role in ("sales", "viewer") for path in PAGES if path != "/playbook/new/"] + [
    (role, path) for role in ("marketing", "revops") for path in ("/handoff/", "/feedback/", "/playbook/v1/", "/")]


@pytest.mark.parametrize("role, path", ROLE_PAGES)
def test_every_page_renders_for_every_role(world, login, role, path):
    # given
    client = login(role)
    # when
    response = client.get(path, {"period": "2026-Q4"})
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "<main" in html and 'aria-label="Main"' in html
    assert "Traceback" not in html


def test_scoreboard_shows_goal_pacing_funnel_and_sla(world, login):
    # when
    html = login("marketing").get("/", {"period": "2026-Q4"}).content.decode()
    # then: won revenue with unit, the playbook goal for Q4, the cohort of six contacts and both SLA sides
    assert "$120.0k" in html
    assert "playbook goal for Q4 2026" in html.lower().replace("q4", "Q4")
    assert ">6<" in html
    assert "MQLs decided within 2 business days" in html and "MQL acceptance rate" in html
    assert html.count("<figure class=\"chart\" data-chart") >= 2 and 'type="application/json"' in html


def test_funnel_filters_live_in_the_url_and_narrow_the_cohort(world, login):
    # given
    client = login("sales")
    # when
    everyone = client.get("/funnel/", {"period": "2026-Q4"}).context["data"]
    webinar = client.get("/funnel/", {"period": "2026-Q4", "source": "webinar", "by": "segment"}).context["data"]
    # then
    assert everyone.cohort_size == 6
    assert webinar.cohort_size == 3
    assert webinar.dimension == "segment"
    assert [r.volume for r in everyone.stages] == [6, 5, 3, 2, 2, 1]


def test_several_funnel_filters_combine_and_stay_in_the_share_link(world, login, users):
    # given the sales rep's id (owners are filtered by id and shown by name)
    client = login("revops")
    sales = str(users["sales"].pk)
    # when two sources are picked (either counts) and the owner narrows them
    both = client.get("/funnel/", {"period": "2026-Q4", "source": ["webinar", "paid_search"]}).context["data"]
    page = client.get("/funnel/", {"period": "2026-Q4", "source": "webinar", "owner": sales, "by": "owner"})
    unowned = client.get("/funnel/", {"period": "2026-Q4", "owner": "(none)"}).context["data"]
    # then: six contacts for either source; only contact 1 is a webinar lead owned by the rep; 3, 4, 5 have no owner
    assert both.cohort_size == 6 and both.filters == {"source": ["paid_search", "webinar"]}
    data = page.context["data"]
    assert (data.cohort_size, [r.volume for r in data.stages]) == (1, [1, 1, 0, 0, 0, 0])
    assert [(r["group"], r["contacts"]) for r in data.breakdown] == [("sales1", 1)]
    assert unowned.cohort_size == 3
    # and the page says what it shows, links to itself, offers to remove each filter and names the CLI command
    html = page.content.decode()
    assert "Showing only Lead source: webinar; Owner: sales1." in html
    assert f"?period=2026-Q4&amp;by=owner&amp;source=webinar&amp;owner={sales}" in html
    assert f'href="?period=2026-Q4&amp;by=owner&amp;owner={sales}"' in html  # removes the source filter
    assert f"--by owner --where source=webinar --where owner={sales} --json" in html
    assert f'<option value="{sales}" selected>sales1</option>' in html and '<option value="webinar" selected>' in html


def test_funnel_exports_say_which_filters_they_show(world, login, users):
    rows = list(csv.reader(io.StringIO(login("viewer").get("/funnel/", {
        "period": "2026-Q4", "source": "webinar", "owner": str(users["sales"].pk), "format": "csv",
        "table": "breakdown"}).content.decode())))
    assert rows[0] == ["# Conversion by lead source — cohort entering in Q4 2026; Lead source: webinar; Owner: sales1"]
    assert rows[2][:2] == ["webinar", "1"]


def test_funnel_filter_form_updates_only_the_results_over_htmx(world, login):
    # when the filter form is submitted by htmx into the results
    client = login("viewer")
    params = {"period": "2026-Q4", "source": "webinar"}
    partial = client.get("/funnel/", params, headers={"HX-Request": "true", "HX-Target": "funnel-results"})
    full = client.get("/funnel/", params)
    # then only the results come back (no page, no form), with the same numbers as the whole page
    html = partial.content.decode()
    assert partial.status_code == 200 and "<form" not in html and "<main" not in html
    assert "Showing only Lead source: webinar." in html and "Waterfall" in html
    assert [r.volume for r in partial.context["data"].stages] == [r.volume for r in full.context["data"].stages]
    # and the page's own form targets that part, pushing the filters into the address
    page = full.content.decode()
    assert 'hx-target="#funnel-results"' in page and 'hx-push-url="true"' in page and 'id="funnel-results"' in page
    # while the "being computed" poll (which targets the whole page) still gets the whole page
    poll = client.get("/funnel/", params, headers={"HX-Request": "true", "HX-Target": "main"})
    assert "<main" in poll.content.decode()


@pytest.mark.parametrize(("params", "words"), [
    ({"owner": "ana"}, ["filters.owner", "user id"]),
    ({"cohort_month": "2026-13"}, ["filters.cohort_month", "YYYY-MM"]),
])
def test_a_bad_filter_in_the_address_is_explained(world, login, params, words):
    response = login("viewer").get("/funnel/", {"period": "2026-Q4", **params})
    assert response.status_code == 422
    assert all(w in response.content.decode() for w in words)


def test_funnel_table_downloads_as_csv_with_units(world, login):
    # when
    response = login("viewer").get("/funnel/", {"period": "2026-Q4", "format": "csv", "table": "stages"})
    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0].startswith("# Funnel by stage")
    assert rows[1][:3] == ["Stage", "Contacts reached", "Conversion to next (%)"]
    assert rows[2][:3] == ["Lead", "6", "83.33"]


def test_unknown_csv_table_is_a_404_naming_the_tables(world, login):
    response = login("viewer").get("/", {"format": "csv", "table": "nope"})
    assert response.status_code == 404
    assert b"funnel" in response.content


def test_bad_period_is_explained_and_the_quarter_shown(world, login):
    response = login("viewer").get("/funnel/", {"period": "someday"})
    assert response.status_code == 200
    assert "is not understood" in response.content.decode()


def test_campaign_list_and_detail(world, login):
    # given
    client = login("marketing")
    # when
    listing = client.get("/campaigns/", {"period": "2026-Q4", "model": "first_touch"})
    detail = client.get(f"/campaigns/{world['campaign'].pk}/")
    missing = client.get("/campaigns/999999/")
    # then
    assert "Close faster webinar" in listing.content.decode()
    assert listing.context["perf"].model == "first_touch"
    assert "100 % to the first touch" in listing.content.decode() or listing.context["perf"].weights
    assert detail.status_code == 200 and "Close faster webinar" in detail.content.decode()
    assert missing.status_code == 404


def test_login_page_and_logout(world, users, client):
    # when
    page = client.get("/login/")
    logged = client.post("/login/", {"username": "sales1", "password": "pw"})
    out = client.post("/logout/")
    # then
    assert page.status_code == 200 and 'for="id_username"' in page.content.decode()
    assert logged.status_code == 302 and logged["Location"] == "/"
    assert out.status_code == 302 and client.get("/").status_code == 302


def test_htmx_is_served_locally_not_from_a_cdn(world, login):
    html = login("viewer").get("/").content.decode()
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert "https://" not in html.split("<body")[0]


@pytest.mark.parametrize("model", ["first_touch", "linear", "u_shaped"])
def test_campaigns_show_attributed_pipeline_under_the_chosen_model(world, login, model):
    # when
    response = login("sales").get("/campaigns/", {"period": "2026-Q4", "model": model})
    perf = response.context["perf"]
    # then: the one campaign carries the whole won deal whatever the model, and the weights are stated
    assert perf.attributed, perf.note
    row = next(r for r in perf.rows if r["name"] == "Close faster webinar")
    assert row["pipeline"] == pytest.approx(120000)
    assert row["cost"] == pytest.approx(8000)
    assert perf.weights
    assert 'id="model-weights"' in response.content.decode()


def test_journeys_show_the_analytics_conformance_and_directly_follows(world, login):
    # when
    response = login("marketing").get("/journeys/", {"period": "2026-Q4"})
    data = response.context["data"]
    # then: six contacts were active; the one customer skipped steps of the ideal journey, so it does not conform
    assert data.cases == 6
    assert data.subjects == 6 and data.fitting == 0 and data.conformance == 0
    assert "0 of the 6 contacts on the new customer journey" in response.content.decode()
    assert ("webinar attended", "demo request", 6) in data.edges
    assert data.deviations and sum(d["subjects"] for d in data.deviations) == 6


def test_goals_planner_keeps_inputs_in_the_url_and_shows_the_measured_plan(world, login):
    # when: a $1M goal at $50k deals and 50 % at every step of the goals query's chain
    rates = {r: 50 for r in ("lead_to_mql", "mql_to_sql", "sql_to_opportunity", "win_rate")}
    response = login("viewer").get("/goals/", {"period": "2026-Q4", "revenue": 1_000_000, "avg_deal": 50_000,
                                               **rates})
    # then: 20 deals, 40 opportunities … 320 leads; the analytics engine says why it cannot measure a plan
    # (nothing was won in the year before Q4)
    rows = {r["stage"]: r["required"] for r in response.context["rows"]}
    assert rows["Customer"] == 20 and rows["Opportunity"] == 40 and rows["Lead"] == 320
    assert response.context["measured"] is None
    assert "no opportunity was won between 2025-10-01 and 2026-09-30" in response.content.decode()
