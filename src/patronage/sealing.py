"""Client secrets sealed at rest: the server must sign webhooks with them (SPEC §9), so they cannot be
hashed like tokens. They are encrypted (Fernet: AES-128-CBC + HMAC-SHA256) with a key that lives outside
the database: ``PATRONAGE_SECRET_KEY``, or else a key file created on first use (``patronage.key``)."""

import base64
import hashlib
import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from patronage.settings import Settings, get_settings


class SealError(Exception):
    """A sealed secret that this server's key cannot open (the key changed)."""


def _key_material(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.secret_key_file)
    if not path.exists():
        # O_EXCL: two processes starting at once agree on one key (the loser reads the winner's).
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as file:
                file.write(Fernet.generate_key().decode() + "\n")
    return path.read_text().strip()


@lru_cache
def _fernet(material: str) -> Fernet:
    # Any string makes a key: its SHA-256 is the 32 bytes Fernet wants.
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest()))


def _box(settings: Settings | None) -> Fernet:
    return _fernet(_key_material(settings or get_settings()))


def seal(secret: str, settings: Settings | None = None) -> str:
    return _box(settings).encrypt(secret.encode()).decode()


def unseal(sealed: str, settings: Settings | None = None) -> str:
    try:
        return _box(settings).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SealError("this client secret was sealed with another PATRONAGE_SECRET_KEY") from None
