"""The web pages' URLs. Each view is named by its path under smarketing.web.views and its module is imported when
first needed (web.lazy_views), so the server answers its first request without loading the analytics and the
playbook's schema that the pages import; the login page's view is imported here, as it is the first page asked for.
"""

from django.contrib.auth import views as auth_views
from django.urls import path

from smarketing.web.lazy_views import LazyView, lazy_view
from smarketing.web.views import auth


def view(name: str) -> LazyView:
    """The view `name` ("funnel.funnel_page") of smarketing.web.views, imported on its first call."""
    return lazy_view(f"smarketing.web.views.{name}")


urlpatterns = [
    path("", view("scoreboard.home"), name="home"),
    path("login/", auth.WarmingLoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("funnel/", view("funnel.funnel_page"), name="funnel"),
    path("handoff/", view("handoff.handoff_page"), name="handoff"),
    path("handoff/<int:contact_id>/<str:action>/", view("handoff.handoff_decide"), name="handoff_decide"),
    path("campaigns/", view("campaigns.campaign_list"), name="campaigns"),
    path("campaigns/<int:pk>/", view("campaigns.campaign_detail"), name="campaign"),
    path("briefs/<int:pk>/<str:action>/", view("briefs.brief_act"), name="brief_act"),
    path("journeys/", view("journeys.journeys_page"), name="journeys"),
    path("feedback/", view("feedback.feedback_page"), name="feedback"),
    path("feedback/capture/", view("feedback.feedback_capture"), name="feedback_capture"),
    path("feedback/themes/find/", view("feedback.themes_find"), name="themes_find"),
    path("feedback/insights/<int:pk>/", view("feedback.insight_move"), name="insight_move"),
    path("playbook/", view("playbook.playbook_page"), name="playbook"),
    path("playbook/new/", view("playbook_editor.playbook_draft"), name="playbook_new"),
    path("playbook/v<int:number>/", view("playbook.playbook_version"), name="playbook_version"),
    path("playbook/v<int:number>/edit/", view("playbook_editor.playbook_draft"), name="playbook_edit"),
    path("playbook/v<int:number>/signoff/", view("playbook.playbook_signoff"), name="playbook_signoff"),
    path("goals/", view("goals.goals_page"), name="goals"),
    path("contacts/<int:contact_id>/", view("records.contact_page"), name="contact"),
    path("accounts/<int:account_id>/", view("records.account_page"), name="account"),
    path("opportunities/<int:opportunity_id>/", view("records.opportunity_page"), name="opportunity"),
    path("period/reset/", view("periods.period_reset"), name="period_reset"),
    path("figures/ready/", view("figures.figures_ready"), name="figures_ready"),
    path("metrics/", view("metrics.metrics_page"), name="metrics"),
    path("metrics/<str:name>/", view("metrics.measure_records"), name="measure_records"),
    path("import/", view("imports.import_page"), name="imports"),
    path("import/<int:pk>/", view("imports.import_run_page"), name="import_run"),
    path("import/<int:pk>/confirm/", view("imports.import_run_confirm_view"), name="import_run_confirm"),
    path("import/<int:pk>/rejected/<str:name>", view("imports.import_run_rejected"), name="import_run_rejected"),
    path("me/", view("me.me_page"), name="me"),
    path("search/", view("search.search_page"), name="search"),
    path("notifications/", view("notifications.notifications_page"), name="notifications"),
    path("notifications/<int:pk>/read/", view("notifications.notification_read"), name="notification_read"),
    path("notifications/read-all/", view("notifications.notifications_read_all"), name="notifications_read_all"),
    path("me/tokens/<int:token_id>/revoke/", view("me.me_token_revoke"), name="me_token_revoke"),
    path("me/notifications/", view("me_notifications.me_notifications"), name="me_notifications"),
    path("settings/", view("settings.settings_home"), name="settings"),
    path("settings/users/", view("settings_users.settings_users"), name="settings_users"),
    path("settings/users/<int:pk>/", view("settings_users.settings_user"), name="settings_user"),
    path("settings/tokens/", view("settings_tokens.settings_tokens"), name="settings_tokens"),
    path("settings/tokens/<int:token_id>/revoke/", view("settings_tokens.settings_token_revoke"),
         name="settings_token_revoke"),
    path("settings/webhooks/", view("settings_webhooks.settings_webhooks"), name="settings_webhooks"),
    path("settings/webhooks/<int:pk>/test/", view("settings_webhooks.settings_webhook_test"),
         name="settings_webhook_test"),
    path("settings/webhooks/<int:pk>/active/", view("settings_webhooks.settings_webhook_active"),
         name="settings_webhook_active"),
]
