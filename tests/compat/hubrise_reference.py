"""HubRise's reference examples (``../shared/reference/hubrise/*.md``) as data, and how an answer is compared
with one.

The JSON blocks of the reference are vendored in ``reference_examples.json`` (so that the tests need nothing
outside the repository), each under the heading it stands under; ``test_reference_examples.py`` checks that the
copy still matches the reference when the reference is at hand. Run this file to write the copy again:
``python tests/compat/hubrise_reference.py [REFERENCE_DIR]``.

The reference's blocks are JSON with liberties: ``...`` for "more fields" or "more elements", ``//`` comments,
trailing commas, and a few blocks that start with an HTTP request line. :func:`parse` reads them, turning each
``...`` into :data:`ELIDED` (a key of an object, an element of an array), which :func:`assert_like` reads as
"the example shows only part of it".
"""

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
VENDORED = HERE / "reference_examples.json"
FILES = (
    "orders.md",
    "callbacks.md",
    "accounts.md",
    "customers.md",
    "authentication.md",
    "general-concepts.md",
    "deliveries.md",
)
ELIDED = "…"


def reference_dir() -> Path:
    """Where the reference is: ``PATRONAGE_REFERENCE_DIR``, else ``../shared/reference/hubrise`` next to the
    repository (its checkout's parent holds ``shared``)."""
    configured = os.environ.get("PATRONAGE_REFERENCE_DIR")
    if configured:
        return Path(configured)
    return HERE.parents[2] / "shared" / "reference" / "hubrise"


_FENCE = re.compile(r"^ *```(json|jsonc)\n(.*?)^ *```", re.S | re.M)
_HEADING = re.compile(r"^#{1,4} +(.+?)(?: *\{#[^}]*\})? *$", re.M)


def extract(markdown: str) -> list[dict[str, str]]:
    """The JSON blocks of a reference page, in order, each with the nearest heading above it (levels 1-4)."""
    blocks = []
    for match in _FENCE.finditer(markdown):
        headings = _HEADING.findall(markdown, 0, match.start())
        blocks.append({"heading": headings[-1] if headings else "", "text": match.group(2)})
    return blocks


def extract_all(directory: Path) -> dict[str, list[dict[str, str]]]:
    return {name: extract((directory / name).read_text()) for name in FILES}


def _vendored() -> dict[str, list[dict[str, str]]]:
    return json.loads(VENDORED.read_text())


def block(file: str, heading: str, index: int = 0) -> str:
    """The ``index``-th JSON block under ``heading`` in ``file`` (the vendored copy), as its text."""
    found = [entry["text"] for entry in _vendored()[file] if entry["heading"] == heading]
    assert len(found) > index, (file, heading, index, len(found))
    return found[index]


def example(file: str, heading: str, index: int = 0) -> Any:
    return parse(block(file, heading, index))


# --- reading the reference's JSON --------------------------------------------------------------------------------


def _clean(text: str) -> str:
    """``text`` with comments dropped, ``...`` turned into :data:`ELIDED` entries and trailing commas removed,
    looking at what is outside strings only."""
    out: list[str] = []
    stack: list[str] = []
    i, in_string = 0, False
    while i < len(text):
        char = text[i]
        if in_string:
            out.append(char)
            if char == "\\":
                out.append(text[i + 1])
                i += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        elif text.startswith("...", i):
            out.append(f'"{ELIDED}": "{ELIDED}"' if stack and stack[-1] == "{" else f'"{ELIDED}"')
            i += 3
            continue
        else:
            if char in "{[":
                stack.append(char)
            elif char in "}]":
                stack.pop()
            out.append(char)
        i += 1
    cleaned = "".join(out)
    # Entries the reference runs together once comments are gone ("[...]" after a value, a missing comma).
    cleaned = re.sub(r'("|\d|true|false|null|[}\]])(\s*\n\s*)(")', r"\1,\2\3", cleaned)
    return re.sub(r",(\s*[}\]])", r"\1", cleaned)


def parse(text: str) -> Any:
    """A reference block as JSON; a block that starts with an HTTP request and headers keeps its body only."""
    start = min(i for i in (text.find("{"), text.find("[")) if i >= 0)
    return json.loads(_clean(text[start:]))


def without_elisions(value: Any) -> Any:
    """The example as a request body: what it shows, without the ``...`` markers."""
    if isinstance(value, dict):
        return {k: without_elisions(v) for k, v in value.items() if k != ELIDED}
    if isinstance(value, list):
        return [without_elisions(v) for v in value if v != ELIDED]
    return value


# --- comparing an answer with an example -------------------------------------------------------------------------

_KINDS = (
    ("money", re.compile(r"-?[0-9]+\.[0-9]{2} [A-Z]{3}")),
    ("time", re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}")),
    ("date", re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")),
    ("decimal", re.compile(r"-?[0-9]+(\.[0-9]+)?")),
    ("location id", re.compile(r"[0-9a-z]+-[0-9]+")),
    ("id", re.compile(r"[0-9a-z]{4,16}")),
)


def kind(value: Any) -> str:
    """What a value is on the wire: its JSON type, and for a string the format the reference gives it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    for name, pattern in _KINDS:
        if pattern.fullmatch(value):
            return name
    return "string"


def _matches(pattern: str, path: str) -> bool:
    """``*`` stands for one segment of a path (``items.*.id``), a leading ``**.`` for any number of them."""
    anywhere = pattern.startswith("**.")
    regex = re.escape(pattern.removeprefix("**.")).replace(r"\*", r"[^.]+")
    return re.fullmatch(f"(?:.+\\.)?{regex}" if anywhere else regex, path) is not None


def assert_like(
    expected: Any,
    actual: Any,
    *,
    loose: dict[str, str] | None = None,
    extra: dict[str, set[str]] | None = None,
    path: str = "",
) -> None:
    """``actual`` as ``expected`` shows it, field by field: the same keys (an object with ``...`` may have
    more; ``extra`` names, by path pattern, the keys Patronage adds to a complete object), the same values,
    except where a ``loose`` path pattern says how they may differ: ``"kind"`` (same format: an id for an id,
    a time with offset for a time...), ``"any"`` (anything; what a test checks on its own)."""
    loose, extra = loose or {}, extra or {}
    where = path or "(root)"
    rule = next((how for pattern, how in loose.items() if _matches(pattern, path)), None)
    if rule == "any":
        return
    if isinstance(expected, dict):
        assert isinstance(actual, dict), (where, actual)
        shown = {key for key in expected if key != ELIDED}
        missing = shown - set(actual)
        assert not missing, (where, "missing", sorted(missing))
        if ELIDED not in expected:
            allowed = set().union(*(keys for pattern, keys in extra.items() if _matches(pattern, path)))
            unexpected = set(actual) - shown - allowed
            assert not unexpected, (where, "unexpected", sorted(unexpected))
        for key in shown:
            assert_like(expected[key], actual[key], loose=loose, extra=extra, path=f"{path}.{key}" if path else key)
        return
    if isinstance(expected, list):
        assert isinstance(actual, list), (where, actual)
        shown = [item for item in expected if item != ELIDED]
        if ELIDED in expected:
            assert len(actual) >= len(shown), (where, len(actual))
        else:
            assert len(actual) == len(shown), (where, len(actual), len(shown))
        for index, item in enumerate(shown):
            assert_like(item, actual[index], loose=loose, extra=extra, path=f"{path}.{index}" if path else str(index))
        return
    if rule == "kind":
        assert kind(actual) == kind(expected), (where, actual, f"a {kind(expected)} like {expected!r}")
        return
    assert kind(actual) == kind(expected) and actual == expected, (where, actual, expected)


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else reference_dir()
    VENDORED.write_text(json.dumps(extract_all(source), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {VENDORED} from {source}")
