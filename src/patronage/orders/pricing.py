"""An order's amounts (SPEC §8): element prices, item subtotals and the total, in integer minor units.

Pure functions, no database. An item's subtotal is ``(price + Σ option price × option quantity) × quantity``,
computed exactly on integers; only when a fractional quantity leaves a fraction of a minor unit is the
subtotal rounded, once, half away from zero. The total is Σ subtotals + Σ charges − Σ discounts.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from patronage.errors import field_error
from patronage.formats import render_decimal, render_money
from patronage.ids import new_id
from patronage.orders.schemas import MAX_TOTAL_MINOR, QUANTITY_DECIMALS, ItemIn, OrderCreate

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


def _check_size(minor: int, field: str) -> None:
    if abs(minor) >= MAX_TOTAL_MINOR:
        raise field_error(field, "is too large")


def _item(item: ItemIn, index: int, currency: str) -> tuple[dict[str, Any], int]:
    options = [(option.price or 0, option.quantity) for option in item.options or []]
    subtotal = item_subtotal(item.price, item.quantity, options)
    _check_size(subtotal, f"items.{index}.subtotal")
    rendered = {
        "id": new_id(),
        "product_name": item.product_name,
        "sku_name": item.sku_name,
        "sku_ref": item.sku_ref,
        "price": render_money(item.price, currency),
        "quantity": render_decimal(item.quantity),
        "subtotal": render_money(subtotal, currency),
        "options": [
            {
                "option_list_name": option.option_list_name,
                "name": option.name,
                "ref": option.ref,
                "price": render_money(option.price or 0, currency),
                "quantity": render_decimal(option.quantity),
            }
            for option in item.options or []
        ],
        "points_earned": render_decimal(item.points_earned) if item.points_earned is not None else None,
        "points_used": render_decimal(item.points_used) if item.points_used is not None else None,
        "customer_notes": item.customer_notes,
    }
    return rendered, subtotal


@dataclass
class Priced:
    """An order's elements as rendered (each with a new id) and its total in minor units."""

    items: list[dict[str, Any]]
    charges: list[dict[str, Any]]
    discounts: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    total_minor: int


def price_order(fields: OrderCreate, currency: str) -> Priced:
    """The elements of an order in ``currency``; a subtotal or a total too large is a 422 naming it."""
    items, total = [], 0
    for index, item in enumerate(fields.items or []):
        rendered, subtotal = _item(item, index, currency)
        items.append(rendered)
        total += subtotal
    charges = []
    for charge in fields.charges or []:
        total += charge.price
        charges.append(
            {"id": new_id(), "name": charge.name, "ref": charge.ref, "price": render_money(charge.price, currency)}
        )
    discounts = []
    for discount in fields.discounts or []:
        total -= discount.price_off
        discounts.append(
            {
                "id": new_id(),
                "name": discount.name,
                "ref": discount.ref,
                "price_off": render_money(discount.price_off, currency),
            }
        )
    payments = [
        {"id": new_id(), "name": payment.name, "ref": payment.ref, "amount": render_money(payment.amount, currency)}
        for payment in fields.payments or []
    ]
    _check_size(total, "total")
    return Priced(items, charges, discounts, payments, total)
