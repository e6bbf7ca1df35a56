"""What a route declares it needs: a database session (read or write), the caller, its body.

A session dependency opens one transaction for the request and ends it when the route returns, before the
response is sent (``scope="function"``): a write whose commit fails answers an error, never a success. Sessions
are cached per request, so a route and the access dependencies it uses share one transaction.
"""

import functools
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.principal import Principal, current_principal
from patronage.bodies import json_object, parse_model


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.db.session(write=False) as session:
        yield session


async def _write_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.db.session(write=True) as session:
        yield session


ReadSession = Annotated[AsyncSession, Depends(_read_session, scope="function")]
WriteSession = Annotated[AsyncSession, Depends(_write_session, scope="function")]
Caller = Annotated[Principal, Depends(current_principal)]


@functools.cache
def _body_dependency(model: type[BaseModel]) -> Any:
    # The caller comes first: an anonymous request is a 401 whatever its body.
    async def read_body(request: Request, _: Caller) -> BaseModel:
        return parse_model(model, await json_object(request), {"settings": request.app.state.settings})

    read_body.body_model = model  # type: ignore[attr-defined]  # read by ApiRoute to document the body
    return read_body


class Body:
    """``fields: Body[CustomerIn]``: the JSON body, validated before any transaction opens (decimals exact)."""

    def __class_getitem__(cls, model: type[BaseModel]) -> Any:
        return Annotated[model, Depends(_body_dependency(model))]
