"""Work the lifecycle engine does when other apps record something (registered in apps.py)."""

from __future__ import annotations


def touchpoint_first_touch(touchpoint_id: int) -> None:
    """After a touchpoint commits: a sales call, email or meeting meets the contact's open first-touch clock."""
    from smarketing.lifecycle.services_sla import first_touch_detect

    first_touch_detect(touchpoint_id=touchpoint_id)


def contact_rescored(contact_id: int) -> None:
    """After scoring rescored a contact: a lead or recycled contact that now meets the criteria becomes an MQL."""
    from smarketing.crm.models import Contact
    from smarketing.lifecycle.services_handoff import QUALIFIABLE, mql_qualify

    contact = Contact.objects.filter(pk=contact_id, lifecycle_stage__in=QUALIFIABLE).first()
    if contact is not None:
        mql_qualify(contact=contact)
