"""The analytics API and CLI are thin edges over the same query kinds."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from smarketing.cli import main
from smarketing.lifecycle.services import stage_change_record
from smarketing.testing.factories import ContactFactory, OpportunityFactory


@pytest.fixture
def history(active_playbook):
    for i, source in enumerate(["web", "web", "ads"]):
        contact = ContactFactory(lead_source=source)
        stage_change_record(contact=contact, to_stage="lead", occurred_at=datetime(2026, 1, 1 + i, tzinfo=UTC))
        stage_change_record(contact=contact, to_stage="mql", occurred_at=datetime(2026, 1, 5 + i, tzinfo=UTC))
        if i == 0:
            stage_change_record(contact=contact, to_stage="customer", occurred_at=datetime(2026, 2, 4, tzinfo=UTC))
            OpportunityFactory(account=contact.account, primary_contact=contact, amount=900, outcome="won",
                               opened_at=datetime(2026, 1, 20, tzinfo=UTC), closed_at=datetime(2026, 2, 4, tzinfo=UTC))


@pytest.mark.django_db
def test_funnel_over_get_and_post(api, history):
    # when a viewer asks for the funnel with query parameters
    r = api.get("/api/analytics/funnel", role="viewer", from_stage="mql", to_stage="customer", by="source")
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["total"]["entered"], body["total"]["converted"]) == (3, 1)
    assert {g["key"]: g["entered"] for g in body["groups"]} == {"web": 2, "ads": 1}
    assert body["total"]["median_days_to_convert"] == 30.0
    # and a revops user posts the same spec
    r2 = api.post("/api/analytics/funnel", {"from_stage": "mql", "to_stage": "customer", "by": "source"})
    assert r2.status_code == 200 and r2.json() == body


@pytest.mark.django_db
def test_funnel_filters_over_get_and_post_are_echoed(api, history):
    # when a viewer asks for the funnel of web leads only, then web or ads leads, with repeated `filter` parameters
    web = api.get("/api/analytics/funnel", role="viewer", from_stage="mql", to_stage="customer",
                  filter="source:web")
    both = api.get("/api/analytics/funnel", role="viewer", from_stage="mql", to_stage="customer", by="source",
                   filter=["source:web", "source:ads"])
    # then the cohort is narrowed, the values of one field are ORed, and the result says which filters it applied
    assert web.status_code == 200, web.content
    assert (web.json()["total"]["entered"], web.json()["total"]["converted"]) == (2, 1)
    assert web.json()["query"]["filters"] == {"source": ["web"]}
    assert both.json()["total"]["entered"] == 3 and both.json()["query"]["filters"] == {"source": ["ads", "web"]}
    # and fields are ANDed: no web lead came from ads
    none = api.get("/api/analytics/funnel", from_stage="mql", to_stage="customer",
                   filter=["source:web", "owner:(none)", "cohort_month:2026-02"])
    assert none.json()["total"]["entered"] == 0
    # and posting the same spec gives the same body
    posted = api.post("/api/analytics/funnel", {"from_stage": "mql", "to_stage": "customer", "by": "source",
                                                "filters": {"source": ["web", "ads"]}})
    assert posted.status_code == 200 and posted.json() == both.json()


@pytest.mark.django_db
@pytest.mark.parametrize(("params", "field"), [
    ({"filter": "colour:red"}, "filters.colour"),
    ({"filter": "source:"}, "filters.source"),
    ({"filter": "source=web"}, "filter"),
    ({"filter": ["source:web", "cohort_month:January"]}, "filters.cohort_month"),
])
def test_bad_funnel_filters_are_4xx_naming_the_field(api, history, params, field):
    r = api.get("/api/analytics/funnel", from_stage="mql", to_stage="customer", **params)
    assert r.status_code == 422, r.content
    assert r.json()["field"] == field


@pytest.mark.django_db
def test_bad_posted_filter_names_the_field_and_the_allowed_ones(api, history):
    r = api.post("/api/analytics/funnel", {"from_stage": "mql", "to_stage": "sql", "filters": {"colour": ["red"]}})
    assert 400 <= r.status_code < 500
    body = json.dumps(r.json())
    assert "filters.colour" in body and "cohort_month" in body


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "params", "field"), [
    ("/api/analytics/funnel", {"from_stage": "mql", "to_stage": "won"}, "to_stage"),
    ("/api/analytics/funnel", {"from_stage": "mql", "to_stage": "sql", "start": "2026-02-01", "end": "2026-01-01"},
     "end"),
    ("/api/analytics/funnel", {"from_stage": "mql", "to_stage": "sql", "by": "shoe_size"}, "by"),
    ("/api/analytics/goals", {"period": "2026-Q9", "revenue": "100"}, "period"),
    ("/api/analytics/journeys", {"level": "galaxy"}, "level"),
])
def test_bad_specs_are_4xx_naming_the_field(api, history, path, params, field):
    r = api.get(path, **params)
    assert 400 <= r.status_code < 500
    assert r.json()["field"] == field


@pytest.mark.django_db
def test_bad_posted_spec_is_4xx(api, history):
    r = api.post("/api/analytics/funnel", {"from_stage": "nope", "to_stage": "sql"})
    assert 400 <= r.status_code < 500
    assert "from_stage" in json.dumps(r.json())


@pytest.mark.django_db
def test_goals_and_journeys_endpoints(api, history):
    goals = api.get("/api/analytics/goals", period="2026-Q2", revenue="1800", as_of="2026-05-01")
    assert goals.status_code == 200, goals.content
    assert goals.json()["needed"]["deals"] == 2
    journeys = api.get("/api/analytics/journeys", top="2")
    assert journeys.status_code == 200
    assert journeys.json()["top_paths"][0] == {"path": ["stage:lead", "stage:mql"], "subjects": 2,
                                               "share": 0.666667, "converted": 0}
    kinds = api.get("/api/analytics/kinds").json()
    assert {"funnel", "goals", "journeys", "attribution", "opportunity_attribution", "roi", "metrics",
            "measure_records"} <= {k["kind"] for k in kinds}
    assert [k["kind"] for k in kinds] == sorted(k["kind"] for k in kinds)  # one order, whatever loaded first


@pytest.mark.django_db
def test_cli_json_and_tables(history, capsys):
    with pytest.raises(SystemExit) as done:
        main(["funnel", "--from", "mql", "--to", "customer", "--by", "source", "--json"])
    assert done.value.code in (0, None)
    out = json.loads(capsys.readouterr().out)
    assert out["total"]["conversion_rate"] == 0.333333
    with pytest.raises(SystemExit):
        main(["journeys"])
    assert "Top paths" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["goals", "--revenue", "1800", "--period", "2026-Q2", "--as-of", "2026-05-01"])
    assert "Pacing" in capsys.readouterr().out


@pytest.mark.django_db
def test_cli_where_filters_json_and_table_title(history, capsys):
    # when the CLI is asked for web-or-ads leads, grouped by source, as JSON and as tables
    args = ["funnel", "--from", "mql", "--to", "customer", "--by", "source", "--where", "source=web",
            "--where", "source=ads"]
    with pytest.raises(SystemExit):
        main([*args, "--json"])
    out = json.loads(capsys.readouterr().out)
    # then the cohort is narrowed and the filters are echoed
    assert (out["total"]["entered"], out["query"]["filters"]) == (3, {"source": ["ads", "web"]})
    with pytest.raises(SystemExit):
        main(["funnel", "--from", "mql", "--to", "customer", "--where", "source=web", "--json"])
    assert json.loads(capsys.readouterr().out)["total"]["entered"] == 2
    with pytest.raises(SystemExit):
        main(args)
    assert "where source in (ads, web)" in capsys.readouterr().out


@pytest.mark.django_db
@pytest.mark.parametrize(("where", "words"), [
    ("colour=red", ["filters.colour", "source", "cohort_month"]),
    ("source", ["--where", "source=webinar"]),
])
def test_cli_prints_bad_filters_without_traceback(history, capsys, where, words):
    with pytest.raises(SystemExit) as done:
        main(["funnel", "--from", "mql", "--to", "customer", "--where", where])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert all(w in err for w in words) and "Traceback" not in err, err


@pytest.mark.django_db
def test_cli_prints_bad_spec_without_traceback(history, capsys):
    with pytest.raises(SystemExit) as done:
        main(["funnel", "--from", "mql", "--to", "won"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "to_stage" in err and "Traceback" not in err
