"""Every web action that writes, for every role: viewer, marketing, sales (a rep), sales manager, RevOps.

The web app's routes are read from its URL configuration: a route that is neither a write action with cases here
nor listed as a page that only reads fails `test_every_route_is_classified`. Each case posts a form as the browser
does (no HTMX, so a success answers with its redirect) on records built for that role, and expects one status per
role; a refusal is 403 with the page's layout. Another rep's MQL is decided by its owner's manager and RevOps only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver

ROLES = ("viewer", "marketing", "sales", "manager", "revops")
MISSING = 987654

# Routes that only read (a POST to them writes nothing), and the sign-in routes every visitor uses.
READ_ONLY = {"home", "funnel", "handoff", "campaigns", "campaign", "journeys", "feedback", "playbook",
             "playbook_version", "goals", "contact", "account", "opportunity", "metrics", "measure_records",
             "import_run", "import_run_rejected", "search", "notifications", "period_reset", "settings",
             "figures_ready"}
SIGN_IN = {"login", "logout"}
# What reading pages may write: the figures they cache.
CACHES = {"web.ComputedFigure"}


def by_role(viewer: int, marketing: int, sales: int, manager: int, revops: int) -> dict[str, int]:
    return dict(zip(ROLES, (viewer, marketing, sales, manager, revops), strict=True))


class Team:
    """The principals logged in, and builders of fresh records for one request."""

    def __init__(self, users: dict[str, Any]) -> None:
        from smarketing.team.services import user_update
        from smarketing.testing.factories import UserFactory

        self.manager: Any = UserFactory(username="boss", role="sales")
        self.rep2: Any = UserFactory(username="rep2", role="sales", manager=self.manager)
        user_update(user=users["sales"], data={"manager": self.manager})
        self.users = {**users, "manager": self.manager}

    def client(self, role: str) -> Client:
        client = Client()
        client.force_login(self.users[role])
        return client

    def mql(self, owner: Any) -> int:
        from smarketing.lifecycle.enums import ActorKind
        from smarketing.lifecycle.services import stage_change_record
        from smarketing.testing.factories import AccountFactory, ContactFactory

        c: Any = ContactFactory(account=AccountFactory(), owner=owner)
        for i, stage in enumerate(("lead", "mql")):
            stage_change_record(contact=c, to_stage=stage, occurred_at=datetime(2026, 11, 2 + i, tzinfo=UTC),
                                actor_kind=ActorKind.SYSTEM)
        return c.pk

    def insight(self) -> int:
        from smarketing.feedback.models import Insight, Theme

        theme = Theme.objects.create(name="Pricing")
        return Insight.objects.create(theme=theme, title="Pricing: 12 items", reason="volume",
                                      first_signal_at=datetime(2026, 11, 1, tzinfo=UTC)).pk

    def draft(self) -> int:
        from smarketing.playbook.selectors import default_playbook_data
        from smarketing.playbook.services import playbook_draft_create

        return playbook_draft_create(content=default_playbook_data(), created_by=self.users["revops"]).number

    def brief(self, *, signed: tuple[str, ...] = (), author: str = "marketing") -> int:
        from smarketing.campaigns.briefs import brief_create, brief_sign_off
        from smarketing.campaigns.models import CampaignBrief
        from smarketing.testing.factories import CampaignFactory

        campaign: Any = CampaignFactory()
        b = brief_create(campaign_id=campaign.pk, data={"core_message": "Close in three days."},
                         actor=self.users["marketing"])
        if author != "marketing":  # the brief a user wrote while they were in marketing
            CampaignBrief.objects.filter(pk=b.pk).update(created_by=self.users[author])
        for role in signed:
            brief_sign_off(brief_id=b.pk, user=self.users[role])
        return b.pk

    def notification(self, user: Any) -> int:
        from smarketing.lifecycle.services_notifications import notification_create

        row = notification_create(user_id=user.pk, kind="assigned", title="New MQL")
        assert row is not None
        return row.pk

    def token(self, user: Any) -> int:
        from smarketing.team.services import api_token_create

        return api_token_create(user=user, name="spare")[0].pk


def _yaml() -> str:
    import yaml

    from smarketing.playbook.selectors import default_playbook_data

    return yaml.safe_dump(default_playbook_data(), sort_keys=False)


@dataclass(frozen=True)
class Action:
    route: str  # the URL name
    variant: str
    expected: dict[str, int]
    request: Callable[[Team, str], tuple[str, dict[str, Any]]]  # (path, form)

    @property
    def id(self) -> str:
        return f"{self.route}[{self.variant}]"


def _decide(action: str, owner: str, form: dict[str, Any]) -> Callable[[Team, str], tuple[str, dict[str, Any]]]:
    def build(team: Team, role: str) -> tuple[str, dict[str, Any]]:
        who = team.rep2 if owner == "rep2" else team.users["sales"]
        return f"/handoff/{team.mql(who)}/{action}/", form

    return build


ACTIONS = [
    *(Action("handoff_decide", f"{verb}, another rep's MQL", by_role(403, 403, 403, 302, 302),
             _decide(verb, "rep2", form))
      for verb, form in (("accept", {}), ("reject", {"reason_key": "no_need"}), ("recycle", {}))),
    *(Action("handoff_decide", f"{verb}, own MQL", by_role(403, 403, 302, 302, 302), _decide(verb, "sales", form))
      for verb, form in (("accept", {}), ("reject", {"reason_key": "no_need"}), ("recycle", {}))),
    Action("feedback_capture", "record", by_role(403, 302, 302, 302, 302),
           lambda t, r: ("/feedback/capture/", {"text": "Pricing is too high for a team our size"})),
    Action("themes_find", "queue a theme run", by_role(403, 403, 403, 403, 302),
           lambda t, r: ("/feedback/themes/find/", {})),
    Action("insight_move", "acknowledge", by_role(403, 302, 403, 403, 302),
           lambda t, r: (f"/feedback/insights/{t.insight()}/", {"to_status": "acknowledged"})),
    Action("playbook_new", "draft", by_role(403, 302, 302, 302, 302),
           lambda t, r: ("/playbook/new/", {"yaml": _yaml(), "notes": "From the matrix"})),
    Action("playbook_edit", "draft", by_role(403, 302, 302, 302, 302),
           lambda t, r: (f"/playbook/v{t.draft()}/edit/", {"yaml": _yaml(), "notes": "Edited"})),
    Action("playbook_signoff", "own side", by_role(403, 302, 302, 302, 403),
           lambda t, r: (f"/playbook/v{t.draft()}/signoff/", {"comment": "ok"})),
    Action("imports", "upload nothing", by_role(403, 403, 403, 403, 422), lambda t, r: ("/import/", {})),
    Action("import_run_confirm", "a run that does not exist", by_role(403, 403, 403, 403, 404),
           lambda t, r: (f"/import/{MISSING}/confirm/", {})),
    Action("brief_act", "sign your side", by_role(403, 302, 302, 302, 403),
           lambda t, r: (f"/briefs/{t.brief()}/signoff/", {"comment": "ok"})),
    Action("brief_act", "sign a brief you wrote (sales1)", by_role(403, 302, 403, 302, 403),
           lambda t, r: (f"/briefs/{t.brief(author='sales')}/signoff/", {})),
    Action("brief_act", "launch", by_role(403, 302, 403, 403, 302),
           lambda t, r: (f"/briefs/{t.brief(signed=('marketing', 'sales'))}/launch/", {})),
    Action("brief_act", "override with a reason", by_role(403, 403, 403, 403, 302),
           lambda t, r: (f"/briefs/{t.brief(signed=('marketing',))}/override/", {"reason": "Sales away"})),
    Action("me", "issue a token", by_role(403, 201, 201, 201, 201),
           lambda t, r: ("/me/", {"name": "spreadsheet", "days": "30"})),
    Action("notification_read", "own", by_role(302, 302, 302, 302, 302),
           lambda t, r: (f"/notifications/{t.notification(t.users[r])}/read/", {})),
    Action("notification_read", "another's", by_role(404, 404, 404, 404, 404),
           lambda t, r: (f"/notifications/{t.notification(t.rep2)}/read/", {})),
    Action("notifications_read_all", "own", by_role(302, 302, 302, 302, 302),
           lambda t, r: ("/notifications/read-all/", {})),
    Action("me_notifications", "own email choice", by_role(302, 302, 302, 302, 302),
           lambda t, r: ("/me/notifications/", {"email_notifications": "off"})),
    Action("settings_users", "create a user", by_role(403, 403, 403, 403, 302),
           lambda t, r: ("/settings/users/", {"username": f"new-{r}", "email": f"new-{r}@example.com",
                                              "role": "sales", "password": "a-long-password-1"})),
    Action("settings_user", "set a manager", by_role(403, 403, 403, 403, 302),
           lambda t, r: (f"/settings/users/{t.rep2.pk}/", {"action": "manager", "manager-manager": t.manager.pk})),
    Action("settings_tokens", "issue a token for a rep", by_role(403, 403, 403, 403, 201),
           lambda t, r: ("/settings/tokens/", {"user": t.rep2.pk, "name": "sync", "days": "30"})),
    Action("settings_token_revoke", "another's token", by_role(403, 403, 403, 403, 302),
           lambda t, r: (f"/settings/tokens/{t.token(t.rep2)}/revoke/", {})),
    Action("settings_webhooks", "add an endpoint", by_role(403, 403, 403, 403, 201),
           lambda t, r: ("/settings/webhooks/", {"url": "https://hooks.example.com/x", "format": "slack"})),
    Action("settings_webhook_test", "an endpoint that does not exist", by_role(403, 403, 403, 403, 404),
           lambda t, r: (f"/settings/webhooks/{MISSING}/test/", {})),
    Action("settings_webhook_active", "an endpoint that does not exist", by_role(403, 403, 403, 403, 404),
           lambda t, r: (f"/settings/webhooks/{MISSING}/active/", {"active": "0"})),
    Action("me_token_revoke", "own token", by_role(302, 302, 302, 302, 302),
           lambda t, r: (f"/me/tokens/{t.token(t.users[r])}/revoke/", {})),
    Action("me_token_revoke", "another's token", by_role(404, 404, 404, 404, 404),
           lambda t, r: (f"/me/tokens/{t.token(t.rep2)}/revoke/", {})),
]


def _route_names(patterns: list[Any]) -> set[str]:
    names: set[str] = set()
    for p in patterns:
        if isinstance(p, URLResolver):
            names |= _route_names(p.url_patterns)
        elif isinstance(p, URLPattern) and p.name:
            names.add(p.name)
    return names


def test_every_route_is_classified():
    from smarketing.web import urls

    routes = _route_names(urls.urlpatterns)
    actions = {a.route for a in ACTIONS}
    assert routes - actions - READ_ONLY - SIGN_IN == set(), "web routes with neither role cases nor a read-only entry"
    assert (actions | READ_ONLY | SIGN_IN) - routes == set(), "cases for routes the web app no longer has"
    assert actions & READ_ONLY == set()


@pytest.fixture
def team(world, users) -> Team:
    return Team(users)


@pytest.mark.parametrize("action", ACTIONS, ids=[a.id for a in ACTIONS])
def test_each_role_gets_the_expected_status(team, action):
    got: dict[str, int] = {}
    for role in ROLES:
        path, form = action.request(team, role)
        response = team.client(role).post(path, form)
        got[role] = response.status_code
        if response.status_code == 403:
            # a refusal keeps the layout and says why
            html = response.content.decode()
            assert "<nav" in html and "role=\"alert\"" in html, (role, html[:300])
    assert got == action.expected


@pytest.mark.parametrize("route", sorted(READ_ONLY - {"import_run", "import_run_rejected"}))
def test_a_post_to_a_page_that_reads_writes_nothing(team, route):
    """A viewer's POST to a reading page changes no row: the pages hold no write behind a POST."""
    from django.apps import apps
    from django.urls import reverse

    args = {"campaign": [1], "playbook_version": [1], "contact": [1], "account": [1], "opportunity": [1],
            "measure_records": ["mqls_entered"]}.get(route, [])
    viewer = team.client("viewer")
    counts = {m._meta.label: m.objects.count() for m in apps.get_models()}
    viewer.post(reverse(route, args=args), {"to_status": "closed", "text": "x"})
    after = {m._meta.label: m.objects.count() for m in apps.get_models()}
    changed = {k: (v, after[k]) for k, v in counts.items() if after[k] != v and k not in CACHES}
    assert changed == {}


def test_revops_run_the_admin_but_cannot_make_anyone_a_superuser(team, users):
    # given a RevOps admin (staff, every model permission, not a superuser)
    revops = users["revops"]
    assert revops.is_staff and not revops.is_superuser
    client = team.client("revops")
    page = client.get(f"/admin/team/user/{revops.pk}/change/")
    assert page.status_code == 200
    # when they post their own change form with the superuser box ticked
    form = {"username": revops.username, "email": revops.email, "role": "revops", "is_active": "on",
            "is_staff": "on", "is_superuser": "on", "timezone": "UTC", "capacity_per_week": "0",
            "date_joined_0": "2026-11-01", "date_joined_1": "09:00:00"}
    client.post(f"/admin/team/user/{revops.pk}/change/", form)
    # then they are still no superuser
    revops.refresh_from_db()
    assert not revops.is_superuser


def test_revops_users_are_not_superusers_however_they_are_made(db, users):
    # given RevOps users made every way the product makes users: createuser's service, provisioning through the
    # API's service, a role change, and the demo's seed
    from smarketing.demo.services import _users as demo_users
    from smarketing.demo.simulator import Person
    from smarketing.team.services import user_provision, user_update

    provisioned, _ = user_provision(email="rita@example.com", role="revops")
    promoted = user_update(user=users["viewer"], data={"role": "revops"})
    [demo] = [u for u in demo_users([Person("mkt", "Maria", "M", "marketing"), Person("sam", "Sam", "S", "sales"),
                                     Person("ops", "Olga", "O", "revops"), Person("vic", "Vic", "V", "viewer")])
              if u.role == "revops"]
    # then each runs the admin (staff, with the models' permissions) and none is a superuser
    for user in (users["revops"], provisioned, promoted, demo):
        user.refresh_from_db()
        assert user.is_staff and not user.is_superuser, user.username
        assert user.has_perm("team.change_user"), user.username


@pytest.mark.parametrize(("role", "offered"), [
    ("viewer", set()), ("marketing", {"signoff"}), ("sales", {"signoff"}), ("revops", {"override"}),
])
def test_the_campaign_page_offers_each_role_only_the_brief_actions_that_work(team, role, offered):
    from smarketing.campaigns.models import CampaignBrief

    pk = team.brief()
    campaign_id = CampaignBrief.objects.get(pk=pk).campaign_id
    html = team.client(role).get(f"/campaigns/{campaign_id}/").content.decode()
    shown = {action for action in ("signoff", "launch", "override") if f"/briefs/{pk}/{action}/" in html}
    assert shown == offered


def test_a_brief_signed_by_both_sides_offers_marketing_the_launch(team):
    from smarketing.campaigns.models import CampaignBrief

    pk = team.brief(signed=("marketing", "sales"))
    campaign_id = CampaignBrief.objects.get(pk=pk).campaign_id
    html = team.client("marketing").get(f"/campaigns/{campaign_id}/").content.decode()
    assert f"/briefs/{pk}/launch/" in html and f"/briefs/{pk}/override/" not in html
    done = team.client("marketing").post(f"/briefs/{pk}/launch/", follow=True)
    assert "launched" in done.content.decode() and CampaignBrief.objects.get(pk=pk).launched_at is not None
