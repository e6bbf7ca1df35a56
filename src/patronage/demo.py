"""Demo data for ``make run``: a user, account, location, customer list, client and connection.

The demo token is kept in a local file (``PATRONAGE_DEMO_FILE``) so that each ``make run`` can print
it again: the database only holds its hash.
"""

import json
import os
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth import service as auth
from patronage.auth.models import Client, Connection
from patronage.customer_lists import service as lists
from patronage.customer_lists.models import CustomerList
from patronage.customers.models import Customer
from patronage.db import utcnow
from patronage.ids import hash_secret, new_id
from patronage.tenancy import service as tenancy
from patronage.tenancy.models import Account, Location, User

DEMO_EMAIL = "demo@patronage.local"
DEMO_CLIENT = "Patronage demo"
DEMO_SCOPE = "location[all_customer_lists.write,orders.write]"


def _state_file() -> Path:
    return Path(os.environ.get("PATRONAGE_DEMO_FILE", ".patronage-demo.json"))


async def _create_tenancy(session: AsyncSession) -> tuple[Account, Location, CustomerList, Client]:
    user = await tenancy.create_user(session, DEMO_EMAIL, secrets.token_urlsafe(12))
    account = await tenancy.create_account(session, user, "Demo account", "EUR", "FR", "Europe/Paris")
    location = await tenancy.create_location(session, account, "Demo restaurant")
    customer_list = await lists.insert(session, account, location, "Demo customers")
    client = (await auth.create_client(session, DEMO_CLIENT, [])).client
    now = utcnow()
    session.add(
        Customer(
            id=new_id(),
            account_id=account.id,
            customer_list_id=customer_list.id,
            anonymised=False,
            email="jimmy.watson@dummy-mail.org",
            email_search="jimmy.watson@dummy-mail.org",
            first_name="Jimmy",
            last_name="Watson",
            phone="+44123456789",
            city="London",
            country="GB",
            sms_marketing=False,
            email_marketing=True,
            custom_fields={},
            nb_orders=0,
            order_total_minor=0,
            created_at=now,
            updated_at=now,
        )
    )
    await session.flush()
    return account, location, customer_list, client


async def _existing_tenancy(session: AsyncSession, user: User) -> tuple[Account, Location, CustomerList, Client]:
    # The demo user may exist without the rest (an operator's `admin create-user --email demo@...`, an
    # interrupted first run): create what is missing rather than fail on None.
    account = await session.scalar(select(Account).where(Account.user_id == user.id).order_by(Account.created_at))
    if account is None:
        account = await tenancy.create_account(session, user, "Demo account", "EUR", "FR", "Europe/Paris")
    location = await session.scalar(select(Location).where(Location.account_id == account.id).order_by(Location.id))
    if location is None:
        location = await tenancy.create_location(session, account, "Demo restaurant")
    customer_list = await session.scalar(select(CustomerList).where(CustomerList.location_id == location.id))
    if customer_list is None:
        customer_list = await lists.insert(session, account, location, "Demo customers")
    client = await session.scalar(select(Client).where(Client.name == DEMO_CLIENT))
    if client is None:
        client = (await auth.create_client(session, DEMO_CLIENT, [])).client
    return account, location, customer_list, client


async def _saved_token(session: AsyncSession) -> str | None:
    try:
        token = json.loads(_state_file().read_text())["access_token"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    live = await session.scalar(
        select(Connection.id).where(Connection.token_hash == hash_secret(token), Connection.revoked_at.is_(None))
    )
    return token if live else None


async def ensure_demo(session: AsyncSession) -> dict[str, Any]:
    user = await session.scalar(select(User).where(User.email == DEMO_EMAIL))
    created = user is None
    if created:
        account, location, customer_list, client = await _create_tenancy(session)
    else:
        account, location, customer_list, client = await _existing_tenancy(session, user)
    token = None if created else await _saved_token(session)
    token_reused = token is not None
    if token is None:
        answer = await auth.connect(
            session, client, account=account, location=location, scope_text=DEMO_SCOPE, customer_list=None
        )
        token = answer["access_token"]
        state = {"access_token": token, "customer_list_id": customer_list.id, "location_id": location.id}
        path = _state_file()
        path.write_text(json.dumps(state, indent=2) + "\n")
        path.chmod(0o600)
    return {
        "created": created,
        "token_reused": token_reused,
        "access_token": token,
        "account_id": account.id,
        "location_id": location.id,
        "customer_list_id": customer_list.id,
    }
