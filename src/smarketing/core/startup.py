"""Start-up checks for serving: production (debug off) refuses the generated local secrets.

`smarketing serve` and the WSGI module call `require_production_secrets()` before serving; `smarketing demo`
serves with the secrets generated in the data folder on purpose (a local trial), so it does not.
"""

from __future__ import annotations

from django.conf import settings

from smarketing.settings.env import ConfigError


def production_secrets_problem() -> str | None:
    """Why this process may not serve in production, or None when debug is on or both secrets are set."""
    if settings.DEBUG:
        return None
    env = settings.ENV
    missing = [name for name, present in (("SMARKETING_SECRET_KEY", env.secret_key_from_env),
                                          ("SMARKETING_WEBHOOK_SECRET", env.webhook_secret_from_env)) if not present]
    if not missing:
        return None
    return (f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: with SMARKETING_DEBUG off "
            f"the server refuses to start on generated local secrets (set them, or run `smarketing demo` to try "
            f"the product locally)")


def require_production_secrets() -> None:
    """Raise ConfigError (one line, printed by the CLI) when production would start on insecure defaults."""
    problem = production_secrets_problem()
    if problem:
        raise ConfigError(problem)
