"""Campaigns' extension point: what other apps run after a touchpoint is recorded (registered in their apps.py).

Kept out of services.py so that registering a hook when Django sets up loads only this list, not the services.
"""

from __future__ import annotations

from typing import Any

# Called on commit with the id of each new touchpoint: scoring rescores, the lifecycle meets first-touch clocks,
# the history store catches up.
TOUCHPOINT_HOOKS: list[Any] = []
