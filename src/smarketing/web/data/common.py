"""Page figures cached per (spec, data version) in the shared `ComputedFigure` table, and the data version.

Every process (web servers, the task worker) reads and writes the same rows, so a result computed by
`smarketing worker` reaches every web server. Analytics results that are slow on a large CRM are computed by
the task queue (`web.tasks.figure_compute_task`); a page that finds none shows "being computed" and refreshes.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import logging
import pickle
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from smarketing.campaigns.selectors import campaigns_data_version
from smarketing.core import clock
from smarketing.core.errors import DomainError, ValidationFailed
from smarketing.crm.selectors import crm_data_version
from smarketing.feedback.selectors import feedback_data_version
from smarketing.lifecycle.selectors import stage_change_last_id
from smarketing.playbook.selectors import playbook_version_active_get
from smarketing.web.models import ComputedFigure

T = TypeVar("T")
log = logging.getLogger(__name__)

_VERSION_TTL = 2.0  # seconds; analytics panels may lag a write by this much, live lists (the queue) never do
_version_memo: tuple[float, str, int] | None = None
# A queued computation not finished after this long is presumed lost (worker killed) and queued again.
PENDING_TIMEOUT = timedelta(minutes=10)
# An older version's value is served for this long while the new one is computed by the worker.
STALE_FOR = timedelta(minutes=15)
# Up to this many contacts an analytics query runs inside the request (well under a second); above it, the worker
# (`SMARKETING_FIGURES_INLINE_CONTACTS`, default 20,000; 0 sends every figure to the worker).
INLINE_MAX_CONTACTS: int = settings.SMARKETING_FIGURES_INLINE_CONTACTS
# Tests set this so queued computations run inside the request and results are deterministic.
RUN_INLINE = False
# The worker's kind for a page figure (`page_figure`): this prefix and the figure's name.
PAGE_KIND = "page:"
_MEMO_MAX = 128
# A page showing a figure notes when (`ComputedFigure.viewed_at`, read by `web.data.refresh`) at most this often per
# process, so a view costs no write: the refresh only asks which figures were seen in the last minutes.
VIEWED_EVERY = timedelta(minutes=1)
_VIEWED_MAX = 1024
_viewed_marks: OrderedDict[str, float] = OrderedDict()  # key -> when this process last noted a view (monotonic)
_memo: OrderedDict[str, tuple[str, Any]] = OrderedDict()  # this process's copy of rows it has read: key -> (version, value)
_inline: contextvars.ContextVar[bool] = contextvars.ContextVar("smk_web_inline", default=False)
# Set by a worker warming up (`recomputing`): figures are computed inline even when a value is stored.
_recompute: contextvars.ContextVar[bool] = contextvars.ContextVar("smk_web_recompute", default=False)
# The keys of the figures this request found still being computed (the page polls `figures_settled` for them).
_computing: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("smk_web_computing", default=())
_skipped: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("smk_web_skipped", default=())
# The last computation's engine memo and the store it was read from (`_memo_carry`).
_carried: tuple[Any, dict[Any, Any]] | None = None
_carried_lock = threading.Lock()


def _version_and_size() -> tuple[str, int]:
    global _version_memo
    now = time.monotonic()
    memo = _version_memo
    if memo is not None and now - memo[0] < _VERSION_TTL:
        return memo[1], memo[2]
    value, size = _read_version()
    _version_memo = (time.monotonic(), value, size)
    return value, size


def data_version() -> str:
    """A fingerprint of everything the analytics read, re-read at most every two seconds per process."""
    return _version_and_size()[0]


def contact_count() -> int:
    """How many contacts the CRM holds (as of the memoised data version)."""
    return _version_and_size()[1]


def forget_version() -> None:
    """Drop the memoised version (tests and writes in this process that must be seen at once)."""
    global _version_memo
    _version_memo = None


def _read_version() -> tuple[str, int]:
    """The owning apps' fingerprints of their tables (last ids of append-only history, latest edits of the rest),
    the active playbook, and the number of contacts."""
    crm, contacts = crm_data_version()
    try:
        active = playbook_version_active_get()
        playbook = f"{active.pk}@{active.updated_at}"
    except DomainError:  # no active playbook yet
        playbook = "none"
    parts = [stage_change_last_id(), campaigns_data_version(), crm, feedback_data_version(), playbook]
    return "|".join(str(p) for p in parts), contacts


def figure_key(name: str, spec: Any) -> str:
    return hashlib.sha256(f"{name}:{spec!r}".encode()).hexdigest()


def _remember(key: str, version: str, value: Any) -> None:
    _memo[key] = (version, value)
    _memo.move_to_end(key)
    while len(_memo) > _MEMO_MAX:
        _memo.popitem(last=False)


class _Stored:
    """What the table holds for a key: its version, value (or the domain error it raised) and pending state."""

    def __init__(self, row: ComputedFigure | None) -> None:
        self.row = row

    def value_for(self, version: str) -> tuple[bool, Any]:
        row = self.row
        if row is None or row.version != version or row.computed_at is None:
            return False, None
        if row.error:
            raise ValidationFailed(row.error, record=row.name)
        memo = _memo.get(row.key)
        if memo is not None and memo[0] == version:
            return True, memo[1]
        try:
            value = pickle.loads(bytes(row.value)) if row.value is not None else None  # noqa: S301 - our own rows
        except Exception:  # noqa: BLE001 - a row written by older code is a miss, not an error
            return False, None
        _remember(row.key, version, value)
        return True, value

    def stale_value(self) -> tuple[bool, Any]:
        row = self.row
        if row is None or row.computed_at is None or row.error or clock.now() - row.computed_at > STALE_FOR:
            return False, None
        return self.value_for(row.version)


def _load(key: str, version: str) -> _Stored:
    """What is stored for a key (this process's copy first); nothing while recomputing (`recomputing`)."""
    if _recompute.get():
        return _Stored(None)
    memo = _memo.get(key)
    if memo is not None and memo[0] == version:
        row = ComputedFigure(key=key, version=version, computed_at=clock.now())
        return _StoredMemo(row, memo[1])
    return _Stored(ComputedFigure.objects.filter(key=key).first())


class _StoredMemo(_Stored):
    def __init__(self, row: ComputedFigure, value: Any) -> None:
        super().__init__(row)
        self._value = value

    def value_for(self, version: str) -> tuple[bool, Any]:
        return True, self._value


def store(*, key: str, name: str, version: str, value: Any = None, error: str = "", kind: str = "",
          spec: str = "") -> None:
    """Write a computed value (or the domain error it raised) for a version, clearing its pending mark; with the
    query kind and spec that compute it, the worker can compute it again (`web.data.refresh`)."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL) if not error else None
    fields = {"name": name[:80], "version": version, "value": data, "error": error, "computed_at": clock.now(),
              "pending_version": "", "pending_since": None, **_described(kind, spec)}
    try:
        with transaction.atomic():
            ComputedFigure.objects.update_or_create(key=key, defaults=fields)
    except IntegrityError:  # another process inserted the same key first: overwrite theirs
        ComputedFigure.objects.filter(key=key).update(**fields)
    if not error:
        _remember(key, version, value)


def _described(kind: str, spec: str) -> dict[str, str]:
    return {"kind": kind[:80], "spec": spec} if kind else {}


def claim(*, key: str, name: str, version: str, kind: str = "", spec: str = "") -> bool:
    """Mark `key` as being computed for `version`; True for the one caller that should enqueue the computation."""
    now = clock.now()
    taken = (ComputedFigure.objects.filter(key=key).exclude(version=version, computed_at__isnull=False)
             .filter(~Q(pending_version=version) | Q(pending_since__lt=now - PENDING_TIMEOUT) | Q(pending_since=None))
             .update(pending_version=version, pending_since=now, **_described(kind, spec)))
    if taken:
        return True
    if ComputedFigure.objects.filter(key=key).exists():
        return False  # computed for this version already, or being computed
    try:
        with transaction.atomic():
            ComputedFigure.objects.create(key=key, name=name[:80], pending_version=version, pending_since=now,
                                          **_described(kind, spec))
    except IntegrityError:
        return False
    return True


# The priority of the figures a background refresh queues (`web.data.refresh`): below a page's (the queue's default),
# so a figure someone waits for is computed before them.
REFRESH_PRIORITY = -10
PAGE_PRIORITY = 0


def _queue_for_page(*, key: str, name: str, kind: str, spec_json: str, version: str) -> None:
    """Queue a figure's computation for a page once (`claim`). One already queued by a background refresh, at its
    lower priority, is raised to a page's: the page waits for that computation, not behind the rest of the refresh
    (after a catch-up the refresh queues up to two dozen figures, and a page opened meanwhile waited for all)."""
    from django_tasks_db.models import DBTaskResult

    from smarketing.web.tasks import figure_compute_task

    if claim(key=key, name=name, version=version, kind=kind, spec=spec_json):
        figure_compute_task.using(priority=PAGE_PRIORITY).enqueue(kind, spec_json, version)
        return
    (DBTaskResult.objects.filter(task_path=figure_compute_task.module_path, status="READY",
                                 priority__lt=PAGE_PRIORITY, args_kwargs__args=[kind, spec_json, version])
     .update(priority=PAGE_PRIORITY))


def cached(name: str, spec: Any, compute: Callable[[], T], *, version: str | None = None) -> T:
    """Compute once per (name, spec, data version) inside the request; the value is shared through the table.

    For quick reads over the ORM. Analytics query kinds go through `query_result`, which uses the task queue.
    """
    key = figure_key(name, spec)
    ver = version or data_version()
    found, value = _load(key, ver).value_for(ver)
    if found:
        return value  # type: ignore[no-any-return]
    value = compute()
    store(key=key, name=name, version=ver, value=value)
    return value


def query_spec(kind: str, data: dict[str, Any]) -> Any:
    """The analytics spec for raw input, validated exactly as the API and CLI validate it."""
    from smarketing.analytics.registry import parse_spec

    return parse_spec(kind, {k: v for k, v in data.items() if v is not None})


def query_result(kind: str, data: dict[str, Any]) -> Any:
    """The analytics query kind's typed result for a spec, from the shared cache.

    A spec never computed for this data version runs inline on a small CRM (or in tests); otherwise it is queued
    once for `smarketing worker`, the last result (if recent) is served meanwhile, and None means "being
    computed". A DomainError the query raised is cached and raised again for the same data version.
    """
    spec = query_spec(kind, data)
    spec_json = spec.model_dump_json()
    name = f"query:{kind}"
    key = figure_key(name, spec_json)
    ver, size = _version_and_size()
    stored = _load(key, ver)
    found, value = _shown(key, stored, ver)
    if found:
        return _noted(value)
    if RUN_INLINE or _inline.get() or size <= INLINE_MAX_CONTACTS:
        try:
            return _noted(compute_query(kind=kind, spec_json=spec_json, version=ver))
        finally:
            _viewed(key)
    _queue_for_page(key=key, name=name, kind=kind, spec_json=spec_json, version=ver)
    _viewed(key)
    _computing.set((*_computing.get(), key))
    stale, old = stored.stale_value()
    return _noted(old) if stale else None


def page_figure(name: str, args: dict[str, Any]) -> Any:
    """A page figure read through an owning app's selector (`web.data.pages.PAGE_FIGURES[name]`, given `args`)
    from the shared cache, handled like an analytics query kind: inline on a small CRM (and in tests), else
    queued once for the worker with None meanwhile, so a first view after a period change never waits for it."""
    spec_json = json.dumps(args, sort_keys=True, default=str)
    kind = f"{PAGE_KIND}{name}"
    key = figure_key(f"query:{kind}", spec_json)
    ver, size = _version_and_size()
    stored = _load(key, ver)
    found, value = _shown(key, stored, ver)
    if found:
        return value
    if RUN_INLINE or _inline.get() or size <= INLINE_MAX_CONTACTS:
        try:
            return compute_query(kind=kind, spec_json=spec_json, version=ver)
        finally:
            _viewed(key)
    _queue_for_page(key=key, name=f"query:{kind}", kind=kind, spec_json=spec_json, version=ver)
    _viewed(key)
    _computing.set((*_computing.get(), key))
    stale, old = stored.stale_value()
    return old if stale else None


def _shown(key: str, stored: _Stored, version: str) -> tuple[bool, Any]:
    """The stored value for `version` (found, value), noting that the page shows it; a domain error stored for it
    is raised, and noted too (its message is what the page shows)."""
    try:
        found, value = stored.value_for(version)
    except DomainError:
        _viewed(key)
        raise
    if found:
        _viewed(key)
    return found, value


def _viewed(key: str) -> None:
    """Note that a page showed (or waits for) this figure, in its row at most once a minute (`VIEWED_EVERY`) per
    process, so a page view costs no write. The worker's own computations (`inline`: the warm-up) are no view."""
    if _inline.get():
        return
    last = _viewed_marks.get(key)
    if last is not None and time.monotonic() - last < VIEWED_EVERY.total_seconds():
        return
    # The wall clock, not the product's (which tests may freeze): the refresh runs in the worker, on its own clock.
    now = timezone.now()
    (ComputedFigure.objects.filter(key=key).filter(Q(viewed_at=None) | Q(viewed_at__lt=now - VIEWED_EVERY))
     .update(viewed_at=now))
    _viewed_marks[key] = time.monotonic()
    _viewed_marks.move_to_end(key)
    while len(_viewed_marks) > _VIEWED_MAX:
        _viewed_marks.popitem(last=False)


def _noted(result: Any) -> Any:
    """Remember the result's notes about skipped stored rows for this request's page (see `skipped_rows`)."""
    for warning in getattr(result, "warnings", None) or []:
        if warning not in _skipped.get():
            _skipped.set((*_skipped.get(), warning))
    return result


def skipped_rows() -> list[str]:
    """The notes about stored rows analytics skipped for this request (and reset them for the next one)."""
    value = list(_skipped.get())
    _skipped.set(())
    return value


def compute_query(*, kind: str, spec_json: str, version: str) -> Any:
    """Run an analytics query kind (the API's and CLI's runner), or a page figure (`page_figure`), and store its
    result or domain error."""
    key, name = figure_key(f"query:{kind}", spec_json), f"query:{kind}"
    # Why look first: a query queued by a page may have been computed since, inside another one (the metrics' roi is
    # the scoreboard's own roi), or by a page that ran it inline; running it again would double the wait.
    found, value = _load(key, version).value_for(version)
    if found:
        return value
    if kind.startswith(PAGE_KIND):
        from smarketing.web.data.pages import PAGE_FIGURES

        value = PAGE_FIGURES[kind.removeprefix(PAGE_KIND)](json.loads(spec_json))
        store(key=key, name=name, version=version, value=value, kind=kind, spec=spec_json)
        return value
    from smarketing.analytics.engine import open_engine
    from smarketing.analytics.queries.roi import results_shared
    from smarketing.analytics.registry import get_kind, run_query

    spec = get_kind(kind).spec.model_validate_json(spec_json)
    try:
        # A query run inside this one (the metrics' roi) is kept in, and read from, the row its own kind uses.
        with (results_shared(lambda inner, inner_json, run: cached(f"query:{inner}", inner_json, run, version=version)),
              open_engine() as engine):
            _memo_carry(engine)
            result = run_query(spec, engine=engine)
    except DomainError as exc:
        store(key=key, name=name, version=version, error=exc.message, kind=kind, spec=spec_json)
        raise
    store(key=key, name=name, version=version, value=result, kind=kind, spec=spec_json)
    return result


def _memo_carry(engine: Any) -> None:
    """Give the engine the memo of the last computation's engine when both read the very same store (or, when the
    store changed since, the reads of the whole history it kept that the change left alone or only appended to),
    and keep its memo for the next one.

    Why: the memo holds what every figure reads alike whatever its period or model (a level's sorted touches: a
    second of reading and sorting 5 million touches on a large CRM); each computation opens its own engine, so a
    page's figures, queued one after another, read and sorted the same touches once each. Carried while the store
    is unchanged, they are read once per store change; and of the reads of the whole history every period slices
    (`analytics.queries.kept`), those whose tables a catch-up left alone go on, and those of tables it only appended
    to (the touches, after touches were recorded) take in the new rows instead of reading everything again. Costs
    the memory of those arrays between computations."""
    global _carried
    from smarketing.analytics.queries.kept import MEMO_CARRIED, kept_carried
    from smarketing.analytics.store.touches_cache import store_identity

    identity = store_identity(engine)
    if identity is None:
        return
    with _carried_lock:
        if _carried is not None and _carried[0] == identity:
            engine.memo = _carried[1]
        elif _carried is not None:
            engine.memo.update(kept_carried(_carried[1], _carried[0], identity))
        _carried = (identity, engine.memo)
    # The measures keep reads of the whole history that every period slices (metrics.rows.kept) only in a memo
    # that is carried on like this one.
    engine.memo[MEMO_CARRIED] = True


def inline() -> contextvars.Token[bool]:
    """Compute queries inside this context instead of queueing them (the worker's own computations)."""
    return _inline.set(True)


def inline_reset(token: contextvars.Token[bool]) -> None:
    _inline.reset(token)


@contextlib.contextmanager
def recomputing() -> Iterator[None]:
    """Compute every figure asked for inside this context, inline, even when a value is stored for the data version
    (and store it again): a worker starting reads, through the carried memo, what the figures keep of the whole
    history (`web.data.warm.worker_warm`). No view is noted."""
    inline_token, recompute_token = _inline.set(True), _recompute.set(True)
    try:
        yield
    finally:
        _recompute.reset(recompute_token)
        _inline.reset(inline_token)


def pending() -> tuple[str, ...]:
    """The keys of the figures this request met still being computed (and reset them for the next request)."""
    value = tuple(dict.fromkeys(_computing.get()))
    _computing.set(())
    return value


FIGURE_KEY = re.compile(r"[0-9a-f]{64}")
SETTLED_MAX_KEYS = 64


def figures_settled(keys: list[str]) -> bool:
    """Whether none of these figures is still being computed: each was stored (value or error) since it was
    queued, or was never queued, or its computation is presumed lost (`PENDING_TIMEOUT`; the page's next look
    queues it again). One query; a page waiting for the worker asks this twice a second (`figures_ready` view)."""
    lost = clock.now() - PENDING_TIMEOUT
    return not (ComputedFigure.objects.filter(key__in=keys).exclude(pending_version="")
                .filter(pending_since__gte=lost).exists())


def clear(*, rows: bool = False) -> None:
    """Forget this process's copies and the memoised data version (and with `rows`, every shared row too)."""
    global _carried
    _memo.clear()
    _viewed_marks.clear()
    _carried = None
    forget_version()
    if rows:
        ComputedFigure.objects.all().delete()
