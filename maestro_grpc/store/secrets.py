"""Secrets every replica shares, made once by whichever server needs one first."""

from __future__ import annotations

import secrets as random

from sqlalchemy import select

from maestro_grpc.clock import utcnow
from maestro_grpc.store.db import Database
from maestro_grpc.store.dialect import insert
from maestro_grpc.store.schema import service_secrets

SECRET_BYTES = 32


async def shared_secret(db: Database, name: str) -> bytes:
    """The secret called `name`: made now if no replica made it yet (the first one wins)."""
    async with db.write() as conn:
        await conn.execute(
            insert(conn, service_secrets)
            .values(name=name, secret=random.token_bytes(SECRET_BYTES), create_time=utcnow())
            .on_conflict_do_nothing()
        )
        found = await conn.scalar(
            select(service_secrets.c.secret).where(service_secrets.c.name == name)
        )
    assert found is not None
    return bytes(found)
