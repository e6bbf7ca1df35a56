"""How long `patronage admin verify-ledger` takes on a large ledger.

    .venv/bin/python bench/verify_ledger.py [--customers 200000] [--operations 5] [--database-url URL]

Seeds (once; reused while the counts match) the harness's data set, ``--customers`` customers each with one
card of ``--operations`` hash-chained operations (the default: a million operations), then runs the real
command, as an operator would, and prints its report's counts with the wall time and peak RSS.
"""

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

PATRONAGE = Path(sys.executable).parent / "patronage"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--operations", type=int, default=5)
    parser.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/patronage_bench_ledger")
    args = parser.parse_args()
    asyncio.run(harness.prepare(args.database_url, args.customers, args.operations))
    started = time.monotonic()
    done = subprocess.run(
        [str(PATRONAGE), "admin", "verify-ledger"],
        env={**os.environ, "PATRONAGE_DATABASE_URL": args.database_url},
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    report = json.loads(done.stdout)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "exit": done.returncode,
                "cards": report["cards"],
                "operations": report["operations"],
                "failed_cards": len(report["failed_cards"]),
                "wall_seconds": round(seconds, 1),
                "operations_per_second": round(report["operations"] / report["seconds"]),
                "peak_rss_mb": round(peak_mb),
            }
        )
    )


if __name__ == "__main__":
    main()
