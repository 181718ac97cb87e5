"""Sending one message to one channel, and keeping the channel's secret out of every word
that comes back.

Apprise logs through its own logger, and its messages may quote parts of the URL (a webhook
path, a bot token taken for a host). Its records are kept from the root handlers here and
handed to the send that caused them only, which scrubs every piece of the URL out of them
before they become a delivery's error or a log line.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, unquote

import apprise
from django.conf import settings
from django.core import mail

from alerts.models import Channel

log = logging.getLogger(__name__)

APPRISE = "apprise"
EMAIL = "email"
IN_APP = "in_app"
# Seconds an Apprise service may take to connect, and to answer; the sender bounds the whole
# send with a little more (some services make two requests).
SEND_TIMEOUT_SECONDS = 10.0
HOST_RE = re.compile(
    r"^(localhost|\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]+\]|[a-z0-9-]+(\.[a-z0-9-]+)+)(:\d{1,5})?$",
    re.IGNORECASE)
ERROR_MAX = 500


class ChannelSendError(Exception):
    """A send failed. The message is scrubbed of the channel's URL: it may be shown and logged."""


# Apprise's log records ------------------------------------------------------------------

_capture = threading.local()


class _ThreadCapture(logging.Handler):
    """Hands Apprise's records to the send running in the same thread, if any."""

    def emit(self, record: logging.LogRecord) -> None:
        buffer = getattr(_capture, "records", None)
        if buffer is not None:
            buffer.append(record.getMessage())


_apprise_logger = logging.getLogger("apprise")
# Never to the root handlers: a record can quote a token. The sender reads them, scrubbed.
_apprise_logger.propagate = False
_apprise_logger.setLevel(logging.INFO)
if not any(isinstance(h, _ThreadCapture) for h in _apprise_logger.handlers):
    _apprise_logger.addHandler(_ThreadCapture())


@contextmanager
def apprise_records() -> Iterator[list[str]]:
    records: list[str] = []
    _capture.records = records
    try:
        yield records
    finally:
        _capture.records = None


def scrub(text: str, url: str) -> str:
    """`text` with every piece of `url` that could be a secret replaced by "…": the URL
    itself, its user, password, host (unless it is the shown host), path segments and
    query values, plain and percent-encoded."""
    if not text:
        return text
    shown = url_hint(url)
    rest = url.split("://", 1)[-1]
    pieces = {url, rest}
    pieces.update(p for p in re.split(r"[/:@?&=#,;+\s]+", rest) if len(p) >= 3)
    variants: set[str] = set()
    for piece in pieces:
        variants.update({piece, quote(piece, safe=""), unquote(piece)})
    for piece in sorted(variants, key=len, reverse=True):
        if len(piece) < 3 or (shown and piece in shown):
            continue
        text = text.replace(piece, "…")
    return text


def url_hint(url: str) -> str:
    """What people see of an Apprise URL: "json://hooks.example.com"; just "tgram://" when
    the part in the host's place is a token (Telegram, Discord, Slack, ntfy topics...)."""
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    netloc = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    if netloc and HOST_RE.match(netloc):
        return f"{scheme}://{netloc.lower()}"
    return f"{scheme}://"


# Sending ---------------------------------------------------------------------------------


def channel_transmit(*, channel: Channel, title: str, body: str,
                     timeout: float = SEND_TIMEOUT_SECONDS) -> None:
    """Send one message to one channel, now, in the calling thread; ChannelSendError with a
    scrubbed reason when it did not go. Touches no database row."""
    if channel.kind == IN_APP:
        return
    if channel.kind == EMAIL:
        _transmit_email(to=list(channel.secret.get("to") or []), title=title, body=body,
                        timeout=timeout)
        return
    if channel.kind != APPRISE:
        raise ChannelSendError(f"unknown channel kind {channel.kind!r}")
    _transmit_apprise(url=str(channel.secret.get("url") or ""), title=title, body=body,
                      timeout=timeout)


def _transmit_apprise(*, url: str, title: str, body: str, timeout: float) -> None:
    if not url:
        raise ChannelSendError("the channel's URL could not be read (was the encryption key changed?)")
    with apprise_records() as records:
        try:
            plugin = apprise.Apprise.instantiate(url, suppress_exceptions=False)
            if plugin is None:
                raise ChannelSendError("Apprise can no longer read this channel's URL")
            plugin.socket_connect_timeout = timeout
            plugin.socket_read_timeout = timeout
            ok = plugin.notify(body=body, title=title)
        except ChannelSendError:
            raise
        except Exception as exc:
            raise ChannelSendError(_reason(f"{type(exc).__name__}: {exc}", url)) from None
    if not ok:
        said = "; ".join(dict.fromkeys(records)) if records else "the service refused the message"
        raise ChannelSendError(_reason(said, url))


def _reason(text: str, url: str) -> str:
    return scrub(text, url).strip()[:ERROR_MAX] or "the service refused the message"


def _transmit_email(*, to: list[str], title: str, body: str, timeout: float) -> None:
    if not to:
        raise ChannelSendError("the channel has no address")
    try:
        connection = mail.get_connection(fail_silently=False, timeout=timeout)
        mail.EmailMessage(subject=title, body=body, from_email=settings.DEFAULT_FROM_EMAIL,
                          to=to, connection=connection).send()
    except Exception as exc:
        # SMTP errors name the relay and the recipient, never a password.
        said = f"the mail server refused it: {type(exc).__name__}: {exc}"
        raise ChannelSendError(said[:ERROR_MAX]) from None
