"""The playbook's extension point: what other apps run when a version becomes active (registered in their apps.py).

Kept out of services.py so that registering a hook when Django sets up loads only this list, not the services.
"""

from __future__ import annotations

from collections.abc import Callable

# Called on commit with the id of a version that both teams' sign-off made active; scoring queues its rebuild here.
ACTIVATION_HOOKS: list[Callable[[int], None]] = []
