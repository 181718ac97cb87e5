"""Thin Celery tasks: evaluate a team after its poll, every team on the beat tick, and send
what the evaluations queued. They run on the housekeeping queue (see CELERY_TASK_ROUTES)."""

from __future__ import annotations

import logging

from celery import shared_task
from kombu.exceptions import OperationalError as BrokerUnreachable

from alerts import delivery, evaluation
from dashboard.models import Team

log = logging.getLogger(__name__)

# A round of sends stops starting new ones after ROUND_SECONDS and gives the last ones their
# timeout; the limits only catch a send stuck where those cannot reach.
SEND_SOFT_LIMIT = int(delivery.ROUND_SECONDS + 2 * delivery.SEND_TIMEOUT_SECONDS + 30)


@shared_task(name="alerts.evaluate_team", ignore_result=True, soft_time_limit=120, time_limit=180)
def evaluate_team(team_id: int) -> None:
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        return  # deleted since the poll
    if evaluation.team_evaluate(team=team).deliveries:
        send_deliveries_enqueue()


@shared_task(name="alerts.evaluate_all", ignore_result=True, soft_time_limit=240, time_limit=300)
def evaluate_all() -> None:
    """The beat tick: time-based rules (a for-delay running out, no payout for days) and
    staleness change with no poll to announce them."""
    if any(result.deliveries for result in evaluation.teams_evaluate()):
        send_deliveries_enqueue()


@shared_task(name="alerts.send_deliveries", ignore_result=True,
             soft_time_limit=SEND_SOFT_LIMIT, time_limit=SEND_SOFT_LIMIT + 60)
def send_deliveries() -> int:
    """Right after an evaluation that queued messages, and on beat for the retries that came
    due (an evaluation with nothing to say queues no send: a send finds nothing new then)."""
    return delivery.deliveries_send()


def send_deliveries_enqueue() -> bool:
    """Queue a send; False when the broker is away (the beat entry sends them later)."""
    try:
        send_deliveries.delay()
    except BrokerUnreachable as exc:
        log.warning("Could not queue the sending of alert messages: the broker is unreachable: %s", exc)
        return False
    return True


def evaluate_team_enqueue(*, team_id: int) -> bool:
    """Queue a team's evaluation; False when the broker is away (the beat tick evaluates
    every team within a minute anyway)."""
    try:
        evaluate_team.delay(team_id)
    except BrokerUnreachable as exc:
        log.warning("Could not queue the alert evaluation of team %s: the broker is unreachable: %s",
                    team_id, exc)
        return False
    return True
