"""A stored credential never shows: not in pages, admin, API, logs or error messages."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from dashboard.models import Source
from dashboard.polling import source_poll
from tests.conftest import SECRET, client_for


def test_it_encrypts_credentials_at_rest(source: Source) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM dashboard_source WHERE id = %s", [source.pk])
        (raw,) = cursor.fetchone()
    assert SECRET not in raw
    assert Source.objects.get(pk=source.pk).credentials == {"api_key": SECRET}


def test_repr_of_credentials_hides_values(source: Source) -> None:
    assert SECRET not in repr(source.credentials)
    assert SECRET not in str(source.credentials)
    assert SECRET not in f"{source.credentials!r}"


PAGES = ["/", "/sources/", "/sources/{id}/", "/settings/", "/settings/sources/",
         "/settings/sources/{id}/edit/", "/settings/sources/{id}/delete/", "/api/v1/sources"]


@pytest.mark.parametrize("path", PAGES)
def test_no_page_renders_the_secret(alice, source: Source, path: str) -> None:
    body = client_for(alice).get(path.format(id=source.pk)).content.decode()
    assert SECRET not in body


def test_the_admin_never_renders_the_secret(team, source: Source) -> None:
    admin = User.objects.create_superuser("root", "root@example.com", "an-admin-password-1")
    client = Client()
    client.force_login(admin)
    for path in ("/admin/dashboard/source/", f"/admin/dashboard/source/{source.pk}/change/",
                 "/admin/dashboard/auditevent/", "/admin/dashboard/pollrun/",
                 "/admin/dashboard/totpdevice/", "/admin/dashboard/invitation/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert SECRET not in response.content.decode(), path


def test_admin_edit_keeps_the_secret_when_left_empty(team, source: Source) -> None:
    admin = User.objects.create_superuser("root", "root@example.com", "an-admin-password-1")
    client = Client()
    client.force_login(admin)
    response = client.post(f"/admin/dashboard/source/{source.pk}/change/", {
        "team": team.pk, "kind": "fake", "label": "Renamed", "base_url": "",
        "options": '{"mode": "ok"}', "interval": 60, "enabled": "on", "credential_api_key": "",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    source.refresh_from_db()
    assert source.label == "Renamed"
    assert source.credentials == {"api_key": SECRET}


@pytest.mark.parametrize("mode", ["crash", "leaky", "permanent", "transient", "ok"])
def test_no_log_line_or_error_message_holds_the_secret(source: Source, mode: str, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    Source.objects.filter(pk=source.pk).update(options={"mode": mode})
    run = source_poll(source_id=source.pk)
    source.refresh_from_db()
    assert SECRET not in run.message
    assert SECRET not in source.last_error
    assert SECRET not in caplog.text
    for record in caplog.records:
        assert SECRET not in record.getMessage()
        if record.exc_info:
            assert SECRET not in logging.Formatter().formatException(record.exc_info)


def test_the_edit_form_keeps_the_secret_out_and_replaces_it_on_demand(alice, source) -> None:
    client = client_for(alice)
    form = {"label": "Main farm", "base_url": "", "interval": 60, "enabled": "on",
            "option_mode": "ok", "credential_api_key": ""}
    assert client.post(f"/settings/sources/{source.pk}/edit/", form).status_code == 302
    source.refresh_from_db()
    assert source.credentials == {"api_key": SECRET}
    form["credential_api_key"] = "sk_replaced_456"
    client.post(f"/settings/sources/{source.pk}/edit/", form)
    source.refresh_from_db()
    assert source.credentials == {"api_key": "sk_replaced_456"}
    events = list(source.team.audit_events.values_list("action", "detail"))
    assert ("source.credentials_replaced", {"source_id": source.pk, "fields": ["api_key"]}) in events
    assert "sk_replaced_456" not in str(events)
