"""The audit log page: owners and admins, newest first, filters, readable sentences."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.audit import audit_record
from dashboard.models import AuditEvent
from dashboard.views_team import AUDIT_PAGE_SIZE, audit_sentence
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_it_lists_events_newest_first_with_sentences(alice, bob, team) -> None:
    old = audit_record(team=team, actor=bob, action="member.joined", target="bob",
                       detail={"role": "viewer"})
    AuditEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    audit_record(team=team, actor=alice, action="member.role_changed", target="bob",
                 detail={"from": "viewer", "to": "admin"})
    body = client_for(alice).get("/settings/audit/").content.decode()
    assert body.index("changed a role from viewer to admin") < body.index("joined the team as viewer")
    assert "2 d ago" in body and 'title="' in body


def test_it_filters_by_action_and_person(alice, carol, team, source) -> None:
    audit_record(team=team, actor=carol, action="apitoken.created", target="Grafana",
                 detail={"prefix": "hw_abc1234"})
    client = client_for(alice)
    body = client.get("/settings/audit/?action=apitoken.").content.decode()
    assert "created an API token (hw_abc1234…)" in body and "added a source" not in body
    body = client.get(f"/settings/audit/?who={carol.pk}").content.decode()
    assert "Grafana" in body and "Main farm" not in body
    body = client.get("/settings/audit/?action=source.").content.decode()
    assert "added a source" in body and "Grafana" not in body


def test_htmx_filter_gets_only_the_table(alice, team) -> None:
    body = client_for(alice).get("/settings/audit/?action=member.", HTTP_HX_REQUEST="true")
    assert body.content.decode().lstrip().startswith('<div id="audit-table"')


def test_it_pages_through_many_events(alice, team) -> None:
    AuditEvent.objects.bulk_create(
        AuditEvent(team=team, actor_label="alice", action="source.poll_requested", target=f"s{i}")
        for i in range(AUDIT_PAGE_SIZE + 5)
    )
    client = client_for(alice)
    assert "Page 1 of 2" in client.get("/settings/audit/").content.decode()
    assert "Page 2 of 2" in client.get("/settings/audit/?page=2").content.decode()


def test_admins_see_it_viewers_do_not_and_teams_stay_apart(carol, bob, charlie, team,
                                                          other_team) -> None:
    audit_record(team=other_team, actor=charlie, action="team.edited", target="Secret plans",
                 detail={"fields": ["name"]})
    assert client_for(carol).get("/settings/audit/").status_code == 200
    assert client_for(bob).get("/settings/audit/").status_code == 403
    assert "Secret plans" not in client_for(carol).get("/settings/audit/").content.decode()


def test_an_unknown_action_reads_as_itself_and_missing_detail_does_not_break() -> None:
    assert audit_sentence(AuditEvent(action="auth.signed_in")) == "auth.signed_in"
    assert audit_sentence(AuditEvent(action="member.invited")) == "invited someone as ?"
    assert audit_sentence(AuditEvent(action="source.edited", detail={"fields": ["label", "interval"]})) \
        == "edited a source (label, interval)"
