"""Number formats of the treasury figures: money with its currency, kWh, percent."""

from __future__ import annotations

from decimal import Decimal

from django import template

from exchanges.fiat import FIAT, money_text

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    return "—" if amount is None or not currency else money_text(amount, currency)


@register.filter
def fixed(amount: Decimal | None, places: int = 2) -> str:
    """Thousands separated, `places` decimals; "—" for an unknown figure."""
    if amount is None:
        return "—"
    return f"{amount.quantize(Decimal(1).scaleb(-int(places))):,.{int(places)}f}"


@register.filter
def amount_in(amount: Decimal | None, currency: str) -> str:
    """Money to the cent with its symbol; a coin to eight places, trailing zeros dropped."""
    if amount is None:
        return "—"
    if currency in FIAT:
        return money_text(amount, currency)
    return f"{coin_places(amount)} {currency}"


def coin_places(amount: Decimal) -> str:
    text = f"{amount.quantize(Decimal('0.00000001')):,.8f}".rstrip("0")
    whole, _, places = text.partition(".")
    return f"{whole}.{places.ljust(2, '0')}"
