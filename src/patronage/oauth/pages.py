"""The authorisation pages: plain HTML, no scripts, no external assets; every value escaped.

The markup is in ``templates/`` (Jinja2, autoescaped); this module decides what each page shows.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from patronage.auth.scopes import Scope
from patronage.oauth.service import Choices

# Pages are never cached, framed or sent as a referrer; the CSP forbids scripts and foreign assets.
HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}

_templates = Environment(
    loader=PackageLoader("patronage.oauth"),
    autoescape=select_autoescape(),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _templates.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def error_page(message: str, status: int = 400) -> HTMLResponse:
    return _page("error.html", status, message=message)


def login_page(
    client_name: str, fields: dict[str, str], csrf: str, *, error: str | None = None, email: str = "", status: int = 200
) -> HTMLResponse:
    return _page("login.html", status, client_name=client_name, fields=fields, csrf=csrf, error=error, email=email)


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    checked: bool


@dataclass(frozen=True)
class GrantChoice:
    legend: str
    name: str
    options: list[Option]


def _options(items: Iterable[tuple[str, str]], chosen: str | None) -> list[Option]:
    """Radio buttons; the one chosen before (or else the first) is checked."""
    items = list(items)
    chosen = chosen or (items[0][0] if items else None)
    return [Option(value, label, value == chosen) for value, label in items]


def _describe(scope: Scope) -> str:
    perms = ", ".join(sorted(scope.permissions)) or "no data access"
    level = "one location" if scope.level == "location" else "one account"
    profile = {"profile": "; your profile", "profile_with_email": "; your profile and email"}.get(
        scope.profile or "", ""
    )
    return f"{perms} on {level}{profile}"


def consent_page(
    client_name: str,
    user_email: str,
    scope: Scope,
    choices: Choices,
    fields: dict[str, str],
    csrf: str,
    *,
    wants_list: bool,
    error: str | None = None,
    chosen: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    chosen = chosen or {}
    account_names = {a.id: a.name for a in choices.accounts}
    location_names = {x.id: x.name for x in choices.locations}
    if scope.level == "location":
        locations = ((x.id, f"{x.name} ({account_names.get(x.account_id, '')}, {x.id})") for x in choices.locations)
        grant = GrantChoice("Location", "location_id", _options(locations, chosen.get("location_id")))
    else:
        accounts = ((a.id, f"{a.name} ({a.id})") for a in choices.accounts)
        grant = GrantChoice("Account", "account_id", _options(accounts, chosen.get("account_id")))
    lists = None
    if wants_list:
        owned = []
        for item in choices.customer_lists:
            owner = (
                f"location {location_names.get(item.location_id, item.location_id)}"
                if item.location_id
                else f"account {account_names.get(item.account_id, item.account_id)}"
            )
            owned.append((item.id, f"{item.name} — {owner} ({item.id})"))
        lists = _options(owned, chosen.get("customer_list_id"))
    return _page(
        "consent.html",
        status,
        client_name=client_name,
        user_email=user_email,
        asked=_describe(scope),
        error=error,
        fields=fields,
        csrf=csrf,
        grant=grant,
        lists=lists,
        # Allow only when there is something to grant (and a list to bind, if the scope needs one).
        possible=bool(grant.options) and (lists is None or bool(lists)),
    )


def oob_page(code: str) -> HTMLResponse:
    return _page("oob.html", code=code)


def oob_error_page(error: str) -> HTMLResponse:
    return _page("oob_error.html", 400, error=error)
