"""How the training's fits run: one BLAS thread each, outer folds spread over processes.

The meta-model's fits are small (a few hundred rows): a multithreaded BLAS
spends more on waking its threads than on the arithmetic (a logistic
regression of the shipped ASFI data took 5x longer with two threads than
with one on a loaded 2-core machine), and scikit-learn's parameter
validation, run again for each of the 100 trees of every boosting fit, cost
a fifth of a fit. Neither changes a single number: the same data and seed
give bit-identical probabilities. Outer folds are independent and seeded by
their number, so they may run in several processes (joblib) and are taken
back in fold order; so are the training's other fits (the time-ordered
hold-out, the final choice and fit), which run beside them.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

# Fold workers outlive a training by this long, so the next one finds their
# imports done (joblib's default is 5 minutes).
IDLE_SECONDS = 3600


@contextlib.contextmanager
def fitting() -> Iterator[None]:
    """One BLAS/OpenMP thread and no repeated parameter validation, for the fits inside."""
    import sklearn  # type: ignore[import-untyped]
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    with threadpool_limits(limits=1), sklearn.config_context(skip_parameter_validation=True):
        yield


Call = tuple[Callable[..., Any], tuple[Any, ...]]


def in_parallel(jobs: int, calls: Sequence[Call]) -> Iterator[Any]:
    """`fn(*args)` of each `(fn, args)` of `calls`, each under `fitting()`, in their
    order, in up to `jobs` processes (1: here, one after another, each when its result
    is asked for).

    In processes, a call starts as soon as a worker is free, whether or not
    the results before it have been taken yet.
    """
    if jobs <= 1 or len(calls) < 2:
        for fn, args in calls:
            yield fitted(fn, *args)
        return
    from joblib import parallel_config  # type: ignore[import-untyped]
    from sklearn.utils.parallel import Parallel, delayed  # type: ignore[import-untyped]

    # sklearn's delayed carries the caller's configuration into the workers.
    with parallel_config(backend="loky", idle_worker_timeout=IDLE_SECONDS):
        run = Parallel(n_jobs=jobs, return_as="generator")
        yield from run(delayed(fitted)(fn, *args) for fn, args in calls)


def fitted(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)` under `fitting()`: every call `in_parallel` runs, wherever it runs."""
    with fitting():
        return fn(*args)


def _ready(module: str) -> None:
    """Import what a fold worker fits with (run in each one by `start_workers`)."""
    importlib.import_module(module)


def start_workers(jobs: int, module: str) -> None:
    """Start the fold workers and their imports (`module`: what the calls they will be
    given are defined in) now rather than in the first training."""
    if jobs > 1:
        for _ in in_parallel(jobs, [(_ready, (module,))] * jobs):
            pass


def stop_workers(within: float = 3.0) -> None:
    """Stop this process's fold workers now, busy or not (within `within` seconds)."""
    from joblib.externals.loky import reusable_executor  # type: ignore[import-untyped]

    executor = reusable_executor._executor
    if executor is None:
        return
    pids = list(getattr(executor, "_processes", {}))
    # The executor's own shutdown, which also frees its semaphores and shared
    # memory, runs on a thread: this may run in a signal handler that
    # interrupted a thread holding the executor's locks. If it has not
    # finished in time, the workers are signalled directly.
    stopping = threading.Thread(
        target=executor.shutdown, kwargs={"wait": True, "kill_workers": True}, daemon=True
    )
    stopping.start()
    stopping.join(within)
    for pid in pids if stopping.is_alive() else []:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
