"""HubRise's own Ruby client keeps working when only its hosts change (SPEC, preamble).

The official ``hubrise_client`` gem (vendored unchanged in ``hubrise_ruby_client/``, see its README) runs in a
``ruby`` subprocess against a real ``patronage serve``: a user logs in and consents over HTTP (here, in
Python), the Ruby app exchanges the code with ``authorize!`` and then calls every method of ``v1.rb``
(``ruby_client_surface.rb``): those of the resources Patronage serves must work, the others (catalogs, images,
inventories) fail as unknown routes do. It prints what it observed; this module asserts.
"""

import asyncio
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from live import live_server
from oauth_flow import REDIRECT, Env, make_env, oauth_code
from patronage.auth import service as auth
from patronage.db import Database
from patronage.tenancy import service as tenancy

HERE = Path(__file__).parent
SCRIPT = HERE / "ruby_client_surface.rb"
SCOPE = "location[customer_list.write,orders.write],profile"
ADMIN_SCOPE = "account[all_customer_lists.write,orders.write]"

# v1.rb's methods for resources Patronage does not serve (SPEC: customers and what they rely on), and why; the
# surface script calls them too, and each must fail as an unknown route does (404 routing_error, never a 500).
OUT_OF_SCOPE = {
    "get_location_catalogs": "catalogs: not in the contract (catalog scopes are accepted and ignored, SPEC §6)",
    "get_account_catalogs": "as get_location_catalogs",
    "get_catalog": "as get_location_catalogs",
    "create_account_catalog": "as get_location_catalogs",
    "create_location_catalog": "as get_location_catalogs",
    "update_catalog": "as get_location_catalogs",
    "create_image": "catalog images: as get_location_catalogs",
    "get_images": "as create_image",
    "get_image": "as create_image",
    "get_image_data": "as create_image",
    "get_inventory": "inventories belong to catalogs: as get_location_catalogs",
    "update_inventory": "as get_inventory",
    "patch_inventory": "as get_inventory",
}
# Served by Patronage but with no method in the client (an app would add its own): anonymise (seed §2.5),
# loyalty card reads and updates, operation lists, event retrieval, customer list writes, the short
# /location/orders routes.


def ruby() -> str:
    found = shutil.which("ruby")
    required = any(
        os.environ.get(name, "").lower() not in ("", "0", "false") for name in ("CI", "PATRONAGE_REQUIRE_RUBY")
    )
    if found is None and required:
        pytest.fail("ruby is not installed (CI needs it: run scripts/install-test-deps.sh)")
    if found is None:
        pytest.skip("ruby is not installed (scripts/install-test-deps.sh installs it; CI requires it)")
    return found


async def account_token(env: Env) -> str:
    async with env.db.session(write=True) as session:
        answer = await auth.connect(
            session,
            await auth.get_client(session, env.client_id),
            account=await tenancy.get_account(session, env.account_id),
            location=None,
            scope_text=ADMIN_SCOPE,
        )
        return answer["access_token"]


async def run_client(setup: dict[str, Any]) -> dict[str, Any]:
    completed = await asyncio.to_thread(
        subprocess.run,
        [ruby(), str(SCRIPT)],
        input=json.dumps(setup),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def ok(seen: dict[str, Any], step: str, code: str = "200") -> Any:
    """The data of a step that succeeded with ``code`` (the client gives codes as strings)."""
    answer = seen[step]
    assert answer.get("code") == code and answer["failed"] is (code[0] != "2"), (step, answer)
    return answer["data"]


def refused(seen: dict[str, Any], step: str, code: str, error_type: str) -> dict[str, Any]:
    answer = seen[step]
    assert (answer.get("code"), answer["failed"], answer["error_type"]) == (code, True, error_type), (step, answer)
    return answer


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["id"] for row in rows]


def client_methods() -> set[str]:
    """The public methods of v1.rb and base.rb: what a HubRise app may call."""
    lib = HERE / "hubrise_ruby_client" / "lib" / "hubrise_client"
    names = set()
    for source in (lib / "v1.rb", lib / "base.rb"):
        public = source.read_text().split("\n    protected\n")[0].split("\n    private\n")[0]
        names |= set(re.findall(r"^    def ([a-z_!?]+)", public, re.M))
        names |= set(re.findall(r"^    alias_method :([a-z_]+)", public, re.M))
    return names - {"version", "inventory_endpoint", "initialize"}


def test_every_client_method_is_exercised() -> None:
    """The client's whole surface: what Patronage serves, and the rest (OUT_OF_SCOPE), which must fail cleanly."""
    script = SCRIPT.read_text()
    called = {name for name in client_methods() if re.search(rf"\.{re.escape(name)}(?![a-z_!?])", script)}
    assert client_methods() - called == set()
    assert set(OUT_OF_SCOPE) <= client_methods()


async def test_the_hubrise_ruby_client_works_against_patronage(db: Database, database_url: str) -> None:
    ruby()
    env = await make_env(db)
    bound_list = await env.customer_list("Ruby app's list", env.location_id)
    account_list = await env.customer_list("Loyalty club", None)
    with live_server(database_url, workers=1) as base:
        async with httpx.AsyncClient(base_url=base) as browser:
            params = env.params(SCOPE)
            code = await oauth_code(browser, env, params, location_id=env.location_id, customer_list_id=bound_list)
            seen = await run_client(
                {
                    "host": "127.0.0.1",
                    "port": str(urlsplit(base).port),
                    "app_id": env.client_id,
                    "app_secret": env.client_secret,
                    "redirect_uri": REDIRECT,
                    "scope": SCOPE,
                    "code": code,
                    "account_token": await account_token(env),
                    "other_location_id": env.other_location_id,
                }
            )
        # The URL the client sends its users to is this server's login page (for a user not yet logged in).
        async with httpx.AsyncClient() as stranger:
            login = await stranger.get(seen["authorization_url"])
        assert login.status_code == 200 and 'action="/oauth2/v1/login"' in login.text

    check_oauth(seen, env, bound_list)
    check_locations_and_accounts(seen, env)
    check_customer_lists(seen, env, bound_list, account_list)
    check_customers(seen, bound_list)
    check_loyalty(seen)
    check_orders(seen, env, bound_list)
    check_delivery(seen, env)
    check_callback_and_events(seen, env, bound_list)
    assert seen["unknown_token"]["raised"] == "HubriseClient::InvalidHubriseToken"  # the client's reading of a 401
    # What Patronage does not serve is an unknown route: a 404 routing_error, as the client reads any 404.
    assert set(seen["not_served"]) == set(OUT_OF_SCOPE)
    for method in OUT_OF_SCOPE:
        refused(seen["not_served"], method, "404", "routing_error")


def check_oauth(seen: dict[str, Any], env: Env, bound_list: str) -> None:
    url = urlsplit(seen["authorization_url"])
    assert (url.scheme, url.hostname, url.path) == ("http", "127.0.0.1", "/oauth2/v1/authorize")
    assert {k: v[0] for k, v in parse_qs(url.query).items()} == {
        "client_id": env.client_id,
        "redirect_uri": REDIRECT,
        "scope": SCOPE,
        "state": "s1",
    }
    authorized = seen["authorized"]
    assert re.fullmatch(r"[0-9a-f]{32}", authorized["access_token"])
    assert (authorized["account_id"], authorized["location_id"]) == (env.account_id, env.location_id)
    assert authorized["customer_list_id"] == bound_list
    assert authorized["catalog_id"] is None  # Patronage has no catalogs
    assert authorized["user_id"] == ok(seen, "get_user")["id"]
    assert re.fullmatch(r"[0-9a-z]+", authorized["app_instance_id"])
    # A used code: SPEC §10 answers 400, which the client raises as its generic HubriseError (it raises
    # InvalidHubriseGrantParams, a subclass of the same, only for a 404).
    assert seen["code_reused"] == {"raised": "HubriseClient::HubriseError"}


def check_locations_and_accounts(seen: dict[str, Any], env: Env) -> None:
    location = ok(seen, "get_location")
    assert (location["id"], location["name"], location["account_id"]) == (
        env.location_id,
        "Paris Bastille",
        env.account_id,
    )
    assert location["timezone"]["name"] == "Europe/Paris" and location["timezone"]["offset"] in (3600, 7200)
    assert location["account"]["id"] == env.account_id and location["currency"] == "EUR"
    assert ok(seen, "get_location_by_id") == location
    assert ids(ok(seen, "get_locations")) == [env.location_id]
    refused(seen, "get_other_location", "404", "not_found")  # a location connection sees its location only
    account = ok(seen, "get_account_by_id")
    assert (account["id"], account["name"], account["currency"]) == (env.account_id, "Burger Co", "EUR")
    assert account["timezone"]["name"] == "Europe/Paris"
    assert ok(seen, "get_account") == account and ok(seen, "get_accounts") == [account]
    assert sorted(ids(ok(seen, "admin_get_locations"))) == sorted([env.location_id, env.other_location_id])
    assert ok(seen, "get_user")["timezone"]["name"] == "Europe/Paris"
    patched = ok(seen, "patch_location")
    assert (patched["preparation_time"], patched["custom_fields"]) == (25, {"pos": "ruby"})
    put = ok(seen, "update_location")  # the deprecated alias, a PUT: only the fields sent change
    assert (put["preparation_time"], put["custom_fields"]) == (30, {"pos": "ruby"})


def check_customer_lists(seen: dict[str, Any], env: Env, bound_list: str, account_list: str) -> None:
    bound = ok(seen, "get_customer_list")  # no id given: the client falls back on the authorised list
    assert (bound["id"], bound["name"], bound["location_id"]) == (bound_list, "Ruby app's list", env.location_id)
    assert ok(seen, "get_location_customer_lists") == [bound]  # customer_list scope: that list only
    refused(seen, "get_account_customer_lists_from_location", "403", "forbidden")
    assert ids(ok(seen, "get_account_customer_lists")) == [account_list]  # account-level lists only


def check_customers(seen: dict[str, Any], bound_list: str) -> None:
    created = seen["created_customer_ids"]
    for number, customer_id in enumerate(created, start=1):
        customer = ok(seen, f"create_customer_{number}", "201")
        assert customer["id"] == customer_id and customer["customer_list_id"] == bound_list
        assert (customer["email"], customer["phone"], customer["private_ref"]) == (
            f"guest{number}@compat.example",
            f"+3361234567{number}",
            f"crm-{number}",
        )
        assert customer["email_marketing"] is (number % 2 == 1) and customer["anonymised"] is False
        assert (customer["nb_orders"], customer["order_total"], customer["loyalty_cards"]) == (0, "0.00 EUR", [])
    newest_first = created[::-1]
    assert ids(ok(seen, "get_all_customers")) == newest_first and seen["get_all_customers"]["cursor_next"] is None
    # Response#each_page follows X-Cursor-Next to the last page, which carries none.
    pages = seen["customers_pages"]
    assert [page["code"] for page in pages] == ["200"] * 3 and [len(page["ids"]) for page in pages] == [2, 2, 1]
    assert [i for page in pages for i in page["ids"]] == newest_first
    wildcard = seen["customers_email_wildcard_pages"]  # the filter rides along with the cursor
    assert [page["ids"] for page in wildcard] == [newest_first[:3], newest_first[3:]]
    assert ids(ok(seen, "search_email")) == [created[2]]  # case-insensitive
    assert ids(ok(seen, "search_phone")) == [created[3]]  # the client encodes + as %2B
    assert ids(ok(seen, "search_private_ref")) == [created[1]]
    assert ok(seen, "search_none") == []
    assert ok(seen, "get_customer") == ok(seen, "create_customer_1", "201") == ok(seen, "get_customer_explicit_list")

    updated = ok(seen, "update_customer")  # a PUT changes only the fields sent
    assert (updated["first_name"], updated["last_name"], updated["email"]) == (
        "Renamed",
        "Ruby",
        "guest1@compat.example",
    )
    assert updated["custom_fields"] == {"tier": "gold", "visits": 3}
    echoed = ok(seen, "update_customer_echo")  # what was read, read-only fields included, sent back
    assert echoed == {**updated, "last_name": "Echoed"}
    invalid = refused(seen, "create_customer_invalid", "422", "unprocessable_entity")
    assert invalid["error_message"] == "Validation failed"
    assert sorted(error["field"] for error in invalid["errors"]) == ["email", "gender"]
    refused(seen, "get_customer_missing", "404", "not_found")


def check_loyalty(seen: dict[str, Any]) -> None:
    first = seen["created_customer_ids"][0]
    card = ok(seen, "create_loyalty_card", "201")
    assert {k: card[k] for k in ("customer_id", "ref", "name", "balance")} == {
        "customer_id": first,
        "ref": "main",
        "name": "Points",
        "balance": "0.0",
    }
    operations = [ok(seen, f"operation_{n}", "201") for n in (1, 2, 3)]
    assert [(op["delta"], op["new_balance"]) for op in operations] == [
        ("10.5", "10.5"),
        ("-2.25", "8.25"),
        ("0.75", "9.0"),  # a JSON number from Ruby's Float, kept exact
    ]
    assert all(op["customer_id"] == first and op["order_id"] is None for op in operations)
    zero = refused(seen, "operation_zero", "422", "unprocessable_entity")
    assert [error["field"] for error in zero["errors"]] == ["delta"]
    stranger = refused(seen, "create_loyalty_card_stranger", "422", "unprocessable_entity")
    assert [error["field"] for error in stranger["errors"]] == ["customer_id"]


def check_orders(seen: dict[str, Any], env: Env, bound_list: str) -> None:
    first = seen["created_customer_ids"][0]
    order = ok(seen, "create_order", "201")
    assert (order["location_id"], order["status"], order["created_by"]) == (env.location_id, "new", env.client_name)
    assert (order["customer_id"], order["customer_list_id"], order["customer"]["id"]) == (first, bound_list, first)
    # (9.50 + 0.75) × 2 + 4.00 + 0.20 charge − 2.00 discount
    assert [item["subtotal"] for item in order["items"]] == ["20.50 EUR", "4.00 EUR"]
    assert (order["total"], order["payment_discrepancy"]) == ("22.70 EUR", "0.00 EUR")
    assert order["loyalty_operations"] == [
        {"ref": "main", "name": "Points", "delta": "5.0", "reason": "Order points", "new_balance": "14.0"}
    ]
    guest = ok(seen, "create_guest_order", "201")
    assert (guest["customer_id"], guest["customer"]["id"], guest["customer"]["first_name"]) == (None, None, "Walk-in")
    assert guest["total"] == "5.40 EUR"
    second = ok(seen, "create_second_order", "201")
    assert (second["customer_id"], second["total"]) == (seen["created_customer_ids"][1], "2.50 EUR")
    invalid = refused(seen, "create_order_invalid", "422", "unprocessable_entity")
    assert [error["field"] for error in invalid["errors"]] == ["status"]

    assert ok(seen, "get_order") == order
    put = ok(seen, "update_order")  # the deprecated update_order is a PUT
    assert (put["status"], put["seller_notes"]) == ("accepted", "Via PUT")
    patched = ok(seen, "patch_order")
    assert (patched["status"], patched["collection_code"], patched["seller_notes"]) == ("completed", "C42", "Via PUT")
    assert patched["total"] == "22.70 EUR" and ids(patched["items"]) == ids(order["items"])

    pages = seen["orders_pages"]
    assert [page["ids"] for page in pages] == [[second["id"], guest["id"]], [order["id"]]]
    assert ids(ok(seen, "orders_of_customer")) == [order["id"]]
    assert ids(ok(seen, "orders_by_status")) == [order["id"]]
    customer = ok(seen, "get_customer_after_orders")
    assert (customer["nb_orders"], customer["order_total"]) == (1, "22.70 EUR")
    assert customer["first_order_date"] == customer["last_order_date"] == order["created_at"]
    card = ok(seen, "create_loyalty_card", "201")
    assert customer["loyalty_cards"] == [{"id": card["id"], "ref": "main", "name": "Points", "balance": "14.0"}]


def check_delivery(seen: dict[str, Any], env: Env) -> None:
    order_id = ok(seen, "create_delivery_order", "201")["id"]
    refused(seen, "get_delivery_none", "404", "not_found")  # deliveries.md §2: no delivery yet
    created = ok(seen, "create_delivery", "201")
    assert (created["order_id"], created["location_id"]) == (order_id, env.location_id)
    assert (created["carrier"], created["status"], created["fee"]) == ("UPS", "pending", "4.50 EUR")
    assert created["estimated_pickup_at"] == "2023-01-01T12:00:00+01:00" and created["assigned_at"] is None
    patched = ok(seen, "patch_delivery")
    assert (patched["status"], patched["driver_latitude"], patched["carrier"]) == ("pickup_enroute", "48.856614", "UPS")
    assert patched["assigned_at"] is not None  # stamped by the status (deliveries.md, auto-updated fields)
    assert ok(seen, "get_delivery") == patched
    in_order = ok(seen, "get_delivery_order")["delivery"]
    assert in_order == {k: v for k, v in patched.items() if k not in DELIVERY_ONLY}


# What an order's `delivery` leaves out of the delivery resource (orders.md §11): its ids and the driver's position.
DELIVERY_ONLY = {"id", "order_id", "location_id", "driver_latitude", "driver_longitude"}


def check_callback_and_events(seen: dict[str, Any], env: Env, bound_list: str) -> None:
    assert ok(seen, "get_callback_unset") == {"url": None, "events": {}}
    subscribed = {"url": None, "events": {"customer": ["create", "update"], "order": ["create", "update"]}}
    assert ok(seen, "update_callback") == subscribed == ok(seen, "get_callback")

    # Only the other connection's changes: none of those the app made itself (callbacks.md).
    customer_id = ok(seen, "admin_create_customer", "201")["id"]
    assert ok(seen, "admin_update_customer")["last_name"] == "Changed"
    order_id = ok(seen, "admin_create_order", "201")["id"]
    assert ok(seen, "admin_patch_order")["status"] == "accepted"
    events = ok(seen, "get_callback_events")
    assert [(e["resource_type"], e["event_type"], e.get("customer_id") or e.get("order_id")) for e in events] == [
        ("customer", "create", customer_id),
        ("customer", "update", customer_id),
        ("order", "create", order_id),
        ("order", "update", order_id),
    ]
    assert all(e["customer_list_id"] == bound_list for e in events[:2])
    assert all(e["location_id"] == env.location_id for e in events[2:])
    assert not any("new_state" in e or "previous_state" in e for e in events)  # the index carries no states

    deleted = seen["delete_events"]
    assert [answer["code"] for answer in deleted] == ["200"] * 4
    assert [answer["data"]["id"] for answer in deleted] == ids(events)
    created_customer, updated_customer, created_order, updated_order = (answer["data"] for answer in deleted)
    assert "previous_state" not in created_customer and "previous_state" not in created_order
    assert created_customer["new_state"]["id"] == customer_id and created_order["new_state"]["status"] == "new"
    assert (updated_customer["previous_state"]["last_name"], updated_customer["new_state"]["last_name"]) == (
        None,
        "Changed",
    )
    assert (updated_order["previous_state"]["status"], updated_order["new_state"]["status"]) == ("new", "accepted")
    assert ok(seen, "get_callback_events_after") == []
    refused(seen, "delete_event_again", "404", "not_found")
    assert ok(seen, "admin_get_callback_events") == []  # the other connection subscribed to nothing

    assert ok(seen, "delete_callback") == subscribed
    assert ok(seen, "get_callback_deleted") == {"url": None, "events": {}}
