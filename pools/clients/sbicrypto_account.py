"""SBI Crypto account structure read with an API key: subaccounts and the coins they mine,
subpools, and the virtual subaccounts of collector subaccounts. Kept as plain dicts for
`AccountInfo.extra`, the only place the shared snapshot has for them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from dashboard.http import UpstreamError
from dashboard.sources import PollContext
from pools.clients.base import (
    as_object,
    hashrate_from_unit,
    parse_records,
    pick,
    to_decimal,
    to_int,
)
from pools.clients.sbicrypto_api import (
    WINDOWS,
    Record,
    SbiApi,
    coin_code,
    listed,
    required_text,
    text,
    triple,
)

EXTERNAL = "/api/external/v1"
STATUS_WORDS = ("online", "offline", "dead")


class AccountStructure:
    def __init__(self, api: SbiApi, ctx: PollContext, problems: list[str]):
        self.api = api
        self.ctx = ctx
        self.problems = problems

    def subaccounts(self) -> list[dict[str, Any]]:
        """The subaccounts the key may see, each with its virtual subaccounts if a collector."""
        body = as_object(self.api.get(f"{EXTERNAL}/subaccounts"), what="subaccounts")
        subaccounts = parse_records(listed(pick(body, "subaccounts")), subaccount,
                                    what="SBI Crypto subaccounts", problems=self.problems)
        virtual = self.collectors([sub["id"] for sub in subaccounts])
        for sub in subaccounts:
            sub["virtual_subaccounts"] = virtual.get(sub["id"], [])
        return subaccounts

    def subpools(self) -> list[dict[str, Any]]:
        return parse_records(listed(self.api.get(f"{EXTERNAL}/subpools")), subpool,
                             what="SBI Crypto subpools", problems=self.problems)

    def collectors(self, subaccount_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        """Virtual subaccounts by collector id. The reads need collector ids, which no other
        read names: without the `collectors` option every subaccount is asked, and the
        documented 400 for one that is not a collector is an answer, not an error."""
        options = self.ctx.options
        if str(options.get("collectors") or "").strip().lower() == "none":
            return {}
        collectors, chosen = option_ids(options, "collectors"), option_ids(options, "virtual_subaccounts")
        if collectors and chosen:
            rows = self.api.pages(f"{EXTERNAL}/subaccount/virtual", collectorIds=joined(collectors),
                                  vSubaccountIds=joined(chosen))
            grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for entry in self._virtuals(rows):
                grouped[entry["collector_id"]].append(entry)
            return dict(grouped)
        found = {}
        for collector in collectors or subaccount_ids:
            try:
                rows = self.api.pages(f"{EXTERNAL}/subaccount/{collector}/virtual")
                found[collector] = self._virtuals(rows)
            except UpstreamError as error:
                if error.status == 403:  # a key limited to other subaccounts: the rest still count
                    self.problems.append(f"SBI Crypto collector {collector} skipped: {error.message}")
                elif error.status != 400:
                    raise
        return found

    def _virtuals(self, rows: Iterable[Any]) -> list[dict[str, Any]]:
        return parse_records(rows, virtual_subaccount, what="SBI Crypto virtual subaccounts",
                             problems=self.problems)


def subaccount(row: Record) -> dict[str, Any]:
    # observerLink is left out: the id in the link grants read access, as a key does.
    return {
        "id": to_int(pick(row, "subaccountId"), field="subaccountId"),
        "name": required_text(row, "subaccountName"),
        "coin": coin_code(row, "currentMiningCurrency"),
        "payout_address": text(row, "payoutAddress"),
        "hashrate_hs": windows(pick(row, "hashrate")),
        # The document names the count numOfWorkers, its example totalWorkers.
        "workers": worker_counts(row.get("workerStatus") or {},
                                 row.get("totalWorkers", row.get("numOfWorkers"))),
    }


def subpool(row: Record) -> dict[str, Any]:
    servers = [as_object(s, what="stratum server") for s in listed(row.get("stratumServers") or [])]
    return {
        "name": text(row, "name"), "region": row.get("region"),
        "coins": [str(coin) for coin in listed(row.get("coins") or [])],
        "stratum": [f"stratum+tcp://{text(s, 'host')}:{text(s, 'port')}" for s in servers],
    }


def virtual_subaccount(row: Record) -> dict[str, Any]:
    revenue = [to_decimal(value, field="revenue") for value in listed(row.get("revenue") or [])]
    magnitude = text(row, "magnitude") or "MH/s"
    allocation = row.get("allocation") or 0
    return {
        "id": to_int(pick(row, "vsubaccountId"), field="vsubaccountId"),
        "name": required_text(row, "vsubaccountName"),
        "collector_id": to_int(pick(row, "collectorId"), field="collectorId"),
        "coin": coin_code(row, "coin"), "scheme": text(row, "scheme"), "fee_rate": row.get("feeRate"),
        "allocation": allocation, "magnitude": magnitude,
        "allocation_hs": hashrate_from_unit(allocation, magnitude[:1], field="allocation"),
        "new_allocation": row.get("newAllocation"), "percentage": row.get("percentage"),
        "tier": row.get("tier"), "new_tier": row.get("newTier"), "note": text(row, "note"),
        "hashrate_hs": windows(pick(row, "hashrate")),
        "revenue": dict(zip(("yesterday", "today"), revenue, strict=False)),
        "balance": to_decimal(row.get("balance") or 0, field="balance"),
        "address": text(row, "address"), "is_overflow": row.get("isOverflow"),
        "is_payment_enabled": row.get("isPaymentEnabled", True),
    }


def windows(values: Any) -> dict[str, float]:
    """{"10m": H/s, "1h": H/s, "24h": H/s} from an SBI [10m, 1h, 1d] list in MH/s."""
    return dict(zip(WINDOWS, triple(values, field="hashrate"), strict=True))


def worker_counts(status: Any, total: Any) -> dict[str, int]:
    """From {"ONLINE": n, ...} in either case; the total is the pool's, when it sends one."""
    counts = {str(k).lower(): to_int(v, field=f"workerStatus {k}")
              for k, v in as_object(status, what="workerStatus").items()
              if str(k).lower() in STATUS_WORDS}
    online, offline, dead = (counts.get(word, 0) for word in STATUS_WORDS)
    whole = online + offline + dead if total is None else to_int(total, field="numOfWorkers")
    return {"online": online, "offline": offline, "dead": dead, "total": whole}


def observed_subaccounts(status: Mapping[str, Any], rates: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The observer's {"16": {"name", "online", ...}} joined with its {name: [10m, 1h, 1d]}."""
    subaccounts = []
    for key, value in status.items():
        entry = as_object(value, what=f"worker status of {key}")
        name = required_text(entry, "name")
        subaccounts.append({
            "id": to_int(key, field="subaccount id"), "name": name,
            "hashrate_hs": windows(rates.get(name, [0, 0, 0])),
            "workers": worker_counts(entry, None),
        })
    return subaccounts


def option_ids(options: Mapping[str, Any], name: str) -> list[int]:
    raw = str(options.get(name) or "").strip()
    if not raw or raw.lower() == "none":
        return []
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not all(part.isdigit() for part in parts):
        raise UpstreamError(f"option {name} must be comma-separated ids (got {raw!r})",
                            permanent=True, reason="config")
    return [int(part) for part in parts]


def joined(ids: list[int]) -> str:
    return ",".join(map(str, ids))
