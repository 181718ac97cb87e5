"""Channels: validation that says what is wrong, the services and their audit, the test button,
and a secret URL that never comes back out."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from alerts import delivery as delivery_module
from alerts.channels import (
    channel_create,
    channel_delete,
    channel_set_enabled,
    channel_test,
    channel_update,
    channel_validate,
    channels_for_team,
    emails_validate,
)
from alerts.models import Channel, ChannelStatus, Delivery
from alerts.transports import scrub, url_hint
from dashboard.models import AuditEvent
from tests.alerts.receiver import Receiver, running_receiver

TOKEN = "tok3n-s3cr3t-4f9a8b7c"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as server:
        yield server


def test_it_returns_the_hint_of_a_good_url() -> None:
    assert channel_validate("json://hooks.example.com/path/x") == "json://hooks.example.com"
    assert channel_validate("ntfys://ntfy.sh/mytopic") == "ntfys://ntfy.sh"


def test_it_hides_a_token_that_stands_in_the_host_place() -> None:
    assert channel_validate(f"tgram://123456789:{TOKEN}/12345") == "tgram://"
    assert url_hint(f"discord://1234567/{TOKEN}") == "discord://"
    assert url_hint(f"mailtos://user:{TOKEN}@mail.example.com") == "mailtos://mail.example.com"


@pytest.mark.parametrize(("url", "reason"), [
    ("", "Enter an Apprise URL"),
    ("not a url", "must start with a service's scheme"),
    ("https//missing-colon", "must start with a service's scheme"),
    ("nosuchservice://host/x", "knows no service with the scheme nosuchservice://"),
    ("json://", "Apprise cannot use this json:// URL"),
    (f"slack://{TOKEN}", "Apprise cannot use this slack:// URL"),
])
def test_it_rejects_bad_urls_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        channel_validate(url)
    message = " ".join(caught.value.messages)
    assert reason in message
    assert TOKEN not in message


def test_it_scrubs_every_piece_of_the_url_from_a_message() -> None:
    url = f"json://user:{TOKEN}@hooks.example.com/api/{TOKEN}x?key={TOKEN}y"
    text = f"Failed to post to {url}: https://hooks.example.com/api/{TOKEN}x said no ({TOKEN}y)"
    cleaned = scrub(text, url)
    assert TOKEN not in cleaned and "user" not in cleaned
    assert "hooks.example.com" in cleaned and " said no " in cleaned  # still reads


def test_it_scrubs_a_token_that_stands_in_the_host_place() -> None:
    url = "tgram://123456789:AAbcdefghij/5551234"
    cleaned = scrub("Bot 123456789:AAbcdefghij refused chat 5551234", url)
    assert "AAbcdefghij" not in cleaned and "5551234" not in cleaned and "123456789" not in cleaned


def test_it_creates_an_apprise_channel_with_the_url_encrypted(team, alice) -> None:
    channel = channel_create(team=team, url="json://hooks.example.com/" + TOKEN, actor=alice)

    assert channel.kind == "apprise" and channel.status == ChannelStatus.OK
    assert channel.hint == "json://hooks.example.com" and channel.label == "json://hooks.example.com"
    raw = Channel.objects.filter(pk=channel.pk).values_list("secret", flat=True).get()
    assert TOKEN not in str(raw)
    assert Channel.objects.get(pk=channel.pk).secret["url"].endswith(TOKEN)
    event = AuditEvent.objects.get(action="alerts.channel_added")
    assert event.actor == alice and TOKEN not in str(event.detail)


def test_it_refuses_to_create_a_channel_from_a_bad_url(team) -> None:
    with pytest.raises(ValidationError, match="knows no service"):
        channel_create(team=team, url="nosuch://x")
    assert not Channel.objects.exists()


def test_it_creates_an_in_app_channel_without_url(team) -> None:
    channel = channel_create(team=team, kind="in_app")
    assert channel.label == "In the app" and channel.secret == {}
    with pytest.raises(ValidationError, match="takes no URL"):
        channel_create(team=team, kind="in_app", url="json://x.example.com")


def test_it_creates_an_email_channel_from_addresses(team) -> None:
    channel = channel_create(team=team, kind="email", url="ops@example.com, boss@example.com",
                             label="Ops mail")
    assert channel.secret["to"] == ["ops@example.com", "boss@example.com"]
    assert channel.hint == "email to ops@example.com and 1 more"
    with pytest.raises(ValidationError, match="'nope' is not an email address"):
        emails_validate("ops@example.com nope")
    with pytest.raises(ValidationError, match="Unknown channel kind"):
        channel_create(team=team, kind="pigeon", url="x")


def test_it_replaces_the_url_and_starts_the_channel_afresh(team, alice) -> None:
    channel = channel_create(team=team, url="json://old.example.com/a", label="Hook")
    Channel.objects.filter(pk=channel.pk).update(status=ChannelStatus.BROKEN, last_error="500")
    channel.refresh_from_db()

    channel_update(channel=channel, url=f"json://new.example.com/{TOKEN}", label="New hook",
                   actor=alice)

    channel.refresh_from_db()
    assert (channel.label, channel.hint, channel.status, channel.last_error) == (
        "New hook", "json://new.example.com", ChannelStatus.OK, "")
    event = AuditEvent.objects.get(action="alerts.channel_edited")
    assert TOKEN not in str(event.detail) and "secret" in event.detail["fields"]
    with pytest.raises(ValidationError):
        channel_update(channel=channel, url="nosuch://x")


def test_it_turns_a_channel_off_and_on_again_from_broken(team, alice) -> None:
    channel = channel_create(team=team, kind="in_app")
    channel_set_enabled(channel=channel, enabled=False, actor=alice)
    Channel.objects.filter(pk=channel.pk).update(status=ChannelStatus.BROKEN)
    channel.refresh_from_db()
    assert not channel.enabled

    channel_set_enabled(channel=channel, enabled=True, actor=alice)

    channel.refresh_from_db()
    assert channel.enabled and channel.status == ChannelStatus.OK
    assert list(AuditEvent.objects.values_list("action", flat=True).order_by("id"))[-2:] == [
        "alerts.channel_disabled", "alerts.channel_enabled"]


def test_it_deletes_a_channel_with_an_audit_event(team, alice) -> None:
    channel = channel_create(team=team, kind="in_app", label="Inbox")
    channel_delete(channel=channel, actor=alice)
    assert not Channel.objects.exists()
    assert AuditEvent.objects.filter(action="alerts.channel_deleted", target="Inbox").exists()


def test_it_lists_only_the_teams_channels(team, other_team) -> None:
    mine = channel_create(team=team, kind="in_app", label="Mine")
    channel_create(team=other_team, kind="in_app", label="Theirs")
    assert list(channels_for_team(team=team)) == [mine]


def test_the_test_button_reaches_a_json_endpoint(team, alice, receiver: Receiver) -> None:
    channel = channel_create(team=team, url=receiver.url("/hook"), label="Hook")

    delivery = channel_test(channel=channel, actor=alice)

    assert delivery.status == "sent" and delivery.kind == "test" and delivery.attempts == 1
    [body] = receiver.received("/hook")
    assert body["title"] == "Test message from Hashwatch" and "Hook" in body["message"]
    channel.refresh_from_db()
    assert channel.last_delivery_at is not None
    assert AuditEvent.objects.filter(action="alerts.channel_tested").exists()


def test_a_failed_test_shows_the_error_without_the_url_and_no_retry(
        team, receiver: Receiver, all_logs) -> None:
    path = f"/{TOKEN}"
    receiver.set(path, status=500)
    channel = channel_create(team=team, url=receiver.url(path), label="Hook")

    delivery = channel_test(channel=channel)

    assert delivery.status == "failed" and delivery.attempts == 1
    assert "500" in delivery.last_error and TOKEN not in delivery.last_error
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.OK  # a test alone does not break a channel
    assert "500" in channel.last_error
    assert TOKEN not in all_logs.text
    assert not Delivery.objects.filter(status__in=["queued", "retrying"]).exists()


def test_apprise_never_logs_to_the_root_handlers(team, receiver) -> None:
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    root = logging.getLogger()
    handler = Keep(level=logging.DEBUG)
    root.addHandler(handler)
    try:
        path = f"/{TOKEN}"
        receiver.set(path, status=503)
        channel_test(channel=channel_create(team=team, url=receiver.url(path)))
    finally:
        root.removeHandler(handler)
    assert not [r for r in seen if r.name.startswith("apprise")]
    assert not [r for r in seen if TOKEN in r.getMessage()]


def test_the_test_button_sends_email_through_django(team) -> None:
    channel = channel_create(team=team, kind="email", url="ops@example.com")
    delivery = channel_test(channel=channel)
    assert delivery.status == "sent"
    [message] = mail.outbox
    assert message.to == ["ops@example.com"] and message.subject == "Test message from Hashwatch"


def test_the_test_of_an_in_app_channel_lands_in_the_inbox(team) -> None:
    channel = channel_create(team=team, kind="in_app")
    delivery = channel_test(channel=channel)
    assert delivery.status == "sent"
    assert list(delivery_module.deliveries_inbox(team=team)) == [delivery]


def admin_client() -> Client:
    admin = User.objects.create_superuser("root", "root@example.com", "an-admin-password-1")
    client = Client()
    client.force_login(admin)
    return client


def test_the_admin_never_renders_the_url(team, receiver: Receiver) -> None:
    receiver.set(f"/{TOKEN}", status=500)
    channel = channel_create(team=team, url=receiver.url(f"/{TOKEN}"), label="Hook")
    channel_test(channel=channel)  # a delivery and an error to show
    client = admin_client()
    for path in ("/admin/alerts/channel/", f"/admin/alerts/channel/{channel.pk}/change/",
                 "/admin/alerts/delivery/", "/admin/alerts/alert/", "/admin/alerts/rule/",
                 "/admin/alerts/silence/", "/admin/dashboard/auditevent/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert TOKEN not in response.content.decode(), path


def test_the_admin_adds_and_edits_channels_through_the_services(team) -> None:
    client = admin_client()
    response = client.post("/admin/alerts/channel/add/", {
        "team": team.pk, "kind": "apprise", "label": "Hook", "url": "nosuch://x", "enabled": "on"})
    assert response.status_code == 200 and "knows no service" in response.content.decode()

    response = client.post("/admin/alerts/channel/add/", {
        "team": team.pk, "kind": "apprise", "label": "Hook",
        "url": f"json://hooks.example.com/{TOKEN}", "enabled": "on"})
    assert response.status_code == 302
    channel = Channel.objects.get()
    assert channel.hint == "json://hooks.example.com"
    assert AuditEvent.objects.filter(action="alerts.channel_added", actor__username="root").exists()

    response = client.post(f"/admin/alerts/channel/{channel.pk}/change/", {
        "label": "Renamed", "url": "", "enabled": ""})
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.label, channel.enabled) == ("Renamed", False)
    assert channel.secret["url"].endswith(TOKEN)  # an empty field keeps the stored URL
