"""``/oauth2/v1``: the authorisation pages (login, consent), and the token and revoke endpoints (SPEC §10).

The pages answer HTML; an untrusted client or redirect_uri gets an error page, never a redirect. Forms are
protected against CSRF: the login form by a random cookie echoed in the form (double submit), the consent
form by a token derived from the login cookie. The login cookie is random, kept hashed in the database,
HttpOnly and SameSite=Lax, and scoped to ``/oauth2``.
"""

import secrets
from typing import Any

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from patronage.auth.models import Client
from patronage.auth.scopes import InvalidScope, Scope
from patronage.deps import ReadSession, WriteSession
from patronage.errors import TooManyRequests
from patronage.ids import hash_secret
from patronage.oauth import pages
from patronage.oauth import service as oauth
from patronage.oauth.params import FORM, BadForm, Credentials, Params, TokenParams, form_pairs, media_type
from patronage.oauth.schemas import (
    EDGE_ERRORS,
    FORM_ERRORS,
    PARAMETERS_NOTE,
    ConsentForm,
    LoginForm,
    Revoked,
    RevokeRequest,
    TokenAnswer,
    TokenRequest,
    client_errors,
    html_answer,
    redirect_answer,
    request_body,
)
from patronage.oauth.service import AuthorizeRequest, BadAuthorizeRequest, Choices
from patronage.routing import ApiRouter
from patronage.tenancy.models import User

router = ApiRouter(prefix="/oauth2/v1", tags=["oauth"])

LOGIN_COOKIE = "patronage_oauth_login"
LOGIN_CSRF_COOKIE = "patronage_oauth_csrf"
COOKIE_PATH = "/oauth2"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


# --- pages ---------------------------------------------------------------------------------------------------


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def _redirect(location: str, status: int) -> RedirectResponse:
    return RedirectResponse(location, status_code=status, headers=_NO_STORE)


def _error_redirect(req: AuthorizeRequest, error: str, status: int) -> Response:
    if req.redirect_uri == oauth.OOB:
        return pages.oob_error_page(error)
    return _redirect(req.redirect(error=error), status)


async def _form(request: Request) -> dict[str, str] | HTMLResponse:
    """A page's form, or the error page that says why it cannot be read."""
    if media_type(request) != FORM:
        return pages.error_page("This form must be sent as application/x-www-form-urlencoded.", 415)
    try:
        pairs = form_pairs(await request.body())
    except BadForm as exc:
        return pages.error_page(
            "This form is not valid UTF-8." if exc.field is None else "This form holds a NUL character."
        )
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


def _login_page(
    request: Request,
    client_name: str,
    req: AuthorizeRequest,
    *,
    error: str | None = None,
    email: str = "",
    status: int = 200,
) -> HTMLResponse:
    csrf = request.cookies.get(LOGIN_CSRF_COOKIE)
    fresh = not csrf or len(csrf) > 128
    if fresh:
        csrf = secrets.token_urlsafe(32)
    assert csrf is not None
    response = pages.login_page(client_name, req.hidden_fields(), csrf, error=error, email=email, status=status)
    if fresh:
        _set_cookie(request, response, LOGIN_CSRF_COOKIE, csrf)
    return response


def _consent_page(
    client: Client, user: User, scope: Scope, choices: Choices, req: AuthorizeRequest, cookie: str, **shown: Any
) -> HTMLResponse:
    return pages.consent_page(
        client.name,
        user.email,
        scope,
        choices,
        req.hidden_fields(),
        oauth.csrf_token(cookie),
        wants_list=oauth.needs_customer_list(scope),
        **shown,
    )


async def _authorize_query(
    client_id: str | None = Query(None, description="The application's client id"),
    redirect_uri: str | None = Query(
        None, description=f"One of the client's registered redirect URIs, or {oauth.OOB} (the code is shown)"
    ),
    scope: str | None = Query(
        None, description="location[...] or account[...], optionally followed by ,profile or ,profile_with_email"
    ),
    state: str | None = Query(None, description="Sent back with the code or the error"),
    device_id: str | None = Query(None, description="Tells apart the connections of one app on several devices"),
) -> AuthorizeRequest:
    params = {"client_id": client_id, "redirect_uri": redirect_uri, "scope": scope, "state": state}
    return AuthorizeRequest.from_params({**params, "device_id": device_id})


@router.get(
    "/authorize",
    summary="Authorisation page: log in, then choose what to grant",
    response_class=HTMLResponse,
    responses={
        200: html_answer("The login page, or the consent page once logged in"),
        302: redirect_answer("Back to redirect_uri with error=invalid_scope or unsupported_response_type, and state"),
        400: html_answer("An unknown client or an unregistered redirect_uri (never a redirect), or an oob error page"),
        422: EDGE_ERRORS[422],
    },
)
async def authorize(
    request: Request,
    session: ReadSession,
    req: AuthorizeRequest = Depends(_authorize_query),
    response_type: str | None = Query(None, description="code, the only response type"),
) -> Response:
    try:
        client = await oauth.check_client(session, req)
    except BadAuthorizeRequest as exc:
        return pages.error_page(str(exc))
    if response_type and response_type != "code":
        return _error_redirect(req, "unsupported_response_type", 302)
    try:
        scope = oauth.check_scope(req)
    except InvalidScope:
        return _error_redirect(req, "invalid_scope", 302)
    cookie = request.cookies.get(LOGIN_COOKIE)
    user = await oauth.logged_in_user(session, cookie)
    if user is None or cookie is None:
        return _login_page(request, client.name, req)
    return _consent_page(client, user, scope, await oauth.choices_of(session, user), req, cookie)


@router.post(
    "/login",
    summary="The login form of the authorisation page",
    status_code=303,
    response_class=RedirectResponse,
    responses={
        303: redirect_answer("Logged in (the login cookie is set): back to the authorisation page"),
        **FORM_ERRORS,
        401: html_answer("Wrong email or password: the login page again"),
        429: {
            **html_answer("Too many sign-in attempts for this email: the login page again"),
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        },
    },
    openapi_extra=request_body(LoginForm, FORM),
)
async def login(request: Request, session: WriteSession) -> Response:
    form = await _form(request)
    if isinstance(form, HTMLResponse):
        return form
    req = AuthorizeRequest.from_params(form)
    # Two transactions. The checks, the throttle and the password hash (slow on purpose) run in this read
    # transaction, not in ``session``: a write transaction holds SQLite's single write lock. It ends before
    # ``session`` takes a connection (at its first statement, in open_login), so the request never holds two.
    async with request.app.state.db.session(write=False) as reads:
        try:
            client = await oauth.check_client(reads, req)
        except BadAuthorizeRequest as exc:
            return pages.error_page(str(exc))
        if not oauth.csrf_matches(request.cookies.get(LOGIN_CSRF_COOKIE), form.get("csrf_token")):
            return pages.error_page("This form has expired or was not sent by this site. Start again.", 403)
        email = form.get("email", "")
        limiter = request.app.state.rate_limiter
        try:
            if limiter is not None:
                await limiter.check_sign_in(email)
        except TooManyRequests as exc:
            throttled = _login_page(request, client.name, req, error=exc.message + ".", email=email, status=429)
            throttled.headers.update(exc.headers or {})
            return throttled
        user = await oauth.check_password(reads, email, form.get("password", ""))
    if user is None:
        return _login_page(request, client.name, req, error="Wrong email or password.", email=email, status=401)
    token = await oauth.open_login(session, user)
    response = _redirect(f"/oauth2/v1/authorize?{req.query()}", 303)
    _set_cookie(request, response, LOGIN_COOKIE, token, int(oauth.LOGIN_LIFETIME.total_seconds()))
    return response


@router.post(
    "/authorize",
    summary="The consent form of the authorisation page",
    response_class=HTMLResponse,
    responses={
        200: html_answer(f"For {oauth.OOB}: the code, shown on a page"),
        303: redirect_answer("Back to redirect_uri with the code (or error=access_denied, invalid_scope) and state"),
        **FORM_ERRORS,
        400: html_answer("An unknown client, an unregistered redirect_uri, a choice that is not the user's: a page"),
        401: html_answer("The login has expired: the login page again"),
    },
    openapi_extra=request_body(ConsentForm, FORM),
)
async def consent(request: Request, session: WriteSession) -> Response:
    form = await _form(request)
    if isinstance(form, HTMLResponse):
        return form
    req = AuthorizeRequest.from_params(form)
    try:
        client = await oauth.check_client(session, req)
    except BadAuthorizeRequest as exc:
        return pages.error_page(str(exc))
    try:
        scope = oauth.check_scope(req)
    except InvalidScope:
        return _error_redirect(req, "invalid_scope", 303)
    cookie = request.cookies.get(LOGIN_COOKIE)
    user = await oauth.logged_in_user(session, cookie)
    if user is None or cookie is None:
        return _login_page(request, client.name, req, error="Your session has expired: log in again.", status=401)
    if not oauth.csrf_matches(oauth.csrf_token(cookie), form.get("csrf_token")):
        return pages.error_page("This form has expired or was not sent by this site. Start again.", 403)
    decision = form.get("decision")
    if decision == "deny":
        return _error_redirect(req, "access_denied", 303)
    if decision != "allow":
        return pages.error_page("Choose Allow or Deny.")
    choices = await oauth.choices_of(session, user)
    try:
        grant = oauth.resolve_grant(
            choices,
            scope,
            account_id=form.get("account_id"),
            location_id=form.get("location_id"),
            list_id=form.get("customer_list_id"),
        )
    except oauth.BadChoice as exc:
        return _consent_page(client, user, scope, choices, req, cookie, error=str(exc), chosen=form, status=400)
    code = await oauth.issue_code(session, client, user, req, scope, grant)
    if req.redirect_uri == oauth.OOB:
        return pages.oob_page(code)
    return _redirect(req.redirect(code=code), 303)


# --- the token and revoke endpoints ---------------------------------------------------------------------------


@router.post(
    "/token",
    summary="Exchanges an authorisation code for the connection's access token",
    description=PARAMETERS_NOTE,
    response_model=TokenAnswer,
    responses={
        200: {"description": "The connection's access token and what it grants"},
        **client_errors(
            "invalid_request, invalid_grant (a code that is unknown, used, expired or another's) or "
            "unsupported_grant_type"
        ),
    },
    openapi_extra=request_body(TokenRequest, FORM, "application/json"),
)
async def token(params: TokenParams, credentials: Credentials, session: WriteSession, request: Request) -> Response:
    answer = await oauth.grant_token(session, credentials, params, request.app.state.settings)
    return JSONResponse(answer, headers=_NO_STORE)


@router.post(
    "/revoke",
    summary="Revokes a connection by its access token (idempotent)",
    description=PARAMETERS_NOTE,
    response_model=Revoked,
    responses={
        200: {"description": "Revoked, or there was nothing to revoke"},
        **client_errors("invalid_request: no token, or parameters that cannot be read"),
    },
    openapi_extra=request_body(RevokeRequest, FORM, "application/json"),
)
async def revoke(params: Params, credentials: Credentials, request: Request) -> Response:
    # Its own transaction, not WriteSession (committed only after the route returns): this process forgets the
    # token once the revocation has committed; forgotten before, a request in between could cache it again.
    async with request.app.state.db.session(write=True) as session:
        await oauth.revoke(session, credentials, params.get("token"))
    cache = getattr(request.app.state, "principal_cache", None)
    if cache is not None and isinstance(params.get("token"), str):
        cache.forget(hash_secret(params["token"]))
    return JSONResponse({}, headers=_NO_STORE)
