"""What the rate limiter costs: requests per second with limits off, in memory, and in Redis.

    .venv/bin/python bench/throughput.py [--database-url URL] [--workers 2] [--seconds 10] [--connections 32]

Starts `patronage serve` once per mode on a free port and loads `GET /v1/location` (authenticated, light)
with wrk (Debian package `wrk`). The limits are raised so that no request is refused: what is measured is
the bookkeeping, not the refusals.
"""

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import contextlib

import common  # noqa: E402

from live import live_server  # noqa: E402
from patronage import migrate  # noqa: E402
from patronage.auth import service as auth  # noqa: E402
from patronage.db import Database  # noqa: E402
from patronage.settings import Settings  # noqa: E402
from patronage.tenancy import service as tenancy  # noqa: E402

HIGH = "1000000000"


async def make_token(database_url: str) -> str:
    db = Database(Settings(database_url=database_url))
    try:
        async with db.session(write=True) as session:
            user = await tenancy.create_user(session, f"bench-{os.getpid()}-{os.urandom(3).hex()}@example.com", "pw")
            account = await tenancy.create_account(session, user, "Bench", "EUR", "FR", "Europe/Paris")
            location = await tenancy.create_location(session, account, "Bench location")
            client = (await auth.create_client(session, "Bench", [])).client
            answer = await auth.connect(
                session, client, account=account, location=location, scope_text="location[all_customer_lists.read]"
            )
            return answer["access_token"]
    finally:
        await db.dispose()


def _pids(port: int) -> list[int]:
    """The `patronage serve --port PORT` process, its workers, and redis-server: the CPU a request costs."""
    procs = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            procs[int(entry.name)] = (cmdline, ppid)
    servers = {pid for pid, (cmd, _) in procs.items() if b"serve" in cmd and str(port).encode() in cmd}
    workers = {pid for pid, (_, ppid) in procs.items() if ppid in servers}
    redis = {pid for pid, (cmd, _) in procs.items() if cmd and cmd[0].startswith(b"/usr/bin/redis-server")}
    return sorted(servers | workers | redis)


def cpu_of(port: int) -> float:
    total = 0.0
    for pid in _pids(port):
        with contextlib.suppress(OSError):
            total += common.cpu_seconds(pid)
    return total


def wrk(url: str, token: str, seconds: int, connections: int) -> tuple[float, int]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-H", f"X-Access-Token: {token}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise SystemExit(f"{non_2xx.group(1)} requests were refused: the measurement is not of the bookkeeping\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2, help="alternate the modes this many times")
    args = parser.parse_args()

    migrate.upgrade(args.database_url)
    token = asyncio.run(make_token(args.database_url))
    limits = {
        "PATRONAGE_RATE_LIMIT_PER_MINUTE": HIGH,
        "PATRONAGE_RATE_LIMIT_PER_HOUR": HIGH,
        "PATRONAGE_RATE_LIMIT_PER_DAY": HIGH,
        "PATRONAGE_ACCESS_LOG": "false",
    }
    modes = {
        "off": {**limits, "PATRONAGE_RATE_LIMITS": "off"},
        "memory": {**limits, "PATRONAGE_RATE_LIMITS": "on"},
        "redis": {**limits, "PATRONAGE_RATE_LIMITS": "on", "PATRONAGE_REDIS_URL": args.redis_url},
    }
    results: dict[str, list[float]] = {mode: [] for mode in modes}
    cpu: dict[str, list[float]] = {mode: [] for mode in modes}
    for _ in range(args.rounds):
        for mode, env in modes.items():
            with live_server(args.database_url, workers=args.workers, env=env) as base:
                url = f"{base}/v1/location"
                port = int(base.rsplit(":", 1)[1])
                wrk(url, token, 2, args.connections)  # warm-up
                before = cpu_of(port)
                rate, requests = wrk(url, token, args.seconds, args.connections)
                results[mode].append(rate)
                cpu[mode].append((cpu_of(port) - before) / requests * 1e6)
    print(f"GET /v1/location, {args.workers} workers, wrk -c{args.connections} -d{args.seconds}s, {args.rounds} runs")
    print("  req/s: best run; CPU: server processes + redis-server, µs per request, median run")
    baseline_rate, baseline_cpu = max(results["off"]), statistics.median(cpu["off"])
    for mode in modes:
        best, per_request = max(results[mode]), statistics.median(cpu[mode])
        print(
            f"  limits {mode:6}: {best:6.0f} req/s ({(best - baseline_rate) / baseline_rate * 100:+5.1f}%)"
            f"  {per_request:5.0f} µs CPU/request ({(per_request - baseline_cpu) / baseline_cpu * 100:+5.1f}%)"
            f"  runs={[round(r) for r in results[mode]]} cpu={[round(c) for c in cpu[mode]]}"
        )


if __name__ == "__main__":
    main()
