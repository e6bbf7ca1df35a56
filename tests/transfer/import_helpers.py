"""Running ``patronage import customers`` as an operator does (the real command, in a subprocess, on the test
database), and reading back what a user sees through the HTTP API."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers import Api

PATRONAGE = Path(sys.executable).parent / "patronage"
WRITE = "location[all_customer_lists.write]"

HEADER = (
    "email,first_name,last_name,gender,birth_date,phone,country,latitude,longitude,sms_marketing,"
    "email_marketing,custom_fields,loyalty_card_ref,loyalty_card_name,balance"
)


class Importer:
    """Runs ``patronage import customers`` against the test database, from a scratch directory."""

    def __init__(self, database_url: str, cwd: Path):
        self.cwd = cwd
        self.env = {**os.environ, "PATRONAGE_DATABASE_URL": database_url, "COLUMNS": "200"}

    def run(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
        return self.command("import", "customers", *args, stdin=stdin)

    def command(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
        """``patronage ARGS...``."""
        return subprocess.run(
            [str(PATRONAGE), *args],
            env=self.env,
            cwd=self.cwd,
            input=stdin.decode() if stdin is not None else None,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def ok(self, *args: str, stdin: bytes | None = None) -> dict[str, Any]:
        done = self.run(*args, stdin=stdin)
        assert done.returncode == 0, done.stderr
        assert done.stderr == "", done.stderr  # no progress bar: stderr is not a terminal
        summary = json.loads(done.stdout)  # one JSON document, nothing else
        assert set(summary) == {"read", "created", "updated", "unchanged", "rejected", "seconds"}
        assert summary["read"] == sum(summary[name] for name in ("created", "updated", "unchanged", "rejected"))
        return summary

    def fails(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert done.stdout == ""
        assert done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr
        return done.stderr

    def popen(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [str(PATRONAGE), "import", "customers", *args],
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def rejects(path: Path) -> dict[int, dict[str, Any]]:
    """The reject file, by line number (each line a JSON object)."""
    found = {}
    for text in path.read_text(encoding="utf-8").splitlines():
        reject = json.loads(text)
        assert set(reject) == {"line", "errors", "row"}
        found[reject["line"]] = reject
    return found


async def everything(api: Api, list_id: str) -> list[dict[str, Any]]:
    """Every customer of the list, oldest first, each card with its operations (oldest first)."""
    customers: list[dict[str, Any]] = []
    params: dict[str, str] = {"count": "100"}
    while True:
        response = await api.get(f"/v1/customer_lists/{list_id}/customers", params=params)
        assert response.status_code == 200, response.text
        customers += response.json()
        cursor = response.headers.get("X-Cursor-Next")
        if cursor is None:
            break
        params = {"count": "100", "cursor": cursor}
    customers.reverse()
    for customer in customers:
        for card in customer["loyalty_cards"]:
            response = await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards/{card['id']}/operations")
            assert response.status_code == 200, response.text
            card["operations"] = list(reversed(response.json()))
    return customers


async def by_email(api: Api, list_id: str, email: str) -> dict[str, Any]:
    response = await api.get(f"/v1/customer_lists/{list_id}/customers", params={"email": email})
    assert response.status_code == 200, response.text
    (customer,) = response.json()
    return customer


async def operations(api: Api, list_id: str, card_id: str) -> list[dict[str, Any]]:
    response = await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards/{card_id}/operations")
    assert response.status_code == 200, response.text
    return response.json()


async def count(api: Api, list_id: str) -> int:
    return len(await everything(api, list_id))


def csv_for(numbers: range) -> bytes:
    """Customer n has a card with balance n, and every third one a second card: two rows."""
    rows = []
    for n in numbers:
        rows.append(f"c{n:04d}@example.com,Customer {n},LOY,{n}\n")
        if n % 3 == 0:
            rows.append(f"c{n:04d}@example.com,Customer {n},BONUS,0.5\n")
    return "".join(rows).encode()
