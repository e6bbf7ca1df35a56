"""How long ``patronage export customers`` takes on a big list, and how much memory it holds.

Seeds (or reuses) a dedicated PostgreSQL database the way the harness does (``harness.prepare``: customers with
``patronage.seed``, a loyalty card with operations and a private ref of the bench client for each), then runs
the real command once per format under ``/usr/bin/time -v``, writing to a file, and prints each run's wall time,
peak RSS and size. Knobs (environment): ``BENCH_EXPORT_URL`` (default ``patronage_bench_export`` on
127.0.0.1:5432), ``BENCH_CUSTOMERS`` (1,000,000), ``BENCH_OPERATIONS`` (3), ``BENCH_EXPORT_FORMATS``
(``csv,ndjson``), ``BENCH_EXPORT_DIR`` (/tmp). Run from the repository: ``.venv/bin/python bench/export.py``.
"""

import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import harness

PATRONAGE = Path(sys.executable).parent / "patronage"


def knob(name: str, default: str) -> str:
    return os.environ.get(name) or default


def timed(command: list[str], env: dict[str, str]) -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *command], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")

    def field(name: str) -> float:
        return float(re.search(rf"{re.escape(name)}: ([0-9.]+)", done.stderr).group(1))

    return {"seconds": seconds, "rss_mb": field("Maximum resident set size (kbytes)") / 1024,
            "cpu": field("User time (seconds)") + field("System time (seconds)"), "stdout": done.stdout.strip(),
            "load": os.getloadavg()[0]}  # fmt: skip


def main() -> None:
    url = knob("BENCH_EXPORT_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/patronage_bench_export")
    count = int(knob("BENCH_CUSTOMERS", "1000000"))
    operations = int(knob("BENCH_OPERATIONS", "3"))
    formats = knob("BENCH_EXPORT_FORMATS", "csv,ndjson").split(",")
    folder = Path(knob("BENCH_EXPORT_DIR", "/tmp"))
    os.environ["PATRONAGE_SECRET_KEY"] = harness.SECRET_KEY
    tenant = asyncio.run(harness.prepare(url, count, operations))
    env = {**os.environ, "PATRONAGE_DATABASE_URL": url}
    print(f"list {tenant.customer_list_id}: {tenant.customers:,} customers; client {tenant.client_id}", flush=True)
    for fmt in formats:
        output = folder / f"patronage-export-customers.{fmt}"
        command = [str(PATRONAGE), "export", "customers", "--customer-list", tenant.customer_list_id,
                   "--client", tenant.client_id, "--output", str(output)]  # fmt: skip
        run = timed(command, env)
        size = output.stat().st_size / 1e6
        shown = " ".join(["patronage", *command[1:]]).replace(tenant.customer_list_id, "LIST")
        shown = shown.replace(tenant.client_id, "CLIENT")
        print(f"{fmt}: `{shown}`: {run['seconds']:.1f} s ({run['cpu']:.1f} s of CPU), peak RSS {run['rss_mb']:.0f} MB, "
              f"{size:,.0f} MB written, load average {run['load']:.1f} after; {run['stdout']}", flush=True)  # fmt: skip
        output.unlink()


if __name__ == "__main__":
    main()
