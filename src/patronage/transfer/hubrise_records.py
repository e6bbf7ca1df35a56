"""What ``patronage import hubrise`` is given and what it reports: the operator's options, the lists found on the
source, and the summary's counters and samples."""

from dataclasses import dataclass, field
from datetime import datetime

MAX_REPORTED = 20  # mismatches listed in the summary (all are counted)


class ImportError_(Exception):
    """A problem of the operator's arguments or of the local data: a message on stderr, exit 1."""


@dataclass
class Options:
    base_url: str
    token: str
    account_id: str
    client_id: str | None = None
    locations: dict[str, str] = field(default_factory=dict)  # source location id -> local location id
    follow: bool = False
    interval: float = 10.0
    deep_checks: int = 20
    full: bool = False  # re-read every card's newest operations, even of cards in step
    page_size: int = 100


@dataclass
class Counter:
    created: int = 0
    updated: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "skipped": self.skipped}


@dataclass
class Summary:
    lists: Counter = field(default_factory=Counter)
    customers: Counter = field(default_factory=Counter)
    cards: Counter = field(default_factory=Counter)
    operations: Counter = field(default_factory=Counter)
    private_refs: int = 0
    private_refs_ignored: int = 0  # refs the source showed while no --client was given
    operation_orders_dropped: int = 0  # order ids the source gave that no local order has: imported as null
    new_balance_mismatches: list[dict[str, str]] = field(default_factory=list)
    new_balance_mismatch_count: int = 0
    balance_mismatches: list[dict[str, str]] = field(default_factory=list)
    balance_mismatch_count: int = 0
    card_conflicts: list[dict[str, str]] = field(default_factory=list)
    events_applied: int = 0
    cycles: int = 0

    def mismatch(self, entry: dict[str, str]) -> None:
        self.new_balance_mismatch_count += 1
        if len(self.new_balance_mismatches) < MAX_REPORTED:
            self.new_balance_mismatches.append(entry)


@dataclass
class SourceList:
    id: str
    name: str
    location_id: str | None  # the source location of a location-level list
    created_at: datetime | None
