"""Checks a card's ledger as GET /v1/customer_lists/:id/loyalty_cards/:card_id/ledger exports it, with nothing but
the Python standard library (for an auditor, or a client that does not trust the server).

    curl -s -H "X-Access-Token: $TOKEN" "$BASE/v1/customer_lists/$LIST/loyalty_cards/$CARD/ledger" \\
        | python3 scripts/check_ledger.py [--expect-hash HASH]

Recomputes every operation's hash from its content and the previous hash, the running balance and the
sequence; ``--expect-hash`` is a ledger hash read earlier, which must still be in the chain (the history up
to it was not rewritten). Prints one JSON line; exits 1 when anything disagrees.
"""

import argparse
import hashlib
import json
import sys
from decimal import Decimal


def check(ledger: dict, expect_hash: str | None) -> list[str]:
    problems, previous, balance = [], None, Decimal(0)
    for number, entry in enumerate(ledger["operations"], 1):
        if entry["seq"] != number:
            problems.append(f"{entry['id']}: seq {entry['seq']}, expected {number}")
        if entry["previous_hash"] != previous:
            problems.append(f"{entry['id']}: previous_hash is not the previous operation's hash")
        balance += Decimal(entry["delta"])
        if Decimal(entry["new_balance"]) != balance:
            problems.append(f"{entry['id']}: new_balance {entry['new_balance']}, running sum {balance}")
        fields = [ledger["hash_format"], previous or "", entry["id"], str(entry["seq"]), entry["delta"],
                  entry["new_balance"], entry["created_at"], entry["order_id"] or ""]  # fmt: skip
        if hashlib.sha256("\n".join(fields).encode()).hexdigest() != entry["hash"]:
            problems.append(f"{entry['id']}: hash does not match its content")
        previous = entry["hash"]
    if ledger["ledger_hash"] != previous:
        problems.append("ledger_hash is not the last operation's hash")
    if Decimal(ledger["balance"]) != balance:
        problems.append(f"balance {ledger['balance']}, operations sum to {balance}")
    if expect_hash and expect_hash not in {entry["hash"] for entry in ledger["operations"]}:
        problems.append(f"{expect_hash} is no longer in the chain: the history up to it was rewritten")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expect-hash", help="a ledger hash read earlier, which must still be in the chain")
    args = parser.parse_args()
    ledger = json.load(sys.stdin)
    if ledger.get("hash_algorithm") != "sha256" or ledger.get("hash_format") != "patronage-ledger-v1":
        sys.exit(f"unknown ledger format {ledger.get('hash_format')!r} / {ledger.get('hash_algorithm')!r}")
    problems = check(ledger, args.expect_hash)
    print(json.dumps({"ok": not problems, "operations": len(ledger["operations"]), "problems": problems}))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
