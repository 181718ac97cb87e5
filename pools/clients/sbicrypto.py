"""SBI Crypto pool. With an API key and secret: the account, its subaccounts (and collectors'
virtual subaccounts), every worker, the subpools, and with the FINANCIALS permission earnings,
payouts and revenue. With an observer key: one subaccount's workers, hashrates and worker
status. Both add the pool's public figures. The UPDATE endpoints are never called.

Hashrates are MH/s, amounts whole coins, errors HTTP statuses with a JSON body (see
sbicrypto_api). Subaccounts may mine different coins, so balances and earnings are per coin.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from dashboard.http import CredentialsRejected, SchemaError, UpstreamError
from dashboard.sources import PollContext
from pools.clients import base
from pools.clients.base import as_object, parse_records, pick, to_float, unique_by
from pools.clients.history import history_of
from pools.clients.sbicrypto_account import (
    EXTERNAL,
    AccountStructure,
    observed_subaccounts,
    worker_counts,
)
from pools.clients.sbicrypto_api import WINDOWS, Record, SbiApi, listed, moment, required_text, text, triple
from pools.clients.sbicrypto_financials import Financials
from pools.clients.sbicrypto_public import PoolFigures

T = TypeVar("T")

OBSERVER = "/api/observer/v1"
# The document's general rule puts every endpoint on the API host, but each observer example
# calls the web host. The observer host is its own option (`observer_url`), the examples' host
# by default, so a user whose calls answer 404 can try the other without moving the rest.
API_HOST = "https://pool-api.sbicrypto.com"
OBSERVER_HOST = "https://pool.sbicrypto.com"
STATS_URL = "https://stats.sbicrypto.com/poolstats"
DEFAULT_COIN = "BTC"
STATUSES = {"ONLINE": "online", "OFFLINE": "offline", "DEAD": "dead"}
# The pool's own rule for ONLINE, OFFLINE and DEAD, applied to a worker sent without a state.
ONLINE_WITHIN, OFFLINE_WITHIN = timedelta(minutes=2), timedelta(minutes=10)
RANGES = "10,60,1440"  # minutes: the 10m, 1h and 1d windows the key API reports
# The last hour in equal sub-ranges; their mean is the hour's average whether the server reads
# `resolution` as a count of sub-ranges or as their length in minutes (the document says both).
COIN_RANGE, COIN_RESOLUTION = "0:60", 6


@dataclass(frozen=True)
class Summary:
    name: str
    timezone: str
    counts: base.WorkerCounts
    samples: list[base.HashrateSample]


class SbiCryptoClient:
    def __init__(self, ctx: PollContext) -> None:
        self.ctx = ctx
        self.problems: list[str] = []
        key, secret, observer = (ctx.credentials.get(name) or "" for name in (
            "api_key", "api_secret", "observer_key"))
        self.observer = not (key and secret)
        if self.observer and not observer:
            raise CredentialsRejected("SBI Crypto needs an API key and secret, or an observer key")
        if self.observer:
            host = observer_host(ctx)
            other = API_HOST if host == OBSERVER_HOST else OBSERVER_HOST
            self.api = SbiApi(
                ctx, headers={"X-observer-key": observer}, credential="observer key",
                secrets=(observer,), base_url=host,
                missing_hint=f"check the source's observer host option (now {host}; the document "
                             f"also names {other})")
        else:
            self.api = SbiApi(ctx, headers={"X-API-Key": key, "X-API-Secret": secret},
                              credential="API key and secret", secrets=(key, secret))
        # Public reads need no key, so none is sent with them.
        self.public = SbiApi(ctx, headers={}, credential="public access")
        self.coin = str(ctx.options.get("currency") or DEFAULT_COIN).upper()

    def fetch(self) -> base.PoolSnapshot:
        self.problems = []
        snapshot = self.observed() if self.observer else self.keyed()
        figures = PoolFigures(self.public, stats_url=self.ctx.options.get("stats_url") or STATS_URL,
                              problems=self.problems)
        snapshot.pool_stats, snapshot.pool_figures = figures.read({self.coin, *snapshot.coin_hashrates})
        snapshot.problems = self.problems
        snapshot.history = history_of(self.ctx)
        return snapshot

    def keyed(self) -> base.PoolSnapshot:
        summary = self._one(f"{EXTERNAL}/account", self._summary)
        structure = AccountStructure(self.api, self.ctx, self.problems)
        subaccounts = structure.subaccounts()
        workers = self.workers(f"{EXTERNAL}/workers", page_param="pageNumber")
        money = Financials(self.api, self.ctx, self.problems).read(sub["coin"] for sub in subaccounts)
        subpools = structure.subpools()
        addresses = {sub["payout_address"] for sub in subaccounts} - {""}
        account = None if summary is None else base.AccountInfo(
            account_id="", name=summary.name,
            payout_address=addresses.pop() if len(addresses) == 1 else "",
            extra={"access": "api_key", "timezone": summary.timezone, "subaccounts": subaccounts,
                   "subpools": subpools, "estimated_revenue": money.revenue},
        )
        return snapshot(
            self.ctx.now, summary.samples if summary else [], summary.counts if summary else None,
            workers, account, earnings=money.earnings, payouts=money.payouts, balances=money.balances,
            coin_hashrates=coin_totals(subaccounts),
        )

    def observed(self) -> base.PoolSnapshot:
        self.api.get(f"{OBSERVER}/workers/validate")  # a bad key fails here, before any paging
        status = pick(as_object(self.api.get(
            f"{OBSERVER}/workers/status", accept="application/vnd.sbi.workerstatus.subaccount+json",
        ), what="worker status"), "status")
        rates = as_object(pick(as_object(self.api.get(
            f"{OBSERVER}/workers/hashrates", accept="application/vnd.sbi.hashrate.subaccount+json",
            ranges=RANGES,
        ), what="subaccount hashrates"), "hashrate"), what="hashrate")
        by_coin = self.coin_hashrates()
        subaccounts = observed_subaccounts(as_object(status, what="status"), rates)
        for sub in subaccounts:  # an observer key sees one subaccount: a lone coin is its coin
            sub["coin"] = next(iter(by_coin)) if len(by_coin) == 1 else ""
        account = base.AccountInfo(
            account_id=",".join(str(sub["id"]) for sub in subaccounts),
            name=", ".join(sub["name"] for sub in subaccounts), payout_address="",
            extra={"access": "observer", "subaccounts": subaccounts},
        )
        for name, values in rates.items():
            triple(values, field=f"{name} hashrate")  # a short or unreadable list fails here
        totals = [sum(to_float(values[i], field="hashrate") for values in rates.values())
                  for i in range(len(WINDOWS))]
        counts = base.WorkerCounts(*(sum(sub["workers"][k] for sub in subaccounts)
                                     for k in ("online", "offline", "dead", "total")))
        workers = self.workers(f"{OBSERVER}/workers/details", page_param="page",
                               accept="application/vnd.sbi.details.worker+json", hashrateRanges=RANGES)
        return snapshot(self.ctx.now, samples(self.ctx.now, totals), counts, workers, account,
                        coin_hashrates=by_coin)

    def coin_hashrates(self) -> dict[str, float]:
        """The last hour's average H/s of each coin mined."""
        params: dict[str, Any] = {"range": COIN_RANGE, "resolution": COIN_RESOLUTION}
        try:
            body = self.api.get(f"{OBSERVER}/hashrates/coin", accept="*/*", **params)
        except UpstreamError as error:
            if error.status != 404:
                raise
            # The document's endpoint line and its example request name different paths.
            body = self.api.get(f"{OBSERVER}/workers/hashrates/coin", accept="*/*", **params)
        found = {}
        for coin, values in as_object(pick(as_object(body, what="coin hashrates"), "hashrate"),
                                      what="hashrate").items():
            rates = [to_float(value, field=f"{coin} hashrate") * 1e6 for value in listed(values)]
            if rates and sum(rates) > 0:
                found[str(coin).upper()] = sum(rates) / len(rates)
        return found

    def workers(self, path: str, **params: Any) -> list[base.WorkerState]:
        """Every worker once. Names are unique within a subaccount only: a name listed under two
        becomes subaccount.name (its stratum login) for each, so neither rig hides the other."""
        workers = unique_by(parse_records(self.api.pages(path, **params), self._worker,
                                          what="SBI Crypto workers", problems=self.problems),
                            key=lambda w: (w.extra["subaccount"], w.name))
        homes: dict[str, set[str]] = defaultdict(set)
        for worker in workers:
            homes[worker.name].add(worker.extra["subaccount"])
        return [replace(w, name=f"{w.extra['subaccount']}.{w.name}") if len(homes[w.name]) > 1 else w
                for w in workers]

    def inferred_status(self, last_share: datetime | None, rate: float) -> str:
        """The status of a worker sent without a known state (often ""), by the pool's rule."""
        if last_share is None:
            return "online" if rate > 0 else "dead"
        age = self.ctx.now - last_share
        return "online" if age <= ONLINE_WITHIN else "offline" if age <= OFFLINE_WITHIN else "dead"

    def _worker(self, row: Record) -> base.WorkerState:
        word, rates = text(row, "state"), pick(row, "hashrates")
        ten, hour, day = triple(rates, field="hashrates")
        last_share = moment(row.get("lastShareTime"), field="lastShareTime")
        known = word.upper() in STATUSES
        return base.WorkerState(
            name=required_text(row, "name"),
            status=STATUSES[word.upper()] if known else self.inferred_status(last_share, ten),
            pool_status=word, hashrate_hs=ten, hashrate_24h_hs=day, last_share_at=last_share,
            raw_hashrate=str(rates[0]), raw_unit="M",
            extra={"subaccount": text(row, "subaccount"), "subaccount_id": row.get("subaccountId"),
                   "hashrate_1h_hs": hour, **({} if known else {"status_inferred": True})},
        )

    def _summary(self, data: Record) -> Summary:
        counts = worker_counts(pick(data, "workerStatus"), pick(data, "numOfWorkers"))
        return Summary(text(data, "name"), text(data, "timezone"),
                       base.WorkerCounts(counts["online"], counts["offline"], counts["dead"],
                                         counts["total"]),
                       samples(self.ctx.now, pick(data, "hashrate")))

    def _one(self, path: str, parse: Callable[[Record], T]) -> T | None:
        """Parse a single-record answer; a bad field leaves the record out, noted in problems."""
        data = as_object(self.api.get(path), what=f"data from {path}")
        try:
            return parse(data)
        except SchemaError as exc:
            self.problems.append(f"SBI Crypto {path} skipped: {exc.message}")
            return None


def observer_host(ctx: PollContext) -> str:
    """Where observer-key requests go: the `observer_url` option; but a source whose base URL
    points away from the API host (a simulator, a test server, a proxy) keeps them there
    unless the option names a host of its own."""
    chosen = str(ctx.options.get("observer_url") or "").strip().rstrip("/") or OBSERVER_HOST
    base = ctx.base_url.strip().rstrip("/")
    if chosen == OBSERVER_HOST and base and base != API_HOST:
        return base
    return chosen


def snapshot(now: datetime, readings: list[base.HashrateSample], counts: base.WorkerCounts | None,
             workers: list[base.WorkerState], account: base.AccountInfo | None,
             **fields: Any) -> base.PoolSnapshot:
    rate = {sample.window: sample.hashrate_hs for sample in readings}
    return base.PoolSnapshot(
        fetched_at=now, hashrate_hs=rate.get("10m"), hashrate_24h_hs=rate.get("24h"),
        hashrate_samples=readings, worker_counts=counts, workers=workers, account=account, **fields,
    )


def coin_totals(subaccounts: list[dict[str, Any]]) -> dict[str, float]:
    """The 10-minute H/s per coin over the subaccounts, the window of the account's own figure.
    Virtual subaccounts share out their collector's hashrate, so they add nothing."""
    totals: dict[str, float] = defaultdict(float)
    for sub in subaccounts:
        totals[sub["coin"]] += sub["hashrate_hs"]["10m"]
    return dict(totals)


def samples(now: datetime, values: Any) -> list[base.HashrateSample]:
    """Account readings for the 10m, 1h and 1d windows from a list in MH/s."""
    rates = triple(values, field="hashrate")
    return [base.HashrateSample(now, window, rate, str(raw), "M")
            for window, rate, raw in zip(WINDOWS, rates, values, strict=False)]
