"""The outbox: queueing inside the caller's transaction, sending through a real local json://
endpoint, retries with backoff, a channel that gives up, and two senders that never send one
message twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from alerts import delivery as outbox
from alerts.channels import channel_create, channel_set_enabled
from alerts.copying import COPY_MIN_ROWS
from alerts.delivery import backoff_seconds, deliveries_for_team, deliveries_queue, deliveries_send
from alerts.models import Alert, Channel, ChannelStatus, Delivery, Rule
from tests.alerts.receiver import Receiver, running_receiver

TOKEN = "hook-s3cr3t-77aa01"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as server:
        yield server


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """A short timeout, so the hanging endpoint costs a second, not ten."""
    monkeypatch.setattr(outbox, "SEND_TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr(outbox, "ROUND_SECONDS", 5.0)


def hook(team, receiver: Receiver, path: str, label: str = "") -> Channel:
    return channel_create(team=team, url=receiver.url(path), label=label or path.strip("/"))


def test_it_queues_one_delivery_per_enabled_working_channel(team, other_team) -> None:
    a = channel_create(team=team, kind="in_app", label="A")
    b = channel_create(team=team, url="json://b.example.com/x", label="B")
    off = channel_create(team=team, kind="in_app", label="Off")
    channel_set_enabled(channel=off, enabled=False)
    broken = channel_create(team=team, kind="in_app", label="Broken")
    Channel.objects.filter(pk=broken.pk).update(status=ChannelStatus.BROKEN)
    channel_create(team=other_team, kind="in_app", label="Theirs")
    rule = Rule.objects.create(team=team, kind="worker_offline", scope="team")
    alert = Alert.objects.create(team=team, rule=rule, subject_key="worker:w1", subject="w1")

    queued = deliveries_queue(team=team, kind="firing", title="1 worker offline", body="w1",
                              alerts=[alert])

    assert sorted(d.channel.label for d in queued) == ["A", "B"]
    assert all(d.status == "queued" and list(d.alerts.all()) == [alert] for d in queued)
    only_b = deliveries_queue(team=team, kind="resolved", title="resolved", body="", channels=[b])
    assert [d.channel for d in only_b] == [b]
    assert a.deliveries.count() == 1


def test_a_whole_farm_down_is_linked_to_its_message_in_one_copy(team) -> None:
    """Past COPY_MIN_ROWS links the rows go through COPY: every alert still reaches every
    channel's message, and nothing else does."""
    channel_create(team=team, kind="in_app", label="A")
    channel_create(team=team, kind="in_app", label="B")
    rule = Rule.objects.create(team=team, kind="worker_offline", scope="team")
    alerts = Alert.objects.bulk_create(
        Alert(team=team, rule=rule, subject_key=f"worker:w{i}", subject=f"w{i}")
        for i in range(COPY_MIN_ROWS))
    Alert.objects.create(team=team, rule=rule, subject_key="worker:other", subject="other")

    queued = deliveries_queue(team=team, kind="firing", title="down", body="", alerts=alerts)

    for delivery in queued:
        assert sorted(delivery.alerts.values_list("pk", flat=True)) == sorted(a.pk for a in alerts)


def test_it_sends_to_a_json_endpoint_and_marks_in_app_sent(team, receiver) -> None:
    web = hook(team, receiver, "/ops")
    inbox = channel_create(team=team, kind="in_app")
    now = timezone.now()
    deliveries_queue(team=team, kind="firing", title="20 workers offline", body="55x1, 55x2", now=now)

    assert deliveries_send(now=now) == 2

    [post] = receiver.received("/ops")
    assert post["title"] == "20 workers offline" and post["message"] == "55x1, 55x2"
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 1)}
    web.refresh_from_db()
    inbox.refresh_from_db()
    assert web.last_delivery_at == now and inbox.last_delivery_at == now
    assert deliveries_send(now=now) == 0  # nothing sent twice
    assert len(receiver.received()) == 1


def test_it_leaves_what_is_not_due_yet(team) -> None:
    channel_create(team=team, kind="in_app")
    now = timezone.now()
    deliveries_queue(team=team, kind="firing", title="later", body="", now=now + timedelta(minutes=1))
    assert deliveries_send(now=now) == 0
    assert deliveries_send(now=now + timedelta(minutes=1)) == 1


def test_a_500_is_retried_with_backoff_then_the_channel_is_broken(team, receiver, caplog) -> None:
    path = f"/{TOKEN}"
    receiver.set(path, status=500)
    channel = hook(team, receiver, path, label="Flaky")
    now = timezone.now()
    [delivery] = deliveries_queue(team=team, kind="firing", title="down", body="", now=now)

    waits = []
    for attempt in range(1, outbox.MAX_ATTEMPTS):
        assert deliveries_send(now=now) == 0
        delivery.refresh_from_db()
        channel.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("retrying", attempt)
        assert "500" in delivery.last_error and TOKEN not in delivery.last_error
        assert channel.status == ChannelStatus.FAILING
        wait = (delivery.next_attempt_at - now).total_seconds()
        low, high = outbox.BACKOFF_JITTER
        base = outbox.BACKOFF_BASE_SECONDS * 2 ** (attempt - 1)
        assert base * low <= wait <= base * high
        waits.append(wait)
        assert deliveries_send(now=delivery.next_attempt_at - timedelta(seconds=1)) == 0
        assert len(receiver.received(path)) == attempt  # not before its time
        now = delivery.next_attempt_at
    assert waits == sorted(waits)

    deliveries_send(now=now)

    delivery.refresh_from_db()
    channel.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", outbox.MAX_ATTEMPTS)
    assert channel.status == ChannelStatus.BROKEN and "500" in channel.last_error
    assert len(receiver.received(path)) == outbox.MAX_ATTEMPTS
    assert TOKEN not in caplog.text
    # A broken channel gets nothing new, and says so on its page instead.
    assert deliveries_queue(team=team, kind="firing", title="more", body="") == []


def test_it_fails_what_was_queued_for_a_channel_that_broke_since(team) -> None:
    channel = channel_create(team=team, kind="in_app")
    [delivery] = deliveries_queue(team=team, kind="firing", title="x", body="")
    Channel.objects.filter(pk=channel.pk).update(status=ChannelStatus.BROKEN)

    assert deliveries_send() == 0

    delivery.refresh_from_db()
    assert delivery.status == "failed" and "gave up" in delivery.last_error


def test_it_fails_what_was_queued_for_a_channel_turned_off_since(team) -> None:
    channel = channel_create(team=team, kind="in_app")
    [delivery] = deliveries_queue(team=team, kind="firing", title="x", body="")
    channel_set_enabled(channel=channel, enabled=False)
    deliveries_send()
    delivery.refresh_from_db()
    assert delivery.status == "failed" and "turned off" in delivery.last_error


def test_a_channel_that_hangs_or_fails_never_blocks_the_others(team, receiver, quick) -> None:
    receiver.set("/slow", hang=30)
    receiver.set("/error", status=500)
    slow = hook(team, receiver, "/slow")
    error = hook(team, receiver, "/error")
    good = hook(team, receiver, "/good")
    now = timezone.now()
    deliveries_queue(team=team, kind="firing", title="first", body="", now=now)
    deliveries_queue(team=team, kind="firing", title="second", body="", now=now)

    assert deliveries_send(now=now) == 2

    assert [p["title"] for p in receiver.received("/good")] == ["first", "second"]
    by_channel = {(d.channel_id, d.title): d for d in Delivery.objects.all()}
    for channel in (slow, error):
        first, second = by_channel[channel.pk, "first"], by_channel[channel.pk, "second"]
        assert (first.status, first.attempts) == ("retrying", 1)
        # The channel's next message waits for the same retry instead of failing too.
        assert (second.status, second.attempts) == ("queued", 0)
        assert second.next_attempt_at == first.next_attempt_at > now
    assert "Read timed out" in by_channel[slow.pk, "first"].last_error
    assert "error=500" in by_channel[error.pk, "first"].last_error
    assert len(receiver.received("/error")) == 1  # the second one was not tried
    good.refresh_from_db()
    assert good.status == ChannelStatus.OK


def test_it_takes_back_a_claim_its_sender_abandoned(team) -> None:
    channel_create(team=team, kind="in_app")
    now = timezone.now()
    [delivery] = deliveries_queue(team=team, kind="firing", title="x", body="", now=now)
    Delivery.objects.filter(pk=delivery.pk).update(
        status="sending", claim_token="dead-worker", claimed_until=now + timedelta(minutes=3))

    assert deliveries_send(now=now + timedelta(minutes=1)) == 0  # still held
    assert deliveries_send(now=now + timedelta(minutes=4)) == 1


def test_backoff_grows_and_stops_at_its_cap() -> None:
    low, high = outbox.BACKOFF_JITTER
    assert 30 * low <= backoff_seconds(1) <= 30 * high
    assert 120 * low <= backoff_seconds(3) <= 120 * high
    assert backoff_seconds(30) <= outbox.BACKOFF_MAX_SECONDS * high


def test_the_log_lists_a_teams_deliveries_newest_first(team, other_team) -> None:
    channel_create(team=team, kind="in_app")
    channel_create(team=other_team, kind="in_app")
    now = timezone.now()
    deliveries_queue(team=team, kind="firing", title="old", body="", now=now - timedelta(hours=1))
    deliveries_queue(team=team, kind="resolved", title="new", body="", now=now)
    deliveries_queue(team=other_team, kind="firing", title="theirs", body="", now=now)
    assert [d.title for d in deliveries_for_team(team=team)] == ["new", "old"]
    assert [d.title for d in deliveries_for_team(team=team, kind="firing")] == ["old"]
    assert [d.title for d in outbox.deliveries_inbox(team=team)] == ["new", "old"]


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_message_exactly_once(receiver) -> None:
    from dashboard.models import Team

    team = Team.objects.create(name="Race", slug="race")
    for n in range(6):
        hook(team, receiver, f"/c{n}")
    now = timezone.now()
    for title in ("one", "two", "three"):
        deliveries_queue(team=team, kind="firing", title=title, body="", now=now)
    start = threading.Barrier(2)
    counts: list[int] = []

    def sender() -> None:
        try:
            start.wait()
            counts.append(deliveries_send(now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(counts) == 18
    posts = [(path, body["title"]) for path, body in receiver.posts]
    assert len(posts) == 18 and len(set(posts)) == 18
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_a_round_out_of_time_leaves_the_rest_queued_untouched(team, receiver, monkeypatch) -> None:
    hook(team, receiver, "/a")
    monkeypatch.setattr(outbox, "ROUND_SECONDS", 0.0)
    now = timezone.now()
    [delivery] = deliveries_queue(team=team, kind="firing", title="x", body="", now=now)

    assert deliveries_send(now=now) == 0

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.claim_token) == ("queued", 0, "")
    assert receiver.received() == []


def test_a_send_stuck_past_every_timeout_is_recorded_as_unanswered(team, monkeypatch) -> None:
    channel_create(team=team, url="json://stuck.example.com/x", label="Stuck")
    release = threading.Event()

    def stuck(**kwargs: object) -> None:
        release.wait(30)

    monkeypatch.setattr(outbox, "channel_transmit", stuck)
    monkeypatch.setattr(outbox, "ROUND_SECONDS", 0.1)
    monkeypatch.setattr(outbox, "SEND_TIMEOUT_SECONDS", 0.1)
    now = timezone.now()
    [delivery] = deliveries_queue(team=team, kind="firing", title="x", body="", now=now)
    try:
        assert deliveries_send(now=now) == 0
    finally:
        release.set()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("retrying", 1)
    assert delivery.last_error == "no answer within 0.1 seconds"
