"""Admin views of what polls stored: for looking, not editing, since the next poll would
overwrite any edit."""

from __future__ import annotations

from django.contrib import admin

from dashboard.admin import ReadOnlyAdmin
from pools.models import (
    Balance,
    DailyEarning,
    HashrateDaily,
    HashrateHourly,
    HashrateSample,
    HistoryBackfill,
    Payout,
    PoolAccount,
    PoolCoinStat,
    PoolStat,
    Worker,
)


@admin.register(Worker)
class WorkerAdmin(ReadOnlyAdmin):
    list_display = ["name", "source", "status", "pool_status", "hashrate_hs", "last_share_at",
                    "last_seen_at", "missing_since"]
    list_filter = ["status", "source"]
    search_fields = ["name"]


@admin.register(HashrateSample)
class HashrateSampleAdmin(ReadOnlyAdmin):
    list_display = ["at", "source", "worker_name", "hashrate_hs", "raw_value", "raw_unit", "suspect"]
    list_filter = ["suspect", "source"]
    search_fields = ["worker_name"]
    date_hierarchy = "at"


class RollupAdmin(ReadOnlyAdmin):
    list_display = ["bucket", "source", "worker_name", "hashrate_avg", "hashrate_min",
                    "hashrate_max", "samples"]
    list_filter = ["source"]
    search_fields = ["worker_name"]
    date_hierarchy = "bucket"


admin.site.register(HashrateHourly, RollupAdmin)
admin.site.register(HashrateDaily, RollupAdmin)


@admin.register(DailyEarning)
class DailyEarningAdmin(ReadOnlyAdmin):
    list_display = ["date", "source", "coin", "amount"]
    list_filter = ["coin", "source"]
    date_hierarchy = "date"


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ["paid_at", "source", "coin", "amount", "address", "tx"]
    list_filter = ["coin", "source"]
    search_fields = ["tx", "address"]


@admin.register(Balance)
class BalanceAdmin(ReadOnlyAdmin):
    list_display = ["source", "coin", "unpaid", "paid_total", "today", "pending", "updated_at"]
    list_filter = ["coin"]


@admin.register(PoolStat)
class PoolStatAdmin(ReadOnlyAdmin):
    list_display = ["at", "source", "scope", "coin", "hashrate_hs", "workers", "users"]
    list_filter = ["scope", "coin", "source"]
    date_hierarchy = "at"


@admin.register(PoolCoinStat)
class PoolCoinStatAdmin(ReadOnlyAdmin):
    list_display = ["source", "coin", "pool_hashrate_hs", "network_hashrate_hs", "miners",
                    "fee_percent", "payout_rate", "payout_rate_unit", "as_of", "updated_at"]
    list_filter = ["coin", "source"]


@admin.register(PoolAccount)
class PoolAccountAdmin(ReadOnlyAdmin):
    list_display = ["source", "name", "account_id", "region", "hashrate_hs", "workers_total",
                    "updated_at"]
    search_fields = ["name", "account_id"]


@admin.register(HistoryBackfill)
class HistoryBackfillAdmin(ReadOnlyAdmin):
    list_display = ["source", "dataset", "pages_done", "pages_total", "rows_done", "oldest",
                    "started_at", "finished_at", "last_error"]
    list_filter = ["dataset", "source"]
