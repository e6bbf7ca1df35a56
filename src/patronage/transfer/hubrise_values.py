"""What a HubRise-compatible source's renderings become locally: times, points, amounts, a customer's columns, and
the key a source is known by."""

import hashlib
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from patronage import formats
from patronage.formats import currency_exponent

LOCAL_ID = re.compile(r"[a-z0-9]{1,16}")

TEXT_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "gender",
    "company_name",
    "phone",
    "phone_access_code",
    "address_1",
    "address_2",
    "postal_code",
    "city",
    "state",
    "delivery_notes",
)


def parse_time(text: str | None) -> datetime | None:
    """An API time (ISO 8601 with offset) as stored: naive UTC."""
    return formats.parse_time(text, "UTC") if text else None


def parse_points(text: Any) -> Decimal:
    return Decimal(str(text))


def micro(text: Any) -> int:
    return int(parse_points(text).scaleb(6))


def money_minor(text: Any, currency: str) -> int:
    """``"28.40 GBP"`` in the list's currency -> 2840; another currency (or nothing) counts as 0."""
    if not isinstance(text, str) or " " not in text:
        return 0
    amount, code = text.rsplit(" ", 1)
    if code != currency:
        return 0
    try:
        return int(Decimal(amount).scaleb(currency_exponent(currency)))
    except (InvalidOperation, ValueError):
        return 0


def source_key(base_url: str, account_id: str, location_id: str | None) -> str:
    """A source's key: its base URL and what its token reaches (never the token)."""
    text = "\n".join((normal_url(base_url), account_id, location_id or ""))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def normal_url(base_url: str) -> str:
    root = base_url.strip().rstrip("/")
    return root[:-3] if root.endswith("/v1") else root


def customer_values(data: dict[str, Any], currency: str) -> dict[str, Any]:
    """The customer's columns from its API rendering."""
    values: dict[str, Any] = {name: data.get(name) for name in TEXT_FIELDS}
    email = data.get("email")
    values["email_search"] = email.lower() if email else None
    birth = data.get("birth_date")
    values["birth_date"] = date.fromisoformat(birth) if birth else None
    country = data.get("country")
    values["country"] = country.upper() if country else None
    for name in ("latitude", "longitude"):
        value = data.get(name)
        values[name] = None if value is None else str(value)
    values["sms_marketing"] = bool(data.get("sms_marketing"))
    values["email_marketing"] = bool(data.get("email_marketing"))
    values["custom_fields"] = data.get("custom_fields") or {}
    values["anonymised"] = bool(data.get("anonymised"))
    # Order statistics as the source computed them (its orders are not imported): the client switched over
    # sees the same figures. A local order recomputes them from the local orders (statistics.py).
    values["nb_orders"] = int(data.get("nb_orders") or 0)
    values["order_total_minor"] = money_minor(data.get("order_total"), currency)
    values["first_order_at"] = parse_time(data.get("first_order_date"))
    values["last_order_at"] = parse_time(data.get("last_order_date"))
    return values
