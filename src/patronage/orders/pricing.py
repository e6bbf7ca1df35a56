"""An order's amounts (SPEC §8): element prices, item subtotals and the total, in integer minor units.

Pure functions, no database. Amounts arrive as sent (schemas.Amount): each must be in the location's currency,
with no more decimal places than that currency has. An item's subtotal is
``(price + Σ option price × option quantity) × quantity``, computed exactly on integers; only when a fractional
quantity leaves a fraction of a minor unit is the subtotal rounded, once, half away from zero. The total is
Σ subtotals + Σ charges − Σ discounts (payments don't count).
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from patronage.errors import ValidationFailed, field_error
from patronage.formats import currency_exponent, render_decimal, render_money
from patronage.ids import new_id
from patronage.orders.schemas import MAX_TOTAL_MINOR, QUANTITY_DECIMALS, Amount, ItemIn, OptionIn, OrderCreate

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


def _check_size(minor: int, field: str) -> None:
    if abs(minor) >= MAX_TOTAL_MINOR:
        raise field_error(field, "is too large")


def _points(points: Decimal | None) -> str | None:
    return render_decimal(points) if points is not None else None


def _item(
    item: ItemIn, index: int, price: int, options: list[tuple[OptionIn, int]], currency: str
) -> tuple[dict[str, Any], int]:
    subtotal = item_subtotal(
        price, item.quantity, [(option_price, option.quantity) for option, option_price in options]
    )
    _check_size(subtotal, f"items.{index}.subtotal")
    rendered = {
        "id": new_id(),
        "product_name": item.product_name,
        "sku_name": item.sku_name,
        "sku_ref": item.sku_ref,
        "price": render_money(price, currency),
        "quantity": render_decimal(item.quantity),
        "subtotal": render_money(subtotal, currency),
        "options": [
            {
                "option_list_name": option.option_list_name,
                "name": option.name,
                "ref": option.ref,
                "price": render_money(option_price, currency),
                "quantity": render_decimal(option.quantity),
            }
            for option, option_price in options
        ],
        "points_earned": _points(item.points_earned),
        "points_used": _points(item.points_used),
        "customer_notes": item.customer_notes,
    }
    return rendered, subtotal


def _element(name: str | None, ref: str | None, key: str, minor: int, currency: str) -> dict[str, Any]:
    return {"id": new_id(), "name": name, "ref": ref, key: render_money(minor, currency)}


@dataclass
class Priced:
    """An order's elements as rendered (each with a new id) and its total in minor units."""

    items: list[dict[str, Any]]
    charges: list[dict[str, Any]]
    discounts: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    total_minor: int


def price_order(fields: OrderCreate, currency: str) -> Priced:
    """The elements of an order in its location's ``currency``. An amount in another currency or with too many
    decimal places, a subtotal or a total too large: a 422 naming the field."""
    minor = MinorUnits(currency)
    items = [
        (
            item,
            minor(item.price, f"items.{i}.price"),
            [
                (option, minor(option.price, f"items.{i}.options.{j}.price"))
                for j, option in enumerate(item.options or [])
            ],
        )
        for i, item in enumerate(fields.items or [])
    ]
    charges = [(charge, minor(charge.price, f"charges.{i}.price")) for i, charge in enumerate(fields.charges or [])]
    discounts = [
        (discount, minor(discount.price_off, f"discounts.{i}.price_off"))
        for i, discount in enumerate(fields.discounts or [])
    ]
    payments = [
        (payment, minor(payment.amount, f"payments.{i}.amount")) for i, payment in enumerate(fields.payments or [])
    ]
    minor.check()
    rendered_items, total = [], 0
    for index, (item, price, options) in enumerate(items):
        rendered, subtotal = _item(item, index, price, options, currency)
        rendered_items.append(rendered)
        total += subtotal
    total += sum(price for _, price in charges) - sum(price_off for _, price_off in discounts)
    _check_size(total, "total")
    return Priced(
        items=rendered_items,
        charges=[_element(charge.name, charge.ref, "price", price, currency) for charge, price in charges],
        discounts=[_element(d.name, d.ref, "price_off", price_off, currency) for d, price_off in discounts],
        payments=[_element(p.name, p.ref, "amount", amount, currency) for p, amount in payments],
        total_minor=total,
    )
