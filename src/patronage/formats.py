"""Wire formats of SPEC §5: exact decimals, money, times in a timezone."""

from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

import iso4217


def render_decimal(value: Decimal) -> str:
    """``Decimal("4.250")`` -> ``"4.25"``; no exponent, trailing zeros dropped, at least one decimal."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0")
        if text.endswith("."):
            text += "0"
    else:
        text += ".0"
    return "0.0" if text == "-0.0" else text


@lru_cache(maxsize=512)
def currency_exponent(code: str) -> int:
    currency = iso4217.Currency(code)
    exponent = currency.exponent
    return 2 if exponent is None else exponent


def render_money(minor_units: int, currency: str) -> str:
    """``2840, "GBP"`` -> ``"28.40 GBP"``, with the currency's own number of minor units."""
    exponent = currency_exponent(currency)
    amount = Decimal(minor_units).scaleb(-exponent)
    return f"{amount:.{exponent}f} {currency}"


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def render_time(value: datetime | None, timezone: str) -> str | None:
    """Stored naive UTC -> ISO 8601 with the offset of the given timezone, to the second."""
    if value is None:
        return None
    local = value.replace(tzinfo=UTC).astimezone(zone(timezone))
    return local.replace(microsecond=0).isoformat()


def in_utc(moment: datetime, timezone: str) -> datetime:
    """-> naive UTC (as stored); a naive ``moment`` is a time in ``timezone``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(timezone))
    return moment.astimezone(UTC).replace(tzinfo=None)
