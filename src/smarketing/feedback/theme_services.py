"""Writes of themes: clustering runs, incremental assignment and a person's edits (rename, merge, split, move).

A rebuild re-clusters every item, then keeps identity and human edits:
1. clusters are matched to the previous themes by shared items (one-to-one, Hungarian), so ids stay stable;
2. a cluster that resembles a theme a person merged away is folded into the theme it was merged into;
3. items a person placed (pinned: moves and splits) stay where they were put;
4. a theme a person named keeps its name; other themes are named by their key phrases.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from smarketing.core import clock
from smarketing.core.errors import Conflict, NotFound, ValidationFailed
from smarketing.feedback import themes_engine as engine
from smarketing.feedback.enums import AssignmentMethod, ThemeBackend, ThemeEditKind, ThemeStatus
from smarketing.feedback.models import FeedbackItem, Theme, ThemeAssignment, ThemeEdit, ThemeRun
from smarketing.feedback.text import sentiment

# Cosine to the nearest theme centroid below which a new item waits for the next run.
ASSIGN_THRESHOLD = {ThemeBackend.TFIDF: 0.12, ThemeBackend.EMBEDDING: 0.35}
THEMES_LOCK = 5_100_001  # advisory lock key of theme writes
FOLD_SHARE = 0.5  # share of a cluster's items that came from a merged-away theme for it to follow the merge
Embed = Callable[[list[str]], np.ndarray]


AUTO = "auto"


def default_backend() -> str:
    """The configured backend; "auto" (the default) is embeddings where the model is installed, else TF-IDF."""
    configured = str(settings.SMARKETING.get("THEME_BACKEND") or AUTO)
    if configured != AUTO:
        return configured
    from smarketing.feedback import embeddings

    return ThemeBackend.EMBEDDING if embeddings.available() else ThemeBackend.TFIDF


def _embedder(backend: str, embed: Embed | None) -> Embed | None:
    if backend != ThemeBackend.EMBEDDING:
        return None
    if embed is not None:
        return embed
    from smarketing.feedback import embeddings

    return lambda texts: embeddings.encode(texts)


def _check_backend(backend: str) -> str:
    if backend not in ThemeBackend.values:
        raise ValidationFailed(f"theme backend {backend!r} is not one of {ThemeBackend.values}", field="backend")
    return backend


@dataclass(frozen=True)
class RunSummary:
    run: ThemeRun
    themes: int
    kept: int
    new: int
    retired: int
    unassigned: int


def themes_rebuild(*, backend: str | None = None, k: int | None = None, actor: Any = None,
                   embed: Embed | None = None) -> RunSummary:
    """Re-cluster every feedback item, keeping theme identity and every human edit (see module docstring)."""
    backend = _check_backend(backend if backend and backend != AUTO else default_backend())
    started = clock.now()
    rows = list(FeedbackItem.objects.order_by("id").values_list("id", "text"))
    ids = [r[0] for r in rows]
    texts = [r[1] for r in rows]
    emb = _embedder(backend, embed)
    if emb is not None:
        result = engine.cluster_embedding(texts, embed=emb, k=k)
    else:
        result = engine.cluster_tfidf(texts, k=k)
    with transaction.atomic():
        _lock_themes()
        return _apply_run(backend=backend, k=k, actor=actor, started=started, ids=ids, result=result)


def _lock_themes() -> None:
    """Serialise writers of themes (a queued rebuild and a CLI one): the second matches against the first's result.

    SQLite already serialises write transactions (IMMEDIATE mode); PostgreSQL takes a transaction advisory lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [THEMES_LOCK])


def _apply_run(*, backend: str, k: int | None, actor: Any, started: Any, ids: list[int],
               result: engine.Clustering) -> RunSummary:
    from smarketing.feedback.embeddings import model_name

    run = ThemeRun.objects.create(backend=backend, model_name=model_name() if backend == ThemeBackend.EMBEDDING else "",
                                  rebuild=True, started_at=started, items=len(ids), themes_found=result.k,
                                  vocabulary=result.vocabulary, idf=result.idf, triggered_by=actor,
                                  params={"k": k, "k_used": result.k, "silhouette": result.silhouette})
    pinned = dict(ThemeAssignment.objects.filter(pinned=True, theme__status=ThemeStatus.ACTIVE)
                  .values_list("item_id", "theme_id"))
    old_sets: dict[int, set[int]] = defaultdict(set)
    for item_id, theme_id in ThemeAssignment.objects.filter(theme__status=ThemeStatus.ACTIVE).values_list(
            "item_id", "theme_id"):
        old_sets[theme_id].add(item_id)
    clusters: list[set[int]] = [set() for _ in range(result.k)]
    for item_id, label in zip(ids, result.labels, strict=True):
        if label >= 0 and item_id not in pinned:
            clusters[label].add(item_id)
    mapping = engine.match(clusters, dict(old_sets))
    kept = len(set(mapping.values()))
    merged_sets, merge_target = _merged_away()
    for c, members in enumerate(clusters):
        if c in mapping or not members:
            continue
        source, share = engine.best_overlap(members, merged_sets)
        if source is not None and share >= FOLD_SHARE and merge_target.get(source):
            mapping[c] = merge_target[source]
    themes = {t.pk: t for t in Theme.objects.filter(pk__in=set(mapping.values()) | set(pinned.values()))}
    new = 0
    for c, members in enumerate(clusters):
        if c not in mapping and members:
            theme = Theme.objects.create(name=engine.name_from(result.phrases[c]), key_phrases=result.phrases[c],
                                         backend=backend, last_run=run)
            themes[theme.pk] = theme
            mapping[c] = theme.pk
            new += 1
    # final membership: cluster result through the mapping, then pins on top
    final: dict[int, int | None] = {}
    for item_id, label in zip(ids, result.labels, strict=True):
        final[item_id] = mapping.get(label) if label >= 0 else None
    final.update(pinned)
    retired = _retire_unused(set(themes) | {t for t in final.values() if t}, run)
    _write_assignments(ids=ids, result=result, final=final, pinned=pinned, run=run, backend=backend)
    _refresh_theme_descriptions(themes=list(themes.values()), ids=ids, result=result, final=final, run=run,
                                backend=backend)
    run.themes_kept = kept
    run.themes_new = new
    run.unassigned = sum(1 for t in final.values() if t is None)
    run.finished_at = clock.now()
    run.save(update_fields=["themes_kept", "themes_new", "unassigned", "finished_at"])
    active = Theme.objects.filter(status=ThemeStatus.ACTIVE).count()
    return RunSummary(run=run, themes=active, kept=kept, new=new, retired=retired, unassigned=run.unassigned)


def _merged_away() -> tuple[dict[int, set[int]], dict[int, int]]:
    """Items of each theme a person merged away, and the active theme each one now lives in."""
    sets: dict[int, set[int]] = {}
    for edit in ThemeEdit.objects.filter(kind=ThemeEditKind.MERGE).order_by("id"):
        if edit.other_id:
            sets.setdefault(edit.other_id, set()).update(int(i) for i in edit.item_ids)
    status = dict(Theme.objects.values_list("id", "status"))
    parent = dict(Theme.objects.filter(merged_into__isnull=False).values_list("id", "merged_into_id"))
    target: dict[int, int] = {}
    for source in sets:
        node, seen = source, set()
        while node in parent and node not in seen:
            seen.add(node)
            node = parent[node]
        if status.get(node) == ThemeStatus.ACTIVE:
            target[source] = node
    return sets, target


def _retire_unused(used: set[int], run: ThemeRun) -> int:
    """Active themes that no cluster, pin or split claims any more are retired (kept for history, not deleted)."""
    return Theme.objects.filter(status=ThemeStatus.ACTIVE).exclude(pk__in=used).update(
        status=ThemeStatus.RETIRED, last_run=run, updated_at=clock.now())


def _write_assignments(*, ids: list[int], result: engine.Clustering, final: dict[int, int | None],
                       pinned: dict[int, int], run: ThemeRun, backend: str) -> None:
    texts = dict(FeedbackItem.objects.filter(pk__in=ids).values_list("id", "text"))
    objs = []
    for row, item_id in enumerate(ids):
        theme_id = final[item_id]
        note = "" if theme_id else (result.notes[row] or "not grouped")
        method = (AssignmentMethod.MANUAL if item_id in pinned else
                  AssignmentMethod.CLUSTER if theme_id else AssignmentMethod.UNASSIGNED)
        objs.append(ThemeAssignment(item_id=item_id, theme_id=theme_id, score=result.scores[row], method=method,
                                    pinned=item_id in pinned, sentiment=sentiment(texts[item_id]).score,
                                    note=note, run=run))
    ThemeAssignment.objects.bulk_create(objs, batch_size=500, update_conflicts=True, unique_fields=["item"],
                                        update_fields=["theme", "score", "method", "pinned", "sentiment", "note",
                                                       "run", "updated_at"])


def _refresh_theme_descriptions(*, themes: list[Theme], ids: list[int], result: engine.Clustering,
                                final: dict[int, int | None], run: ThemeRun, backend: str) -> None:
    """Recompute each theme's centroid, score and key phrases from its final members."""
    order = [t.pk for t in themes]
    index = {pk: i for i, pk in enumerate(order)}
    groups: list[list[int]] = [[] for _ in order]
    labels = [-1] * len(ids)
    for row, item_id in enumerate(ids):
        theme_id = final.get(item_id)
        if theme_id in index:
            groups[index[theme_id]].append(row)
            labels[row] = index[theme_id]
    vocab = result.vocabulary if backend == ThemeBackend.TFIDF else None
    centroids = engine.group_centroids(result.vectors, groups, vocabulary=vocab) if result.vectors is not None \
        else [{} for _ in order]
    phrases = (engine.key_phrases(result.texts, labels, len(order), scores=result.scores) if result.texts
               else [[] for _ in order])
    now = clock.now()
    for i, theme in enumerate(themes):
        theme.centroid = centroids[i]
        if phrases[i]:
            theme.key_phrases = phrases[i]
        if not theme.name_is_manual:
            theme.name = engine.name_from(theme.key_phrases)
        theme.backend = backend
        theme.last_run = run
        theme.status = ThemeStatus.ACTIVE
        theme.updated_at = now
    Theme.objects.bulk_update(themes, ["centroid", "key_phrases", "name", "backend", "last_run", "status",
                                       "updated_at"], batch_size=200)


# --- incremental ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AssignSummary:
    assigned: int
    unassigned: int
    rebuilt: bool


def themes_assign_new(*, embed: Embed | None = None, item_ids: Iterable[int] | None = None) -> AssignSummary:
    """Place items that have no assignment yet on the nearest active theme; below the threshold they wait.

    With no run yet this does a first full build instead.
    """
    run = ThemeRun.objects.filter(rebuild=True, finished_at__isnull=False).order_by("-started_at", "-id").first()
    if run is None:
        if not FeedbackItem.objects.exists():
            return AssignSummary(0, 0, False)
        summary = themes_rebuild(embed=embed)
        return AssignSummary(summary.run.items - summary.unassigned, summary.unassigned, True)
    qs = FeedbackItem.objects.filter(theme_assignment__isnull=True).order_by("id")
    if item_ids is not None:
        qs = qs.filter(pk__in=list(item_ids))
    rows = list(qs.values_list("id", "text"))
    backend = run.backend
    themes = list(Theme.objects.filter(status=ThemeStatus.ACTIVE, backend=backend).order_by("id"))
    vocab = run.vocabulary if backend == ThemeBackend.TFIDF else None
    vectorise = _vectoriser(run, embed)
    _fill_missing_centroids(themes, vectorise, vocab)
    if not rows:
        return AssignSummary(0, 0, False)
    vectors = vectorise([t for _, t in rows])
    usable = [t for t in themes if t.centroid]
    matrix = engine.centroid_matrix([t.centroid for t in usable], vocabulary=vocab)
    placed = engine.nearest(vectors, matrix, threshold=ASSIGN_THRESHOLD[ThemeBackend(backend)])
    objs = []
    for (item_id, text), (j, score) in zip(rows, placed, strict=True):
        theme = usable[j] if j >= 0 else None
        objs.append(ThemeAssignment(item_id=item_id, theme=theme, score=score,
                                    method=AssignmentMethod.INCREMENTAL if theme else AssignmentMethod.UNASSIGNED,
                                    sentiment=sentiment(text).score, run=run,
                                    note="" if theme else "no theme close enough yet; grouped at the next rebuild"))
    with transaction.atomic():
        _lock_themes()
        ThemeAssignment.objects.bulk_create(objs, batch_size=500, ignore_conflicts=True)
    assigned = sum(1 for o in objs if o.theme is not None)
    return AssignSummary(assigned, len(objs) - assigned, False)


def _vectoriser(run: ThemeRun, embed: Embed | None) -> Callable[[list[str]], Any]:
    if run.backend == ThemeBackend.TFIDF:
        return lambda texts: engine.tfidf_transform(texts, vocabulary=run.vocabulary, idf=run.idf)
    emb = _embedder(run.backend, embed)
    assert emb is not None
    return lambda texts: emb(engine.prepare(texts))


def _fill_missing_centroids(themes: list[Theme], vectorise: Callable[[list[str]], Any],
                            vocab: dict[str, int] | None) -> None:
    """Themes created by a split have no centroid until their members are vectorised here."""
    missing = [t for t in themes if not t.centroid]
    for theme in missing:
        texts = list(FeedbackItem.objects.filter(theme_assignment__theme=theme).values_list("text", flat=True))
        if not texts:
            continue
        vectors = vectorise(texts)
        theme.centroid = engine.group_centroids(vectors, [list(range(len(texts)))], vocabulary=vocab)[0]
        theme.save(update_fields=["centroid", "updated_at"])


# --- a person's edits -------------------------------------------------------------------------------------------

def theme_get_for_edit(*, pk: int) -> Theme:
    theme = Theme.objects.select_for_update().filter(pk=pk).first()
    if theme is None:
        raise NotFound(f"theme {pk} does not exist", record=f"theme:{pk}")
    if theme.status != ThemeStatus.ACTIVE:
        raise Conflict(f"theme {pk} is {theme.status}; only active themes can be edited", field="status",
                       record=f"theme:{pk}")
    return theme


@transaction.atomic
def theme_rename(*, theme_id: int, name: str, actor: Any = None) -> Theme:
    """Name a theme; the name is kept by every later run."""
    theme = theme_get_for_edit(pk=theme_id)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("a theme name cannot be empty", field="name", record=f"theme:{theme_id}")
    if len(name) > 200:
        raise ValidationFailed("a theme name is at most 200 characters", field="name", record=f"theme:{theme_id}")
    ThemeEdit.objects.create(kind=ThemeEditKind.RENAME, theme=theme, old_name=theme.name, new_name=name, actor=actor)
    theme.name = name
    theme.name_is_manual = True
    theme.save(update_fields=["name", "name_is_manual", "updated_at"])
    return theme


@transaction.atomic
def theme_merge(*, target_id: int, source_ids: list[int], actor: Any = None, note: str = "") -> Theme:
    """Fold source themes into the target; later runs fold clusters that look like a source into the target too."""
    target = theme_get_for_edit(pk=target_id)
    sources = [theme_get_for_edit(pk=pk) for pk in dict.fromkeys(source_ids) if pk != target_id]
    if not sources:
        raise ValidationFailed("name at least one other theme to merge into this one", field="source_ids",
                               record=f"theme:{target_id}")
    size = ThemeAssignment.objects.filter(theme=target).count()
    for source in sources:
        items = list(ThemeAssignment.objects.filter(theme=source).values_list("item_id", flat=True))
        ThemeEdit.objects.create(kind=ThemeEditKind.MERGE, theme=target, other=source, item_ids=items, actor=actor,
                                 old_name=source.name, new_name=target.name, note=note)
        ThemeAssignment.objects.filter(theme=source).update(theme=target, updated_at=clock.now())
        if source.centroid and target.centroid:
            target.centroid = engine.merge_centroids(target.centroid, size, source.centroid, len(items))
        size += len(items)
        source.status = ThemeStatus.MERGED
        source.merged_into = target
        source.save(update_fields=["status", "merged_into", "updated_at"])
    target.key_phrases = list(dict.fromkeys([*target.key_phrases, *[p for s in sources for p in s.key_phrases]]))[:8]
    target.save(update_fields=["centroid", "key_phrases", "updated_at"])
    return target


def _existing_items(item_ids: list[int], *, field: str) -> list[int]:
    ids = sorted({int(i) for i in item_ids})
    if not ids:
        raise ValidationFailed("name at least one feedback item", field=field)
    found = set(FeedbackItem.objects.filter(pk__in=ids).values_list("id", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"feedback item(s) {missing[:10]} do not exist", field=field,
                       record=f"feedback:{missing[0]}")
    return ids


@transaction.atomic
def theme_split(*, theme_id: int, item_ids: list[int], name: str = "", actor: Any = None, note: str = "") -> Theme:
    """Move some of a theme's items into a new theme; the items are pinned there, so runs keep the split."""
    theme = theme_get_for_edit(pk=theme_id)
    ids = _existing_items(item_ids, field="item_ids")
    members = set(ThemeAssignment.objects.filter(theme=theme).values_list("item_id", flat=True))
    outside = [i for i in ids if i not in members]
    if outside:
        raise ValidationFailed(f"feedback item(s) {outside[:10]} are not in theme {theme_id}", field="item_ids",
                               record=f"theme:{theme_id}")
    if len(ids) >= len(members):
        raise ValidationFailed(f"splitting all {len(members)} items out of theme {theme_id} leaves it empty; "
                               "rename it instead", field="item_ids", record=f"theme:{theme_id}")
    name = (name or "").strip()
    new = Theme.objects.create(name=name or f"{theme.name} (split)", name_is_manual=bool(name), split_from=theme,
                               backend=theme.backend, key_phrases=[], centroid={}, last_run=theme.last_run)
    ThemeEdit.objects.create(kind=ThemeEditKind.SPLIT, theme=theme, other=new, item_ids=ids, actor=actor,
                             old_name=theme.name, new_name=new.name, note=note)
    ThemeAssignment.objects.filter(item_id__in=ids).update(theme=new, pinned=True, method=AssignmentMethod.MANUAL,
                                                           updated_at=clock.now())
    # Why: both centroids changed; they are recomputed from members at the next assignment pass.
    Theme.objects.filter(pk__in=[theme.pk, new.pk]).update(centroid={}, updated_at=clock.now())
    return new


@transaction.atomic
def theme_items_move(*, theme_id: int, item_ids: list[int], actor: Any = None, note: str = "") -> Theme:
    """Put items in a theme by hand; they stay there across runs (pinned)."""
    theme = theme_get_for_edit(pk=theme_id)
    ids = _existing_items(item_ids, field="item_ids")
    ThemeEdit.objects.create(kind=ThemeEditKind.MOVE, theme=theme, item_ids=ids, actor=actor, new_name=theme.name,
                             note=note)
    texts = dict(FeedbackItem.objects.filter(pk__in=ids).values_list("id", "text"))
    ThemeAssignment.objects.bulk_create(
        [ThemeAssignment(item_id=i, theme=theme, score=1.0, method=AssignmentMethod.MANUAL, pinned=True,
                         sentiment=sentiment(texts[i]).score) for i in ids],
        update_conflicts=True, unique_fields=["item"], update_fields=["theme", "score", "method", "pinned",
                                                                       "updated_at"])
    return theme
