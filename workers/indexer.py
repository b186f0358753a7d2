"""`python -m workers.indexer`: impact scores, blob verification, blob GC (see the registry)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from maestro_grpc.config import Settings
from maestro_grpc.runners import indexer
from workers import _entry


def _work(settings: Settings, once: bool) -> int:
    return indexer.main(settings, once=once)


def main(argv: Sequence[str] | None = None) -> int:
    return _entry.run("indexer", _work, argv)


if __name__ == "__main__":
    sys.exit(main())
