"""Customers as rows of a file (docs/import-export.md), both ways: what ``export customers`` writes from a customer
as the API renders it, and what ``import customers`` makes of a CSV record or an NDJSON object.

The import validates a row exactly as ``POST .../customers`` validates a body (the same model, the same
messages): a CSV record is first turned into the body a client would send (an empty cell is null, booleans and
``custom_fields`` are read from their text), an NDJSON object is the body itself once its read-only fields are
set aside. Cards are validated as ``POST .../loyalty_cards`` validates ``ref`` and ``name``, a balance as an
operation's ``delta`` (zero allowed: then the card gets no operation).
"""

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter, ValidationError

from patronage import custom_fields
from patronage.bodies import check_object, parse_json, parse_model
from patronage.customers.schemas import READ_ONLY, CustomerCreate, CustomerFields
from patronage.errors import ValidationFailed, validation_failed
from patronage.loyalty.schemas import CardCreate
from patronage.loyalty.service import NULL_REF_TAKEN, REF_TAKEN
from patronage.validators import Points

# The customer fields a file may set: the API's writable fields, by their names and in their order.
CUSTOMER_COLUMNS = tuple(CustomerFields.model_fields)
CARD_COLUMNS = ("loyalty_card_ref", "loyalty_card_name", "balance")
# Written by the export, accepted and ignored by the import.
READ_ONLY_COLUMNS = (
    "id",
    "created_at",
    "anonymised",
    "nb_orders",
    "order_total",
    "first_order_date",
    "last_order_date",
)
# The export's header: the id first, then what a client sets, what the server computes, the card.
CSV_COLUMNS = ("id", *CUSTOMER_COLUMNS, *READ_ONLY_COLUMNS[1:], *CARD_COLUMNS)
BOOLEAN_COLUMNS = frozenset({"sms_marketing", "email_marketing", "anonymised"})
KNOWN_COLUMNS = frozenset(CSV_COLUMNS)

TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no"})

KEYS = ("email", "private_ref")
OPENING_REASON = "Opening balance"


# --- export ---------------------------------------------------------------------------------------------


def cell(value: Any) -> str:
    """A value as a CSV cell: null is empty, booleans ``true``/``false``, objects JSON text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def csv_rows(customer: dict[str, Any], columns: tuple[str, ...] = CSV_COLUMNS) -> list[list[str]]:
    """A customer as rendered by the API, as CSV rows: one per card (in the order given), one with empty card
    cells when it has none."""
    cards = customer.get("loyalty_cards") or [None]
    rows = []
    for card in cards:
        values = dict(customer)
        if card is not None:
            values.update(loyalty_card_ref=card["ref"], loyalty_card_name=card["name"], balance=card["balance"])
        rows.append([cell(values.get(name)) for name in columns])
    return rows


def ndjson_line(customer: dict[str, Any]) -> str:
    """A customer as rendered by the API, as one NDJSON line (without its newline)."""
    return json.dumps(customer, ensure_ascii=False, separators=(",", ":"))


# --- import ---------------------------------------------------------------------------------------------


class HeaderError(ValueError):
    """A CSV header the import cannot read: nothing is imported."""


def check_header(header: list[str], key: str) -> None:
    unknown = [name for name in header if name not in KNOWN_COLUMNS]
    if unknown:
        raise HeaderError(
            f"unknown column{'s' if len(unknown) > 1 else ''} in the header: {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(CSV_COLUMNS)})"
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise HeaderError(f"column{'s' if len(repeated) > 1 else ''} named twice in the header: {', '.join(repeated)}")
    if key not in header:
        raise HeaderError(f"the header has no {key!r} column (the match key, --key {key})")


@dataclass(slots=True)
class Card:
    ref: str | None
    name: str | None
    balance_micro: int
    ref_field: str  # where an error about this card points
    # Given by the import once the row is read, in case the card is created (customers_import.stamp):
    id: str = ""
    created_at: datetime | None = None
    operation_id: str | None = None  # its opening balance's operation, when it has a balance
    ledger_hash: str | None = None


@dataclass(slots=True)
class Row:
    """A valid row: the customer fields it sets as the API would store them, its cards, the key it is matched by."""

    line: int
    key: str  # the match key's value (an email in lower case)
    values: dict[str, Any]  # the fields the row sets but private_ref (custom_fields: the stored object)
    sets_private_ref: bool
    private_ref: str | None
    cards: list[Card]
    created_at: datetime | None = None  # the customer's, should the row create it (customers_import.stamp)


_POINTS: TypeAdapter[Decimal] = TypeAdapter(Points)


def _renamed(errors: list[dict[str, str]], names: dict[str, str]) -> list[dict[str, str]]:
    return [{"field": names.get(error["field"], error["field"]), "message": error["message"]} for error in errors]


def _card(values: dict[str, Any], fields: dict[str, str]) -> tuple[Card | None, list[dict[str, str]]]:
    """``values`` holds ``ref``, ``name``, ``balance`` (each may be absent) and, from NDJSON, any other key sent;
    ``fields`` names them for errors."""
    errors: list[dict[str, str]] = []
    body = {name: value for name, value in values.items() if name not in ("balance", "id", "customer_id")}
    ref, name = body.get("ref"), body.get("name")
    parsed: CardCreate | None = None
    if body.keys() <= {"ref", "name"} and all(_short_text(value) for value in (ref, name)):
        pass  # valid, as the model would find it (a fast path: most rows of a big file have a card)
    else:
        try:
            parsed = parse_model(CardCreate, {**body, "customer_id": ""})
            ref, name = parsed.ref, parsed.name
        except ValidationFailed as exc:
            errors += _renamed(exc.errors or [], fields)
    balance = values.get("balance")
    micro = 0
    if balance is not None:
        try:
            micro = int(_POINTS.validate_python(balance).scaleb(6))
        except ValidationError as exc:
            found = validation_failed(exc.errors(include_url=False)).errors or []
            errors += _renamed(found, {"body": fields["balance"]})
    if errors:
        return None, errors
    return Card(ref, name, micro, fields["ref"]), []


def _short_text(value: Any) -> bool:
    """What CardCreate's ``Str255 | None`` accepts."""
    return value is None or (type(value) is str and len(value) <= 255)


def _row(
    line: int,
    body: dict[str, Any],
    cards: list[tuple[dict[str, Any], dict[str, str]]],
    errors: list[dict[str, str]],
    key: str,
    context: dict[str, Any],
) -> Row:
    """The body validated as a create is, then the cards; every error found at once (a ``ValidationFailed``).
    The caller has checked the text (``check_object``) of everything sent."""
    fields = None
    values: dict[str, Any] = {}
    try:
        fields = parse_model(CustomerCreate, body, context)
        for name in fields.model_fields_set:
            values[name] = getattr(fields, name)
        sent_custom_fields = values.get("custom_fields", {})
        if sent_custom_fields != {}:  # {} is stored as it is: no merge needed
            values["custom_fields"] = custom_fields.merge({}, sent_custom_fields, reset=True)
    except ValidationFailed as exc:
        errors += exc.errors or []
    parsed_cards = []
    refs: set[str | None] = set()
    for card_values, names in cards:
        card, card_errors = _card(card_values, names)
        errors += card_errors
        if card is not None:
            if card.ref in refs:
                errors.append({"field": names["ref"], "message": NULL_REF_TAKEN if card.ref is None else REF_TAKEN})
            refs.add(card.ref)
            parsed_cards.append(card)
    key_value = values.get(key)
    if fields is not None and key_value is None:
        errors.append({"field": key, "message": f"can't be blank: it is the match key (--key {key})"})
    if errors or key_value is None:
        raise ValidationFailed(errors)
    sets_private_ref = "private_ref" in values
    private_ref = values.pop("private_ref", None)
    return Row(
        line, key_value.lower() if key == "email" else key_value, values, sets_private_ref, private_ref, parsed_cards
    )


def _custom_fields_cell(text: str, errors: list[dict[str, str]]) -> Any:
    if text == "{}":  # what most rows hold: what parse_json would make of it
        return {}
    try:
        return parse_json(text)
    except (ValueError, RecursionError) as exc:
        errors.append({"field": "custom_fields", "message": f"is not valid JSON ({exc})"})
        return None


def _boolean_cell(text: str) -> Any:
    word = text.strip().lower()
    # Anything else goes to the model as the text it is: the API's message for a non-boolean.
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else text


# What a CSV column is to the import.
_PLAIN, _BOOLEAN, _CUSTOM_FIELDS, _CARD, _IGNORED = range(5)
_CARD_NAMES = {"ref": "loyalty_card_ref", "name": "loyalty_card_name", "balance": "balance"}


class CsvRows:
    """Makes rows of a CSV file's records, for one header. ``private_refs`` says whether the private_ref column
    is read (a ``--client`` was given) or ignored."""

    def __init__(self, header: list[str], *, key: str, private_refs: bool, context: dict[str, Any]):
        self.key = key
        self.context = context
        self.columns: list[tuple[str, int]] = []
        for name in header:
            if name in CARD_COLUMNS:
                kind = _CARD
            elif name in READ_ONLY_COLUMNS or (name == "private_ref" and not private_refs):
                kind = _IGNORED
            elif name in BOOLEAN_COLUMNS:
                kind = _BOOLEAN
            elif name == "custom_fields":
                kind = _CUSTOM_FIELDS
            else:
                kind = _PLAIN
            self.columns.append((name, kind))

    def row(self, line: int, cells: list[str]) -> Row:
        """A record (as many cells as the header) as a row."""
        body: dict[str, Any] = {}
        card: dict[str, Any] = {}
        errors: list[dict[str, str]] = []
        for (name, kind), text in zip(self.columns, cells, strict=True):
            if kind == _PLAIN:
                body[name] = text if text != "" else None
            elif kind == _CARD:
                if text != "":
                    card[name] = text
            elif kind == _IGNORED:
                continue
            elif text == "":  # an empty boolean is absent: false on a new customer, kept otherwise
                if kind == _CUSTOM_FIELDS:
                    body[name] = None
            elif kind == _BOOLEAN:
                body[name] = _boolean_cell(text)
            else:
                body[name] = _custom_fields_cell(text, errors)
        # What any body is checked for first (NUL characters, nesting, numbers out of range), cards included.
        # Cells are text decoded from UTF-8 (no lone surrogate): only a NUL or the custom_fields' JSON can fail.
        if "\x00" in "".join(cells):
            check_object({**body, **card})
        else:
            sent = body.get("custom_fields")
            if isinstance(sent, dict | list) and sent:
                check_object({"custom_fields": sent})
        cards = []
        if card:
            values = {"ref": card.get("loyalty_card_ref"), "name": card.get("loyalty_card_name")}
            if "balance" in card:
                values["balance"] = card["balance"]
            cards.append((values, _CARD_NAMES))
        return _row(line, body, cards, errors, self.key, self.context)


_IGNORED_KEYS = frozenset(READ_ONLY) - {"loyalty_cards"}


def from_ndjson(line: int, data: Any, *, key: str, private_refs: bool, context: dict[str, Any]) -> Row:
    """An NDJSON line's object as a row (the customer as the API renders it; read-only fields ignored)."""
    if not isinstance(data, dict):
        raise ValidationFailed([{"field": "line", "message": "must be a JSON object"}])
    check_object(data)
    body = {name: value for name, value in data.items() if name not in _IGNORED_KEYS}
    if not private_refs:
        body.pop("private_ref", None)
    sent_cards = body.pop("loyalty_cards", None)
    errors: list[dict[str, str]] = []
    cards = []
    if sent_cards is not None and not isinstance(sent_cards, list):
        errors.append({"field": "loyalty_cards", "message": "must be a list of loyalty cards"})
    for index, sent in enumerate(sent_cards if isinstance(sent_cards, list) else []):
        where = f"loyalty_cards.{index}"
        if not isinstance(sent, dict):
            errors.append({"field": where, "message": "must be a JSON object"})
            continue
        names = {name: f"{where}.{name}" for name in ("ref", "name", "balance")}
        names.update({name: f"{where}.{name}" for name in sent})
        cards.append((sent, names))
    return _row(line, body, cards, errors, key, context)
