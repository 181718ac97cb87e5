"""Number formats of the treasury figures: money with its currency, kWh, percent."""

from __future__ import annotations

from decimal import Decimal

from django import template

from exchanges.fiat import money_text

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
