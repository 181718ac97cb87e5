"""Reads for the pool pages and the JSON API. Everything takes a team (or sources already
scoped to one), so no view can reach another team's rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Avg, BigIntegerField, Count, FloatField, Func, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Floor

from dashboard.models import Source, Team
from pools.charts import MAX_POINTS, Line, Point, carry_buckets, lttb
from pools.models import (
    ACCOUNT,
    Balance,
    DailyEarning,
    HashrateDaily,
    HashrateHourly,
    HashrateSample,
    Payout,
    PoolAccount,
    Worker,
    WorkerStatus,
)

RESOLUTIONS = {"raw": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


def team_pool_sources(*, team: Team, source_ids: Sequence[int] | None = None) -> list[Source]:
    from dashboard.sources import REGISTRY

    kinds = [kind for kind, spec in REGISTRY.items() if spec.category == "pool"]
    sources = Source.objects.filter(team=team, kind__in=kinds).order_by("label", "id")
    if source_ids:
        sources = sources.filter(pk__in=source_ids)
    return list(sources)


def source_coin(source: Source) -> str:
    """The coin a pool source mines: its `currency` option, else its kind's coin."""
    return str(source.options.get("currency") or source.kind_spec.extra.get("coin", "BTC"))


def series_resolution(*, start: datetime, end: datetime) -> str:
    """The coarsest stored resolution that still draws the range smoothly."""
    span = end - start
    if span <= timedelta(days=2):
        return "raw"
    if span <= timedelta(days=90):
        return "hour"
    return "day"


def hashrate_points(
    *, source: Source, worker_name: str = ACCOUNT, start: datetime, end: datetime,
    resolution: str | None = None,
) -> list[Point]:
    resolution = resolution or series_resolution(start=start, end=end)
    rows, moment, value = series_table(resolution=resolution, start=start, end=end)
    return list(rows.filter(source=source, worker_name=worker_name).order_by(moment)
                .values_list(moment, value))


def series_table(*, resolution: str, start: datetime, end: datetime) -> tuple[QuerySet[Any], str, str]:
    """The rows of the table holding `resolution` within the range, with its time and value
    column names."""
    if resolution == "raw":
        return HashrateSample.objects.filter(at__gte=start, at__lte=end), "at", "hashrate_hs"
    table: type[HashrateHourly | HashrateDaily] = HashrateHourly if resolution == "hour" else HashrateDaily
    # A bucket that starts before `start` still covers part of the range.
    rows = table.objects.filter(bucket__gte=start - RESOLUTIONS[resolution], bucket__lte=end)
    return rows, "bucket", "hashrate_avg"


def hashrate_series(
    *, source: Source, worker_name: str = ACCOUNT, start: datetime, end: datetime,
    max_points: int = MAX_POINTS,
) -> list[Point]:
    """A source's (or one worker's) hashrate in H/s over [start, end], at most max_points."""
    points = hashrate_points(source=source, worker_name=worker_name, start=start, end=end)
    return lttb(points, max_points)


class EpochSeconds(Func):
    """Seconds since 1970 of a timestamp column, on Postgres and SQLite.

    date_part, not EXTRACT: since PostgreSQL 14 EXTRACT answers in numeric, and bucketing a
    day of 50 sources' samples in numeric arithmetic, then loading every bucket number as a
    Decimal, cost a good part of the Hashrate page's time; date_part stays in double precision."""

    output_field = FloatField()
    template = "date_part('epoch', %(expressions)s)"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection,
                           template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)", **extra)


# Round steps for charts of several sources at once: the finest that keeps a line under
# GRID_POINTS points, so 50 small charts draw quickly and still show a day's dips.
GRID_POINTS = 300
GRID_STEPS = [timedelta(minutes=m) for m in (1, 5, 15, 30)] + [
    timedelta(hours=h) for h in (1, 3, 6, 12, 24, 24 * 7)]


def grid_step(*, start: datetime, end: datetime) -> timedelta:
    """The round step giving at most GRID_POINTS buckets, never finer than the table read."""
    least = max(RESOLUTIONS[series_resolution(start=start, end=end)], (end - start) / GRID_POINTS)
    return next((step for step in GRID_STEPS if step >= least), GRID_STEPS[-1])


@dataclass(frozen=True)
class HashrateGrid:
    """Several sources' account hashrate averaged on one grid of buckets from `start`."""

    start: datetime
    step: timedelta
    lines: dict[int, tuple[list[int], list[float]]]  # source id -> (bucket numbers, mean H/s)

    def line(self, numbers: Sequence[int], values: Sequence[float]) -> Line:
        start_ms, step_ms = int(self.start.timestamp() * 1000), int(self.step.total_seconds() * 1000)
        return Line([start_ms + step_ms * number for number in numbers], list(values))

    def points(self, source: Source) -> Line:
        return self.line(*self.lines.get(source.pk, ([], [])))

    def total(self, sources: Sequence[Source]) -> Line:
        per_series = [dict(zip(*self.lines[s.pk], strict=True)) for s in sources if s.pk in self.lines]
        buckets = carry_buckets(per_series)
        return self.line([number for number, _ in buckets], [value for _, value in buckets])


def sources_hashrate_grid(*, sources: Sequence[Source], start: datetime, end: datetime) -> HashrateGrid:
    """Every source's series in one grouped query, averaged per bucket by the database:
    a query per source, or every raw row fetched and bucketed in Python, cost most of the
    time of a page charting 50 sources."""
    resolution = series_resolution(start=start, end=end)
    step = grid_step(start=start, end=end)
    rows, moment, value = series_table(resolution=resolution, start=start, end=end)
    bucket = Cast(Floor((EpochSeconds(moment) - Value(start.timestamp())) / Value(step.total_seconds())),
                  BigIntegerField())
    means = (rows.filter(source__in=sources, worker_name=ACCOUNT)
             .annotate(b=bucket).values("source_id", "b").annotate(mean=Avg(value)))
    lines = arrays_by_key(means, keys=["source_id"], x="b", y="mean")
    return HashrateGrid(start, step, {source_id: line for (source_id,), line in lines.items()})


def arrays_by_key(rows: QuerySet[Any], *, keys: Sequence[str], x: str,
                  y: str) -> dict[tuple[Any, ...], tuple[list[Any], list[Any]]]:
    """The rows' (x, y) pairs as two lists per value of `keys`, in x order.

    On Postgres the database gathers each key's pairs into two arrays, so a chart of 50
    sources' day reaches Python as 50 rows instead of 14,400 (a year of their earnings:
    instead of 18,000), and no row passes through the ORM's per-row converters (those alone
    took a fifth of the Hashrate page's time). SQLite (the demo) groups them here."""
    pairs = rows.values_list(*keys, x, y).order_by()
    if connection.vendor != "postgresql":
        grouped: dict[tuple[Any, ...], tuple[list[Any], list[Any]]] = {}
        for *key, at, value in sorted(pairs, key=lambda row: row[len(keys)]):
            xs, ys = grouped.setdefault(tuple(key), ([], []))
            xs.append(at)
            ys.append(value)
        return grouped
    sql, params = pairs.query.sql_with_params()
    name = connection.ops.quote_name
    key_list = ", ".join(name(key) for key in keys)
    with connection.cursor() as cursor:
        # Only field names from the calling code are formatted in; the inner SQL is the ORM's
        # own, with its values as parameters.
        cursor.execute(
            f"SELECT {key_list}, array_agg({name(x)} ORDER BY {name(x)}),"  # noqa: S608
            f" array_agg({name(y)} ORDER BY {name(x)}) FROM ({sql}) AS pairs GROUP BY {key_list}",
            params)
        return {tuple(key): (xs, ys) for *key, xs, ys in cursor.fetchall()}


def team_hashrate_series(*, sources: Sequence[Source], start: datetime, end: datetime) -> list[Point]:
    """Sum of several sources on a common grid (sources are polled at different moments)."""
    return sources_hashrate_grid(sources=sources, start=start, end=end).total(sources).points()


# Hashrates of different algorithms measure different work, so they are never added up;
# coins sharing one (BTC and BCH) are still totalled apart, as each earns its own coin.
COIN_ALGORITHMS = {"BTC": "SHA-256", "BCH": "SHA-256", "BSV": "SHA-256", "LTC": "Scrypt",
                   "DOGE": "Scrypt"}


def coin_algorithm(coin: str) -> str:
    return COIN_ALGORITHMS.get(coin.upper(), "")


@dataclass(frozen=True)
class CoinSources:
    """The sources whose hashrate adds up to one coin's total, and those mining several
    coins at once: one series for all their coins, so in no coin's total."""

    by_coin: dict[str, list[Source]]
    several: list[Source]


def sources_by_coin(*, sources: Sequence[Source], accounts: dict[int, PoolAccount]) -> CoinSources:
    by_coin: dict[str, list[Source]] = defaultdict(list)
    several = []
    for source in sources:
        if len(coin_shares(source, accounts.get(source.pk))) == 1:
            by_coin[source_coin(source)].append(source)
        else:
            several.append(source)
    return CoinSources(dict(sorted(by_coin.items())), several)


ZERO = Decimal(0)


@dataclass
class CoinFigures:
    """A team's figures for one coin, added up over its enabled pool sources."""

    coin: str
    hashrate_hs: float = 0.0
    hashrate_24h_hs: float = 0.0
    today: Decimal = ZERO
    yesterday: Decimal = ZERO
    unpaid: Decimal = ZERO
    paid_total: Decimal = ZERO
    # Sources whose pool reports no total paid (BTCpool.kz): their part of paid_total is the sum
    # of their stored payouts, and `paid_unknown` those that have none stored either.
    paid_summed: list[str] = field(default_factory=list)
    paid_unknown: list[str] = field(default_factory=list)
    paid_reported: int = 0  # balances whose pool reports a total paid
    sources: int = 0
    has_balance: bool = False  # some source reports earnings for this coin (observer keys do not)
    workers: dict[str, int] = field(default_factory=dict)

    @property
    def paid_known(self) -> bool:
        """False when no source of the coin reports a total paid or has a payout stored."""
        return bool(self.paid_reported or self.paid_summed)

    @property
    def paid_note(self) -> str:
        """What the total paid leaves out or adds up, in words; "" when every pool reported it."""
        notes = []
        if self.paid_summed:
            notes.append(f"summed from the stored payouts of {and_join(self.paid_summed)} "
                         f"(no total reported)")
        if self.paid_unknown and self.paid_known:
            notes.append(f"{and_join(self.paid_unknown)}: not reported")
        return "; ".join(notes)


def and_join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


@dataclass(frozen=True)
class PoolOverview:
    coins: list[CoinFigures]
    worker_counts: dict[str, int]
    accounts: dict[int, PoolAccount] = field(default_factory=dict)


def sources_with_figures(sources: Sequence[Source]) -> list[Source]:
    """The sources that have figures to add up: a source not polled yet has none (unless
    some were stored for it otherwise, as a restore does), and counted in it would show
    0 H/s and "earnings not reported" for a coin nobody has heard from yet."""
    waiting = [s.pk for s in sources if not s.polled]
    stored: set[int] = set()
    if waiting:
        stored = set(PoolAccount.objects.filter(source_id__in=waiting).values_list("source_id", flat=True))
        stored |= set(Balance.objects.filter(source_id__in=waiting).values_list("source_id", flat=True))
    return [s for s in sources if s.polled or s.pk in stored]


def team_pool_overview(*, sources: Sequence[Source]) -> PoolOverview:
    enabled = [source for source in sources if source.enabled]
    accounts = {a.source_id: a for a in PoolAccount.objects.filter(source__in=sources)}
    coins: dict[str, CoinFigures] = {}
    # Worker counts: one query per coin for single-coin sources, one per coin of each
    # multi-coin source (its workers are told apart by subaccount).
    worker_groups: dict[str, list[Source]] = defaultdict(list)
    by_subaccount: list[tuple[str, Source, list[str] | None]] = []
    for source in enabled:
        account = accounts.get(source.pk)
        shares = coin_shares(source, account)
        for coin, share in shares.items():
            figures = coins.setdefault(coin, CoinFigures(coin))
            figures.sources += 1
            if account:
                figures.hashrate_hs += (account.hashrate_hs or 0.0) * share
                figures.hashrate_24h_hs += (account.hashrate_24h_hs or 0.0) * share
            if len(shares) == 1:
                worker_groups[coin].append(source)
            else:
                by_subaccount.append((coin, source, coin_subaccounts(account, coin)))
    counted = [(coin, worker_status_counts(sources=group)) for coin, group in worker_groups.items()]
    counted += [(coin, worker_status_counts(sources=[source], subaccounts=subaccounts))
                for coin, source, subaccounts in by_subaccount]
    for coin, counts in counted:
        figures = coins[coin]
        figures.workers = {k: figures.workers.get(k, 0) + v for k, v in counts.items()}
    paid = paid_by_source_and_coin(sources=enabled)
    labels = {source.pk: source.label for source in enabled}
    for balance in Balance.objects.filter(source__in=enabled).order_by("source__label", "coin"):
        figures = coins.setdefault(balance.coin, CoinFigures(balance.coin))
        figures.has_balance = True
        figures.today += balance.today or ZERO
        figures.yesterday += balance.yesterday or ZERO
        figures.unpaid += balance.unpaid
        stored = paid.get((balance.source_id, balance.coin))
        if balance.paid_total is None:
            # The pool reports no lifetime total (BTCpool.kz): the payouts stored so far are
            # all there is, and the page says the figure was added up from them.
            (figures.paid_summed if stored is not None else figures.paid_unknown).append(
                labels[balance.source_id])
            figures.paid_total += stored or ZERO
        else:
            figures.paid_reported += 1
            # A total that covers only recent days (SBI) can be below the payouts stored.
            figures.paid_total += max(balance.paid_total, stored or ZERO)
    # Each source is in exactly one coin's group unless one mines several: then the groups
    # are split by subaccount and need not add up to the whole.
    everyone = (worker_status_counts(sources=enabled) if by_subaccount else
                {name: sum(counts[name] for _, counts in counted) for name in WORKER_COUNT_NAMES})
    return PoolOverview(sorted(coins.values(), key=lambda f: f.coin), everyone, accounts)


def coin_shares(source: Source, account: PoolAccount | None) -> dict[str, float]:
    """Which part of a source's hashrate each coin has: all of it for the source's coin,
    unless the pool reported hashrate per coin (an account mining several)."""
    by_coin = {coin: hs for coin, hs in ((account.hashrate_by_coin or {}) if account else {}).items() if hs}
    total = sum(by_coin.values())
    if len(by_coin) < 2 or not total:
        return {source_coin(source): 1.0}
    return {coin: hs / total for coin, hs in by_coin.items()}


def coin_subaccounts(account: PoolAccount | None, coin: str) -> list[str] | None:
    """Names of the subaccounts mining `coin` for a multi-coin account, else None (all)."""
    subs = ((account.info or {}).get("subaccounts", []) if account else [])
    if len({sub.get("coin") for sub in subs}) < 2:
        return None
    return [str(sub.get("name")) for sub in subs if sub.get("coin") == coin]


def paid_by_source_and_coin(*, sources: Sequence[Source]) -> dict[tuple[int, str], Decimal]:
    rows = (Payout.objects.filter(source__in=sources).order_by().values("source_id", "coin")
            .annotate(total=Sum("amount")))
    return {(row["source_id"], row["coin"]): row["total"] for row in rows}


def team_workers(
    *, sources: Sequence[Source], status: str = "", q: str = "", subaccount: str = "",
    include_missing: bool = True,
) -> QuerySet[Worker]:
    workers = Worker.objects.filter(source__in=sources).select_related("source")
    if subaccount:
        workers = workers.filter(extra__subaccount=subaccount)
    if status == "missing":
        workers = workers.filter(missing_since__isnull=False)
    elif status:
        workers = workers.filter(status=status, missing_since__isnull=True)
    elif not include_missing:
        workers = workers.filter(missing_since__isnull=True)
    if q:
        workers = workers.filter(name__icontains=q)
    return workers


WORKER_COUNT_NAMES = [*(s.value for s in WorkerStatus), "missing"]


def worker_status_counts(
    *, sources: Sequence[Source], q: str = "", subaccount: str = "", subaccounts: list[str] | None = None
) -> dict[str, int]:
    """Workers per status, those the pool no longer lists counted apart as "missing"."""
    workers = Worker.objects.filter(source__in=sources)
    if subaccount:
        workers = workers.filter(extra__subaccount=subaccount)
    if subaccounts is not None:
        workers = workers.filter(extra__subaccount__in=subaccounts)
    if q:
        workers = workers.filter(name__icontains=q)
    counts = workers.aggregate(
        **{s.value: Count("pk", filter=Q(status=s.value, missing_since__isnull=True))
           for s in WorkerStatus},
        missing=Count("pk", filter=Q(missing_since__isnull=False)),
    )
    return {name: counts[name] or 0 for name in WORKER_COUNT_NAMES}


def team_earnings(
    *, sources: Sequence[Source], start: date | None = None, end: date | None = None
) -> QuerySet[DailyEarning]:
    rows = DailyEarning.objects.filter(source__in=sources).select_related("source")
    if start:
        rows = rows.filter(date__gte=start)
    if end:
        rows = rows.filter(date__lte=end)
    return rows.order_by("-date", "source__label", "coin")


RowT = TypeVar("RowT", DailyEarning, Payout)


def with_known_sources(rows: Iterable[RowT], sources: Sequence[Source]) -> Iterator[RowT]:
    """The rows (of a queryset without select_related) with their source set from `sources`:
    loading it again per row would decrypt its credentials once per row (18,000 for a year
    of 50 sources)."""
    by_id = {source.pk: source for source in sources}
    for row in rows:
        row.source = by_id[row.source_id]
        yield row


def team_payouts(
    *, sources: Sequence[Source], start: date | None = None, end: date | None = None
) -> QuerySet[Payout]:
    rows = Payout.objects.filter(source__in=sources).select_related("source")
    if start:
        rows = rows.filter(paid_at__date__gte=start)
    if end:
        rows = rows.filter(paid_at__date__lte=end)
    return rows


@dataclass(frozen=True)
class RangeSums:
    """What a page needs to know of all the rows in its range, read in one pass."""

    totals: dict[str, Decimal]  # per coin, in coin order
    count: int
    with_fee: int  # rows that report a fee (payouts; always 0 for earnings)


def range_sums(rows: QuerySet[DailyEarning] | QuerySet[Payout], *, fees: bool = False) -> RangeSums:
    """Totals per coin, the row count (for the pager) and, for payouts, how many carry a fee:
    one scan of the range instead of one each (a year of 50 sources is 18,000 rows)."""
    measures: dict[str, Any] = {"total": Sum("amount"), "n": Count("pk")}
    if fees:
        measures["fees"] = Count("fee")  # counts the rows whose fee is not null
    summed: Any = rows.order_by().values("coin").annotate(**measures).order_by("coin")
    per_coin: list[dict[str, Any]] = list(summed)
    return RangeSums(totals={row["coin"]: row["total"] for row in per_coin},
                     count=sum(row["n"] for row in per_coin),
                     with_fee=sum(row.get("fees", 0) for row in per_coin))


@dataclass(frozen=True)
class EarningRate:
    """What the account earned per TH/s over one day, to set beside the pool's own rate."""

    day: date
    coin: str
    amount: Decimal
    hashrate_hs: float

    @property
    def per_th(self) -> Decimal:
        return self.amount / Decimal(self.hashrate_hs / 1e12)


def source_earning_rates(*, source: Source, today: date) -> list[EarningRate]:
    """The last complete pool day per coin, divided by the hashrate that earned it."""
    rates = []
    account = PoolAccount.objects.filter(source=source).first()
    coins = DailyEarning.objects.filter(source=source).order_by().values_list("coin", flat=True).distinct()
    for coin in sorted(set(coins)):
        earning = (DailyEarning.objects.filter(source=source, coin=coin, date__lt=today)
                   .order_by("-date").first())
        if earning is None:
            continue
        if hashrate := day_hashrate(source=source, account=account, day=earning.date, coin=coin):
            rates.append(EarningRate(earning.date, coin, earning.amount, hashrate))
    return rates


def day_hashrate(*, source: Source, account: PoolAccount | None, day: date, coin: str) -> float | None:
    """The account's average hashrate over a UTC day: the daily roll-up when there is one,
    else (a new source) the pool's own 24 h figure; per coin for a multi-coin account."""
    by_coin = getattr(account, "hashrate_by_coin", None) or {}
    if len(by_coin) > 1:
        return by_coin.get(coin) or None
    start = datetime.combine(day, time(0), tzinfo=UTC)
    daily = (HashrateDaily.objects.filter(source=source, worker_name=ACCOUNT, bucket=start)
             .values_list("hashrate_avg", flat=True).first())
    return daily or (account.hashrate_24h_hs if account else None) or None
