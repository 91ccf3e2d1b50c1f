"""An opportunity cannot close before it opened: refused naming closed_at, through the API and the service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from smarketing.core.errors import ValidationFailed
from smarketing.crm.models import Opportunity
from smarketing.crm.services import opportunity_create, opportunity_update
from smarketing.testing.factories import AccountFactory

OPENED = datetime(2026, 10, 5, tzinfo=UTC)


def test_the_api_refuses_a_deal_closed_before_it_opened(api, active_playbook):
    account: Any = AccountFactory()
    body = {"account_id": account.pk, "name": "Renewal", "amount": "1000", "opened_at": "2026-10-05T00:00:00Z",
            "closed_at": "2026-10-01T00:00:00Z", "outcome": "won"}

    response = api.post("/api/opportunities", body)

    assert response.status_code == 422
    assert response.json()["field"] == "closed_at"
    assert "is before opened_at" in response.json()["message"]
    assert not Opportunity.objects.exists()


def test_an_update_that_moves_the_close_before_the_opening_is_refused(active_playbook):
    account: Any = AccountFactory()
    deal = opportunity_create(account=account, name="New logo", amount=500, opened_at=OPENED)

    with pytest.raises(ValidationFailed) as exc:
        opportunity_update(opportunity=deal, data={"opened_at": datetime(2026, 10, 20, tzinfo=UTC),
                                                   "closed_at": datetime(2026, 10, 10, tzinfo=UTC)})

    assert exc.value.field == "closed_at" and exc.value.record == f"opportunity:{deal.pk}"
    deal.refresh_from_db()
    assert (deal.opened_at, deal.closed_at) == (OPENED, None)


def test_closing_on_the_day_it_opened_is_fine(active_playbook):
    account: Any = AccountFactory()

    deal = opportunity_create(account=account, name="Same day", amount=500, opened_at=OPENED, closed_at=OPENED,
                              outcome="lost", loss_reason="price")

    assert deal.closed_at == deal.opened_at
