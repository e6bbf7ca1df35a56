"""No request values in logs (issue 15.5): a real server, at DEBUG level, is made to fail on the database with
recognisable values, and its whole output is searched for them.

The database error comes from a (test-only) trigger refusing the commit of an idempotent create: the
statement's parameters hold the response stored with the key (the customer's name, email and custom
fields), and on PostgreSQL the error's message quotes them too, as messages such as ``Key (email)=(...)
already exists`` do.
"""

import secrets
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from helpers import Tenant
from live import live_server
from patronage import logs

WRITE = "location[all_customer_lists.write]"


def _values() -> dict[str, str]:
    marker = secrets.token_hex(5)
    return {
        "email": f"leak-{marker}@example.org",
        "first_name": f"Zebulon{marker}",
        "custom": f"custom{marker}",
        "query": f"query{marker}",
        "path": f"path{marker}",
        "bad_token": f"badtoken{marker}",
        "client_secret": f"clientsecret{marker}",
    }


def _provoke(base: str, token: str, list_id: str, values: dict[str, str]) -> None:
    customers = f"{base}/v1/customer_lists/{list_id}/customers"
    body = {"first_name": values["first_name"], "email": values["email"], "custom_fields": {"note": values["custom"]}}
    with httpx.Client(headers={"X-Access-Token": token}, timeout=10) as http:
        assert http.post(customers, params={"probe": values["query"]}, json=body).status_code == 201
        # Stored with an idempotency key, the response meets the trigger: an unexpected database error, a 500.
        failed = http.post(
            customers,
            params={"probe": values["query"]},
            json=body,
            headers={"Idempotency-Key": "k1", "Connection": "close"},
        )
        assert failed.status_code == 500
        assert http.get(customers, params={"email": values["query"]}).status_code == 200
        assert http.get(f"{customers}/{values['path']}", params={"q": values["query"]}).status_code == 404
        refused = http.get(customers, headers={"X-Access-Token": values["bad_token"]})
        assert refused.status_code == 401
        revoke = http.post(
            f"{base}/oauth2/v1/revoke",
            data={"client_id": values["path"], "client_secret": values["client_secret"], "token": token},
        )
        assert revoke.status_code in (400, 401)


TRIGGER = {
    "sqlite": [
        """CREATE TRIGGER test_leak BEFORE UPDATE OF body ON idempotency_key WHEN NEW.body LIKE '%leak-%'
        BEGIN SELECT RAISE(ABORT, 'refused by test_leak'); END""",
    ],
    "postgresql": [
        """CREATE FUNCTION test_leak() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused: %', NEW.body USING ERRCODE = 'unique_violation',
        DETAIL = 'Key (body)=(' || NEW.body || ') already exists.'; END $$""",
        """CREATE TRIGGER test_leak BEFORE UPDATE ON idempotency_key FOR EACH ROW
        WHEN (NEW.body LIKE '%leak-%') EXECUTE FUNCTION test_leak()""",
    ],
}
DROP = {
    "sqlite": ["DROP TRIGGER test_leak"],
    "postgresql": ["DROP TRIGGER test_leak ON idempotency_key", "DROP FUNCTION test_leak()"],
}


@pytest.fixture
async def failing_trigger(db):
    """Idempotency keys cannot store a response naming a ``leak-`` email (a test-only trigger, dropped after)."""
    async with db.session(write=True) as session:
        for statement in TRIGGER[db.dialect]:
            await session.execute(text(statement))
    yield
    async with db.session(write=True) as session:
        for statement in DROP[db.dialect]:
            await session.execute(text(statement))


async def _failing_server_log(
    tenant: Tenant, database_url: str, tmp_path: Path, env: dict[str, str]
) -> tuple[str, dict[str, str], str]:
    """What a debug-level server wrote while it failed on recognisable values: (log, values, token)."""
    token = await tenant.token(WRITE)
    list_id = await tenant.customer_list()
    values = _values()
    output = tmp_path / "server.log"
    with live_server(database_url, workers=1, env={"PATRONAGE_LOG_LEVEL": "debug", **env}, output=output) as base:
        _provoke(base, token, list_id, values)
    return output.read_text(), values, token


@pytest.mark.usefixtures("failing_trigger")
async def test_a_failing_server_logs_no_request_value(tenant: Tenant, database_url: str, tmp_path: Path) -> None:
    log, values, token = await _failing_server_log(tenant, database_url, tmp_path, {"PATRONAGE_ACCESS_LOG": "true"})
    # The failure was logged, as what failed and where...
    assert "unhandled error on POST /v1/customer_lists/{customer_list_id}/customers" in log
    assert "sqlalchemy.exc.IntegrityError" in log and "patronage/db.py" in log
    assert '"path": "/v1/customer_lists/{customer_list_id}/customers/{customer_id}"' in log
    # ... and nothing that was sent.
    for name, value in {**values, "token": token}.items():
        assert value not in log, f"the {name} {value!r} is in the log"


@pytest.mark.usefixtures("failing_trigger")
async def test_the_debug_setting_shows_them(tenant: Tenant, database_url: str, tmp_path: Path) -> None:
    """The search above would find the values if they were there: with the setting on, they are."""
    log, values, _ = await _failing_server_log(tenant, database_url, tmp_path, {"PATRONAGE_LOG_REQUEST_VALUES": "true"})
    assert values["email"] in log and values["first_name"] in log


def test_exceptions_are_described_by_types_and_frames() -> None:
    email = "-".join(("alice", "leak@example.org"))

    def fail() -> None:
        try:
            raise KeyError(email)
        except KeyError as exc:
            raise ValueError(f"Key (email)=({email}) already exists") from exc

    with pytest.raises(ValueError) as caught:
        fail()
    described = logs.describe_exception(caught.value)
    assert "alice" not in described
    assert "builtins.ValueError" in described and "builtins.KeyError" in described
    assert "in fail" in described
