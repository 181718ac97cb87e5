"""What /metrics needs that the rest of the store does not keep: counters that never go down.

PollRun rows cannot serve as a Prometheus counter: they are pruned after
POLL_RUN_RETENTION_DAYS, so a count of them drops when old runs go, and Prometheus reads any
drop as a counter reset (a rate() over it would show a burst of failures that never
happened). These counts only grow, one step per finished poll, for as long as the source
exists.
"""

from __future__ import annotations

from django.db import models

from dashboard.models import Source


class SourcePollCount(models.Model):
    source = models.OneToOneField(
        Source, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    polls = models.PositiveBigIntegerField(default=0)
    failures = models.PositiveBigIntegerField(default=0, help_text="Polls whose outcome was not ok.")
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.failures}/{self.polls} polls of {self.source_id} failed"
