"""Alerts through a real Celery worker, Redis broker and Postgres: a poll finishes, its signal
queues the team's evaluation, the evaluation queues a message, and the sender posts it to a
real local json:// endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from alerts.channels import channel_create
from alerts.models import Alert, Delivery
from alerts.rules import rule_create
from dashboard.services import source_create
from dashboard.tasks import poll_source
from tests.alerts.receiver import Receiver, running_receiver
from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as server:
        yield server


def test_a_failing_poll_reaches_a_json_endpoint_through_the_worker(
        team, receiver: Receiver, celery_worker_process) -> None:
    source = source_create(team=team, kind="fake", label="Rig room", credentials={"api_key": "k"},
                           options={"mode": "permanent"})
    rule_create(team=team, kind="source_unhealthy", source=source, for_minutes=0)
    channel = channel_create(team=team, url=receiver.url("/ops"), label="Ops hook")
    inbox = channel_create(team=team, kind="in_app")

    poll_source.delay(source.pk)

    wait_for(lambda: receiver.received("/ops"), timeout=90,
             what="the alert message to reach the json:// endpoint")
    [post] = receiver.received("/ops")
    assert "Rig room" in post["title"] + post["message"]
    alert = Alert.objects.get(source=source)
    assert alert.state == "firing"
    wait_for(lambda: Delivery.objects.filter(channel=inbox, status="sent").exists(), timeout=30,
             what="the in-app copy to be marked sent")
    delivery = Delivery.objects.get(channel=channel)
    assert delivery.status == "sent" and list(delivery.alerts.all()) == [alert]
