"""Record pages: one contact, account or opportunity with its key fields, related records and timeline."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from smarketing.crm.selectors import account_get, contact_get, opportunity_get
from smarketing.web.views.common import domain_errors, page


@login_required
@domain_errors
def contact_page(request: HttpRequest, contact_id: int) -> HttpResponse:
    return page(request, "web/contact.html", {"contact": contact_get(pk=contact_id)})


@login_required
@domain_errors
def account_page(request: HttpRequest, account_id: int) -> HttpResponse:
    return page(request, "web/account.html", {"account": account_get(pk=account_id)})


@login_required
@domain_errors
def opportunity_page(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    return page(request, "web/opportunity.html", {"opportunity": opportunity_get(pk=opportunity_id)})
