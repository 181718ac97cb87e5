"""Shared by the CLI commands: turn service validation errors into readable CLI errors."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from dashboard.models import Team


def validation_error(error: ValidationError) -> CommandError:
    if hasattr(error, "error_dict"):
        lines = [f"{field}: {message}" for field, messages in error.message_dict.items()
                 for message in messages]
    else:
        lines = list(error.messages)
    return CommandError("; ".join(lines))


def team_by_slug(slug: str) -> Team:
    team = Team.objects.filter(slug=slug).first()
    if team is None:
        known = ", ".join(Team.objects.order_by("slug").values_list("slug", flat=True)) or "none yet"
        raise CommandError(
            f"no team with slug {slug!r} (teams: {known}); create it with "
            f"'python manage.py createteam {slug}'"
        )
    return team


def key_values(pairs: list[str], what: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            example = "access_key=..." if what == "credential" else "region=us"
            raise CommandError(f"--{what} {pair!r} is not KEY=VALUE (for example --{what} {example})")
        result[key.strip()] = value
    return result
