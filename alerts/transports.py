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
from urllib.parse import parse_qsl, quote, unquote, urlsplit

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


def _keep_for_sender(record: logging.LogRecord) -> bool:
    """A filter on Apprise's logger: the record goes to the send running in this thread, if
    any, and to no handler at all (False), so no log handler, wherever attached, sees it."""
    buffer = getattr(_capture, "records", None)
    if buffer is not None:
        buffer.append((record.levelno, record.getMessage()))
    return False


_apprise_logger = logging.getLogger("apprise")
_apprise_logger.propagate = False
# DEBUG: the socket's own words ("Read timed out") come only at that level.
_apprise_logger.setLevel(logging.DEBUG)
if _keep_for_sender not in _apprise_logger.filters:
    _apprise_logger.addFilter(_keep_for_sender)


@contextmanager
def apprise_records() -> Iterator[list[tuple[int, str]]]:
    records: list[tuple[int, str]] = []
    _capture.records = records
    try:
        yield records
    finally:
        _capture.records = None


def scrub(text: str, url: str) -> str:
    """`text` with every piece of `url` that could be a secret replaced by "…": the URL
    itself, its user and password, a host that is not the shown one, query values, and path
    segments that look like tokens (digits, or six characters and more), plain and
    percent-encoded. Short plain words ("api", "hook") stay, so the reason still reads."""
    if not text:
        return text
    shown = url_hint(url)
    parts = urlsplit(url)
    userinfo, _, host = parts.netloc.rpartition("@")
    pieces = {url, url.split("://", 1)[-1], parts.netloc, parts.path, parts.query}
    pieces.update(p for p in re.split(r"[:]", userinfo) if p)
    pieces.update(value for _, value in parse_qsl(parts.query))
    maybe_tokens = re.split(r"[/:@?&=#,;+\s]+", f"{host}/{parts.path}/{parts.fragment}")
    pieces.update(p for p in maybe_tokens if len(p) >= 6 or re.search(r"\d", p))
    variants: set[str] = set()
    for piece in pieces:
        variants.update({piece, quote(piece, safe=""), unquote(piece)})
    for piece in sorted(variants, key=len, reverse=True):
        if len(piece) < 3 or piece in shown:
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
            # Apprise refuses a message without a body; a title alone says it all.
            ok = plugin.notify(body=body or title, title=title)
        except ChannelSendError:
            raise
        except Exception as exc:
            raise ChannelSendError(_reason(f"{type(exc).__name__}: {exc}", url)) from None
    if not ok:
        said = _said(records) or "the service refused the message"
        raise ChannelSendError(_reason(said, url))


def _said(records: list[tuple[int, str]]) -> str:
    """What Apprise said went wrong: its warnings, and the socket's error if there was one."""
    said = [message for level, message in records if level >= logging.WARNING]
    said += [message.removeprefix("Socket Exception: ") for level, message in records
             if level < logging.WARNING and message.startswith("Socket Exception")]
    return "; ".join(dict.fromkeys(said))


def _reason(text: str, url: str) -> str:
    return scrub(text, url).strip()[:ERROR_MAX] or "the service refused the message"


def _transmit_email(*, to: list[str], title: str, body: str, timeout: float) -> None:
    if not to:
        raise ChannelSendError("the channel has no address")
    try:
        connection = mail.get_connection(fail_silently=False, timeout=timeout)
        mail.EmailMessage(subject=title, body=body or title, from_email=settings.DEFAULT_FROM_EMAIL,
                          to=to, connection=connection).send()
    except Exception as exc:
        # SMTP errors name the relay and the recipient, never a password.
        said = f"the mail server refused it: {type(exc).__name__}: {exc}"
        raise ChannelSendError(said[:ERROR_MAX]) from None
