"""``patronage import customers`` on a big file: how long it takes, and how much memory, on PostgreSQL.

    .venv/bin/python bench/import_file.py [--rows 1000000] [--file /var/tmp/patronage_import.csv]
                                          [--url postgresql+asyncpg://postgres@127.0.0.1:5432/patronage_bench_import]

1. writes a CSV file of ``--rows`` rows (kept when it already has them): realistic customers from
   ``patronage.seed.CustomerFactory`` (names, emails made unique, phones, addresses, birth dates, custom fields of
   nine countries), 60 % of them with a loyalty card ``LOY`` and a balance, 10 % with a second card ``GIFT`` (a
   second row), written with ``transfer.customer_rows`` as the export writes them;
2. recreates the database ``--url`` (migrated), a tenant and an empty list;
3. runs ``/usr/bin/time -v patronage import customers --customer-list ID FILE`` twice: into the empty list, then
   the same file again (everything unchanged), and prints each summary with its wall time and peak RSS.
"""

import argparse
import asyncio
import csv
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import ensure_database, ensure_tenant  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from patronage import migrate  # noqa: E402
from patronage.db import Database  # noqa: E402
from patronage.seed import COLUMNS, CustomerFactory  # noqa: E402
from patronage.settings import Settings  # noqa: E402
from patronage.transfer.customer_rows import CARD_COLUMNS, CUSTOMER_COLUMNS, csv_rows  # noqa: E402

PATRONAGE = Path(sys.executable).parent / "patronage"
HEADER = (*CUSTOMER_COLUMNS, *CARD_COLUMNS)


def customers(rows: int, rng: random.Random):
    """Customers as the API renders them, until they make ``rows`` CSV rows."""
    factory = CustomerFactory("account", "list", rows, rng=rng)
    written = number = 0
    while written < rows:
        for row in factory.batch(10_000):
            values = dict(zip(COLUMNS, row, strict=True))
            if values["anonymised"]:
                continue
            number += 1
            local, _, domain = (values["email"] or f"customer@{rng.choice(['example.com', 'example.org'])}").partition(
                "@"
            )
            customer = {name: values.get(name) for name in CUSTOMER_COLUMNS}
            customer["email"] = f"{local}.{number}@{domain}"
            customer["birth_date"] = values["birth_date"].isoformat() if values["birth_date"] else None
            customer["custom_fields"] = json.loads(values["custom_fields"])
            cards = []
            if rng.random() < 0.6:
                cards.append({"ref": "LOY", "name": "Fidelity", "balance": f"{rng.randrange(0, 50_000) / 100}"})
                if rng.random() < 1 / 6:
                    cards.append({"ref": "GIFT", "name": None, "balance": f"{rng.randrange(1, 100)}.5"})
            customer["loyalty_cards"] = cards
            for line in csv_rows(customer, HEADER):
                yield line
                written += 1
                if written == rows:
                    return


def write_file(path: Path, rows: int) -> None:
    started = time.perf_counter()
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(customers(rows, random.Random(20_261_202)))
    size = path.stat().st_size / 1e6
    print(f"wrote {rows:,} rows to {path} ({size:.0f} MB) in {time.perf_counter() - started:.0f} s")


class BackendCpu:
    """CPU seconds the database's server processes (backends of ``database``) spend meanwhile, read from /proc
    every half second (a backend's last reading before it exits counts)."""

    def __init__(self, database: str):
        self.marker = f" {database} ".encode()
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read().replace(b"\0", b" ")
                if not cmdline.startswith(b"postgres: ") or self.marker not in cmdline:
                    continue
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            self.seen[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            self._sample()

    def __enter__(self) -> "BackendCpu":
        self._sample()
        self.before = dict(self.seen)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    @property
    def seconds(self) -> float:
        return round(sum(cpu - self.before.get(pid, 0.0) for pid, cpu in self.seen.items()), 1)


def timed_import(url: str, list_id: str, path: Path) -> dict:
    command = ["/usr/bin/time", "-v", str(PATRONAGE), "import", "customers", "--customer-list", list_id, str(path)]
    env = {**os.environ, "PATRONAGE_DATABASE_URL": url}
    with BackendCpu(make_url(url).database) as backend:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr)

    def measure(label: str) -> str:
        return re.search(rf"{re.escape(label)}: ([\d:.]+)", done.stderr).group(1)

    return {
        "summary": json.loads(done.stdout),
        "wall": measure("Elapsed (wall clock) time (h:mm:ss or m:ss)"),
        "peak_rss_mb": round(int(measure("Maximum resident set size (kbytes)")) / 1024),
        "importer_cpu_s": round(float(measure("User time (seconds)")) + float(measure("System time (seconds)")), 1),
        "postgres_cpu_s": backend.seconds,
        "load_average": os.getloadavg()[0],
    }


async def prepare(url: str) -> str:
    await ensure_database(url, recreate=True)
    await asyncio.to_thread(migrate.upgrade, url)
    db = Database(Settings(database_url=url))
    try:
        return (await ensure_tenant(db, "Import benchmark", "import-bench@example.com", "location[]"))[
            "customer_list_id"
        ]
    finally:
        await db.dispose()


def main() -> None:
    # The benchmark's sealing key (PostgreSQL without PATRONAGE_SECRET_KEY keeps one in a file): not in the tree.
    os.environ.setdefault("PATRONAGE_SECRET_KEY_FILE", "/var/tmp/patronage_bench_import.key")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--file", type=Path, default=Path("/var/tmp/patronage_import.csv"))
    parser.add_argument("--url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/patronage_bench_import")
    parser.add_argument("--once", action="store_true", help="the first import only (no second run)")
    args = parser.parse_args()
    have = 0
    if args.file.exists():
        with args.file.open("rb") as existing:
            have = sum(1 for _ in csv.reader(line.decode() for line in existing)) - 1
    if have != args.rows:
        write_file(args.file, args.rows)
    list_id = asyncio.run(prepare(args.url))
    for run in ("first import",) if args.once else ("first import", "same file again"):
        print(run, json.dumps(timed_import(args.url, list_id, args.file)), flush=True)


if __name__ == "__main__":
    main()
