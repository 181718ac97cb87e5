"""Building blocks of the evaluation tests: a store in a known state at a known time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerts.models import Channel, Delivery
from dashboard.models import Source
from pools.models import HashrateSample, Worker

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def inbox(team: object, label: str = "Inbox") -> Channel:
    return Channel.objects.create(team=team, kind="in_app", label=label)


def polled(source: Source, at: datetime) -> Source:
    """The source's last poll succeeded at `at`."""
    source.last_poll_at = source.last_success_at = at
    source.last_error, source.last_error_at, source.error_is_permanent = "", None, False
    source.save()
    return source


def failed(source: Source, at: datetime, error: str, *, permanent: bool = False) -> Source:
    source.last_poll_at = source.last_error_at = at
    source.last_error, source.error_is_permanent = error, permanent
    source.save()
    return source


def workers(source: Source, names: list[str], *, down: set[str] | frozenset[str] = frozenset(),
            at: datetime = T0) -> None:
    """The source lists exactly these workers; those in `down` are offline."""
    Worker.objects.filter(source=source).delete()
    Worker.objects.bulk_create([
        Worker(source=source, name=name, status="offline" if name in down else "online",
               hashrate_hs=0.0 if name in down else 1e14, first_seen_at=at, last_seen_at=at)
        for name in names])


def set_status(source: Source, at: datetime, **statuses: str) -> None:
    for name, status in statuses.items():
        Worker.objects.filter(source=source, name=name).update(status=status, last_seen_at=at)


def account_rate(source: Source, at: datetime, terahash: float) -> None:
    HashrateSample.objects.create(source=source, worker_name="", at=at, hashrate_hs=terahash * 1e12)


def sent(kind: str | None = None) -> list[Delivery]:
    rows = Delivery.objects.order_by("id")
    return list(rows.filter(kind=kind) if kind else rows)
