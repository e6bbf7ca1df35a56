"""Wire formats of SPEC §5: exact decimals, money, times in a timezone."""

import re
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
    # fromutc reads the stored time as UTC directly: half the cost of astimezone (a page renders hundreds).
    local_zone = zone(timezone)
    return local_zone.fromutc(value.replace(microsecond=0, tzinfo=local_zone)).isoformat()


def in_utc(moment: datetime, timezone: str) -> datetime:
    """-> naive UTC (as stored); a naive ``moment`` is a time in ``timezone``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(timezone))
    return moment.astimezone(UTC).replace(tzinfo=None)


TIME_SYNTAX = "must be a time in ISO 8601 format, such as 2020-06-25T11:43:51+02:00"
_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}")
# A time sent in year 1 or 9999 may leave datetime's range once moved to UTC or to a time zone (an
# OverflowError: a 500): times are refused outside these years.
MIN_YEAR, MAX_YEAR = 2, 9998
# The same as a pattern for the start of an ISO 8601 text, for the OpenAPI document.
YEAR_PATTERN = "^(000[2-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-"


def in_year_range(moment: datetime) -> datetime:
    """``moment``, or ValueError outside years :data:`MIN_YEAR` to :data:`MAX_YEAR`."""
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise ValueError(f"{moment.year} is outside the years {MIN_YEAR} to {MAX_YEAR}")
    return moment


def read_time(value: str, *, date_only: bool = False) -> datetime:
    """ISO 8601 -> ``datetime``, naive when the text has no offset. Raises ValueError."""
    text = value.strip()
    # An unencoded "+" in a query string arrives as a space: "…T11:43:51 02:00".
    text = re.sub(r"(T[0-9:.]+) ([0-9]{2}:?[0-9]{2})$", r"\1+\2", text)
    if not (_TIME.match(text) or (date_only and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text))):
        raise ValueError(value)
    return in_year_range(datetime.fromisoformat(text))


def parse_time(value: str, timezone: str, *, date_only: bool = False) -> datetime:
    """ISO 8601 -> naive UTC; without an offset the time is in ``timezone``. Raises ValueError."""
    return in_utc(read_time(value, date_only=date_only), timezone)
