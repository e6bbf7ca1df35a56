"""Per-connection rate limits (SPEC §4): fixed windows aligned to the round minute, hour and day.

Counters live in Redis when ``PATRONAGE_REDIS_URL`` is set (shared by every worker and host: one
pipelined round trip per request), in process memory otherwise.
"""

import asyncio
import hashlib
import time
from dataclasses import dataclass
from typing import Protocol

import structlog

from patronage.edges import resp
from patronage.errors import TooManyRequests

log = structlog.get_logger("patronage.ratelimit")

WINDOWS = (("minute", 60), ("hour", 3600), ("day", 86400))

# Password guessing on the OAuth login page: this many sign-ins per email per window, whoever sends them.
SIGN_IN_ATTEMPTS, SIGN_IN_WINDOW = 10, 900


@dataclass(frozen=True)
class Limits:
    per_minute: int = 500
    per_hour: int = 2500
    per_day: int = 10000
    heavy_per_minute: int = 10

    def scaled(self, overrides: dict[str, int] | None) -> "Limits":
        """A connection's own limits (``patronage admin connection-limits``) replace the defaults."""
        if not overrides:
            return self
        fields = {name: overrides[name] for name in self.__dataclass_fields__ if name in overrides}
        return Limits(**{**self.__dict__, **fields})


class Counter(Protocol):
    async def hit(self, keys: list[tuple[str, int]]) -> list[int]:
        """Increments each key (with its time to live in seconds) and returns the new counts."""


class MemoryCounter:
    """Counters of one process: enough for a single worker and for tests."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = asyncio.Lock()
        self._next_sweep = 0.0

    async def hit(self, keys: list[tuple[str, int]]) -> list[int]:
        now = time.time()
        async with self._lock:
            if now > self._next_sweep:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
                self._next_sweep = now + 60
            counts = []
            for key, ttl in keys:
                count, expires = self._counts.get(key, (0, now + ttl))
                self._counts[key] = (count + 1, expires)
                counts.append(count + 1)
            return counts


class RedisCounter:
    """One round trip and one command per request: a script increments every window's key."""

    # INCR each key; a key's first hit sets its time to live (ARGV[i] seconds).
    _SCRIPT = """
    local counts = {}
    for i, key in ipairs(KEYS) do
      local count = redis.call('INCR', key)
      if count == 1 then redis.call('EXPIRE', key, ARGV[i]) end
      counts[i] = count
    end
    return counts
    """
    _SHA = hashlib.sha1(_SCRIPT.encode()).hexdigest()

    def __init__(self, url: str) -> None:
        self._redis = resp.Redis(url)

    async def hit(self, keys: list[tuple[str, int]]) -> list[int]:
        names = [key for key, _ in keys]
        ttls = [ttl for _, ttl in keys]
        try:
            counts = await self._redis.call("EVALSHA", self._SHA, len(keys), *names, *ttls)
        except resp.RedisError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
            counts = await self._redis.call("EVAL", self._SCRIPT, len(keys), *names, *ttls)  # loads it too
        return [int(count) for count in counts]

    async def close(self) -> None:
        await self._redis.close()


class RateLimiter:
    def __init__(self, counter: Counter, defaults: Limits | None = None) -> None:
        self.counter = counter
        self.defaults = defaults or Limits()
        self._next_report = 0.0

    def _report_unavailable(self, error: Exception) -> None:
        now = time.monotonic()
        if now >= self._next_report:  # one line a minute, not one per request
            log.warning("rate_limits_not_enforced", reason=str(error))
            self._next_report = now + 60

    async def _retry_after(self, checks: list[tuple[str, int, int]], now: float) -> int | None:
        """Counts one hit on each ``(key, window length, limit)``: None while every count is within its
        limit, else the seconds to the end of the longest exceeded window (earlier ones would just refuse again).
        """
        try:
            counts = await self.counter.hit([(key, length + 5) for key, length, _ in checks])
        except (resp.RedisUnavailable, resp.RedisError) as exc:
            # Limits protect the service; they are not worth refusing every request while Redis is away.
            self._report_unavailable(exc)
            return None
        over = [length for (_, length, limit), count in zip(checks, counts, strict=True) if count > limit]
        if not over:
            return None
        length = max(over)
        return max(1, int(length - now % length + 0.999))

    async def check_sign_in(self, email: str) -> None:
        """Counts one sign-in attempt for ``email``; raises 429 with Retry-After past the limit."""
        now = time.time()
        # The email is hashed: keys in Redis are visible to whoever can read it.
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        key = f"rl:sign-in:{digest}:{int(now // SIGN_IN_WINDOW)}"
        retry_after = await self._retry_after([(key, SIGN_IN_WINDOW, SIGN_IN_ATTEMPTS)], now)
        if retry_after is not None:
            raise TooManyRequests(
                f"Too many sign-in attempts: retry in {retry_after // 60 + 1} min",
                headers={"Retry-After": str(retry_after)},
            )

    async def check(self, connection_id: str, *, heavy: bool, overrides: dict[str, int] | None = None) -> None:
        """Counts one request; raises 429 with Retry-After when a window is over its limit."""
        limits = self.defaults.scaled(overrides)
        now = time.time()
        # "{connection_id}" is a Redis Cluster hash tag: one script may only touch keys of one slot.
        checks = [
            (f"rl:{{{connection_id}}}:{name}:{int(now // length)}", length, getattr(limits, f"per_{name}"))
            for name, length in WINDOWS
        ]
        if heavy:
            checks.append((f"rl:{{{connection_id}}}:heavy:{int(now // 60)}", 60, limits.heavy_per_minute))
        retry_after = await self._retry_after(checks, now)
        if retry_after is not None:
            raise TooManyRequests(
                f"Rate limit exceeded: retry in {retry_after} s", headers={"Retry-After": str(retry_after)}
            )
