"""A customer's order statistics (SPEC §8): ``nb_orders``, ``order_total``, first and last order dates.

They are kept on the customer's row and recomputed from its orders whenever an order can move them. The orders
are read through their table only (``orders.models`` depends on no feature): the orders feature calls in here,
customers never call the orders feature.
"""

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.customer_lists.models import CustomerList
from patronage.customers.models import Customer
from patronage.orders.models import Order
from patronage.tenancy.models import Account, Location

# Orders in these statuses do not count in a customer's statistics.
UNCOUNTED_STATUSES = ("rejected", "cancelled")


async def refresh_customer_statistics(session: AsyncSession, customer_id: str) -> None:
    """Recomputes a customer's order statistics from its orders, under the customer's row lock.

    Called in the transaction of every change that can move them (an order linked, a status changed): the
    lock orders concurrent refreshes of one customer, and the aggregate, run after the lock is taken, sees
    every order committed before. Orders in another currency than the list's count, but not in the total.
    """
    customer = await session.scalar(select(Customer).where(Customer.id == customer_id).with_for_update())
    if customer is None:
        return
    currency = await session.scalar(
        select(func.coalesce(Location.currency, Account.currency))
        .select_from(CustomerList)
        .join(Account, Account.id == CustomerList.account_id)
        .outerjoin(Location, Location.id == CustomerList.location_id)
        .where(CustomerList.id == customer.customer_list_id)
    )
    count, total, first, last = (
        await session.execute(
            select(
                func.count(Order.id),
                func.coalesce(func.sum(case((Order.currency == currency, Order.total_minor), else_=0)), 0),
                func.min(Order.created_at),
                func.max(Order.created_at),
            ).where(Order.customer_id == customer_id, Order.status.not_in(UNCOUNTED_STATUSES))
        )
    ).one()
    customer.nb_orders = int(count)
    customer.order_total_minor = int(total)
    customer.first_order_at = first
    customer.last_order_at = last
    await session.flush()
