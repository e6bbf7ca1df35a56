"""The server's sealing keys, and the secrets sealed with them.

Client secrets sign webhooks (SPEC §9), so unlike tokens they cannot be kept as hashes: they are sealed with
Fernet (AES-128-CBC + HMAC-SHA256). The keys never live in the database that holds what they seal:

- ``PATRONAGE_SECRET_KEY``, when it is set (the same value on every host and for the CLI);
- else a key file, created once with mode 0600: ``PATRONAGE_SECRET_KEY_FILE``, by default beside the SQLite
  database (``<database file>.key``) or ``./patronage.key`` for PostgreSQL.

Keys form a keyring: the first seals, every one opens. Older keys stay on it as openers (the key file's later
lines, ``PATRONAGE_SECRET_KEY_FALLBACKS``, and the key file's keys when ``PATRONAGE_SECRET_KEY`` is set), so a
new key is rolled out while the processes running keep opening what the old one sealed. Every process looks at
the key file's metadata on each use and re-reads it when it changed: ``rotate`` reaches them all at once.

Cursor signatures (patronage.pagination) use keys derived from the same keyring, so every process and host
that opens secrets also accepts each other's cursors.
"""

import base64
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Connection, column, select, table, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.settings import Settings, get_settings

# The standard library's logger: a JSON line in the server (patronage.logs), and on stderr in a CLI command,
# whose stdout is its one JSON answer.
log = logging.getLogger("patronage.sealing")

EXPLICIT = "PATRONAGE_SECRET_KEY"
KEY_FILE_HEADER = (
    "# Patronage sealing keys: the first key below seals, the others only open what older keys sealed.\n"
    "# Keep this file out of database backups; every process and host of the deployment needs the same one.\n"
)
_CURSOR_KEY_LABEL = b"patronage cursor signing key v1"

# Every column holding a sealed value. Access tokens made through OAuth before migration 0009 were sealed;
# newer ones are derived from their client's secret instead (patronage.oauth.service) and stored nowhere.
SEALED_COLUMNS = {
    "client_secrets": table("client", column("id"), column("secret_sealed")),
    "oauth_tokens": table("connection", column("id"), column("token_sealed")),
}


class SealError(Exception):
    """A sealed secret that none of this server's keys opens."""


class KeyFileError(Exception):
    """A key file that cannot be read or created."""


@lru_cache(maxsize=64)
def _fernet(material: str) -> Fernet:
    # Any string makes a key: its SHA-256 is the 32 bytes Fernet wants.
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest()))


@dataclass(frozen=True)
class Keyring:
    keys: tuple[str, ...]  # the first seals; every one opens
    source: str  # "PATRONAGE_SECRET_KEY" or the key file's path: where the sealing key comes from

    @cached_property
    def _opener(self) -> MultiFernet:
        return MultiFernet([_fernet(key) for key in self.keys])

    def seal(self, secret: str) -> str:
        return _fernet(self.keys[0]).encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._opener.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SealError(
                "this secret was sealed with a key this server does not have "
                "(PATRONAGE_SECRET_KEY, PATRONAGE_SECRET_KEY_FALLBACKS or the key file)"
            ) from None

    def sealed_with_current_key(self, sealed: str) -> bool:
        try:
            _fernet(self.keys[0]).decrypt(sealed.encode())
        except InvalidToken:
            return False
        return True

    @cached_property
    def cursor_keys(self) -> tuple[bytes, ...]:
        """One cursor-signing key per sealing key, in the same order (the first signs)."""
        return tuple(
            hmac.new(hashlib.sha256(key.encode()).digest(), _CURSOR_KEY_LABEL, hashlib.sha256).digest()
            for key in self.keys
        )


@lru_cache(maxsize=64)
def _ring(sealer: str, fallbacks: str | None, file_keys: tuple[str, ...] | None, source: str) -> Keyring:
    # One object per set of keys, so that its Fernet and cursor keys are derived once.
    others = [key.strip() for key in (fallbacks or "").split(",") if key.strip()]
    keys = dict.fromkeys([sealer, *others, *(file_keys or ())])  # ordered, without repeats
    return Keyring(tuple(keys), source)


# --- the key file -------------------------------------------------------------------------------------------


def key_file_path(settings: Settings) -> Path:
    """``PATRONAGE_SECRET_KEY_FILE``, else beside the SQLite database, else ``./patronage.key``."""
    return _where(settings.database_url, settings.secret_key_file)[0]


@lru_cache(maxsize=64)
def _where(database_url: str, key_file: str | None) -> tuple[Path, str, bool]:
    """The key file, its absolute name, and whether the database is SQLite: parsed once (each request asks)."""
    url = make_url(database_url)
    sqlite = url.get_backend_name() == "sqlite"
    if key_file:
        path = Path(key_file)
    elif sqlite and url.database and url.database != ":memory:":
        path = Path(url.database + ".key")
    else:
        path = Path("patronage.key")
    return path, str(path.resolve()), sqlite


_read: dict[str, tuple[tuple[int, int, int], tuple[str, ...]]] = {}


def _parse(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))


def read_key_file(path: Path) -> tuple[str, ...] | None:
    """The file's keys (first seals), or None when there is no file. Re-read only when the file changed."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    signature = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    cached = _read.get(str(path))
    if cached is not None and cached[0] == signature:
        return cached[1]
    try:
        keys = _parse(path.read_text())
    except OSError as exc:
        raise KeyFileError(f"cannot read the key file {path}: {exc.strerror}") from None
    if not keys:
        raise KeyFileError(f"the key file {path} holds no key")
    if stat.st_mode & 0o077:
        log.warning("key_file_readable_by_others: %s (chmod 600 it)", path)
    _read[str(path)] = (signature, keys)
    return keys


def _write_new(path: Path, keys: tuple[str, ...]) -> Path:
    """A fully written 0600 file next to ``path``, to be linked or renamed into place."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, (KEY_FILE_HEADER + "".join(f"{key}\n" for key in keys)).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return temporary


def create_key_file(path: Path, key: str | None = None) -> tuple[str, ...]:
    """Creates the key file with ``key`` (default: a new random one), unless it exists: its keys either way.
    Several processes may start at once: the file appears whole (a hard link), and only one wins."""
    keys = (key or new_key(),)
    try:
        temporary = _write_new(path, keys)
    except OSError as exc:
        raise KeyFileError(f"cannot create the key file {path}: {exc.strerror}") from None
    try:
        os.link(temporary, path)
        log.info("key_file_created: %s", path)
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)
    existing = read_key_file(path)
    assert existing is not None
    return existing


def replace_key_file(path: Path, keys: tuple[str, ...]) -> None:
    """Atomically: a process reads the old keys or the new ones, never half a file."""
    os.replace(_write_new(path, keys), path)


def new_key() -> str:
    return secrets.token_urlsafe(32)


# --- the keyring ----------------------------------------------------------------------------------------------


_warned: set[str] = set()


def keyring(settings: Settings) -> Keyring:
    """This process's keys for ``settings``' database; creates the key file when there is neither a file nor
    ``PATRONAGE_SECRET_KEY``."""
    path, absolute, sqlite = _where(settings.database_url, settings.secret_key_file)
    file_keys = read_key_file(path)
    if settings.secret_key:
        sealer, source = settings.secret_key, EXPLICIT
    else:
        if file_keys is None:
            file_keys = create_key_file(path)
        sealer, source = file_keys[0], absolute
        if not sqlite and source not in _warned:
            _warned.add(source)
            log.warning(
                "secret_key_from_local_file: %s. PostgreSQL without PATRONAGE_SECRET_KEY: every host and the CLI "
                "must share this file; set PATRONAGE_SECRET_KEY (the same on every host) instead",
                source,
            )
    return _ring(sealer, settings.secret_key_fallbacks, file_keys, source)


def _settings_for(session: AsyncSession, settings: Settings | None) -> Settings:
    """Callers without settings (the CLI's services) use the environment's, for the session's own database:
    the default key file is the one beside that database."""
    if settings is not None:
        return settings
    url = session.bind.url.render_as_string(hide_password=False)
    return get_settings().model_copy(update={"database_url": url})


async def seal(session: AsyncSession, secret: str, settings: Settings | None = None) -> str:
    return keyring(_settings_for(session, settings)).seal(secret)


async def unseal(session: AsyncSession, sealed: str, settings: Settings | None = None) -> str:
    return keyring(_settings_for(session, settings)).open(sealed)


# --- moving keys: the database key of old versions, and rotation ------------------------------------------------


def adopt_database_key(bind: Connection, legacy: str, settings: Settings) -> int:
    """Migration 0009: the key versions up to 0008 kept in the database leaves it. With neither
    ``PATRONAGE_SECRET_KEY`` nor a key file, it becomes the key file's key (nothing to re-seal); otherwise what
    it sealed is re-sealed under the keyring's sealing key. The caller then deletes it. Returns how many
    values were re-sealed."""
    path = key_file_path(settings)
    if not settings.secret_key and read_key_file(path) is None:
        create_key_file(path, legacy)
    ring = keyring(settings)
    if legacy in ring.keys:
        return 0
    old = Keyring((legacy,), "database")
    moved = 0
    for sealed_table in SEALED_COLUMNS.values():
        pk, value = sealed_table.c
        for row_id, sealed in bind.execute(select(pk, value).where(value.is_not(None))).all():
            try:
                secret = old.open(sealed)
            except SealError:
                continue  # sealed with PATRONAGE_SECRET_KEY already
            bind.execute(update(sealed_table).where(pk == row_id).values({value.name: ring.seal(secret)}))
            moved += 1
    return moved


RESEAL_BATCH = 200


async def reseal(db: Any, ring: Keyring) -> dict[str, Any]:
    """Seals every value not yet sealed with ``ring``'s sealing key with it, in short transactions (a
    value changed meanwhile is left to its writer). Values no key of ``ring`` opens are counted, untouched."""
    resealed: dict[str, int] = {}
    unreadable = 0
    for name, sealed_table in SEALED_COLUMNS.items():
        pk, value = sealed_table.c
        resealed[name] = 0
        after = ""
        while True:
            async with db.session(write=False) as session:
                query = select(pk, value).where(pk > after, value.is_not(None)).order_by(pk).limit(RESEAL_BATCH)
                rows = (await session.execute(query)).all()
            if not rows:
                break
            after = rows[-1][0]
            changes = []
            for row_id, sealed in rows:
                if ring.sealed_with_current_key(sealed):
                    continue
                try:
                    changes.append((row_id, sealed, ring.seal(ring.open(sealed))))
                except SealError:
                    unreadable += 1
            if not changes:
                continue
            async with db.session(write=True) as session:
                for row_id, sealed, fresh in changes:
                    done = await session.execute(
                        update(sealed_table).where(pk == row_id, value == sealed).values({value.name: fresh})
                    )
                    resealed[name] += done.rowcount
    return {"resealed": resealed, "unreadable": unreadable}


async def rotate(db: Any, settings: Settings) -> dict[str, Any]:
    """``patronage admin rotate-secret-key``.

    With a key file: a new key goes first in the file (every process of the host seals with it from its next
    use, and still opens with the others), everything is re-sealed with it, then the keys older than the one
    it replaces are dropped; that one stays as an opener (cursors in flight) until the next rotation.

    With ``PATRONAGE_SECRET_KEY``, the new key is rolled out in the environment (README): this re-seals
    everything with it, after which the fallbacks and any key file are no longer needed.
    """
    ring = keyring(settings)
    if settings.secret_key:
        outcome = await reseal(db, ring)
        return {"sealing_key": EXPLICIT, "new_key": False, **outcome, "retired_keys": 0}
    path = key_file_path(settings)
    current = read_key_file(path) or create_key_file(path)
    fresh = new_key()
    replace_key_file(path, (fresh, *current))
    outcome = await reseal(db, keyring(settings))
    # Whatever a process seals meanwhile is sealed with the new key or with current[0]: both stay.
    replace_key_file(path, (fresh, current[0]))
    return {"sealing_key": str(path.resolve()), "new_key": True, **outcome, "retired_keys": len(current) - 1}
