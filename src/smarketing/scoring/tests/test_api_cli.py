"""The edges: API endpoints and `smarketing score …` commands over a small scored world."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult
from typer.testing import CliRunner

from smarketing.cli import build_app
from smarketing.core import clock
from smarketing.lifecycle.services import stage_change_record
from smarketing.scoring import services
from smarketing.scoring.models import ContactScore, PredictiveModel
from smarketing.testing.factories import AccountFactory, ContactFactory, TouchpointFactory, UserFactory

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
runner = CliRunner()


@pytest.fixture
def world(active_playbook) -> dict[str, Any]:
    """60 contacts at two accounts; demo requests make sales accept, so scores predict outcomes."""
    clock.freeze(NOW)
    rng = random.Random(3)
    accounts = [AccountFactory(industry="Software", employees=900), AccountFactory(industry="Retail", employees=40)]
    contacts = []
    for i in range(60):
        c: Any = ContactFactory(account=accounts[i % 2], buying_role=["decision_maker", "user", "champion"][i % 3],
                                attributes={"persona": "ops" if i % 4 else "finance"})
        demos = rng.randint(0, 2)
        for d in range(demos):
            TouchpointFactory(contact=c, kind="demo_request", occurred_at=NOW - timedelta(days=3 + d))
        TouchpointFactory(contact=c, kind="page_view", occurred_at=NOW - timedelta(days=1))
        if demos and rng.random() < 0.85:
            stage_change_record(to_stage="sal", contact=c, occurred_at=NOW)
            if rng.random() < 0.6:
                stage_change_record(to_stage="opportunity", contact=c, occurred_at=NOW)
        contacts.append(c)
    services.scores_rebuild_all()
    return {"contacts": contacts, "accounts": accounts}


def run(*args: str) -> str:
    result = runner.invoke(build_app(), ["score", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_api_explains_a_contact_score(api, world):
    contact = world["contacts"][0]
    body = api.get(f"/api/scoring/contacts/{contact.pk}", role="viewer").json()
    assert body["contact_id"] == contact.pk and body["fresh"] is True
    assert sum(line["points"] for line in body["explanation"]) == pytest.approx(body["total"], abs=0.05)
    assert {"fit-industry", "fit-decision-maker"} <= {line["rule_id"] for line in body["explanation"]}
    cached = api.get(f"/api/scoring/contacts/{contact.pk}", fresh="false").json()
    assert cached["total"] == pytest.approx(body["total"], abs=0.01) and cached["fresh"] is False


def test_api_account_score_and_not_found(api, world):
    account = world["accounts"][0]
    body = api.get(f"/api/scoring/accounts/{account.pk}").json()
    assert body["engaged_roles"] and body["total"] > body["coverage"]
    missing = api.get("/api/scoring/contacts/987654")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_api_train_models_threshold_and_rebuild(api, world):
    # viewers may read but not train
    assert api.post("/api/scoring/train", {}, role="viewer").status_code == 403
    trained = api.post("/api/scoring/train", {"algorithm": "logistic"}, role="marketing")
    assert trained.status_code == 201, trained.json()
    model = trained.json()
    assert model["active"] and 0 <= model["auc"] <= 1 and "calibration" in model["card"]
    assert [m["id"] for m in api.get("/api/scoring/models").json()] == [model["id"]]
    assert api.get(f"/api/scoring/models/{model['id']}").json()["card"]["n"] == 60
    bad = api.post("/api/scoring/train", {"algorithm": "magic"})
    assert bad.status_code == 422 and bad.json()["field"] == "algorithm"
    queued = api.post("/api/scoring/train", {"background": True})
    assert queued.status_code == 202 and queued.json()["queue"] == "scoring"
    table = api.get("/api/scoring/threshold").json()
    assert table["current_threshold"] == 60 and table["table"][0]["mql_volume"] == 60
    assert table["target_acceptance_rate"] == 0.6
    rebuild = api.post("/api/scoring/rebuild", {})
    assert rebuild.status_code == 202
    assert DBTaskResult.objects.filter(pk=rebuild.json()["task_id"], task_path__endswith="scores_rebuild_all_task")


def test_cli_explain_threshold_train_and_rebuild(world):
    contact = world["contacts"][0]
    explained = json.loads(run("explain", str(contact.pk), "--json"))
    assert explained["contact_id"] == contact.pk and explained["explanation"]
    assert "fit-decision-maker" in run("explain", str(contact.pk))
    table = json.loads(run("threshold", "--json"))
    volumes = [r["mql_volume"] for r in table["table"]]
    assert volumes == sorted(volumes, reverse=True)
    card = json.loads(run("train", "--json", "--algorithm", "logistic"))
    assert set(card) >= {"auc", "features", "training_window", "calibration", "base_rate", "model_id"}
    assert PredictiveModel.objects.get(pk=card["model_id"]).active
    assert "AUC" in run("train", "--algorithm", "logistic")
    ContactScore.objects.all().delete()
    assert "rescored 60 contacts" in run("rebuild")
    assert ContactScore.objects.count() == 60
    assert "queued" in run("rebuild", "--background")


def test_cli_errors_name_the_record(world):
    result = runner.invoke(build_app(), ["score", "explain", "987654"])
    assert result.exit_code != 0 and "987654" in str(result.exception)


def test_admin_actions_rescore_and_train(world, client):
    # given an administrator in the admin site and stale scores
    admin_user = UserFactory(username="root", is_staff=True, is_superuser=True, role="revops")
    client.force_login(admin_user)
    ContactScore.objects.update(total=-1)
    first = world["contacts"][0]
    # when "rescore selected" runs on one contact's score
    resp = client.post("/admin/scoring/contactscore/", {"action": "rescore_selected", "index": "0",
                                                         "_selected_action": [first.pk]}, follow=True)
    # then only that contact is rescored
    assert [str(m) for m in resp.context["messages"]] == ["rescored 1 contacts"]
    assert ContactScore.objects.filter(total=-1).count() == 59
    # when "train model" runs from the models list
    resp = client.post("/admin/scoring/contactscore/", {"action": "train_model", "index": "0",
                                                         "_selected_action": [first.pk]}, follow=True)
    # then a model is stored, active, with the admin as its trainer
    assert "held-out AUC" in " ".join(str(m) for m in resp.context["messages"])
    assert PredictiveModel.objects.filter(active=True, trained_by=admin_user).count() == 1
    assert client.get(f"/admin/scoring/predictivemodel/{PredictiveModel.objects.get().pk}/change/").status_code == 200


def test_api_and_cli_explain_lines_with_the_playbooks_points_and_the_decay(api, active_playbook):
    # given a decision maker who asked for a demo 150 days (five half-lives) ago
    clock.freeze(NOW)
    contact = ContactFactory(account=AccountFactory(industry="Software", employees=900))
    TouchpointFactory(contact=contact, kind="demo_request", occurred_at=NOW - timedelta(days=150))
    services.scores_rebuild_all()
    # when the score is explained through the API, fresh and cached, and the CLI
    fresh = api.get(f"/api/scoring/contacts/{contact.pk}", role="viewer").json()
    cached = api.get(f"/api/scoring/contacts/{contact.pk}", role="viewer", fresh="false").json()
    text = run("explain", str(contact.pk))
    # then the demo line says the playbook's 35 points, the decay and the points after it
    for body in (fresh, cached):
        demo = next(line for line in body["explanation"] if line["rule_id"] == "eng-demo-request")
        assert (demo["playbook_points"], demo["count"], demo["decay"], demo["points"]) == (35, 1, 0.03125, 1.09)
        assert demo["summary"] == "Asked for a demo: 35 pts × 1 × decay 0.031 = 1.1 pts"
    assert "Asked for a demo: 35 pts × 1 × decay 0.031 = 1.1 pts" in text
    # and the account's lines carry the same fields
    account = api.get(f"/api/scoring/accounts/{contact.account_id}").json()
    [best] = account["explanation"]  # engagement below the engaged bar: no role line, only the best contact's share
    assert (best["source"], best["playbook_points"], best["weight"], best["decay"]) == ("contact", 51.09, 0.5, 1.0)
    assert best["summary"].endswith(": 51.1 pts × weight 0.5 = 25.6 pts")


def test_api_serves_lines_cached_before_the_decay_was_recorded(api, world):
    # given a cached score whose lines were stored by an older release (no playbook_points, decay, weight, summary)
    contact = world["contacts"][0]
    score = ContactScore.objects.get(contact=contact)
    score.explanation = [{k: v for k, v in line.items() if k in ("rule_id", "description", "points", "count",
                                                                  "source")} for line in score.explanation]
    score.save(update_fields=["explanation"])
    # when it is served from the cache
    body = api.get(f"/api/scoring/contacts/{contact.pk}", fresh="false").json()
    # then every line reads, with nulls where nothing was recorded and a summary of the points alone
    assert body["explanation"] and all(line["playbook_points"] is None and line["decay"] is None
                                       for line in body["explanation"])
    first = body["explanation"][0]
    assert first["summary"] == f"{first['description']}: {first['points']:.1f} pts"
