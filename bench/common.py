"""Scaffolding the benchmarks share: the database, the tenant, a ``patronage serve`` process, wrk, and what
processes cost (CPU, RSS) read from /proc. Imported as ``common`` (the scripts run from bench/)."""

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.engine import make_url

from patronage.auth import service as auth
from patronage.auth.models import Client
from patronage.customer_lists import service as lists
from patronage.customer_lists.models import CustomerList
from patronage.db import Database
from patronage.tenancy import service as tenancy
from patronage.tenancy.models import Account, Location

# --- the database and the tenant ---------------------------------------------------------------------


def admin_dsn(url: str, database: str | None = None) -> str:
    """A plain ``postgresql://`` DSN (asyncpg, psql, pgbench) for ``url``, or for another database of its server."""
    target = make_url(url).set(drivername="postgresql")
    if database is not None:
        target = target.set(database=database)
    return target.render_as_string(hide_password=False)


async def ensure_database(url: str, *, recreate: bool = False) -> bool:
    """Creates the database when missing (or drops and creates it with ``recreate``); True when it did."""
    import asyncpg

    name = make_url(url).database
    conn = await asyncpg.connect(admin_dsn(url, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and not recreate:
            return False
        if exists:
            await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
        return True
    finally:
        await conn.close()


async def ensure_tenant(db: Database, name: str, owner_email: str, scope: str) -> dict[str, str]:
    """The benchmark's tenant (user, account "Bench Burgers", location "London Soho", a client and a
    location-level list both called ``name``), created the first time, and a fresh token for ``scope``:
    ``{"customer_list_id", "account_id", "location_id", "client_id", "connection_id", "token"}``."""
    async with db.session(write=True) as session:
        customer_list = await session.scalar(select(CustomerList).where(CustomerList.name == name))
        client = await session.scalar(select(Client).where(Client.name == name))
        if customer_list is None:
            user = await tenancy.create_user(session, owner_email, os.urandom(16).hex())
            account = await tenancy.create_account(session, user, "Bench Burgers", "GBP", "GB", "Europe/London")
            location = await tenancy.create_location(session, account, "London Soho")
            customer_list = await lists.insert(session, account, location, name)
        if client is None:
            client = (await auth.create_client(session, name, [])).client
        account = await session.get(Account, customer_list.account_id)
        location = await session.get(Location, customer_list.location_id)
        assert account is not None and location is not None
        answer = await auth.connect(session, client, account=account, location=location, scope_text=scope)
        return {
            "customer_list_id": customer_list.id,
            "account_id": account.id,
            "location_id": location.id,
            "client_id": client.id,
            "token": answer["access_token"],
        }


# --- servers -----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_process(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """In its own process group (stop_server ends the whole group), output in ``log``."""
    with log.open("wb") as output:
        return subprocess.Popen(
            command, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def start_server(url: str, port: int, workers: int, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``patronage serve --workers N --no-migrate`` on ``url``, rate limits off (they would answer 429)."""
    executable = Path(sys.executable).parent / "patronage"
    command = [str(executable) if executable.exists() else shutil.which("patronage") or "patronage"]
    command += ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--no-migrate"]
    return start_process(command, {"PATRONAGE_DATABASE_URL": url, "PATRONAGE_RATE_LIMITS": "off", **(env or {})}, log)


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def wait_until_up(url: str, server: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    """Until ``url`` answers 200 (or the server exits: its log's end is the error)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"{server.args[0]} exited with status {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer in time")


# --- figures -----------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk(url: str, seconds: float, connections: int, *, script: Path | None = None, env: dict[str, str] | None = None,
        headers: dict[str, str] | None = None, threads: int = 2) -> dict[str, float]:  # fmt: skip
    """One wrk run (``--latency``): requests, req/s, p50 and p99 in ms, and the non-2xx answers."""
    # A 10 s timeout (wrk's default is 2 s): a slow answer is a latency to report, not a dropped request.
    command = [
        "wrk",
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    command += ["-s", str(script)] if script else []
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, env={**os.environ, **(env or {})}
    ).stdout

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
        assert match, out
        return float(match.group(1)) * _UNITS[match.group(2)]

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(n) for n in errors.groups()) if errors else 0,
    }


# --- processes -----------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (children excluded), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def processes() -> dict[int, tuple[bytes, int]]:
    """Every process: pid -> (command line with spaces, parent pid)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            found[int(entry.name)] = (cmdline, ppid)
    return found


def tree(root: int) -> list[int]:
    """``root`` and its descendants."""
    procs = processes()
    pids, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (_, ppid) in procs.items() if ppid == parent and pid not in pids]
        pids.update(children)
        frontier += children
    return sorted(pids)


def workers_of(root: int) -> list[int]:
    """The worker processes of a uvicorn server: the children it spawned (``multiprocessing.spawn``; not its
    resource tracker), or the process itself when it serves alone."""
    procs = processes()
    children = [pid for pid, (cmd, ppid) in procs.items() if ppid == root and b"spawn_main" in cmd]
    return children or [root]


class CpuMeter:
    """CPU used by a set of processes while it runs: the server's tree, and the PostgreSQL backends of one
    database (matched by their process title, ``postgres: USER DATABASE ...``). Backends that come and go
    during the run (pgbench's) are sampled every ``interval`` seconds: the CPU of their last interval is lost."""

    def __init__(self, roots: list[int], database: str | None, interval: float = 0.1):
        self.roots, self.interval = roots, interval
        self.needle = f" {database} ".encode() if database else None
        self.seen: dict[int, float] = {}
        self.start: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _pids(self) -> list[int]:
        pids = [pid for root in self.roots for pid in tree(root)]
        if self.needle:
            pids += [
                pid for pid, (cmd, _) in processes().items() if cmd.startswith(b"postgres: ") and self.needle in cmd
            ]
        return pids

    def _sample(self) -> None:
        for pid in self._pids():
            with contextlib.suppress(OSError):
                self.seen[pid] = cpu_seconds(pid)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> "CpuMeter":
        self._sample()
        self.start = dict(self.seen)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def seconds(self) -> float:
        return sum(cpu - self.start.get(pid, 0.0) for pid, cpu in self.seen.items())


# --- the machine -----------------------------------------------------------------------------------------


async def server_info(url: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(admin_dsn(url, "postgres"))
    try:
        version = await conn.fetchval("SHOW server_version")
        settings = await conn.fetch(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'jit')"
        )
    finally:
        await conn.close()
    return f"PostgreSQL {version} ({', '.join(f'{name}={value}' for name, value in settings)})"


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "?"


def environment(url: str | None) -> str:
    meminfo = Path("/proc/meminfo")
    lines = meminfo.read_text().splitlines() if meminfo.exists() else []
    memory = next((line.split(":")[1].strip() for line in lines if line.startswith("MemTotal")), "?")
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    database = f"{asyncio.run(server_info(url))}; " if url and url.startswith("postgresql") else ""
    return (
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {os.cpu_count()} CPUs ({cpu_model()}); MemTotal {memory}; "
        f"load average {load}; {database}Python {sys.version.split()[0]}"
    )
