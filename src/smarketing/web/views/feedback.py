"""Feedback: capture what customers say, see themes with their trend and revenue at stake, work the inbox."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from smarketing.core import clock
from smarketing.core.errors import DomainError
from smarketing.crm.selectors import account_list
from smarketing.feedback.insight_services import insight_transition
from smarketing.feedback.selectors import feedback_list, theme_account_list
from smarketing.feedback.services import feedback_record
from smarketing.feedback.tasks import rebuild_schedule, rebuild_waiting
from smarketing.feedback.theme_selectors import theme_run_latest
from smarketing.team.roles import INSIGHT_ROLES, REVOPS_ROLES
from smarketing.web import charts
from smarketing.web.access import WRITE_ROLES, can, roles_required
from smarketing.web.data.common import forget_version
from smarketing.web.data.measures import metrics
from smarketing.web.data.pages import feedback_by_kind, insight_rows, theme_rows
from smarketing.web.formatting import money
from smarketing.web.forms import web_capture_form_class
from smarketing.web.tables import Column, Table
from smarketing.web.views.common import page, period_context, period_from

THEMES_SHOWN = 12


def _capture_form_class() -> type:
    return web_capture_form_class()


def _render(request: HttpRequest, form: object, status: int = 200) -> HttpResponse:
    period, error = period_from(request)
    themes = theme_rows(period=period)
    by_kind = [] if themes else feedback_by_kind(period=period) or []
    recent = list(feedback_list()[:12])
    tables = {
        "themes": Table("themes", "Feedback themes by revenue at stake", [
            Column("theme", "Theme"), Column("key_phrases", "Key phrases"), Column("items", "Items", "int"),
            Column("recent", "Items in the last 4 weeks", "int"), Column("accounts", "Accounts", "int"),
            Column("open_pipeline", "Open pipeline", "money"), Column("arr", "Customer ARR", "money"),
            Column("revenue_at_stake", "Revenue at stake", "money")], themes,
            period=f"trend: 8 weeks to {'today' if clock.now() < period.end else 'the end of ' + period.label}")
        if themes else
        Table("themes", "Feedback by kind (themes not built yet)", [
            Column("theme", "Kind", "label"), Column("items", "Items", "int"), Column("accounts", "Accounts", "int"),
            Column("revenue_at_stake", "Open pipeline at stake", "money")], by_kind, period=period.label),
    }
    chart_rows = themes or by_kind
    return page(request, "web/feedback.html", {
        **period_context(request, period, error), "form": form, "themes": themes, "by_kind": by_kind,
        "measures": metrics(period, names=["feedback_items_recorded"]),
        "insights": insight_rows(), "recent": recent,
        "theme_accounts": theme_account_list(theme_ids=[t["id"] for t in themes[:THEMES_SHOWN]]),
        "can_capture": can(request.user, WRITE_ROLES),
        "can_move_insights": can(request.user, frozenset({"marketing", "revops"})),
        "can_find_themes": can(request.user, REVOPS_ROLES),
        "themes_coming": not themes and rebuild_waiting(),
        "theme_run": theme_run_latest() if themes else None,
        "chart": charts.bar_chart(
            [charts.Bar(str(r["theme"]), r["revenue_at_stake"], href=f"#theme-{r['id']}" if "id" in r else "")
             for r in chart_rows[:8]], title="Revenue at stake by theme", fmt=money, value_name="Revenue at stake"),
        "sparks": {t["id"]: charts.line_chart(
            [(f"{d:%-d %b}", float(v)) for d, v in zip(t["trend_weeks"], t["trend"], strict=True)],
            title=f"Items per week: {t['theme']}", width=200, height=84, value_name="Items") for t in themes[:20]},
    }, status=status, tables=tables)


@login_required
def feedback_page(request: HttpRequest) -> HttpResponse:
    return _render(request, _capture_form_class()())


@roles_required(WRITE_ROLES, "record feedback")
def feedback_capture(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("feedback")
    form = _capture_form_class()(request.POST)
    if not form.is_valid():
        return _render(request, form, status=422)
    if hasattr(form, "capture"):  # the feedback app's form records through its own capture service
        if form.capture(author=request.user) is None:
            return _render(request, form, status=422)
        forget_version()
        messages.success(request, "Thanks — feedback recorded. It joins a theme at the next theme run.")
        return redirect("feedback")
    data = form.cleaned_data
    account = None
    if data.get("account"):
        account = account_list(q=data["account"]).first()
        if account is None:
            form.add_error("account", f"no account named like {data['account']!r}; leave it empty or check the name")
            return _render(request, form, status=422)
    try:
        feedback_record(kind=data["kind"], text=data["text"], occurred_at=clock.now(), source="web",
                        account=account, author=request.user)
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _render(request, form, status=exc.status)
    forget_version()
    messages.success(request, "Thanks — feedback recorded. It joins a theme at the next theme run.")
    return redirect("feedback")


@roles_required(REVOPS_ROLES, "start a theme run")
def themes_find(request: HttpRequest) -> HttpResponse:
    """RevOps start grouping feedback into themes now (the worker runs it); a run already on its way is not doubled."""
    if request.method != "POST":
        return redirect("feedback")
    if rebuild_schedule(actor_id=request.user.pk):
        messages.success(request, "Finding themes now: the worker groups the feedback and this page shows the themes "
                                  "when it is done (usually within a minute).")
    else:
        messages.info(request, "Themes are already being found; this page shows them when the run is done.")
    return redirect("/feedback/#h-themes")


@roles_required(INSIGHT_ROLES, "work the insights inbox")
def insight_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move an insight on (acknowledge, acted on with the response, close) through the feedback app's service."""
    if request.method != "POST":
        return redirect("feedback")
    try:
        text = request.POST.get("response_note", "").strip()
        to_status = request.POST.get("to_status", "")
        insight_transition(insight_id=pk, to_status=to_status, actor=request.user,
                   note=request.POST.get("note", "").strip() or text,
                   response_note=text if to_status == "acted_on" else "")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        forget_version()
        messages.success(request, f"Insight {pk} is now {request.POST.get('to_status', '').replace('_', ' ')}.")
    return redirect("/feedback/#h-ins")
