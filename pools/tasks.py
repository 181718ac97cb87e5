"""Thin Celery tasks for the pools app: they call services in pools.retention."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from pools.retention import hashrate_prune, hashrate_rollup, partitions_maintain


@shared_task(ignore_result=True)
def hashrate_maintain() -> dict[str, int]:
    """Roll up before pruning, so no raw sample is deleted before it is counted; tomorrow's
    partition is made long before the first poll of the day needs it."""
    now = timezone.now()
    created = partitions_maintain(now=now)
    return {**hashrate_rollup(now=now), **hashrate_prune(now=now),
            "sample_partitions_created": created}
