"""A level's touches in journey order, kept on disk beside the store they were read from.

Why: attribution, journeys and ROI begin by reading a level's touches and putting them in (subject, time, id) order:
on a large CRM that is most of a command's time (5M touches: ~0.3 s to read, ~0.15 s to sort), and every command,
figure and process did it again while the store had not changed. The first to compute them writes them here with
what they were read from (the lake, the manifests of the tables touches come from, the level, the channel list)
and the code that computes them. Any process reading the same store loads them instead (a copy from the page
cache). When the store has only moved on by appending history (touchpoints and their corrections of the same
lineage at higher high-water marks: a catch-up on a CRM written to all day), the process reads only the touches
above the kept mark and merges them in (`touches.extended`), and takes out the touches corrected since
(`touches.without`), instead of reading and sorting every touch again. Anything else (the contacts changed when
the kept set took accounts from them, a store copied afresh, an upgrade) is read afresh. Older sets of a level are
removed when a newer one is written.

Files: `<data dir>/cache/touches/<level>-<hash>/` with one `.npy` per array and `meta.json`, written under a
temporary name and renamed into place whole, so a reader never sees half a set (two writers: the second's rename
fails, it keeps its own arrays and removes its copy). Delete the folder at will: it is rebuilt on the next query.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from smarketing.core.background import finish, in_background

if TYPE_CHECKING:
    from smarketing.analytics.queries.touches import SubjectTouches

FORMAT = 2  # bump when SubjectTouches or the files change
_ARRAYS = ("subject", "t_epoch", "touch_id", "channel", "campaign")
_RUN_ARRAYS = ("firsts", "subjects", "key")


def store_identity(engine: Any) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """What an engine reads, exactly: the lake and each table's manifest as the catch-up left it (files, marks and
    when rows were last copied in); None when it reads no store (live tables may change while it is open)."""
    store = getattr(engine, "store", None)
    if store is None or not getattr(engine, "embedded", False) or getattr(engine, "frames", None) is not None:
        return None
    return store.lake.url, tuple(sorted(store.manifests_json.items()))


def _folder() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR) / "cache" / "touches"


@functools.cache
def _code() -> str:
    """The source of the modules that compute the touches and write them: a product upgrade that changes how they
    are read, coded or ordered names other files, so arrays of the old code are never loaded."""
    from smarketing.analytics.kernels import journeys, loops, ranges
    from smarketing.analytics.queries import touches

    digest = hashlib.sha256()
    for module in (touches, journeys, loops, ranges, sys.modules[__name__]):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


# The tables a level's touches are read from (the contacts only for touches without their own account).
_SOURCES = ("touchpoints", "touchpoint_corrections", "contacts")


def _source(engine: Any, level: str) -> dict[str, Any] | None:
    """What the level's touches would be read from now, and by which code; None when the engine reads no store."""
    from smarketing.analytics.queries.touches import CHANNELS

    identity = store_identity(engine)
    if identity is None:
        return None
    manifests = dict(identity[1])
    return {"format": FORMAT, "code": _code(), "level": level, "channels": list(CHANNELS), "lake": identity[0],
            "tables": {name: manifests.get(name, "") for name in _SOURCES}}


Reuse = Literal["same", "extend"]


def reuse(kept: dict[str, Any], now: dict[str, Any]) -> Reuse | None:
    """Whether a set kept from source `kept` serves a reader of source `now`: as it is ("same"), once the touches
    and the corrections above its marks are applied ("extend"), or not at all (None).

    History is only appended to: touchpoints and their corrections of the same unbroken copy (lineage) hold what
    they held up to the kept marks. The contacts are a snapshot: changed since, they may move a touch that took its
    account from its contact (`contacts_read`). Anything of another code, lake or channel list was read otherwise."""
    if any(kept.get(k) != now[k] for k in ("format", "code", "level", "channels", "lake")):
        return None
    was, tables = kept.get("tables", {}), now["tables"]
    if kept.get("contacts_read", True) and was.get("contacts") != tables["contacts"]:
        return None
    from smarketing.analytics.store.layout import manifest_appended

    found = [manifest_appended(was.get(name), tables[name]) for name in ("touchpoints", "touchpoint_corrections")]
    if None in found:
        return None
    return "same" if found == ["same", "same"] else "extend"


@dataclasses.dataclass(frozen=True)
class Kept:
    """A kept set that serves the reader: as it is, or once the touches with an id above `above` are merged in and
    the touches corrected by corrections with an id above `corrected_above` are taken out."""

    touches: SubjectTouches
    contacts_read: bool
    above: int | None  # None: the set is the store's touches as they are
    corrected_above: int = 0


def _name(source: dict[str, Any]) -> str:
    text = json.dumps(source, sort_keys=True)
    return f"{source['level']}-{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def _read(path: Path) -> np.ndarray:
    # Mapped copy-on-write, as a plain array: nothing is read until a kernel touches it (pages come from the page
    # cache), and it is writable as a computed array is (a read-only map is another type to the compiled kernels);
    # the file may be removed meanwhile, the mapping stays.
    return np.load(path, mmap_mode="c", allow_pickle=False).view(np.ndarray)


def _load(where: Path, meta: dict[str, Any]) -> SubjectTouches | None:
    """The set in `where`, whose meta.json is `meta`."""
    from smarketing.analytics.queries.touches import SubjectRuns, SubjectTouches

    try:
        arrays = {name: _read(where / f"{name}.npy") for name in _ARRAYS}
        runs = None
        if meta["runs"] is not None:
            runs = SubjectRuns(firsts=_read(where / "runs.firsts.npy"), subjects=_read(where / "runs.subjects.npy"),
                               key=_read(where / "runs.key.npy"), tmin=int(meta["runs"]["tmin"]),
                               tmax=int(meta["runs"]["tmax"]), span=int(meta["runs"]["span"]))
        touches = SubjectTouches(**arrays, channel_names=tuple(meta["channel_names"]),
                                 campaign_names=tuple(meta["campaign_names"]), runs=runs)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a set removed as it was read, or damaged: not used
    return touches


def touches_load(engine: Any, level: str) -> Kept | None:
    """The level's kept touches that serve a reader of the store `engine` reads (as they are, or to be extended);
    None when no kept set does."""
    now = _source(engine, level)
    if now is None:
        return None
    finish()  # a set this process is still writing is read once written, not computed again
    candidates: list[tuple[int, str, Path, dict[str, Any]]] = []  # (0 same / 1 extend, name, folder, meta)
    with contextlib.suppress(OSError):
        for where in _folder().iterdir():
            if not where.name.startswith(f"{level}-"):
                continue
            try:
                meta = json.loads((where / "meta.json").read_text())
            except (OSError, ValueError):
                continue
            how = reuse(meta.get("source", {}), now)
            if how is not None:
                candidates.append((0 if how == "same" else 1, where.name, where, meta))
    for rank, _, where, meta in sorted(candidates, key=lambda c: c[:2]):
        touches = _load(where, meta)
        if touches is None:
            continue
        source = meta["source"]
        contacts_read = bool(source.get("contacts_read"))
        if rank == 0:
            return Kept(touches=touches, contacts_read=contacts_read, above=None)
        from smarketing.analytics.store.layout import Manifest

        tables = source["tables"]
        return Kept(touches=touches, contacts_read=contacts_read,
                    above=Manifest.from_json(tables["touchpoints"]).high_water,
                    corrected_above=Manifest.from_json(tables["touchpoint_corrections"]).high_water)
    return None


def touches_keep(engine: Any, level: str, touches: SubjectTouches, *, contacts_read: bool) -> None:
    """Keep the level's sorted touches for other processes reading the same store; older sets of the level go.
    Written by a thread of its own while the query goes on (a large set is ~200 MB: 0.2-0.6 s); the process waits
    for it before it exits (a non-daemon thread; the command service's child after the caller has its answer).
    Best effort: a full disk or a read-only data folder only means the next process computes them again."""
    source = _source(engine, level)
    if source is None:
        return
    source["contacts_read"] = contacts_read
    in_background(_write, _folder(), level, source, touches, name=f"keep-touches-{level}")


def _write(folder: Path, level: str, source: dict[str, Any], touches: SubjectTouches) -> None:
    key = _name(source)
    if (folder / key).exists():
        return
    temporary = folder / f".{key}.{os.getpid()}.{threading.get_ident()}"
    try:
        temporary.mkdir(parents=True, exist_ok=True)
        for name in _ARRAYS:
            np.save(temporary / f"{name}.npy", getattr(touches, name))
        runs = touches.runs
        if runs is not None:
            for name in _RUN_ARRAYS:
                np.save(temporary / f"runs.{name}.npy", getattr(runs, name))
        meta = {"source": source, "channel_names": list(touches.channel_names),
                "campaign_names": list(touches.campaign_names),
                "runs": None if runs is None else {"tmin": runs.tmin, "tmax": runs.tmax, "span": runs.span}}
        (temporary / "meta.json").write_text(json.dumps(meta))
        os.rename(temporary, folder / key)
    except OSError:
        shutil.rmtree(temporary, ignore_errors=True)
        return
    for old in folder.iterdir():
        # Older sets of this level, and temporaries a crashed writer left (an hour old).
        stale = old.name.startswith(f"{level}-") and old.name != key
        with contextlib.suppress(OSError):
            if stale or (old.name.startswith(f".{level}-") and time.time() - old.stat().st_mtime > 3600):
                shutil.rmtree(old)
