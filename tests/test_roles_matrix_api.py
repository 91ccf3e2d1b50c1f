"""Every write operation of the API, for every role: viewer, marketing, sales (a rep), sales manager, RevOps.

The operations are read from the OpenAPI schema, so an operation added without a case here fails
`test_every_write_operation_has_a_case`. Each case builds fresh records for each role (a write uses them up), sends
one valid request and expects one status per role, including another rep's MQL (its owner's manager and RevOps
decide, the rep next to them does not) and a brief its own author tries to approve.

A refused request is 403 `forbidden` in the API's error shape. Where an allowed role's success needs records this
test does not build (themes, trained models, uploads), the case sends an id that does not exist: 404 (or 422)
shows the role got past the permission check, where a refused role gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from smarketing.core import clock

ROLES = ("viewer", "marketing", "sales", "manager", "revops")
NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)
WRITE_METHODS = {"post", "put", "patch", "delete"}


def by_role(viewer: int, marketing: int, sales: int, manager: int, revops: int) -> dict[str, int]:
    return dict(zip(ROLES, (viewer, marketing, sales, manager, revops), strict=True))


def writers(status: int) -> dict[str, int]:
    """Every role that writes gets `status`; viewers read only."""
    return by_role(403, status, status, status, status)


def revops_only(status: int) -> dict[str, int]:
    return by_role(403, 403, 403, 403, status)


class World:
    """The principals (one token each) and builders of fresh records for one request."""

    def __init__(self, people: dict[str, Any]) -> None:
        from smarketing.team.services import api_token_create, user_update
        from smarketing.testing.factories import UserFactory

        self.manager = UserFactory(username="boss", role="sales")
        self.rep2 = UserFactory(username="rep2", role="sales", manager=self.manager)
        user_update(user=people["sales"], data={"manager": self.manager})
        self.users = {**people, "manager": self.manager}
        self.tokens = {role: api_token_create(user=self.users[role], name="matrix")[1] for role in ROLES}
        self.client = Client()

    # --- records ------------------------------------------------------------------------------------------
    def contact(self, **kw: Any) -> Any:
        from smarketing.testing.factories import AccountFactory, ContactFactory

        return ContactFactory(account=AccountFactory(), **kw)

    def mql(self, owner: Any) -> Any:
        """A contact at MQL owned by `owner` (routed by hand: no assignment, the contact's owner decides)."""
        from smarketing.lifecycle.enums import ActorKind
        from smarketing.lifecycle.services import stage_change_record

        c = self.contact(owner=owner)
        for i, stage in enumerate(("lead", "mql")):
            stage_change_record(contact=c, to_stage=stage, occurred_at=datetime(2026, 11, 2 + i, tzinfo=UTC),
                                actor_kind=ActorKind.SYSTEM)
        return c

    def campaign(self) -> Any:
        from smarketing.testing.factories import CampaignFactory

        return CampaignFactory()

    def brief(self, *, signed: tuple[str, ...] = (), launched: bool = False, author: str = "marketing") -> Any:
        from smarketing.campaigns.briefs import brief_create, brief_launch, brief_sign_off

        marketer = self.users["marketing"]
        b = brief_create(campaign_id=self.campaign().pk, data={"core_message": "Close in three days."},
                         actor=marketer)
        if author != "marketing":  # the brief a user wrote while they were in marketing
            from smarketing.campaigns.models import CampaignBrief

            CampaignBrief.objects.filter(pk=b.pk).update(created_by=self.users[author])
        for role in signed:
            brief_sign_off(brief_id=b.pk, user=self.users[role])
        if launched:
            brief_launch(brief_id=b.pk, actor=marketer)
        return b

    def token_of(self, user: Any) -> int:
        from smarketing.team.services import api_token_create

        return api_token_create(user=user, name="spare")[0].pk

    def notification(self, role: str) -> int:
        from smarketing.lifecycle.services_notifications import notification_create

        row = notification_create(user_id=self.users[role].pk, kind="assigned", title="New MQL")
        assert row is not None
        return row.pk

    def webhook(self) -> Any:
        from smarketing.lifecycle.services_webhooks import webhook_endpoint_create

        return webhook_endpoint_create(url="http://127.0.0.1:9/hook", secret="s" * 16,
                                       created_by=self.users["revops"])

    def delivery(self) -> int:
        from smarketing.lifecycle.services_webhooks import webhook_ping

        return webhook_ping(endpoint=self.webhook()).pk

    def insight(self) -> int:
        from smarketing.feedback.models import Insight, Theme

        theme = Theme.objects.create(name="Pricing")
        return Insight.objects.create(theme=theme, title="Pricing: 12 items", reason="volume",
                                      first_signal_at=NOW).pk

    def draft(self) -> int:
        from smarketing.playbook.selectors import default_playbook_data
        from smarketing.playbook.services import playbook_draft_create

        return playbook_draft_create(content=default_playbook_data(), created_by=self.users["revops"]).number

    # --- requests -----------------------------------------------------------------------------------------
    def send(self, role: str, method: str, path: str, body: Any = None, content_type: str = "application/json"
             ) -> Any:
        import json

        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
        return getattr(self.client, method)(path, data=data if method != "delete" else None,
                                            content_type=content_type, headers=headers)


def _yaml_playbook() -> str:
    import yaml

    from smarketing.playbook.selectors import default_playbook_data

    return yaml.safe_dump(default_playbook_data(), sort_keys=False)


@dataclass(frozen=True)
class Case:
    """One write operation (by its OpenAPI operationId), a request built per role, and the status per role."""

    operation: str
    expected: dict[str, int]
    request: Callable[[World, str], tuple[str, str, Any]]  # (method, path, body)
    variant: str = ""
    content_type: str = "application/json"
    notes: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.operation}[{self.variant}]" if self.variant else self.operation


T = "smarketing_team_api_"
P = "smarketing_playbook_api_"
C = "smarketing_crm_api_"
K = "smarketing_campaigns_api_"
L = "smarketing_lifecycle_api_"
F = "smarketing_feedback_api_"
S = "smarketing_scoring_api_"
A = "smarketing_analytics_api_"
AA = "smarketing_analytics_attribution_api_"
I = "smarketing_ingest_api_"  # noqa: E741
MISSING = 987654


def _other_reps_mql(action: str, body: dict[str, Any]) -> Callable[[World, str], tuple[str, str, Any]]:
    return lambda w, r: ("post", f"/api/lifecycle/handoff/{w.mql(w.rep2).pk}/{action}", body)


def _own_mql(action: str, body: dict[str, Any]) -> Callable[[World, str], tuple[str, str, Any]]:
    # Each role's "own" MQL: the rep's own for sales, sales1's for their manager, sales1's for the others.
    return lambda w, r: ("post", f"/api/lifecycle/handoff/{w.mql(w.users['sales']).pk}/{action}", body)


TOUCH = {"channel": "email", "kind": "email_click", "occurred_at": "2026-11-19T10:00:00Z"}

CASES: list[Case] = [
    # team: tokens are self-service (a viewer revokes their own), users are RevOps'
    Case(T + "token_create", writers(201), lambda w, r: ("post", "/api/team/tokens", {"name": "ci"})),
    Case(T + "token_revoke", by_role(200, 200, 200, 200, 200),
         lambda w, r: ("delete", f"/api/team/tokens/{w.token_of(w.users[r])}", None), variant="own token"),
    Case(T + "token_revoke", by_role(404, 404, 404, 404, 200),
         lambda w, r: ("delete", f"/api/team/tokens/{w.token_of(w.rep2)}", None), variant="another's token"),
    Case(T + "token_create", revops_only(201),
         lambda w, r: ("post", "/api/team/tokens", {"name": "ci", "user_id": w.rep2.pk}), variant="for another user"),
    Case(T + "me_update", by_role(200, 200, 200, 200, 200),
         lambda w, r: ("patch", "/api/team/me", {"email_notifications": "off"}), variant="own preferences"),
    Case(T + "user_provision", revops_only(201),
         lambda w, r: ("post", "/api/team/users", {"email": f"new-{r}@example.com", "role": "sales"})),
    Case(T + "user_update", revops_only(200),
         lambda w, r: ("patch", f"/api/team/users/{w.rep2.pk}", {"capacity_per_week": 5})),
    # playbook: drafts by writers, each side signs for itself, RevOps do not sign
    Case(P + "draft_create", writers(201), lambda w, r: ("post", "/api/playbook/versions", _yaml_playbook()),
         content_type="application/yaml"),
    Case(P + "draft_update", writers(200),
         lambda w, r: ("put", f"/api/playbook/versions/{w.draft()}", _yaml_playbook()),
         content_type="application/yaml"),
    Case(P + "signoff", by_role(403, 200, 200, 200, 403),
         lambda w, r: ("post", f"/api/playbook/versions/{w.draft()}/signoff", {})),
    # crm
    Case(C + "account_create", writers(201), lambda w, r: ("post", "/api/accounts", {"name": "Northwind"})),
    Case(C + "account_update", writers(200),
         lambda w, r: ("patch", f"/api/accounts/{w.contact().account.pk}", {"industry": "banking"})),
    Case(C + "contact_create", writers(201),
         lambda w, r: ("post", "/api/contacts", {"email": f"{r}@northwind.example"})),
    Case(C + "contact_update", writers(200),
         lambda w, r: ("patch", f"/api/contacts/{w.contact().pk}", {"title": "CFO"})),
    Case(C + "opportunity_create", writers(201),
         lambda w, r: ("post", "/api/opportunities", {"name": "Northwind renewal",
                                                      "account_id": w.contact().account.pk})),
    Case(C + "opportunity_update", writers(200),
         lambda w, r: ("patch", f"/api/opportunities/{_opportunity(w)}", {"name": "Bigger deal"})),
    # campaigns, touchpoints, members, outreach
    Case(K + "campaign_create", writers(201),
         lambda w, r: ("post", "/api/campaigns", {"name": f"Webinar {r}", "channel": "webinar",
                                                  "start_date": "2026-11-01"})),
    Case(K + "campaign_update", writers(200),
         lambda w, r: ("patch", f"/api/campaigns/{w.campaign().pk}", {"name": "Renamed"})),
    Case(K + "touchpoint_record", writers(201),
         lambda w, r: ("post", "/api/touchpoints", {"contact_id": w.contact().pk, **TOUCH})),
    Case(K + "campaign_member_upsert", writers(201),
         lambda w, r: ("post", f"/api/campaigns/{w.campaign().pk}/members", {"contact_id": w.contact().pk})),
    Case(K + "outreach_record", writers(201), lambda w, r: ("post", "/api/loop/outreach", {"text": "Hello"})),
    # briefs: marketing writes; each side signs for itself; the author does not approve their own; RevOps override
    Case(K + "brief_create", by_role(403, 201, 403, 403, 403),
         lambda w, r: ("post", "/api/loop/briefs", {"campaign_id": w.campaign().pk, "core_message": "x"})),
    Case(K + "brief_update", by_role(403, 200, 403, 403, 403),
         lambda w, r: ("patch", f"/api/loop/briefs/{w.brief().pk}", {"core_message": "Rewritten"})),
    Case(K + "brief_delete", by_role(403, 204, 403, 403, 403),
         lambda w, r: ("delete", f"/api/loop/briefs/{w.brief().pk}", None)),
    Case(K + "brief_revise", by_role(403, 201, 403, 403, 403),
         lambda w, r: ("post", f"/api/loop/briefs/{w.brief(signed=('marketing', 'sales'), launched=True).pk}"
                               "/revisions", {"talk_track": "New"})),
    Case(K + "brief_comment", writers(201),
         lambda w, r: ("post", f"/api/loop/briefs/{w.brief().pk}/comments", {"text": "Target banks"})),
    Case(K + "brief_signoff", by_role(403, 201, 201, 201, 403),
         lambda w, r: ("post", f"/api/loop/briefs/{w.brief().pk}/signoff", {})),
    Case(K + "brief_signoff", by_role(403, 201, 403, 201, 403), variant="self-approved: sales1 wrote it",
         request=lambda w, r: ("post", f"/api/loop/briefs/{w.brief(author='sales').pk}/signoff", {})),
    Case(K + "brief_launch", by_role(403, 200, 403, 403, 200),
         lambda w, r: ("post", f"/api/loop/briefs/{w.brief(signed=('marketing', 'sales')).pk}/launch", {})),
    Case(K + "brief_launch", by_role(403, 409, 403, 403, 409), variant="sales signature only",
         request=lambda w, r: ("post", f"/api/loop/briefs/{w.brief(signed=('sales',)).pk}/launch", {})),
    Case(K + "brief_override", revops_only(201),
         lambda w, r: ("post", f"/api/loop/briefs/{w.brief(signed=('marketing',)).pk}/override",
                       {"reason": "Sales lead away; the date is fixed"})),
    # lifecycle
    Case(L + "stage_change_record", writers(201),
         lambda w, r: ("post", "/api/stage-changes", {"contact_id": w.contact().pk, "to_stage": "mql",
                                                      "occurred_at": "2026-11-19T10:00:00Z"})),
    Case(L + "handoff_qualify", writers(200),
         lambda w, r: ("post", f"/api/lifecycle/handoff/{w.contact().pk}/qualify", None)),
    Case(L + "handoff_accept", by_role(403, 403, 403, 200, 200), _other_reps_mql("accept", {}),
         variant="another rep's MQL"),
    Case(L + "handoff_reject", by_role(403, 403, 403, 200, 200), _other_reps_mql("reject", {"reason_key": "no_need"}),
         variant="another rep's MQL"),
    Case(L + "handoff_recycle", by_role(403, 403, 403, 200, 200), _other_reps_mql("recycle", {}),
         variant="another rep's MQL"),
    Case(L + "handoff_accept", by_role(403, 403, 200, 200, 200), _own_mql("accept", {}), variant="own MQL"),
    Case(L + "handoff_reject", by_role(403, 403, 200, 200, 200), _own_mql("reject", {"reason_key": "no_need"}),
         variant="own MQL"),
    Case(L + "handoff_recycle", by_role(403, 403, 200, 200, 200), _own_mql("recycle", {}), variant="own MQL"),
    Case("smarketing_lifecycle_corrections_api_stage_change_correction", revops_only(201),
         lambda w, r: ("post", f"/api/stage-changes/{_stage_change(w)}/correction", {"reason": "Imported twice"})),
    Case("smarketing_lifecycle_corrections_api_touchpoint_correction", revops_only(201),
         lambda w, r: ("post", f"/api/touchpoints/{_touchpoint(w)}/correction", {"reason": "Dated in 2300"})),
    Case(L + "sla_check", revops_only(200), lambda w, r: ("post", "/api/lifecycle/sla/check", None)),
    Case(L + "notification_read", writers(200),
         lambda w, r: ("post", f"/api/lifecycle/notifications/{w.notification(r)}/read", None)),
    Case(L + "notification_read", by_role(403, 404, 404, 404, 404), variant="another user's",
         request=lambda w, r: ("post", f"/api/lifecycle/notifications/{w.notification('viewer')}/read", None)),
    Case(L + "notification_read_all", writers(200), lambda w, r: ("post", "/api/lifecycle/notifications/read-all",
                                                                  None)),
    Case("smarketing_web_api_workspace_notification_inbox_read", by_role(200, 200, 200, 200, 200),
         lambda w, r: ("post", f"/api/notifications/{w.notification(r)}/read", None), variant="own"),
    Case("smarketing_web_api_workspace_notification_inbox_read", by_role(404, 404, 404, 404, 404),
         variant="another user's",
         request=lambda w, r: ("post", f"/api/notifications/{w.notification('marketing' if r == 'viewer' else 'viewer')}"
                                       "/read", None)),
    Case("smarketing_web_api_workspace_notification_inbox_read_all", by_role(200, 200, 200, 200, 200),
         lambda w, r: ("post", "/api/notifications/read-all", None)),
    Case(L + "webhook_create", revops_only(201),
         lambda w, r: ("post", "/api/lifecycle/webhooks", {"url": "http://127.0.0.1:9/hook", "secret": "s" * 16})),
    Case(L + "webhook_update", revops_only(200),
         lambda w, r: ("patch", f"/api/lifecycle/webhooks/{w.webhook().pk}", {"active": False})),
    Case(L + "webhook_delete", revops_only(204),
         lambda w, r: ("delete", f"/api/lifecycle/webhooks/{w.webhook().pk}", None)),
    Case(L + "webhook_ping", revops_only(200),
         lambda w, r: ("post", f"/api/lifecycle/webhooks/{w.webhook().pk}/ping", None)),
    Case(L + "webhook_delivery_retry", revops_only(200),
         lambda w, r: ("post", f"/api/lifecycle/webhooks/deliveries/{w.delivery()}/retry", None)),
    # feedback, themes, insights
    Case(F + "feedback_record", writers(201), lambda w, r: ("post", "/api/feedback", {"text": "Too pricey"})),
    Case("feedback_record_loop_alias", writers(201),
         lambda w, r: ("post", "/api/loop/feedback", {"text": "Too pricey"})),
    Case(F + "capture_losses", writers(200), lambda w, r: ("post", "/api/loop/capture/opportunity-losses", None)),
    Case(F + "theme_rebuild", writers(202), lambda w, r: ("post", "/api/loop/themes/rebuild", {})),
    Case(F + "theme_assign", writers(200), lambda w, r: ("post", "/api/loop/themes/assign", None)),
    Case(F + "theme_rename", writers(404),
         lambda w, r: ("post", f"/api/loop/themes/{MISSING}/rename", {"name": "Pricing"})),
    Case(F + "theme_merge", writers(404),
         lambda w, r: ("post", f"/api/loop/themes/{MISSING}/merge", {"source_ids": [MISSING + 1]})),
    Case(F + "theme_split", writers(404),
         lambda w, r: ("post", f"/api/loop/themes/{MISSING}/split", {"item_ids": [1]})),
    Case(F + "theme_items", writers(404),
         lambda w, r: ("post", f"/api/loop/themes/{MISSING}/items", {"item_ids": [1]})),
    Case(F + "insight_refresh", writers(201), lambda w, r: ("post", "/api/loop/insights/refresh", {})),
    Case(F + "insight_transition", by_role(403, 200, 403, 403, 200),
         lambda w, r: ("post", f"/api/loop/insights/{w.insight()}/transition", {"to": "acknowledged"})),
    # scoring
    Case(S + "train", writers(422), lambda w, r: ("post", "/api/scoring/train", {})),
    Case(S + "rebuild", writers(202), lambda w, r: ("post", "/api/scoring/rebuild", None)),
    # analytics: a spec in a POST body writes nothing, but a viewer is refused like on any POST
    Case(A + "funnel_post", writers(200),
         lambda w, r: ("post", "/api/analytics/funnel", {"from_stage": "mql", "to_stage": "customer"})),
    Case(A + "goals_post", writers(422),  # no deal was won in this world, so there is nothing to plan with
         lambda w, r: ("post", "/api/analytics/goals", {"period": "2026-Q4"})),
    Case(A + "journeys_post", writers(200), lambda w, r: ("post", "/api/analytics/journeys", {})),
    Case(AA + "attribution_post", writers(200), lambda w, r: ("post", "/api/analytics/attribution", {})),
    Case(AA + "attribution_paths", writers(200),
         lambda w, r: ("post", "/api/analytics/attribution/paths",
                       {"paths": "path;total_conversions;total_conversion_value;total_null\n"
                                  "webinar > email;3;300;2\nemail;1;100;4\n"})),
    Case(AA + "roi_post", writers(200), lambda w, r: ("post", "/api/analytics/roi", {})),
    # imports: RevOps only
    Case(I + "import_upload", revops_only(422), lambda w, r: ("post", "/api/imports", {}),
         content_type="application/json"),
    Case(I + "import_confirm", revops_only(404),
         lambda w, r: ("post", f"/api/imports/{MISSING}/confirm", {})),
]


def _stage_change(w: World) -> int:
    from smarketing.lifecycle.models import StageChange

    return StageChange.objects.filter(contact_id=w.mql(w.rep2).pk).latest("id").pk


def _touchpoint(w: World) -> int:
    from smarketing.testing.factories import TouchpointFactory

    return TouchpointFactory(contact=w.contact(), occurred_at=NOW).pk


def _opportunity(w: World) -> int:
    from smarketing.testing.factories import OpportunityFactory

    return OpportunityFactory(account=w.contact().account).pk


def _write_operations() -> set[str]:
    from smarketing.api import api

    paths = api.get_openapi_schema()["paths"]
    return {op["operationId"] for ops in paths.values() for method, op in ops.items() if method in WRITE_METHODS}


def test_every_write_operation_has_a_case():
    # given the API's write operations as the schema publishes them
    published = _write_operations()
    # then each has at least one case, and no case names an operation that is gone
    covered = {c.operation for c in CASES}
    assert published - covered == set(), "write operations without a role case"
    assert covered - published == set(), "cases for operations the API no longer has"


@pytest.fixture
def world(db, settings) -> World:
    """The shipped playbook adopted, one user per role (as the suite's `users`), sales1's manager and another rep."""
    from smarketing.playbook.services import playbook_bootstrap
    from smarketing.team.services import user_create

    settings.SMARKETING_WEBHOOK_ALLOW = ("127.0.0.1",)
    playbook_bootstrap()
    clock.freeze(NOW)
    return World({role: user_create(username=f"{role}1", password="pw", role=role, email=f"{role}1@example.com")
                  for role in ("marketing", "sales", "revops", "viewer")})


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_role_gets_the_expected_status(world, case):
    # when each role sends the operation's request on records of its own
    got: dict[str, int] = {}
    bodies: dict[str, Any] = {}
    for role in ROLES:
        method, path, body = case.request(world, role)
        response = world.send(role, method, path, body, content_type=case.content_type)
        got[role] = response.status_code
        bodies[role] = response.content[:300]
        if response.status_code == 403:
            # then a refusal is the API's error, in its shape
            assert response.json()["code"] == "forbidden", (role, response.content)
    # then each role gets the status the rules give it
    assert got == case.expected, {r: bodies[r] for r in ROLES if got[r] != case.expected[r]}
