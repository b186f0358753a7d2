"""`maestro predict PROJECT`, `maestro metrics summary PROJECT NAME`,
`maestro experiments analyze ID`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from maestro.metrics.v1 import metrics_service_pb2 as mpb
from maestro.prediction.v1 import prediction_service_pb2 as ppb
from maestro_grpc.access_cli import duration
from maestro_grpc.console.run import EXIT_CODES, Stubs, as_dict, pairs, print_json, run, table

CONTRIBUTIONS = 10


def add_commands(commands: Any) -> None:
    predict = commands.add_parser(
        "predict",
        help="predict a project's chance of success, and say why",
        description="Calls PredictSuccess (the prediction is stored, like any other).",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    predict.add_argument("project_id", metavar="PROJECT")
    predict.add_argument(
        "--model-version",
        type=_version,
        default=0,
        metavar="N",
        help="the meta-model version (default: the newest that serves by default; "
        "a version without skill answers only when named, with its warning)",
    )
    predict.add_argument("--json", action="store_true", help="JSON for scripts")
    predict.set_defaults(handler=_predict)

    metrics = commands.add_parser(
        "metrics",
        help="read a project's metrics",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = metrics.add_subparsers(dest="metrics_command", metavar="COMMAND", required=True)
    summary = kinds.add_parser("summary", help="count, percentiles, last value", epilog=EXIT_CODES)
    summary.add_argument("project_id", metavar="PROJECT")
    summary.add_argument("name", metavar="NAME")
    summary.add_argument(
        "--since", type=duration, metavar="DURATION", help="e.g. 30d (default: all)"
    )
    summary.add_argument(
        "--by", metavar="LABEL", default="", help="one summary per value of this label"
    )
    summary.add_argument("--json", action="store_true", help="JSON for scripts")
    summary.set_defaults(handler=_summary)

    experiments = commands.add_parser(
        "experiments",
        help="analyse experiments",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ekinds = experiments.add_subparsers(
        dest="experiments_command", metavar="COMMAND", required=True
    )
    analyze = ekinds.add_parser(
        "analyze", help="effects, intervals, sample-ratio check", epilog=EXIT_CODES
    )
    analyze.add_argument("experiment_id", metavar="ID")
    analyze.add_argument("--json", action="store_true", help="JSON for scripts")
    analyze.set_defaults(handler=_analyze)


def _version(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise argparse.ArgumentTypeError(f"{raw!r}: give a version number, 1 or more")
    return int(raw)


def _predict(args: argparse.Namespace, _settings: object) -> int:
    async def work(stubs: Stubs) -> None:
        p = (
            await stubs.prediction.PredictSuccess(
                ppb.PredictSuccessRequest(
                    project_id=args.project_id, model_version=args.model_version
                ),
                **stubs.kw,
            )
        ).prediction
        if args.json:
            print_json(as_dict(p))
            return
        pairs(
            f"project {p.project_id}",
            [
                ("chance of success", f"{p.probability:.0%}"),
                ("model version", p.model_version),
                ("extrapolation", "; ".join(p.extrapolation_reasons) if p.extrapolation else "no"),
                *(("warning", w) for w in p.warnings),
            ],
        )
        top = sorted(p.contributions, key=lambda c: -abs(c.contribution))[:CONTRIBUTIONS]
        table(
            "largest contributions (log-odds)",
            ("feature", "value", "contribution"),
            (
                (c.feature, "missing" if c.missing else f"{c.value:g}", f"{c.contribution:+.3f}")
                for c in top
            ),
        )

    return run(work)


def _summary(args: argparse.Namespace, _settings: object) -> int:
    async def work(stubs: Stubs) -> None:
        request = mpb.GetMetricSummaryRequest(
            project_id=args.project_id, names=[args.name], group_by_label=args.by
        )
        if args.since is not None:
            request.start_time.FromDatetime(datetime.now(UTC) - args.since)
        found = await stubs.metrics.GetMetricSummary(request, **stubs.kw)
        if args.json:
            print_json(as_dict(found))
            return
        columns = ("group", "count", "min", "p50", "p90", "p95", "p99", "max", "mean", "last")
        table(
            args.name,
            columns if args.by else columns[1:],
            (
                ((s.group_value,) if args.by else ())
                + (
                    s.count,
                    *(f"{x:g}" for x in (s.min, s.p50, s.p90, s.p95, s.p99, s.max)),
                    f"{s.mean:.4g}",
                    f"{s.last:g}",
                )
                for s in found.summaries
            ),
        )

    return run(work)


def _analyze(args: argparse.Namespace, _settings: object) -> int:
    async def work(stubs: Stubs) -> None:
        found = await stubs.prediction.AnalyzeExperiment(
            ppb.AnalyzeExperimentRequest(experiment_id=args.experiment_id), **stubs.kw
        )
        analysis = as_dict(found)
        if args.json:
            print_json(analysis)
            return
        # The analysis' fields, flattened: readable whatever the message holds.
        pairs(f"experiment {args.experiment_id}", list(_flatten(analysis.get("analysis", {}))))

    return run(work)


def _flatten(value: Any, prefix: str = "") -> Any:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _flatten(item, f"{prefix}[{n}]")
    else:
        yield prefix, value
