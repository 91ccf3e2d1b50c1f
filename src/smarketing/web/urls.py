from django.contrib.auth import views as auth_views
from django.urls import path

from smarketing.web.views import (
    auth,
    campaigns,
    feedback,
    funnel,
    goals,
    handoff,
    journeys,
    metrics,
    playbook,
    records,
    scoreboard,
)

urlpatterns = [
    path("", scoreboard.home, name="home"),
    path("login/", auth.WarmingLoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("funnel/", funnel.funnel_page, name="funnel"),
    path("handoff/", handoff.handoff_page, name="handoff"),
    path("handoff/<int:contact_id>/<str:action>/", handoff.handoff_decide, name="handoff_decide"),
    path("campaigns/", campaigns.campaign_list, name="campaigns"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign"),
    path("journeys/", journeys.journeys_page, name="journeys"),
    path("feedback/", feedback.feedback_page, name="feedback"),
    path("feedback/capture/", feedback.feedback_capture, name="feedback_capture"),
    path("feedback/insights/<int:pk>/", feedback.insight_move, name="insight_move"),
    path("playbook/", playbook.playbook_page, name="playbook"),
    path("playbook/new/", playbook.playbook_draft, name="playbook_new"),
    path("playbook/v<int:number>/", playbook.playbook_version, name="playbook_version"),
    path("playbook/v<int:number>/edit/", playbook.playbook_draft, name="playbook_edit"),
    path("playbook/v<int:number>/signoff/", playbook.playbook_signoff, name="playbook_signoff"),
    path("goals/", goals.goals_page, name="goals"),
    path("contacts/<int:contact_id>/", records.contact_page, name="contact"),
    path("accounts/<int:account_id>/", records.account_page, name="account"),
    path("opportunities/<int:opportunity_id>/", records.opportunity_page, name="opportunity"),
    path("metrics/", metrics.metrics_page, name="metrics"),
    path("metrics/<str:name>/", metrics.measure_records, name="measure_records"),
]
