"""The SBI Crypto API assembled from one mixin per section of the seed document."""

from __future__ import annotations

from simulator.sbicrypto.account import AccountRoutes
from simulator.sbicrypto.actions import ActionRoutes
from simulator.sbicrypto.collectors import CollectorRoutes
from simulator.sbicrypto.financials import FinancialRoutes
from simulator.sbicrypto.model import PAGE_KEYS
from simulator.sbicrypto.observer import ObserverRoutes
from simulator.sbicrypto.public import PublicRoutes


class SbiCryptoApi(PublicRoutes, AccountRoutes, FinancialRoutes, CollectorRoutes, ActionRoutes,
                   ObserverRoutes):
    """Every section's routes on one prefix; no two sections answer the same path."""

    prefix = "sbicrypto"
    envelope_keys = PAGE_KEYS
