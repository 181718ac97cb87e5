"""Alerts in headless Chromium: add a rule and a channel through the forms, watch an alert
fire and resolve on the Alerts page; every alerts page on a phone and in the dark."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.delivery import deliveries_send
from alerts.evaluation import team_evaluate
from alerts.models import Alert, Channel, Delivery, Rule
from alerts.rules import rule_create
from alerts.silences import silence_create
from dashboard.models import Source, Team
from dashboard.polling import source_poll
from dashboard.services import source_create
from pools.models import Worker
from tests.conftest import PASSWORD, SECRET
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def poll_in_mode(source: Source, mode: str) -> None:
    Source.objects.filter(pk=source.pk).update(options={"mode": mode})
    run = source_poll(source_id=source.pk)
    assert run is not None and run.ok == (mode == "ok"), run


def evaluate(team: Team) -> None:
    team_evaluate(team=team)
    deliveries_send()


def test_a_rule_and_a_channel_added_in_the_browser_see_an_alert_fire_and_resolve(
        page_for, alice, team, live_server) -> None:  # type: ignore[no-untyped-def]
    source = source_create(team=team, kind="fake", label="Main farm", credentials={"api_key": SECRET})
    poll_in_mode(source, "ok")
    page = page_for("alice", PASSWORD)
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto(f"{live_server.url}/alerts/")
    assert "No alert rules yet" in page.inner_text("#alerts-live")
    screenshot(page, "alerts-empty")
    page.click("main .page-head >> text=Add a rule")
    page.click("#rule-kinds >> text=Source unhealthy")
    page.select_option("#id_source", str(source.pk))
    page.fill("#id_for_minutes", "0")
    screenshot(page, "alerts-rule-form")
    page.click("#rule-form button[type=submit]")
    page.wait_for_selector(".message-success")
    assert "Main farm failing or stale" in page.inner_text("#rules-table")
    rule = Rule.objects.get(team=team)
    assert (rule.kind, rule.source_id, rule.for_minutes) == ("source_unhealthy", source.pk, 0)

    page.click("nav.subnav >> text=Channels")
    page.fill("#id_label", "Control room")
    page.check("input[name=kind][value=in_app]")
    page.click("#channel-form button[type=submit]")
    page.wait_for_selector(".message-success")
    page.click("#channels-table >> text=Send test message")
    page.wait_for_selector(".message-success")
    assert "Test message sent to Control room" in page.inner_text(".messages")
    assert Channel.objects.get(team=team).kind == "in_app"

    # The pool starts refusing the key: the source is in error, and the rule fires.
    poll_in_mode(source, "permanent")
    evaluate(team)
    page.goto(f"{live_server.url}/alerts/")
    now_table = page.inner_text("#alerts-now-table")
    assert "Main farm" in now_table and "Firing" in now_table
    assert "Main farm" in page.inner_text("#alerts-inbox")
    screenshot(page, "alerts-firing")
    page.goto(f"{live_server.url}/")
    assert "1 alert firing" in page.inner_text("#overview-alerts")
    screenshot(page, "alerts-overview-firing")
    page.goto(f"{live_server.url}/sources/{source.pk}/")
    assert "Firing" in page.inner_text("#source-alerts")

    # The key works again; the page sees the resolution on its own refresh.
    page.goto(f"{live_server.url}/alerts/")
    poll_in_mode(source, "ok")
    evaluate(team)
    page.evaluate("htmx.trigger('#alerts-live', 'refresh')")
    page.wait_for_selector("#alerts-history-table")
    assert "Nothing is firing" in page.inner_text("#alerts-now")
    history = page.inner_text("#alerts-history-table")
    assert "Main farm" in history and "Resolved" in history
    assert Alert.objects.get(rule=rule).state == "resolved"
    assert Delivery.objects.filter(channel__team=team, kind="resolved").exists()
    screenshot(page, "alerts-resolved")
    assert page.console_errors == []


def seed_every_kind_of_row(team: Team) -> Source:
    """Rules, firing, pending and resolved alerts, a broken channel, silences and in-app
    messages, with names long enough to test the wrapping."""
    source = source_create(team=team, kind="fake", label="BTC.com main farm in the north hall",
                           credentials={"api_key": SECRET})
    now = timezone.now()
    worker = Worker.objects.create(source=source, name="north-hall-rack-12-antminer-s19-xp-0042",
                                   status="offline", hashrate_hs=0, first_seen_at=now, last_seen_at=now)
    offline = rule_create(team=team, kind="worker_offline", source=source, for_minutes=10)
    unhealthy = rule_create(team=team, kind="source_unhealthy", source=source)
    rule_create(team=team, kind="hashrate_drop", source=source)
    rule_create(team=team, kind="payout", source=None, scope="team")
    for name, state, minutes in ((worker.name, "firing", 42), ("rig-07", "pending", 3),
                                 ("rig-03", "resolved", 300)):
        Alert.objects.create(
            team=team, rule=offline, source=source, subject_key=f"worker:{source.pk}:{name}", subject=name,
            state=state, pending_since=now - timedelta(minutes=minutes + 10),
            started_at=None if state == "pending" else now - timedelta(minutes=minutes),
            resolved_at=now - timedelta(minutes=20) if state == "resolved" else None,
            value="offline", message=f"{name} offline on {source.label}")
    Alert.objects.create(team=team, rule=unhealthy, source=source, subject_key="source", state="firing",
                         subject=source.label, started_at=now - timedelta(minutes=16),
                         value="error", message=f"{source.label}: the pool refused the key (HTTP 401)")
    inbox = Channel.objects.create(team=team, label="Control room", kind="in_app", last_delivery_at=now)
    Channel.objects.create(team=team, label="Ops Telegram", hint="tgram://", status="broken",
                           secret={"url": "tgram://123:abc/456"}, last_delivery_at=now - timedelta(days=2),
                           last_error="Telegram answered HTTP 401: the bot token was refused",
                           last_error_at=now - timedelta(hours=1))
    Channel.objects.create(team=team, label="Webhook", hint="json://hooks.example.com", status="failing",
                           last_error="timed out after 10 s", last_error_at=now)
    Delivery.objects.create(team=team, channel=inbox, kind="firing", status="sent",
                            title=f"2 alerts firing on {source.label}",
                            body=f"{worker.name} offline\n{source.label}: the pool refused the key")
    Delivery.objects.create(team=team, channel=inbox, kind="resolved", status="sent",
                            title="Resolved: rig-03 back online", body="rig-03 back online",
                            created_at=now - timedelta(minutes=20))
    silence_create(team=team, source=source, worker_pattern="north-hall-rack-12-*",
                   ends_at=now + timedelta(hours=3), reason="Replacing the PSUs of rack 12")
    past = silence_create(team=team, rule=offline, ends_at=now + timedelta(minutes=1),
                          reason="Firmware update")
    past.ends_at = now - timedelta(hours=1)
    past.save()
    return source


@pytest.mark.parametrize("width", [1440, 390])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_alerts_page_fits_a_phone_and_both_themes(
        page_for, alice, team, live_server, width, theme) -> None:  # type: ignore[no-untyped-def]
    source = seed_every_kind_of_row(team)
    worker = Worker.objects.get(source=source)
    page = page_for("alice", PASSWORD, width=width)
    page.evaluate(f"localStorage.setItem('hashwatch-theme', '{theme}')")
    pages = {
        "alerts": "/alerts/", "alerts-rules": "/alerts/rules/", "alerts-channels": "/alerts/channels/",
        "alerts-silences": "/alerts/silences/", "alerts-rule-kinds": "/alerts/rules/new/",
        "alerts-rule-edit": f"/alerts/rules/{Rule.objects.get(kind='hashrate_drop').pk}/edit/",
        "alerts-overview": "/", "alerts-source-panel": f"/sources/{source.pk}/",
        "alerts-worker-panel": f"/workers/{worker.pk}/",
    }
    for name, path in pages.items():
        page.goto(f"{live_server.url}{path}")
        assert page.get_attribute("html", "data-theme") == theme
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{path} scrolls sideways ({scroll}px at {width}px)"
        screenshot(page, f"{name}-{width}-{theme}")
        assert "123:abc" not in page.content()  # a channel's URL is never shown back
    assert page.console_errors == []
