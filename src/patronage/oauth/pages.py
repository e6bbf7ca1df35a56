"""The authorisation pages: plain HTML, no scripts, no external assets; every value escaped."""

from collections.abc import Iterable
from html import escape

from fastapi.responses import HTMLResponse

from patronage.auth.scopes import Scope
from patronage.oauth.service import Choices

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}"
    "fieldset{border:1px solid #ccc;margin:1rem 0}label{display:block;margin:.4rem 0}"
    ".error{color:#a00;font-weight:bold}code{font-size:1.2rem;word-break:break-all}"
    "button{margin-right:.5rem;padding:.4rem 1rem}"
)

# Pages are never cached, framed or sent as a referrer; the CSP forbids scripts and foreign assets.
HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} — Patronage</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>\n"
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _hidden(fields: dict[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">' for name, value in fields.items()
    )


def _error(message: str | None) -> str:
    return f'<p class="error" role="alert">{escape(message)}</p>' if message else ""


def error_page(message: str, status: int = 400) -> HTMLResponse:
    return _page("Authorisation failed", f'<p class="error">{escape(message)}</p>', status)


def login_page(
    client_name: str, fields: dict[str, str], csrf: str, *, error: str | None = None, email: str = "", status: int = 200
) -> HTMLResponse:
    body = (
        f"<p><strong>{escape(client_name)}</strong> asks to connect to your Patronage data. Log in to continue.</p>"
        f"{_error(error)}"
        '<form method="post" action="/oauth2/v1/login">'
        f"{_hidden({**fields, 'csrf_token': csrf})}"
        f'<label>Email <input type="email" name="email" value="{escape(email)}" required autofocus></label>'
        '<label>Password <input type="password" name="password" required></label>'
        '<button type="submit">Log in</button></form>'
    )
    return _page("Log in", body, status)


def _describe(scope: Scope) -> str:
    perms = ", ".join(sorted(scope.permissions)) or "no data access"
    level = "one location" if scope.level == "location" else "one account"
    profile = {"profile": "; your profile", "profile_with_email": "; your profile and email"}.get(
        scope.profile or "", ""
    )
    return f"{escape(perms)} on {level}{escape(profile)}"


def _radios(name: str, options: Iterable[tuple[str, str]], chosen: str | None) -> str:
    items = list(options)
    if not items:
        return "<p>None available.</p>"
    chosen = chosen or items[0][0]
    return "".join(
        f'<label><input type="radio" name="{name}" value="{escape(value)}"'
        f"{' checked' if value == chosen else ''} required> {escape(label)}</label>"
        for value, label in items
    )


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
        grant = _radios(
            "location_id",
            ((x.id, f"{x.name} ({account_names.get(x.account_id, '')}, {x.id})") for x in choices.locations),
            chosen.get("location_id"),
        )
        legend = "Location"
        possible = bool(choices.locations)
    else:
        grant = _radios(
            "account_id", ((a.id, f"{a.name} ({a.id})") for a in choices.accounts), chosen.get("account_id")
        )
        legend = "Account"
        possible = bool(choices.accounts)
    lists = ""
    if wants_list:
        options = []
        for item in choices.customer_lists:
            owner = (
                f"location {location_names.get(item.location_id, item.location_id)}"
                if item.location_id
                else f"account {account_names.get(item.account_id, item.account_id)}"
            )
            options.append((item.id, f"{item.name} — {owner} ({item.id})"))
        lists = (
            "<fieldset><legend>Customer list</legend>"
            f"{_radios('customer_list_id', options, chosen.get('customer_list_id'))}</fieldset>"
        )
        possible = possible and bool(options)
    allow = '<button type="submit" name="decision" value="allow">Allow</button>' if possible else ""
    body = (
        f"<p>Logged in as <strong>{escape(user_email)}</strong>.</p>"
        f"<p><strong>{escape(client_name)}</strong> asks for: {_describe(scope)}.</p>"
        f"{_error(error)}"
        '<form method="post" action="/oauth2/v1/authorize">'
        f"{_hidden({**fields, 'csrf_token': csrf})}"
        f"<fieldset><legend>{legend}</legend>{grant}</fieldset>{lists}"
        f'{allow}<button type="submit" name="decision" value="deny" formnovalidate>Deny</button></form>'
    )
    return _page("Authorise access", body, status)


def oob_page(code: str) -> HTMLResponse:
    body = (
        "<p>Copy this authorisation code into the application. It can be used once, within 10 minutes.</p>"
        f'<p><code id="code">{escape(code)}</code></p>'
    )
    return _page("Authorisation code", body)


def oob_error_page(error: str) -> HTMLResponse:
    return _page("Authorisation failed", f'<p class="error">Error: <code id="error">{escape(error)}</code></p>', 400)
