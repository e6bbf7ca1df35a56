"""The ASGI application: ``create_app(settings)``, or ``patronage.app:create_app`` as a uvicorn factory."""

import asyncio
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from patronage import __version__, logs, sealing
from patronage.auth.principal import PrincipalCache
from patronage.customer_lists.router import router as customer_lists_router
from patronage.customers.router import router as customers_router
from patronage.db import Database
from patronage.edges import metrics
from patronage.edges.middleware import (
    ApiCorsMiddleware,
    BodyLimitMiddleware,
    ETagMiddleware,
    MethodOverrideMiddleware,
    NulGuardMiddleware,
    RequestContextMiddleware,
)
from patronage.edges.ratelimit import Limits, MemoryCounter, RateLimiter, RedisCounter
from patronage.error_handlers import install_error_handlers
from patronage.events import delivery
from patronage.events.router import router as events_router
from patronage.loyalty.router import router as loyalty_router
from patronage.oauth.router import router as oauth_router
from patronage.orders.router import router as orders_router
from patronage.privacy.router import router as privacy_router
from patronage.programmes.router import router as programmes_router
from patronage.routing import install_openapi
from patronage.settings import Settings, get_settings
from patronage.tenancy.router import router as tenancy_router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = Database(settings)
    limiter = _rate_limiter(settings)
    logs.configure(settings.log_level, settings.log_request_values)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        # The sealing keys at start: the key file is created now, and a PostgreSQL deployment without
        # PATRONAGE_SECRET_KEY is warned about now, not at its first request.
        sealing.keyring(settings)
        # Each server process also delivers webhooks (claims are safe between processes and hosts).
        stop = asyncio.Event()
        worker = asyncio.create_task(delivery.run(settings, db, stop)) if settings.callback_worker else None
        yield
        if worker is not None:
            stop.set()
            worker.cancel()
            with suppress(asyncio.CancelledError):
                await worker
        await db.dispose()
        if limiter is not None and isinstance(limiter.counter, RedisCounter):
            await limiter.counter.close()

    app = FastAPI(
        title="Patronage",
        version=__version__,
        description=(
            "Customer and loyalty API, wire-compatible with the HubRise Customers API. Beyond what each schema says:"
            " strings (keys included) may not hold a NUL character or a lone surrogate, and a body field's value may"
            " nest at most 32 levels of objects and arrays (422 naming the field); cursors are opaque, only those"
            " the server issued are valid."
        ),
        lifespan=lifespan,
    )
    app.state.db = db
    app.state.settings = settings
    app.state.rate_limiter = limiter
    app.state.principal_cache = PrincipalCache(settings.auth_cache_seconds)
    install_error_handlers(app)
    install_openapi(app)
    # Innermost first: ETags see the final body; the request context wraps everything.
    app.add_middleware(ETagMiddleware)
    app.add_middleware(MethodOverrideMiddleware)
    app.add_middleware(NulGuardMiddleware)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(ApiCorsMiddleware)
    app.add_middleware(RequestContextMiddleware, access_log=settings.access_log)

    # Each feature's router carries the /v1 prefix itself, so that route templates (logs, metrics,
    # rate-limit classes) are the full paths.
    for router in (
        tenancy_router,
        customer_lists_router,
        customers_router,
        loyalty_router,
        programmes_router,
        orders_router,
        events_router,
        privacy_router,
        oauth_router,
    ):
        # The routes are added to the app's own router, not through include_router: FastAPI 0.165 matches
        # included routers through wrappers that cost ~20 % of a light request (bench/RESULTS.md, py-spy).
        # The routers' prefixes and tags are already in their routes.
        app.router.routes.extend(router.routes)

    @app.get("/health", tags=["operations"], summary="200 when the database answers, 503 when it does not")
    async def health(request: Request) -> JSONResponse:
        if await request.app.state.db.ping():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "unavailable", "error_type": "internal_error"}, status_code=503)

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    return app


def _rate_limiter(settings: Settings) -> RateLimiter | None:
    if not settings.rate_limits:
        return None
    defaults = Limits(
        per_minute=settings.rate_limit_per_minute,
        per_hour=settings.rate_limit_per_hour,
        per_day=settings.rate_limit_per_day,
        heavy_per_minute=settings.rate_limit_heavy_per_minute,
    )
    counter = RedisCounter(settings.redis_url) if settings.redis_url else MemoryCounter()
    return RateLimiter(counter, defaults)
