"""The API's request parser (django-ninja's, with core.validation's text checks).

Apart from core.validation, which the playbook schema and the importers use, so a CLI command that loads them
does not load django-ninja.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.parser import Parser

from smarketing.core.validation import hostile_value_refuse


class CheckedParser(Parser):
    """The API's request parser: JSON bodies, query strings and forms, with every text checked by text_problem
    before any schema or service sees it (one place for every operation)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        # Why raised from here: ninja wraps a parse failure in HttpError(400) with this as its cause, which the
        # API's handler answers as the 422 this is.
        hostile_value_refuse(data, source="body")
        return data

    def parse_querydict(self, data: MultiValueDict[str, Any], list_fields: list[str],
                        request: HttpRequest) -> dict[str, Any]:
        result = super().parse_querydict(data, list_fields, request)
        hostile_value_refuse(result, source="query")
        return result
