"""API rate limits: per token (`settings.SMARKETING_API_RATE`) and, for bad tokens, per client address.

Built on django-ninja's `SimpleRateThrottle` (cache-backed sliding window); the limits are read from the
settings on every request so a test can switch them on. Beyond a limit the API answers 429 `throttled`.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.errors import Throttled
from ninja.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    """Requests per API token (the bearer secret's hash keys the window; never the secret itself)."""

    scope = "token"

    def __init__(self) -> None:  # the rate comes from the settings at request time
        self.rate = None

    def allow_request(self, request: HttpRequest) -> bool:
        self.rate = settings.SMARKETING_API_RATE
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)

    def get_cache_key(self, request: HttpRequest) -> str:
        token = request.headers.get("Authorization", "")
        ident = hashlib.sha256(token.encode()).hexdigest() if token else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


def _bad_token_key(request: HttpRequest) -> str:
    return f"smk_bad_token_{request.META.get('REMOTE_ADDR', '')}"


def bad_tokens_check(request: HttpRequest) -> None:
    """Refuse (429) every token from an address that sent too many bad ones, until its cool-off ends."""
    limit = settings.SMARKETING_API_BAD_TOKEN_LIMIT
    if cache.get(_bad_token_key(request), 0) >= limit:
        raise Throttled(wait=settings.SMARKETING_API_BAD_TOKEN_COOLOFF_SECONDS)


def bad_token_record(request: HttpRequest) -> None:
    """Count a bad token from this address; the count expires a cool-off after the last one."""
    key = _bad_token_key(request)
    count = cache.get(key, 0) + 1
    cache.set(key, count, timeout=settings.SMARKETING_API_BAD_TOKEN_COOLOFF_SECONDS)
