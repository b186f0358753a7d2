"""TrainMetaModel's stream: a training's progress reports as messages, then the model.

The training runs as a task of its own; its reports arrive on a queue and
go out as they come, thinned to one per stage change or per
PROGRESS_STEP of progress (a training reports every fold). Leaving the
stream early (the caller cancelled) cancels the training.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from maestro.prediction.v1 import meta_model_pb2 as mp
from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro_grpc.prediction.model import MetaModelRecord, Report
from maestro_grpc.prediction.wire import convert

PROGRESS_STEP = 0.01


def _worth_sending(progress: mp.TrainingProgress, last: mp.TrainingProgress | None) -> bool:
    return (
        last is None
        or progress.stage != last.stage
        or progress.fraction >= last.fraction + PROGRESS_STEP
    )


async def stream(
    train: Callable[[Report], Coroutine[Any, Any, MetaModelRecord]],
) -> AsyncIterator[pb.TrainMetaModelResponse]:
    """Run `train(report)` and answer with its progress, then the model it made."""
    updates: asyncio.Queue[mp.TrainingProgress] = asyncio.Queue()

    def report(stage: str, fraction: float, message: str) -> None:
        updates.put_nowait(
            mp.TrainingProgress(stage=stage, fraction=min(max(fraction, 0.0), 1.0), message=message)
        )

    task = asyncio.create_task(train(report))
    last: mp.TrainingProgress | None = None
    try:
        while True:
            getter = asyncio.ensure_future(updates.get())
            done, _ = await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                progress = getter.result()
                if progress.stage != "done" and _worth_sending(progress, last):
                    last = progress
                    yield pb.TrainMetaModelResponse(progress=progress)
            else:
                getter.cancel()
            if task.done() and updates.empty():
                break
        record = task.result()
        yield pb.TrainMetaModelResponse(
            progress=mp.TrainingProgress(
                stage="done", fraction=1.0, message=f"version {record.version}"
            ),
            model=convert.meta_model(record),
        )
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
