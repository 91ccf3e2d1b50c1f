"""The feedback page before themes exist: RevOps get a button that queues a theme run; nobody is told to run a CLI."""

from __future__ import annotations

from django_tasks_db.models import DBTaskResult

from smarketing.core import clock
from smarketing.feedback.services import feedback_record
from smarketing.feedback.theme_services import themes_rebuild

RUN = "smarketing.feedback.tasks.themes_rebuild_task"


def test_revops_find_themes_now_and_nobody_is_sent_to_the_command_line(world, login):
    # Given feedback and no theme run yet
    for text in ("The per-seat price is too high for them.", "No mobile approvals for the CFO."):
        feedback_record(kind="objection", text=text, occurred_at=clock.now(), assign=False)
    # Then RevOps see a button, marketing a plain sentence, and no one a command to run
    revops = login("revops").get("/feedback/").content.decode()
    marketing = login("marketing").get("/feedback/").content.decode()
    assert "Find themes now" in revops and "Find themes now" not in marketing
    assert "grouped into themes in the background" in marketing
    for html in (revops, marketing):
        assert "smarketing feedback" not in html and "`" not in html.split('id="h-themes"')[1].split("</section>")[0]
    # When RevOps press it twice, one run is queued and everyone is told themes are on their way
    for _ in range(2):
        response = login("revops").post("/feedback/themes/find/")
        assert response.status_code == 302
    assert DBTaskResult.objects.filter(task_path=RUN).count() == 1
    assert "Themes are being found now" in login("marketing").get("/feedback/").content.decode()
    # And once the worker has run it, the page shows the themes at once (not the list it showed before the run)
    themes_rebuild(backend="tfidf")
    html = login("marketing").get("/feedback/").content.decode()
    assert 'id="theme-' in html and "Grouped by word statistics (TF-IDF)" in html
