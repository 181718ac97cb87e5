"""Thin Celery tasks for the exchanges app."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from exchanges.retention import market_prune


@shared_task(ignore_result=True)
def market_data_prune() -> dict[str, int]:
    return market_prune(now=timezone.now())
