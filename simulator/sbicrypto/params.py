"""Request parsing and the paged envelope shared by the SBI Crypto endpoints."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from typing import Any

from simulator.core import Request
from simulator.sbicrypto.model import (
    COIN_IDS,
    COINS,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    POOL,
    STATES,
    ApiError,
    Sub,
    bad_request,
)


def _int(request: Request, name: str, *, low: int, high: int, default: int | None = None) -> int:
    raw = request.query.get(name, "").strip()
    if not raw and default is not None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise bad_request(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _paging(request: Request, page_name: str, *, default_size: int = DEFAULT_PAGE_SIZE,
            required: bool = False) -> tuple[int, int]:
    if required and not (request.query.get(page_name) and request.query.get("size")):
        raise bad_request(f"{page_name} and size are required")
    page = _int(request, page_name, low=0, high=10**9, default=0)
    return page, min(_int(request, "size", low=1, high=10**9, default=default_size), MAX_PAGE_SIZE)


def _date(request: Request, name: str, default: date) -> date:
    raw = request.query.get(name, "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise bad_request(f"{name} must be a date formatted yyyy-MM-dd") from None


def _range(request: Request, first_name: str, last_name: str,
           default: tuple[date, date] | None) -> tuple[date, date]:
    if default is None and not (request.query.get(first_name) and request.query.get(last_name)):
        raise bad_request(f"{first_name} and {last_name} are required")
    first = _date(request, first_name, default[0] if default else date.min)
    last = _date(request, last_name, default[1] if default else date.max)
    if first > last:
        raise bad_request(f"{first_name} is after {last_name}")
    return first, last


def _month(today: date) -> tuple[date, date]:
    following = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    return today.replace(day=1), following - timedelta(days=1)


def _states(request: Request) -> set[str]:
    raw = {s.strip().upper() for s in request.query.get("statusFilters", "").split(",") if s.strip()}
    if raw - set(STATES):
        raise bad_request("statusFilters must be ONLINE, OFFLINE or DEAD")
    return raw


def _ids(request: Request, name: str) -> set[int]:
    raw = [v.strip() for v in request.query.get(name, "").split(",") if v.strip()]
    if not all(v.isdigit() for v in raw):
        raise bad_request(f"{name} must be comma-separated ids")
    return {int(v) for v in raw}


def _named(subs: tuple[Sub, ...], request: Request) -> tuple[Sub, ...]:
    """The subaccounts a subaccountNames filter keeps: 404 for a name the key cannot see."""
    names = [n.strip() for n in request.query.get("subaccountNames", "").split(",") if n.strip()]
    unknown = [n for n in names if n not in {s.name for s in subs}]
    if unknown:
        raise ApiError(404, "not_found", f"Subaccount not found: {', '.join(unknown)}")
    return tuple(s for s in subs if not names or s.name in names)


def _kept(state: str, sub: Sub, states: set[str], cleared: set[int]) -> bool:
    return (not states or state in states) and not (sub.id in cleared and state == "DEAD")


def _target(subs: tuple[Sub, ...], name: Any) -> Sub:
    """The subaccount an UPDATE names: 400 without a name, 404 for one the key cannot see."""
    if not isinstance(name, str) or not name.strip():
        raise bad_request("the subaccount name is required")
    found = next((sub for sub in subs if sub.name == name.strip()), None)
    if found is None:
        raise ApiError(404, "not_found", f"Subaccount not found: {name.strip()}")
    return found


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError:
        raise bad_request("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise bad_request("the request body is not a JSON object")
    return body


def _supported_coin(raw: Any) -> str:
    coin = str(raw or "").strip().upper()
    if coin not in POOL:
        raise bad_request(f"Coin {raw or '(none)'} is not supported by the pool")
    return coin


def _coins(request: Request) -> list[str]:
    wanted = [c.strip().upper() for c in request.query.get("coins", "").split(",") if c.strip()]
    return [coin for coin in POOL if not wanted or coin in wanted]


def _known_coin(raw: str) -> str:
    if raw.upper() not in POOL:
        raise ApiError(404, "not_found", f"Unknown coin {raw}")
    return raw.upper()


def _currency(coin: str, *, full: bool) -> dict[str, Any]:
    entry = next(c for c in COINS if c["code"] == coin)
    extra = {"chain": entry["chain"].upper(), "algo": entry["algo"]} if full else {}
    return {"id": COIN_IDS[coin], "code": coin, "name": entry["name"], **extra}


def _window(minutes: int) -> int:
    """Which of the 10m, 1h and 1d values serves a range of this many minutes."""
    return 0 if minutes <= 10 else 1 if minutes <= 60 else 2


def _now(request: Request) -> str:
    return request.now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{request.now.microsecond // 1000:03d}Z"


def _sort_param(request: Request, keys: Any, default: tuple[str, bool],
                ascending_by_default: bool = False) -> tuple[str, bool]:
    """`sort=field[,asc|desc]`: 422 for a field that is not a key of the records."""
    raw = request.query.get("sort", "").strip()
    if not raw:
        return default
    field, _, direction = raw.partition(",")
    if field not in keys or direction.lower() not in ("", "asc", "desc"):
        raise ApiError(422, "unprocessable_entity", f"sort {raw} is not supported")
    return field, direction.lower() == "asc" if direction else ascending_by_default


def _sort(request: Request, rows: list[dict[str, Any]], *, default: tuple[str, bool], secondary: str,
          ascending_by_default: bool = False) -> tuple[str, bool]:
    keys = rows[0].keys() if rows else {default[0], secondary}
    field, ascending = _sort_param(request, keys, default, ascending_by_default)

    def key(row: dict[str, Any]) -> tuple[bool, str]:
        value = row.get(field)
        return value is None, f"{value:020.8f}" if isinstance(value, int | float) else str(value)

    rows.sort(key=lambda row: str(row.get(secondary)), reverse=True)
    rows.sort(key=key, reverse=not ascending)
    return field, ascending


def _filtered(rows: list[dict[str, Any]], request: Request, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    text = request.query.get("filter", "").strip()
    if len(text) <= 2:
        return rows
    return [row for row in rows if any(text in str(row.get(k) or "") or text in str(row.get("amount"))
                                       for k in keys)]


def _page(rows: list[dict[str, Any]], page: int, size: int, field: str, ascending: bool) -> dict[str, Any]:
    return _envelope(rows[page * size:(page + 1) * size], len(rows), page, size, field, ascending)


def _envelope(content: list[dict[str, Any]], total: int, page: int, size: int, field: str,
              ascending: bool) -> dict[str, Any]:
    pages = math.ceil(total / size)
    return {"content": content, "first": page == 0, "last": page >= pages - 1, "totalElements": total,
            "totalPages": pages, "size": size, "number": page, "numberOfElements": len(content),
            "sort": {"field": field, "ascending": ascending}}


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _snakeize(value: Any) -> Any:
    if isinstance(value, dict):
        return {_snake(str(k)): _snakeize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snakeize(v) for v in value]
    return value
