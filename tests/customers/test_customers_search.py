"""Listing customers (seed §2.2, SPEC §3, §5, §7): filters with wildcards, private refs, and pages."""

import base64
from datetime import datetime, timedelta
from typing import Any

import pytest

from helpers import Api, Tenant
from patronage.customers.models import Customer
from patronage.db import utcnow
from patronage.ids import new_id
from patronage.pagination import encode_cursor

WRITE = "location[all_customer_lists.write]"

# Emails holding the characters SQL's LIKE treats as wildcards (and the escape character), in creation order.
PEOPLE = [
    ("jo_hn", "jo_hn@example.com", "+442079460123"),
    ("jo%hn", "jo%hn@example.com", "+442079466789"),
    ("joxhn", "joxhn@example.com", "+33612346789"),
    ("jo+tag", "jo+tag@example.com", "+44123456789"),
    ("john.doe", "JOHN.Doe@Example.COM", "+14155552671"),
    ("john.org", "john@example.org", None),
    ("bob", "bob@example.com", "+442079460000"),
    ("backslash", "a\\b@example.net", None),
    ("elodie", "Élodie@Exemple.fr", None),
    ("nobody", None, None),
]


async def _people(tenant: Tenant) -> tuple[Api, str, dict[str, str]]:
    """The people above in a fresh list; returns the connection, the customers path, and name -> id."""
    api = await tenant.api(WRITE)
    customers = f"/v1/customer_lists/{await tenant.customer_list()}/customers"
    ids = {}
    for name, email, phone in PEOPLE:
        response = await api.post(customers, json={"first_name": name, "email": email, "phone": phone})
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    return api, customers, ids


def _names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [customer["first_name"] for customer in response.json()]


def _newest_first(*names: str) -> list[str]:
    order = [name for name, _, _ in PEOPLE]
    return sorted(names, key=order.index, reverse=True)


# --- filters -----------------------------------------------------------------------------------------------

EMAIL_FILTERS = [
    # prefix, any case
    ("jo*", ["jo_hn", "jo%hn", "joxhn", "jo+tag", "john.doe", "john.org"]),
    ("JO*", ["jo_hn", "jo%hn", "joxhn", "jo+tag", "john.doe", "john.org"]),
    # suffix: the upper-case JOHN.Doe@Example.COM too
    ("*@example.com", ["jo_hn", "jo%hn", "joxhn", "jo+tag", "john.doe", "bob"]),
    ("*@EXAMPLE.com", ["jo_hn", "jo%hn", "joxhn", "jo+tag", "john.doe", "bob"]),
    ("*.org", ["john.org"]),
    # % _ \ + are literal characters, not SQL wildcards
    ("jo_*", ["jo_hn"]),
    ("jo%*", ["jo%hn"]),
    ("*_*", ["jo_hn"]),
    ("*%*", ["jo%hn"]),
    ("jo+*", ["jo+tag"]),
    ("*\\*", ["backslash"]),
    ("a\\b@*", ["backslash"]),
    ("j_*", []),
    ("%", []),
    ("_", []),
    # several wildcards, anywhere
    ("j*n@*.com", ["jo_hn", "jo%hn", "joxhn"]),
    ("b*b@*", ["bob"]),
    ("*.c*m", ["jo_hn", "jo%hn", "joxhn", "jo+tag", "john.doe", "bob"]),
    ("*", ["jo_hn", "jo%hn", "joxhn", "jo+tag", "john.doe", "john.org", "bob", "backslash", "elodie"]),
    ("**", ["jo_hn", "jo%hn", "joxhn", "jo+tag", "john.doe", "john.org", "bob", "backslash", "elodie"]),
    # non-ASCII letters ignore case as well
    ("élodie@*", ["elodie"]),
    ("*ÉLODIE*", ["elodie"]),
    # without a wildcard: an exact match, ignoring case
    ("jo%hn@example.com", ["jo%hn"]),
    ("jo_hn@example.com", ["jo_hn"]),
    ("john.doe@example.com", ["john.doe"]),
    ("JOHN.DOE@EXAMPLE.COM", ["john.doe"]),
    ("a\\b@example.net", ["backslash"]),
    ("john", []),
    ("example.com", []),
    ("", []),
]


@pytest.mark.parametrize(("pattern", "expected"), EMAIL_FILTERS)
async def test_email_filter(tenant: Tenant, pattern: str, expected: list[str]) -> None:
    api, customers, _ = await _people(tenant)
    assert _names(await api.get(customers, params={"email": pattern})) == _newest_first(*expected)


PHONE_FILTERS = [
    ("+4420*", ["jo_hn", "jo%hn", "bob"]),
    ("*6789", ["jo%hn", "joxhn", "jo+tag"]),
    ("+44*", ["jo_hn", "jo%hn", "jo+tag", "bob"]),
    ("*794*", ["jo_hn", "jo%hn", "bob"]),
    ("+44123456789", ["jo+tag"]),
    ("44123456789", []),
    ("+4412345678", []),
    # % and _ are literal here too: as SQL wildcards they would match the +4420 numbers
    ("+44_0*", []),
    ("+4420794%*", []),
    ("%4420*", []),
    ("*", ["jo_hn", "jo%hn", "joxhn", "jo+tag", "john.doe", "bob"]),
]


@pytest.mark.parametrize(("pattern", "expected"), PHONE_FILTERS)
async def test_phone_filter(tenant: Tenant, pattern: str, expected: list[str]) -> None:
    api, customers, _ = await _people(tenant)
    assert _names(await api.get(customers, params={"phone": pattern})) == _newest_first(*expected)


async def test_the_seeds_encoded_plus_in_a_raw_query_string(tenant: Tenant) -> None:
    api, customers, _ = await _people(tenant)
    # Written as in the seed: "+" URL-encoded as %2B.
    assert _names(await api.get(f"{customers}?phone=%2B4420*")) == _newest_first("jo_hn", "jo%hn", "bob")
    assert _names(await api.get(f"{customers}?phone=*6789")) == _newest_first("jo%hn", "joxhn", "jo+tag")
    assert _names(await api.get(f"{customers}?email=jo%2B*")) == ["jo+tag"]
    assert _names(await api.get(f"{customers}?email=jo%25*")) == ["jo%hn"]


async def test_filters_combine_with_and(tenant: Tenant) -> None:
    api, customers, ids = await _people(tenant)
    both = await api.get(customers, params={"email": "*@example.com", "phone": "*6789"})
    assert _names(both) == _newest_first("jo%hn", "joxhn", "jo+tag")
    assert _names(await api.get(customers, params={"email": "bob*", "phone": "*6789"})) == []
    await api.patch(f"{customers}/{ids['joxhn']}", json={"private_ref": "X1"})
    with_ref = {"private_ref": "X1", "email": "jo*", "phone": "+33*"}
    assert _names(await api.get(customers, params=with_ref)) == ["joxhn"]
    assert _names(await api.get(customers, params={**with_ref, "phone": "+44*"})) == []


async def test_unknown_query_parameters_are_ignored(tenant: Tenant) -> None:
    api, customers, _ = await _people(tenant)
    everyone = _names(await api.get(customers))
    assert len(everyone) == len(PEOPLE)
    assert _names(await api.get(customers, params={"first_name": "bob", "sort": "asc"})) == everyone


async def test_filters_follow_updates_and_anonymisation(tenant: Tenant) -> None:
    api, customers, ids = await _people(tenant)
    await api.patch(f"{customers}/{ids['bob']}", json={"email": "Robert@Example.org", "phone": "+33612340000"})
    assert _names(await api.get(customers, params={"email": "bob*"})) == []
    assert _names(await api.get(customers, params={"email": "robert@example.ORG"})) == ["bob"]
    assert _names(await api.get(customers, params={"phone": "+336*"})) == _newest_first("joxhn", "bob")
    await api.patch(f"{customers}/{ids['joxhn']}", json={"email": None, "phone": None})
    assert _names(await api.get(customers, params={"phone": "+336*"})) == ["bob"]
    await api.post(f"{customers}/{ids['bob']}/anonymise")
    assert _names(await api.get(customers, params={"phone": "+336*"})) == []
    assert _names(await api.get(customers, params={"email": "*"})).count(None) == 0
    assert ids["bob"] in [c["id"] for c in (await api.get(customers)).json()]


async def test_odd_filter_values_match_nothing_and_never_fail(tenant: Tenant) -> None:
    api, customers, _ = await _people(tenant)
    for params in (
        {"email": "x" * 5000 + "*"},
        {"email": "'; DROP TABLE customer; --"},
        {"email": "☃*"},
    ):
        response = await api.get(customers, params=params)
        assert response.status_code == 200, (params, response.text)
        assert response.json() == [], params
    many_stars = await api.get(customers, params={"phone": "+44" + "*" * 500})
    assert _names(many_stars) == _newest_first("jo_hn", "jo%hn", "jo+tag", "bob")
    assert len((await api.get(customers)).json()) == len(PEOPLE)


@pytest.mark.parametrize(
    "params", [{"email": "a\x00b"}, {"email": "jo*\x00"}, {"phone": "\x00*"}, {"private_ref": "\x00"}]
)
async def test_a_nul_character_in_a_filter_is_422_not_500(tenant: Tenant, params: dict[str, str]) -> None:
    api, customers, _ = await _people(tenant)
    response = await api.get(customers, params=params)
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == list(params)


async def test_filters_only_search_the_list_asked_for(tenant: Tenant) -> None:
    api, customers, _ = await _people(tenant)
    other = f"/v1/customer_lists/{await tenant.customer_list()}/customers"
    await api.post(other, json={"first_name": "twin", "email": "jo_hn@example.com", "phone": "+442079460123"})
    assert _names(await api.get(other, params={"email": "jo*"})) == ["twin"]
    assert _names(await api.get(customers, params={"email": "jo_hn@example.com"})) == ["jo_hn"]


async def test_private_ref_filter_sees_only_the_callers_refs(tenant: Tenant) -> None:
    list_id = await tenant.customer_list()
    customers = f"/v1/customer_lists/{list_id}/customers"
    pos = await tenant.api(WRITE)
    app = await tenant.api(WRITE, client_id=await tenant.new_client("Loyalty app"))
    ann = (await pos.post(customers, json={"first_name": "Ann", "private_ref": "42"})).json()
    bob = (await app.post(customers, json={"first_name": "Bob", "private_ref": "42"})).json()
    assert ann["private_ref"] == bob["private_ref"] == "42"  # unique per client, not across clients
    assert _names(await pos.get(customers, params={"private_ref": "42"})) == ["Ann"]
    assert _names(await app.get(customers, params={"private_ref": "42"})) == ["Bob"]
    # Each reads its own ref on every customer of the list, null where it set none.
    assert {c["first_name"]: c["private_ref"] for c in (await pos.get(customers)).json()} == {"Ann": "42", "Bob": None}
    assert {c["first_name"]: c["private_ref"] for c in (await app.get(customers)).json()} == {"Ann": None, "Bob": "42"}
    assert _names(await pos.get(customers, params={"private_ref": "4*"})) == []  # no wildcard on private_ref
    assert _names(await pos.get(customers, params={"private_ref": ""})) == []


async def test_listed_customers_are_complete(tenant: Tenant) -> None:
    api, customers, ids = await _people(tenant)
    list_id = customers.split("/")[3]
    await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": ids["bob"], "ref": "B"})
    await api.patch(f"{customers}/{ids['bob']}", json={"private_ref": "bob-1", "custom_fields": {"k": [1]}})
    listed = (await api.get(customers, params={"email": "bob@example.com"})).json()
    assert listed == [(await api.get(f"{customers}/{ids['bob']}")).json()]
    assert listed[0]["loyalty_cards"][0]["ref"] == "B" and listed[0]["custom_fields"] == {"k": [1]}
    assert listed[0]["private_ref"] == "bob-1"


# --- pages -------------------------------------------------------------------------------------------------


async def _insert(tenant: Tenant, list_id: str, count: int, *, per_instant: int = 10) -> list[tuple[str, str]]:
    """``count`` customers, ``per_instant`` of them sharing each created_at (ties broken by id); half of
    them @example.com, half @other.org. Returns (id, email) newest first, the order the index must follow.
    """
    start = utcnow() - timedelta(days=1)
    rows = []
    for n in range(count):
        created = start + timedelta(seconds=n // per_instant)
        email = f"c{n:03}@example.com" if n % 2 == 0 else f"c{n:03}@other.org"
        rows.append(
            Customer(
                id=new_id(),
                account_id=tenant.account_id,
                customer_list_id=list_id,
                anonymised=False,
                email=email,
                email_search=email,
                first_name=f"n{n}",
                sms_marketing=False,
                email_marketing=False,
                custom_fields={},
                nb_orders=0,
                order_total_minor=0,
                created_at=created,
                updated_at=created,
            )
        )
    async with tenant.db.session(write=True) as session:
        session.add_all(rows)
    return [(row.id, row.email or "") for row in sorted(rows, key=lambda row: (row.created_at, row.id), reverse=True)]


async def _walk(api: Api, path: str, params: dict[str, Any]) -> tuple[list[str], list[int]]:
    """Follows X-Cursor-Next to the end; returns every id in order and the size of each page."""
    ids: list[str] = []
    sizes: list[int] = []
    cursor = None
    for _ in range(300):
        response = await api.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        ids += [customer["id"] for customer in page]
        sizes.append(len(page))
        cursor = response.headers.get("X-Cursor-Next")
        if cursor is None:
            return ids, sizes
        assert page, "a next cursor after an empty page"
    raise AssertionError("the cursors never end")


async def test_pages_through_250_customers_without_duplicate_or_gap(tenant: Tenant) -> None:
    api = await tenant.api(WRITE)
    list_id = await tenant.customer_list()
    customers = f"/v1/customer_lists/{list_id}/customers"
    inserted = await _insert(tenant, list_id, 250)
    expected = [customer_id for customer_id, _ in inserted]

    # Default count: 100 per page, the last one without a cursor.
    ids, sizes = await _walk(api, customers, {})
    assert sizes == [100, 100, 50]
    assert ids == expected

    # Pages that end exactly on the last customer: no cursor after it, no empty extra page.
    ids, sizes = await _walk(api, customers, {"count": "50"})
    assert sizes == [50] * 5 and ids == expected
    ids, sizes = await _walk(api, customers, {"count": "7"})
    assert sizes == [7] * 35 + [5] and ids == expected
    ids, sizes = await _walk(api, customers, {"count": "1"})
    assert len(sizes) == 250 and ids == expected


@pytest.mark.parametrize(("pattern", "domain"), [("*@example.com", "@example.com"), ("*@other.org", "@other.org")])
async def test_pages_of_a_filtered_list(tenant: Tenant, pattern: str, domain: str) -> None:
    api = await tenant.api(WRITE)
    list_id = await tenant.customer_list()
    customers = f"/v1/customer_lists/{list_id}/customers"
    inserted = await _insert(tenant, list_id, 250, per_instant=25)
    expected = [customer_id for customer_id, email in inserted if email.endswith(domain)]
    assert len(expected) == 125
    ids, sizes = await _walk(api, customers, {"email": pattern, "count": "30"})
    assert sizes == [30, 30, 30, 30, 5]
    assert ids == expected


async def test_new_customers_do_not_disturb_a_walk(tenant: Tenant) -> None:
    """Keyset pages: customers created during a walk appear on no later page and shift nothing."""
    api = await tenant.api(WRITE)
    list_id = await tenant.customer_list()
    customers = f"/v1/customer_lists/{list_id}/customers"
    expected = [customer_id for customer_id, _ in await _insert(tenant, list_id, 60)]
    first = await api.get(customers, params={"count": "25"})
    seen = [c["id"] for c in first.json()]
    for _ in range(5):
        assert (await api.post(customers, json={"first_name": "newcomer"})).status_code == 201
    cursor = first.headers["X-Cursor-Next"]
    while cursor:
        response = await api.get(customers, params={"count": "25", "cursor": cursor})
        seen += [c["id"] for c in response.json()]
        cursor = response.headers.get("X-Cursor-Next")
    assert seen == expected
    # A fresh walk starts with the newcomers.
    assert [c["first_name"] for c in (await api.get(customers, params={"count": "5"})).json()] == ["newcomer"] * 5


async def test_customers_created_through_the_api_are_listed_newest_first(tenant: Tenant) -> None:
    api = await tenant.api(WRITE)
    customers = f"/v1/customer_lists/{await tenant.customer_list()}/customers"
    created = [(await api.post(customers, json={"first_name": f"c{n}"})).json()["id"] for n in range(12)]
    response = await api.get(customers)
    assert "X-Cursor-Next" not in response.headers
    assert [c["id"] for c in response.json()] == created[::-1]


@pytest.mark.parametrize("count", ["0", "101", "-1", "1.5", "x", "", "1e2", " 5", "100000", "99999999999999999999"])
async def test_a_bad_count_is_422(tenant: Tenant, count: str) -> None:
    api = await tenant.api(WRITE)
    customers = f"/v1/customer_lists/{await tenant.customer_list()}/customers"
    response = await api.get(customers, params={"count": count})
    assert response.status_code == 422, (count, response.text)
    body = response.json()
    assert body["error_type"] == "unprocessable_entity"
    assert [error["field"] for error in body["errors"]] == ["count"]


async def test_count_within_bounds_is_honoured(tenant: Tenant) -> None:
    api = await tenant.api(WRITE)
    list_id = await tenant.customer_list()
    customers = f"/v1/customer_lists/{list_id}/customers"
    await _insert(tenant, list_id, 120)
    for count, size in (("1", 1), ("100", 100), ("099", 99)):
        response = await api.get(customers, params={"count": count})
        assert len(response.json()) == size and "X-Cursor-Next" in response.headers
    assert "X-Cursor-Next" not in (await api.get(customers, params={"count": "100", "email": "*.org"})).headers


def _forged(*values: Any) -> str:
    return encode_cursor(*values)


BAD_CURSORS = [
    "nope",
    "",
    "%%%",
    base64.urlsafe_b64encode(b'[{"t":"2020-01-01T00:00:00"},"abc"]|00000000').decode(),
    base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),
    "A" * 5000,
    # Well-formed and signed, but not what a customers page issues: never a 500 on either database.
    _forged("not a time", "abc"),
    _forged(12, "abc"),
    _forged(datetime(2020, 1, 1), 12),
    _forged(datetime(2020, 1, 1)),
    _forged(datetime(2020, 1, 1), "abc", "def"),
    _forged(datetime(2020, 1, 1, tzinfo=datetime.now().astimezone().tzinfo), "abc"),
    _forged(datetime(2020, 1, 1), "a\x00b"),
]


@pytest.mark.parametrize("cursor", BAD_CURSORS)
async def test_a_cursor_the_server_did_not_issue_is_422(tenant: Tenant, cursor: str) -> None:
    api = await tenant.api(WRITE)
    list_id = await tenant.customer_list()
    customers = f"/v1/customer_lists/{list_id}/customers"
    await _insert(tenant, list_id, 3)
    response = await api.get(customers, params={"cursor": cursor})
    assert response.status_code == 422, (cursor, response.text)
    assert [error["field"] for error in response.json()["errors"]] == ["cursor"]


async def test_a_tampered_cursor_is_422(tenant: Tenant) -> None:
    api = await tenant.api(WRITE)
    list_id = await tenant.customer_list()
    customers = f"/v1/customer_lists/{list_id}/customers"
    await _insert(tenant, list_id, 5)
    cursor = (await api.get(customers, params={"count": "2"})).headers["X-Cursor-Next"]
    text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    payload, _, checksum = text.rpartition("|")
    tampered = payload.replace("20", "19", 1)
    assert tampered != payload
    forged = base64.urlsafe_b64encode(f"{tampered}|{checksum}".encode()).decode().rstrip("=")
    response = await api.get(customers, params={"count": "2", "cursor": forged})
    assert response.status_code == 422
    # The genuine cursor still works.
    assert len((await api.get(customers, params={"count": "2", "cursor": cursor})).json()) == 2


async def test_wildcard_searches_are_planned_with_their_pattern_on_postgresql(tenant: Tenant, db: Any) -> None:
    """A prepared search reused with a generic plan, made without the pattern, walks the whole list for a rare
    pattern (half a second on a million customers): on PostgreSQL the wildcard searches run on connections
    that plan each statement with its values, and exact filters keep the main pool's cached plans."""
    if db.dialect != "postgresql":
        pytest.skip("plan caching is PostgreSQL's")
    from sqlalchemy import event

    api, customers, _ = await _people(tenant)
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if "FROM customer" in statement:
            seen.append(statement)

    engine = db.custom_plan_engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for _ in range(7):  # past the five executions after which a generic plan may be chosen
            assert _names(await api.get(customers, params={"email": "*@example.com"}))
        searched = len(seen)
        assert _names(await api.get(customers, params={"email": "bob@example.com"})) == ["bob"]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert searched == 7 and len(seen) == 7
    async with db.custom_plan_engine.connect() as conn:
        assert (await conn.exec_driver_sql("SHOW plan_cache_mode")).scalar() == "force_custom_plan"
