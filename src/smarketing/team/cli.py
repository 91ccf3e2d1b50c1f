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
    def token(username: str, name: str = typer.Option("cli", "--name")) -> None:
        """Issue an API token for an existing user; the secret is printed once."""
        from smarketing.core.errors import NotFound
        from smarketing.team.models import User
        from smarketing.team.services import api_token_create

        user = User.objects.filter(username=username).first()
        if user is None:
            raise NotFound(f"user {username!r} does not exist", record=f"user:{username}")
        _, secret = api_token_create(user=user, name=name)
        typer.echo(secret)
