"""What one request costs Patronage itself: the app driven in process by raw ASGI calls (no HTTP, no client
library in the measurement), on the harness's seeded database, one request at a time or ``--concurrency`` in
flight. Prints µs of this process's CPU per request per endpoint, and, with ``--profile NAME``, a cProfile of
that endpoint sorted by cumulative time. Run from the project root:

    PYTHONPATH=src .venv/bin/python bench/inprocess.py --customers 20000 [--endpoints get_card,get_customer]
        [--requests 2000] [--concurrency 1] [--profile get_card]

The database is the harness's (``BENCH_URL``; seeded by ``harness.prepare`` when it does not hold the set).
"""

import argparse
import asyncio
import cProfile
import pstats
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import harness  # noqa: E402

from patronage.app import create_app  # noqa: E402
from patronage.settings import Settings  # noqa: E402


class AsgiCaller:
    """Calls the ASGI app as a server would, with the lifespan left out (no worker)."""

    def __init__(self, app, token: str):
        self.app = app
        self.token = token.encode()

    async def __call__(self, method: str, path: str, body: str) -> int:
        raw_path, _, query = path.partition("?")
        headers = [(b"host", b"bench"), (b"x-access-token", self.token)]
        payload = body.encode()
        if payload:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": raw_path,
            "raw_path": raw_path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent = False
        status = 0

        async def receive():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": payload, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await self.app(scope, receive, send)
        return status


async def run(args) -> None:
    knobs = harness.Knobs()
    tenant = await harness.prepare(knobs.url, args.customers, knobs.operations)
    ids_file = Path("/tmp/patronage_inprocess_ids.tsv")
    await harness.sample_ids(knobs.url, ids_file, 5_000)
    rows = [tuple(line.split("\t")) for line in ids_file.read_text().splitlines()]  # noqa: ASYNC240
    settings = Settings(database_url=knobs.url, rate_limits=False, access_log=False, callback_worker=False)
    app = create_app(settings)
    call = AsgiCaller(app, tenant.token)
    wanted = set(args.endpoints.split(",")) if args.endpoints else None
    rng = random.Random(7)
    try:
        for endpoint in harness.endpoints(tenant):
            if wanted and endpoint.name not in wanted:
                continue
            counter = iter(range(10**9))

            async def one(endpoint=endpoint, counter=counter) -> int:
                path, body = endpoint.fill(rng.choice(rows), next(counter))
                return await call(endpoint.method, path, body)

            statuses = [await one() for _ in range(20)]  # warm: caches, pool, prepared statements
            if any(s >= 300 for s in statuses):
                raise SystemExit(f"{endpoint.name}: status {statuses}")
            profile = cProfile.Profile() if args.profile == endpoint.name else None
            cpu, wall = time.process_time(), time.perf_counter()
            if profile:
                profile.enable()
            for _ in range(args.requests // args.concurrency):
                await asyncio.gather(*(one() for _ in range(args.concurrency)))
            if profile:
                profile.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            done = args.requests // args.concurrency * args.concurrency
            print(f"{endpoint.name:22} {cpu / done * 1e6:8.0f} µs CPU/req  {wall / done * 1e6:8.0f} µs wall/req")
            if profile:
                pstats.Stats(profile).sort_stats(args.sort).print_stats(args.lines)
    finally:
        await app.state.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--endpoints", default="")
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--profile", default="")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--lines", type=int, default=60)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
