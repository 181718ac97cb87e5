"""What pool polls leave behind: current state (workers, balances, account) and time series.

Every table has a natural key and is written by upserts in pools.ingest, so a repeated or
overlapping poll changes nothing. The account-level hashrate series is the one whose
`worker_name` is "" (not NULL: NULLs never collide in a unique index, so an account row
could be inserted twice). How long each series is kept is in pools.retention.
"""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from dashboard.models import Source

ACCOUNT = ""  # worker_name of the account-level hashrate series
NAME_LENGTH = 200
# Whole coins to 1e-12: room for any coin's smallest unit and for totals in the billions.
DIGITS, PLACES = 28, 12


class WorkerStatus(models.TextChoices):
    ONLINE = "online", "Online"
    OFFLINE = "offline", "Offline"
    DEAD = "dead", "Dead"


class Worker(models.Model):
    """A worker as the latest poll that listed it saw it.

    A worker the pool stops listing is kept with `missing_since` set, so its history and name
    stay visible; the next poll that lists it again clears the mark.
    """

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="workers")
    name = models.CharField(max_length=NAME_LENGTH)
    status = models.CharField(max_length=10, choices=WorkerStatus.choices)
    pool_status = models.CharField(max_length=32, blank=True, help_text="The pool's own word.")
    hashrate_hs = models.FloatField(help_text="H/s over the shortest window the pool reports.")
    hashrate_24h_hs = models.FloatField(null=True, blank=True)
    last_share_at = models.DateTimeField(null=True, blank=True)
    raw_hashrate = models.CharField(max_length=40, blank=True)
    raw_unit = models.CharField(max_length=8, blank=True)
    extra = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(help_text="The last poll that listed this worker.")
    missing_since = models.DateTimeField(
        null=True, blank=True, help_text="Set while the pool no longer lists this worker."
    )

    class Meta:
        ordering = ["name"]
        # Every poll rewrites every worker's hashrate, so each index costs something on every
        # poll: these serve the workers page's status filter and hashrate sort, and the
        # unique index lookups and name order within a source.
        constraints = [
            models.UniqueConstraint(fields=["source", "name"], name="worker_source_name_unique"),
        ]
        indexes = [
            models.Index(fields=["source", "status", "-hashrate_hs"], name="worker_status_rate_idx"),
            models.Index(fields=["source", "-hashrate_hs"], name="worker_source_rate_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def seen(self) -> bool:
        return self.missing_since is None


class HashrateSample(models.Model):
    """One hashrate reading: of a worker, or of the whole account when worker_name is ""."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="hashrate_samples")
    worker_name = models.CharField(max_length=NAME_LENGTH, blank=True, default=ACCOUNT)
    at = models.DateTimeField()
    hashrate_hs = models.FloatField()
    avg_window = models.CharField(max_length=8, blank=True, help_text='Averaging window, e.g. "1m".')
    raw_value = models.CharField(max_length=40, blank=True)
    raw_unit = models.CharField(max_length=8, blank=True)
    suspect = models.BooleanField(
        default=False, help_text="A 1000x jump from the previous account reading."
    )

    class Meta:
        constraints = [
            # Also the index for range reads of one series.
            models.UniqueConstraint(
                fields=["source", "worker_name", "at"], name="hashrate_sample_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["at"], name="hashrate_sample_at_idx"),
            # The account series alone (one row a poll, against 30,000 worker rows on a big
            # farm), with the value, so a chart of 50 sources' day is read from this small
            # index instead of from pages of the table full of worker samples.
            models.Index(fields=["source", "at"], name="hashrate_sample_account_idx",
                         condition=models.Q(worker_name=""), include=["hashrate_hs"]),
        ]

    def __str__(self) -> str:
        return f"{self.worker_name or 'account'} at {self.at:%Y-%m-%d %H:%M:%S}: {self.hashrate_hs}"


class HashrateRollup(models.Model):
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    worker_name = models.CharField(max_length=NAME_LENGTH, blank=True, default=ACCOUNT)
    bucket = models.DateTimeField(help_text="Start of the period, UTC.")
    hashrate_avg = models.FloatField()
    hashrate_min = models.FloatField()
    hashrate_max = models.FloatField()
    samples = models.PositiveIntegerField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.worker_name or 'account'} from {self.bucket:%Y-%m-%d %H:%M}: {self.hashrate_avg}"


class HashrateHourly(HashrateRollup):

    class Meta:
        verbose_name_plural = "hashrate hourly"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "worker_name", "bucket"], name="hashrate_hourly_unique"
            ),
        ]
        # The roll-up's watermark (latest bucket) and pruning read by time alone.
        indexes = [models.Index(fields=["bucket"], name="hashrate_hourly_bucket_idx")]


class HashrateDaily(HashrateRollup):
    class Meta:
        verbose_name_plural = "hashrate daily"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "worker_name", "bucket"], name="hashrate_daily_unique"
            ),
        ]


class DailyEarning(models.Model):
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="daily_earnings")
    date = models.DateField()
    coin = models.CharField(max_length=16)
    amount = models.DecimalField(max_digits=DIGITS, decimal_places=PLACES)
    extra = models.JSONField(
        default=dict, blank=True, encoder=DjangoJSONEncoder,
        help_text="e.g. payment mode, PPS/PPLNS parts.",
    )

    class Meta:
        ordering = ["-date", "coin"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "date", "coin"], name="daily_earning_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.amount} {self.coin}"


class Payout(models.Model):
    """A payment from the pool. `key` is the transaction id, or, for a pool that reports
    payments without one, coin|paid_at|amount|address (see pools.ingest.payout_key)."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="payouts")
    key = models.CharField(max_length=255)
    tx = models.CharField(max_length=128, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    coin = models.CharField(max_length=16)
    amount = models.DecimalField(max_digits=DIGITS, decimal_places=PLACES)
    fee = models.DecimalField(
        max_digits=DIGITS, decimal_places=PLACES, null=True, blank=True,
        help_text="The transaction's chain fee in whole coins, where the pool reports it (SBI txFee).",
    )
    address = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = [models.F("paid_at").desc(nulls_last=True), "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "key"], name="payout_source_key_unique"),
        ]
        indexes = [models.Index(fields=["source", "-paid_at"], name="payout_source_recent_idx")]

    def __str__(self) -> str:
        return f"{self.amount} {self.coin} ({self.tx or 'no tx'})"


class Balance(models.Model):
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="balances")
    coin = models.CharField(max_length=16)
    unpaid = models.DecimalField(max_digits=DIGITS, decimal_places=PLACES)
    paid_total = models.DecimalField(
        max_digits=DIGITS, decimal_places=PLACES, null=True, blank=True,
        help_text="Empty: the pool reports no lifetime total (BTCpool.kz).",
    )
    today = models.DecimalField(max_digits=DIGITS, decimal_places=PLACES, null=True, blank=True)
    yesterday = models.DecimalField(max_digits=DIGITS, decimal_places=PLACES, null=True, blank=True)
    pending = models.DecimalField(max_digits=DIGITS, decimal_places=PLACES, null=True, blank=True)
    last_paid_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["coin"]
        constraints = [
            models.UniqueConstraint(fields=["source", "coin"], name="balance_source_coin_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.unpaid} {self.coin} unpaid"


class PoolStat(models.Model):
    """Pool-wide figures as one poll saw them; `scope` says which part of the pool."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="pool_stats")
    scope = models.CharField(max_length=16)
    coin = models.CharField(max_length=16)
    at = models.DateTimeField()
    hashrate_hs = models.FloatField()
    hashrate_5m_hs = models.FloatField(null=True, blank=True)
    hashrate_15m_hs = models.FloatField(null=True, blank=True)
    workers = models.BigIntegerField(null=True, blank=True)
    users = models.BigIntegerField(null=True, blank=True)
    reject_rates = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    raw_hashrate = models.CharField(max_length=40, blank=True)
    raw_unit = models.CharField(max_length=8, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "scope", "coin", "at"], name="pool_stat_unique"
            ),
        ]
        indexes = [models.Index(fields=["at"], name="pool_stat_at_idx")]

    def __str__(self) -> str:
        return f"{self.scope} {self.coin} at {self.at:%Y-%m-%d %H:%M:%S}"


class PoolCoinStat(models.Model):
    """The figures a pool publishes about itself for one coin, as the latest poll read them;
    one row per source and coin. A figure the poll could not read is empty rather than left
    from an earlier poll, so `updated_at` dates every figure in the row."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="pool_coin_stats")
    coin = models.CharField(max_length=16)
    as_of = models.DateTimeField(
        null=True, blank=True, help_text="When the pool says it computed the figures, if it says."
    )
    pool_hashrate_hs = models.FloatField(null=True, blank=True)
    network_hashrate_hs = models.FloatField(null=True, blank=True)
    network_difficulty = models.FloatField(null=True, blank=True)
    miners = models.BigIntegerField(null=True, blank=True)
    workers = models.BigIntegerField(null=True, blank=True)
    fee_percent = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    luck = models.JSONField(
        default=dict, blank=True, encoder=DjangoJSONEncoder, help_text='Percent by period, e.g. "7d".'
    )
    blocks = models.JSONField(
        default=list, blank=True, encoder=DjangoJSONEncoder,
        help_text="The latest found blocks, newest first: height, hash, found_at, reward.",
    )
    # A rate per MH/s of a coin like BTC is below 1e-12 coins.
    payout_rate = models.DecimalField(max_digits=40, decimal_places=24, null=True, blank=True)
    payout_rate_unit = models.CharField(max_length=32, blank=True, help_text='e.g. "BTC/TH/day".')
    usd_rate = models.DecimalField(max_digits=DIGITS, decimal_places=PLACES, null=True, blank=True)
    name = models.CharField(max_length=64, blank=True)
    algorithm = models.CharField(max_length=32, blank=True)
    paid_daily = models.DecimalField(
        max_digits=DIGITS, decimal_places=PLACES, null=True, blank=True,
        help_text="Whole coins the pool paid all its miners on its last reported day.",
    )
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["coin"]
        constraints = [
            models.UniqueConstraint(fields=["source", "coin"], name="pool_coin_stat_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.coin} figures of {self.source_id}"


class PoolAccount(models.Model):
    """The account as of the latest poll: who it is and its headline figures, one row per
    source so the overview reads one row instead of aggregating series."""

    source = models.OneToOneField(
        Source, on_delete=models.CASCADE, primary_key=True, related_name="pool_account"
    )
    account_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=200, blank=True)
    payout_address = models.CharField(max_length=128, blank=True)
    region = models.CharField(max_length=32, blank=True)
    info = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    hashrate_hs = models.FloatField(null=True, blank=True)
    hashrate_by_coin = models.JSONField(
        default=dict, blank=True,
        help_text="H/s per coin of an account that mines several; empty: all the source's coin.",
    )
    hashrate_15m_hs = models.FloatField(null=True, blank=True)
    hashrate_24h_hs = models.FloatField(null=True, blank=True)
    workers_online = models.PositiveIntegerField(null=True, blank=True)
    workers_offline = models.PositiveIntegerField(null=True, blank=True)
    workers_dead = models.PositiveIntegerField(null=True, blank=True)
    workers_total = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name or self.account_id or f"account of {self.source_id}"


class HistoryBackfill(models.Model):
    """How far the back-fill of one dataset of a source's history has come (see
    pools.clients.history). Written by pools.ingest in the poll's own transaction, so the
    position always matches the rows stored."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="history_backfills")
    dataset = models.CharField(max_length=32, help_text='e.g. "earnings", "payouts".')
    cursor = models.JSONField(
        default=dict, blank=True, help_text='The next page to read, in the upstream\'s terms: {"page": 3}.'
    )
    until = models.DateField(null=True, blank=True, help_text="The newest day the back-fill reads.")
    carry = models.JSONField(
        default=list, blank=True, encoder=DjangoJSONEncoder,
        help_text="Rows read whose group may go on in the next page, handed over with it.",
    )
    pages_done = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    pages_total = models.PositiveIntegerField(null=True, blank=True, help_text="As the upstream last said.")
    rows_total = models.PositiveIntegerField(null=True, blank=True, help_text="As the upstream last said.")
    oldest = models.DateField(null=True, blank=True, help_text="The oldest day read so far.")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["source", "dataset"]
        constraints = [
            models.UniqueConstraint(fields=["source", "dataset"], name="history_backfill_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} history of {self.source_id}"

    @property
    def done(self) -> bool:
        return self.finished_at is not None
