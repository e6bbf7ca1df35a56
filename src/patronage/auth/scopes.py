"""Scope strings (SPEC §6): ``location[customer_list.read,orders.write],profile``."""

import re
from dataclasses import dataclass

LEVELS = ("location", "account")
_KNOWN_RESOURCES = {"customer_list", "all_customer_lists", "orders", "catalog", "inventory"}
_SCOPE_RE = re.compile(r"^(location|account)\[([^\[\]]*)\](?:,(profile|profile_with_email))?$")


class InvalidScope(ValueError):
    pass


@dataclass(frozen=True)
class Scope:
    level: str
    permissions: frozenset[str]
    profile: str | None = None

    def allows(self, resource: str, *, write: bool) -> bool:
        """``write`` implies ``read``."""
        if f"{resource}.write" in self.permissions:
            return True
        return not write and f"{resource}.read" in self.permissions

    def __str__(self) -> str:
        text = f"{self.level}[{','.join(sorted(self.permissions))}]"
        return f"{text},{self.profile}" if self.profile else text


def parse_scope(text: str) -> Scope:
    match = _SCOPE_RE.match("".join(text.split()))
    if not match:
        raise InvalidScope(
            f"malformed scope {text!r}: expected location[perm,...] or account[perm,...], "
            "optionally followed by ,profile or ,profile_with_email"
        )
    level, perms_text, profile = match.groups()
    permissions = set()
    # ``location[orders.read,,]`` is malformed, not ``location[orders.read]``: empty entries are refused.
    entries = perms_text.split(",") if perms_text else []
    for perm in entries:
        if not perm:
            raise InvalidScope(f"empty permission in scope {text!r}")
        resource, _, action = perm.partition(".")
        if resource not in _KNOWN_RESOURCES or action not in ("read", "write"):
            raise InvalidScope(f"unknown permission {perm!r} in scope {text!r}")
        permissions.add(perm)
    return Scope(level=level, permissions=frozenset(permissions), profile=profile)
