"""Customers (seed §2.1-2.5, SPEC §5, §7): create, retrieve, update, anonymise, and every field's rules.

Searching and paging through customers is in test_customers_search.py.
"""

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from helpers import ANONYMISED_FIELDS, Api, Tenant, make_tenant
from patronage.app import create_app
from patronage.settings import Settings
from patronage.tenancy import service as tenancy

WRITE = "location[all_customer_lists.write]"

# The seed's create example (§2.3), with every remaining field set too.
CHARLES = {
    "private_ref": "2213312",
    "email": "charles.moore@dummy-mail.org",
    "first_name": "Charles",
    "last_name": "Moore",
    "gender": "male",
    "birth_date": "1999-01-01",
    "company_name": "HubRise",
    "phone": "+44123456789",
    "phone_access_code": "8888",
    "address_1": "1 avenue des Champs Elysées",
    "address_2": None,
    "postal_code": "75001",
    "city": "Paris",
    "state": None,
    "country": "FR",
    "latitude": "48.8589507",
    "longitude": "2.2770205",
    "delivery_notes": "Code 1234, 2nd floor",
    "sms_marketing": True,
    "email_marketing": False,
    "custom_fields": {"vip": True, "preferences": {"drinks": ["tea", "coffee"], "table": 12}},
}

# Every key of the customer resource (seed §2.1), in the seed's order.
CUSTOMER_KEYS = [
    "id",
    "customer_list_id",
    "anonymised",
    "private_ref",
    "email",
    "first_name",
    "last_name",
    "gender",
    "birth_date",
    "created_at",
    "company_name",
    "phone",
    "phone_access_code",
    "address_1",
    "address_2",
    "postal_code",
    "city",
    "state",
    "country",
    "latitude",
    "longitude",
    "delivery_notes",
    "sms_marketing",
    "email_marketing",
    "nb_orders",
    "order_total",
    "first_order_date",
    "last_order_date",
    "loyalty_cards",
    "custom_fields",
]


async def _setup(tenant: Tenant, scope: str = WRITE) -> tuple[Api, str]:
    """A connection and the path of a fresh location-level list's customers."""
    api = await tenant.api(scope)
    list_id = await tenant.customer_list()
    return api, f"/v1/customer_lists/{list_id}/customers"


async def _create(api: Api, customers: str, **fields: Any) -> dict[str, Any]:
    response = await api.post(customers, json=fields)
    assert response.status_code == 201, response.text
    return response.json()


def _assert_422(response: Any, field: str) -> None:
    """A validation error in the contract's shape (SPEC §2), naming ``field``."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error_type"] == "unprocessable_entity"
    assert body["message"] == "Validation failed"
    assert isinstance(body["errors"], list) and body["errors"]
    for error in body["errors"]:
        assert set(error) == {"field", "message"} and isinstance(error["message"], str) and error["message"]
    assert field in [error["field"] for error in body["errors"]], body


# --- create and retrieve -----------------------------------------------------------------------------------


async def test_create_with_every_field_and_retrieve(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    before = datetime.now(UTC).replace(microsecond=0)
    response = await api.post(customers, json=CHARLES)
    assert response.status_code == 201
    created = response.json()
    assert list(created) == CUSTOMER_KEYS
    expected = {key: value for key, value in CHARLES.items()}
    assert {key: created[key] for key in expected} == expected
    assert created["customer_list_id"] == customers.split("/")[3]
    assert created["anonymised"] is False
    assert isinstance(created["id"], str) and created["id"].isalnum() and created["id"] == created["id"].lower()
    assert before <= datetime.fromisoformat(created["created_at"]) <= datetime.now(UTC) + timedelta(seconds=1)
    # Order statistics with no order, in the list's currency (SPEC §7).
    assert created["nb_orders"] == 0
    assert created["order_total"] == "0.00 EUR"
    assert created["first_order_date"] is None and created["last_order_date"] is None
    assert created["loyalty_cards"] == []

    retrieved = await api.get(f"{customers}/{created['id']}")
    assert retrieved.status_code == 200
    assert retrieved.json() == created


async def test_a_customer_may_be_created_with_no_information(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    for body in ({}, None):  # an empty object, and no body at all
        response = await api.post(customers, json=body) if body is not None else await api.post(customers)
        assert response.status_code == 201, response.text
        customer = response.json()
        assert list(customer) == CUSTOMER_KEYS
        for key in CUSTOMER_KEYS:
            if key in ("id", "customer_list_id", "created_at"):
                assert customer[key]
            elif key in ("anonymised", "sms_marketing", "email_marketing"):
                assert customer[key] is False, key  # marketing flags default to false (seed §2.3)
            elif key == "nb_orders":
                assert customer[key] == 0
            elif key == "order_total":
                assert customer[key] == "0.00 EUR"
            elif key == "loyalty_cards":
                assert customer[key] == []
            elif key == "custom_fields":
                assert customer[key] == {}
            else:
                assert customer[key] is None, key
        assert (await api.get(f"{customers}/{customer['id']}")).json() == customer


async def test_each_create_makes_a_new_customer(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    first = await _create(api, customers, email="same@example.com")
    second = await _create(api, customers, email="same@example.com")
    assert first["id"] != second["id"]
    assert {c["id"] for c in (await api.get(customers)).json()} == {first["id"], second["id"]}


async def test_order_total_is_in_the_currency_of_the_list(tenant: Tenant, other_tenant: Tenant) -> None:
    # other_tenant's account is in GBP; an account-level list takes the account's currency.
    api = await other_tenant.api("account[all_customer_lists.write]")
    list_id = await other_tenant.customer_list(location_id=None)
    customer = await _create(api, f"/v1/customer_lists/{list_id}/customers")
    assert customer["order_total"] == "0.00 GBP"


# --- times -------------------------------------------------------------------------------------------------


def _assert_in_zone(rendered: str, zone: str) -> None:
    moment = datetime.fromisoformat(rendered)
    assert moment.utcoffset() == moment.astimezone(ZoneInfo(zone)).utcoffset(), (rendered, zone)
    assert abs(moment - datetime.now(UTC)) < timedelta(minutes=1)


async def test_created_at_is_rendered_in_the_timezone_of_the_location(tenant: Tenant) -> None:
    async with tenant.db.session(write=True) as session:
        account = await tenancy.get_account(session, tenant.account_id)
        tokyo = await tenancy.create_location(session, account, "Tokyo Ginza", timezone="Asia/Tokyo")
    list_id = await tenant.customer_list(location_id=tokyo.id)
    api = await tenant.api(WRITE, location_id=tokyo.id)
    customer = await _create(api, f"/v1/customer_lists/{list_id}/customers")
    assert customer["created_at"].endswith("+09:00")  # Japan has no daylight saving time
    _assert_in_zone(customer["created_at"], "Asia/Tokyo")

    # The same account's Paris location, and an account-level list (the account's timezone, Paris).
    paris_api, paris = await _setup(tenant)
    _assert_in_zone((await _create(paris_api, paris))["created_at"], "Europe/Paris")
    account_api = await tenant.api("account[all_customer_lists.write]")
    account_list = await tenant.customer_list(location_id=None)
    account_customer = await _create(account_api, f"/v1/customer_lists/{account_list}/customers")
    _assert_in_zone(account_customer["created_at"], "Europe/Paris")
    # The account-level connection reads Tokyo's customer with Tokyo's offset too: the list decides.
    seen = await account_api.get(f"/v1/customer_lists/{list_id}/customers/{customer['id']}")
    assert seen.json()["created_at"] == customer["created_at"]


async def test_created_at_is_to_the_second(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    rendered = (await _create(api, customers))["created_at"]
    assert datetime.fromisoformat(rendered).microsecond == 0
    assert len(rendered) == len("2020-01-18T17:12:02+02:00")


# --- update: PATCH and PUT ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
async def test_update_changes_only_the_fields_sent(tenant: Tenant, method: str) -> None:
    api, customers = await _setup(tenant)
    created = await _create(api, customers, **CHARLES)
    response = await api.request(method, f"{customers}/{created['id']}", json={"first_name": "Claude"})
    assert response.status_code == 200
    updated = response.json()
    assert updated == {**created, "first_name": "Claude"}
    assert (await api.get(f"{customers}/{created['id']}")).json() == updated


async def test_update_every_field(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    created = await _create(api, customers, **CHARLES)
    changes = {
        "private_ref": "other-ref",
        "email": "Claude.Moore@Example.com",
        "first_name": "Claude",
        "last_name": "Moreau",
        "gender": "female",
        "birth_date": "2000-02-29",
        "company_name": None,
        "phone": "+33612345678",
        "phone_access_code": None,
        "address_1": "2 rue de Rivoli",
        "address_2": "Bâtiment B",
        "postal_code": "75004",
        "city": "Lyon",
        "state": "Rhône",
        "country": "gb",
        "latitude": -33.8688,
        "longitude": "-151.2093",
        "delivery_notes": None,
        "sms_marketing": False,
        "email_marketing": True,
    }
    response = await api.patch(f"{customers}/{created['id']}", json=changes)
    assert response.status_code == 200, response.text
    updated = response.json()
    # The email keeps its case; the country is stored upper-case; decimals are strings (README).
    assert updated == {
        **created,
        **changes,
        "country": "GB",
        "latitude": "-33.8688",
        "custom_fields": CHARLES["custom_fields"],
    }
    assert (await api.get(f"{customers}/{created['id']}")).json() == updated


async def test_null_clears_a_field(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    created = await _create(api, customers, **CHARLES)
    nullable = [key for key in CHARLES if key not in ("sms_marketing", "email_marketing", "custom_fields")]
    response = await api.put(f"{customers}/{created['id']}", json=dict.fromkeys(nullable))
    assert response.status_code == 200, response.text
    updated = response.json()
    for key in nullable:
        assert updated[key] is None, key
    assert updated["sms_marketing"] is True and updated["custom_fields"] == CHARLES["custom_fields"]
    listed = (await api.get(customers, params={"private_ref": CHARLES["private_ref"]})).json()
    assert listed == []  # the private ref is gone, not just hidden


async def test_what_was_read_can_be_sent_back(tenant: Tenant) -> None:
    """Read-only fields echoed with their current value are ignored (SPEC §7)."""
    api, customers = await _setup(tenant)
    created = await _create(api, customers, **CHARLES)
    list_id = customers.split("/")[3]
    card = await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": created["id"]})
    assert card.status_code == 201
    read = (await api.get(f"{customers}/{created['id']}")).json()
    assert read["loyalty_cards"] == [{"id": card.json()["id"], "ref": None, "name": None, "balance": "0.0"}]
    for method in ("PUT", "PATCH"):
        response = await api.request(method, f"{customers}/{created['id']}", json={**read, "city": method})
        assert response.status_code == 200, response.text
        assert response.json() == {**read, "city": method}
    # Decimal-valued read-only fields may come back as numbers.
    echoed = await api.patch(f"{customers}/{created['id']}", json={"nb_orders": 0, "order_total": "0.00 EUR"})
    assert echoed.status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "abcdefghij"),
        ("customer_list_id", "zzzzzzzzzz"),
        ("anonymised", True),
        ("created_at", "2020-01-18T17:12:02+02:00"),
        ("nb_orders", 3),
        ("order_total", "28.40 EUR"),
        ("first_order_date", "2020-01-18T17:15:11+02:00"),
        ("last_order_date", "2020-01-23T10:13:21+02:00"),
        ("loyalty_cards", [{"id": "slp8q", "ref": None, "name": None, "balance": "13.5"}]),
    ],
)
async def test_read_only_fields_may_not_be_changed_or_set_on_create(tenant: Tenant, field: str, value: Any) -> None:
    api, customers = await _setup(tenant)
    created = await _create(api, customers, first_name="Ann")
    changed = await api.patch(f"{customers}/{created['id']}", json={field: value, "first_name": "Bob"})
    _assert_422(changed, field)
    assert (await api.get(f"{customers}/{created['id']}")).json() == created  # nothing was applied
    # On a create, even the value a new customer would have is refused.
    current = created[field] if field != "id" else "abcdefghij"
    _assert_422(await api.post(customers, json={field: current}), field)
    assert len((await api.get(customers)).json()) == 1


async def test_update_of_an_unknown_customer_is_404(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    for method in ("GET", "PATCH", "PUT"):
        response = await api.request(method, f"{customers}/nope123456", json={} if method != "GET" else None)
        assert response.status_code == 404, method
        assert response.json()["error_type"] == "not_found"
    response = await api.post(f"{customers}/nope123456/anonymise")
    assert response.status_code == 404


async def test_method_override_on_post(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    created = await _create(api, customers, first_name="Ann")
    for method in ("PUT", "PATCH"):
        response = await api.post(
            f"{customers}/{created['id']}", json={"last_name": method}, headers={"X-Http-Method-Override": method}
        )
        assert response.status_code == 200, response.text
        assert response.json()["last_name"] == method and response.json()["first_name"] == "Ann"


# --- validation --------------------------------------------------------------------------------------------

VALID = [
    ("email", "jimmy.watson@dummy-mail.org", "jimmy.watson@dummy-mail.org"),
    ("email", "o'brien+tag@sub.example.co.uk", "o'brien+tag@sub.example.co.uk"),
    ("email", "a" * 64 + "@" + "b" * 185 + ".com", "a" * 64 + "@" + "b" * 185 + ".com"),  # 254 characters
    ("gender", "female", "female"),
    ("birth_date", "2000-02-29", "2000-02-29"),
    ("birth_date", "1900-01-01", "1900-01-01"),
    ("phone", "+44123456789", "+44123456789"),  # the seed's own, a possible number
    ("phone", "+33612345678", "+33612345678"),
    ("phone", "+14155552671", "+14155552671"),
    # National and loosely written numbers, as HubRise still accepts them (SPEC §7): stored as sent.
    ("phone", "0123456789", "0123456789"),
    ("phone", "44123456789", "44123456789"),
    ("phone", "06 12 34 56 78", "06 12 34 56 78"),
    ("phone", "(555) 123-4567", "(555) 123-4567"),
    ("phone", "01.23.45.67.89", "01.23.45.67.89"),
    ("phone", "00 44 (0)20 7946", "00 44 (0)20 7946"),
    ("phone", "112", "112"),
    ("country", "gb", "GB"),
    ("country", "Fr", "FR"),
    ("latitude", "90", "90.0"),
    ("latitude", "-90.000", "-90.0"),
    ("latitude", 45.7571206, "45.7571206"),
    ("latitude", 0, "0.0"),
    ("latitude", "48.85895070", "48.8589507"),
    ("longitude", "-180", "-180.0"),
    ("longitude", 180, "180.0"),
    ("longitude", "4.8307575", "4.8307575"),
    ("first_name", "x" * 255, "x" * 255),
    ("first_name", "Zoë 李", "Zoë 李"),
    ("delivery_notes", "n" * 1000, "n" * 1000),
    ("sms_marketing", True, True),
    ("email_marketing", True, True),
]


@pytest.mark.parametrize(("field", "value", "rendered"), VALID)
async def test_valid_values_are_accepted(tenant: Tenant, field: str, value: Any, rendered: Any) -> None:
    api, customers = await _setup(tenant)
    created = await _create(api, customers, **{field: value})
    assert created[field] == rendered
    assert (await api.get(f"{customers}/{created['id']}")).json()[field] == rendered
    updated = await api.patch(f"{customers}/{(await _create(api, customers))['id']}", json={field: value})
    assert updated.status_code == 200 and updated.json()[field] == rendered


TOMORROW = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()

INVALID = [
    # wrong types
    ("first_name", 12),
    ("last_name", True),
    ("city", ["Paris"]),
    ("state", {"name": "x"}),
    ("private_ref", 2213312),
    ("sms_marketing", "true"),
    ("sms_marketing", 1),
    ("email_marketing", "false"),
    ("email_marketing", 0),
    ("sms_marketing", None),
    ("custom_fields", []),
    ("custom_fields", "vip"),
    # lengths
    ("first_name", "x" * 256),
    ("company_name", "x" * 256),
    ("private_ref", "r" * 256),
    ("phone_access_code", "1" * 256),
    ("delivery_notes", "n" * 1001),
    # email
    ("email", "not-an-email"),
    ("email", "two@@example.com"),
    ("email", "a@b@example.com"),
    ("email", "john doe@example.com"),
    ("email", " john@example.com"),
    ("email", "@example.com"),
    ("email", "john@"),
    ("email", ""),
    ("email", "a" * 65 + "@" + "b" * 185 + ".com"),  # 255 characters
    ("email", 42),
    # gender
    ("gender", "Male"),
    ("gender", "other"),
    ("gender", ""),
    ("gender", 1),
    # birth_date
    ("birth_date", "1999-02-29"),
    ("birth_date", "1999-13-01"),
    ("birth_date", "1999-1-1"),
    ("birth_date", "01/01/1999"),
    ("birth_date", "1999-01-01T00:00:00"),
    ("birth_date", "0000-01-01"),
    ("birth_date", ""),
    ("birth_date", 19990101),
    ("birth_date", TOMORROW),
    # phone
    ("phone", "+44 20 7946 0123"),  # starts with +: must be E.164
    ("phone", "06 12 AB 56 78"),
    ("phone", "call me"),
    ("phone", "12"),  # fewer than 3 digits
    ("phone", "1" * 33),  # over 32 characters
    ("phone", "06_12_34"),
    ("phone", "06/12/34"),
    ("phone", "+44-123456789"),
    ("phone", "+1234567"),  # 7 digits
    ("phone", "+1234567890123456"),  # 16 digits
    ("phone", "+999123456789"),  # no such country code
    ("phone", "+4412"),
    ("phone", ""),
    ("phone", 44123456789),
    # country
    ("country", "XX"),
    ("country", "FRA"),
    ("country", "F"),
    ("country", ""),
    ("country", "France"),
    ("country", 33),
    # latitude / longitude
    ("latitude", "90.0000001"),
    ("latitude", "-91"),
    ("latitude", 100),
    ("latitude", "north"),
    ("latitude", ""),
    ("latitude", "NaN"),
    ("latitude", "Infinity"),
    ("latitude", True),
    ("latitude", [48.8]),
    ("longitude", "180.5"),
    ("longitude", -181),
    ("longitude", "1,5"),
    # unknown fields
    ("nickname", "Chuck"),
    ("Email", "charles@example.com"),
    ("phone_number", "+44123456789"),
]


@pytest.mark.parametrize("phone", ["06 12 34 56 78", "0612345678", "(555) 123-4567"])
async def test_strict_phones_refuse_all_but_e164(settings: Settings, phone: str) -> None:
    app = create_app(settings.model_copy(update={"strict_phones": True}))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            tenant = await make_tenant(app.state.db, http)
            api, customers = await _setup(tenant)
            _assert_422(await api.post(customers, json={"phone": phone}), "phone")
            assert (await api.post(customers, json={"phone": "+33612345678"})).status_code == 201
    finally:
        await app.state.db.dispose()


async def test_phone_search_matches_the_stored_text(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    national = await _create(api, customers, phone="06 12 34 56 78")
    e164 = await _create(api, customers, phone="+33612345678")
    assert [c["id"] for c in (await api.get(customers, params={"phone": "+33*"})).json()] == [e164["id"]]
    assert [c["id"] for c in (await api.get(customers, params={"phone": "06 12*"})).json()] == [national["id"]]
    assert [c["id"] for c in (await api.get(customers, params={"phone": "*56 78"})).json()] == [national["id"]]


@pytest.mark.parametrize(("field", "value"), INVALID)
async def test_invalid_values_are_422_naming_the_field(tenant: Tenant, field: str, value: Any) -> None:
    api, customers = await _setup(tenant)
    _assert_422(await api.post(customers, json={"city": "Elsewhere", field: value}), field)
    assert (await api.get(customers)).json() == []  # nothing was created
    created = await _create(api, customers, **CHARLES)
    _assert_422(await api.patch(f"{customers}/{created['id']}", json={"city": "Elsewhere", field: value}), field)
    _assert_422(await api.put(f"{customers}/{created['id']}", json={field: value}), field)
    assert (await api.get(f"{customers}/{created['id']}")).json() == created  # nothing was changed


async def test_several_invalid_fields_are_all_named(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    response = await api.post(customers, json={"email": "nope", "phone": "12", "gender": "x", "color": "red"})
    assert response.status_code == 422
    assert {error["field"] for error in response.json()["errors"]} == {"email", "phone", "gender", "color"}


async def test_a_birth_date_of_today_is_not_in_the_future(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    for day in (datetime.now(UTC).date(), datetime.now(UTC).date() - timedelta(days=1)):
        assert (await _create(api, customers, birth_date=day.isoformat()))["birth_date"] == day.isoformat()


@pytest.mark.parametrize(
    "value",
    ["1e-999999999", "-1E-400", "0." + "0" * 100 + "1", "1" + "0" * 100, "1e999999999", "0." + "1" * 40],
)
async def test_extreme_coordinates_are_refused_quickly(tenant: Tenant, value: str) -> None:
    """Decimals with huge exponents or too many digits: a 422, never a hang or a 500."""
    api, customers = await _setup(tenant)
    started = time.monotonic()
    for field in ("latitude", "longitude"):
        _assert_422(await api.post(customers, json={field: value}), field)
        raw = f'{{"{field}": {value}}}'.encode()  # the same as a JSON number
        response = await api.post(customers, content=raw, headers={"Content-Type": "application/json"})
        _assert_422(response, field)
    assert time.monotonic() - started < 2  # "1e-999999999" took seconds and a gigabyte per request


async def test_coordinates_keep_their_exact_digits(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    raw = b'{"latitude": 45.75712061234567890123, "longitude": -0.00000010}'
    response = await api.post(customers, content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["latitude"] == "45.75712061234567890123"
    assert response.json()["longitude"] == "-0.0000001"
    zero = await _create(api, customers, latitude="-0.0", longitude="-0")
    assert (zero["latitude"], zero["longitude"]) == ("0.0", "0.0")
    # Zero is zero whatever its exponent (JSON numbers may have one; strings may not); trailing zeros don't
    # count as digits.
    for raw, expected in [
        (b'{"latitude": 0E-999999999, "longitude": 0E+999999999}', ("0.0", "0.0")),
        (
            b'{"latitude": 1' + b"0" * 60 + b'E-60, "longitude": "-0.000000000000000000000001"}',
            ("1.0", "-0.000000000000000000000001"),
        ),
    ]:
        response = await api.post(customers, content=raw, headers={"Content-Type": "application/json"})
        assert response.status_code == 201, response.text
        assert (response.json()["latitude"], response.json()["longitude"]) == expected


@pytest.mark.parametrize(
    "text", ["1_000", "\u0661\u0662", " 12.5", "12.5 ", "NaN", "Infinity", "-inf", "1e3", "1..2", "+-1", ""]
)
async def test_decimal_strings_follow_the_contract_syntax(tenant: Tenant, text: str) -> None:
    api, customers = await _setup(tenant)
    response = await api.post(customers, json={"latitude": text, "email": "decimal@example.com"})
    _assert_422(response, "latitude")
    listed = await api.get(customers, params={"email": "decimal@example.com"})
    assert listed.json() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"first_name": "a\x00b"}, "first_name"),
        ({"email": "a\x00b@example.com"}, "email"),
        ({"private_ref": "\x00"}, "private_ref"),
        ({"delivery_notes": "x\x00"}, "delivery_notes"),
        ({"custom_fields": {"notes": ["ok", "a\x00b"]}}, "custom_fields.notes.1"),
        ({"custom_fields": {"a\x00b": 1}}, "custom_fields.ab"),
    ],
)
async def test_a_nul_character_is_a_422_not_a_500(tenant: Tenant, body: dict[str, Any], field: str) -> None:
    # PostgreSQL can't store U+0000 in text: refused on both databases alike, naming where it hides.
    api, customers = await _setup(tenant)
    _assert_422(await api.post(customers, json=body), field)
    created = await _create(api, customers)
    _assert_422(await api.patch(f"{customers}/{created['id']}", json=body), field)
    assert [c["id"] for c in (await api.get(customers)).json()] == [created["id"]]


# --- custom fields -----------------------------------------------------------------------------------------


async def test_custom_fields_hold_any_json_and_merge_on_update(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    fields = {
        "vip": True,
        "tier": "gold",
        "visits": 12,
        "ratio": 0.5,
        "tags": ["a", {"b": [1, 2, None]}],
        "nested": {"deep": {"deeper": {"value": "x"}}},
        "nothing": [],
        "unicode": "Zoë \u2603 \U0001f600",
    }
    created = await _create(api, customers, custom_fields=fields)
    assert created["custom_fields"] == fields
    path = f"{customers}/{created['id']}"
    assert (await api.get(path)).json()["custom_fields"] == fields

    # Keys sent are set, keys sent as null removed, keys not sent kept (SPEC §5).
    merged = await api.patch(path, json={"custom_fields": {"tier": "platinum", "vip": None, "new": {"k": 1}}})
    assert merged.status_code == 200
    expected = {**fields, "tier": "platinum", "new": {"k": 1}}
    del expected["vip"]
    assert merged.json()["custom_fields"] == expected
    # A nested object is replaced as a whole, not merged.
    nested = await api.put(path, json={"custom_fields": {"nested": {"other": 1}}})
    assert nested.json()["custom_fields"]["nested"] == {"other": 1}
    # Sending other fields leaves custom fields alone; an empty object changes nothing.
    assert (await api.patch(path, json={"city": "Paris"})).json()["custom_fields"] == nested.json()["custom_fields"]
    assert (await api.patch(path, json={"custom_fields": {}})).json()["custom_fields"] == nested.json()["custom_fields"]
    # null for the whole object clears them all (README).
    cleared = await api.patch(path, json={"custom_fields": None})
    assert cleared.status_code == 200 and cleared.json()["custom_fields"] == {}
    assert (await api.get(path)).json()["custom_fields"] == {}


async def test_custom_fields_removing_an_unknown_key_and_null_on_create(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    assert (await _create(api, customers, custom_fields=None))["custom_fields"] == {}
    created = await _create(api, customers, custom_fields={"a": 1, "b": None})
    assert created["custom_fields"] == {"a": 1}
    updated = await api.patch(f"{customers}/{created['id']}", json={"custom_fields": {"zzz": None}})
    assert updated.json()["custom_fields"] == {"a": 1}


async def test_custom_fields_may_not_exceed_8_kib(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    # {"k":"..."} serialized compactly: 8 bytes of punctuation and key around the value.
    at_limit = {"k": "x" * (8192 - 8)}
    created = await _create(api, customers, custom_fields=at_limit)
    assert created["custom_fields"] == at_limit
    _assert_422(await api.post(customers, json={"custom_fields": {"k": "x" * (8192 - 7)}}), "custom_fields")
    # Multi-byte characters count in bytes.
    _assert_422(await api.post(customers, json={"custom_fields": {"k": "é" * 4100}}), "custom_fields")
    # The merged result counts: a small addition to a full object is refused, and nothing changes.
    path = f"{customers}/{created['id']}"
    _assert_422(await api.patch(path, json={"custom_fields": {"more": 1}}), "custom_fields")
    assert (await api.get(path)).json()["custom_fields"] == at_limit
    # ...while replacing the big value with a small one is fine.
    smaller = await api.patch(path, json={"custom_fields": {"k": None, "more": 1}})
    assert smaller.status_code == 200 and smaller.json()["custom_fields"] == {"more": 1}


async def test_custom_fields_nesting_is_limited_not_a_500(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    json_header = {"Content-Type": "application/json"}

    def nested(levels: int) -> bytes:  # custom_fields itself is the first level
        return ('{"custom_fields": {"k": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}}").encode()

    deepest = await api.post(customers, content=nested(32), headers=json_header)
    assert deepest.status_code == 201, deepest.text
    path = f"{customers}/{deepest.json()['id']}"
    assert (await api.get(path)).json()["custom_fields"] == deepest.json()["custom_fields"]
    # Deeper, yet well under 8 KiB: a few hundred levels used to overflow the stack (a 500).
    for levels in (33, 300, 600, 900):
        _assert_422(await api.post(customers, content=nested(levels), headers=json_header), "custom_fields")
        _assert_422(await api.patch(path, content=nested(levels), headers=json_header), "custom_fields")
    # Deeper than the JSON parser goes: a malformed body.
    assert (await api.post(customers, content=nested(5000), headers=json_header)).status_code == 400


# --- private refs ------------------------------------------------------------------------------------------


async def test_private_refs_are_per_client(tenant: Tenant) -> None:
    list_id = await tenant.customer_list()
    customers = f"/v1/customer_lists/{list_id}/customers"
    pos = await tenant.api(WRITE)
    other_client = await tenant.new_client("Loyalty app")
    app = await tenant.api(WRITE, client_id=other_client)

    created = await _create(pos, customers, private_ref="POS-1", first_name="Ann")
    path = f"{customers}/{created['id']}"
    assert created["private_ref"] == "POS-1"
    # The other client reads null, in the customer and in the list...
    assert (await app.get(path)).json()["private_ref"] is None
    assert [c["private_ref"] for c in (await app.get(customers)).json()] == [None]
    # ...cannot find the customer by the first client's ref...
    assert (await app.get(customers, params={"private_ref": "POS-1"})).json() == []
    # ...and may set its own, even the same string, without touching the first client's.
    mine = await app.patch(path, json={"private_ref": "POS-1"})
    assert mine.status_code == 200 and mine.json()["private_ref"] == "POS-1"
    changed = await app.patch(path, json={"private_ref": "APP-9"})
    assert changed.json()["private_ref"] == "APP-9"
    assert (await pos.get(path)).json()["private_ref"] == "POS-1"
    assert [c["id"] for c in (await app.get(customers, params={"private_ref": "APP-9"})).json()] == [created["id"]]
    assert (await pos.get(customers, params={"private_ref": "APP-9"})).json() == []
    assert [c["id"] for c in (await pos.get(customers, params={"private_ref": "POS-1"})).json()] == [created["id"]]

    # Another connection of the same client shares the client's refs.
    same_client = await tenant.api("location[all_customer_lists.read]")
    assert (await same_client.get(path)).json()["private_ref"] == "POS-1"

    # Clearing one client's ref leaves the other's.
    assert (await app.patch(path, json={"private_ref": None})).json()["private_ref"] is None
    assert (await pos.get(path)).json()["private_ref"] == "POS-1"
    # A client that never set one can still update the customer without disturbing the other's ref.
    assert (await app.patch(path, json={"first_name": "Anna"})).json()["private_ref"] is None
    assert (await pos.get(path)).json() == {**(await app.get(path)).json(), "private_ref": "POS-1"}


async def test_a_private_ref_is_unique_within_the_list_for_a_client(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    first = await _create(api, customers, private_ref="R1")
    _assert_422(await api.post(customers, json={"private_ref": "R1", "first_name": "Dup"}), "private_ref")
    assert [c["id"] for c in (await api.get(customers)).json()] == [first["id"]]  # the failed create left nothing
    second = await _create(api, customers, private_ref="R2")
    _assert_422(await api.patch(f"{customers}/{second['id']}", json={"private_ref": "R1"}), "private_ref")
    assert (await api.get(f"{customers}/{second['id']}")).json()["private_ref"] == "R2"
    # Re-sending one's own ref is fine; after it is freed, another customer may take it.
    assert (await api.patch(f"{customers}/{first['id']}", json={"private_ref": "R1"})).status_code == 200
    assert (await api.patch(f"{customers}/{first['id']}", json={"private_ref": "R9"})).status_code == 200
    assert (await api.patch(f"{customers}/{second['id']}", json={"private_ref": "R1"})).json()["private_ref"] == "R1"
    # The same ref in another list is another matter.
    other_list = await tenant.customer_list()
    other = await _create(api, f"/v1/customer_lists/{other_list}/customers", private_ref="R1")
    assert other["private_ref"] == "R1"


# --- anonymise ---------------------------------------------------------------------------------------------


async def test_anonymise_nulls_the_personal_fields(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    created = await _create(api, customers, **CHARLES)
    path = f"{customers}/{created['id']}"
    response = await api.post(f"{path}/anonymise")
    assert response.status_code == 200, response.text
    anonymised = response.json()
    assert list(anonymised) == CUSTOMER_KEYS
    expected = {**created, **dict.fromkeys(ANONYMISED_FIELDS), "anonymised": True}
    # Kept: city, state, country, the marketing flags, custom fields, private ref, and the statistics.
    assert anonymised == expected
    assert anonymised["city"] == "Paris" and anonymised["country"] == "FR" and anonymised["private_ref"] == "2213312"
    assert (await api.get(path)).json() == expected


async def test_anonymising_twice_is_a_no_op_success(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    created = await _create(api, customers, **CHARLES)
    path = f"{customers}/{created['id']}"
    first = await api.post(f"{path}/anonymise")
    again = await api.post(f"{path}/anonymise")
    assert again.status_code == 200
    assert again.json() == first.json()


async def test_anonymisation_is_irreversible_but_other_fields_still_update(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    created = await _create(api, customers, **CHARLES)
    path = f"{customers}/{created['id']}"
    anonymised = (await api.post(f"{path}/anonymise")).json()
    personal = {
        "email": "back@example.com",
        "first_name": "Charles",
        "last_name": "Moore",
        "gender": "male",
        "birth_date": "1999-01-01",
        "company_name": "HubRise",
        "phone": "+44123456789",
        "phone_access_code": "8888",
        "address_1": "1 avenue",
        "address_2": "Flat 2",
        "postal_code": "75001",
        "latitude": "48.8",
        "longitude": "2.2",
        "delivery_notes": "Ring twice",
    }
    assert set(personal) == set(ANONYMISED_FIELDS)
    others = {
        "city": "Lyon",
        "state": "Rhône",
        "country": "IT",
        "sms_marketing": False,
        "email_marketing": True,
        "private_ref": "after",
        "custom_fields": {"after": 1},
    }
    for method in ("PATCH", "PUT"):
        response = await api.request(method, path, json={**personal, **others})
        assert response.status_code == 200, response.text  # silently ignored (seed §2.5)
        updated = response.json()
        for field in ANONYMISED_FIELDS:
            assert updated[field] is None, field
        assert updated["anonymised"] is True
        assert {key: updated[key] for key in others if key != "custom_fields"} == {
            key: value for key, value in others.items() if key != "custom_fields"
        }
        assert updated["custom_fields"] == {**CHARLES["custom_fields"], "after": 1}
    # Sending anonymised: false back is a change of a read-only field, refused.
    _assert_422(await api.patch(path, json={"anonymised": False}), "anonymised")
    assert (await api.get(path)).json()["anonymised"] is True
    # The anonymised customer is no longer found by its old email or phone.
    assert (await api.get(customers, params={"email": CHARLES["email"]})).json() == []
    assert (await api.get(customers, params={"phone": "*6789"})).json() == []
    assert anonymised["id"] in [c["id"] for c in (await api.get(customers)).json()]


async def test_anonymised_customer_is_still_listed_and_found_by_private_ref(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    kept = await _create(api, customers, first_name="Kept", email="kept@example.com")
    gone = await _create(api, customers, **CHARLES)
    anonymised = (await api.post(f"{customers}/{gone['id']}/anonymise")).json()
    listed = (await api.get(customers)).json()
    assert listed == [anonymised, kept]
    assert (await api.get(customers, params={"private_ref": CHARLES["private_ref"]})).json() == [anonymised]
    assert (await api.get(customers, params={"email": "*"})).json() == [kept]


async def test_anonymise_ignores_a_body_but_checks_it(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    created = await _create(api, customers, **CHARLES)
    path = f"{customers}/{created['id']}/anonymise"
    bad = await api.post(path, content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    assert (await api.get(f"{customers}/{created['id']}")).json()["anonymised"] is False
    response = await api.post(path, json={"first_name": "ignored"})
    assert response.status_code == 200 and response.json()["first_name"] is None


# --- access ------------------------------------------------------------------------------------------------


async def test_another_tenants_lists_and_customers_are_404(tenant: Tenant, other_tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    customer = await _create(api, customers, **CHARLES)
    path = f"{customers}/{customer['id']}"
    for stranger in (
        await other_tenant.api("account[all_customer_lists.write]"),
        await other_tenant.api("location[all_customer_lists.write]"),
    ):
        for method, url, body in (
            ("GET", customers, None),
            ("POST", customers, {"first_name": "x"}),
            ("GET", path, None),
            ("PATCH", path, {"first_name": "x"}),
            ("PUT", path, {"first_name": "x"}),
            ("POST", f"{path}/anonymise", None),
        ):
            response = await stranger.request(method, url, json=body)
            assert response.status_code == 404, (method, url, response.text)
            assert response.json()["error_type"] == "not_found"
            assert "Charles" not in response.text
        # The stranger's own list does not open the door to our customer either.
        own_list = await other_tenant.customer_list(location_id=None)
        response = await stranger.get(f"/v1/customer_lists/{own_list}/customers/{customer['id']}")
        assert response.status_code == 404
    assert (await api.get(path)).json() == customer


async def test_a_customer_is_only_found_in_its_own_list(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    customer = await _create(api, customers)
    other_list = await tenant.customer_list()
    wrong = f"/v1/customer_lists/{other_list}/customers/{customer['id']}"
    assert (await api.get(wrong)).status_code == 404
    assert (await api.patch(wrong, json={"first_name": "x"})).status_code == 404
    assert (await api.post(f"{wrong}/anonymise")).status_code == 404
    assert (await api.get(f"{customers}/{customer['id']}")).json()["anonymised"] is False


async def test_a_bound_connection_sees_its_list_only(tenant: Tenant) -> None:
    bound_list = await tenant.customer_list()
    other_list = await tenant.customer_list()
    writer = await tenant.api(WRITE)
    hidden = await _create(writer, f"/v1/customer_lists/{other_list}/customers")
    bound = await tenant.api("location[customer_list.write]", customer_list_id=bound_list)
    created = await _create(bound, f"/v1/customer_lists/{bound_list}/customers", first_name="Ann")
    assert (await bound.get(f"/v1/customer_lists/{bound_list}/customers/{created['id']}")).status_code == 200
    assert (await bound.get(f"/v1/customer_lists/{other_list}/customers")).status_code == 404
    assert (await bound.get(f"/v1/customer_lists/{other_list}/customers/{hidden['id']}")).status_code == 404
    assert (await bound.post(f"/v1/customer_lists/{other_list}/customers", json={})).status_code == 404


async def test_a_read_scope_reads_but_cannot_write(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    customer = await _create(api, customers, **CHARLES)
    path = f"{customers}/{customer['id']}"
    list_id = customers.split("/")[3]
    for scope, kwargs in (
        ("location[all_customer_lists.read]", {}),
        ("location[customer_list.read]", {"customer_list_id": list_id}),
        ("account[all_customer_lists.read]", {}),
    ):
        reader = await tenant.api(scope, **kwargs)
        assert (await reader.get(path)).status_code == 200
        assert (await reader.get(customers)).status_code == 200
        for method, url, body in (
            ("POST", customers, {"first_name": "x"}),
            ("PATCH", path, {"first_name": "x"}),
            ("PUT", path, {"first_name": "x"}),
            ("POST", f"{path}/anonymise", None),
        ):
            response = await reader.request(method, url, json=body)
            assert response.status_code == 403, (scope, method, url)
            assert response.json()["error_type"] == "forbidden"
    assert (await api.get(path)).json() == customer
    assert len((await api.get(customers)).json()) == 1


async def test_a_scope_without_customer_lists_is_403_and_no_token_is_401(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    customer = await _create(api, customers)
    orders_only = await tenant.api("location[orders.write]")
    assert (await orders_only.get(f"{customers}/{customer['id']}")).status_code == 403
    assert (await orders_only.post(customers, json={})).status_code == 403
    anonymous = Api(api.http, None)
    response = await anonymous.get(customers)
    assert response.status_code == 401 and response.json()["error_type"] == "unauthorized"
    assert (await Api(api.http, "0" * 32).post(customers, json={})).status_code == 401


# --- request bodies ----------------------------------------------------------------------------------------


async def test_malformed_json_is_400(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    customer = await _create(api, customers, first_name="Ann")
    json_header = {"Content-Type": "application/json"}
    for raw in (b"{", b'{"first_name": "x",}', b"{'first_name': 'x'}", b'{"latitude": NaN}', b"\xff\xfe"):
        for method, url in (("POST", customers), ("PATCH", f"{customers}/{customer['id']}")):
            response = await api.request(method, url, content=raw, headers=json_header)
            assert response.status_code == 400, (raw, method, response.text)
            assert response.json()["error_type"] == "unprocessable_entity"
    assert len((await api.get(customers)).json()) == 1
    assert (await api.get(f"{customers}/{customer['id']}")).json() == customer


@pytest.mark.parametrize("body", [b"[]", b'[{"first_name": "x"}]', b'"x"', b"12", b"null", b"true"])
async def test_a_json_body_that_is_not_an_object_is_422(tenant: Tenant, body: bytes) -> None:
    api, customers = await _setup(tenant)
    customer = await _create(api, customers)
    for method, url in (("POST", customers), ("PUT", f"{customers}/{customer['id']}")):
        response = await api.request(method, url, content=body, headers={"Content-Type": "application/json"})
        _assert_422(response, "body")
    assert len((await api.get(customers)).json()) == 1


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_body_that_is_not_json_is_415(tenant: Tenant, content_type: str | None) -> None:
    api, customers = await _setup(tenant)
    customer = await _create(api, customers)
    headers = {"Content-Type": content_type} if content_type else {}
    for method, url in (("POST", customers), ("PATCH", f"{customers}/{customer['id']}")):
        response = await api.request(method, url, content=b'{"first_name": "x"}', headers=headers)
        assert response.status_code == 415, (method, response.text)
        assert response.json()["error_type"] == "unsupported_media_type"
    assert (await api.get(f"{customers}/{customer['id']}")).json()["first_name"] is None
    # A JSON media type with a charset, or a +json one, is JSON.
    for json_type in ("application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"):
        response = await api.post(customers, content=b'{"first_name": "y"}', headers={"Content-Type": json_type})
        assert response.status_code == 201, json_type


async def test_ids_that_cannot_exist_are_404_not_500(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    for customer_id in ("%00", "a%00b", "x" * 300, "%E2%98%83", "..%2F..", "'; DROP TABLE customer; --"):
        response = await api.get(f"{customers}/{customer_id}")
        assert response.status_code == 404, (customer_id, response.text)
        response = await api.patch(f"{customers}/{customer_id}", json={"first_name": "x"})
        assert response.status_code == 404, (customer_id, response.text)
        response = await api.post(f"{customers}/{customer_id}/anonymise")
        assert response.status_code == 404, (customer_id, response.text)
    for list_id in ("%00", "x" * 300):
        assert (await api.get(f"/v1/customer_lists/{list_id}/customers")).status_code == 404


# --- idempotency -------------------------------------------------------------------------------------------


async def test_idempotency_key_on_create(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    listener = await tenant.api(WRITE, client_id=await tenant.new_client("Listener"))
    subscribed = await listener.post("/v1/callback", json={"url": None, "events": {"customer": ["create"]}})
    assert subscribed.status_code == 200
    key = {"Idempotency-Key": "create-charles-1"}
    first = await api.post(customers, json=CHARLES, headers=key)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    again = await api.post(customers, json=dict(reversed(list(CHARLES.items()))), headers=key)
    assert again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert [c["id"] for c in (await api.get(customers)).json()] == [first.json()["id"]]
    # The same key with another body is refused, and creates nothing.
    other = await api.post(customers, json={**CHARLES, "first_name": "Charlie", "private_ref": None}, headers=key)
    _assert_422(other, "Idempotency-Key")
    assert len((await api.get(customers)).json()) == 1
    # Another key creates another customer.
    fresh = await api.post(customers, json={"first_name": "Dan"}, headers={"Idempotency-Key": "create-dan-1"})
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers
    assert len((await api.get(customers)).json()) == 2
    # A subscriber saw one customer.create per customer: the replay fired nothing.
    events = (await listener.get("/v1/callback/events")).json()
    assert sorted(e["customer_id"] for e in events if e["event_type"] == "create") == sorted(
        [first.json()["id"], fresh.json()["id"]]
    )


async def test_idempotency_key_on_anonymise(tenant: Tenant) -> None:
    api, customers = await _setup(tenant)
    created = await _create(api, customers, **CHARLES)
    path = f"{customers}/{created['id']}/anonymise"
    key = {"Idempotency-Key": "forget-charles"}
    first = await api.post(path, headers=key)
    assert first.status_code == 200 and first.json()["anonymised"] is True
    # Something changes in between: the replay still answers the first response, unchanged.
    assert (await api.patch(f"{customers}/{created['id']}", json={"city": "Rome"})).status_code == 200
    again = await api.post(path, headers=key)
    assert again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert again.json()["city"] == "Paris"
    # The same key on another customer's anonymise is another request: 422, and that customer is untouched.
    other = await _create(api, customers, **{**CHARLES, "private_ref": "other"})
    response = await api.post(f"{customers}/{other['id']}/anonymise", headers=key)
    _assert_422(response, "Idempotency-Key")
    assert (await api.get(f"{customers}/{other['id']}")).json()["anonymised"] is False


async def test_read_only_booleans_and_numbers_are_not_interchangeable(tenant: Tenant) -> None:
    api = await tenant.api("location[all_customer_lists.write]")
    list_id = await tenant.customer_list()
    customer = (await api.post(f"/v1/customer_lists/{list_id}/customers", json={"first_name": "Zed"})).json()
    path = f"/v1/customer_lists/{list_id}/customers/{customer['id']}"
    for body in ({"anonymised": 0}, {"nb_orders": False}, {"anonymised": False, "nb_orders": 0}):
        response = await api.patch(path, json=body)
        expected = 200 if body == {"anonymised": False, "nb_orders": 0} else 422
        assert response.status_code == expected, (body, response.text)
