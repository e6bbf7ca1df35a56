"""``/oauth2/v1``: the authorisation pages (login, consent), and the token and revoke endpoints (SPEC §10).

The pages answer HTML; an untrusted client or redirect_uri gets an error page, never a redirect. Forms are
protected against CSRF: the login form by a random cookie echoed in the form (double submit), the consent
form by a token derived from the login cookie. The login cookie is random, kept hashed in the database,
HttpOnly and SameSite=Lax, and scoped to ``/oauth2``.
"""

import json
import secrets
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from patronage.auth.scopes import InvalidScope
from patronage.bodies import is_json_media_type
from patronage.db import Database
from patronage.errors import TooManyRequests, UnsupportedMediaType
from patronage.ids import hash_secret
from patronage.oauth import pages
from patronage.oauth import service as oauth
from patronage.oauth.service import AuthorizeRequest, BadAuthorizeRequest, OAuthError

router = APIRouter(prefix="/oauth2/v1", tags=["oauth"])

LOGIN_COOKIE = "patronage_oauth_login"
LOGIN_CSRF_COOKIE = "patronage_oauth_csrf"
COOKIE_PATH = "/oauth2"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _db(request: Request) -> Database:
    return request.app.state.db


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
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        return pages.error_page("This form must be sent as application/x-www-form-urlencoded.", 415)
    try:
        pairs = parse_qsl((await request.body()).decode(), keep_blank_values=True)
    except UnicodeDecodeError:
        return pages.error_page("This form is not valid UTF-8.")
    form: dict[str, str] = {}
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            return pages.error_page("This form holds a NUL character.")
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


@router.get("/authorize", summary="Authorisation page: log in, then choose what to grant", include_in_schema=False)
async def authorize(request: Request) -> Response:
    req = AuthorizeRequest.from_params(request.query_params)
    async with _db(request).session(write=False) as session:
        try:
            client = await oauth.check_client(session, req)
        except BadAuthorizeRequest as exc:
            return pages.error_page(str(exc))
        response_type = request.query_params.get("response_type")
        if response_type and response_type != "code":
            return _error_redirect(req, "unsupported_response_type", 302)
        try:
            scope = oauth.check_scope(req)
        except InvalidScope:
            return _error_redirect(req, "invalid_scope", 302)
        cookie = request.cookies.get(LOGIN_COOKIE)
        user = await oauth.logged_in_user(session, cookie)
        if user is None:
            return _login_page(request, client.name, req)
        assert cookie is not None
        choices = await oauth.choices_of(session, user)
    return pages.consent_page(
        client.name,
        user.email,
        scope,
        choices,
        req.hidden_fields(),
        oauth.csrf_token(cookie),
        wants_list=oauth.needs_customer_list(scope),
    )


@router.post("/login", summary="The login form of the authorisation page", include_in_schema=False)
async def login(request: Request) -> Response:
    form = await _form(request)
    if isinstance(form, HTMLResponse):
        return form
    req = AuthorizeRequest.from_params(form)
    # Only the new login is a write: the throttle and the password hash run outside a write transaction
    # (on SQLite one holds the database's single write lock).
    async with _db(request).session(write=False) as session:
        try:
            client = await oauth.check_client(session, req)
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
            page = _login_page(request, client.name, req, error=exc.message + ".", email=email, status=429)
            page.headers.update(exc.headers or {})
            return page
        user = await oauth.check_password(session, email, form.get("password", ""))
    if user is None:
        return _login_page(request, client.name, req, error="Wrong email or password.", email=email, status=401)
    async with _db(request).session(write=True) as session:
        token = await oauth.open_login(session, user)
    response = _redirect(f"/oauth2/v1/authorize?{req.query()}", 303)
    _set_cookie(request, response, LOGIN_COOKIE, token, int(oauth.LOGIN_LIFETIME.total_seconds()))
    return response


@router.post("/authorize", summary="The consent form of the authorisation page", include_in_schema=False)
async def consent(request: Request) -> Response:
    form = await _form(request)
    if isinstance(form, HTMLResponse):
        return form
    req = AuthorizeRequest.from_params(form)
    async with _db(request).session(write=True) as session:
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
            return pages.consent_page(
                client.name,
                user.email,
                scope,
                choices,
                req.hidden_fields(),
                oauth.csrf_token(cookie),
                wants_list=oauth.needs_customer_list(scope),
                error=str(exc),
                chosen=form,
                status=400,
            )
        code = await oauth.issue_code(session, client, user, req, scope, grant)
    if req.redirect_uri == oauth.OOB:
        return pages.oob_page(code)
    return _redirect(req.redirect(code=code), 303)


async def _params(request: Request) -> dict[str, Any]:
    """Query parameters (as HubRise's examples send them), overridden by a form or JSON body."""
    params: dict[str, Any] = dict(request.query_params)
    raw = await request.body()
    if not raw.strip():
        return params
    content_type = request.headers.get("content-type")
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if is_json_media_type(content_type):
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise OAuthError("invalid_request", "Malformed JSON body") from None
        if not isinstance(body, dict):
            raise OAuthError("invalid_request", "The JSON body must be an object")
    elif media_type == "application/x-www-form-urlencoded":
        try:
            body = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            raise OAuthError("invalid_request", "The form body is not valid UTF-8") from None
    else:
        raise UnsupportedMediaType("The body must be application/x-www-form-urlencoded or JSON")
    params.update(body)
    for key, value in params.items():
        if isinstance(value, str) and "\x00" in value:
            raise OAuthError("invalid_request", f"The {key} parameter must not hold a NUL character")
    return params


@router.post("/token", summary="Exchanges an authorisation code for the connection's access token")
async def token(request: Request) -> JSONResponse:
    params = await _params(request)
    grant_type = params.get("grant_type")
    if grant_type not in (None, "", "authorization_code"):
        raise OAuthError("unsupported_grant_type", "Only the authorization_code grant type is supported")
    client_id, secret, basic = oauth.client_credentials(request.headers.get("authorization"), params)
    async with _db(request).session(write=True) as session:
        client = await oauth.authenticate_client(session, client_id, secret, basic=basic)
        answer = await oauth.exchange_code(
            session, client, params.get("code"), params.get("redirect_uri"), settings=request.app.state.settings
        )
    return JSONResponse(answer, headers=_NO_STORE)


@router.post("/revoke", summary="Revokes a connection by its access token (idempotent)")
async def revoke(request: Request) -> JSONResponse:
    params = await _params(request)
    client_id, secret, basic = oauth.client_credentials(request.headers.get("authorization"), params)
    async with _db(request).session(write=True) as session:
        client = await oauth.authenticate_client(session, client_id, secret, basic=basic)
        await oauth.revoke(session, client, params.get("token"))
    cache = getattr(request.app.state, "principal_cache", None)
    if cache is not None and isinstance(params.get("token"), str):
        cache.forget(hash_secret(params["token"]))
    return JSONResponse({}, headers=_NO_STORE)
