"""Opaque, random, lowercase identifiers and secrets."""

import hashlib
import os
import secrets

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 10


# Random bytes map onto the alphabet; bytes that would bias ``b % 36`` are dropped (rejection sampling).
_REJECTED = bytes(range(256 - 256 % len(_ALPHABET), 256))
_TO_ALPHABET = bytes(ord(_ALPHABET[b % len(_ALPHABET)]) for b in range(256))


def new_ids(count: int, length: int = ID_LENGTH) -> list[str]:
    """``count`` random ids, uniform over the alphabet, from the OS's CSPRNG (fast enough for bulk loads)."""
    need = count * length
    chars = b""
    while len(chars) < need:
        chars += os.urandom((need - len(chars)) * 9 // 8 + 16).translate(_TO_ALPHABET, _REJECTED)
    text = chars[:need].decode()
    return [text[i : i + length] for i in range(0, need, length)]


def new_id(length: int = ID_LENGTH) -> str:
    """A random id such as ``k3v9x0q2ma``: 36**10 values, so collisions are negligible."""
    return new_ids(1, length)[0]


def new_token() -> str:
    """An access token: 32 hex characters (128 random bits), like HubRise's."""
    return secrets.token_hex(16)


def hash_secret(secret: str) -> str:
    """Tokens and client secrets are high-entropy, so a plain SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()
