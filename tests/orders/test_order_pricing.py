"""Order amounts as pure functions (orders.pricing): subtotals, rounding and totals in minor units, no database."""

from decimal import Decimal
from typing import Any

import pytest

from patronage.bodies import parse_model
from patronage.errors import ValidationFailed
from patronage.orders.pricing import (
    item_subtotal,
    order_total,
    payment_discrepancy,
    price_order,
    round_half_up,
    stored_minor,
)
from patronage.orders.schemas import OrderCreate


def _order(**fields: Any) -> OrderCreate:
    """A body as the route validates it: amounts as sent, not yet in any location's currency."""
    return parse_model(OrderCreate, {"status": "new", **fields})


def _item(price: str, quantity: Any = 1, **fields: Any) -> dict[str, Any]:
    return {"product_name": "Dish", "price": price, "quantity": quantity, **fields}


@pytest.mark.parametrize(
    ("numerator", "denominator", "rounded"),
    [(10, 5, 2), (4, 10, 0), (5, 10, 1), (6, 10, 1), (15, 10, 2), (-4, 10, 0), (-5, 10, -1), (-15, 10, -2), (0, 7, 0)],
)
def test_round_half_up_rounds_halves_away_from_zero(numerator: int, denominator: int, rounded: int) -> None:
    assert round_half_up(numerator, denominator) == rounded


def test_item_subtotal_adds_options_before_multiplying() -> None:
    # (8.90 + 0.50 × 3 + 0.25 × 1) × 2 = 21.30
    assert item_subtotal(890, Decimal(2), [(50, Decimal(3)), (25, Decimal(1))]) == 2130
    # (1.00 + 0.01 × 0.5) × 0.5 = 0.5025 -> 0.50: the option is not rounded on its own (that would give 0.51).
    assert item_subtotal(100, Decimal("0.5"), [(1, Decimal("0.5"))]) == 50
    assert item_subtotal(100, Decimal(1), []) == 100


@pytest.mark.parametrize(
    ("price", "quantity", "subtotal"),
    [
        (99, "0.5", 50),  # 0.495 -> 0.50
        (101, "0.333", 34),  # 0.33633 -> 0.34
        (100, "0.333", 33),
        (-99, "0.5", -50),  # halves away from zero
        (1, "0.000001", 0),
        (99999999999999, "999", 99899999999999001),
    ],
)
def test_item_subtotal_rounds_once(price: int, quantity: str, subtotal: int) -> None:
    assert item_subtotal(price, Decimal(quantity), []) == subtotal


def test_price_order_renders_the_elements_and_the_total() -> None:
    fields = _order(
        items=[
            _item(
                "8.90 EUR",
                "2",
                options=[
                    {"name": "Olives", "price": "0.50 EUR", "quantity": 3},
                    {"name": "Basil", "price": "0.25 EUR"},
                ],
                points_earned="8.9",
            ),
            _item("1.5 EUR"),
        ],
        charges=[{"name": "Delivery", "price": "2.00 EUR"}],
        discounts=[{"name": "Welcome", "price_off": "3.10 EUR"}],
        payments=[{"name": "Card", "amount": "21.20 EUR"}],
    )
    priced = price_order(fields, "EUR")
    assert priced.total_minor == 2170  # 21.30 + 1.50 + 2.00 − 3.10; payments do not count
    margherita, water = priced.items
    assert margherita["subtotal"] == "21.30 EUR" and margherita["quantity"] == "2.0"
    assert [option["price"] for option in margherita["options"]] == ["0.50 EUR", "0.25 EUR"]
    assert margherita["options"][1]["quantity"] == 1 and margherita["points_earned"] == "8.9"
    assert water["price"] == "1.50 EUR" and water["subtotal"] == "1.50 EUR" and water["options"] == []
    assert priced.charges[0]["price"] == "2.00 EUR" and priced.discounts[0]["price_off"] == "3.10 EUR"
    assert priced.payments[0]["amount"] == "21.20 EUR"
    ids = [element["id"] for element in [*priced.items, *priced.charges, *priced.discounts, *priced.payments]]
    assert len(set(ids)) == 5


def test_an_empty_order_totals_zero() -> None:
    priced = price_order(_order(), "EUR")
    assert (priced.items, priced.charges, priced.discounts, priced.payments, priced.total_minor) == ([], [], [], [], 0)


def test_currencies_without_minor_units() -> None:
    priced = price_order(_order(items=[_item("950 JPY", "3")]), "JPY")
    assert priced.total_minor == 2850 and priced.items[0]["subtotal"] == "2850 JPY"
    with pytest.raises(ValidationFailed) as error:
        price_order(_order(items=[_item("950.0 JPY")]), "JPY")
    assert error.value.errors == [{"field": "items.0.price", "message": "has more decimal places than JPY allows (0)"}]


def test_amounts_must_be_in_the_locations_currency_every_error_listed() -> None:
    fields = _order(
        items=[
            _item("1.00 EUR", options=[{"name": "x", "price": "0.5 EUR"}, {"name": "y", "price": "0.50 USD"}]),
            _item("8.905 EUR"),
        ],
        charges=[{"price": "2.00 GBP"}],
        discounts=[{"price_off": "1.000 EUR"}],  # as written: three decimals, even if the last is a zero
        payments=[{"amount": "5.00 USD"}],
    )
    with pytest.raises(ValidationFailed) as error:
        price_order(fields, "EUR")
    assert error.value.errors == [
        {"field": "items.0.options.1.price", "message": "must be in EUR, the location's currency"},
        {"field": "items.1.price", "message": "has more decimal places than EUR allows (2)"},
        {"field": "charges.0.price", "message": "must be in EUR, the location's currency"},
        {"field": "discounts.0.price_off", "message": "has more decimal places than EUR allows (2)"},
        {"field": "payments.0.amount", "message": "must be in EUR, the location's currency"},
    ]
    # The same body in a USD location: the other amounts are the wrong ones.
    with pytest.raises(ValidationFailed) as error:
        price_order(_order(items=[_item("1.00 EUR")], payments=[{"amount": "5.00 USD"}]), "USD")
    assert [e["field"] for e in error.value.errors] == ["items.0.price"]


@pytest.mark.parametrize(
    ("amount", "minor"), [("8.90 EUR", 890), ("8.9 EUR", 890), ("8 EUR", 800), ("-0.05 EUR", -5), ("007.10 EUR", 710)]
)
def test_amounts_in_minor_units(amount: str, minor: int) -> None:
    assert price_order(_order(charges=[{"price": amount}]), "EUR").total_minor == minor


def test_discounts_may_take_the_total_below_zero() -> None:
    priced = price_order(_order(items=[_item("1.00 EUR")], discounts=[{"price_off": "2.50 EUR"}]), "EUR")
    assert priced.total_minor == -150


def test_too_large_subtotals_and_totals_are_refused() -> None:
    huge = _item("999999999999.99 EUR", "999999")
    with pytest.raises(ValidationFailed) as error:
        price_order(_order(items=[_item("1.00 EUR"), huge]), "EUR")
    assert error.value.errors == [{"field": "items.1.subtotal", "message": "is too large"}]
    large = _item("999999999999.99 EUR", "999")  # 998999999999990.01 EUR: under the limit
    with pytest.raises(ValidationFailed) as error:
        price_order(_order(items=[large] * 11), "EUR")
    assert error.value.errors == [{"field": "total", "message": "is too large"}]


# --- the whole HubRise format: deals, deleted elements, discrepancies ------------------------------------


def test_deals_are_renumbered_and_their_pricing_effects_change_no_amount() -> None:
    fields = _order(
        items=[
            _item("3.00 EUR", deal_line={"deal_key": "B", "pricing_effect": "fixed_price", "pricing_value": "1 EUR"}),
            _item("2.00 EUR", deal_line={"deal_key": "A", "pricing_effect": "percentage_off", "pricing_value": 50}),
            _item("2.00 EUR", deal_line={"deal_key": "B", "pricing_effect": "price_off", "pricing_value": "0.5 EUR"}),
        ],
        deals={"A": {"name": "Menu"}, "B": {"name": "Drink for 1€", "ref": "FREEDRINK"}, "C": {"name": "Unused"}},
    )
    priced = price_order(fields, "EUR")
    assert priced.deals == {
        "0": {"name": "Menu", "ref": None},
        "1": {"name": "Drink for 1€", "ref": "FREEDRINK"},
        "2": {"name": "Unused", "ref": None},
    }
    lines = [item["deal_line"] for item in priced.items]
    assert [line["deal_key"] for line in lines] == ["1", "0", "1"]
    assert [line["pricing_value"] for line in lines] == ["1.00 EUR", "50.0", "0.50 EUR"]
    assert priced.total_minor == 700  # HubRise computes nothing with pricing effects


def test_deal_keys_and_deal_amounts_are_checked_with_the_other_amounts() -> None:
    fields = _order(
        items=[
            _item("1.00 USD", deal_line={"deal_key": "0"}),
            _item("1.00 EUR", deal_line={"deal_key": "9", "pricing_effect": "price_off", "pricing_value": "1 USD"}),
        ],
        deals={"0": {"name": "Menu"}},
    )
    with pytest.raises(ValidationFailed) as error:
        price_order(fields, "EUR")
    assert error.value.errors == [
        {"field": "items.0.price", "message": "must be in EUR, the location's currency"},
        {"field": "items.1.deal_line.deal_key", "message": "must be a key of the order's deals"},
        {"field": "items.1.deal_line.pricing_value", "message": "must be in EUR, the location's currency"},
    ]


def test_removed_options_count_their_price_and_tax_rates_count_nothing() -> None:
    item = _item("8.00 EUR", "2", tax_rate="20", options=[{"name": "Onions", "removed": True, "price": "0.25 EUR"}])
    priced = price_order(_order(items=[item], charges=[{"price": "1.00 EUR", "tax_rate": "5.5"}]), "EUR")
    assert priced.items[0]["subtotal"] == "16.50 EUR" and priced.items[0]["tax_rate"] == "20.0"
    assert priced.items[0]["options"][0]["removed"] is True and priced.charges[0]["tax_rate"] == "5.5"
    assert priced.total_minor == 1750


def test_private_refs_are_set_aside_and_payment_info_kept_as_plain_json() -> None:
    fields = _order(
        items=[_item("1 EUR", private_ref="it")],
        payments=[{"amount": "1 EUR", "private_ref": "pa", "info": {"fee": Decimal("0.5"), "ok": True}}],
    )
    priced = price_order(fields, "EUR")
    assert priced.private_refs == {priced.items[0]["id"]: "it", priced.payments[0]["id"]: "pa"}
    assert "private_ref" not in priced.items[0]
    assert priced.payments[0]["info"] == {"fee": 0.5, "ok": True}
    assert priced.payments[0]["type"] == "online" and priced.charges == []


def test_the_total_and_the_payment_discrepancy_leave_deleted_elements_out() -> None:
    items = [{"subtotal": "8.90 EUR"}, {"subtotal": "100.00 EUR", "deleted": True}]
    charges = [{"price": "2.00 EUR", "deleted": False}, {"price": "5.00 EUR", "deleted": True}]
    discounts = [{"price_off": "0.90 EUR"}, {"price_off": "3.00 EUR", "deleted": True}]
    total = order_total(items, charges, discounts)
    assert total == 1000
    assert payment_discrepancy([], total) is None
    assert payment_discrepancy([{"amount": "50.00 EUR", "deleted": True}], total) is None
    assert payment_discrepancy([{"amount": "10.00 EUR"}], total) == 0
    assert payment_discrepancy([{"amount": "4.00 EUR"}, {"amount": "5.00 EUR"}], total) == -100
    assert payment_discrepancy([{"amount": "12.50 EUR"}], total) == 250


@pytest.mark.parametrize(
    ("money", "minor"), [("8.90 EUR", 890), ("-0.05 EUR", -5), ("2850 JPY", 2850), ("1.234 KWD", 1234)]
)
def test_stored_amounts_read_back_exactly(money: str, minor: int) -> None:
    assert stored_minor(money) == minor
