"""A client generated from the document creates a customer list, a customer, a loyalty card, an operation and an
order, and reads them back (scripts/generated_client.py, against a real server). The generator,
openapi-python-client, is no dependency of the project: without it the test is skipped
(``pip install --no-deps openapi-python-client ruamel.yaml`` runs it without changing the project's packages)."""

import asyncio
import os
import sys
from pathlib import Path

import httpx
import pytest

from helpers import Tenant
from live import live_server

SCRIPT = Path(__file__).parents[2] / "scripts" / "generated_client.py"


async def _run(*command: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *command, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), 300)
    return process.returncode or 0, output.decode()


async def test_a_generated_client_creates_and_reads_back(
    client: httpx.AsyncClient, tenant: Tenant, database_url: str, tmp_path: Path
) -> None:
    pytest.importorskip("openapi_python_client")
    (tmp_path / "openapi.json").write_text((await client.get("/openapi.json")).text)
    generator = (sys.executable, "-m", "openapi_python_client", "generate", "--path", "openapi.json", "--meta", "none")
    code, output = await _run(*generator, cwd=tmp_path)
    # Every operation generated: a schema the generator cannot read drops the endpoints that use it, with a warning.
    assert code == 0 and "WARNING" not in output, output[-3000:]
    token = await tenant.token("location[all_customer_lists.write,orders.write]")
    with live_server(database_url, workers=1) as base:
        env = {**os.environ, "PYTHONPATH": str(tmp_path)}
        code, output = await _run(sys.executable, str(SCRIPT), base, token, env=env)
    assert code == 0 and output.startswith("ok: list "), output
