"""The signals the alerts app listens to: a finished poll, a source about to be deleted,
demo mode's team ready to seed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.db.models.signals import pre_delete

from alerts import demo, rules, tasks
from dashboard.models import Source, Team
from dashboard.registries import demo_team_ready, poll_finished

log = logging.getLogger(__name__)


def on_poll_finished(sender: Any, *, source: Source, **kwargs: Any) -> None:
    """Evaluate the source's team in the background. Never fails the poll: a broker that is
    away is logged, and the beat tick evaluates the team within a minute anyway."""
    try:
        tasks.evaluate_team_enqueue(team_id=source.team_id)
    except Exception:
        log.exception("Could not queue the alert evaluation after a poll of source %s", source.pk)


def on_source_pre_delete(sender: Any, *, instance: Source, **kwargs: Any) -> None:
    """The rules watching a source about to go are disabled with a note, not deleted."""
    rules.rules_disable_for_source(source=instance)


def on_demo_team_ready(sender: Any, *, team: Team, troubled: Sequence[Source] = (),
                       **kwargs: Any) -> None:
    demo.demo_seed(team=team, troubled=troubled)


def connect() -> None:
    # dispatch_uid: a second ready() (tests) replaces the connection instead of doubling it.
    poll_finished.connect(on_poll_finished, dispatch_uid="alerts.poll_finished")
    pre_delete.connect(on_source_pre_delete, sender=Source, dispatch_uid="alerts.source_pre_delete")
    demo_team_ready.connect(on_demo_team_ready, dispatch_uid="alerts.demo_team_ready")
