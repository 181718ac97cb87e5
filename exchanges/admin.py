"""Admin views of what exchange polls and the stream stored: for looking, not editing, since
the next poll would overwrite any edit."""

from __future__ import annotations

from django.contrib import admin

from dashboard.admin import ReadOnlyAdmin
from exchanges import models as m


@admin.register(m.Ticker)
class TickerAdmin(ReadOnlyAdmin):
    list_display = ["product", "source", "last", "bid", "ask", "volume", "as_of", "origin"]
    list_filter = ["product", "origin", "source"]


@admin.register(m.OrderBook)
class OrderBookAdmin(ReadOnlyAdmin):
    list_display = ["product", "source", "as_of", "updated_at", "origin"]
    list_filter = ["product", "origin", "source"]


@admin.register(m.Candle)
class CandleAdmin(ReadOnlyAdmin):
    list_display = ["start", "product", "interval", "source", "open", "high", "low", "close", "volume"]
    list_filter = ["interval", "product", "source"]
    date_hierarchy = "start"


@admin.register(m.Trade)
class TradeAdmin(ReadOnlyAdmin):
    list_display = ["at", "product", "trade_id", "source", "taker_side", "price", "quantity"]
    list_filter = ["product", "taker_side", "source"]
    date_hierarchy = "at"


@admin.register(m.DailyPrice)
class DailyPriceAdmin(ReadOnlyAdmin):
    list_display = ["date", "coin", "quote", "price", "source", "as_of"]
    list_filter = ["quote", "coin", "source"]
    date_hierarchy = "date"


@admin.register(m.ExchangeAccount)
class ExchangeAccountAdmin(ReadOnlyAdmin):
    list_display = ["account_id", "account_name", "user_name", "source", "updated_at"]
    exclude = ["info"]  # as the exchange sent it; the fields above are what matters


@admin.register(m.ExchangeOrder)
class ExchangeOrderAdmin(ReadOnlyAdmin):
    list_display = ["order_id", "product", "side", "state", "price", "quantity", "executed",
                    "is_open", "received_at", "source"]
    list_filter = ["is_open", "side", "product", "source"]


@admin.register(m.AccountTrade)
class AccountTradeAdmin(ReadOnlyAdmin):
    list_display = ["at", "trade_id", "product", "side", "price", "quantity", "value", "source"]
    list_filter = ["side", "product", "source"]
    date_hierarchy = "at"


@admin.register(m.ExchangerRate)
class ExchangerRateAdmin(ReadOnlyAdmin):
    list_display = ["from_currency", "to_currency", "city", "rate_in", "rate_out", "reserve",
                    "source", "updated_at"]
    list_filter = ["source"]
    search_fields = ["from_currency", "to_currency"]


@admin.register(m.PartnerBalance)
class PartnerBalanceAdmin(ReadOnlyAdmin):
    list_display = ["at", "source", "balance", "total_received", "min_payout"]
    list_filter = ["source"]
    date_hierarchy = "at"


@admin.register(m.PartnerExchange)
class PartnerExchangeAdmin(ReadOnlyAdmin):
    list_display = ["at", "exchange_id", "amount_give", "amount_get", "succeeded", "accrued",
                    "partner_reward", "source"]
    list_filter = ["succeeded", "accrued", "source"]
    date_hierarchy = "at"


@admin.register(m.LinkClick)
class LinkClickAdmin(ReadOnlyAdmin):
    list_display = ["at", "click_id", "browser", "referrer", "source"]
    list_filter = ["source"]
    date_hierarchy = "at"
