"""Client secrets sealed at rest (webhooks are signed with them): with PATRONAGE_SECRET_KEY, or a database key."""

import pytest

from patronage import sealing
from patronage.db import Database
from patronage.settings import Settings


async def test_a_secret_is_sealed_and_opened_with_the_database_key(db: Database, settings: Settings) -> None:
    async with db.session(write=True) as session:
        sealed = await sealing.seal(session, "s3cr3t-value", settings)
    assert "s3cr3t-value" not in sealed
    async with db.session(write=True) as session:
        assert await sealing.unseal(session, sealed, settings) == "s3cr3t-value"


async def test_with_a_secret_key_the_database_alone_cannot_open_it(db: Database, settings: Settings) -> None:
    keyed = settings.model_copy(update={"secret_key": "operator key"})
    async with db.session(write=True) as session:
        sealed = await sealing.seal(session, "s3cr3t-value", keyed)
        assert await sealing.unseal(session, sealed, keyed) == "s3cr3t-value"
        with pytest.raises(sealing.SealError):
            await sealing.unseal(session, sealed, settings)
        with pytest.raises(sealing.SealError):
            await sealing.unseal(session, sealed, settings.model_copy(update={"secret_key": "another key"}))


async def test_secrets_sealed_before_a_secret_key_was_set_stay_readable(db: Database, settings: Settings) -> None:
    async with db.session(write=True) as session:
        before = await sealing.seal(session, "older", settings)
        keyed = settings.model_copy(update={"secret_key": "operator key"})
        assert await sealing.unseal(session, before, keyed) == "older"
