"""The pool kinds this app serves, registered with the source registry."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from dashboard.sources import Field, SourceKind, decimal_check, register

# One /metrics series per worker: off by default, because a farm of 30,000 workers would
# add 30,000 series to the Prometheus server that scrapes it (see the README).
METRICS_PER_WORKER = Field(
    "metrics_per_worker", "Per-worker metrics", required=False, choices=("off", "on"),
    default="off",
    help="On: /metrics carries each worker's hashrate, one Prometheus series per worker. "
         "Leave off for large farms; the account's figures are always there.",
)

# What the machines behind a pool account burn, for the profitability figures: a fixed
# draw, or an efficiency applied to the measured hashrate (so a dead worker costs nothing).
ENERGY_OPTIONS = (
    Field("power_kw", "Power (kW)", required=False,
          check=decimal_check(minimum=Decimal("0.001"), maximum=Decimal(1_000_000), unit="kW"),
          help="The machines' total draw in kW, counted for 24 h on every day the pool reports "
               "earnings. Leave empty to use the efficiency instead."),
    Field("efficiency_j_per_th", "Efficiency (J/TH)", required=False,
          check=decimal_check(minimum=Decimal("0.1"), maximum=Decimal(10_000_000), unit="J/TH"),
          help="Joules per terahash (17.5 for an S21, 21.5 for an S19 XP; a scrypt L7 is about "
               "360,000): energy follows the measured hashrate."),
    Field("electricity_price", "Electricity price per kWh", required=False,
          check=decimal_check(minimum=Decimal(0), maximum=Decimal(1000), unit="per kWh"),
          help="Empty: the team's default from Settings."),
    Field("electricity_currency", "Electricity currency", required=False,
          check=lambda value: "" if value.isalpha() and 3 <= len(value) <= 10 and value.isupper() else
          f"must be a currency code in capitals, e.g. BRL or USD (got {value!r})",
          help="The currency of the electricity price, e.g. BRL or USD."),
)


def energy_rules(options: Mapping[str, Any]) -> str:
    if options.get("power_kw") and options.get("efficiency_j_per_th"):
        return ("give either power_kw or efficiency_j_per_th, not both: a fixed draw and a "
                "draw that follows the hashrate cannot both be right")
    if bool(options.get("electricity_price")) != bool(options.get("electricity_currency")):
        return ("electricity_price and electricity_currency go together: give both, or leave "
                "both empty to use the team's default from Settings")
    return ""


BTCCOM = register(SourceKind(
    kind="btccom",
    label="BTC.com pool",
    category="pool",
    client_path="pools.clients.btccom.BtcComClient",
    ingest_path="pools.ingest.pool_snapshot_ingest",
    state_path="pools.history.source_poll_state",
    describe_path="pools.connection.pool_snapshot_describe",
    base_url="https://{region}-pool.api.btc.com",
    credential_sets=((
        Field("access_key", "Access key",
              help="On pool.btc.com, from the sub-account management page."),
        Field("puid", "PUID", help="The sub-account id shown beside the access key."),
    ),),
    options=(
        Field("region", "Region", required=False, choices=("us", "cn", "eu", "sz"), default="us",
              help="The BTC.com node that serves the sub-account."),
        Field("history_days", "History days", required=False,
              help="Empty: the first polls back-fill all the history the pool keeps; a number "
                   "reads no further back than that many days."),
        METRICS_PER_WORKER,
        *ENERGY_OPTIONS,
    ),
    option_rules=(energy_rules,),
    default_interval=60,
))

BTCPOOLKZ = register(SourceKind(
    kind="btcpoolkz",
    label="BTCpool.kz",
    category="pool",
    client_path="pools.clients.btcpoolkz.BtcPoolKzClient",
    ingest_path="pools.ingest.pool_snapshot_ingest",
    state_path="pools.history.source_poll_state",
    describe_path="pools.connection.pool_snapshot_describe",
    base_url="https://btcpool.kz",
    credential_sets=((
        Field("api_key", "API key",
              help="On btcpool.kz, in the Settings Center; each account and child account has its own."),
    ),),
    options=(
        Field("currency", "Currency", required=False, choices=("BTC", "BCH", "LTC"), default="BTC",
              help="The coin of the account's hashrate and of every amount."),
        Field("history_days", "History days", required=False,
              help="Empty: the first polls back-fill all the history the pool keeps; a number "
                   "reads no further back than that many days."),
        METRICS_PER_WORKER,
        *ENERGY_OPTIONS,
    ),
    option_rules=(energy_rules,),
    default_interval=60,
))

SBICRYPTO = register(SourceKind(
    kind="sbicrypto",
    label="SBI Crypto pool",
    category="pool",
    client_path="pools.clients.sbicrypto.SbiCryptoClient",
    ingest_path="pools.ingest.pool_snapshot_ingest",
    state_path="pools.history.source_poll_state",
    describe_path="pools.connection.pool_snapshot_describe",
    base_url="https://pool-api.sbicrypto.com",
    credential_sets=(
        (
            Field("api_key", "API key",
                  help="Created on the pool website; give it READ, and FINANCIALS for earnings."),
            Field("api_secret", "API secret", help="The secret created with the API key."),
        ),
        (
            Field("observer_key", "Observer key",
                  help="Reads one subaccount's workers and hashrate; no earnings or payouts."),
        ),
    ),
    options=(
        Field("currency", "Coin", required=False, default="BTC",
              help="The coin the overview files the account under; its luck and blocks are read "
                   "even when no subaccount mines it."),
        Field("history_days", "History days", required=False,
              help="Empty: the first polls back-fill all the history the pool keeps; a number "
                   "reads no further back than that many days."),
        Field("observer_url", "Observer host", required=False, default="https://pool.sbicrypto.com",
              help="Where observer-key requests go (an API key and secret ignore it). The API "
                   "document's examples use https://pool.sbicrypto.com, its general rule "
                   "https://pool-api.sbicrypto.com: if polls fail with 404 (does not exist), "
                   "try the other one."),
        Field("stats_url", "Legacy stats URL", required=False,
              default="https://stats.sbicrypto.com/poolstats",
              help="The pool's 24 h hashrate, reject and stale figures, served on their own host."),
        Field("collectors", "Collector subaccount ids", required=False,
              help="Comma-separated; empty asks every subaccount, none skips virtual subaccounts."),
        Field("virtual_subaccounts", "Virtual subaccount ids", required=False,
              help="Comma-separated; with collector ids, read only these virtual subaccounts."),
        METRICS_PER_WORKER,
        *ENERGY_OPTIONS,
    ),
    option_rules=(energy_rules,),
    default_interval=60,
))
