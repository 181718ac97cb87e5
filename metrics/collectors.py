"""The families of /metrics, built by prometheus-client's custom collectors from the store.

Values are the stored latest, as the pages show them; nothing is timestamped (Prometheus
stamps a scrape itself, and an old timestamp would make it drop the sample). Freshness is
told the way the Sources page tells it: `hashwatch_source_up` is 1 only while the last poll
succeeded and its data is fresh, and the last success time stands beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from dashboard.models import Health, Source, Team
from metrics.selectors import TeamStore, celery_queue_lengths, team_store_read
from pools.selectors import coin_shares

SOURCE_LABELS = ["team", "source_id", "source", "kind"]
# The account's shorter windows that pools publish beside the shortest one.
PUBLISHED_WINDOWS = (("15m", "hashrate_15m_hs"), ("24h", "hashrate_24h_hs"))


def gauge(name: str, documentation: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=labels)


def number(value: Decimal | float | int) -> float:
    return float(value)


class TeamCollector(Collector):
    """One team's sources: health, pools, markets and alerts, read when collected."""

    def __init__(self, *, team: Team, now: datetime):
        self.team, self.now = team, now

    def collect(self) -> Iterator[Metric]:
        store = team_store_read(team=self.team)
        yield from self.health(store)
        yield from self.pools(store)
        yield from self.markets(store)
        yield from self.alerts(store)

    def labels(self, source: Source) -> list[str]:
        return [self.team.slug, str(source.pk), source.label, source.kind]

    def health(self, store: TeamStore) -> Iterator[Metric]:
        up = gauge("hashwatch_source_up",
                   "1 when the source's last poll succeeded and its data is fresh, else 0 "
                   "(an error, no success within 2.5 polling intervals, disabled, or not polled yet).",
                   SOURCE_LABELS)
        last_success = gauge("hashwatch_source_last_success_timestamp_seconds",
                             "When the source was last polled successfully (Unix time).", SOURCE_LABELS)
        duration = gauge("hashwatch_source_poll_duration_seconds",
                         "How long the source's last poll took.", SOURCE_LABELS)
        # Counted as polls finish (metrics.models explains why not from PollRun rows).
        polls = CounterMetricFamily("hashwatch_source_polls",
                                    "Polls of the source that ran, whatever their outcome.",
                                    labels=SOURCE_LABELS)
        failures = CounterMetricFamily("hashwatch_source_poll_failures",
                                       "Polls of the source that failed.", labels=SOURCE_LABELS)
        info = InfoMetricFamily("hashwatch_source", "The source's kind, label and whether it is polled.",
                                labels=SOURCE_LABELS)
        for source in store.sources:
            labels = self.labels(source)
            up.add_metric(labels, 1 if source.health(self.now) == Health.OK else 0)
            if source.last_success_at:
                last_success.add_metric(labels, source.last_success_at.timestamp())
            if source.last_duration_ms is not None:
                duration.add_metric(labels, source.last_duration_ms / 1000)
            count = store.poll_counts.get(source.pk)
            polls.add_metric(labels, count.polls if count else 0)
            failures.add_metric(labels, count.failures if count else 0)
            info.add_metric(labels, {"label": source.label,
                                     "enabled": "true" if source.enabled else "false"})
        yield from (up, last_success, duration, polls, failures, info)

    def pools(self, store: TeamStore) -> Iterator[Metric]:
        by_pk = {source.pk: source for source in store.sources}
        hashrate = gauge("hashwatch_hashrate_hashes_per_second",
                         "The account's hashrate over each averaging window the pool publishes.",
                         [*SOURCE_LABELS, "coin", "window"])
        for pk, account in store.accounts.items():
            source = by_pk[pk]
            # An account mining several coins is split by the pool's own per-coin figures.
            shares = coin_shares(source, account)
            windows = [(store.account_windows.get(pk) or "current", account.hashrate_hs)]
            windows += [(window, getattr(account, name)) for window, name in PUBLISHED_WINDOWS
                        if window != windows[0][0]]
            for window, value in windows:
                if value is None:
                    continue
                for coin, share in sorted(shares.items()):
                    hashrate.add_metric([*self.labels(source), coin, window], value * share)
        yield hashrate

        # No coin label: the workers of an account mining several coins are not told apart
        # by coin in every pool's answer, and a guessed label would be worse than none.
        workers = gauge("hashwatch_workers",
                        "Workers the pool lists, by status (online, offline, dead).",
                        [*SOURCE_LABELS, "status"])
        for pk, counts in store.workers_by_status.items():
            for status, count in counts.items():
                workers.add_metric([*self.labels(by_pk[pk]), status], count)
        yield workers

        per_worker = gauge("hashwatch_worker_hashrate_hashes_per_second",
                           "Each worker's hashrate, for sources whose metrics_per_worker option is on.",
                           [*SOURCE_LABELS, "worker"])
        for pk, name, rate in store.worker_rates:
            per_worker.add_metric([*self.labels(by_pk[pk]), name], rate)
        yield per_worker

        today = gauge("hashwatch_earnings_today_coins",
                      "What the pool says the account earned so far today, in whole coins.",
                      [*SOURCE_LABELS, "coin"])
        unpaid = gauge("hashwatch_unpaid_balance_coins",
                       "The pool's unpaid balance of the account, in whole coins.", [*SOURCE_LABELS, "coin"])
        paid = gauge("hashwatch_paid_total_coins",
                     "What the pool says it has paid the account in all, in whole coins.",
                     [*SOURCE_LABELS, "coin"])
        for balance in store.balances:
            labels = [*self.labels(by_pk[balance.source_id]), balance.coin]
            if balance.today is not None:
                today.add_metric(labels, number(balance.today))
            unpaid.add_metric(labels, number(balance.unpaid))
            # A pool that reports no lifetime total (BTCpool.kz) gets no sample rather than a 0
            # that would read as "nothing paid".
            if balance.paid_total is not None:
                paid.add_metric(labels, number(balance.paid_total))
        yield from (today, unpaid, paid)

    def markets(self, store: TeamStore) -> Iterator[Metric]:
        by_pk = {source.pk: source for source in store.sources}
        labels = [*SOURCE_LABELS, "product"]
        last = gauge("hashwatch_market_last_price", "The product's last trade price, in its quote currency.",
                     labels)
        bid = gauge("hashwatch_market_best_bid_price", "The best bid, in the quote currency.", labels)
        ask = gauge("hashwatch_market_best_ask_price", "The best ask, in the quote currency.", labels)
        spread = gauge("hashwatch_market_spread_price", "Best ask minus best bid, in the quote currency.",
                       labels)
        spread_ratio = gauge("hashwatch_market_spread_ratio",
                             "Best ask minus best bid, over their midpoint.", labels)
        volume = gauge("hashwatch_market_volume_24h_coins",
                       "Base coin traded over the last 24 hours.", labels)
        updated = gauge("hashwatch_market_updated_timestamp_seconds",
                        "When these figures were last received (Unix time).", labels)
        for ticker in store.tickers:
            values = [*self.labels(by_pk[ticker.source_id]), ticker.product]
            last.add_metric(values, number(ticker.last))
            bid.add_metric(values, number(ticker.bid))
            ask.add_metric(values, number(ticker.ask))
            updated.add_metric(values, ticker.updated_at.timestamp())
            volume.add_metric(values, number(ticker.volume))
            # An empty side of the book (0) has no spread.
            if ticker.bid > 0 and ticker.ask > 0:
                spread.add_metric(values, number(ticker.ask - ticker.bid))
                midpoint = (ticker.ask + ticker.bid) / 2
                spread_ratio.add_metric(values, number((ticker.ask - ticker.bid) / midpoint))
        yield from (last, bid, ask, spread, spread_ratio, volume, updated)

        connected = gauge("hashwatch_stream_connected",
                          "1 while the live stream holds its connection to the exchange, else 0 "
                          "(absent while the shared cache cannot be read).", SOURCE_LABELS)
        last_event = gauge("hashwatch_stream_last_event_timestamp_seconds",
                           "When the live stream last heard from the exchange (Unix time).", SOURCE_LABELS)
        if store.stream_statuses is not None:
            for pk in store.stream_source_ids:
                status = store.stream_statuses.get(pk) or {}
                connected.add_metric(self.labels(by_pk[pk]), 1 if status.get("connected") else 0)
                if moment := status.get("last_event_at"):
                    last_event.add_metric(self.labels(by_pk[pk]), datetime.fromisoformat(moment).timestamp())
        yield from (connected, last_event)

        direction = [*SOURCE_LABELS, "from", "to", "city"]
        rate = gauge("hashwatch_exchanger_rate",
                     "What one unit of `from` buys of `to` at the exchanger's current rate.", direction)
        reserve = gauge("hashwatch_exchanger_reserve",
                        "The exchanger's reserve for the direction, in units of `to`.", direction)
        for row in store.exchanger_rates:
            values = [*self.labels(by_pk[row.source_id]), row.from_currency, row.to_currency, row.city]
            if row.rate_in > 0:
                rate.add_metric(values, number(row.rate_out / row.rate_in))
            reserve.add_metric(values, number(row.reserve))
        yield from (rate, reserve)

    def alerts(self, store: TeamStore) -> Iterator[Metric]:
        firing = gauge("hashwatch_alerts_firing", "The team's alerts firing now, by rule kind.",
                       ["team", "kind"])
        for kind, count in store.alerts_firing.items():
            firing.add_metric([self.team.slug, kind], count)
        yield firing


class AppCollector(Collector):
    """Hashwatch itself: the Celery queues waiting in Redis."""

    def collect(self) -> Iterator[Metric]:
        queues = celery_queue_lengths()
        if queues.reachable is None:
            return
        yield GaugeMetricFamily("hashwatch_redis_up",
                                "1 when the Celery broker (Redis) answered this scrape.",
                                value=1 if queues.reachable else 0)
        if queues.reachable:
            length = gauge("hashwatch_celery_queue_length",
                           "Tasks waiting in each Celery queue; a queue that keeps growing has too "
                           "few workers, or none.", ["queue"])
            for name, count in queues.lengths.items():
                length.add_metric([name], count)
            yield length


def scrape_registry(*, team: Team, now: datetime) -> CollectorRegistry:
    """A registry of its own for each scrape: the team is the token's, and nothing from one
    scrape (or team) can linger into the next."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TeamCollector(team=team, now=now))
    registry.register(AppCollector())
    # This web process's CPU, memory, open files and Python runtime.
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry
