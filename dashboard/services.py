"""Writes to teams, sources and tokens. The settings pages, the admin and the CLI all call
these, so a rule (validation, audit, clearing a permanent error) is written once."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import slugify

from dashboard.audit import audit_record
from dashboard.crypto import Credentials
from dashboard.models import ApiToken, Membership, Role, Source, Team, hash_token
from dashboard.polling import source_mark_edited
from dashboard.sources import SourceKind, UnknownKind, get_kind

TOKEN_PREFIX = "hw_"  # noqa: S105  (a marker, not a secret)


def base_url_problems(url: str) -> list[str]:
    if not url:
        return []
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return ["base URL must look like https://host[:port][/prefix]"]
    if parts.query or parts.fragment:
        return ["base URL must not contain ? or #; the documented path and parameters are added"]
    return []


def team_create(*, slug: str, name: str = "", owner_username: str = "") -> Team:
    if slug != slugify(slug) or not slug:
        raise ValidationError({"slug": [f"{slug!r} is not a valid slug; try {slugify(slug)!r}"]})
    if Team.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": [f"a team with slug {slug!r} already exists"]})
    owner = None
    if owner_username:
        owner = get_user_model().objects.filter(username=owner_username).first()
        if owner is None:
            raise ValidationError(
                {"owner": [f"no user named {owner_username!r}; create it first with "
                           "'python manage.py createsuperuser' or in the admin"]}
            )
    with transaction.atomic():
        team = Team.objects.create(slug=slug, name=name or slug.replace("-", " ").title())
        if owner:
            Membership.objects.create(team=team, user=owner, role=Role.OWNER)
    return team


def source_problems(
    *,
    spec: SourceKind,
    team: Team,
    label: str,
    base_url: str,
    options: Mapping[str, Any],
    credentials: Mapping[str, str],
    interval: int | None,
    exclude_pk: int | None = None,
) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    clash = Source.objects.filter(team=team, label=label)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if not label:
        problems["label"] = ["a label is required"]
    elif clash.exists():
        problems["label"] = [f"{team} already has a source labelled {label!r}"]
    if url_problems := base_url_problems(base_url):
        problems["base_url"] = url_problems
    if option_problems := spec.option_problems(options):
        problems["options"] = option_problems
    if credential_problems := spec.credential_problems(credentials):
        problems["credentials"] = credential_problems
    if interval is not None and interval < 15:
        problems["interval"] = ["the interval must be at least 15 seconds"]
    return problems


def cleaned(values: Mapping[str, Any]) -> dict[str, Any]:
    """Drop empty values; strip strings (a pasted key often carries a trailing newline)."""
    return {
        k: v.strip() if isinstance(v, str) else v
        for k, v in values.items()
        if v is not None and (not isinstance(v, str) or v.strip())
    }


def source_create(
    *,
    team: Team,
    kind: str,
    label: str,
    credentials: Mapping[str, str],
    options: Mapping[str, Any] | None = None,
    base_url: str = "",
    interval: int | None = None,
    enabled: bool = True,
    actor: Any = None,
    request: HttpRequest | None = None,
) -> Source:
    try:
        spec = get_kind(kind)
    except UnknownKind as error:
        raise ValidationError({"kind": [str(error)]}) from None
    credentials, options, label = cleaned(credentials), cleaned(options or {}), label.strip()
    problems = source_problems(spec=spec, team=team, label=label, base_url=base_url,
                               options=options, credentials=credentials, interval=interval)
    if problems:
        raise ValidationError(problems)
    source = Source.objects.create(
        team=team, kind=kind, label=label, base_url=base_url.rstrip("/"),
        options=options, credentials=Credentials(credentials),
        credentials_changed_at=timezone.now() if credentials else None,
        interval=interval or spec.default_interval, enabled=enabled,
    )
    audit_record(team=team, actor=actor, action="source.added", target=source.label,
                 detail={"source_id": source.pk, "kind": kind}, request=request)
    return source


def source_update(
    *,
    source: Source,
    label: str,
    base_url: str,
    options: Mapping[str, Any],
    new_credentials: Mapping[str, str],
    interval: int,
    enabled: bool,
    actor: Any = None,
    request: HttpRequest | None = None,
) -> Source:
    """Credential fields left empty keep their stored value: forms never show secrets, so
    an empty field means "unchanged", not "erase"."""
    spec = get_kind(source.kind)
    replaced, options, label = cleaned(new_credentials), cleaned(options), label.strip()
    merged = {**({} if source.credentials.unreadable else source.credentials), **replaced}
    problems = source_problems(spec=spec, team=source.team, label=label, base_url=base_url,
                               options=options, credentials=merged, interval=interval,
                               exclude_pk=source.pk)
    if problems:
        raise ValidationError(problems)
    changed = [
        name for name, old, new in (
            ("label", source.label, label), ("base_url", source.base_url, base_url),
            ("options", source.options, options), ("interval", source.interval, interval),
            ("enabled", source.enabled, enabled),
        ) if old != new
    ]
    source.label, source.base_url, source.options = label, base_url.rstrip("/"), options
    source.interval, source.enabled = interval, enabled
    if replaced:
        source.credentials = Credentials(merged)
        source.credentials_changed_at = timezone.now()
    source_mark_edited(source)
    source.save()
    if changed:
        audit_record(team=source.team, actor=actor, action="source.edited", target=source.label,
                     detail={"source_id": source.pk, "fields": changed}, request=request)
    if replaced:
        audit_record(team=source.team, actor=actor, action="source.credentials_replaced",
                     target=source.label,
                     detail={"source_id": source.pk, "fields": sorted(replaced)},
                     request=request)
    return source


def source_set_enabled(
    *, source: Source, enabled: bool, actor: Any = None, request: HttpRequest | None = None
) -> Source:
    source.enabled = enabled
    source_mark_edited(source)
    source.save()
    audit_record(team=source.team, actor=actor,
                 action="source.enabled" if enabled else "source.disabled",
                 target=source.label, detail={"source_id": source.pk}, request=request)
    return source


@transaction.atomic
def source_delete(*, source: Source, actor: Any = None, request: HttpRequest | None = None) -> None:
    # The stream service inserts this source's rows every second. Locked first, the row makes
    # those inserts wait (and then fail, harmlessly) instead of one slipping in between the
    # deletion of the children and of the source, which would fail the deletion.
    Source.objects.select_for_update().filter(pk=source.pk).first()
    audit_record(team=source.team, actor=actor, action="source.deleted", target=source.label,
                 detail={"source_id": source.pk, "kind": source.kind}, request=request)
    source.delete()


def apitoken_create(
    *, team: Team, name: str = "", actor: Any = None, request: HttpRequest | None = None
) -> tuple[ApiToken, str]:
    """Returns the row and the token itself, which exists nowhere else after this call."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        team=team, name=name or "API token", prefix=token[:10], token_hash=hash_token(token),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    audit_record(team=team, actor=actor, action="apitoken.created", target=row.name,
                 detail={"prefix": row.prefix}, request=request)
    return row, token


def apitoken_authenticate(token: str) -> ApiToken | None:
    row = (
        ApiToken.objects.select_related("team")
        .filter(token_hash=hash_token(token), revoked_at__isnull=True)
        .first()
    )
    if row is not None:
        now = timezone.now()
        # One write a minute per token is plenty for "last used" and keeps reads cheap.
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
            row.last_used_at = now
    return row
