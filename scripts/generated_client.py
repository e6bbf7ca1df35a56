"""A client generated from /openapi.json, used: creates a customer list, a customer, a loyalty card, an operation
and an order (with a loyalty operation), and reads them back. If the document stops a generator, or the generated
client misreads an answer, this fails.

The generator stays out of the project (a throwaway venv):

    python3 -m venv /tmp/genvenv && /tmp/genvenv/bin/pip install openapi-python-client
    curl -s http://127.0.0.1:8000/openapi.json > /tmp/openapi.json
    cd /tmp && /tmp/genvenv/bin/openapi-python-client generate --path /tmp/openapi.json --meta none --overwrite
    PYTHONPATH=/tmp /tmp/genvenv/bin/python scripts/generated_client.py http://127.0.0.1:8000 TOKEN

TOKEN: a location-level connection with `location[all_customer_lists.write,orders.write]`
(`patronage admin connect`), in a location whose currency is EUR.
"""

import secrets
import sys

from patronage_client import AuthenticatedClient
from patronage_client.api.customer_lists import (
    customer_lists_create_in_connected_location_post as create_list,
)
from patronage_client.api.customer_lists import customer_lists_retrieve_get as retrieve_list
from patronage_client.api.customers import customers_create_post as create_customer
from patronage_client.api.customers import customers_index_get as index_customers
from patronage_client.api.customers import customers_retrieve_get as retrieve_customer
from patronage_client.api.loyalty import loyalty_create_card_post as create_card
from patronage_client.api.loyalty import loyalty_create_operation_post as create_operation
from patronage_client.api.loyalty import loyalty_index_operations_get as index_operations
from patronage_client.api.loyalty import loyalty_retrieve_card_get as retrieve_card
from patronage_client.api.orders import orders_create_in_connected_location_post as create_order
from patronage_client.api.orders import orders_retrieve_in_connected_location_get as retrieve_order
from patronage_client.models import (
    CardCreate,
    CustomerCreate,
    CustomerListCreate,
    Error,
    ItemIn,
    OperationCreate,
    OrderCreate,
    OrderCreateStatus,
    OrderLoyaltyOperationIn,
)


def ok(answer):
    assert answer is not None and not isinstance(answer, Error), answer
    return answer


def main(base_url: str, token: str) -> None:
    client = AuthenticatedClient(
        base_url=base_url, token=token, prefix="", auth_header_name="X-Access-Token", raise_on_unexpected_status=True
    )
    with client:
        name = f"Generated client {secrets.token_hex(3)}"
        customer_list = ok(create_list.sync(client=client, body=CustomerListCreate(name=name)))
        assert ok(retrieve_list.sync(customer_list.id, client=client)).name == name
        list_id = customer_list.id

        body = CustomerCreate(first_name="Ann", email="ann@example.com", country="fr")
        customer = ok(create_customer.sync(list_id, client=client, body=body))
        read = ok(retrieve_customer.sync(list_id, customer.id, client=client))
        assert (read.first_name, read.country, read.nb_orders, read.order_total) == ("Ann", "FR", 0, "0.00 EUR")

        card = ok(
            create_card.sync(list_id, client=client, body=CardCreate(customer_id=customer.id, name="Gold", ref="G"))
        )
        body = OperationCreate(delta="12.5", reason="Welcome")
        operation = ok(create_operation.sync(list_id, card.id, client=client, body=body))
        assert operation.new_balance == "12.5", operation

        order = ok(
            create_order.sync(
                client=client,
                body=OrderCreate(
                    status=OrderCreateStatus.NEW,
                    customer_id=customer.id,
                    items=[ItemIn(product_name="Burger", price="9.50 EUR", quantity="2")],
                    loyalty_operations=[OrderLoyaltyOperationIn(ref="G", delta="-2.5", reason="Order")],
                ),
            )
        )
        assert ok(retrieve_order.sync(order.id, client=client)).total == "19.00 EUR"

        assert ok(retrieve_card.sync(list_id, card.id, client=client)).balance == "10.0"
        deltas = [item.delta for item in ok(index_operations.sync(list_id, card.id, client=client))]
        assert deltas == ["-2.5", "12.5"], deltas
        assert [item.nb_orders for item in ok(index_customers.sync(list_id, client=client))] == [1]
        print(f"ok: list {list_id}, customer {customer.id}, card {card.id}, operation {operation.id}, order {order.id}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
