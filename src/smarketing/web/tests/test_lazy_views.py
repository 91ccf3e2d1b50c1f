"""The URL conf names the pages' views by their dotted path (web.lazy_views): each imports its module on its first call,
under the import lock the preload and the API's build hold too, and a path that names no view fails loudly."""

from __future__ import annotations

import sys
import threading
from importlib import import_module
from pathlib import Path

import pytest
from django.urls import resolve, reverse

from smarketing.web import urls as web_urls
from smarketing.web.lazy_views import IMPORT_LOCK, LazyView, lazy_view


def _page_views() -> list[tuple[str, LazyView]]:
    return [(pattern.name or "", pattern.callback) for pattern in web_urls.urlpatterns
            if isinstance(pattern.callback, LazyView)]


def test_every_lazy_page_view_is_the_function_its_path_names():
    # Given the URL conf's pages named by dotted path
    views = _page_views()
    assert len(views) > 40
    for name, view in views:
        # when each is loaded, then it is the function at that path, and the route keeps its name
        function = getattr(import_module(view.module_name), view.view_name)
        assert view.load() is function and callable(function), name
        assert view.module_name.startswith("smarketing.web.views.") and reverse(name, kwargs=_kwargs(name)), name


def _kwargs(name: str) -> dict[str, object]:
    pattern = next(p for p in web_urls.urlpatterns if p.name == name)
    converters = pattern.pattern.converters  # type: ignore[attr-defined]
    return {key: (1 if type(converter).__name__ == "IntConverter" else "x") for key, converter in converters.items()}


def test_a_resolved_page_names_its_view_by_its_module_and_function():
    match = resolve("/funnel/")

    assert match.url_name == "funnel"
    assert match._func_path == "smarketing.web.views.funnel.funnel_page"


def test_a_page_answers_through_its_lazy_view(login):
    client = login("marketing")

    assert client.get(reverse("notifications")).status_code == 200


@pytest.fixture
def module_dir(tmp_path: Path):
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("lazyviewcase_")]:
        del sys.modules[name]


def test_a_view_module_is_imported_under_the_import_lock(module_dir):
    # Given a view module that, while it is imported, asks from another thread whether the import lock is free
    (module_dir / "lazyviewcase_lock.py").write_text(
        "import threading\n"
        "from smarketing.web.lazy_views import IMPORT_LOCK\n"
        "free = []\n"
        "def _try():\n"
        "    got = IMPORT_LOCK.acquire(blocking=False)\n"
        "    free.append(got)\n"
        "    if got:\n"
        "        IMPORT_LOCK.release()\n"
        "probe = threading.Thread(target=_try)\n"
        "probe.start()\n"
        "probe.join()\n"
        "def page(request):\n"
        "    return free\n")
    view = lazy_view("lazyviewcase_lock.page")
    # when the view is first called
    answer = view(None)
    # then its module was imported while the lock was held (the other thread could not take it), and the lock is
    # free again
    assert answer == [False]
    assert IMPORT_LOCK.acquire(blocking=False)
    IMPORT_LOCK.release()


def test_a_view_waits_for_an_import_running_on_another_thread(module_dir):
    # Given another thread holding the import lock (the preload, or another view's first import)
    (module_dir / "lazyviewcase_wait.py").write_text("def page(request):\n    return 'answered'\n")
    view = lazy_view("lazyviewcase_wait.page")
    held, release, answers = threading.Event(), threading.Event(), []

    def holder() -> None:
        with IMPORT_LOCK:
            held.set()
            release.wait(30)
            # the waiting view has not imported its module while the lock was held
            answers.append("lazyviewcase_wait" in sys.modules)

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(10)
    timer = threading.Timer(0.5, release.set)
    timer.start()
    # when the view is first called, then it answered after the other import had finished
    answers.append(view(None))
    thread.join()
    assert answers == [False, "answered"]
    timer.cancel()


def test_a_path_that_names_no_view_fails_loudly(module_dir):
    (module_dir / "lazyviewcase_empty.py").write_text("")

    with pytest.raises(ModuleNotFoundError):
        lazy_view("lazyviewcase_missing.page").load()
    with pytest.raises(AttributeError):
        lazy_view("lazyviewcase_empty.page").load()
    with pytest.raises(ValueError):
        lazy_view("page")
