"""The SBI Crypto pool API as documented in seeds/sbicrypto-pool-api.txt and NOTES.md: every
read (public, READ, FINANCIALS, collectors, observer) and the UPDATE actions that switch a
subaccount's coin, clear its inactive workers and change its payout address.

Account ALPHA (API key and secret) has 7,500 workers in two subaccounts: alpha-btc (BTC) and
alpha-bch (a BCH collector paying three virtual subaccounts). An observer key sees subaccount
bravo-observed (BTC, 240 workers). Worker values hold for a ten-minute slot and are computed
for the requested page only; subaccount totals add up every worker of a slot once and are
cached, so totals always equal the sum of the listed workers. A few workers come without a
state (""); their last share time still tells it. Hashrates are MH/s, amounts whole coins,
errors the documented `{"error", "error_description"}` body. The legacy stats endpoint lives
on its own host: `SbiStatsApi`, under its own prefix.

Keys: sim-sbi-key-alpha / sim-sbi-secret-alpha (READ, FINANCIALS and UPDATE, both subaccounts);
sim-sbi-key-reader / sim-sbi-secret-reader (READ, alpha-bch only); sim-sbi-key-nosubs /
sim-sbi-secret-nosubs (no subaccount: 403). Observer keys: sim-sbi-observer-bravo,
sim-sbi-observer-alpha-btc, sim-sbi-observer-alpha-bch.

UPDATE actions change this instance's memory, so later reads show them: the coin and payout
addresses in the account and subaccount reads (earnings keep the coin they were earned in),
and a cleared subaccount no longer lists or counts its DEAD workers. An address change takes
effect at once, without the pool's verification and 24-hour wait. alpha-bch has a BTC payout
address as well; alpha-btc has none for BCH, so switching it answers 422 until one is set.
`forget_changes()` restores the documented starting state.

The package follows the seed's sections: `public` (the Public API and the legacy stats host),
`account` (External Read APIs), `financials`, `collectors`, `actions` (External Update APIs) and
`observer`, each a mixin of routes over `base.SbiCryptoBase`, which holds the state and the
shared reads; `model` holds the simulated accounts and keys, `workers` and `earnings` what they
mine and earn, `params` the request parsing. `api.SbiCryptoApi` puts the sections together.
"""

from __future__ import annotations

from simulator.sbicrypto.api import SbiCryptoApi
from simulator.sbicrypto.model import (
    ACCOUNTS,
    ALPHA,
    ALPHA_BCH,
    ALPHA_BTC,
    BRAVO,
    BRAVO_ACCOUNT,
    FINANCIALS,
    KEYS,
    OBSERVERS,
    READ,
    SUBS,
    UPDATE,
    Account,
    ApiError,
    Key,
    Sub,
    Virtual,
)
from simulator.sbicrypto.public import SbiStatsApi

__all__ = [
    "ACCOUNTS",
    "ALPHA",
    "ALPHA_BCH",
    "ALPHA_BTC",
    "BRAVO",
    "BRAVO_ACCOUNT",
    "FINANCIALS",
    "KEYS",
    "OBSERVERS",
    "READ",
    "SUBS",
    "UPDATE",
    "Account",
    "ApiError",
    "Key",
    "SbiCryptoApi",
    "SbiStatsApi",
    "Sub",
    "Virtual",
]
