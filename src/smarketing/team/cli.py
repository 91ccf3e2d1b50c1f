"""Commands for users and API tokens."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def createuser(username: str, role: str = typer.Option(..., "--role", help="marketing|sales|revops|viewer"),
                   password: str = typer.Option(..., "--password", prompt=True, hide_input=True),
                   email: str = typer.Option("", "--email"),
                   token: bool = typer.Option(False, "--token", help="Also issue an API token and print it once"),
                   superuser: bool = typer.Option(False, "--superuser",
                                                  help="Also a Django superuser (every permission, every role)")
                   ) -> None:
        """Create a user with a role (and optionally an API token); the password must pass the password policy."""
        from smarketing.team.services import api_token_create, user_create

        user = user_create(username=username, password=password, role=role, email=email, superuser=superuser)
        typer.echo(f"created {user.username} ({user.role}{', superuser' if user.is_superuser else ''})")
        if token:
            _, secret = api_token_create(user=user, name="cli")
            typer.echo(f"API token (shown once): {secret}")

    @app.command()
    def token(username: str,
              name: str = typer.Option("cli", "--name"),
              days: int = typer.Option(0, "--days", min=0, help="Expire after this many days (0: never)"),
              revoke: int = typer.Option(0, "--revoke", metavar="ID", help="Revoke this token of the user instead"),
              list_: bool = typer.Option(False, "--list", help="List the user's tokens instead (never the secret)"),
              ) -> None:
        """Issue an API token for an existing user (the secret is printed once), or list or revoke theirs."""
        from datetime import timedelta

        from smarketing.core import clock
        from smarketing.core.errors import NotFound
        from smarketing.team.selectors import api_token_list, user_get_by_username
        from smarketing.team.services import api_token_create, api_token_revoke

        user = user_get_by_username(username=username)
        if list_:
            now = clock.now()
            for t in api_token_list(user=user):
                state = ("revoked" if t.revoked_at else "expired" if t.expires_at and t.expires_at <= now
                         else "active")
                expires = f"expires {t.expires_at:%Y-%m-%d %H:%M} UTC" if t.expires_at else "never expires"
                typer.echo(f"{t.pk}\t{t.prefix}…\t{t.name}\t{state}\t{expires}")
            return
        if revoke:
            if not api_token_list(user=user).filter(pk=revoke).exists():
                raise NotFound(f"user {username!r} has no API token {revoke}", record=f"api_token:{revoke}")
            revoked = api_token_revoke(token_id=revoke)
            typer.echo(f"revoked token {revoked.pk} ({revoked.name}) of {username}")
            return
        _, secret = api_token_create(user=user, name=name,
                                     expires_at=clock.now() + timedelta(days=days) if days else None)
        typer.echo(secret)

    notifications = typer.Typer(help="Notification emails: the daily digest (SMARKETING_SMTP_* must be set).",
                                no_args_is_help=True)

    @notifications.command("digest")
    def notifications_digest(day: str = typer.Option("", "--day", metavar="YYYY-MM-DD",
                                                     help="The day to send (UTC; default: yesterday)"),
                             as_json: bool = typer.Option(False, "--json")) -> None:
        """Email each user who chose the daily digest their unread notifications of the day, once."""
        import json
        from datetime import date

        from smarketing.core.errors import ValidationFailed
        from smarketing.lifecycle.services_notification_email import (
            digest_day_default,
            notification_digest_send,
        )

        try:
            when = date.fromisoformat(day) if day else digest_day_default()
        except ValueError:
            raise ValidationFailed(f"--day {day!r} is not a date like 2026-12-04", field="day") from None
        result = notification_digest_send(day=when)
        if as_json:
            typer.echo(json.dumps(result.as_dict(), indent=2))
        elif not result.smtp:
            typer.echo("no email: SMARKETING_SMTP_HOST is not set")
        else:
            typer.echo(f"digest for {when}: {len(result.sent)} sent, {len(result.failed)} failed")
            for row in result.sent:
                typer.echo(f"  {row['user']} <{row['email']}>: {row['notifications']} notification(s)")
            for row in result.failed:
                typer.echo(f"  {row['user']}: failed: {row['error']}")
        if result.failed:
            raise SystemExit(1)

    app.add_typer(notifications, name="notifications")
