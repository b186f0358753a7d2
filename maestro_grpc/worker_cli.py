"""`maestro worker metrics|indexer`: background workers, each safe to run as several replicas.

`workers/` holds the same two as entry points of their own (`python -m
workers.indexer`), for images that run one worker and nothing else.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(commands: Any) -> None:
    worker = commands.add_parser(
        "worker",
        help="run a background worker (metrics rollups, artifact indexer)",
        description="Background workers. Several replicas of each may run at once: they lease "
        "their jobs from the store (FOR UPDATE SKIP LOCKED on PostgreSQL).",
    )
    kinds = worker.add_subparsers(dest="worker", metavar="WORKER", required=True)
    metrics = kinds.add_parser(
        "metrics",
        help="keep hourly and daily rollups of metric points; apply raw-point retention",
        description="Metrics rollup worker: leases due rollup jobs, writes hourly and daily "
        "rollups, applies MAESTRO_METRICS_RAW_RETENTION_DAYS and moves points out of the "
        "default partition. Serves Prometheus metrics on MAESTRO_METRICS_WORKER_PORT.",
    )
    metrics.add_argument("--once", action="store_true", help="process what is due, then exit")
    metrics.set_defaults(handler=_run_metrics)
    indexer = kinds.add_parser(
        "indexer",
        help="recompute impact scores, verify blobs, garbage-collect unreferenced blobs",
        description="Artifact indexer: recomputes impact scores as usages age, re-hashes a "
        "sample of stored blobs, deletes blobs no live artifact refers to. Serves Prometheus "
        "metrics on MAESTRO_INDEXER_METRICS_PORT.",
    )
    indexer.add_argument("--once", action="store_true", help="process what is due, then exit")
    indexer.set_defaults(handler=_run_indexer)


def _run_metrics(args: argparse.Namespace, settings: Any) -> int:
    import asyncio

    from maestro_grpc.runners.metrics import run

    return asyncio.run(run(settings, once=bool(args.once)))


def _run_indexer(args: argparse.Namespace, settings: Any) -> int:
    from maestro_grpc.runners.indexer import main

    return main(settings, once=args.once)
