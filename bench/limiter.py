"""What one rate-limit check costs, in CPU, away from the noise of a loaded HTTP benchmark.

    .venv/bin/python bench/limiter.py [--redis-url redis://127.0.0.1:6379/0] [--checks 20000] [--concurrency 32]

Runs RateLimiter.check as a request does (three windows, limits high enough never to refuse), with
``--concurrency`` checks in flight, and reports the CPU time per check of this process and, for Redis, of
redis-server too. Compare with the CPU a whole request costs (bench/throughput.py).
"""

import argparse
import asyncio
import os
import resource
import secrets
import subprocess
import time
from pathlib import Path

from patronage.edges.ratelimit import Limits, MemoryCounter, RateLimiter, RedisCounter

HIGH = Limits(per_minute=10**12, per_hour=10**12, per_day=10**12, heavy_per_minute=10**12)


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _redis_cpu() -> float:
    pid = subprocess.run(["pgrep", "-x", "redis-server"], capture_output=True, text=True).stdout.split()
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid[0]}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(limiter: RateLimiter, checks: int, concurrency: int) -> tuple[float, float, float]:
    connections = [secrets.token_hex(5) for _ in range(concurrency)]

    async def worker(connection_id: str, count: int) -> None:
        for _ in range(count):
            await limiter.check(connection_id, heavy=False)

    await asyncio.gather(*(worker(c, 50) for c in connections))  # warm-up (and Redis script load)
    own, redis, started = _own_cpu(), _redis_cpu(), time.perf_counter()
    await asyncio.gather(*(worker(c, checks // concurrency) for c in connections))
    done = checks // concurrency * concurrency
    return (
        (_own_cpu() - own) / done * 1e6,
        (_redis_cpu() - redis) / done * 1e6,
        (time.perf_counter() - started) / done * 1e6,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--checks", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    print(f"{args.checks} checks, {args.concurrency} in flight; µs per check")
    for name, counter in (("memory", MemoryCounter()), ("redis", RedisCounter(args.redis_url))):
        runs = [await measure(RateLimiter(counter, HIGH), args.checks, args.concurrency) for _ in range(3)]
        own, redis, wall = sorted(runs)[1]  # the median run
        print(f"  {name:6}: this process {own:5.1f} CPU, redis-server {redis:5.1f} CPU, wall {wall:5.1f}")
        if isinstance(counter, RedisCounter):
            await counter.close()


if __name__ == "__main__":
    asyncio.run(main())
