"""Each rule kind's reading of the store: which subjects are in trouble now.

A judge answers, for one rule, with a `Judgement`: the subjects in trouble (each a `Finding`),
the subjects it will not call either way (`held`: a hashrate between the line and the line
plus the hysteresis, a direction the exchanger stopped listing), and the sources it did not
look at (`unjudged`: a source in error or stale, whose data is old). Everything else the rule
has open is clear. Judges read with set-based queries: one query per rule and source, never
one per worker, so a 30,000-worker source costs what a 30-worker one does, plus the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from fnmatch import fnmatchcase

from django.db.models import Avg, Count, Max, Q

from alerts.kinds import DEFAULT_HYSTERESIS_PCT, HASHRATE_UNITS
from alerts.models import Rule, RuleKind, Scope
from dashboard.models import Health, Source
from exchanges.models import ExchangerRate, Ticker
from pools.charts import format_hashrate
from pools.models import ACCOUNT, HashrateSample, Payout, Worker, WorkerStatus
from pools.selectors import source_coin

TRAILING = timedelta(hours=24)
# A payout paid longer ago than this is history arriving late (a back-fill), not news.
PAYOUT_NEWS = timedelta(days=3)


@dataclass
class Finding:
    key: str
    subject: str
    source_id: int | None
    value: str
    message: str
    worker: str = ""


@dataclass
class Judgement:
    troubled: dict[str, Finding] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)
    unjudged: set[int] = field(default_factory=set)
    # sources switched off: their alerts close without a message (nobody watches them)
    closed: set[int] = field(default_factory=set)
    # source id -> how many workers it lists, where every one of them is offline or dead
    all_down: dict[int, int] = field(default_factory=dict)
    # payout rules: news to announce, and how far the rule has now read
    news: list[tuple[int, str]] = field(default_factory=list)
    cursor: dict[str, int] | None = None

    def add(self, finding: Finding) -> None:
        self.troubled[finding.key] = finding


@dataclass
class Context:
    """What every judge of one team's evaluation shares, loaded once."""

    now: datetime
    sources: dict[int, Source]
    categories: dict[int, str] = field(default_factory=dict)

    def health(self, source: Source) -> Health:
        return source.health(self.now)

    def polled(self, source: Source) -> bool:
        return source.last_poll_at is not None or source.last_error_at is not None

    def usable(self, source: Source) -> bool:
        """Whether its stored figures describe the present."""
        return self.polled(source) and self.health(source) == Health.OK


def rule_sources(rule: Rule, ctx: Context, category: str = "pool") -> list[Source]:
    if rule.scope == Scope.SOURCE:
        source = ctx.sources.get(rule.source_id) if rule.source_id else None
        return [source] if source is not None else []
    return [s for s in ctx.sources.values() if not category or ctx.categories.get(s.pk) == category]


def judge_sources(rule: Rule, ctx: Context, judgement: Judgement, category: str = "pool") -> list[Source]:
    """The rule's sources whose data may be judged; the others are left as they are."""
    usable = []
    for source in rule_sources(rule, ctx, category):
        if not source.enabled:
            judgement.closed.add(source.pk)
        elif ctx.usable(source):
            usable.append(source)
        else:
            judgement.unjudged.add(source.pk)
    return usable


def hysteresis(rule: Rule, default: float) -> float:
    try:
        return float((rule.params or {}).get("hysteresis_pct", default))
    except (TypeError, ValueError):
        return default


def worker_offline(rule: Rule, ctx: Context) -> Judgement:
    judgement = Judgement()
    pattern = (rule.params or {}).get("name_pattern") or ""
    sources = judge_sources(rule, ctx, judgement)
    if not sources:
        return judgement
    by_id = {s.pk: s for s in sources}
    down = (Worker.objects.filter(source__in=sources, missing_since__isnull=True,
                                  status__in=[WorkerStatus.OFFLINE, WorkerStatus.DEAD])
            .values_list("source_id", "name", "status"))
    counted: dict[int, int] = {}
    for source_id, name, status in down:
        if pattern and not fnmatchcase(name, pattern):
            continue
        counted[source_id] = counted.get(source_id, 0) + 1
        judgement.add(Finding(f"worker:{source_id}:{name}", name, source_id, status,
                              f"{status} on {by_id[source_id].label}", worker=name))
    if counted and not pattern:
        listed = dict(Worker.objects.filter(source_id__in=counted, missing_since__isnull=True)
                      .order_by().values_list("source_id").annotate(n=Count("id")))
        judgement.all_down = {sid: n for sid, n in counted.items() if n > 1 and listed.get(sid) == n}
    return judgement


def account_rates(sources: Iterable[Source], now: datetime) -> dict[int, tuple[float | None, float | None]]:
    """Per source: (the latest account hashrate, its trailing 24 h average), from the raw
    account series (kept 7 days), leaving out readings flagged as unit errors."""
    ids = [s.pk for s in sources]
    series = HashrateSample.objects.filter(source_id__in=ids, worker_name=ACCOUNT, suspect=False,
                                           at__gt=now - TRAILING, at__lte=now)
    averages = dict(series.order_by().values_list("source_id").annotate(a=Avg("hashrate_hs")))
    latest_at = dict(series.order_by().values_list("source_id").annotate(m=Max("at")))
    latest: dict[int, float] = {}
    if latest_at:
        wanted = Q()
        for source_id, at in latest_at.items():
            wanted |= Q(source_id=source_id, at=at)
        latest = dict(series.filter(wanted).values_list("source_id", "hashrate_hs"))
    return {i: (latest.get(i), averages.get(i)) for i in ids}


def hashrate_drop(rule: Rule, ctx: Context) -> Judgement:
    judgement = Judgement()
    params = rule.params or {}
    percent = rule.threshold_unit == "%"
    level = float(rule.threshold or 0)
    band = hysteresis(rule, DEFAULT_HYSTERESIS_PCT)
    if rule.scope == Scope.TEAM:
        coin = str(params.get("coin", ""))
        members = [s for s in rule_sources(rule, ctx) if source_coin(s) == coin and s.enabled]
        if not members or any(not ctx.usable(s) for s in members):
            # One failing source would make the sum drop: wait for it to recover.
            judgement.held.add(f"coin:{coin}")
            return judgement
        rates = account_rates(members, ctx.now).values()
        if any(latest is None or avg is None for latest, avg in rates):
            judgement.held.add(f"coin:{coin}")
            return judgement
        subjects: list[tuple[str, str, int | None, float | None, float | None]] = [
            (f"coin:{coin}", f"{coin} hashrate", None, sum(r[0] or 0.0 for r in rates),
             sum(r[1] or 0.0 for r in rates))]
    else:
        sources = judge_sources(rule, ctx, judgement)
        rates_by_source = account_rates(sources, ctx.now)
        subjects = [(f"source:{s.pk}", s.label, s.pk, *rates_by_source[s.pk]) for s in sources]
    for key, subject, source_id, current, average in subjects:
        if current is None or (percent and not average):
            judgement.held.add(key)  # nothing to compare yet
            continue
        if percent:
            line, clear = average * level / 100, average * (level + band) / 100  # type: ignore[operator]
            share = f" ({current / average * 100:.0f}% of its 24 h average {format_hashrate(average)})"  # type: ignore[operator]
        else:
            line = level * HASHRATE_UNITS.get(rule.threshold_unit, 1.0)
            clear, share = line * (1 + band / 100), f" (line {format_hashrate(line)})"
        value = format_hashrate(current)
        if current < line:
            judgement.add(Finding(key, subject, source_id, value, f"hashrate {value}{share}"))
        elif current < clear:
            judgement.held.add(key)
    return judgement


def workers_online_below(rule: Rule, ctx: Context) -> Judgement:
    judgement = Judgement()
    sources = judge_sources(rule, ctx, judgement)
    online = dict(Worker.objects.filter(source__in=sources, missing_since__isnull=True,
                                        status=WorkerStatus.ONLINE)
                  .order_by().values_list("source_id").annotate(n=Count("id")))
    floor = int(rule.threshold or 0)
    for source in sources:
        count = online.get(source.pk, 0)
        if count < floor:
            judgement.add(Finding(f"source:{source.pk}", source.label, source.pk,
                                  f"{count} online", f"{count} workers online, fewer than {floor}"))
    return judgement


def source_unhealthy(rule: Rule, ctx: Context) -> Judgement:
    judgement = Judgement()
    for source in rule_sources(rule, ctx, category=""):
        health = ctx.health(source)
        if not ctx.polled(source) or health not in (Health.ERROR, Health.STALE):
            continue  # never polled yet: pending, not stale
        if health == Health.ERROR:
            reason = (source.last_error or "the last poll failed").strip()
            if source.error_is_permanent:
                reason += " (polls stopped until the source is edited)"
        else:
            since = source.last_success_at
            reason = (f"no successful poll since {since:%Y-%m-%d %H:%M} UTC" if since
                      else "no successful poll yet") + f" (one expected every {source.interval} s)"
        words = "in error" if health == Health.ERROR else "stale"
        judgement.add(Finding(f"source:{source.pk}", source.label, source.pk, health.value,
                              f"{words}: {reason}"[:500]))
    return judgement


def payout(rule: Rule, ctx: Context) -> Judgement:
    judgement = Judgement()
    seen = int((rule.cursor or {}).get("payout_id", 0))
    sources = rule_sources(rule, ctx)
    rows = list(Payout.objects.filter(source__in=sources, pk__gt=seen).order_by("pk")
                .values_list("pk", "source_id", "paid_at", "coin", "amount", "tx"))
    for _pk, source_id, paid_at, coin, amount, tx in rows:
        if paid_at is None or paid_at >= ctx.now - PAYOUT_NEWS:
            what = f"{Decimal(amount).normalize():f} {coin}"
            note = f" (tx {tx[:16]}…)" if len(tx) > 16 else f" (tx {tx})" if tx else ""
            judgement.news.append((source_id, f"{ctx.sources[source_id].label}: payout of {what}{note}"))
    if rows:
        judgement.cursor = {"payout_id": rows[-1][0]}
    return judgement


def no_payout(rule: Rule, ctx: Context) -> Judgement:
    judgement = Judgement()
    sources = judge_sources(rule, ctx, judgement)
    last = dict(Payout.objects.filter(source__in=sources, paid_at__isnull=False)
                .order_by().values_list("source_id").annotate(m=Max("paid_at")))
    days = float(rule.threshold or 0)
    for source in sources:
        if source.pk not in last:
            continue  # a source that reports no payouts at all (an observer key) stays quiet
        idle = (ctx.now - last[source.pk]).total_seconds() / 86400
        if idle > days:
            judgement.add(Finding(f"source:{source.pk}", source.label, source.pk,
                                  f"{idle:.1f} days", f"no payout for {idle:.1f} days"))
    return judgement


def price(rule: Rule, ctx: Context) -> Judgement:
    judgement = Judgement()
    params = rule.params or {}
    product, condition = str(params.get("product", "")), params.get("condition")
    sources = judge_sources(rule, ctx, judgement, category="")
    ticker = Ticker.objects.filter(source__in=sources, product=product).first()
    key = f"product:{product}"
    if ticker is None:
        judgement.held.add(key)
        return judgement
    level, band = Decimal(rule.threshold or 0), Decimal(str(hysteresis(rule, 0)))
    if condition == "spread_above":
        if not ticker.bid:
            judgement.held.add(key)
            return judgement
        figure = (ticker.ask - ticker.bid) / ticker.bid * 100
        trouble, clear = figure > level, figure <= level - band
        value = f"spread {figure:.2f}%"
        line = f"above {level.normalize():f}%"
    else:
        figure = ticker.last
        above = condition == "above"
        trouble = figure > level if above else figure < level
        margin = level * band / 100
        clear = figure <= level - margin if above else figure >= level + margin
        value = f"last {figure.normalize():f}"
        line = f"{condition} {level.normalize():f}"
    if trouble:
        judgement.add(Finding(key, product, ticker.source_id, value, f"{value}, {line}"))
    elif not clear:
        judgement.held.add(key)
    return judgement


def reserve_low(rule: Rule, ctx: Context) -> Judgement:
    judgement = Judgement()
    params = rule.params or {}
    origin, target = str(params.get("from", "")), str(params.get("to", ""))
    sources = judge_sources(rule, ctx, judgement, category="")
    key = f"direction:{origin}>{target}"
    reserve = (ExchangerRate.objects.filter(source__in=sources, from_currency=origin, to_currency=target)
               .order_by("reserve").values_list("source_id", "reserve").first())
    if reserve is None:
        judgement.held.add(key)  # not listed now: neither low nor fine
        return judgement
    band = Decimal(str(hysteresis(rule, 0)))
    level = Decimal(rule.threshold or 0)
    amount = f"{reserve[1].normalize():f} {target}"
    if reserve[1] < level:
        judgement.add(Finding(key, f"{origin} → {target}", reserve[0], amount,
                              f"reserve {amount}, below {level.normalize():f}"))
    elif reserve[1] < level * (1 + band / 100):
        judgement.held.add(key)
    return judgement


JUDGES: dict[str, Callable[[Rule, Context], Judgement]] = {
    RuleKind.WORKER_OFFLINE: worker_offline,
    RuleKind.HASHRATE_DROP: hashrate_drop,
    RuleKind.WORKERS_ONLINE_BELOW: workers_online_below,
    RuleKind.SOURCE_UNHEALTHY: source_unhealthy,
    RuleKind.PAYOUT: payout,
    RuleKind.NO_PAYOUT: no_payout,
    RuleKind.PRICE: price,
    RuleKind.RESERVE_LOW: reserve_low,
}
