"""A level's touches in journey order, kept on disk beside the store they were read from.

Why: attribution, journeys and ROI begin by reading a level's touches and putting them in (subject, time, id) order:
on a large CRM that is most of a command's time (5M touches: ~0.3 s to read, ~0.15 s to sort), and every command,
figure and process did it again while the store had not changed. The first to compute them writes them here, named
by exactly what they were read from (the lake, each table's manifest, the level, the channel list) and by the code
that computes them; any process reading the very same store loads them instead (a copy from the page cache). A
store that moved on, or an upgrade, names other files: stale ones are never read, and are removed when a newer set
of the level is written.

Files: `<data dir>/cache/touches/<key>/` with one `.npy` per array and `meta.json`, written under a temporary name and
renamed into place whole, so a reader never sees half a set (two writers: the second's rename fails, it keeps its
own arrays and removes its copy). Delete the folder at will: it is rebuilt on the next query.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from smarketing.analytics.queries.touches import SubjectTouches

FORMAT = 1  # bump when SubjectTouches or the files change
_ARRAYS = ("subject", "t_epoch", "touch_id", "channel", "campaign")
_RUN_ARRAYS = ("firsts", "subjects", "key")


def store_identity(engine: Any) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """What an engine reads, exactly: the lake and each table's manifest as the catch-up left it (files, marks and
    when rows were last copied in); None when it reads no store (live tables may change while it is open)."""
    store = getattr(engine, "store", None)
    if store is None or not getattr(engine, "embedded", False) or getattr(engine, "frames", None) is not None:
        return None
    return store.lake.url, tuple(sorted((name, m.to_json()) for name, m in store.manifests.items()))


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


def _key(identity: tuple[str, tuple[tuple[str, str], ...]], level: str) -> str:
    from smarketing.analytics.queries.touches import CHANNELS

    text = json.dumps([FORMAT, _code(), level, list(CHANNELS), identity[0], [list(m) for m in identity[1]]])
    return f"{level}-{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def _read(path: Path) -> np.ndarray:
    # A plain read into fresh memory: writable arrays (a read-only map is another type to the compiled kernels).
    with open(path, "rb") as f:
        return np.lib.format.read_array(f)


def touches_load(engine: Any, level: str) -> SubjectTouches | None:
    """The level's sorted touches for the store `engine` reads, if a process kept them; None otherwise."""
    from smarketing.analytics.queries.touches import SubjectRuns, SubjectTouches

    identity = store_identity(engine)
    if identity is None:
        return None
    where = _folder() / _key(identity, level)
    try:
        meta = json.loads((where / "meta.json").read_text())
        arrays = {name: _read(where / f"{name}.npy") for name in _ARRAYS}
        runs = None
        if meta["runs"] is not None:
            runs = SubjectRuns(firsts=_read(where / "runs.firsts.npy"), subjects=_read(where / "runs.subjects.npy"),
                               key=_read(where / "runs.key.npy"), tmin=int(meta["runs"]["tmin"]),
                               tmax=int(meta["runs"]["tmax"]), span=int(meta["runs"]["span"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # none kept (or a set removed as it was read): compute them
    return SubjectTouches(**arrays, channel_names=tuple(meta["channel_names"]),
                          campaign_names=tuple(meta["campaign_names"]), runs=runs)


def touches_keep(engine: Any, level: str, touches: SubjectTouches) -> None:
    """Keep the level's sorted touches for other processes reading the same store; older sets of the level go.
    Best effort: a full disk or a read-only data folder only means the next process computes them again."""
    identity = store_identity(engine)
    if identity is None:
        return
    folder = _folder()
    key = _key(identity, level)
    if (folder / key).exists():
        return
    temporary = folder / f".{key}.{os.getpid()}"
    try:
        temporary.mkdir(parents=True, exist_ok=True)
        for name in _ARRAYS:
            np.save(temporary / f"{name}.npy", getattr(touches, name))
        runs = touches.runs
        if runs is not None:
            for name in _RUN_ARRAYS:
                np.save(temporary / f"runs.{name}.npy", getattr(runs, name))
        meta = {"channel_names": list(touches.channel_names), "campaign_names": list(touches.campaign_names),
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
