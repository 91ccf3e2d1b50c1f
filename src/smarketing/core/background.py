"""Work a process leaves running while it goes on, and waits for before it exits.

A query that derives data worth keeping for the next process (the sorted touches, ~200 MB on a large CRM) hands the
writing to a thread here and answers meanwhile; a process waits for these threads before it exits (they are not
daemons), and the command service's child after the caller has its answer (`finish`). Only threads started here
are waited for: a library's idle pool (the kernels' threads) is not work left to finish.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_running: list[threading.Thread] = []
_lock = threading.Lock()


def in_background(work: Callable[..., None], *args: Any, name: str) -> None:
    """Run `work(*args)` in a thread of its own, which the process finishes before it exits."""
    thread = threading.Thread(target=work, args=args, name=name)
    with _lock:
        _running.append(thread)
    thread.start()


def finish() -> int:
    """Wait for the work started in the background since the last call; how many pieces there were."""
    with _lock:
        pending = list(_running)
        _running.clear()
    for thread in pending:
        thread.join()
    return len(pending)
