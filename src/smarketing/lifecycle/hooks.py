"""Work the lifecycle engine does when other apps record something (registered in apps.py).

Hooks run after the other app's transaction committed; a failure here is logged and must not stop the
other hooks (scoring's rescore runs from the same list). The SLA check still catches a missed first touch
as a breach, and `smarketing handoff qualify --all` catches a missed qualification.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def touchpoint_first_touch(touchpoint_id: int) -> None:
    """After a touchpoint commits: a sales call, email or meeting meets the contact's open first-touch clock."""
    from smarketing.lifecycle.services_sla_clocks import first_touch_detect

    try:
        first_touch_detect(touchpoint_id=touchpoint_id)
    except Exception:
        logger.exception("first-touch detection failed for touchpoint %s", touchpoint_id)


def contact_rescored(contact_id: int) -> None:
    """After scoring rescored a contact: a lead or recycled contact that now meets the criteria becomes an MQL."""
    from smarketing.crm.models import Contact
    from smarketing.lifecycle.services_handoff import QUALIFIABLE, mql_qualify

    try:
        contact = Contact.objects.filter(pk=contact_id, lifecycle_stage__in=QUALIFIABLE).first()
        if contact is not None:
            mql_qualify(contact=contact)
    except Exception:
        logger.exception("qualification after rescore failed for contact %s", contact_id)
