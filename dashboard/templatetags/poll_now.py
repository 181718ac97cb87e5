"""What the "Poll now" control shows for a source: the button, or why it is not offered."""

from __future__ import annotations

from django import template
from django.utils import timezone

from dashboard.models import Source
from dashboard.poll_now import Refusal, source_poll_now_refusal

register = template.Library()


@register.simple_tag
def poll_now_refusal(source: Source) -> Refusal | None:
    """Why the button is not offered; None for the cooldown and a poll in progress too, which
    pass within seconds: the button stays and a press says so."""
    refusal = source_poll_now_refusal(source=source, now=timezone.now())
    return refusal if refusal and refusal.lasting else None
