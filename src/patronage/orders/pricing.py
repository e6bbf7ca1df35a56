"""An order's amounts (SPEC §8): element prices, item subtotals and the total, in integer minor units.

Pure functions, no database. Amounts arrive as sent (schemas.Amount): each must be in the location's currency,
with no more decimal places than that currency has. An item's subtotal is
``(price + Σ option price × option quantity) × quantity``, computed exactly on integers; only when a fractional
quantity leaves a fraction of a minor unit is the subtotal rounded, once, half away from zero. The total is
Σ subtotals + Σ charges − Σ discounts of the elements not deleted (payments don't count, nor do deals'
pricing effects or tax rates: HubRise computes nothing with them). The payment discrepancy is Σ payments − total.
"""

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from patronage.bodies import to_plain_json
from patronage.errors import ValidationFailed, field_error
from patronage.formats import currency_exponent, render_decimal, render_money
from patronage.ids import new_id
from patronage.orders.schemas import (
    MAX_TOTAL_MINOR,
    QUANTITY_DECIMALS,
    Amount,
    ChargeIn,
    DealIn,
    DealLineIn,
    DiscountIn,
    ItemIn,
    OrderCreate,
    PaymentIn,
)

# Quantities are exact to 6 decimal places: in millionths they are integers.
MICRO = 10**QUANTITY_DECIMALS


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer, halves away from zero."""
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return -quotient if numerator < 0 else quotient


def micro(quantity: Decimal) -> int:
    """A quantity (at most 6 decimal places) in millionths."""
    return int(quantity.scaleb(QUANTITY_DECIMALS))


def item_subtotal(price: int, quantity: Decimal, options: list[tuple[int, Decimal]]) -> int:
    """``(price + Σ option price × option quantity) × quantity`` in minor units, rounded once.

    ``price`` and the option prices are minor units; ``options`` are (price, quantity) pairs.
    """
    # The unit price in millionths of a minor unit: exact, since option quantities have 6 decimals at most.
    unit = price * MICRO + sum(option_price * micro(option_quantity) for option_price, option_quantity in options)
    return round_half_up(unit * micro(quantity), MICRO * MICRO)


class MinorUnits:
    """Converts amounts to minor units of one currency, collecting the errors (each names its field) so that
    one answer lists them all, as the body's own validation does."""

    def __init__(self, currency: str):
        self.currency = currency
        self.exponent = currency_exponent(currency)
        self.errors: list[dict[str, str]] = []

    def __call__(self, amount: Amount | None, field: str) -> int:
        """``amount`` in minor units (none: 0); when it can't be, 0 and an error for :meth:`check`."""
        if amount is None:
            return 0
        if amount.currency != self.currency:
            self.errors.append({"field": field, "message": f"must be in {self.currency}, the location's currency"})
            return 0
        if len(amount.decimals) > self.exponent:
            message = f"has more decimal places than {self.currency} allows ({self.exponent})"
            self.errors.append({"field": field, "message": message})
            return 0
        return amount.minor_units(self.exponent)

    def check(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


def _points(points: Decimal | None) -> str | None:
    return render_decimal(points) if points is not None else None


def _decimal(value: Decimal | None) -> str | None:
    return render_decimal(value) if value is not None else None


# Payment ``info`` is free JSON, bounded like custom fields.
MAX_INFO_BYTES = 8192


def _info(info: dict[str, Any] | None, at: str, errors: list[dict[str, str]]) -> dict[str, Any] | None:
    if info is None:
        return None
    try:
        plain = to_plain_json(info, at)
    except ValidationFailed as exc:
        errors.extend(exc.errors or [])
        return None
    size = len(json.dumps(plain, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_INFO_BYTES:
        errors.append({"field": at, "message": f"is too large ({size} bytes, maximum {MAX_INFO_BYTES})"})
    return plain


def _check_copies(sent: dict[str, Any], rendered: dict[str, Any], at: str, errors: list[dict[str, str]]) -> None:
    """Deprecated copies an element renders (a charge's charge_price...) may be sent, holding what it renders."""
    for name, value in sent.items():
        if value != rendered[name]:
            errors.append({"field": f"{at}.{name}", "message": f"is deprecated and must be {rendered[name]!r} here"})


@dataclass
class Priced:
    """New elements as stored and rendered (each with a new id, without its private ref), the private refs
    they were sent with (element id -> ref), the order's renumbered deals and, on a create, its total."""

    items: list[dict[str, Any]] = field(default_factory=list)
    charges: list[dict[str, Any]] = field(default_factory=list)
    discounts: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    private_refs: dict[str, str] = field(default_factory=dict)
    deals: dict[str, dict[str, Any]] = field(default_factory=dict)
    total_minor: int = 0


def _deal_line(
    line: DealLineIn, prefix: str, deal_keys: dict[str, str], minor: MinorUnits, errors: list[dict[str, str]]
) -> dict[str, Any]:
    key = deal_keys.get(line.deal_key)
    if key is None:
        errors.append({"field": f"{prefix}.deal_key", "message": "must be a key of the order's deals"})
    value = line.pricing_value
    if isinstance(value, Amount):
        rendered_value: str | None = render_money(minor(value, f"{prefix}.pricing_value"), minor.currency)
    else:
        rendered_value = _decimal(value)
    return {
        "deal_key": key,
        "position": line.position,
        "label": line.label,
        "pricing_effect": line.pricing_effect,
        "pricing_value": rendered_value,
    }


def price_elements(
    currency: str,
    items: list[tuple[str, ItemIn]],
    charges: list[tuple[str, ChargeIn]],
    discounts: list[tuple[str, DiscountIn]],
    payments: list[tuple[str, PaymentIn]],
    deal_keys: dict[str, str],
) -> Priced:
    """New elements in the order's ``currency``, each given with the field path it was sent at
    (``"items.3"``). ``deal_keys`` maps the deal keys an item may name to the order's own. Every amount in
    another currency or with too many decimal places, every unknown deal key, every subtotal too large: one
    422 naming them all."""
    minor = MinorUnits(currency)
    errors = minor.errors
    priced = Priced()

    def new_id_for(element: Any) -> str:
        element_id = new_id()
        if element.private_ref is not None:
            priced.private_refs[element_id] = element.private_ref
        return element_id

    for at, item in items:
        price = minor(item.price, f"{at}.price")
        options = [(o, minor(o.price, f"{at}.options.{j}.price")) for j, o in enumerate(item.options or [])]
        subtotal = item_subtotal(price, item.quantity, [(option_price, o.quantity) for o, option_price in options])
        if abs(subtotal) >= MAX_TOTAL_MINOR:
            errors.append({"field": f"{at}.subtotal", "message": "is too large"})
        elif item.subtotal is not None and minor(item.subtotal, f"{at}.subtotal") != subtotal:
            message = f"is calculated: {render_money(subtotal, currency)} (price and options times quantity)"
            errors.append({"field": f"{at}.subtotal", "message": message})
        rendered = {
            "id": new_id_for(item),
            "product_name": item.product_name,
            "sku_name": item.sku_name,
            "sku_ref": item.sku_ref,
            "price": render_money(price, currency),
            "quantity": render_decimal(item.quantity),
            "subtotal": render_money(subtotal, currency),
            "tax_rate": _decimal(item.tax_rate),
            "customer_notes": item.customer_notes,
            "points_earned": _points(item.points_earned),
            "points_used": _points(item.points_used),
            "options": [
                {
                    "option_list_name": option.option_list_name,
                    "name": option.name,
                    "ref": option.ref,
                    "price": render_money(option_price, currency),
                    "quantity": int(option.quantity),
                    "removed": option.removed,
                }
                for option, option_price in options
            ],
            "deleted": item.deleted,
        }
        if item.deal_line is not None:
            rendered["deal_line"] = _deal_line(item.deal_line, f"{at}.deal_line", deal_keys, minor, errors)
        priced.items.append(rendered)
    for at, charge in charges:
        price = minor(charge.price, f"{at}.price")
        rendered = {
            "id": new_id_for(charge),
            "type": charge.type if charge.type is not None else "other",
            "name": charge.name,
            "ref": charge.ref,
            "price": render_money(price, currency),
            "tax_rate": _decimal(charge.tax_rate),
            "deleted": charge.deleted,
        }
        copies = {"charge_type": "type", "charge_ref": "ref", "charge_price": "price"}
        sent = {name: getattr(charge, name) for name in copies if name in charge.model_fields_set}
        if "charge_price" in sent and sent["charge_price"] is not None:
            sent["charge_price"] = render_money(minor(sent["charge_price"], f"{at}.charge_price"), currency)
        _check_copies(sent, {name: rendered[copied] for name, copied in copies.items()}, at, errors)
        priced.charges.append(rendered)
    for at, discount in discounts:
        price_off = render_money(minor(discount.price_off, f"{at}.price_off"), currency)
        sent = {name: getattr(discount, name) for name in ("pricing_effect", "pricing_value")}
        sent = {name: value for name, value in sent.items() if name in discount.model_fields_set}
        if sent.get("pricing_value") is not None:
            sent["pricing_value"] = render_money(minor(discount.pricing_value, f"{at}.pricing_value"), currency)
        _check_copies(sent, {"pricing_effect": "price_off", "pricing_value": price_off}, at, errors)
        priced.discounts.append(
            {
                "id": new_id_for(discount),
                "name": discount.name,
                "ref": discount.ref,
                "price_off": price_off,
                "deleted": discount.deleted,
            }
        )
    for at, payment in payments:
        amount = minor(payment.amount, f"{at}.amount")
        priced.payments.append(
            {
                "id": new_id_for(payment),
                "type": payment.type if payment.type is not None else "online",
                "name": payment.name,
                "ref": payment.ref,
                "amount": render_money(amount, currency),
                "info": _info(payment.info, f"{at}.info", errors),
                "deleted": payment.deleted,
            }
        )
    minor.check()
    return priced


def stored_minor(money: str) -> int:
    """A stored amount (``"8.90 EUR"``, rendered by this module) in minor units of its currency."""
    units, currency = money.split(" ")
    return int(Decimal(units).scaleb(currency_exponent(currency)))


def _live(elements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [element for element in elements if not element.get("deleted", False)]


def order_total(items: list[dict[str, Any]], charges: list[dict[str, Any]], discounts: list[dict[str, Any]]) -> int:
    """Σ subtotals + Σ charges − Σ discounts of the elements that are not deleted, in minor units. Deals and
    tax rates change nothing (HubRise computes nothing with them)."""
    return (
        sum(stored_minor(item["subtotal"]) for item in _live(items))
        + sum(stored_minor(charge["price"]) for charge in _live(charges))
        - sum(stored_minor(discount["price_off"]) for discount in _live(discounts))
    )


def payment_discrepancy(payments: list[dict[str, Any]], total_minor: int) -> int | None:
    """Σ payments − total of the payments that are not deleted; None when there are none (the order is unpaid,
    which is no discrepancy)."""
    live = _live(payments)
    if not live:
        return None
    return sum(stored_minor(payment["amount"]) for payment in live) - total_minor


def check_total(total_minor: int) -> None:
    if abs(total_minor) >= MAX_TOTAL_MINOR:
        raise field_error("total", "is too large")


def renumbered_deals(deals: dict[str, DealIn]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The order's deals keyed "0", "1", … in the order sent (as HubRise renumbers them), and the map from the
    keys sent to the new ones."""
    keys = {key: str(index) for index, key in enumerate(deals)}
    return {keys[key]: {"name": deal.name, "ref": deal.ref} for key, deal in deals.items()}, keys


def price_order(fields: OrderCreate, currency: str) -> Priced:
    """The elements of a new order in its location's ``currency``, its deals and its total. An amount in another
    currency or with too many decimal places, a deal key the deals lack, a subtotal or a total too large: a 422
    naming the field."""
    deals, deal_keys = renumbered_deals(fields.deals or {})
    priced = price_elements(
        currency,
        [(f"items.{i}", item) for i, item in enumerate(fields.items or [])],
        [(f"charges.{i}", charge) for i, charge in enumerate(fields.charges or [])],
        [(f"discounts.{i}", discount) for i, discount in enumerate(fields.discounts or [])],
        [(f"payments.{i}", payment) for i, payment in enumerate(fields.payments or [])],
        deal_keys,
    )
    priced.deals = deals
    priced.total_minor = order_total(priced.items, priced.charges, priced.discounts)
    check_total(priced.total_minor)
    return priced
