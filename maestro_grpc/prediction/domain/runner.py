"""Runs training off the event loop: in worker processes, or in a thread.

Worker processes are started with `spawn` (never fork a process that runs
gRPC) and shared by every server of the process, so their start-up (numpy,
scikit-learn, MLflow imports) is paid once. A job reports progress through a
multiprocessing queue; a reader thread hands each report to the event loop
of the call that waits for it.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from maestro_grpc.errors import Unavailable
from maestro_grpc.prediction.domain.parallel import start_workers, stop_workers
from maestro_grpc.prediction.domain.tracking import prepare
from maestro_grpc.prediction.domain.training import train
from maestro_grpc.prediction.domain.trainset import TrainingJob
from maestro_grpc.prediction.model import Report, TrackingTarget, TrainingOutcome

T = TypeVar("T")

log = logging.getLogger("maestro.prediction")

_worker_queue: Any = None


def _init_worker(progress_queue: Any) -> None:
    global _worker_queue
    _worker_queue = progress_queue
    signal.signal(signal.SIGTERM, _stop_worker)


def _stop_worker(signum: int, _frame: Any) -> None:
    """Told to stop (`_Pool.close`: the server stops): the fold workers go too.

    They are this worker's children, idle between trainings for up to an hour
    (`parallel.IDLE_SECONDS`), and would otherwise outlive it by that long,
    about 180 MB each.
    """
    stop_workers()
    os._exit(128 + signum)


def _run_in_worker(job: TrainingJob) -> TrainingOutcome:
    def report(stage: str, fraction: float, message: str) -> None:
        if _worker_queue is not None:
            _worker_queue.put((job.job_id, stage, fraction, message))

    return train(job, report)


def _warm_worker(tracking: TrackingTarget | None, jobs: int) -> None:
    """What the first training would otherwise wait for, done in the training worker.

    Only the fold workers hold the worker: cross-validation needs them first. The
    rest (skops, MLflow and its store: a new SQLite store's tables take seconds)
    is needed only at the end of a training, so it goes on in a thread and a
    training that comes meanwhile starts at once (its logging waits for the
    store in `tracking.prepare`).
    """
    threading.Thread(
        target=_warm_tracking, args=(tracking,), name="training-warm", daemon=True
    ).start()
    start_workers(jobs, train.__module__)


def _warm_tracking(tracking: TrackingTarget | None) -> None:
    import skops.io  # type: ignore[import-untyped]  # noqa: F401

    if tracking is None:
        return
    try:
        prepare(tracking)
    except Exception:  # the training's logging tries again, and says what is wrong
        log.warning("could not make the MLflow store ready", exc_info=True)


class _Pool:
    """A process pool plus the queue and thread that carry progress back."""

    def __init__(self, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.queue: Any = context.Queue()
        self.executor = ProcessPoolExecutor(
            max_workers=processes,
            mp_context=context,
            initializer=_init_worker,
            initargs=(self.queue,),
        )
        self.listeners: dict[str, Report] = {}
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, name="training-progress", daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                item = self.queue.get()
            except (EOFError, OSError):  # pragma: no cover - the queue was closed
                return
            if item is None:
                return
            job_id, stage, fraction, message = item
            with self.lock:
                listener = self.listeners.get(job_id)
            if listener is not None:
                listener(stage, fraction, message)

    def close(self) -> None:
        """Stop at once: a training still running is abandoned, not waited for."""
        # The executor has no public way to stop a worker that is busy, and
        # waiting could outlast any shutdown grace period.
        for process in list(getattr(self.executor, "_processes", {}).values()):
            process.terminate()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.queue.put(None)
        self.reader.join(timeout=5)


_pools: dict[int, _Pool] = {}
_pools_lock = threading.Lock()
_job_ids = itertools.count(1)


def _pool(processes: int) -> _Pool:
    with _pools_lock:
        pool = _pools.get(processes)
        if pool is None:
            pool = _pools[processes] = _Pool(processes)
        return pool


def _discard(processes: int, pool: _Pool) -> None:
    with _pools_lock:
        if _pools.get(processes) is pool:
            del _pools[processes]
    pool.executor.shutdown(wait=False, cancel_futures=True)
    pool.queue.put(None)


def _close_pools() -> None:
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()


# At interpreter exit concurrent.futures joins every pool's manager thread,
# which waits for a training in progress: a server told to stop would hang
# until it finished. Stop the workers first. threading's exit hooks run in
# reverse order of registration and before plain atexit ones, so this runs
# before concurrent.futures' own (registered when it was imported, above).
_register = getattr(threading, "_register_atexit", atexit.register)
_register(_close_pools)


class TrainingRunner:
    """Runs `training.train` for a job, reporting progress on the caller's loop.

    `jobs`: processes fitting a training's outer folds at once (see `parallel.py`).
    """

    def __init__(self, processes: int, jobs: int = 1) -> None:
        self.processes = processes
        self.jobs = jobs

    async def warm(self, tracking: TrackingTarget | None) -> None:
        """Start the training worker, its imports, its fold workers and the tracking store now."""
        if self.processes > 0:
            await self.call(_warm_worker, tracking, self.jobs)

    async def run(self, job: TrainingJob, report: Report) -> TrainingOutcome:
        loop = asyncio.get_running_loop()

        def on_loop(stage: str, fraction: float, message: str) -> None:
            loop.call_soon_threadsafe(report, stage, fraction, message)

        job.job_id = f"{job.job_id}-{next(_job_ids)}"
        job.jobs = self.jobs
        if self.processes <= 0:
            return await asyncio.to_thread(train, job, on_loop)
        pool = _pool(self.processes)
        with pool.lock:
            pool.listeners[job.job_id] = on_loop
        try:
            future = pool.executor.submit(_run_in_worker, job)
            return await asyncio.wrap_future(future)
        except BrokenProcessPool as error:
            _discard(self.processes, pool)
            raise Unavailable(
                "the training worker process died (out of memory?); retry",
                retry_delay_seconds=5.0,
            ) from error
        finally:
            with pool.lock:
                pool.listeners.pop(job.job_id, None)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a small blocking call where training runs (its imports are warm there)."""
        if self.processes <= 0:
            return await asyncio.to_thread(fn, *args)
        pool = _pool(self.processes)
        try:
            return await asyncio.wrap_future(pool.executor.submit(fn, *args))
        except BrokenProcessPool as error:
            _discard(self.processes, pool)
            raise Unavailable(
                "the training worker process died; retry", retry_delay_seconds=5.0
            ) from error
