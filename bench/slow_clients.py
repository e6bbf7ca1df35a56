"""Normal requests' latency while slow clients trickle headers and bodies (issue 15, point 6).

Starts ``patronage serve`` on a scratch SQLite database, times N sequential ``GET /v1/location`` requests
alone, then again while S slow clients each send one byte a second (half of them headers, half a body), each
reconnecting as soon as the server cuts it off. Prints p50/p99 of both runs and their ratio.

    .venv/bin/python bench/slow_clients.py [--requests 400] [--slow 20] [--workers 1]
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from live import live_server  # noqa: E402

PATRONAGE = Path(sys.executable).parent / "patronage"


def _demo_token(database_url: str) -> str:
    env = {**os.environ, "PATRONAGE_DATABASE_URL": database_url}
    with tempfile.TemporaryDirectory() as folder:
        demo = Path(folder) / "demo.json"
        subprocess.run(
            [str(PATRONAGE), "demo"], env={**env, "PATRONAGE_DEMO_FILE": str(demo)}, check=True, capture_output=True
        )
        return json.loads(demo.read_text())["access_token"]


def _slow_client(host: str, port: int, token: str, body: bool, stop: threading.Event) -> None:
    head = b"POST /v1/location/customer_lists HTTP/1.1\r\nHost: x\r\nX-Access-Token: " + token.encode()
    head += b"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    while not stop.is_set():
        try:
            with socket.create_connection((host, port), timeout=5) as sock:
                if body:
                    sock.sendall(head)
                    payload = b"{" + b" " * 998
                else:
                    payload = head
                for index in range(len(payload)):
                    if stop.is_set():
                        return
                    sock.sendall(payload[index : index + 1])
                    time.sleep(1)
        except OSError:
            time.sleep(0.05)  # cut off by the server: reconnect, as an attacker would


def _timings(base: str, token: str, count: int) -> list[float]:
    with httpx.Client(base_url=base, headers={"X-Access-Token": token}) as http:
        http.get("/v1/location")
        timings = []
        for _ in range(count):
            started = time.perf_counter()
            assert http.get("/v1/location").status_code == 200
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def _summary(timings: list[float]) -> tuple[float, float]:
    cut = statistics.quantiles(timings, n=100)
    return statistics.median(timings), cut[98]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--slow", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        subprocess.run([str(PATRONAGE), "migrate"], env={**os.environ, "PATRONAGE_DATABASE_URL": url}, check=True)
        token = _demo_token(url)
        with live_server(url, workers=args.workers) as base:
            host, port = base.removeprefix("http://").split(":")
            alone = _summary(_timings(base, token, args.requests))
            stop = threading.Event()
            threads = [
                threading.Thread(target=_slow_client, args=(host, int(port), token, index % 2 == 1, stop), daemon=True)
                for index in range(args.slow)
            ]
            for thread in threads:
                thread.start()
            time.sleep(2)
            flooded = _summary(_timings(base, token, args.requests))
            stop.set()
    print(f"alone:   p50 {alone[0]:.2f} ms  p99 {alone[1]:.2f} ms")
    print(f"flooded: p50 {flooded[0]:.2f} ms  p99 {flooded[1]:.2f} ms  ({args.slow} slow clients)")
    print(f"p99 ratio: {flooded[1] / alone[1]:.2f}")


if __name__ == "__main__":
    main()
