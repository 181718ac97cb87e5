"""FlowBTC's WebSocket gateway protocol (AlphaPoint APEX) as the simulator speaks it.

Written from seeds/flowbtc-api.txt ("Frame da Mensagem", "Padrões de retorno da API") and the
FlowBTC notes in seeds/NOTES.md, not from the product's client: a misreading of the documents
shared by the client and this fake would pass every test.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

# NOTES.md: "`OMSId` is 1", and the instrument ids on FlowBTC.
OMS_ID = 1
INSTRUMENT_IDS = {"BTCBRL": 1, "ETHBRL": 2, "LTCBRL": 3, "BCHBRL": 5, "ETHBTC": 6, "XRPBRL": 7}

# The seed's error replies: `{"result": false, "errormsg": ..., "errorcode": N, "detail": ...}`.
NOT_AUTHORIZED = 20
INVALID_REQUEST = 100
OPERATION_FAILED = 101
SERVER_ERROR = 102
RESOURCE_NOT_FOUND = 104

# .NET ticks (100 ns since 0001-01-01) at the Unix epoch: GetAccountTrades sends TradeTime so.
TICKS_AT_EPOCH = (datetime(1970, 1, 1, tzinfo=UTC) - datetime(1, 1, 1, tzinfo=UTC)) // (
    datetime.resolution) * 10


class MessageType(IntEnum):
    """`m`: 0 request, 1 reply, 2 subscribe to event, 3 event, 4 unsubscribe, 5 error."""

    REQUEST = 0
    REPLY = 1
    SUBSCRIBE = 2
    EVENT = 3
    UNSUBSCRIBE = 4
    ERROR = 5


class Action(IntEnum):
    """A Level-2 row's ActionType."""

    NEW = 0
    UPDATE = 1
    DELETE = 2


class Side(IntEnum):
    """A Level-2 row's Side."""

    BUY = 0
    SELL = 1


def encode_frame(kind: MessageType, seq: int, name: str, payload: Any) -> str:
    """`{"m": type, "i": sequence, "n": function, "o": payload}`, the payload JSON in a string."""
    return json.dumps({"m": int(kind), "i": seq, "n": name, "o": json.dumps(payload)})


def error_payload(message: str, code: int, detail: str | None = None) -> dict[str, Any]:
    return {"result": False, "errormsg": message, "errorcode": code, "detail": detail}
