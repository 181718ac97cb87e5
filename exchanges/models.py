"""What exchange polls and the FlowBTC stream leave behind.

Current state (tickers, books, exchanger rates, the exchange account) is one row per natural
key, overwritten by each poll; time series (candles, trades, prices, partner history) are
keyed by time or upstream id and written by upserts in exchanges.ingest, so a repeated or
overlapping poll changes nothing. How long each series is kept is in exchanges.retention.
"""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from dashboard.models import Source

# Prices and amounts: whole units to 1e-12, room for BRL prices in the millions and for
# satoshi-level quantities alike.
DIGITS, PLACES = 28, 12
PRODUCT_LENGTH = 16


def money(**kwargs: object) -> models.DecimalField:
    return models.DecimalField(max_digits=DIGITS, decimal_places=PLACES, **kwargs)  # type: ignore[arg-type]


class Origin(models.TextChoices):
    REST = "rest", "REST poll"
    STREAM = "stream", "live stream"


class Ticker(models.Model):
    """A product's latest level-1 figures: last trade, best bid and ask, 24 h range and volume."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="tickers")
    product = models.CharField(max_length=PRODUCT_LENGTH)
    last = money()
    bid = money()
    ask = money()
    high = money(help_text="Highest trade over the last 24 hours.")
    low = money(null=True, blank=True, help_text="Empty when the exchange's answer left it out.")
    volume = money(help_text="Base coin traded over the last 24 hours.")
    as_of = models.DateTimeField(help_text="When the exchange last changed these figures.")
    updated_at = models.DateTimeField(help_text="When we last received them.")
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.REST)
    # The exchange's own figures, from the REST ticker only: the stream leaves them as the last
    # REST poll wrote them, and reported_at says when that was.
    session_open = money(null=True, blank=True, help_text="The price 24 hours ago, as the exchange says.")
    session_close = money(null=True, blank=True)
    last_quantity = money(null=True, blank=True, help_text="Of the last trade, in the base coin.")
    change_24h_pct = models.DecimalField(
        max_digits=DIGITS, decimal_places=PLACES, null=True, blank=True,
        help_text="The exchange's own 24 h price change, in percent (Rolling24HrPxChange).")
    day_change = money(null=True, blank=True,
                       help_text="The exchange's price change since midnight, in the quote currency.")
    reported_at = models.DateTimeField(null=True, blank=True,
                                       help_text="When the REST poll last wrote the exchange's own figures.")

    class Meta:
        ordering = ["product"]
        constraints = [
            models.UniqueConstraint(fields=["source", "product"], name="ticker_source_product_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.last}"


class OrderBook(models.Model):
    """A product's order book as last seen: levels as [price, quantity] decimal strings."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="order_books")
    product = models.CharField(max_length=PRODUCT_LENGTH)
    bids = models.JSONField(default=list, help_text="Best (highest) first.")
    asks = models.JSONField(default=list, help_text="Best (lowest) first.")
    as_of = models.DateTimeField(null=True, blank=True, help_text="The newest order's time.")
    updated_at = models.DateTimeField()
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.REST)

    class Meta:
        ordering = ["product"]
        constraints = [
            models.UniqueConstraint(fields=["source", "product"], name="orderbook_source_product_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.product} book"


class Candle(models.Model):
    """One OHLCV candle of `interval` seconds starting at `start`, as the exchange reports it."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="candles")
    product = models.CharField(max_length=PRODUCT_LENGTH)
    interval = models.PositiveIntegerField(help_text="Seconds: 60, 3600 or 86400.")
    start = models.DateTimeField()
    open = money()
    high = money()
    low = money()
    close = money()
    volume = money()

    class Meta:
        ordering = ["start"]
        constraints = [
            models.UniqueConstraint(fields=["source", "product", "interval", "start"],
                                    name="candle_source_product_interval_start_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.interval}s {self.start:%Y-%m-%d %H:%M}"


class Trade(models.Model):
    """A public trade on the exchange (not the team's own: see AccountTrade)."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="trades")
    product = models.CharField(max_length=PRODUCT_LENGTH)
    trade_id = models.BigIntegerField()
    at = models.DateTimeField()
    price = money()
    quantity = money()
    taker_side = models.CharField(max_length=4, help_text="buy or sell")
    direction = models.SmallIntegerField(default=0, help_text="0 no change, 1 uptick, 2 downtick")

    class Meta:
        ordering = ["-at", "-trade_id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "product", "trade_id"],
                                    name="trade_source_product_id_unique"),
        ]
        indexes = [models.Index(fields=["source", "product", "-at"], name="trade_recent_idx")]

    def __str__(self) -> str:
        return f"{self.product} trade {self.trade_id}"


class DailyPrice(models.Model):
    """A coin's price in a quote currency on a UTC day: the day's close, or the latest price
    while the day runs. Fiat values on the overview and earnings pages come from here."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="daily_prices")
    coin = models.CharField(max_length=12)
    quote = models.CharField(max_length=12)
    date = models.DateField()
    price = money()
    as_of = models.DateTimeField()

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["source", "coin", "quote", "date"],
                                    name="dailyprice_source_coin_quote_date_unique"),
        ]
        indexes = [models.Index(fields=["coin", "quote", "-date"], name="dailyprice_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.coin}/{self.quote} {self.date}"


class ExchangeAccount(models.Model):
    """The exchange account the source's login reads (never writes)."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="exchange_accounts")
    account_id = models.BigIntegerField()
    account_name = models.CharField(max_length=200, blank=True)
    user_name = models.CharField(max_length=200, blank=True)
    verification_level = models.IntegerField(null=True, blank=True)
    info = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder,
                            help_text="User and account info as sent, without secrets.")
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "account_id"], name="exchangeaccount_unique"),
        ]

    def __str__(self) -> str:
        return self.account_name or f"account {self.account_id}"


class ExchangeOrder(models.Model):
    """An order of the team's exchange account: open, or from the recent order history."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="exchange_orders")
    order_id = models.BigIntegerField()
    account_id = models.BigIntegerField()
    product = models.CharField(max_length=PRODUCT_LENGTH)
    side = models.CharField(max_length=8)
    order_type = models.CharField(max_length=32, blank=True)
    state = models.CharField(max_length=32, blank=True)
    price = money()
    quantity = money(help_text="Still open.")
    orig_quantity = money()
    executed = money()
    avg_price = money()
    received_at = models.DateTimeField(null=True, blank=True)
    is_open = models.BooleanField(default=False)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at", "-order_id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "order_id"], name="exchangeorder_unique"),
        ]

    def __str__(self) -> str:
        return f"order {self.order_id}"


class AccountTrade(models.Model):
    """A fill of one of the team's own orders."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="account_trades")
    trade_id = models.BigIntegerField()
    order_id = models.BigIntegerField()
    account_id = models.BigIntegerField()
    product = models.CharField(max_length=PRODUCT_LENGTH)
    side = models.CharField(max_length=8)
    quantity = money()
    price = money()
    value = money()
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-trade_id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "trade_id"], name="accounttrade_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.product} fill {self.trade_id}"


class ExchangerRate(models.Model):
    """One direction of an exchanger's current rate table; the whole table is replaced by
    each successful poll, so a direction the exchanger withdrew disappears."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="exchanger_rates")
    from_currency = models.CharField(max_length=24)
    to_currency = models.CharField(max_length=24)
    city = models.CharField(max_length=64, blank=True)
    rate_in = money(help_text="Giving this much of from_currency ...")
    rate_out = money(help_text="... buys this much of to_currency.")
    reserve = money(help_text="In to_currency.")
    min_amount = money(null=True, blank=True)
    max_amount = money(null=True, blank=True)
    amount_currency = models.CharField(max_length=24, blank=True)
    to_min = money(null=True, blank=True)
    to_max = money(null=True, blank=True)
    from_fee = models.CharField(max_length=40, blank=True, help_text='e.g. "0.0005" or "0.5%"')
    to_fee = models.CharField(max_length=40, blank=True)
    flags = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["from_currency", "to_currency", "city"]
        constraints = [
            models.UniqueConstraint(fields=["source", "from_currency", "to_currency", "city"],
                                    name="exchangerrate_direction_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.from_currency} -> {self.to_currency}"


class PartnerBalance(models.Model):
    """The partner account's balance, one row per hour (the hour's last poll wins)."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="partner_balances")
    at = models.DateTimeField(help_text="The start of the hour.")
    balance = money()
    total_received = money()
    min_payout = money()
    link = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "at"], name="partnerbalance_source_at_unique"),
        ]

    def __str__(self) -> str:
        return f"balance at {self.at:%Y-%m-%d %H:00}"


class PartnerExchange(models.Model):
    """An exchange made by a client the partner link brought."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="partner_exchanges")
    exchange_id = models.CharField(max_length=64)
    at = models.DateTimeField(null=True, blank=True)
    course_give = money()
    course_get = money()
    amount_give = money()
    amount_get = money()
    succeeded = models.BooleanField()
    accrued = models.BooleanField()
    partner_reward = money()
    user_hash = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "exchange_id"], name="partnerexchange_unique"),
        ]

    def __str__(self) -> str:
        return f"exchange {self.exchange_id}"


class LinkClick(models.Model):
    """A visit through the partner link. The visitor's IP address is not kept: the pages
    count visits and never need to know who made them."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="link_clicks")
    click_id = models.CharField(max_length=64)
    at = models.DateTimeField(null=True, blank=True)
    browser = models.CharField(max_length=300, blank=True)
    referrer = models.CharField(max_length=500, blank=True)
    query_string = models.CharField(max_length=500, blank=True)
    user_hash = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "click_id"], name="linkclick_unique"),
        ]

    def __str__(self) -> str:
        return f"click {self.click_id}"
