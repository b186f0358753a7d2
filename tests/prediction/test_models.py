"""The version store on both stores: numbering under concurrency, the load cache, bad rows."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import update

from maestro.internal.v1 import page_token_pb2
from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro_grpc.errors import DataLoss, FailedPrecondition, InvalidArgument, NotFound
from maestro_grpc.paging import KeyKind
from maestro_grpc.prediction.domain import training as T
from maestro_grpc.prediction.domain import versions as V
from maestro_grpc.prediction.domain.trainset import TrainingJob, TrainingSet
from maestro_grpc.prediction.model import TrainingOutcome
from maestro_grpc.prediction.store.metamodels import MetaModelStore
from maestro_grpc.prediction.store.predictions import PredictionStore
from maestro_grpc.prediction.store.tables import meta_models
from maestro_grpc.registry.read import RegistryReader
from maestro_grpc.store.db import Database
from maestro_grpc.wire import pagetoken

NOW = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def outcome() -> TrainingOutcome:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 2))
    y = (x[:, 0] > 0).astype(np.int64)
    job = TrainingJob("m", TrainingSet(["a", "b"], x, y, [], 240), folds=3, repeats=1)
    return T.train(job, lambda *_: None)


@pytest.fixture
async def db(store_url: str) -> AsyncIterator[Database]:
    database = Database(store_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def store(db: Database) -> V.ModelVersions:
    return V.ModelVersions(MetaModelStore(db), PredictionStore(db), RegistryReader(db))


async def test_versions_are_numbered_without_gaps_under_concurrency(
    store: V.ModelVersions, outcome: TrainingOutcome
) -> None:
    with pytest.raises(FailedPrecondition):
        await store.resolve(0)
    assert await store.resolve(3) == 3
    records = await asyncio.gather(*(store.add(outcome, NOW) for _ in range(4)))
    assert sorted(r.version for r in records) == [1, 2, 3, 4]
    page = await store.page(page_size=3, after=None)
    assert [m.version for m in page.items] == [4, 3, 2]
    assert page.next_cursor is not None
    rest = await store.page(page_size=3, after=page.next_cursor)
    assert [m.version for m in rest.items] == [1]
    assert rest.next_cursor is None


async def test_loaded_versions_are_cached_and_shared(
    store: V.ModelVersions, outcome: TrainingOutcome
) -> None:
    for _ in range(6):
        await store.add(outcome, NOW)
    first, same = await asyncio.gather(store.load(1), store.load(1))
    assert first is same
    assert await store.load(1) is first
    for version in range(2, 7):
        await store.load(version)
    assert len(store._loaded) == V.CACHE_SIZE
    assert await store.load(1) is not first  # evicted, loaded again
    with pytest.raises(NotFound):
        await store.load(99)


async def test_an_unreadable_model_is_data_loss(
    store: V.ModelVersions, outcome: TrainingOutcome, db: Database
) -> None:
    await store.add(outcome, NOW)
    async with db.write() as conn:
        await conn.execute(update(meta_models).values(model=b"not a model"))
    with pytest.raises(DataLoss, match="cannot be loaded"):
        await store.load(1)


def test_a_forged_prediction_cursor_is_invalid() -> None:
    # A token of the right RPC and filter whose cursor id is not a prediction's
    # (UUID) id: refused at the wire, before any store sees it.
    request = pb.ListPredictionsRequest(project_id=str(uuid.uuid4()), page_size=10)
    forged = page_token_pb2.PageToken(
        method="ListPredictions",
        filter_hash=pagetoken.filter_hash(request),
        last_int=0,
        last_id="not-a-uuid",
    )
    tokens = pagetoken.PageTokens(b"k" * 32)
    payload = forged.SerializeToString()
    token = base64.urlsafe_b64encode(payload + tokens._tag(payload)).decode().rstrip("=")
    with pytest.raises(InvalidArgument):
        tokens.decode("ListPredictions", request, token, key=KeyKind.TIME)
