"""Normalized exchanger data, shared by every exchanger client.

Clients parse upstream bodies into these dataclasses at the boundary, so ingest code never
sees an exporter's format or field names. Money is `Decimal`, times are aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Fee:
    """A fee as published: an absolute amount, or a percentage when `is_percent`."""

    value: Decimal
    is_percent: bool = False


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """One exchange direction: giving `rate_in` of `from_currency` buys `rate_out` of
    `to_currency`."""

    from_currency: str
    to_currency: str
    rate_in: Decimal
    rate_out: Decimal
    reserve: Decimal  # in to_currency
    min_amount: Decimal | None = None  # limits on what the client gives, in amount_currency
    max_amount: Decimal | None = None
    amount_currency: str = ""
    to_min: Decimal | None = None  # limits on what the client gets, in to_currency
    to_max: Decimal | None = None
    from_fee: Fee | None = None
    to_fee: Fee | None = None
    city: str = ""
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PartnerInfo:
    balance: Decimal
    total_received: Decimal
    link: str
    min_payout: Decimal
    # The upstream documents this only as an empty object; kept as sent.
    payment_methods: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PartnerExchange:
    """An exchange made by a referred client."""

    id: str
    at: datetime | None
    course_give: Decimal
    course_get: Decimal
    amount_give: Decimal
    amount_get: Decimal
    succeeded: bool
    accrued: bool
    partner_reward: Decimal
    user_hash: str


@dataclass(frozen=True, slots=True)
class LinkClicks:
    """A visit through the partner link."""

    id: str
    at: datetime | None
    browser: str
    ip: str
    referrer: str
    user_hash: str
    query_string: str


@dataclass(slots=True)
class ExchangerSnapshot:
    """Everything one poll of an exchanger returns."""

    fetched_at: datetime
    rates: list[ExchangeRate] = field(default_factory=list)
    info: PartnerInfo | None = None
    exchanges: list[PartnerExchange] = field(default_factory=list)
    clicks: list[LinkClicks] = field(default_factory=list)
    # Records that did not parse are left out rather than failing the poll; these say why.
    problems: list[str] = field(default_factory=list)
