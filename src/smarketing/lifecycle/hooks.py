"""Work the lifecycle engine does when other apps record something (registered in apps.py)."""

from __future__ import annotations


def touchpoint_first_touch(touchpoint_id: int) -> None:
    """After a touchpoint commits: a sales call, email or meeting meets the contact's open first-touch clock."""
    from smarketing.lifecycle.services_sla import first_touch_detect

    first_touch_detect(touchpoint_id=touchpoint_id)
