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
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

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


def wrk(url: str, token: str, seconds: int, connections: int) -> float:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-H", f"X-Access-Token: {token}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise SystemExit(f"{non_2xx.group(1)} requests were refused: the measurement is not of the bookkeeping\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


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
    for _ in range(args.rounds):
        for mode, env in modes.items():
            with live_server(args.database_url, workers=args.workers, env=env) as base:
                wrk(f"{base}/v1/location", token, 2, args.connections)  # warm-up
                results[mode].append(wrk(f"{base}/v1/location", token, args.seconds, args.connections))
    baseline = max(results["off"])
    print(
        f"GET /v1/location, {args.workers} workers, wrk -c{args.connections} -d{args.seconds}s, best of {args.rounds}"
    )
    for mode, values in results.items():
        best = max(values)
        print(
            f"  limits {mode:6}: {best:8.0f} req/s  ({(best - baseline) / baseline * 100:+.1f}% vs off)  runs={values}"
        )


if __name__ == "__main__":
    main()
