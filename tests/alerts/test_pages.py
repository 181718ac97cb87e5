"""The alerts pages: who sees and changes what, what the forms say, what the lists show."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from alerts.models import Alert, AlertState, Channel, Delivery, Rule, Silence
from alerts.rules import rule_create
from alerts.silences import silence_create
from dashboard.models import AuditEvent, Source, Team
from pools.models import Worker
from tests.conftest import client_for

SECRET_URL = "json://hooks.example.com/alert-token-9f8e7d6c"


@pytest.fixture
def rule(team: Team, source: Source) -> Rule:
    return rule_create(team=team, kind="worker_offline", source=source, for_minutes=10)


@pytest.fixture
def channel(team: Team) -> Channel:
    return Channel.objects.create(team=team, label="Ops webhook", secret={"url": SECRET_URL},
                                  hint="json://hooks.example.com")


@pytest.fixture
def silence(team: Team, source: Source) -> Silence:
    return silence_create(team=team, source=source, ends_at=timezone.now() + timedelta(hours=2),
                          reason="PSU swap in rack 3")


@pytest.fixture
def charlie_objects(other_team: Team, charlie_source: Source) -> dict[str, Any]:
    rule = rule_create(team=other_team, kind="worker_offline", source=charlie_source)
    channel = Channel.objects.create(team=other_team, label="Charlie's hook", kind="in_app")
    silence = silence_create(team=other_team, source=charlie_source, reason="Charlie's window",
                             ends_at=timezone.now() + timedelta(hours=1))
    return {"rule": rule, "channel": channel, "silence": silence}


def alert(rule: Rule, subject: str, state: str = AlertState.FIRING, **fields: Any) -> Alert:
    now = timezone.now()
    defaults: dict[str, Any] = {
        "team": rule.team, "rule": rule, "source": rule.source,
        "subject_key": f"worker:{rule.source_id}:{subject}",
        "subject": subject, "state": state, "pending_since": now - timedelta(minutes=30),
        "started_at": None if state == AlertState.PENDING else now - timedelta(minutes=20),
        "resolved_at": now - timedelta(minutes=5) if state == AlertState.RESOLVED else None,
        "value": "offline",
        "message": f"{subject} offline on {rule.source.label if rule.source else 'a source'}",
    }
    defaults.update(fields)
    return Alert.objects.create(**defaults)


def body(response: Any) -> str:
    return response.content.decode().replace("&#x27;", "'")


# Every page, every role -------------------------------------------------------------------

READ_PAGES = ["/alerts/", "/alerts/rules/", "/alerts/channels/", "/alerts/silences/"]


@pytest.mark.parametrize("path", READ_PAGES)
@pytest.mark.parametrize("who", ["alice", "carol", "bob"])
def test_every_page_renders_for_every_role(request, path, who, rule, channel, silence) -> None:  # type: ignore[no-untyped-def]
    alert(rule, "rig-01")
    alert(rule, "rig-02", AlertState.RESOLVED)
    response = client_for(request.getfixturevalue(who)).get(path)
    assert response.status_code == 200
    assert "Alerts" in body(response)


@pytest.mark.parametrize("who", ["alice", "carol"])
def test_change_pages_render_for_admins_and_owners(request, who, rule, channel) -> None:  # type: ignore[no-untyped-def]
    client = client_for(request.getfixturevalue(who))
    for path in ["/alerts/rules/new/", *(f"/alerts/rules/new/{k}/" for k in (
            "worker_offline", "hashrate_drop", "workers_online_below", "source_unhealthy",
            "payout", "no_payout", "price", "reserve_low")),
            f"/alerts/rules/{rule.pk}/edit/", f"/alerts/rules/{rule.pk}/delete/",
            f"/alerts/channels/{channel.pk}/delete/"]:
        assert client.get(path).status_code == 200, path


def test_an_unknown_rule_kind_is_404(alice) -> None:  # type: ignore[no-untyped-def]
    assert client_for(alice).get("/alerts/rules/new/nonsense/").status_code == 404


def test_viewer_sees_no_change_buttons(bob, rule, channel, silence) -> None:  # type: ignore[no-untyped-def]
    client = client_for(bob)
    for path in READ_PAGES:
        text = body(client.get(path))
        for word in ("Add a rule", "Edit</a>", "Send test message", "Add a channel", "End now",
                     "Add a silence", "Delete</a>"):
            assert word not in text, (path, word)


def test_admin_sees_the_change_buttons(carol, rule, channel, silence) -> None:  # type: ignore[no-untyped-def]
    client = client_for(carol)
    assert "Edit</a>" in body(client.get("/alerts/rules/"))
    channels = body(client.get("/alerts/channels/"))
    assert "Send test message" in channels and 'id="channel-form"' in channels
    assert "End now" in body(client.get("/alerts/silences/"))


def writes(rule: Rule, channel: Channel, silence: Silence) -> list[tuple[str, dict[str, str]]]:
    later = (timezone.now() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    return [
        ("/alerts/rules/new/worker_offline/", {"source": "", "severity": "warning", "for_minutes": "5"}),
        (f"/alerts/rules/{rule.pk}/edit/", {"source": str(rule.source_id), "severity": "critical",
                                            "for_minutes": "1"}),
        (f"/alerts/rules/{rule.pk}/toggle/", {}),
        (f"/alerts/rules/{rule.pk}/delete/", {}),
        ("/alerts/rules/recommended/", {}),
        ("/alerts/channels/", {"label": "Mine", "kind": "in_app"}),
        (f"/alerts/channels/{channel.pk}/test/", {}),
        (f"/alerts/channels/{channel.pk}/toggle/", {}),
        (f"/alerts/channels/{channel.pk}/delete/", {}),
        ("/alerts/silences/", {"source": str(rule.source_id), "ends_at": later, "reason": "x"}),
        (f"/alerts/silences/{silence.pk}/end/", {}),
    ]


def state(team: Team) -> tuple[Any, ...]:
    return (list(Rule.objects.filter(team=team).values_list("pk", "enabled", "severity", "for_minutes")),
            list(Channel.objects.filter(team=team).values_list("pk", "enabled")),
            list(Silence.objects.filter(team=team).values_list("pk", "ends_at")),
            Delivery.objects.count())


def test_viewer_posts_are_refused_and_change_nothing(bob, team, rule, channel, silence) -> None:  # type: ignore[no-untyped-def]
    client = client_for(bob)
    before = state(team)
    for path, data in writes(rule, channel, silence):
        assert client.post(path, data).status_code == 403, path
    assert state(team) == before
    assert not AuditEvent.objects.filter(action__startswith="alerts.").exclude(
        actor=None).filter(actor=bob).exists()


def test_another_teams_objects_are_404(charlie, alice, charlie_objects) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    rule, channel, silence = (charlie_objects[k] for k in ("rule", "channel", "silence"))
    for path in (f"/alerts/rules/{rule.pk}/edit/", f"/alerts/rules/{rule.pk}/delete/",
                 f"/alerts/channels/{channel.pk}/delete/"):
        assert client.get(path).status_code == 404, path
    for path in (f"/alerts/rules/{rule.pk}/edit/", f"/alerts/rules/{rule.pk}/toggle/",
                 f"/alerts/rules/{rule.pk}/delete/", f"/alerts/channels/{channel.pk}/test/",
                 f"/alerts/channels/{channel.pk}/toggle/", f"/alerts/channels/{channel.pk}/delete/",
                 f"/alerts/silences/{silence.pk}/end/"):
        assert client.post(path).status_code == 404, path
    rule.refresh_from_db()
    channel.refresh_from_db()
    assert rule.enabled and channel.enabled
    assert Silence.objects.get(pk=silence.pk).ends_at > timezone.now()


def test_another_teams_source_and_rule_never_show_in_forms_or_filters(
        alice, rule, charlie_objects, charlie_source) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    for path in ("/alerts/", "/alerts/rules/new/worker_offline/", "/alerts/silences/",
                 f"/alerts/?source={charlie_source.pk}&rule={charlie_objects['rule'].pk}"):
        text = body(client.get(path))
        assert "Charlie's farm" not in text and "Charlie's window" not in text, path
    # Posting another team's source id is refused as a choice, not looked up.
    response = client.post("/alerts/rules/new/worker_offline/", {
        "source": str(charlie_source.pk), "severity": "warning", "for_minutes": "5"})
    assert "Pick one of the listed sources." in body(response)
    assert not Rule.objects.filter(source=charlie_source, team=alice.memberships.get().team).exists()


# Rules ------------------------------------------------------------------------------------


def test_owner_adds_a_rule_with_the_kinds_fields_and_it_is_audited(alice, team, source) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    form = body(client.get("/alerts/rules/new/hashrate_drop/"))
    assert 'name="threshold"' in form and 'name="hysteresis_pct"' in form
    assert 'name="name_pattern"' not in form and 'name="product"' not in form
    assert 'value="70"' in form  # the kind's default, filled in
    response = client.post("/alerts/rules/new/hashrate_drop/", {
        "source": str(source.pk), "threshold": "60", "threshold_unit": "%", "for_minutes": "20",
        "hysteresis_pct": "4", "severity": "critical", "reminder_minutes": "", "label": ""})
    assert response.status_code == 302 and response["Location"] == "/alerts/rules/"
    rule = Rule.objects.get(team=team)
    assert (rule.kind, rule.source, rule.for_minutes, rule.threshold, rule.threshold_unit,
            rule.severity, rule.params) == ("hashrate_drop", source, 20, 60, "%", "critical",
                                            {"hysteresis_pct": 4.0})
    assert AuditEvent.objects.filter(team=team, action="alerts.rule_added", actor=alice).exists()
    page = body(client.get("/alerts/rules/"))
    assert "Hashrate below 60% of its 24 h average for 20 min on Main farm" in page


def test_a_worker_rule_for_every_source_with_a_pattern(alice, team, source) -> None:  # type: ignore[no-untyped-def]
    response = client_for(alice).post("/alerts/rules/new/worker_offline/", {
        "source": "", "for_minutes": "10", "name_pattern": " rack1-* ", "severity": "warning"})
    assert response.status_code == 302
    rule = Rule.objects.get(team=team)
    assert rule.scope == "team" and rule.source is None and rule.params == {"name_pattern": "rack1-*"}


@pytest.mark.parametrize(("kind", "data", "message"), [
    ("workers_online_below", {"source": "{source}", "for_minutes": "5"},
     "Give a value for “Fewer than (workers)”."),
    ("hashrate_drop", {"source": "{source}", "threshold": "130", "threshold_unit": "%", "for_minutes": "5"},
     "A percentage of the 24 h average must be between 0 and 100."),
    ("hashrate_drop", {"source": "", "threshold": "70", "threshold_unit": "%", "for_minutes": "5"},
     "A team-wide hashrate rule needs the coin whose hashrate it adds up (e.g. BTC)."),
    ("worker_offline", {"source": "{source}", "for_minutes": "-3"},
     "Ensure this value is greater than or equal to 0."),
    ("price", {"source": "", "threshold": "1"}, "Pick the source this rule watches."),
    ("worker_offline", {"source": "{source}", "for_minutes": "10", "reminder_minutes": "2"},
     "Ensure this value is greater than or equal to 5."),
])
def test_rule_form_says_what_to_fix(alice, team, source, kind, data, message) -> None:  # type: ignore[no-untyped-def]
    filled = {"severity": "warning", **{k: v.format(source=source.pk) for k, v in data.items()}}
    response = client_for(alice).post(f"/alerts/rules/new/{kind}/", filled)
    assert response.status_code == 200
    assert message in body(response).replace("&quot;", '"')
    assert not Rule.objects.filter(team=team).exists()


def test_a_price_rule_offers_only_flowbtc_sources(alice, team, source) -> None:  # type: ignore[no-untyped-def]
    text = body(client_for(alice).get("/alerts/rules/new/price/"))
    assert "No source of a suitable kind yet" in text and "Main farm" not in text


def test_owner_edits_a_rule(alice, rule, source) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    form = body(client.get(f"/alerts/rules/{rule.pk}/edit/"))
    assert 'value="10"' in form
    response = client.post(f"/alerts/rules/{rule.pk}/edit/", {
        "source": str(source.pk), "for_minutes": "25", "severity": "critical",
        "name_pattern": "rack2-*", "label": "Rack 2 down"})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.for_minutes, rule.severity, rule.params, rule.label) == (
        25, "critical", {"name_pattern": "rack2-*"}, "Rack 2 down")
    assert AuditEvent.objects.filter(action="alerts.rule_edited", actor=alice).exists()


def test_owner_disables_enables_and_deletes_a_rule_after_confirming(alice, rule) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    open_alert = alert(rule, "rig-01")
    client.post(f"/alerts/rules/{rule.pk}/toggle/")
    rule.refresh_from_db()
    open_alert.refresh_from_db()
    assert not rule.enabled and open_alert.state == AlertState.RESOLVED
    client.post(f"/alerts/rules/{rule.pk}/toggle/")
    rule.refresh_from_db()
    assert rule.enabled
    confirm = body(client.get(f"/alerts/rules/{rule.pk}/delete/"))
    assert "Delete for good" in confirm and "Disable instead" in confirm
    assert Rule.objects.filter(pk=rule.pk).exists()  # the GET asked, it deleted nothing
    assert client.post(f"/alerts/rules/{rule.pk}/delete/").status_code == 302
    assert not Rule.objects.filter(pk=rule.pk).exists()
    assert AuditEvent.objects.filter(action="alerts.rule_deleted", actor=alice).exists()


def test_recommended_rules_are_added_once(alice, team, source) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    empty = body(client.get("/alerts/rules/"))
    assert "No rules yet" in empty and "Add the recommended rules" in empty
    response = client.post("/alerts/rules/recommended/", follow=True)
    added = Rule.objects.filter(team=team).count()
    assert added >= 3
    assert "recommended rule" in body(response)
    response = client.post("/alerts/rules/recommended/", follow=True)
    assert Rule.objects.filter(team=team).count() == added
    assert "already has every recommended rule" in body(response)


def test_a_rule_whose_source_was_deleted_says_so(alice, team, rule, source) -> None:  # type: ignore[no-untyped-def]
    Rule.objects.filter(pk=rule.pk).update(source=None, enabled=False,
                                           disabled_note="Disabled: its source Main farm was deleted.")
    text = body(client_for(alice).get("/alerts/rules/"))
    assert "source deleted" in text and "its source Main farm was deleted" in text


# Channels ---------------------------------------------------------------------------------


def test_channel_url_is_write_only(alice, team, channel) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    text = body(client.get("/alerts/channels/"))
    assert "json://hooks.example.com" in text
    assert "alert-token-9f8e7d6c" not in text
    # A form sent back with an error does not echo the URL either.
    response = client.post("/alerts/channels/", {"label": "X", "kind": "email", "addresses": "",
                                                 "url": "json://x.example.com/other-secret-123"})
    assert response.status_code == 200
    assert "Give at least one email address." in body(response)
    assert "other-secret-123" not in body(response)


def test_channel_form_refuses_what_apprise_cannot_parse(alice, team) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    response = client.post("/alerts/channels/", {"label": "Bad", "kind": "apprise", "url": "nonsense-url"})
    assert response.status_code == 200
    assert 'class="errorlist' in body(response)
    assert not Channel.objects.filter(team=team).exists()
    response = client.post("/alerts/channels/", {"label": "Empty", "kind": "apprise", "url": ""})
    assert "Paste the channel's Apprise URL" in body(response)


def test_owner_adds_an_in_app_channel_and_a_webhook(alice, team) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    assert client.post("/alerts/channels/", {"label": "Inbox", "kind": "in_app"}).status_code == 302
    assert client.post("/alerts/channels/", {"label": "Hook", "kind": "apprise",
                                             "url": SECRET_URL}).status_code == 302
    inbox, hook = Channel.objects.filter(team=team).order_by("label")[1], Channel.objects.get(label="Hook")
    assert inbox.kind == "in_app"
    assert hook.secret["url"] == SECRET_URL and "alert-token" not in hook.hint
    text = body(client.get("/alerts/channels/"))
    assert "in-app" in text and "alert-token-9f8e7d6c" not in text


def test_channel_status_and_last_error_are_shown(alice, channel) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    Channel.objects.filter(pk=channel.pk).update(
        status="broken", last_error="HTTP 500 from hooks.example.com", last_error_at=now,
        last_delivery_at=now - timedelta(hours=1))
    text = body(client_for(alice).get("/alerts/channels/"))
    assert "Gave up" in text and "HTTP 500 from hooks.example.com" in text and "1 h ago" in text


def test_channel_pause_and_delete(alice, channel) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    client.post(f"/alerts/channels/{channel.pk}/toggle/")
    channel.refresh_from_db()
    assert not channel.enabled
    assert "Delete for good" in body(client.get(f"/alerts/channels/{channel.pk}/delete/"))
    client.post(f"/alerts/channels/{channel.pk}/delete/")
    assert not Channel.objects.filter(pk=channel.pk).exists()


def test_test_message_reports_its_outcome(alice, team) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    client.post("/alerts/channels/", {"label": "Inbox", "kind": "in_app"})
    inbox = Channel.objects.get(team=team)
    response = client.post(f"/alerts/channels/{inbox.pk}/test/", follow=True)
    assert "Test message sent to Inbox" in body(response)
    assert Delivery.objects.filter(channel=inbox, kind="test").exists()


# Silences ---------------------------------------------------------------------------------


def test_owner_silences_a_worker_pattern_until_a_time_in_the_teams_zone(alice, team, source) -> None:  # type: ignore[no-untyped-def]
    team.timezone = "America/Sao_Paulo"  # UTC-3
    team.save()
    client = client_for(alice)
    local_end = (timezone.now() + timedelta(hours=2)).astimezone(
        __import__("zoneinfo").ZoneInfo("America/Sao_Paulo"))
    response = client.post("/alerts/silences/", {
        "source": str(source.pk), "worker_pattern": "rack3-*",
        "ends_at": local_end.strftime("%Y-%m-%dT%H:%M"), "reason": "PSU swap in rack 3"})
    assert response.status_code == 302
    silence = Silence.objects.get(team=team)
    assert abs((silence.ends_at - local_end.replace(second=0, microsecond=0)).total_seconds()) < 1
    assert silence.worker_pattern == "rack3-*" and silence.source == source
    text = body(client.get("/alerts/silences/"))
    assert "PSU swap in rack 3" in text and "rack3-*" in text
    assert AuditEvent.objects.filter(action="alerts.silence_added", actor=alice).exists()


@pytest.mark.parametrize(("data", "message"), [
    ({"reason": "x", "ends_at": "{later}"}, "Say what to silence"),
    ({"source": "{source}", "reason": "x", "ends_at": "{earlier}"}, "Pick a time in the future"),
    ({"source": "{source}", "reason": "", "ends_at": "{later}"}, "This field is required."),
    ({"source": "{source}", "reason": "x", "ends_at": "tomorrow"}, "Enter a valid date/time."),
])
def test_silence_form_says_what_to_fix(alice, team, source, data, message) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    values = {"later": (now + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
              "earlier": (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"), "source": source.pk}
    response = client_for(alice).post("/alerts/silences/", {k: v.format(**values) for k, v in data.items()})
    assert response.status_code == 200
    assert message in body(response)
    assert not Silence.objects.filter(team=team).exists()


def test_ending_a_silence_moves_it_to_the_past(alice, silence) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    client.post(f"/alerts/silences/{silence.pk}/end/")
    silence.refresh_from_db()
    assert silence.ends_at <= timezone.now()
    text = body(client.get("/alerts/silences/"))
    assert "No silence is in force" in text and "PSU swap in rack 3" in text
    assert AuditEvent.objects.filter(action="alerts.silence_ended", actor=alice).exists()


# The Alerts page --------------------------------------------------------------------------


def test_alerts_page_without_rules_says_what_to_do(alice, bob, source) -> None:  # type: ignore[no-untyped-def]
    assert "Add the recommended rules" in body(client_for(alice).get("/alerts/"))
    viewer = body(client_for(bob).get("/alerts/"))
    assert "No alert rules yet" in viewer and "Ask an owner or admin" in viewer


def test_alerts_page_shows_firing_first_then_history(bob, rule) -> None:  # type: ignore[no-untyped-def]
    alert(rule, "rig-old", AlertState.RESOLVED)
    alert(rule, "rig-pending", AlertState.PENDING)
    alert(rule, "rig-firing")
    text = body(client_for(bob).get("/alerts/"))
    now_part, history = text.split('id="alerts-history"')
    assert "rig-firing" in now_part and "rig-pending" in now_part and "rig-old" not in now_part
    assert "rig-old" in history and "rig-firing" not in history


def test_alerts_page_when_all_is_quiet(bob, rule) -> None:  # type: ignore[no-untyped-def]
    text = body(client_for(bob).get("/alerts/"))
    assert "Nothing is firing" in text and "1 rule watches" in text


def test_alerts_page_filters_by_source_rule_and_state(bob, team, rule, source) -> None:  # type: ignore[no-untyped-def]
    other_source = Source.objects.create(team=team, kind="fake", label="Second farm")
    other_rule = rule_create(team=team, kind="source_unhealthy", source=other_source)
    alert(rule, "rig-a")
    alert(other_rule, "Second farm", subject_key="source:x")
    alert(rule, "rig-b", AlertState.RESOLVED)
    client = client_for(bob)
    by_source = body(client.get(f"/alerts/?source={other_source.pk}"))
    assert "Second farm" in by_source and "rig-a" not in by_source
    by_rule = body(client.get(f"/alerts/?rule={rule.pk}"))
    assert "rig-a" in by_rule and "rig-b" in by_rule and "Second farm offline" not in by_rule
    resolved = body(client.get("/alerts/?state=resolved"))
    assert "rig-b" in resolved and "rig-a" not in resolved
    nothing = body(client.get(f"/alerts/?state=resolved&source={other_source.pk}"))
    assert "No alerts match" in nothing


def test_alerts_live_refresh_renders_only_the_fragment(bob, rule) -> None:  # type: ignore[no-untyped-def]
    alert(rule, "rig-01")
    text = body(client_for(bob).get("/alerts/", HTTP_HX_REQUEST="true"))
    assert text.lstrip().startswith('<div id="alerts-live"')
    assert 'hx-trigger="every 30s, refresh"' in text and "data-live" in text
    assert "rig-01" in text and "<html" not in text


def test_alerts_page_shows_the_in_app_messages(bob, team, rule) -> None:  # type: ignore[no-untyped-def]
    inbox = Channel.objects.create(team=team, label="Inbox", kind="in_app")
    hook = Channel.objects.create(team=team, label="Hook", hint="json://x")
    Delivery.objects.create(team=team, channel=inbox, kind="firing", title="2 workers offline on Main farm",
                            body="rig-01, rig-02", status="sent")
    Delivery.objects.create(team=team, channel=hook, kind="firing", title="Sent elsewhere", body="x")
    text = body(client_for(bob).get("/alerts/"))
    assert "2 workers offline on Main farm" in text and "rig-01, rig-02" in text
    assert "Sent elsewhere" not in text


def test_long_names_wrap(bob, team, source) -> None:  # type: ignore[no-untyped-def]
    long_label = "A" * 90
    source.label = long_label
    source.save()
    rule = rule_create(team=team, kind="worker_offline", source=source)
    alert(rule, "w" * 120)
    text = body(client_for(bob).get("/alerts/"))
    assert 'class="wrap"' in text


# The panels on other pages ----------------------------------------------------------------


def test_overview_shows_the_firing_count_and_the_worst(bob, team, rule, source) -> None:  # type: ignore[no-untyped-def]
    critical = rule_create(team=team, kind="source_unhealthy", source=source)
    alert(rule, "rig-01")
    alert(rule, "rig-02", AlertState.RESOLVED)
    alert(critical, "Main farm", subject_key="source:1", message="Main farm: wrong key (HTTP 401)")
    text = body(client_for(bob).get("/"))
    section = text[text.index('id="overview-alerts"'):]
    assert "2</span> alerts firing" in section
    assert section.index("Main farm: wrong key") < section.index("rig-01")


def test_overview_invites_to_add_rules_and_is_quiet_when_all_is_well(bob, team, source) -> None:  # type: ignore[no-untyped-def]
    assert "No alert rules yet" in body(client_for(bob).get("/"))
    rule_create(team=team, kind="worker_offline", source=source)
    assert 'id="overview-alerts"' not in body(client_for(bob).get("/"))


def test_source_page_shows_its_open_alerts(bob, rule, source) -> None:  # type: ignore[no-untyped-def]
    client = client_for(bob)
    assert "Nothing is firing or pending for this source" in body(client.get(f"/sources/{source.pk}/"))
    alert(rule, "rig-01")
    alert(rule, "rig-02", AlertState.RESOLVED)
    text = body(client.get(f"/sources/{source.pk}/"))
    panel = text[text.index('id="source-alerts"'):text.index("Recent polls")]
    assert "rig-01" in panel and "rig-02" not in panel and "1 open" in panel


def test_worker_page_shows_its_open_alerts_only(bob, rule, source) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    workers = [Worker.objects.create(source=source, name=name, status="offline", hashrate_hs=0,
                                     first_seen_at=now, last_seen_at=now) for name in ("rig-01", "rig-02")]
    alert(rule, "rig-01")
    client = client_for(bob)
    first = body(client.get(f"/workers/{workers[0].pk}/"))
    assert 'id="worker-alerts"' in first and "rig-01 offline on Main farm" in first
    assert 'id="worker-alerts"' not in body(client.get(f"/workers/{workers[1].pk}/"))


def test_alerts_is_in_the_top_bar_and_current_on_every_alerts_page(bob, rule) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(bob)
    for path in READ_PAGES:
        assert '<a href="/alerts/" aria-current="page">Alerts</a>' in body(client.get(path)), path
