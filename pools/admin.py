"""Admin views of what polls stored: for looking, not editing, since the next poll would
overwrite any edit."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from pools.models import (
    Balance,
    DailyEarning,
    HashrateDaily,
    HashrateHourly,
    HashrateSample,
    Payout,
    PoolAccount,
    PoolCoinStat,
    PoolStat,
    Worker,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows can be viewed and deleted (a bad reading, say), never added or changed."""

    list_select_related = ["source"]
    show_full_result_count = False  # a count of millions of samples costs more than the page

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
