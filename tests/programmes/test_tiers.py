"""Tiers (a Patronage extension): from lifetime points (the sum of positive operations, not the balance); the
card shows them; a change of tier fires loyalty_card.update for the connections that subscribed to it."""

from helpers import Tenant

WRITE = "location[orders.write,all_customer_lists.write]"
TIERS = [{"name": "Silver", "threshold": "100"}, {"name": "Gold", "threshold": "250.5"}]


async def test_the_card_shows_its_tier_from_lifetime_points(tenant: Tenant) -> None:
    api = await tenant.api(WRITE)
    list_id = await tenant.customer_list()
    programme = {"points_per_unit": "1", "tiers": TIERS, "allow_negative_balance": True}
    assert (await api.put(f"/v1/customer_lists/{list_id}/loyalty_programmes/LOY", json=programme)).status_code == 200
    customer = (await api.post(f"/v1/customer_lists/{list_id}/customers", json={})).json()["id"]
    cards = f"/v1/customer_lists/{list_id}/loyalty_cards"
    card = (await api.post(cards, json={"customer_id": customer, "ref": "LOY"})).json()
    assert card["tier"] is None and card["lifetime_points"] == "0.0" and card["next_expiry"] is None
    other = (await api.post(cards, json={"customer_id": customer, "ref": "OTHER"})).json()
    assert set(other) == {"id", "customer_id", "name", "ref", "balance"}  # no programme: HubRise's card only

    url = f"{cards}/{card['id']}"
    for delta in ("60", "-50", "40"):
        assert (await api.post(f"{url}/operations", json={"delta": delta})).status_code == 201
    shown = (await api.get(url)).json()
    assert (shown["balance"], shown["lifetime_points"], shown["tier"]) == ("50.0", "100.0", "Silver")
    await api.post(f"{url}/operations", json={"delta": "150.5"})
    listed = {c["id"]: c for c in (await api.get(cards)).json()}
    assert listed[card["id"]]["tier"] == "Gold" and listed[card["id"]]["lifetime_points"] == "250.5"
    # A rename may echo the card, its extension fields too.
    renamed = await api.patch(url, json={**listed[card["id"]], "name": "Mine"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["tier"] == "Gold"
    assert (await api.patch(url, json={"tier": "Platinum"})).status_code == 422


async def test_a_tier_change_fires_an_event_for_its_subscribers_only(tenant: Tenant) -> None:
    pos = await tenant.api(WRITE)
    watcher = await tenant.api("location[all_customer_lists.read]", client_id=await tenant.new_client("CRM"))
    hubrise_like = await tenant.api("location[all_customer_lists.read]", client_id=await tenant.new_client("Old"))
    subscribed = await watcher.post("/v1/callback", json={"url": None, "events": {"loyalty_card": ["update"]}})
    assert subscribed.status_code == 200, subscribed.text
    await hubrise_like.post("/v1/callback", json={"url": None, "events": {"customer": ["update"]}})
    await pos.post("/v1/callback", json={"url": None, "events": {"loyalty_card": ["update"]}})

    list_id = await tenant.customer_list()
    programme = {"points_per_unit": "1", "tiers": TIERS}
    assert (await pos.put(f"/v1/customer_lists/{list_id}/loyalty_programmes/LOY", json=programme)).status_code == 200
    customer = (await pos.post(f"/v1/customer_lists/{list_id}/customers", json={})).json()["id"]
    orders = f"/v1/locations/{tenant.location_id}/orders"
    item = {"product_name": "Menu", "price": "60.00 EUR", "quantity": "1"}
    for _ in range(2):  # 60, then 120: Silver
        assert (
            await pos.post(orders, json={"status": "completed", "customer_id": customer, "items": [item]})
        ).status_code == 201
    events = (await watcher.get("/v1/callback/events")).json()
    assert [(e["resource_type"], e["event_type"]) for e in events] == [("loyalty_card", "update")]
    event = (await watcher.get(f"/v1/callback/events/{events[0]['id']}")).json()
    assert event["customer_list_id"] == list_id and event["customer_id"] == customer
    assert event["previous_state"]["tier"] is None and event["previous_state"]["balance"] == "60.0"
    assert event["new_state"]["tier"] == "Silver" and event["new_state"]["balance"] == "120.0"
    assert event["new_state"]["id"] == event["loyalty_card_id"]
    # The connection that caused it, and a client that did not subscribe, see nothing.
    assert (await pos.get("/v1/callback/events")).json() == []
    assert (await hubrise_like.get("/v1/callback/events")).json() == []
    # A credit within the tier fires nothing more.
    assert (
        await pos.post(orders, json={"status": "completed", "customer_id": customer, "items": [item]})
    ).status_code == 201
    assert len((await watcher.get("/v1/callback/events")).json()) == 1
