"""`python -m workers.metrics_rollup`: hourly and daily rollups, raw-point retention."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from maestro_grpc.config import Settings
from maestro_grpc.runners import metrics
from workers import _entry


def _work(settings: Settings, once: bool) -> int:
    return asyncio.run(metrics.run(settings, once=once))


def main(argv: Sequence[str] | None = None) -> int:
    return _entry.run("metrics_rollup", _work, argv)


if __name__ == "__main__":
    sys.exit(main())
