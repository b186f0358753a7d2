"""The version store on both stores: numbering under concurrency, the load cache, bad rows."""

from __future__ import annotations

import asyncio
import uuid

import numpy as np
import pytest
from sqlalchemy import update

from maestro_grpc.errors import DataLoss, FailedPrecondition, InvalidArgument, NotFound
from maestro_grpc.paging import Cursor
from maestro_grpc.prediction import models as M
from maestro_grpc.prediction import training as T
from maestro_grpc.prediction.store.tables import meta_models
from maestro_grpc.store.db import Database


@pytest.fixture(scope="module")
def outcome() -> T.TrainingOutcome:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 2))
    y = (x[:, 0] > 0).astype(np.int64)
    job = T.TrainingJob("m", T.TrainingSet(["a", "b"], x, y, [], 240), folds=3, repeats=1)
    return T.train(job, lambda *_: None)


@pytest.fixture
async def store(store_url: str):
    db = Database(store_url)
    try:
        yield M.ModelStore(db)
    finally:
        await db.dispose()


async def test_versions_are_numbered_without_gaps_under_concurrency(store, outcome) -> None:
    async with store.db.read() as conn:
        with pytest.raises(FailedPrecondition):
            await store.resolve(conn, 0)
        assert await store.resolve(conn, 3) == 3
    records = await asyncio.gather(*(store.insert(outcome, ["a", "b"]) for _ in range(4)))
    assert sorted(r.version for r in records) == [1, 2, 3, 4]
    page = await store.list(page_size=3, after=None)
    assert [m.version for m in page.items] == [4, 3, 2]
    assert page.next_cursor is not None
    rest = await store.list(page_size=3, after=page.next_cursor)
    assert [m.version for m in rest.items] == [1]
    assert rest.next_cursor is None


async def test_loaded_versions_are_cached_and_shared(store, outcome) -> None:
    for _ in range(6):
        await store.insert(outcome, ["a", "b"])
    async with store.db.read() as conn:
        first, same = await asyncio.gather(store.load(conn, 1), store.load(conn, 1))
        assert first is same
        assert await store.load(conn, 1) is first
        for version in range(2, 7):
            await store.load(conn, version)
        assert len(store._loaded) == M.CACHE_SIZE
        assert await store.load(conn, 1) is not first  # evicted, loaded again
        with pytest.raises(NotFound):
            await store.load(conn, 99)


async def test_an_unreadable_model_is_data_loss(store, outcome) -> None:
    await store.insert(outcome, ["a", "b"])
    async with store.db.write() as conn:
        await conn.execute(update(meta_models).values(model=b"not a model"))
    async with store.db.read() as conn:
        with pytest.raises(DataLoss, match="cannot be loaded"):
            await store.load(conn, 1)


async def test_a_forged_prediction_cursor_is_invalid(store) -> None:
    with pytest.raises(InvalidArgument):
        await store.list_predictions(uuid.uuid4(), 10, Cursor(key=0, id="not-a-uuid"))
