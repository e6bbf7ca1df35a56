"""The authorisation server's logic: client checks, browser logins, codes, token exchange and revocation."""

import asyncio
import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from patronage import sealing
from patronage.auth import service as auth
from patronage.auth.models import Client, Connection
from patronage.auth.scopes import InvalidScope, Scope, parse_scope
from patronage.customer_lists.models import CustomerList
from patronage.db import utcnow
from patronage.errors import AppError
from patronage.ids import hash_secret
from patronage.oauth.models import OAuthCode, OAuthLogin
from patronage.settings import Settings
from patronage.tenancy import service as tenancy
from patronage.tenancy.models import Account, Location, User

OOB = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = timedelta(minutes=10)
LOGIN_LIFETIME = timedelta(hours=12)


class OAuthError(AppError):
    """An error of the token and revoke endpoints: the house error JSON plus RFC 6749's ``error`` code."""

    status_code = 400
    error_type = "unprocessable_entity"

    def __init__(self, error: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message, headers=headers)
        self.error = error

    def body(self) -> dict[str, Any]:
        return {**super().body(), "error": self.error}


class InvalidClient(OAuthError):
    status_code = 401
    error_type = "unauthorized"

    def __init__(self, message: str = "The client credentials are invalid", *, basic: bool = False):
        headers = {"WWW-Authenticate": 'Basic realm="oauth2"'} if basic else None
        super().__init__("invalid_client", message, headers)


# --- authorisation requests -------------------------------------------------------------------------------


class BadAuthorizeRequest(Exception):
    """The client or redirect_uri cannot be trusted: an error page, never a redirect."""


@dataclass(frozen=True)
class AuthorizeRequest:
    """From the query string or a page's form: both hold no NUL character (:mod:`patronage.oauth.params`)."""

    client_id: str
    redirect_uri: str
    scope_text: str
    state: str | None
    device_id: str | None

    @classmethod
    def from_params(cls, params: Any) -> "AuthorizeRequest":
        def text(name: str) -> str | None:
            value = params.get(name)
            return value if isinstance(value, str) and value != "" else None

        return cls(
            client_id=(text("client_id") or "").strip(),
            redirect_uri=(text("redirect_uri") or "").strip(),
            scope_text=text("scope") or "",
            state=text("state"),
            device_id=text("device_id"),
        )

    def hidden_fields(self) -> dict[str, str]:
        fields = {"client_id": self.client_id, "redirect_uri": self.redirect_uri, "scope": self.scope_text}
        if self.state is not None:
            fields["state"] = self.state
        if self.device_id is not None:
            fields["device_id"] = self.device_id
        return fields

    def query(self) -> str:
        return urlencode(self.hidden_fields())

    def redirect(self, **params: str) -> str:
        """``redirect_uri`` with ``params`` (and ``state``) added to its query."""
        if self.state is not None:
            params = {**params, "state": self.state}
        parts = urlsplit(self.redirect_uri)
        query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
        return urlunsplit(parts._replace(query=urlencode(query)))


async def check_client(session: AsyncSession, request: AuthorizeRequest) -> Client:
    if not request.client_id:
        raise BadAuthorizeRequest("The client_id parameter is missing.")
    if len(request.client_id) > 64:
        raise BadAuthorizeRequest("This application is unknown.")
    client = await session.get(Client, request.client_id)
    if client is None:
        raise BadAuthorizeRequest("This application is unknown.")
    if not request.redirect_uri:
        raise BadAuthorizeRequest("The redirect_uri parameter is missing.")
    if request.redirect_uri != OOB and request.redirect_uri not in (client.redirect_uris or []):
        raise BadAuthorizeRequest("This redirect_uri is not registered for this application.")
    return client


def check_scope(request: AuthorizeRequest) -> Scope:
    """Raises ``InvalidScope``."""
    if not request.scope_text.strip():
        raise InvalidScope("the scope parameter is missing")
    return parse_scope(request.scope_text)


def needs_customer_list(scope: Scope) -> bool:
    return any(p.startswith("customer_list.") for p in scope.permissions)


# --- browser logins and CSRF ----------------------------------------------------------------------------------

_dummy_hash: str | None = None


async def check_password(session: AsyncSession, email: str, password: str) -> User | None:
    """The user whose email and password these are, or None. The hash runs in a thread either way."""
    global _dummy_hash
    email = email.strip().lower()
    user = await session.scalar(select(User).where(User.email == email)) if email else None
    hasher = tenancy.password_hasher()
    if user is None:
        # Spend the same time as for a real user, so that timing does not tell which emails exist.
        if _dummy_hash is None:
            _dummy_hash = await asyncio.to_thread(hasher.hash, secrets.token_hex(8))
        await asyncio.to_thread(hasher.verify, password, _dummy_hash)
        return None
    try:
        ok = await asyncio.to_thread(hasher.verify, password, user.password_hash)
    except Exception:
        ok = False
    return user if ok else None


async def open_login(session: AsyncSession, user: User) -> str:
    """A new login for ``user``; returns the cookie value (kept only hashed)."""
    now = utcnow()
    await session.execute(delete(OAuthLogin).where(OAuthLogin.expires_at < now))
    token = secrets.token_urlsafe(32)
    session.add(
        OAuthLogin(token_hash=hash_secret(token), user_id=user.id, created_at=now, expires_at=now + LOGIN_LIFETIME)
    )
    await session.flush()
    return token


async def logged_in_user(session: AsyncSession, cookie: str | None) -> User | None:
    if not cookie or len(cookie) > 128:
        return None
    login = await session.get(OAuthLogin, hash_secret(cookie))
    if login is None or login.expires_at <= utcnow():
        return None
    return await session.get(User, login.user_id)


def csrf_token(login_cookie: str) -> str:
    """The consent form's CSRF token: derived from the login's secret cookie, so tied to that login."""
    return hmac.new(login_cookie.encode(), b"patronage-oauth-consent", hashlib.sha256).hexdigest()


def csrf_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


# --- consent --------------------------------------------------------------------------------------------------


@dataclass
class Choices:
    accounts: list[Account]
    locations: list[Location]
    customer_lists: list[CustomerList]

    def account(self, account_id: str) -> Account | None:
        return next((a for a in self.accounts if a.id == account_id), None)

    def location(self, location_id: str) -> Location | None:
        return next((x for x in self.locations if x.id == location_id), None)

    def customer_list(self, list_id: str) -> CustomerList | None:
        return next((x for x in self.customer_lists if x.id == list_id), None)


async def choices_of(session: AsyncSession, user: User) -> Choices:
    accounts = list(await session.scalars(select(Account).where(Account.user_id == user.id).order_by(Account.name)))
    ids = [a.id for a in accounts]
    locations = (
        list(await session.scalars(select(Location).where(Location.account_id.in_(ids)).order_by(Location.id)))
        if ids
        else []
    )
    lists = (
        list(
            await session.scalars(
                select(CustomerList)
                .where(CustomerList.account_id.in_(ids))
                .order_by(CustomerList.account_id, CustomerList.location_id, CustomerList.name)
            )
        )
        if ids
        else []
    )
    return Choices(accounts, locations, lists)


@dataclass
class Grant:
    account: Account
    location: Location | None
    customer_list: CustomerList | None


class BadChoice(Exception):
    pass


def resolve_grant(
    choices: Choices, scope: Scope, *, account_id: str | None, location_id: str | None, list_id: str | None
) -> Grant:
    """The grant the user picked on the consent page; ``BadChoice`` when it is not theirs or does not fit."""
    if scope.level == "location":
        location = choices.location(location_id or "")
        if location is None:
            raise BadChoice("Choose one of your locations.")
        account = choices.account(location.account_id)
        assert account is not None
    else:
        location = None
        account = choices.account(account_id or "")
        if account is None:
            raise BadChoice("Choose one of your accounts.")
    customer_list = None
    if needs_customer_list(scope):
        customer_list = choices.customer_list(list_id or "")
        reachable = (
            customer_list is not None
            and customer_list.account_id == account.id
            and (location is None or customer_list.location_id in (None, location.id))
        )
        if not reachable:
            raise BadChoice(
                "Choose a customer list of this location or of its account."
                if location
                else "Choose a customer list of this account."
            )
    return Grant(account, location, customer_list)


async def issue_code(
    session: AsyncSession, client: Client, user: User, request: AuthorizeRequest, scope: Scope, grant: Grant
) -> str:
    now = utcnow()
    await session.execute(delete(OAuthCode).where(OAuthCode.expires_at < now - timedelta(days=1)))
    code = secrets.token_hex(20)
    session.add(
        OAuthCode(
            code_hash=hash_secret(code),
            client_id=client.id,
            user_id=user.id,
            redirect_uri=request.redirect_uri,
            scope=str(scope),
            account_id=grant.account.id,
            location_id=grant.location.id if grant.location else None,
            customer_list_id=grant.customer_list.id if grant.customer_list else None,
            device_id=request.device_id,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    await session.flush()
    return code


# --- the token and revoke endpoints ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    secret: str
    basic: bool  # sent by HTTP Basic: a refusal asks for it again (WWW-Authenticate)


def client_credentials(authorization: str | None, params: dict[str, Any]) -> ClientCredentials:
    """From HTTP Basic, else from the parameters."""
    if authorization and authorization[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except ValueError:
            raise InvalidClient("Malformed HTTP Basic credentials", basic=True) from None
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise InvalidClient("Malformed HTTP Basic credentials", basic=True)
        return ClientCredentials(unquote(client_id), unquote(secret), basic=True)
    client_id, secret = params.get("client_id"), params.get("client_secret")
    if not isinstance(client_id, str) or not isinstance(secret, str) or not client_id or not secret:
        raise InvalidClient("Client authentication is required (HTTP Basic, or client_id and client_secret)")
    return ClientCredentials(client_id, secret, basic=False)


async def authenticate_client(session: AsyncSession, credentials: ClientCredentials) -> Client:
    client_id = credentials.client_id
    # HTTP Basic credentials are decoded here: nothing at the edge refused a NUL in them.
    client = await session.get(Client, client_id) if len(client_id) <= 64 and "\x00" not in client_id else None
    if client is None or not hmac.compare_digest(client.secret_hash, hash_secret(credentials.secret)):
        raise InvalidClient(basic=credentials.basic)
    return client


_BAD_CODE = "The authorization code is invalid, has expired or has already been used"


async def exchange_code(
    session: AsyncSession, client: Client, code: Any, redirect_uri: Any = None, *, settings: Settings | None = None
) -> dict[str, Any]:
    if not isinstance(code, str) or not code:
        raise OAuthError("invalid_request", "The code parameter is required")
    if len(code) > 128:
        raise OAuthError("invalid_grant", _BAD_CODE)
    now = utcnow()
    code_hash = hash_secret(code)
    # Claimed atomically: of two concurrent exchanges, one only succeeds.
    claimed = await session.execute(
        update(OAuthCode)
        .where(
            OAuthCode.code_hash == code_hash,
            OAuthCode.client_id == client.id,
            OAuthCode.used_at.is_(None),
            OAuthCode.expires_at > now,
        )
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        raise OAuthError("invalid_grant", _BAD_CODE)
    row = await session.get(OAuthCode, code_hash)
    assert row is not None
    if isinstance(redirect_uri, str) and redirect_uri and redirect_uri != row.redirect_uri:
        raise OAuthError("invalid_grant", "The redirect_uri does not match the one the code was issued for")
    account = await session.get(Account, row.account_id)
    location = await session.get(Location, row.location_id) if row.location_id else None
    customer_list = await session.get(CustomerList, row.customer_list_id) if row.customer_list_id else None
    assert account is not None
    return await _connection_answer(session, client, row, account, location, customer_list, settings)


def derived_token(client_secret: str, salt: str) -> str:
    """An OAuth connection's access token: 32 hex characters that only its client's secret and the
    connection's salt make. The database keeps the token's hash and the salt, never the token: a re-authorised
    grant answers it again (SPEC §10), and a copy of the database alone yields none."""
    message = b"patronage oauth access token:" + salt.encode()
    return hmac.new(client_secret.encode(), message, hashlib.sha256).hexdigest()[:32]


async def _client_secret(session: AsyncSession, client: Client, settings: Settings | None) -> str | None:
    if client.secret_sealed is None:
        return None
    try:
        return await sealing.unseal(session, client.secret_sealed, settings)
    except sealing.SealError:
        return None


async def _token_of(
    session: AsyncSession, connection: Connection, secret: str | None, settings: Settings | None
) -> str | None:
    if connection.token_salt is not None:
        return derived_token(secret, connection.token_salt) if secret is not None else None
    try:  # made before migration 0009: sealed
        return await sealing.unseal(session, connection.token_sealed or "", settings)
    except sealing.SealError:
        return None


async def _connection_answer(
    session: AsyncSession,
    client: Client,
    row: OAuthCode,
    account: Account,
    location: Location | None,
    customer_list: CustomerList | None,
    settings: Settings | None,
) -> dict[str, Any]:
    """The live connection for the same grant and device answers its token again; otherwise a new one."""
    # One client's exchanges take turns here (on SQLite every write does), so that two at once for the
    # same grant cannot both find no connection and make two.
    await session.execute(select(Client.id).where(Client.id == client.id).with_for_update())
    same = select(Connection).where(
        Connection.client_id == client.id,
        Connection.account_id == account.id,
        Connection.location_id.is_(None) if location is None else Connection.location_id == location.id,
        Connection.scope == row.scope,
        Connection.customer_list_id.is_(None)
        if customer_list is None
        else Connection.customer_list_id == customer_list.id,
        Connection.device_id.is_(None) if row.device_id is None else Connection.device_id == row.device_id,
        Connection.revoked_at.is_(None),
        or_(Connection.token_salt.is_not(None), Connection.token_sealed.is_not(None)),
    )
    existing = (await session.scalars(same.order_by(Connection.created_at.desc()).limit(1))).first()
    secret = await _client_secret(session, client, settings)
    if existing is not None:
        token = await _token_of(session, existing, secret, settings)
        if token is not None and hash_secret(token) == existing.token_hash:
            return auth.token_answer(existing, token, account, location, customer_list)
    # Without its client's secret (a client made before secrets were sealed), a token cannot be made again.
    salt = secrets.token_hex(16) if secret is not None else None
    answer = await auth.connect(
        session,
        client,
        account=account,
        location=location,
        scope_text=row.scope,
        customer_list=customer_list,
        device_id=row.device_id,
        token=derived_token(secret, salt) if secret is not None and salt is not None else None,
    )
    if salt is not None:
        connection = await session.get(Connection, answer["connection_id"])
        assert connection is not None
        connection.token_salt = salt
        await session.flush()
    return answer


async def grant_token(
    session: AsyncSession, credentials: ClientCredentials, params: dict[str, Any], settings: Settings
) -> dict[str, Any]:
    """The token endpoint: the client authenticated, its code exchanged for the connection's token answer."""
    client = await authenticate_client(session, credentials)
    return await exchange_code(session, client, params.get("code"), params.get("redirect_uri"), settings=settings)


async def revoke(session: AsyncSession, credentials: ClientCredentials, token: Any) -> None:
    """Revokes the client's connection holding ``token``; unknown or already revoked tokens are no error."""
    client = await authenticate_client(session, credentials)
    if not isinstance(token, str) or not token:
        raise OAuthError("invalid_request", "The token parameter is required")
    await session.execute(
        update(Connection)
        .where(
            Connection.token_hash == hash_secret(token),
            Connection.client_id == client.id,
            Connection.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow(), token_sealed=None)
    )
