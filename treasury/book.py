"""Walking an order book: what an amount would really fetch or cost, level by level.

Pure arithmetic on (price, quantity) levels, best first, in Decimal throughout; the caller
picks the side (bids to sell into, asks to buy from) and where the book comes from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

Level = tuple[Decimal, Decimal]
ZERO = Decimal(0)


@dataclass(frozen=True)
class Fill:
    """What walking the book for `amount` of the base coin gave.

    `total` is the quote currency received (selling into bids) or paid (buying from asks)
    for `filled`; `unfilled` is what the book was too thin to take."""

    amount: Decimal
    filled: Decimal
    total: Decimal
    best_price: Decimal | None
    worst_price: Decimal | None
    levels_used: int

    @property
    def unfilled(self) -> Decimal:
        return self.amount - self.filled

    @property
    def complete(self) -> bool:
        return self.filled == self.amount

    @property
    def average_price(self) -> Decimal | None:
        return self.total / self.filled if self.filled else None

    @property
    def slippage_pct(self) -> Decimal | None:
        """How far the average price falls from the best one, in percent of the best: always
        zero or more, whichever side was walked."""
        average = self.average_price
        if average is None or not self.best_price:
            return None
        return abs(self.best_price - average) / self.best_price * 100


def book_walk(levels: Sequence[Level], amount: Decimal) -> Fill:
    """Take `amount` of the base coin from `levels` (best first) until it is filled or the
    book ends."""
    if amount < 0:
        raise ValueError("the amount cannot be negative")
    left, total, worst, used = amount, ZERO, None, 0
    for price, quantity in levels:
        if left <= 0:
            break
        if quantity <= 0:
            continue
        take = min(left, quantity)
        total += take * price
        left -= take
        worst, used = price, used + 1
    best = levels[0][0] if levels else None
    return Fill(amount=amount, filled=amount - left, total=total, best_price=best,
                worst_price=worst, levels_used=used)


@dataclass(frozen=True)
class Spend:
    """What a budget in the quote currency buys of the base coin from the asks."""

    budget: Decimal
    spent: Decimal
    bought: Decimal
    best_price: Decimal | None
    worst_price: Decimal | None

    @property
    def unspent(self) -> Decimal:
        return self.budget - self.spent

    @property
    def average_price(self) -> Decimal | None:
        return self.spent / self.bought if self.bought else None


def book_spend(asks: Sequence[Level], budget: Decimal) -> Spend:
    """Spend `budget` of the quote currency on the asks (best first), the way a market buy
    for an amount of money fills."""
    if budget < 0:
        raise ValueError("the amount cannot be negative")
    left, bought, worst = budget, ZERO, None
    for price, quantity in asks:
        if left <= 0:
            break
        if quantity <= 0 or price <= 0:
            continue
        cost = price * quantity
        if cost <= left:
            bought += quantity
            left -= cost
        else:
            bought += left / price
            left = ZERO
        worst = price
    best = asks[0][0] if asks else None
    return Spend(budget=budget, spent=budget - left, bought=bought, best_price=best, worst_price=worst)
