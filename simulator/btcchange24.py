"""btcchange24 as documented in seeds/btcchange24-partner-api.txt and NOTES.md.

The rate export (/service/export/{xml,json,txt}/{code}) lists DIRECTIONS for EXPORT_CODE. Rates
follow each currency's USD price, which waves over hours and steps every RATE_STEP seconds;
the cheaper side of a direction is 1, as exporters publish it. Reserves change hourly. The
code MAINTENANCE_CODE answers the maintenance body of each format instead.

The partner API (/service/partner/api.php) knows one key, API_KEY. Referred exchanges and link
clicks are drawn per time bucket, so each has a fixed id and time; they cover the last
HISTORY_DAYS and are cut to start_time/end_time. An error answers the documented envelope
with a non-zero `error`; the document shows none, so the numbers here are this simulator's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from simulator.core import (
    Request,
    Response,
    SimulatedApi,
    between,
    route,
    stable_hex,
    unit_randoms,
    wave,
)

EXPORT_CODE = "sim-rates"
MAINTENANCE_CODE = "sim-maintenance"
API_KEY = "sim-partner-key"
REF_CODE = "sim24ref"
RATE_STEP = 300
HOUR, DAY = 3600, 86400
HISTORY_DAYS = 90
EXCHANGE_CHANCE = 0.12  # per hour
CLICK_SLOT = 20 * 60
CLICK_CHANCE = 0.3  # per slot
REWARD_SHARE = 0.004  # of an exchange's USD value
MIN_PAYOUT = 50
FIAT_PLACES = 2
CRYPTO_PLACES = 8

# USD price on average, and whether amounts are shown with 2 places.
PRICES: dict[str, tuple[float, bool]] = {
    "BTC": (64_000.0, False), "ETH": (3_100.0, False), "LTC": (82.0, False),
    "XMR": (160.0, False), "TRX": (0.12, False), "USDTTRC20": (1.0, True),
    "USDTERC20": (1.0, True), "PMUSD": (1.0, True), "ADVCUSD": (1.0, True),
    "CASHUSD": (1.0, True), "SBERRUB": (1 / 92, True), "TCSBRUB": (1 / 92, True),
}
STABLE = frozenset({"USDTTRC20", "USDTERC20", "PMUSD", "ADVCUSD", "CASHUSD"})


@dataclass(frozen=True)
class Direction:
    source: str
    target: str
    reserve_usd: float
    min_usd: float = 0.0  # limits on what the client gives; none when 0
    max_usd: float = 0.0
    from_fee: str = ""
    to_fee: str = ""
    city: str = ""
    flags: tuple[str, ...] = ()


DIRECTIONS = (
    Direction("BTC", "USDTTRC20", 180_000, 100, 50_000),
    Direction("USDTTRC20", "BTC", 250_000, 50, 60_000),
    Direction("ETH", "USDTTRC20", 90_000, 100, 30_000),
    Direction("USDTTRC20", "ETH", 120_000, 50, 30_000),
    Direction("BTC", "ETH", 140_000),
    Direction("ETH", "BTC", 200_000),
    Direction("LTC", "BTC", 150_000, 20, 20_000, to_fee="0.0001"),
    Direction("BTC", "LTC", 40_000),
    Direction("XMR", "USDTERC20", 60_000, 50, 15_000, to_fee="1%"),
    Direction("TRX", "USDTTRC20", 30_000, 10, 5_000),
    Direction("BTC", "SBERRUB", 70_000, 300, 20_000, flags=("manual", "cardverify")),
    Direction("SBERRUB", "BTC", 110_000, 100, 10_000, from_fee="0.5%", flags=("manual",)),
    Direction("TCSBRUB", "USDTTRC20", 80_000, 100, 10_000, flags=("manual",)),
    Direction("PMUSD", "BTC", 50_000, 20, 5_000),
    Direction("USDTTRC20", "CASHUSD", 400_000, 1_000, 100_000, from_fee="10", city="MSK",
              flags=("manual",)),
)


def usd_price(seed: str, currency: str, step: int) -> float:
    base, _ = PRICES[currency]
    if currency in STABLE:
        return base * (1 + between(-0.001, 0.001, seed, currency, step))
    t = step * RATE_STEP
    return base * (1 + 0.05 * wave(t, 4 * DAY, seed, currency) + 0.015 * wave(t, 5 * HOUR, seed, currency)
                   + between(-0.002, 0.002, seed, currency, step))


def places(currency: str) -> int:
    return FIAT_PLACES if PRICES[currency][1] else CRYPTO_PLACES


def number(value: float, currency: str) -> str:
    text = f"{value:.{places(currency)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class Rate:
    direction: Direction
    rate_in: str
    rate_out: str
    reserve: str
    min_amount: str
    max_amount: str


def rate(seed: str, direction: Direction, t: float) -> Rate:
    step = int(t // RATE_STEP)
    source, target = direction.source, direction.target
    margin = between(0.006, 0.025, seed, source, target, "margin", step // 12)
    # Units of target bought by one unit of source, after the exchanger's margin.
    value = usd_price(seed, source, step) / usd_price(seed, target, step) * (1 - margin)
    rate_in, rate_out = ("1", number(value, target)) if value >= 1 else (number(1 / value, source), "1")
    hour = int(t // HOUR)
    reserve = direction.reserve_usd * between(0.5, 1.3, seed, source, target, "reserve", hour)
    source_usd = usd_price(seed, source, step)

    def limit(usd: float) -> str:
        return number(usd / source_usd, source) if usd else ""

    return Rate(direction, rate_in, rate_out,
                number(reserve / usd_price(seed, target, step), target),
                limit(direction.min_usd), limit(direction.max_usd))


def xml_export(rates: list[Rate]) -> str:
    items = []
    for r in rates:
        d = r.direction
        fields = [("from", d.source), ("to", d.target), ("in", r.rate_in), ("out", r.rate_out),
                  ("amount", r.reserve), ("frommin", r.min_amount), ("frommax", r.max_amount),
                  ("fromfee", d.from_fee), ("tofee", d.to_fee), ("city", d.city),
                  ("param", ",".join(d.flags))]
        body = "".join(f"\n        <{k}>{escape(v)}</{k}>" for k, v in fields if v)
        items.append(f"    <item>{body}\n    </item>")
    return '<?xml version="1.0" encoding="UTF-8"?>\n<rates>\n' + "\n".join(items) + "\n</rates>\n"


def json_export(rates: list[Rate]) -> dict[str, Any]:
    rows = []
    for r in rates:
        d = r.direction
        row: dict[str, Any] = {"from": d.source, "to": d.target, "in": float(r.rate_in),
                               "out": float(r.rate_out), "amount": float(r.reserve)}
        optional = {"in_min_amount": r.min_amount, "in_max_amount": r.max_amount,
                    "in_min_fee": d.from_fee, "out_min_fee": d.to_fee, "city": d.city}
        for key, value in optional.items():
            if value:
                # A percentage only reads as a string; a plain amount is a number, as in the seed.
                row[key] = value if value.endswith("%") or key == "city" else float(value)
        if d.flags:
            row["options"] = list(d.flags)
        rows.append(row)
    return {"rates": rows}


def txt_export(rates: list[Rate]) -> str:
    # Some exporters end a line with ";", as the seed's second line does.
    return "".join(
        f"{r.direction.source};{r.direction.target};{r.rate_in};{r.rate_out};{r.reserve}"
        f"{';' if i % 2 else ''}\n" for i, r in enumerate(rates)
    )


MAINTENANCE = {
    "xml": Response.text('<?xml version="1.0" encoding="UTF-8"?>\n<error>Maintenance</error>\n',
                         content_type="application/xml; charset=utf-8"),
    "json": Response.json({"error": "Maintenance"}),
    "txt": Response.text("Maintenance"),
}


@dataclass(frozen=True)
class Exchange:
    id: int
    time: int
    source: str
    target: str
    amount_give: float
    amount_get: float
    succeeded: bool
    accrued: bool
    reward: float


def exchanges(seed: str, start: int, end: int, now: int) -> list[Exchange]:
    """Referred exchanges with start <= time <= end, oldest first, as they stand at `now`."""
    found = []
    for hour in range(start // HOUR, end // HOUR + 1):
        happens, minute, pick, size, fails = unit_randoms(5, seed, "exchange", hour)
        at = int(hour * HOUR + minute * HOUR)
        if happens >= EXCHANGE_CHANCE or not start <= at <= end:
            continue
        direction = DIRECTIONS[int(pick * len(DIRECTIONS))]
        usd = 50 + 4_000 * size**2
        step = at // RATE_STEP
        give = round(usd / usd_price(seed, direction.source, step), places(direction.source))
        get = round(usd * 0.985 / usd_price(seed, direction.target, step), places(direction.target))
        succeeded = fails >= 0.1
        # A reward is accrued once the exchange has settled for a day.
        accrued = succeeded and at <= now - DAY
        found.append(Exchange(
            id=hour, time=at, source=direction.source, target=direction.target,
            amount_give=give, amount_get=get, succeeded=succeeded, accrued=accrued,
            reward=round(usd * REWARD_SHARE, 2) if succeeded else 0.0,
        ))
    return found


def clicks(seed: str, start: int, end: int) -> list[int]:
    """Times of clicks through the partner link with start <= time <= end."""
    times = []
    for slot in range(start // CLICK_SLOT, end // CLICK_SLOT + 1):
        happens, offset = unit_randoms(2, seed, "click", slot)
        at = int((slot + offset) * CLICK_SLOT)
        if happens < CLICK_CHANCE and start <= at <= end:
            times.append(at)
    return times


BROWSERS = ("Chrome", "Firefox", "Safari", "Opera", "Edge", "Unknown")
UNKNOWN_IP = "0.0.0.0"  # noqa: S104 - the documented placeholder, not an address to bind
REFERRERS = ("https://www.bestchange.ru/", "https://exchangesumo.com/", "https://kurs.expert/", "")


class PartnerError(Exception):
    def __init__(self, number: int, text: str):
        super().__init__(text)
        self.number = number
        self.text = text


class Btcchange24Api(SimulatedApi):
    prefix = "btcchange24"
    envelope_keys = frozenset({"status", "error", "error_text", "data"})

    def describe(self) -> str:
        return (f"export code {EXPORT_CODE} ({MAINTENANCE_CODE} is under maintenance), "
                f"partner api_key {API_KEY}")

    @route("GET", "/service/export/{fmt}/{code}")
    def export(self, request: Request) -> Response:
        fmt, code = request.path_params["fmt"], request.path_params["code"]
        if fmt not in MAINTENANCE or code not in (EXPORT_CODE, MAINTENANCE_CODE):
            return Response.text("Not Found", status=404)
        if code == MAINTENANCE_CODE:
            return MAINTENANCE[fmt]
        t = request.now.timestamp()
        rates = [rate(self.seed, d, t) for d in DIRECTIONS]
        if fmt == "json":
            return Response.json(json_export(rates))
        if fmt == "xml":
            return Response.text(xml_export(rates), content_type="application/xml; charset=utf-8")
        return Response.text(txt_export(rates))

    @route("GET", "/service/partner/api.php")
    def partner(self, request: Request) -> Response:
        methods = {"get_info": self.get_info, "get_exchanges": self.get_exchanges,
                   "get_links": self.get_links}
        try:
            if request.query.get("api_action") != "pp":
                raise PartnerError(1, "Unknown api_action")
            if request.query.get("api_key") != API_KEY:
                raise PartnerError(2, "Invalid api_key")
            method = methods.get(request.query.get("method", ""))
            if method is None:
                raise PartnerError(3, "Unknown method")
            data = method(request)
        except PartnerError as error:
            return Response.json({"status": "error", "error": error.number,
                                  "error_text": error.text, "data": []})
        return Response.json({"status": "success", "error": 0, "error_text": "", "data": data})

    def get_info(self, request: Request) -> dict[str, Any]:
        now = int(request.now.timestamp())
        rewards = [(e.time, e.reward) for e in exchanges(self.seed, now - HISTORY_DAYS * DAY, now, now)
                   if e.accrued]
        # Paid out on the first of each month: what was accrued before it is received.
        month_start = int(datetime.fromtimestamp(now, UTC).replace(
            day=1, hour=0, minute=0, second=0).timestamp())
        received = sum(r for at, r in rewards if at < month_start)
        return {"balance": round(sum(r for at, r in rewards if at >= month_start), 2),
                "totalReceived": round(received, 2),
                "link": f"https://www.btcchange24.com/ref/{REF_CODE}/",
                "min_payout": MIN_PAYOUT, "items": {}}

    def get_exchanges(self, request: Request) -> dict[str, Any]:
        start, end = self._window(request)
        return {"items": _keyed([{
            "id": e.id, "time": e.time, "date": _date(e.time),
            "course_give": 1, "course_get": round(e.amount_get / e.amount_give, 8),
            "amount_give": e.amount_give, "amount_get": e.amount_get,
            "exchange_success": int(e.succeeded), "accrued": int(e.accrued),
            "partner_reward": e.reward, "user_hash": stable_hex(self.seed, "user", e.id, length=3),
        } for e in exchanges(self.seed, start, end, int(request.now.timestamp()))])}

    def get_links(self, request: Request) -> dict[str, Any]:
        start, end = self._window(request)
        return {"items": _keyed([self._click(at) for at in clicks(self.seed, start, end)])}

    def _click(self, at: int) -> dict[str, Any]:
        browser, referrer, hidden, query = unit_randoms(4, self.seed, "click", at)
        ip = ".".join(str(int(between(1, 255, self.seed, "ip", at, n))) for n in range(4))
        return {
            "id": at, "time": at, "date": _date(at),
            "browser": BROWSERS[int(browser * len(BROWSERS))],
            "ip": UNKNOWN_IP if hidden < 0.05 else ip,
            "referrer": REFERRERS[int(referrer * len(REFERRERS))],
            # The documented click's user_hash is its time in hex.
            "user_hash": f"{at:x}",
            "query_string": "cur_from=BTC&cur_to=USDTTRC20" if query < 0.2 else "",
        }

    def _window(self, request: Request) -> tuple[int, int]:
        now = int(request.now.timestamp())
        start = max(self._time(request, "start_time", now - HISTORY_DAYS * DAY),
                    now - HISTORY_DAYS * DAY)
        return start, min(self._time(request, "end_time", now), now)

    def _time(self, request: Request, name: str, default: int) -> int:
        raw = request.query.get(name, "")
        if not raw:
            return default
        if not raw.isdigit():
            raise PartnerError(4, f"Invalid {name}")
        return int(raw)


def _keyed(rows: list[dict[str, Any]]) -> dict[str, Any] | list[Any]:
    # PHP encodes an empty keyed array as [].
    return {str(row["id"]): row for row in rows} if rows else []


def _date(at: int) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")
