"""The operator CLI as an operator uses it: the real ``patronage`` command in a subprocess, on the test database.

Each admin command prints one JSON object; the tokens ``admin connect`` issues work over HTTP; a bad argument is
a message on stderr (never a traceback), a non-zero exit and no write; ``patronage demo`` creates its data once,
then reuses it, and the curl line it prints works against a running server.
"""

import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from pwdlib import PasswordHash
from sqlalchemy import func, select

from live import live_server
from patronage.auth.models import Client, Connection
from patronage.customer_lists.models import CustomerList
from patronage.customers.models import Customer
from patronage.db import Database
from patronage.settings import Settings
from patronage.tenancy import service as tenancy
from patronage.tenancy.models import Account, Location, User

PATRONAGE = Path(sys.executable).parent / "patronage"
TOKEN = re.compile(r"^[0-9a-f]{32}$")


def parallel(work: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """``work`` over ``items``, a few at a time (each item is a subprocess, mostly Python start-up)."""
    with ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2))) as pool:
        return list(pool.map(work, items))


class Cli:
    """Runs ``patronage ...`` against one database, from a scratch directory."""

    def __init__(self, database_url: str, cwd: Path):
        self.cwd = cwd
        self.env = {
            **os.environ,
            "PATRONAGE_DATABASE_URL": database_url,
            "PATRONAGE_DEMO_FILE": str(cwd / "demo.json"),
            "COLUMNS": "200",  # usage errors are boxed to the terminal width
        }

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PATRONAGE), *args],
            env={**self.env, **(env or {})},
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def ok(self, *args: str) -> dict[str, Any]:
        """The one JSON object a successful admin command prints."""
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        answer = json.loads(done.stdout)  # one JSON document, nothing else on stdout
        assert isinstance(answer, dict), done.stdout
        return answer

    def ok_many(self, **commands: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        """Independent commands, run side by side: their answers by name."""
        names = list(commands)
        return dict(zip(names, parallel(lambda name: self.ok(*commands[name]), names), strict=True))

    def fails(self, *args: str, env: dict[str, str] | None = None) -> str:
        """A refused command: non-zero exit, nothing on stdout, a short message (no traceback) on stderr."""
        done = self.run(*args, env=env)
        assert done.returncode != 0, f"{args} succeeded: {done.stdout}"
        assert done.stdout == "", done.stdout
        assert done.stderr.strip(), f"{args}: no message"
        assert "Traceback" not in done.stderr and 'File "' not in done.stderr, done.stderr
        assert len(done.stderr.splitlines()) <= 8, done.stderr
        return done.stderr


@pytest.fixture(scope="module")
def cli(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return Cli(database_url, tmp_path_factory.mktemp("cli"))


@pytest.fixture(scope="module")
def made(cli: Cli) -> dict[str, Any]:
    """A tenant built from nothing with the admin commands, as the README shows; every JSON answer kept.

    The commands of one step do not depend on each other and run side by side (start-up is the cost)."""
    email = f"Owner-{secrets.token_hex(4)}@Example.com"
    out: dict[str, Any] = {"email": email}
    out["user"] = cli.ok("admin", "create-user", "--email", email, "--password", "s3cret")
    out |= cli.ok_many(
        account=("admin", "create-account", "--user", email, "--name", "Burger Co"),
        other_account=("admin", "create-account", "--user", out["user"]["id"], "--name", "Fish Co",
                       "--currency", "GBP", "--country", "gb", "--timezone", "Europe/London"),
        client=("admin", "create-client", "--name", "My POS", "--redirect-uri", "https://pos.example.com/callback",
                "--redirect-uri", "http://localhost:8080/cb"),
    )  # fmt: skip
    account_id, client_id = out["account"]["id"], out["client"]["client_id"]
    out |= cli.ok_many(
        location=("admin", "create-location", "--account", account_id, "--name", "Paris"),
        other_account_list=("admin", "create-customer-list", "--account", out["other_account"]["id"],
                            "--name", "Fish fans"),
    )  # fmt: skip
    location_id = out["location"]["id"]
    out |= cli.ok_many(
        other_location=("admin", "create-location", "--account", account_id, "--name", "New York",
                        "--currency", "USD", "--country", "US", "--timezone", "America/New_York"),
        list=("admin", "create-customer-list", "--location", location_id, "--name", "Paris regulars"),
        location_token=("admin", "connect", "--client", client_id, "--location", location_id,
                        "--scope", "location[all_customer_lists.write,orders.write]", "--device-id", "till-1"),
        account_token=("admin", "connect", "--client", client_id, "--account", account_id,
                       "--scope", "account[all_customer_lists.read]"),
    )  # fmt: skip
    out["list_token"] = cli.ok(
        "admin", "connect", "--client", client_id, "--location", location_id,
        "--scope", "location[customer_list.read]", "--customer-list", out["list"]["id"],
    )  # fmt: skip
    return out


def test_admin_commands_print_what_they_created(made: dict[str, Any]) -> None:
    user, account, other_account = made["user"], made["account"], made["other_account"]
    assert user["email"] == made["email"].lower()
    assert re.fullmatch(r"[a-z0-9]{10}", user["id"])

    # --user takes an email (any case) or a user id; the defaults are EUR, FR, Europe/Paris.
    assert account["user_id"] == other_account["user_id"] == user["id"]
    # The API's shapes: HubRise's Timezone object ({name, offset}).
    assert (account["name"], account["currency"], account["country"], account["timezone"]["name"]) == (
        "Burger Co", "EUR", "FR", "Europe/Paris",
    )  # fmt: skip
    assert (other_account["currency"], other_account["country"], other_account["timezone"]["name"]) == (
        "GBP", "GB", "Europe/London",
    )  # fmt: skip

    # Locations are numbered within their account and inherit its currency, country and timezone.
    location = made["location"]
    assert (location["id"], location["account_id"], location["name"]) == (f"{account['id']}-1", account["id"], "Paris")
    assert (location["currency"], location["country"], location["timezone"]["name"]) == ("EUR", "FR", "Europe/Paris")
    assert location["account"] == {key: account[key] for key in location["account"]}
    assert made["other_location"]["id"] == f"{account['id']}-2"
    other = made["other_location"]
    assert (other["currency"], other["timezone"]["name"]) == ("USD", "America/New_York")

    assert made["list"]["location_id"] == made["location"]["id"]
    assert made["list"]["account_id"] == account["id"]
    assert made["other_account_list"]["location_id"] is None  # --account: an account-level list
    assert made["other_account_list"]["account_id"] == other_account["id"]

    client = made["client"]
    assert re.fullmatch(r"\d{12}\.clients\.patronage", client["client_id"])
    assert re.fullmatch(r"[0-9a-f]{32}", client["client_secret"])
    assert client["name"] == "My POS"
    assert client["redirect_uris"] == ["https://pos.example.com/callback", "http://localhost:8080/cb"]

    # `connect` answers as the OAuth token endpoint does.
    location_token = made["location_token"]
    assert TOKEN.match(location_token["access_token"])
    assert location_token["token_type"] == "Bearer"
    assert location_token["scope"] == "location[all_customer_lists.write,orders.write]"
    assert (location_token["account_id"], location_token["location_id"]) == (account["id"], made["location"]["id"])
    assert (location_token["account_name"], location_token["location_name"]) == ("Burger Co", "Paris")
    assert location_token["customer_list_id"] is None
    assert made["account_token"]["location_id"] is None
    assert made["account_token"]["account_id"] == account["id"]
    assert made["list_token"]["customer_list_id"] == made["list"]["id"]
    assert made["list_token"]["customer_list_name"] == "Paris regulars"
    tokens = {made[name]["access_token"] for name in ("location_token", "account_token", "list_token")}
    assert len(tokens) == 3


async def test_tokens_from_connect_work_over_http(
    made: dict[str, Any], cli: Cli, client: httpx.AsyncClient, db: Database
) -> None:
    def headers(name: str) -> dict[str, str]:
        return {"X-Access-Token": made[name]["access_token"]}

    response = await client.get("/v1/location", headers=headers("location_token"))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == made["location"]["id"]
    assert response.json()["name"] == "Paris"

    response = await client.get("/v1/account", headers=headers("account_token"))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == made["account"]["id"]

    # The location token writes (its scope says so): a customer in the list the CLI made.
    list_id = made["list"]["id"]
    response = await client.post(
        f"/v1/customer_lists/{list_id}/customers",
        json={"first_name": "Ada", "email": "ada@example.com"},
        headers=headers("location_token"),
    )
    assert response.status_code == 201, response.text
    ada = response.json()["id"]

    # `seed-customers` and `connection-limits` on what the CLI made.
    seeded = cli.ok("admin", "seed-customers", "--customer-list", list_id, "--count", "3")
    assert (seeded["customer_list_id"], seeded["inserted"], seeded["total"]) == (list_id, 3, 4)
    connection_id = made["list_token"]["connection_id"]
    limits = cli.ok("admin", "connection-limits", "--connection", connection_id, "--per-minute", "500")
    assert limits == {"connection_id": connection_id, "rate_limits": {"per_minute": 500}}
    async with db.session(write=False) as session:
        stored = await session.get(Connection, connection_id)
        assert stored is not None and stored.rate_limits == {"per_minute": 500}

    # The customer_list-scoped token reads its own list's customers, and only its list.
    response = await client.get(f"/v1/customer_lists/{list_id}/customers", headers=headers("list_token"))
    assert response.status_code == 200, response.text
    assert ada in {customer["id"] for customer in response.json()}
    assert len(response.json()) == 4
    response = await client.post(
        "/v1/location/customer_lists", json={"name": "Takeaway"}, headers=headers("location_token")
    )
    assert response.status_code == 201, response.text
    response = await client.get(f"/v1/customer_lists/{response.json()['id']}/customers", headers=headers("list_token"))
    assert response.status_code in (403, 404), response.text
    response = await client.post(
        f"/v1/customer_lists/{list_id}/customers", json={"first_name": "Bob"}, headers=headers("list_token")
    )
    assert response.status_code == 403, response.text


async def _counts(db: Database) -> dict[str, int]:
    async with db.session(write=False) as session:
        return {
            model.__name__: await session.scalar(select(func.count()).select_from(model))
            for model in (User, Account, Location, CustomerList, Client, Connection, Customer)
        }


async def test_bad_arguments_are_a_message_and_write_nothing(made: dict[str, Any], cli: Cli, db: Database) -> None:
    account_id, location_id = made["account"]["id"], made["location"]["id"]
    other_location_id = made["other_location"]["id"]
    client_id = made["client"]["client_id"]
    list_id = made["list"]["id"]
    connect = ("admin", "connect", "--client", client_id)
    read_list, account_read_all = "location[customer_list.read]", "account[all_customer_lists.read]"
    other_account_list_id = made["other_account_list"]["id"]
    too_long = "x" * 256
    # (arguments, what the message must mention)
    # fmt: off
    cases: list[tuple[tuple[str, ...], str]] = [
        (("admin", "create-user", "--email", made["email"].upper(), "--password", "x"), "already exists"),
        (("admin", "create-user", "--email", "new@example.com"), "--password"),
        (("admin", "create-account", "--user", "nobody@example.com", "--name", "X"), "nobody@example.com"),
        (("admin", "create-account", "--user", made["email"], "--name", "X", "--currency", "EURO"), "EURO"),
        (("admin", "create-account", "--user", made["email"], "--name", "X", "--country", "ZZ"), "ZZ"),
        (("admin", "create-account", "--user", made["email"], "--name", "X", "--timezone", "Mars/Olympus"), "Mars"),
        (("admin", "create-account", "--user", made["email"], "--name", too_long), "too long"),
        (("admin", "create-location", "--account", "nosuchacct", "--name", "X"), "nosuchacct"),
        (("admin", "create-location", "--account", account_id, "--name", "X", "--timezone", "Paris"), "Paris"),
        (("admin", "create-client", "--name", "X", "--redirect-uri", "pos.example.com/cb"), "redirect-uri"),
        (("admin", "create-customer-list", "--location", "nosuchloc", "--name", "X"), "nosuchloc"),
        (("admin", "create-customer-list", "--account", account_id, "--location", location_id, "--name", "X"), "one"),
        (("admin", "create-customer-list", "--location", location_id, "--name", "Paris regulars"), "already used"),
        (("admin", "connect", "--client", "nosuchclient", "--account", account_id, "--scope", account_read_all),
         "nosuchclient"),
        ((*connect, "--account", "nosuchacct", "--scope", account_read_all), "nosuchacct"),
        ((*connect, "--location", location_id, "--scope", "location[all_customer_lists.read"), "malformed scope"),
        ((*connect, "--location", location_id, "--scope", "location[customers.steal]"), "customers.steal"),
        ((*connect, "--location", location_id, "--scope", account_read_all), "account"),
        ((*connect, "--location", location_id, "--scope", read_list), "customer list"),
        ((*connect, "--location", location_id, "--scope", read_list, "--customer-list", "nosuchlist"), "nosuchlist"),
        ((*connect, "--account", account_id, "--scope", "account[customer_list.read]",
          "--customer-list", other_account_list_id), "not reachable"),
        ((*connect, "--location", other_location_id, "--scope", read_list, "--customer-list", list_id),
         "not reachable"),
        ((*connect, "--location", location_id, "--scope", read_list, "--customer-list", list_id,
          "--device-id", too_long), "too long"),
        ((*connect, "--location", location_id), "--scope"),
        (("admin", "seed-customers", "--customer-list", "nosuchlist", "--count", "5"), "nosuchlist"),
        (("admin", "connection-limits", "--connection", "nosuchconn", "--per-minute", "5"), "nosuchconn"),
    ]
    # fmt: on
    before = await _counts(db)

    def check(case: tuple[tuple[str, ...], str]) -> None:
        args, mention = case
        message = cli.fails(*args)
        assert mention.lower() in message.lower(), (args, message)

    parallel(check, cases)
    assert await _counts(db) == before


def test_an_unreachable_database_is_a_message(cli: Cli) -> None:
    message = cli.fails(
        "admin", "create-user", "--email", "a@example.com", "--password", "x",
        env={"PATRONAGE_DATABASE_URL": "postgresql+asyncpg://nobody:hunter2@127.0.0.1:1/none"},
    )  # fmt: skip
    assert "127.0.0.1:1" in message
    assert "hunter2" not in message


def test_a_bad_setting_is_a_message_naming_its_variable(cli: Cli) -> None:
    message = cli.fails("admin", "create-user", "--email", "a@example.com", "--password", "x",
                        env={"PATRONAGE_RATE_LIMITS": "maybe"})  # fmt: skip
    assert "PATRONAGE_RATE_LIMITS" in message and "boolean" in message
    message = cli.fails("migrate", env={"PATRONAGE_PASSWORD_HASH_MEMORY_COST": "16",
                                        "PATRONAGE_PASSWORD_HASH_PARALLELISM": "4"})  # fmt: skip
    assert "PATRONAGE_PASSWORD_HASH_MEMORY_COST" in message


async def test_create_user_hashes_with_the_configured_argon2_cost(cli: Cli, db: Database) -> None:
    """PATRONAGE_PASSWORD_HASH_*: what the environment says (the suite's own cost is cheap, see conftest); a
    hash keeps its cost, so a login still works under another one."""
    email = f"cost-{secrets.token_hex(4)}@example.com"
    done = cli.run("admin", "create-user", "--email", email, "--password", "pw",
                   env={"PATRONAGE_PASSWORD_HASH_TIME_COST": "2"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    async with db.session(write=False) as session:
        user = await session.scalar(select(User).where(User.email == email))
    assert user is not None and user.password_hash.startswith("$argon2id$v=19$m=1024,t=2,p=1$")
    assert tenancy.password_hasher().hash("pw").startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert tenancy.verify_password(user, "pw") and not tenancy.verify_password(user, "wrong")


def test_the_default_argon2_cost_is_the_one_pwdlib_recommends() -> None:
    defaults = Settings.model_construct()  # the defaults, without the environment the suite sets
    cost = re.compile(r"\$argon2id\$v=19\$(m=\d+,t=\d+,p=\d+)\$")
    ours = cost.match(tenancy.password_hasher(defaults).hash("pw"))
    recommended = cost.match(PasswordHash.recommended().hash("pw"))
    assert ours and recommended and ours[1] == recommended[1] == "m=65536,t=3,p=4"


def _curl_line(stdout: str) -> list[str]:
    lines = [line.strip() for line in stdout.splitlines() if line.strip().startswith("curl ")]
    assert len(lines) == 1, stdout
    return shlex.split(lines[0])


def test_demo_creates_once_then_reuses_and_its_curl_line_works(cli: Cli, database_url: str) -> None:
    with live_server(database_url, workers=1) as base:
        port = base.rsplit(":", 1)[1]
        first = cli.run("demo", "--port", port)
        assert first.returncode == 0, first.stderr
        assert "created" in first.stdout.lower()
        second = cli.run("demo", "--port", port)
        assert second.returncode == 0, second.stderr
        assert "reusing" in second.stdout.lower() and "created the" not in second.stdout.lower()

        token = re.search(r"access token: ([0-9a-f]{32})", first.stdout)
        assert token is not None, first.stdout
        assert f"access token: {token[1]}" in second.stdout  # the same token, printed again
        argv = _curl_line(second.stdout)
        assert argv[0] == "curl"
        url = next(arg for arg in argv if arg.startswith("http"))
        assert url.startswith(f"{base}/v1/customer_lists/")
        assert f"X-Access-Token: {token[1]}" in argv

        # Without the saved token, demo issues a new one on the same data, and says so.
        (cli.cwd / "demo.json").unlink()
        third = cli.run("demo", "--port", port)
        assert third.returncode == 0, third.stderr
        assert "reusing" in third.stdout.lower() and "new access token" in third.stdout.lower()
        third_argv = _curl_line(third.stdout)
        assert next(arg for arg in third_argv if arg.startswith("http")) == url
        assert f"X-Access-Token: {token[1]}" not in third_argv

        for line in (argv, third_argv):  # both tokens stay valid
            if shutil.which("curl"):
                done = subprocess.run(line, capture_output=True, text=True, timeout=30)
                assert done.returncode == 0, done.stderr
                body = json.loads(done.stdout)
            else:  # the same request without curl
                name, value = line[line.index("-H") + 1].split(": ", 1)
                body = httpx.get(url, headers={name: value}, timeout=10).json()
            assert [customer["first_name"] for customer in body] == ["Jimmy"], body
